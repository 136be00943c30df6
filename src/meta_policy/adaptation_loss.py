"""Learned adaptation objectives L_psi of DAML and the inner step on one video.

DAML adapts the policy on a demonstration without actions (a human video), so the inner
loss is itself meta-learned: phi = theta - alpha grad_theta L_psi(theta, video), and the
outer behaviour-cloning loss of phi trains both theta and psi (Algorithm 10, L3402-L3420).

- :class:`TemporalAdaptationLoss` (L3427-L3442, L3547-L3561): L_psi = L_psi1(f_1:T) +
  L_psi2(h_1:T) over the feature points f and the last hidden layer h; each is two 10x1
  temporal convolutions and a 1x1 one, and the l2 norm of the output is the loss. Coupling
  frames lets it read the demonstrator's motion, which no single frame shows.
- :class:`LinearAdaptationLoss` (L2911-L2944, the ablation of L3445-L3453): the two-head
  loss without actions, sum_t ||W h_t + b||_2^2, each frame on its own.

Both read only the policy's features of one video: no actions, no robot state.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from metalearn.maml import Params, functional
from meta_policy.daml_config import DAMLConfig
from meta_policy.daml_policy import DAMLPolicy


class TemporalConvStack(nn.Module):
    """1-D convolutions over time with ReLU between them, then a 1x1 convolution.

    Each ``kernel``-wide layer pads the sequence by repeating its first and last frame
    ((k-1)//2 before, k//2 after), so the output keeps the video's length T and any T >= 1
    works. Repeating rather than zero-padding: a zero feature point is the image centre and
    a zero hidden layer a real activation pattern, so zeros would show the loss frames that
    never happened; repeated end frames read as the scene holding still.
    """

    def __init__(self, in_dim: int, channels: Sequence[int], kernel: int, out_dim: int) -> None:
        super().__init__()
        sizes = [in_dim, *channels]
        self.temporal = nn.ModuleList(nn.Conv1d(a, b, kernel) for a, b in zip(sizes, sizes[1:]))
        self.project = nn.Conv1d(sizes[-1], out_dim, 1)
        self.padding = ((kernel - 1) // 2, kernel // 2)

    def forward(self, sequence: torch.Tensor) -> torch.Tensor:
        """[T, in_dim] features of one video -> [out_dim, T]."""
        x = sequence.T.unsqueeze(0)
        for conv in self.temporal:
            x = torch.relu(conv(F.pad(x, self.padding, mode="replicate")))
        return self.project(x)[0]


class TemporalAdaptationLoss(nn.Module):
    """L_psi = ||conv_psi1(f_1:T)||_2 + ||conv_psi2(h_1:T)||_2 (L3556-L3561).

    Takes no action input: it must supply useful gradients from observations alone
    (L3428-L3431). The norm is not squared, as the thesis states.
    """

    def __init__(self, points_dim: int, hidden_dim: int, points_channels: Sequence[int],
                 hidden_channels: Sequence[int], kernel: int, out_dim: int) -> None:
        super().__init__()
        self.points_loss = TemporalConvStack(points_dim, points_channels, kernel, out_dim)
        self.hidden_loss = TemporalConvStack(hidden_dim, hidden_channels, kernel, out_dim)

    def forward(self, points: torch.Tensor, hidden: torch.Tensor) -> torch.Tensor:
        """Scalar loss of one video's feature points [T, 2C] and hidden layer [T, H]."""
        return (torch.linalg.vector_norm(self.points_loss(points))
                + torch.linalg.vector_norm(self.hidden_loss(hidden)))


class LinearAdaptationLoss(nn.Module):
    """The two-head loss without actions, sum_t ||W h_t + b||_2^2 (L2928-L2940).

    W and b are the pre-update head: a learned quadratic loss on the last hidden layer of
    each frame, summed over the video's frames as in the thesis's equation. It ignores the
    feature points; they are an argument only so both losses are called alike.
    """

    def __init__(self, hidden_dim: int, out_dim: int) -> None:
        super().__init__()
        self.head = nn.Linear(hidden_dim, out_dim)

    def forward(self, points: torch.Tensor, hidden: torch.Tensor) -> torch.Tensor:
        """Scalar loss of one video's hidden layer [T, H]."""
        return self.head(hidden).square().sum()


def make_adaptation_loss(cfg: DAMLConfig) -> TemporalAdaptationLoss | LinearAdaptationLoss:
    """The learned loss ``cfg.loss_kind`` sized for the policy that ``cfg`` builds."""
    points_dim, hidden_dim = 2 * cfg.conv_channels[-1], cfg.fc_hidden[-1]
    if cfg.loss_kind == "linear":
        return LinearAdaptationLoss(hidden_dim, cfg.loss_out_dim)
    return TemporalAdaptationLoss(points_dim, hidden_dim, cfg.points_loss_channels,
                                  cfg.hidden_loss_channels, cfg.loss_kernel, cfg.loss_out_dim)


def inner_objective(policy: DAMLPolicy, params: Params, learned_loss: nn.Module,
                    video: torch.Tensor) -> torch.Tensor:
    """L_psi(params, video) for one video [T, 3, H, W], the robot state input zeroed
    (L6957-L6958)."""
    if video.dim() != 4:
        raise ValueError(f"inner_objective takes one video [T, 3, H, W], got {tuple(video.shape)}")
    output = functional(policy, params, video, None)
    return learned_loss(output.points, output.hidden)
