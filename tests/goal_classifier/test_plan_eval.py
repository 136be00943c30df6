"""The flo-plan suite: starts are near misses with the rod clear of the pair, FLO's
failures are blamed as thesis Fig. 41 says, intervals are Wilson's, and a tiny run writes
every method's success rate."""

import numpy as np
import pytest

from goal_classifier.goal import infer_goal
from goal_classifier.plan_costs import FLOCost, FLOLogitCost
from goal_classifier.plan_eval import (
    FLOPlanConfig,
    attribute,
    evaluate_flo_plan,
    goal_images,
    start_configuration,
    wilson_interval,
)
from goal_classifier.planner import CEMConfig
from goal_classifier.predictive import Prediction, TwinModel
from sim.arrange import ArrangeTwin, pair_of, sample_task
from sim.arrange_scene import PUSHER_RADIUS
from sim.relations import RELATIONS, clearly_not

TINY = FLOPlanConfig(tasks=2, steps=2, cem=CEMConfig(horizon=2, samples=6, elites=2,
                                                     iterations=1))


@pytest.mark.parametrize("relation", RELATIONS)
def test_starts_are_clear_misses_with_the_rod_beside_the_first_object(relation):
    rng = np.random.default_rng(5)
    task = sample_task("heldout", rng)
    twin = ArrangeTwin(task.__class__(**{**task.__dict__, "relation": relation}), pusher=True)
    try:
        config = start_configuration(twin, relation, rng)
        first, second = config.positions
        assert clearly_not(relation, pair_of(twin.task, config.positions))
        gaps = np.linalg.norm(config.pusher - np.stack([first, second]), axis=1)
        assert gaps[0] == pytest.approx(twin.radii[0] + PUSHER_RADIUS + 0.01)
        assert gaps[1] > twin.radii[1] + PUSHER_RADIUS
        np.testing.assert_allclose(TwinModel(twin).state().pusher, config.pusher)
    finally:
        twin.close()


def _result(success, truth, scores, fired=False):
    return {"success": success, "truth": truth, "scores": scores, "fired": fired}


def test_failures_are_blamed_on_the_classifier_or_the_planner_as_in_fig_41():
    assert attribute(_result(True, [False, True], [0.1, 0.9]), 0.5) is None
    # said success on a final frame that is not
    assert attribute(_result(False, [False, False], [0.2, 0.8], fired=True), 0.5) == "classifier"
    # said failure on a frame that was a success
    assert attribute(_result(False, [True, False], [0.3, 0.1]), 0.5) == "classifier"
    # never reached, and the classifier never claimed it: the planner's fault
    assert attribute(_result(False, [False, False], [0.3, 0.1]), 0.5) == "planner"


def test_wilson_intervals_match_known_values():
    np.testing.assert_allclose(wilson_interval(5, 10), (0.2366, 0.7634), atol=1e-4)
    np.testing.assert_allclose(wilson_interval(0, 10), (0.0, 0.2775), atol=1e-4)
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_the_logit_cost_is_finite_and_agrees_with_one_minus_p(tiny_flo):
    from goal_classifier.goal import load_flo

    model = load_flo(tiny_flo)
    rng = np.random.default_rng(0)
    task = sample_task("heldout", rng)
    images = goal_images(task, model.cfg.k, rng)
    goal = infer_goal(model, images)
    frames = np.concatenate([images, 255 - images])
    prediction = Prediction(np.zeros((10, 2, 2)), np.zeros((10, 2)), frames)
    logit, one_minus_p = FLOLogitCost(goal)(prediction), FLOCost(goal)(prediction)
    assert np.all(np.isfinite(logit))
    np.testing.assert_allclose(1 / (1 + np.exp(logit)), 1 - one_minus_p, atol=1e-5)


def test_a_tiny_run_reports_every_method_with_intervals_and_blame(tiny_flo):
    from goal_classifier.goal import load_flo

    result = evaluate_flo_plan(load_flo(tiny_flo), TINY)
    assert result["suite"] == "flo-plan" and result["tasks"] == 2
    assert set(result["methods"]) == {"flo", "pixel", "oracle"}      # no autoencoder given
    for figures in result["methods"].values():
        lo, hi = figures["ci95"]
        assert figures["trials"] == 2 and lo <= figures["success_rate"] <= hi
    flo = result["methods"]["flo"]
    assert sum(flo["failures"].values()) == 2 - flo["successes"]
    with pytest.raises(ValueError, match="unknown or unavailable methods"):
        evaluate_flo_plan(load_flo(tiny_flo), TINY, methods=("ae",))
