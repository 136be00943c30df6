"""The scripted reach expert: exact inverse kinematics and a >= 95% success rate."""

import numpy as np
import pytest

from sim.arena import LINK_LENGTHS
from sim.expert import ReachExpert, inverse_kinematics, wrap_near
from sim.reach import ReachEnv


def forward_kinematics(q: np.ndarray) -> np.ndarray:
    upper, fore = LINK_LENGTHS
    return np.array([upper * np.cos(q[0]) + fore * np.cos(q[0] + q[1]),
                     upper * np.sin(q[0]) + fore * np.sin(q[0] + q[1])])


@pytest.mark.parametrize("point", [(0.2, 0.0), (-0.1, 0.15), (0.05, -0.24), (0.0, 0.1)])
def test_inverse_kinematics_picks_the_elbow_solution_nearest_the_current_pose(point):
    upper, fore = LINK_LENGTHS
    for current in (np.array([0.3, 1.0]), np.array([0.3, -1.0]), np.array([7.0, 0.5])):
        q = inverse_kinematics(np.array(point), current)
        np.testing.assert_allclose(forward_kinematics(q), point, atol=1e-9)
        assert np.all(np.abs(q - current) <= np.pi + 1e-9)
        # the other elbow solution (mirrored about the base-point line) is no nearer
        turn = 2 * np.arctan2(fore * np.sin(q[1]), upper + fore * np.cos(q[1]))
        mirrored = np.array([q[0] + turn, -q[1]])
        np.testing.assert_allclose(forward_kinematics(mirrored), point, atol=1e-9)
        mirrored = wrap_near(mirrored, current)
        assert np.abs(q - current).sum() <= np.abs(mirrored - current).sum() + 1e-12


def test_expert_actions_stay_in_the_box():
    env = ReachEnv()
    try:
        env.reset(seed=0)
        expert = ReachExpert(noise_std=5.0, seed=0)
        actions = np.array([expert.act(env) for _ in range(20)])
        assert actions.dtype == np.float32 and np.all(np.abs(actions) <= 1.0)
    finally:
        env.close()


def test_expert_succeeds_at_least_95_percent():
    env = ReachEnv(image_size=(16, 16))
    successes = 0
    try:
        for episode in range(100):
            expert = ReachExpert(seed=episode)
            env.reset(seed=1000 + episode)
            truncated = False
            while not truncated:
                _, _, _, truncated, info = env.step(expert.act(env))
            successes += info["is_success"]
    finally:
        env.close()
    assert successes >= 95
