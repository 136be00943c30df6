"""The flo-cascade suite: second sub-goals are a few pushes from the first, a tiny run
of FLO and the oracle reports success rates with intervals, and the planner keeps on the
last sub-goal after its classifier fires."""

import dataclasses
import math
from types import SimpleNamespace

import numpy as np
import pytest

from goal_classifier import cascade_eval
from goal_classifier.cascade_eval import CascadeConfig, evaluate_flo_cascade, second_relation
from goal_classifier.goal import load_flo
from goal_classifier.planner import CEMConfig
from sim.arrange import ArrangeTask
from sim.arrange_scene import image_axes
from sim.objects import catalogue
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


class _ScriptedModel:
    """A stand-in predictive model whose pair of objects follows a script of image-frame
    bearings, one per executed step; its frames carry the step number."""

    def __init__(self, bearings):
        self.bearings, self.t = bearings, 0

    def state(self):
        return SimpleNamespace(physics=np.zeros(1))

    def step(self, action):
        self.t += 1

    def positions(self, physics):
        right, away = (np.array(a) for a in image_axes())
        angle = math.radians(self.bearings[min(self.t, len(self.bearings) - 1)])
        offset = 0.15 * (math.cos(angle) * right + math.sin(angle) * away)
        return np.stack([offset, np.zeros(2)])[None]

    def render(self, state):
        return np.full((4, 4, 3), self.t, np.uint8)


class _ScriptedGoal:
    """A goal whose probability of success is scripted per step."""

    def __init__(self, probabilities):
        self.probabilities = probabilities

    def score(self, frames):
        return np.array([self.probabilities[min(int(frames[0, 0, 0, 0]),
                                                len(self.probabilities) - 1)]])


@pytest.mark.parametrize("plan_past_last, success, steps", [(True, True, 8), (False, False, 4)])
def test_the_planner_keeps_on_the_last_sub_goal_after_a_false_alarm(monkeypatch, plan_past_last,
                                                                     success, steps):
    # right_of holds (bearing 0) and its classifier fires at steps 1-2; the second
    # classifier (behind_right, 45 deg) fires falsely at steps 3-4 while the pair still
    # stands at 10 deg, and the pair only enters behind_right (45 deg) at step 6
    monkeypatch.setattr(cascade_eval, "plan", lambda *a, **k: (np.zeros((1, 2)), None))
    names = [obj.name for obj in catalogue("heldout")[:4]]
    first = ArrangeTask(names[0], names[1], "right_of", 0, (names[2], names[3]), "heldout")
    tasks = [first, dataclasses.replace(first, relation="behind_right")]
    model = _ScriptedModel([0, 0, 0, 10, 10, 30, 45, 45, 45])
    trial = SimpleNamespace(model=model, restart=lambda: None)
    goals = [_ScriptedGoal([0.0, 0.9, 0.9, 0.0]), _ScriptedGoal([0, 0, 0, 0.9, 0.9, 0, 0.9])]
    cfg = CascadeConfig(steps=8, plan_past_last=plan_past_last)
    result = cascade_eval.run_cascade(trial, tasks, goals, [None, None], True, cfg,
                                      np.random.default_rng(0))
    assert result["first_true"] and result["last_fired"]
    assert result["success"] is success and result["steps"] == steps
