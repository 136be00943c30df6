"""FLO's planner on the pushing arrangement twin: the batched predictive model agrees with
stepping the twin, CEM with the oracle cost achieves a relation that random pushes do not,
and costs of the wrong shape or on the wrong images are refused."""

import dataclasses
from pathlib import Path

import mujoco
import numpy as np
import pytest

from goal_classifier.goal import GoalImageError, infer_goal, load_flo
from goal_classifier.plan_costs import FLOCost, OracleCost, PixelCost
from goal_classifier.planner import CEMConfig, CostError, checked_costs, plan, run_mpc, score
from goal_classifier.predictive import STATE, Prediction, TwinModel
from sim.arrange import ArrangeTwin, Configuration, pair_of, sample_task
from sim.arrange_pusher import PUSHER_RADIUS
from sim.relations import holds

FLO_CHECKPOINT = Path(__file__).parents[2] / "checkpoints" / "flo-arrange"
CEM = CEMConfig(horizon=3, samples=24, elites=4, iterations=2)
START_GAP = 0.09          # m between the pair at the start: "apart" needs 0.18
MAX_STEP = 0.03           # m per axis of a random push, as CEM's bound


def pushing_twin(relation: str, seed: int) -> ArrangeTwin:
    task = dataclasses.replace(sample_task("train", np.random.default_rng(seed)),
                               relation=relation)
    return ArrangeTwin(task, pusher=True)


def start(twin: ArrangeTwin, rng: np.random.Generator) -> None:
    """The pair START_GAP apart in a random direction and the pusher 1 cm from the first
    object on a random side clear of the second."""
    base = twin.sample_example(False, rng)
    r1, r2 = twin.radii[:2]
    bearing = rng.uniform(0, 2 * np.pi)
    half = (START_GAP + r1 + r2) / 2 * np.array([np.cos(bearing), np.sin(bearing)])
    centre = np.array([0.45, -0.15])
    first, second = centre + half, centre - half
    while True:
        side = rng.uniform(0, 2 * np.pi)
        pusher = first + (r1 + PUSHER_RADIUS + 0.01) * np.array([np.cos(side), np.sin(side)])
        if np.linalg.norm(pusher - second) > r2 + PUSHER_RADIUS + 0.01:
            break
    twin.pose(Configuration(np.stack([first, second]), base.yaws[:2], base.arm, pusher))


@pytest.fixture
def twin():
    twin = pushing_twin("apart", 0)
    start(twin, np.random.default_rng(0))
    yield twin
    twin.close()


def test_a_batch_of_candidates_predicts_what_stepping_each_one_does(twin):
    model = TwinModel(twin)
    state = model.state()
    actions = np.random.default_rng(1).uniform(-MAX_STEP, MAX_STEP, (5, 4, 2))
    actions[0] = 0.0
    actions[1] = np.array([-1.0, 0.0]) * MAX_STEP      # at least one pushes into the pair
    batch = model.predict(state, actions, frames=True)
    moved = 0
    for i, sequence in enumerate(actions):
        data = mujoco.MjData(twin.model)
        mujoco.mj_setState(twin.model, data, state.physics, STATE)
        data.mocap_pos[:] = twin.data.mocap_pos
        for action in sequence:
            model.step(action, data)
        alone = model.state(data)
        # stepping one action at a time sums the pusher's targets in another order
        np.testing.assert_allclose(model.positions(alone.physics[None])[0],
                                   batch.positions[i], rtol=0, atol=1e-9)
        np.testing.assert_allclose(alone.pusher, batch.pusher[i], rtol=0, atol=1e-12)
        np.testing.assert_array_equal(model.render(alone), batch.frames[i])
        moved += not np.allclose(batch.positions[i], batch.positions[0])
    assert moved >= 1, "no candidate moved an object: the comparison says nothing"
    np.testing.assert_array_equal(model.state().physics, state.physics)   # twin untouched


def achieved(relation: str, seed: int, planner: bool, steps: int) -> bool:
    """Whether MPC with the oracle cost (or random pushes) reaches ``relation``."""
    twin = pushing_twin(relation, seed)
    model = TwinModel(twin)
    rng = np.random.default_rng(100 + seed)
    start(twin, rng)

    def done() -> bool:
        positions = model.positions(model.state().physics[None])[0]
        return holds(relation, pair_of(twin.task, positions))

    assert not done()
    try:
        if planner:
            cfg = dataclasses.replace(CEM, max_step=MAX_STEP)
            episode = run_mpc(model, model.state, model.step, OracleCost(twin.task), cfg,
                              steps, rng, done)
            return episode.done_at is not None
        for _ in range(steps):
            model.step(rng.uniform(-MAX_STEP, MAX_STEP, 2))
            if done():
                return True
        return False
    finally:
        twin.close()


