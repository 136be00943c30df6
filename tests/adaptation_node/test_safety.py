"""Command clamping and the input watchdog."""

import numpy as np
import pytest

from adaptation_node.safety import CommandLimits, Watchdog


def test_commands_are_clamped_to_the_box_and_non_finite_ones_become_zero():
    limits = CommandLimits([-1.0, -0.5], [1.0, 0.5])
    np.testing.assert_array_equal(limits.clamp([3.0, -2.0]), [1.0, -0.5])
    np.testing.assert_array_equal(limits.clamp([0.2, 0.1]), [0.2, 0.1])
    np.testing.assert_array_equal(limits.clamp([np.nan, 0.1]), [0.0, 0.0])
    np.testing.assert_array_equal(limits.clamp([np.inf, 0.1]), [0.0, 0.0])


@pytest.mark.parametrize("low, high", [([1.0], [2.0]), ([0.0, 0.0], [1.0]), ([1.0], [-1.0])])
def test_limits_must_be_a_box_around_zero(low, high):
    with pytest.raises(ValueError, match="command limits"):
        CommandLimits(low, high)


def test_watchdog_names_inputs_older_than_the_timeout():
    now = [100.0]
    watchdog = Watchdog(["image_raw", "joint_states"], 0.2, clock=lambda: now[0])
    assert watchdog.stale() == ["image_raw", "joint_states"]  # never seen
    watchdog.feed("image_raw")
    watchdog.feed("joint_states")
    now[0] += 0.15
    assert watchdog.stale() == []
    watchdog.feed("joint_states")
    now[0] += 0.1
    assert watchdog.stale() == ["image_raw"]
