"""The half-cheetah twin with a disabled joint (thesis L2620-L2627)."""

import numpy as np
import pytest

from sim import cheetah_joint
from sim.changing_dynamics import Schedule


def rollout(env, seed, steps, actions=None):
    obs, _ = env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    states, conditions = [obs], []
    for t in range(steps):
        action = rng.uniform(-1, 1, env.action_space.shape) if actions is None else actions[t]
        obs, _, _, _, info = env.step(action)
        states.append(obs)
        conditions.append(info["condition"])
    return np.array(states), conditions


def test_seeded_episodes_repeat_and_observations_are_flat_float32():
    env = cheetah_joint.make("train")
    first, cond_a = rollout(env, 3, 30)
    second, cond_b = rollout(env, 3, 30)
    assert first.dtype == np.float32 and first.shape == (31, 18)
    np.testing.assert_array_equal(first, second)
    assert cond_a == cond_b


def test_disabled_joint_ignores_its_command_and_others_do_not():
    env = cheetah_joint.make("unseen")
    env.reset(seed=0)
    assert env.condition == 3
    zero, kick = np.zeros(6), np.zeros(6)
    kick[3] = 1.0
    after_zero, _ = rollout(env, 0, 5, [zero] * 5)
    after_kick, _ = rollout(env, 0, 5, [kick] * 5)
    np.testing.assert_allclose(after_zero, after_kick)
    kick_other = np.zeros(6)
    kick_other[0] = 1.0
    moved, _ = rollout(env, 0, 5, [kick_other] * 5)
    assert np.abs(moved - after_zero).max() > 1e-3


def test_training_never_disables_the_unseen_joint():
    env = cheetah_joint.make("train")
    drawn = {env.reset(seed=s)[1]["condition"] for s in range(60)}
    assert drawn == set(cheetah_joint.SEEN_JOINTS)


def test_switch_variant_changes_the_disabled_joint_on_schedule():
    env = cheetah_joint.CheetahJointEnv(schedule=Schedule(first=0, every=10))
    _, conditions = rollout(env, 1, 30)
    assert all(c != d for c, d in zip(conditions[9:29:10], conditions[10:30:10]))
    assert len(set(conditions[:10])) == 1


def test_reward_is_forward_speed_minus_control_cost():
    env = cheetah_joint.make("seen")
    state, _ = env.reset(seed=2)
    action = np.full(6, 0.5, dtype=np.float32)
    next_state, reward, *_ = env.step(action)
    expected = (next_state[0] - state[0]) / 0.01 - 0.05 * np.sum(action ** 2)
    assert reward == pytest.approx(float(expected), rel=1e-5)


def test_non_finite_actions_are_refused():
    env = cheetah_joint.make("train")
    env.reset(seed=0)
    with pytest.raises(ValueError, match="finite"):
        env.step(np.full(6, np.nan))


def test_registered_with_gymnasium():
    import gymnasium as gym

    from sim import CHEETAH_JOINT_ID

    env = gym.make(CHEETAH_JOINT_ID, episode_steps=3)
    env.reset(seed=0)
    for _ in range(3):
        truncated = env.step(np.zeros(6))[3]
    assert truncated
