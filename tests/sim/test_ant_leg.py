"""The ant twin with a crippled leg (thesis L2637-L2643)."""

import numpy as np
import pytest

from sim import ant_leg


def test_crippled_leg_motors_give_no_torque():
    env = ant_leg.make("unseen")
    env.reset(seed=0)
    assert env.condition == 4
    crippled = ant_leg.leg_actuators(env.model, 4)
    assert len(crippled) == 2
    action = np.ones(8, dtype=np.float32)
    env.step(action)
    assert np.all(env.data.ctrl[list(crippled)] == 0)
    assert np.all(np.delete(env.data.ctrl, crippled) == 1)


def test_midway_variant_is_nominal_then_crippled():
    env = ant_leg.make("midway", episode_steps=20)
    env.reset(seed=1)
    conditions = [env.step(np.zeros(8))[4]["condition"] for _ in range(20)]
    assert conditions[:10] == [None] * 10
    assert conditions[10] in ant_leg.SEEN_LEGS and len(set(conditions[10:])) == 1


def test_training_legs_are_the_seen_ones_and_seeds_repeat():
    env = ant_leg.make("train")
    assert {env.reset(seed=s)[1]["condition"] for s in range(40)} == set(ant_leg.SEEN_LEGS)
    a = env.reset(seed=5)[0]
    b = env.reset(seed=5)[0]
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.float32 and a.shape == (29,)


def test_reward_is_forward_speed_minus_control_cost_plus_bonus():
    env = ant_leg.make("seen")
    state, _ = env.reset(seed=2)
    action = np.full(8, 0.3, dtype=np.float32)
    next_state, reward, *_ = env.step(action)
    expected = (next_state[0] - state[0]) / 0.02 - 0.005 * np.sum(action ** 2) + 0.05
    assert reward == pytest.approx(float(expected), rel=1e-5)
