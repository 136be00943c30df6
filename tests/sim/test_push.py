"""The push twin: interface, success rule, human domain and the scripted experts."""

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from sim.geometry import segment_distance
from sim.objects import UnknownObjectError, catalogue
from sim.push import (
    APPROACH_ROOM,
    SHOULDER,
    WORK_BEARINGS,
    WORK_RADII,
    PushEnv,
    PushTask,
    task_from_dict,
)
from sim.push_expert import ArmPushExpert, HandPushExpert
from sim.push_scene import JOINT_NAMES

TASK = PushTask(catalogue("train")[10].name, catalogue("train")[20].name, table=2)


@pytest.fixture(scope="module", params=["robot", "human"])
def env(request):
    env = PushEnv(demonstrator=request.param, task=TASK)
    yield env
    env.close()


def test_passes_gymnasium_checks(env):
    check_env(env, skip_render_check=True)


def test_registered_id_makes_the_push_twin():
    import gymnasium as gym

    from sim import PUSH_ID

    made = gym.make(PUSH_ID, demonstrator="human", task=TASK)
    observation, _ = made.reset(seed=0)
    assert observation["state"].shape == (7,) and made.unwrapped.demonstrator == "human"
    made.close()


def test_arm_joints_carry_the_pr2_names():
    env = PushEnv(task=TASK)
    env.reset(seed=0)
    names = [env.model.joint(i).name for i in range(env.model.njnt)]
    assert names[:7] == list(JOINT_NAMES)
    assert all(name.startswith("r_") and name.endswith("_joint") for name in JOINT_NAMES)
    env.close()


def test_human_domain_has_a_hand_and_no_robot(env):
    env.reset(seed=1)
    bodies = {env.model.body(i).name for i in range(env.model.nbody)}
    if env.demonstrator == "human":
        assert "hand" in bodies and "r_shoulder_pan_link" not in bodies
        assert env.observation_space["state"].shape == (7,)
    else:
        assert "r_shoulder_pan_link" in bodies and "hand" not in bodies
        assert env.observation_space["state"].shape == (21,)


def test_same_seed_same_scene(env):
    first, _ = env.reset(seed=7)
    again, _ = env.reset(seed=7)
    other, _ = env.reset(seed=8)
    np.testing.assert_array_equal(first["image"], again["image"])
    np.testing.assert_array_equal(first["state"], again["state"])
    assert not np.array_equal(first["image"], other["image"])


def _put(env: PushEnv, body: str, xy: np.ndarray) -> None:
    env.data.qpos[env._joint_qpos[f"{body}_x"]] = xy[0] - 0.45
    env.data.qpos[env._joint_qpos[f"{body}_y"]] = xy[1]


def test_success_needs_the_target_on_the_goal_for_ten_steps(env):
    env.reset(seed=3)
    _put(env, "distractor", env.goal_pos)             # the distractor does not count
    for _ in range(15):
        env.step(np.zeros(env.action_space.shape))
    assert not env.is_success()
    env.reset(seed=3)
    _put(env, "target", env.goal_pos + [0.12, 0.0])  # inside: 0.0144 < 0.017 m^2
    for step in range(10):
        assert not env.is_success()
        _, _, _, _, info = env.step(np.zeros(env.action_space.shape))
    assert env.is_success() and info["steps_on_goal"] == 10
    env.reset(seed=3)
    _put(env, "target", env.goal_pos + [0.14, 0.0])  # outside: 0.0196 m^2
    for _ in range(12):
        env.step(np.zeros(env.action_space.shape))
    assert not env.is_success()


def test_episode_lasts_100_steps_and_actions_are_clipped():
    env = PushEnv(task=TASK)
    env.reset(seed=0)
    env.step(np.full(7, 50.0))
    np.testing.assert_array_equal(env.data.ctrl, np.full(7, 2.0))
    truncated = False
    for step in range(99):
        _, _, _, truncated, info = env.step(np.zeros(7))
    assert truncated and "is_success" in info and env.steps == 100
    env.close()


def _in_working_annulus(point: np.ndarray) -> bool:
    offset = point[:2] - SHOULDER
    bearing = np.degrees(np.arctan2(offset[1], offset[0]))
    return (WORK_RADII[0] <= np.linalg.norm(offset) <= WORK_RADII[1]
            and WORK_BEARINGS[0] <= bearing <= WORK_BEARINGS[1])


def test_layouts_give_target_and_distractor_the_same_role():
    """Both objects lie a push away from the goal, each off the other's path, with room
    behind each for the pusher inside the working annulus: so only the demonstration says
    which one to push (not which object the arm could push at all)."""
    env = PushEnv(task=TASK)
    for seed in range(20):
        env.reset(seed=seed)
        target, goal = env.object_pos("target"), env.goal_pos
        distractor = env.object_pos("distractor")
        for start, spec in ((target, env.target_spec), (distractor, env.distractor_spec)):
            assert 0.18 - 1e-9 <= np.linalg.norm(goal - start) <= 0.25 + 1e-9
            away = (goal - start)[:2] / np.linalg.norm((goal - start)[:2])
            stand = start[:2] - away * (spec.footprint_radius + APPROACH_ROOM)
            assert _in_working_annulus(start) and _in_working_annulus(stand)
        assert segment_distance(distractor, target, goal) > 0.1
        assert segment_distance(target, distractor, goal) > 0.1
    env.close()


def test_neither_role_has_a_side_of_the_goal_of_its_own():
    """Pushable pairs mostly straddle the goal, one on each side; were one role always
    drawn first, it would take the roomier side and so give the target away."""
    env = PushEnv(task=TASK)
    sides = []
    for seed in range(300):
        env.reset(seed=seed)
        offsets = [env.object_pos(body) - SHOULDER for body in ("target", "distractor")]
        goal = env.goal_pos - SHOULDER
        bearing = [np.arctan2(o[1], o[0]) - np.arctan2(goal[1], goal[0]) for o in offsets]
        sides.append(bearing[0] > bearing[1])
    env.close()
    assert 0.4 < np.mean(sides) < 0.6


def test_both_cameras_frame_the_layouts(env):
    """The red goal disc (16 cm across) lies wholly in the 64x64 view and covers at least
    140 pixels (166-283 measured), so an object (9-10 cm) is about 10 pixels wide. Framed
    from 1.3 m the disc took 54-66 and an object 5, too few to tell two objects apart."""
    for seed in range(10):
        env.reset(seed=seed)
        image = env.render_view((64, 64)).astype(int)
        red = (image[..., 0] > 180) & (image[..., 1] < 60) & (image[..., 2] < 60)
        rows, columns = np.nonzero(red)
        assert red.sum() >= 140, (seed, red.sum())
        assert 0 < rows.min() and rows.max() < 63 and 0 < columns.min() and columns.max() < 63


def test_unknown_objects_are_named():
    with pytest.raises(UnknownObjectError, match="train-999-box"):
        task_from_dict({"target": "train-999-box", "distractor": "train-001-box"}, "train")


@pytest.mark.parametrize("demonstrator,expert", [("robot", ArmPushExpert), ("human", HandPushExpert)])
def test_scripted_experts_push_the_target_onto_the_goal(demonstrator, expert):
    env = PushEnv(demonstrator=demonstrator)
    wins = 0
    for seed in range(8):
        env.reset(seed=seed)
        policy = expert(seed=seed)
        done = False
        while not done:
            _, _, terminated, truncated, _ = env.step(policy.act(env))
            done = terminated or truncated
        wins += env.is_success()
    env.close()
    assert wins >= 7