def test_oracle_mpc_pushes_the_pair_apart_far_more_often_than_random_pushes():
    seeds = range(8)
    planned = sum(achieved("apart", s, planner=True, steps=10) for s in seeds)
    randomly = sum(achieved("apart", s, planner=False, steps=10) for s in seeds)
    assert planned >= 5 and planned >= randomly + 4, (planned, randomly)


@pytest.mark.slow
def test_oracle_mpc_reaches_touching_more_often_than_random_pushes():
    seeds = range(12)
    planned = sum(achieved("touching", s, planner=True, steps=8) for s in seeds)
    randomly = sum(achieved("touching", s, planner=False, steps=8) for s in seeds)
    assert planned >= randomly + 3, (planned, randomly)


def test_the_plan_is_no_worse_than_standing_still(twin):
    model = TwinModel(twin)
    cost = OracleCost(twin.task)
    state = model.state()
    best, best_cost = plan(model, state, cost, CEM, np.random.default_rng(3))
    still = score(model, state, np.zeros((1, CEM.horizon, 2)), cost)[0]
    assert best.shape == (CEM.horizon, 2) and np.all(np.abs(best) <= CEM.max_step)
    assert best_cost == pytest.approx(score(model, state, best[None], cost)[0])
    assert best_cost < still


class Constant:
    """A cost that returns a fixed array whatever it is asked."""

    needs_frames = False

    def __init__(self, value: np.ndarray) -> None:
        self.value = value

    def __call__(self, prediction: Prediction) -> np.ndarray:
        return self.value


@pytest.mark.parametrize("value, message", [
    (np.zeros((CEM.samples, 1)), "one number per candidate"),
    (np.zeros(CEM.samples - 1), "one number per candidate"),
    (np.full(CEM.samples, np.nan), "non-finite"),
])
def test_costs_of_the_wrong_shape_or_not_finite_are_refused(twin, value, message):
    model = TwinModel(twin)
    with pytest.raises(CostError, match=message):
        plan(model, model.state(), Constant(value), CEM, np.random.default_rng(0))


def test_checked_costs_passes_a_good_cost_through():
    np.testing.assert_array_equal(checked_costs([1, 2.5], 2), np.array([1.0, 2.5]))


def test_actions_of_the_wrong_shape_are_refused(twin):
    model = TwinModel(twin)
    with pytest.raises(ValueError, match=r"\[N, T, 2\]"):
        model.predict(model.state(), np.zeros((4, 3)), frames=False)


def test_pixel_cost_is_the_distance_to_the_closest_goal_image(twin):
    model = TwinModel(twin)
    frame = model.render(model.state())
    goals = np.stack([255 - frame, frame, np.zeros_like(frame)])
    cost = PixelCost(goals)
    prediction = model.predict(model.state(), np.zeros((2, 1, 2)), frames=True)
    np.testing.assert_allclose(cost(prediction), 0.0, atol=1e-4)   # standing still
    far = Prediction(prediction.positions[:1], prediction.pusher[:1], goals[:1])
    assert cost(far)[0] == pytest.approx(0.0)
    with pytest.raises(GoalImageError, match="predicted frames"):
        cost(Prediction(far.positions, far.pusher, goals[:1, :32, :32]))
    with pytest.raises(GoalImageError, match=r"uint8 RGB \[K, H, W, 3\]"):
        PixelCost(goals[0])
    with pytest.raises(ValueError, match="has none"):
        cost(Prediction(far.positions, far.pusher, None))


def test_flo_cost_is_one_minus_the_goal_probability_and_refuses_wrong_frames(twin):
    flo = load_flo(FLO_CHECKPOINT)
    task = twin.task
    plain = ArrangeTwin(task)
    rng = np.random.default_rng(4)
    positives = []
    for _ in range(flo.cfg.k):
        plain.sample_example(True, rng)
        positives.append(plain.render())
    plain.close()
    goal = infer_goal(flo, np.stack(positives))
    model = TwinModel(twin)
    prediction = model.predict(model.state(), np.zeros((3, 1, 2)), frames=True)
    costs = FLOCost(goal)(prediction)
    assert costs.shape == (3,) and np.all((costs >= 0) & (costs <= 1))
    np.testing.assert_allclose(costs, 1.0 - goal.score(prediction.frames), rtol=1e-6)
    small = Prediction(prediction.positions, prediction.pusher, prediction.frames[:, :32, :32])
    with pytest.raises(GoalImageError, match="32x32"):
        FLOCost(goal)(small)
