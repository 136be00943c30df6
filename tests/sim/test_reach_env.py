"""The reach twin: Gymnasium contract, observations, determinism, control and success."""

import warnings

import gymnasium as gym
import mujoco
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import sim
from sim.arena import (
    ARENA_HALF_SIZE,
    LINK_LENGTHS,
    MIN_TARGET_SEPARATION,
    TARGET_RADIUS,
    TARGET_RING,
)
from sim.expert import KD, KP, inverse_kinematics
from sim.reach import EPISODE_STEPS, ReachEnv, reach_state
from sim.scene import ReachScene


@pytest.fixture
def env():
    reach = ReachEnv(render_mode="rgb_array")
    yield reach
    reach.close()


def test_check_env_passes_through_the_registered_id():
    made = gym.make(sim.REACH_ID, render_mode="rgb_array")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            check_env(made.unwrapped)
    finally:
        made.close()
    # the only advice check_env gives is about the state Box being unbounded
    assert all("infinity" in str(warning.message) for warning in caught)


def test_observation_layout(env):
    observation, info = env.reset(seed=1)
    assert observation["image"].shape == (64, 64, 3) and observation["image"].dtype == np.uint8
    assert observation["state"].shape == (6,) and observation["state"].dtype == np.float32
    assert observation in env.observation_space
    np.testing.assert_allclose(observation["state"][4:], env.fingertip_pos, atol=1e-6)
    assert info["distance"] == pytest.approx(np.linalg.norm(env.fingertip_pos - env.target_pos))


def test_image_size_is_width_by_height():
    reach = ReachEnv(image_size=(80, 64), render_mode="rgb_array", render_size=(160, 128))
    try:
        observation, _ = reach.reset(seed=0)
        assert observation["image"].shape == (64, 80, 3)
        assert reach.render().shape == (128, 160, 3)
    finally:
        reach.close()


def test_model_geometry_matches_arena_constants(env):
    env.reset(seed=0)
    env.data.qpos[:] = 0.0
    env.data.qvel[:] = 0.0
    mujoco.mj_forward(env.model, env.data)
    np.testing.assert_allclose(env.fingertip_pos, [sum(LINK_LENGTHS), 0.0], atol=1e-9)
    np.testing.assert_allclose(env.model.geom_size[env._object_geoms, 0], TARGET_RADIUS)
    np.testing.assert_allclose(env.model.geom("floor").size[:2], ARENA_HALF_SIZE)


def test_same_seed_same_episode_and_different_seed_differs(env):
    def rollout(seed):
        observation, _ = env.reset(seed=seed)
        images, states = [observation["image"]], [observation["state"]]
        for torque in np.linspace(-1, 1, 10):
            observation, *_ = env.step(np.array([torque, -torque]))
            images.append(observation["image"])
            states.append(observation["state"])
        return np.stack(images), np.stack(states), env.object_colours.copy()

    first, again, other = rollout(5), rollout(5), rollout(6)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[2], other[2])


def test_targets_in_ring_apart_and_coloured(env):
    for seed in range(20):
        env.reset(seed=seed)
        radii = np.linalg.norm(env.object_positions, axis=1)
        assert np.all((radii >= TARGET_RING[0]) & (radii <= TARGET_RING[1]))
        gaps = np.linalg.norm(env.object_positions[:, None] - env.object_positions[None], axis=-1)
        assert gaps[np.triu_indices(3, 1)].min() >= MIN_TARGET_SEPARATION
        rgba = env.model.geom_rgba[env._object_geoms, :3]
        np.testing.assert_allclose(rgba, env.object_colours, atol=1e-6)


def test_target_colour_is_visible_at_its_position():
    reach = ReachEnv(colour=(1.0, 0.0, 0.0), render_mode="rgb_array", render_size=(128, 128))
    try:
        reach.reset(seed=3)
        image = reach.render()
        x, y = reach.target_pos
        column, row = int((x + 0.32) / 0.64 * 128), int((0.32 - y) / 0.64 * 128)
        np.testing.assert_array_equal(image[row, column], [255, 0, 0])
    finally:
        reach.close()


