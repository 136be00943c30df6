"""Normalisation of a dynamics model's inputs and targets, kept with the model.

The networks see the normalised state (only the entries that influence the dynamics, see
``input_dims``) and action, and predict the normalised delta ``s' - s``. The statistics are
buffers, so they are saved with the weights in a checkpoint and stay fixed while an inner
gradient step moves the weights (thesis L2529-L2535 adapts the weights only).

Observation entries left out of the input (the cheetah's and ant's absolute position, the
arm's goal) would otherwise make the model extrapolate on positions it never saw; their
deltas are still predicted.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

MIN_STD = 1e-6   # a state entry that never moves (the arm's goal) keeps a finite scale


class Normaliser(nn.Module):
    """Mean/std of model inputs and state deltas, fitted on collected transitions."""

    def __init__(self, state_dim: int, action_dim: int, input_dims: Sequence[int]) -> None:
        super().__init__()
        self.state_dim, self.action_dim = state_dim, action_dim
        self.register_buffer("input_dims", torch.as_tensor(list(input_dims), dtype=torch.long))
        for name, size in (("state", len(input_dims)), ("action", action_dim),
                           ("delta", state_dim)):
            self.register_buffer(f"{name}_mean", torch.zeros(size))
            self.register_buffer(f"{name}_std", torch.ones(size))

    @property
    def input_size(self) -> int:
        return len(self.input_dims) + self.action_dim

    @torch.no_grad()
    def fit(self, states: torch.Tensor, actions: torch.Tensor, next_states: torch.Tensor) -> None:
        """Set the statistics from transitions [N, D] (refitted as data is collected)."""
        for name, values in (("state", states[:, self.input_dims]), ("action", actions),
                             ("delta", next_states - states)):
            getattr(self, f"{name}_mean").copy_(values.mean(0))
            getattr(self, f"{name}_std").copy_(values.std(0).clamp_min(MIN_STD))

    def inputs(self, state: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        """The network input [..., input_size] of ``state`` [..., S] and ``action`` [..., A]."""
        x = (state[..., self.input_dims] - self.state_mean) / self.state_std
        u = (action - self.action_mean) / self.action_std
        return torch.cat([x, u], dim=-1)

    def target(self, state: torch.Tensor, next_state: torch.Tensor) -> torch.Tensor:
        """The normalised delta the network should output."""
        return (next_state - state - self.delta_mean) / self.delta_std

    def next_state(self, state: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
        """The next state a network output (normalised delta) stands for."""
        return state + output * self.delta_std + self.delta_mean

    def config(self) -> dict:
        return {"state_dim": self.state_dim, "action_dim": self.action_dim,
                "input_dims": self.input_dims.tolist()}
