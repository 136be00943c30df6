"""The MIL visuomotor policy (thesis 7.1.4, L2945-L2990).

Strided convolutions with layer norm and ReLU -> spatial soft-argmax feature points ->
concatenated with the normalised robot state -> a bias-transformed first FC layer -> FC
layers -> last hidden layer h -> action head. The inner loop adapts the parameters that
`MILConfig.adapt_prefixes` names, the bias-transformation vector included (it is "treated
the same as other parameters", L2970).

Options of `MILConfig` for the push network (B.2.2, L6834-L6842):
- `two_head`: a second, pre-update linear head on h whose output defines the inner loss
  ||W h_t + b - a_t||^2 (L2861-L2910); `forward(..., head="pre_update")` returns it.
- `image_bias_transform`: a learned image-sized channel concatenated to every camera
  frame before the first convolution (L6838-L6840), a bias transformation of the input.
- `aux_pose_dim`: a linear head on the feature points predicting the end-effector position
  at contact, concatenated to the FC input (DAML's auxiliary pose, L3538-L3546);
  `forward(..., head="action_and_pose")` returns it next to the actions.
"""
from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from metalearn.layers import BiasTransform, ConvTrunk, SpatialSoftArgmax, mlp
from meta_policy.config import MILConfig

Head = Literal["action", "pre_update", "action_and_pose"]


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
    """f(o_t) -> a_t for one-shot imitation; `forward` takes raw frames and robot state.

    `head` is the FC stack whose last layer is the action output (module names kept from
    the first MIL checkpoints, so `checkpoints/mil-reach` loads unchanged); `pre_head`
    exists only with `cfg.two_head`, `image_bias` only with `cfg.image_bias_transform`.
    """

    def __init__(self, cfg: MILConfig) -> None:
        super().__init__()
        self.cfg = cfg
        extra = 1 if cfg.image_bias_transform else 0
        self.trunk = ConvTrunk(3 + extra, cfg.conv_channels, cfg.kernel_sizes, cfg.strides)
        if cfg.image_bias_transform:
            width, height = cfg.image_size
            # zero at the start, like z (see BiasTransform): the first conv's weights on this
            # channel are random, so the inner and outer gradients still reach it
            self.image_bias = nn.Parameter(torch.zeros(1, height, width))
        self.keypoints = SpatialSoftArgmax(cfg.keypoint_temperature)
        self.state_norm = StateNorm(cfg.state_dim)
        points_dim = 2 * cfg.conv_channels[-1]
        self.pose_head = nn.Linear(points_dim, cfg.aux_pose_dim) if cfg.aux_pose_dim else None
        features = points_dim + cfg.aux_pose_dim + cfg.state_dim
        self.fc_in = BiasTransform(features, cfg.fc_hidden[0], cfg.bias_transform_dim)
        self.head = mlp(cfg.fc_hidden[0], cfg.fc_hidden[1:], cfg.action_dim)
        self.pre_head = nn.Linear(cfg.fc_hidden[-1], cfg.action_dim) if cfg.two_head else None

    def forward(self, images: torch.Tensor, state: torch.Tensor,
                head: Head = "action") -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Actions [N, action_dim] of frames [N,H,W,3] (uint8) and states [N, state_dim];
        ``head="pre_update"`` gives the two-head inner loss's W h_t + b instead, and
        ``head="action_and_pose"`` the actions and the auxiliary pose [N, aux_pose_dim]."""
        hidden, pose = self.last_hidden(images, state)
        if head == "action":
            return self.head[-1](hidden)
        if head == "pre_update" and self.pre_head is not None:
            return self.pre_head(hidden)
        if head == "action_and_pose" and pose is not None:
            return self.head[-1](hidden), pose
        raise ValueError(f"MILPolicy has no {head!r} head (two_head={self.cfg.two_head}, "
                         f"aux_pose_dim={self.cfg.aux_pose_dim})")

    def last_hidden(self, images: torch.Tensor,
                    state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The last hidden layer h [N, fc_hidden[-1]] that both heads read (L2870-L2875),
        and the auxiliary pose (None without its head)."""
        x = image_to_input(images)
        if self.cfg.image_bias_transform:
            x = torch.cat([x, self.image_bias.expand(x.shape[0], *self.image_bias.shape)], dim=1)
        points = self.keypoints(self.trunk(x))
        pose = self.pose_head(points) if self.pose_head is not None else None
        inputs = [points] if pose is None else [points, pose]
        hidden = torch.relu(self.fc_in(torch.cat([*inputs, self.state_norm(state)], dim=-1)))
        return self.head[:-1](hidden), pose

    def meta_only_prefixes(self) -> tuple[str, ...]:
        """Parameters the inner loop must not adapt: with two heads, both heads (L2864-L2867:
        the pre-update head is not used after the update, the post-update head is not
        updated with the demonstration). Without, none."""
        if not self.cfg.two_head:
            return ()
        return ("pre_head.", f"head.{len(self.head) - 1}.")
