"""The flo-cascade suite: second sub-goals are a few pushes from the first, and a tiny run
of FLO and the oracle reports success rates with intervals."""

import numpy as np
import pytest

from goal_classifier.cascade_eval import CascadeConfig, evaluate_flo_cascade, second_relation
from goal_classifier.goal import load_flo
from goal_classifier.planner import CEMConfig
from sim.relations import DIRECTIONS


@pytest.mark.parametrize("first, allowed", [
    ("right_of", {"behind_right", "front_right"}),
    ("behind", {"behind_right", "behind_left"}),
    ("front_right", {"right_of", "in_front_of"}),
    ("touching", {"apart"}),
    ("apart", {"touching"}),
])
def test_the_second_sub_goal_is_a_neighbour_of_the_first(first, allowed):
    rng = np.random.default_rng(0)
    seen = {second_relation(first, rng) for _ in range(20)}
    assert seen == allowed


def test_every_direction_has_two_neighbours():
    rng = np.random.default_rng(1)
    for direction in DIRECTIONS:
        assert len({second_relation(direction, rng) for _ in range(30)}) == 2


def test_a_tiny_cascade_run_reports_flo_and_the_oracle(tiny_flo):
    cfg = CascadeConfig(tasks=2, steps=3, cem=CEMConfig(horizon=2, samples=6, elites=2,
                                                        iterations=1))
    result = evaluate_flo_cascade(load_flo(tiny_flo), cfg)
    assert result["suite"] == "flo-cascade" and len(result["cascades"]) == 2
    assert result["success_rate"] == result["methods"]["flo"]["success_rate"]
    for figures in result["methods"].values():
        lo, hi = figures["ci95"]
        assert figures["trials"] == 2 and lo <= figures["success_rate"] <= hi
        assert figures["successes"] <= figures["first_achieved"]
