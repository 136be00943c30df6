"""What keeps a learned policy from hurting the arm: command clamping and a watchdog.

Both are plain classes (no ROS), used by the policy node on every tick: every command
leaves clamped to the configured box, and when an input goes stale the node publishes
zeros instead of acting on an old picture of the world.
"""
from __future__ import annotations

import time
from typing import Callable, Sequence

import numpy as np


class CommandLimits:
    """Clamp commands element-wise to [low, high]; a non-finite command becomes zero."""

    def __init__(self, low: Sequence[float], high: Sequence[float]) -> None:
        self.low = np.asarray(low, dtype=np.float64)
        self.high = np.asarray(high, dtype=np.float64)
        if self.low.shape != self.high.shape or (self.low > self.high).any():
            raise ValueError(f"command limits must be matching boxes with low <= high, "
                             f"got {self.low} and {self.high}")
        if (self.low > 0).any() or (self.high < 0).any():
            raise ValueError("command limits must contain zero (the stop command)")

    @property
    def zero(self) -> np.ndarray:
        return np.zeros_like(self.low)

    def clamp(self, command: np.ndarray) -> np.ndarray:
        command = np.asarray(command, dtype=np.float64).reshape(self.low.shape)
        if not np.isfinite(command).all():
            return self.zero
        return np.clip(command, self.low, self.high)


class Watchdog:
    """Tracks when each named input last arrived; ``stale()`` names those older than
    ``timeout_s`` (an input never seen is stale)."""

    def __init__(self, inputs: Sequence[str], timeout_s: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.timeout_s = timeout_s
        self.clock = clock
        self.last_seen = {name: -np.inf for name in inputs}

    def feed(self, name: str) -> None:
        self.last_seen[name] = self.clock()

    def stale(self) -> list[str]:
        now = self.clock()
        return [name for name, seen in self.last_seen.items() if now - seen > self.timeout_s]
