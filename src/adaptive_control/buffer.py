"""The transitions a controller has seen this episode, the data adaptation reads.

A transition with a NaN or infinite entry (a sensor dropout, a diverged simulation) would
turn every adapted weight into NaN at the next inner step and never recover, so
:meth:`TransitionBuffer.append` refuses it with :class:`NonFiniteTransition` and leaves the
buffer as it was.

A controller runs for as long as the robot does, so the buffer keeps at most ``capacity``
transitions (amortised: it trims to ``capacity`` once it holds twice that); ``appended``
counts every transition ever accepted, for readers that consume it incrementally (RBAC).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


class NonFiniteTransition(ValueError):
    """A state or action with NaN or infinite entries was offered to the buffer."""


@dataclass
class Transitions:
    """Aligned transitions: states [..., N, S], actions [..., N, A], next_states [..., N, S]."""

    states: torch.Tensor
    actions: torch.Tensor
    next_states: torch.Tensor

    def __len__(self) -> int:
        return self.states.shape[-2]

    def to(self, device: torch.device | str) -> "Transitions":
        return Transitions(self.states.to(device), self.actions.to(device),
                           self.next_states.to(device))


class TransitionBuffer:
    """The episode's transitions in order; :meth:`last` gives the adaptation window."""

    def __init__(self, state_dim: int, action_dim: int, capacity: int = 10_000) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self.state_dim, self.action_dim, self.capacity = state_dim, action_dim, capacity
        self._rows: list[np.ndarray] = []
        self.appended = 0

    def append(self, state: np.ndarray, action: np.ndarray, next_state: np.ndarray) -> None:
        """Add one transition; raise NonFiniteTransition (buffer unchanged) if any entry of
        it is NaN or infinite, ValueError if a shape is wrong."""
        parts = {"state": (state, self.state_dim), "action": (action, self.action_dim),
                 "next_state": (next_state, self.state_dim)}
        for name, (value, size) in parts.items():
            value = np.asarray(value, dtype=np.float32)
            if value.shape != (size,):
                raise ValueError(f"{name} must have shape ({size},), got {value.shape}")
            if not np.all(np.isfinite(value)):
                raise NonFiniteTransition(f"refused a transition whose {name} is not finite: "
                                          f"{value.tolist()}")
        self._rows.append(np.concatenate([np.asarray(v, dtype=np.float32)
                                          for v, _ in parts.values()]))
        self.appended += 1
        if len(self._rows) >= 2 * self.capacity:
            del self._rows[:-self.capacity]

    def __len__(self) -> int:
        return len(self._rows)

    def clear(self) -> None:
        self._rows.clear()
        self.appended = 0

    def last(self, m: int | None = None) -> Transitions:
        """The last ``m`` transitions (all when ``m`` is None) as tensors [n, *]."""
        rows = self._rows if m is None else self._rows[len(self._rows) - min(m, len(self)):]
        table = torch.from_numpy(np.stack(rows)) if rows else torch.zeros(
            0, 2 * self.state_dim + self.action_dim)
        s, a = self.state_dim, self.action_dim
        return Transitions(table[:, :s], table[:, s:s + a], table[:, s + a:])
