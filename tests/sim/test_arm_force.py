"""The 7-DoF arm carrying an object under force perturbations (thesis L2644-L2651)."""

import numpy as np
import pytest

from sim import arm_force
from sim.arm_force import EE, GOAL


def test_force_magnitudes_of_the_test_conditions():
    strong = arm_force.make("strong")
    strong.reset(seed=0)
    assert np.linalg.norm(strong.condition) == pytest.approx(3 * arm_force.TRAIN_FORCE)
    train = arm_force.make("train")
    sizes = [np.linalg.norm(train.reset(seed=s)[1]["condition"]) for s in range(30)]
    assert max(sizes) <= arm_force.TRAIN_FORCE and min(sizes) < arm_force.TRAIN_FORCE / 2


def test_changing_force_is_redrawn_every_50_steps():
    env = arm_force.make("changing", episode_steps=120)
    env.reset(seed=0)
    forces = [env.step(np.zeros(7))[4]["condition"] for _ in range(120)]
    assert len(set(forces[:50])) == 1 and len(set(forces[50:100])) == 1
    assert forces[49] != forces[50] and forces[99] != forces[100]


def test_force_pushes_the_carried_object():
    still = arm_force.ArmForceEnv(magnitude=0.0)
    pushed = arm_force.make("strong")
    ee_still = [env.reset(seed=4)[0][EE] for env in (still, pushed)]
    np.testing.assert_allclose(ee_still[0], ee_still[1])
    for _ in range(20):
        a = still.step(np.zeros(7))[0]
        b = pushed.step(np.zeros(7))[0]
    moved = (b[EE] - a[EE]) @ np.asarray(pushed.condition)
    assert moved > 0.01


def test_reward_is_minus_squared_distance_to_goal_and_goal_is_observed():
    env = arm_force.make("constant")
    state, _ = env.reset(seed=3)
    np.testing.assert_allclose(state[GOAL], env.goal, atol=1e-6)
    next_state, reward, *_ = env.step(np.full(7, 0.2))
    np.testing.assert_allclose(next_state[EE], env.end_effector, atol=1e-6)
    assert reward == pytest.approx(-float(np.sum((next_state[EE] - next_state[GOAL]) ** 2)),
                                   rel=1e-5)


def test_twins_do_not_import_torch():
    import subprocess
    import sys

    code = ("import sys, sim.cheetah_joint, sim.ant_leg, sim.arm_force; "
            "sys.exit(int('torch' in sys.modules))")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
