"""Reward from a goal classifier's predictions (thesis L4697-L4711).

The classifier's probabilities are not always calibrated, so it is used conservatively:
a frame earns its probability p as reward only when p is above a threshold, and only once
two consecutive frames (this one and the one before) are above it; otherwise 0. One
confident frame alone, a typical false positive, earns nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ThresholdReward:
    """The reward of a stream of success probabilities, one frame at a time."""

    threshold: float = 0.5
    consecutive: int = 2
    _run: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if not 0.0 <= self.threshold < 1.0:
            raise ValueError(f"threshold must be in [0, 1), got {self.threshold}")
        if self.consecutive < 1:
            raise ValueError(f"consecutive must be >= 1, got {self.consecutive}")

    def reset(self) -> None:
        """Start a new episode: no frame has been above the threshold yet."""
        self._run = 0

    def __call__(self, probability: float) -> float:
        """The reward of the next frame, whose success probability is ``probability``."""
        self._run = self._run + 1 if probability > self.threshold else 0
        return float(probability) if self._run >= self.consecutive else 0.0

    @property
    def achieved(self) -> bool:
        """Whether the last frame earned a reward: the goal counts as reached."""
        return self._run >= self.consecutive


def rewards(probabilities: list[float], threshold: float = 0.5,
            consecutive: int = 2) -> list[float]:
    """The rewards of a whole episode's probabilities."""
    gate = ThresholdReward(threshold, consecutive)
    return [gate(p) for p in probabilities]
