"""Cascades of goal classifiers for compound tasks (thesis L4712-L4728).

A compound task, such as a table setting, is a list of sub-goals, each inferred from its
own few positives. The planner or policy works on one sub-goal at a time; when that
sub-goal's classifier fires (its :class:`ThresholdReward` pays out, i.e. two consecutive
frames above the threshold) the cascade moves on to the next. It is done when the last
sub-goal has fired.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from goal_classifier.reward import ThresholdReward

Scorer = Callable[[np.ndarray], float]      # one frame -> P(success)


class Cascade:
    """Sub-goals achieved one after another; :meth:`step` is called once per frame."""

    def __init__(self, goals: Sequence[Scorer], threshold: float = 0.5,
                 consecutive: int = 2) -> None:
        if not goals:
            raise ValueError("a cascade needs at least one goal")
        self.goals = list(goals)
        self.threshold, self.consecutive = threshold, consecutive
        self.index = 0
        self._gate = ThresholdReward(threshold, consecutive)

    @property
    def done(self) -> bool:
        return self.index >= len(self.goals)

    @property
    def current(self) -> Scorer:
        """The sub-goal being worked on (the planner's objective now)."""
        if self.done:
            raise IndexError("the cascade is done: every goal has been achieved")
        return self.goals[self.index]

    def step(self, frame: np.ndarray) -> float:
        """Score ``frame`` with the current sub-goal and return its reward; advance to
        the next sub-goal when this one fires. A finished cascade rewards nothing more."""
        if self.done:
            return 0.0
        reward = self._gate(self.current(frame))
        if self._gate.achieved:
            self.index += 1
            self._gate = ThresholdReward(self.threshold, self.consecutive)
        return reward
