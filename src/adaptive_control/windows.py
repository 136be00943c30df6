"""The collected rollouts and the (M past, K future) windows meta-training samples from
them (thesis Eq. 15, L2404-L2410: ``tau(t-M, t-1)`` adapts, ``tau(t, t+K)`` scores)."""

from __future__ import annotations

import numpy as np
import torch

from adaptive_control.buffer import Transitions
from adaptive_control.controller import Episode


class RolloutData:
    """Every rollout collected so far, all of the same length T."""

    def __init__(self) -> None:
        self.states: list[np.ndarray] = []
        self.actions: list[np.ndarray] = []

    def add(self, episode: Episode) -> None:
        if self.actions and len(episode.actions) != len(self.actions[0]):
            raise ValueError("rollouts must all have the same length")
        self.states.append(episode.states.astype(np.float32))
        self.actions.append(episode.actions.astype(np.float32))

    def __len__(self) -> int:
        return len(self.actions)

    @property
    def transitions(self) -> int:
        return sum(len(a) for a in self.actions)

    def all_transitions(self) -> Transitions:
        """Every transition, flattened to [N, *] (for the normalisation statistics)."""
        states = torch.from_numpy(np.concatenate([s[:-1] for s in self.states]))
        next_states = torch.from_numpy(np.concatenate([s[1:] for s in self.states]))
        return Transitions(states, torch.from_numpy(np.concatenate(self.actions)), next_states)

    def windows(self, batch: int, length: int, generator: torch.Generator,
                since: int = 0) -> Transitions:
        """``batch`` windows of ``length`` consecutive transitions [B, L, *], from rollouts
        ``since`` onwards, uniformly over rollouts and start steps."""
        states = torch.from_numpy(np.stack(self.states[since:]))
        actions = torch.from_numpy(np.stack(self.actions[since:]))
        rollouts, steps = actions.shape[:2]
        which = torch.randint(rollouts, (batch, 1), generator=generator)
        start = torch.randint(steps - length + 1, (batch, 1), generator=generator)
        t = start + torch.arange(length)
        return Transitions(states[which, t], actions[which, t], states[which, t + 1])


def split(window: Transitions, past: int) -> tuple[Transitions, Transitions]:
    """The first ``past`` steps of windows [B, M+K, *] and the rest."""
    head = Transitions(window.states[:, :past], window.actions[:, :past],
                       window.next_states[:, :past])
    tail = Transitions(window.states[:, past:], window.actions[:, past:],
                       window.next_states[:, past:])
    return head, tail
