"""Rewards from classifier predictions and cascades of goals (thesis L4697-L4728)."""

import numpy as np
import pytest

from goal_classifier.cascade import Cascade
from goal_classifier.reward import ThresholdReward, rewards


def test_reward_is_zero_until_two_consecutive_frames_are_above_the_threshold():
    assert rewards([0.9, 0.2, 0.95, 0.7, 0.8, 0.4], threshold=0.6) == [0, 0, 0, 0.7, 0.8, 0]


def test_reward_is_the_probability_and_never_pays_at_or_below_the_threshold():
    assert rewards([0.5, 0.5, 0.5], threshold=0.5) == [0, 0, 0]
    assert rewards([0.51, 0.99, 0.93], threshold=0.5) == [0, 0.99, 0.93]


def test_reset_forgets_the_previous_episode():
    gate = ThresholdReward(threshold=0.5)
    gate(0.9)
    gate.reset()
    assert gate(0.9) == 0.0 and gate(0.9) == 0.9


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="threshold"):
        ThresholdReward(threshold=1.0)
    with pytest.raises(ValueError, match="consecutive"):
        ThresholdReward(consecutive=0)


def _goal(index: int):
    """A scorer reading its success probability from one pixel of the frame."""
    return lambda frame: float(frame[0, index])


def _frame(first: float, second: float) -> np.ndarray:
    return np.array([[first, second]])


def test_cascade_advances_only_when_its_current_goal_fires():
    cascade = Cascade([_goal(0), _goal(1)], threshold=0.5)
    # the second goal looking achieved does nothing while the first is current
    assert cascade.step(_frame(0.1, 0.9)) == 0 and cascade.step(_frame(0.1, 0.9)) == 0
    assert cascade.index == 0
    assert cascade.step(_frame(0.8, 0.1)) == 0 and cascade.index == 0   # one frame: not yet
    assert cascade.step(_frame(0.9, 0.1)) == 0.9 and cascade.index == 1
    # the second goal needs its own two consecutive frames, counted from scratch
    assert cascade.step(_frame(0.0, 0.7)) == 0 and cascade.index == 1
    assert cascade.step(_frame(0.0, 0.8)) == 0.8 and cascade.done
    assert cascade.step(_frame(1.0, 1.0)) == 0.0
    with pytest.raises(IndexError):
        cascade.current


def test_empty_cascade_is_refused():
    with pytest.raises(ValueError):
        Cascade([])
