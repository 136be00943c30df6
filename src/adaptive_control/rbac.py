"""RBAC's recurrent dynamics model (thesis L2507-L2522).

An LSTM with 2 layers of 256 units reads the episode so far, one (state, action) pair per
step, and predicts each step's normalised state delta; its hidden state plays the part of
the adapted parameters ``phi``, its weights the learned update rule. At run time the hidden
state is carried through the whole episode (M = t, L2521); meta-training unrolls it over
windows of M + K steps and scores the last K predictions (the first M prime the state), a
truncation that keeps training affordable.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from adaptive_control.normalisation import Normaliser

Hidden = tuple[torch.Tensor, torch.Tensor]


class RecurrentDynamics(nn.Module):
    """LSTM over normalised (state, action) -> normalised delta of each step."""

    def __init__(self, state_dim: int, action_dim: int, input_dims: Sequence[int],
                 hidden_size: int = 256, layers: int = 2) -> None:
        super().__init__()
        self.norm = Normaliser(state_dim, action_dim, input_dims)
        self.lstm = nn.LSTM(self.norm.input_size, hidden_size, layers, batch_first=True)
        self.head = nn.Linear(hidden_size, state_dim)

    def forward(self, states: torch.Tensor, actions: torch.Tensor,
                hidden: Hidden | None = None) -> tuple[torch.Tensor, Hidden]:
        """Normalised deltas [B, T, S] of sequences [B, T, *] and the hidden state after."""
        out, hidden = self.lstm(self.norm.inputs(states, actions), hidden)
        return self.head(out), hidden

    def predict(self, state: torch.Tensor, action: torch.Tensor,
                hidden: Hidden | None) -> tuple[torch.Tensor, Hidden]:
        """One step for a batch [B, *]: the next states [B, S] and the hidden state after."""
        out, hidden = self(state[:, None], action[:, None], hidden)
        return self.norm.next_state(state, out[:, 0]), hidden

    def window_loss(self, states: torch.Tensor, actions: torch.Tensor,
                    next_states: torch.Tensor, past: int) -> torch.Tensor:
        """MSE of the normalised deltas after the first ``past`` steps of windows [B, M+K, *]."""
        out, _ = self(states, actions)
        target = self.norm.target(states, next_states)
        return ((out[:, past:] - target[:, past:]) ** 2).mean()

    def config(self) -> dict:
        return {**self.norm.config(), "hidden_size": self.lstm.hidden_size,
                "layers": self.lstm.num_layers}
