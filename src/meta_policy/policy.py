"""The MIL visuomotor policy (thesis 7.1.4, L2945-L2990).

Strided convolutions with layer norm and ReLU -> spatial soft-argmax feature points ->
concatenated with the normalised robot state -> a bias-transformed first FC layer -> FC
layers -> action. Every parameter is adapted by the inner loop, the bias-transformation
vector included (it is "treated the same as other parameters", L2970).
"""
from __future__ import annotations

import torch
from torch import nn

from metalearn.layers import BiasTransform, ConvTrunk, SpatialSoftArgmax, mlp
from meta_policy.config import MILConfig


def image_to_input(images: torch.Tensor) -> torch.Tensor:
    """uint8 [N,H,W,3] camera frames -> float [N,3,H,W] centred on zero."""
    return images.permute(0, 3, 1, 2).float().div(255.0).sub(0.5)


class StateNorm(nn.Module):
    """Fixed state normalisation, fitted once on the meta-training data and saved as buffers."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("std", torch.ones(dim))

    def fit(self, states: torch.Tensor) -> None:
        self.mean.copy_(states.mean(0))
        self.std.copy_(states.std(0).clamp_min(1e-3))

    def forward(self, state: torch.Tensor) -> torch.Tensor:
        return (state - self.mean) / self.std


class MILPolicy(nn.Module):
    """f(o_t) -> a_t for one-shot imitation; `forward` takes raw frames and robot state."""

    def __init__(self, cfg: MILConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.trunk = ConvTrunk(3, cfg.conv_channels, cfg.kernel_sizes, cfg.strides)
        self.keypoints = SpatialSoftArgmax(cfg.keypoint_temperature)
        self.state_norm = StateNorm(cfg.state_dim)
        features = 2 * cfg.conv_channels[-1] + cfg.state_dim
        self.fc_in = BiasTransform(features, cfg.fc_hidden[0], cfg.bias_transform_dim)
        self.head = mlp(cfg.fc_hidden[0], cfg.fc_hidden[1:], cfg.action_dim)

    def forward(self, images: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        points = self.keypoints(self.trunk(image_to_input(images)))
        hidden = torch.relu(self.fc_in(torch.cat([points, self.state_norm(state)], dim=-1)))
        return self.head(hidden)