def test_actions_are_clipped_to_the_box():
    clipped, huge = ReachEnv(), ReachEnv()
    try:
        clipped.reset(seed=2)
        huge.reset(seed=2)
        for _ in range(5):
            a, *_ = clipped.step(np.array([1.0, -1.0]))
            b, *_ = huge.step(np.array([50.0, -50.0]))
        np.testing.assert_array_equal(a["state"], b["state"])
        np.testing.assert_array_equal(clipped.data.ctrl, [1.0, -1.0])
    finally:
        clipped.close()
        huge.close()


def test_episode_truncates_at_fifty_steps_and_never_terminates(env):
    env.reset(seed=0)
    for step in range(1, EPISODE_STEPS + 1):
        _, reward, terminated, truncated, info = env.step(env.action_space.sample())
        assert not terminated
        assert truncated == (step == EPISODE_STEPS)
        assert ("is_success" in info) == (step == EPISODE_STEPS)
        assert reward == pytest.approx(-info["distance"])


# A fixed scene: the target and a decoy point 0.15 m from it, the arm starts far from both.
SUCCESS_SCENE = ReachScene(target_colour="red",
                           target_positions=[[0.0, 0.2], [-0.2, 0.0], [0.0, -0.2]])
DECOY = np.array([0.15, 0.2])


def drive(reach: ReachEnv, goals: list[np.ndarray]) -> list[dict]:
    """Noise-free PD toward goals[t] at step t; the infos of all steps."""
    infos = []
    for goal in goals:
        q = reach.joint_positions
        torque = KP * (inverse_kinematics(goal, q) - q) - KD * reach.joint_velocities
        infos.append(reach.step(torque)[4])
    return infos


def test_within_reach_only_before_the_last_ten_steps_is_failure():
    reach = ReachEnv(scene=SUCCESS_SCENE)
    try:
        reach.reset(seed=0)
        target = reach.target_pos
        infos = drive(reach, [target] * 30 + [DECOY] * 20)
        distances = np.array([info["distance"] for info in infos])
        assert distances[:40].min() < 0.05 and distances[40:].min() >= 0.05
        assert not infos[-1]["is_success"] and not reach.is_success()
        assert not any(info["success_so_far"] for info in infos)
    finally:
        reach.close()


def test_within_reach_during_the_last_ten_steps_is_success():
    reach = ReachEnv(scene=SUCCESS_SCENE)
    try:
        reach.reset(seed=0)
        target = reach.target_pos
        infos = drive(reach, [DECOY] * 36 + [target] * 14)
        distances = np.array([info["distance"] for info in infos])
        assert distances[:40].min() >= 0.05 and distances[40:].min() < 0.05
        assert infos[-1]["is_success"] and reach.is_success()
        first_inside = 40 + int(np.argmax(distances[40:] < 0.05))
        assert [info["success_so_far"] for info in infos] == [i >= first_inside
                                                              for i in range(50)]
    finally:
        reach.close()


def test_scene_pins_positions_colours_and_first_seed():
    scene = ReachScene(target_colour="red", distractor_colours=["green", "blue"],
                       target_positions=[[0.1, 0.1], [-0.1, 0.1], [0.0, -0.2]],
                       image_size=(32, 48), seed=11)
    reach, twin = ReachEnv(scene=scene), ReachEnv(scene=scene)
    try:
        observation, info = reach.reset()
        assert observation["image"].shape == (48, 32, 3)
        assert info["target_index"] == 0
        np.testing.assert_allclose(reach.target_pos, [0.1, 0.1])
        np.testing.assert_allclose(reach.object_colours, [[1, 0, 0], [0, 0.8, 0], [0, 0.2, 1]])
        np.testing.assert_array_equal(observation["state"], twin.reset()[0]["state"])
        assert not np.array_equal(observation["state"], twin.reset()[0]["state"])
    finally:
        reach.close()
        twin.close()


def test_reset_colour_option_overrides_the_sampled_colour(env):
    env.reset(seed=0, options={"colour": [0.2, 0.4, 0.6]})
    assert env.target_colour == pytest.approx((0.2, 0.4, 0.6))
    with pytest.raises(ValueError, match="unknown reset options"):
        env.reset(options={"position": [0, 0]})


def test_reach_state_from_joints_matches_the_simulated_observation():
    env = ReachEnv(image_size=(8, 8))
    observation, _ = env.reset(seed=5)
    for _ in range(20):
        observation, *_ = env.step(np.array([0.7, -0.4]))
    state = observation["state"]
    np.testing.assert_allclose(reach_state(state[:2], state[2:4]), state, atol=1e-5)
    env.close()
