"""The Sawyer twin (place, sawyer-push): Gymnasium contract, joints, determinism, input
checks, target-vs-distractor success, the scripted experts' success rates, and the human
demonstrator domain (no robot, a hand, its own camera and backgrounds, the person's
experts)."""

import json
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import sim
from sim.appearance import backgrounds
from sim.colours import NAMED_COLOURS
from sim.objects import UnknownObjectError, catalogue
from sim.sawyer import (
    EPISODE_STEPS,
    GOAL_RADIUS,
    HAND_SPEED_LIMIT,
    FINGER_JOINTS,
    JOINT_NAMES,
    SUCCESS_STEPS,
    SawyerPlaceEnv,
    SawyerPushEnv,
    robot_state,
)
from sim.sawyer_expert import (
    PlaceExpert,
    PushExpert,
    SawyerHandPlaceExpert,
    SawyerHandPushExpert,
    run_episode,
    successes,
)

FAMILIES = {"place": SawyerPlaceEnv, "sawyer-push": SawyerPushEnv}
LOOK = {"table": 0, "background": "train-bg00"}      # a fixed appearance ...
FIXED_TASKS = {                                      # ... and objects: no model rebuilds
    sim.SAWYER_PLACE_ID: {"object_name": "train-004-box", **LOOK},
    sim.SAWYER_PUSH_ID: {"object_name": "train-004-box", "distractor_name": "train-009-sphere",
                         **LOOK},
}


@pytest.fixture(scope="module")
def place():
    env = SawyerPlaceEnv(**LOOK)
    yield env
    env.close()


@pytest.fixture(scope="module")
def push():
    env = SawyerPushEnv(**LOOK)
    yield env
    env.close()


@pytest.mark.parametrize("demonstrator", ["robot", "human"])
@pytest.mark.parametrize("env_id", FIXED_TASKS)
def test_check_env_passes_through_the_registered_id(env_id, demonstrator):
    made = gym.make(env_id, render_mode="rgb_array", demonstrator=demonstrator,
                    **FIXED_TASKS[env_id])
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            check_env(made.unwrapped)
    finally:
        made.close()
    # the only advice check_env gives is about the state Box being unbounded (and the
    # person's actions being m/s and rad/s, not normalized)
    advice = ("infinity", "normalized") if demonstrator == "human" else ("infinity",)
    assert all(any(word in str(warning.message) for word in advice) for warning in caught)


@pytest.mark.parametrize("family", FAMILIES)
def test_arm_joints_are_the_real_sawyers_and_lead_the_state(family, place, push):
    env = place if family == "place" else push
    observation, _ = env.reset(seed=0)
    assert JOINT_NAMES == tuple(f"right_j{i}" for i in range(7))
    names = [env.model.joint(i).name for i in range(env.model.njnt)]
    assert names[:7] == list(JOINT_NAMES)
    state = observation["state"]
    assert state.shape == (18,) and state.dtype == np.float32
    np.testing.assert_allclose(state[:7], env.joint_positions, atol=1e-6)
    np.testing.assert_allclose(state[7:14], env.joint_velocities, atol=1e-5)
    np.testing.assert_allclose(state[14:17], env.ee_pos, atol=1e-6)
    assert state[17] == pytest.approx(env.gripper_opening, abs=1e-6)


def test_the_robot_state_follows_from_the_joint_states_alone(place):
    """What a real Sawyer's driver reports (arm and finger joints) gives the twin's state."""
    observation, _ = place.reset(seed=3)
    for _ in range(3):  # mid-motion, the gripper closed on the held object
        observation, *_ = place.step(np.array([0.5, -0.3, 0.2, 1.0], np.float32))
    names = JOINT_NAMES + FINGER_JOINTS
    q = np.array([place.data.qpos[place.model.joint(n).qposadr[0]] for n in names])
    qd = np.array([place.data.qvel[place.model.joint(n).dofadr[0]] for n in names])
    state = robot_state(q, qd)
    np.testing.assert_allclose(state, observation["state"], atol=1e-5)
    opened = robot_state(np.concatenate([q[:7], [0.0, 0.0]]), qd)
    assert opened[17] > state[17] + 0.01  # fingers apart: a wider opening


@pytest.mark.parametrize("family", FAMILIES)
def test_same_seed_same_episode_and_different_seed_differs(family):
    def rollout(seed):
        env = FAMILIES[family]()           # a fresh env each time: nothing carried over
        try:
            observation, _ = env.reset(seed=seed)
            images, states = [observation["image"]], [observation["state"]]
            for step in range(3):
                observation, *_ = env.step(np.array([0.5, -0.5, -0.3, 1.0]))
                images.append(observation["image"])
                states.append(observation["state"])
            return np.stack(images), np.stack(states), json.dumps(env.scene_description())
        finally:
            env.close()

    first, again, other = rollout(11), rollout(11), rollout(12)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert first[2] != other[2]


def test_image_size_is_width_by_height_and_can_be_large():
    env = SawyerPushEnv(image_size=(125, 100), render_mode="rgb_array", render_size=(160, 120),
                        **LOOK)
    try:
        observation, _ = env.reset(seed=0)
        assert observation["image"].shape == (100, 125, 3)
        assert observation["image"].dtype == np.uint8
        assert env.render().shape == (120, 160, 3)
    finally:
        env.close()


def test_actions_are_clipped_to_the_box():
    clipped, huge = SawyerPushEnv(**LOOK), SawyerPushEnv(**LOOK)
    try:
        clipped.reset(seed=2)
        huge.reset(seed=2)
        for _ in range(4):
            a, *_ = clipped.step(np.array([1.0, -1.0, -1.0, 1.0]))
            b, *_ = huge.step(np.array([40.0, -7.0, -3.0, 9.0]))
        np.testing.assert_array_equal(a["state"], b["state"])
    finally:
        clipped.close()
        huge.close()


def test_bad_actions_and_stepping_before_reset_are_refused(push):
    fresh = SawyerPushEnv(render_mode="rgb_array")
    for call in (lambda: fresh.step(np.zeros(4)), fresh.render):
        with pytest.raises(RuntimeError, match="reset"):
            call()
    push.reset(seed=0)
    with pytest.raises(ValueError, match="shape"):
        push.step(np.zeros(3))
    with pytest.raises(ValueError, match="finite"):
        push.step(np.array([0.0, np.nan, 0.0, 0.0]))


@pytest.mark.parametrize("kwargs, error, match", [
    ({"split": "test"}, ValueError, "split"),
    ({"image_size": (0, 64)}, ValueError, "image_size"),
    ({"render_mode": "human"}, ValueError, "render_mode"),
    ({"table": 99}, ValueError, "table"),
    ({"background": "train-bg99"}, ValueError, "background"),
    ({"object_name": "train-999-box"}, UnknownObjectError, "unknown object"),
    ({"demonstrator": "alien"}, ValueError, "demonstrator"),
    ({"background_split": "test"}, ValueError, "background_split"),
])
@pytest.mark.parametrize("family", FAMILIES)
def test_bad_constructor_arguments_are_named(family, kwargs, error, match):
    with pytest.raises(error, match=match):
        FAMILIES[family](**kwargs)


def test_bad_task_choices_are_named(place, push):
    with pytest.raises(ValueError, match="colour"):
        SawyerPlaceEnv(colour="mauve")
    first, second = (obj.name for obj in catalogue("train")[:2])
    with pytest.raises(ValueError, match="different objects"):
        SawyerPushEnv(object_name=first, distractor_name=first)
    with pytest.raises(ValueError, match="unknown reset options"):
        place.reset(seed=0, options={"distractor": second})
    with pytest.raises(ValueError, match="different objects"):
        push.reset(seed=0, options={"object": first, "distractor": first})


def test_task_options_set_the_episode_and_a_fixed_look_is_not_rebuilt(place, push):
    held = catalogue("train")[5].name
    place.reset(seed=0, options={"colour": "red", "object": held})
    model = place.model
    place.reset(seed=1, options={"colour": "blue", "object": held})
    assert place.model is model                         # only colours and positions changed
    assert place.target_colour == NAMED_COLOURS["blue"]
    np.testing.assert_allclose(place.model.geom_rgba[place._container_geoms[place.target_index]],
                               [[*NAMED_COLOURS["blue"], 1.0]] * 5)
    target, distractor = (obj.name for obj in catalogue("heldout")[:2])
    push.reset(seed=0, options={"object": target, "distractor": distractor})
    scene = json.loads(json.dumps(push.scene_description()))
    assert scene["family"] == "sawyer-push"
    assert [obj["name"] for obj in scene["objects"]] == [target, distractor]
    assert scene["task"]["object"] == target


def _shaken_loose(env: SawyerPlaceEnv, steps: int = 15) -> float:
    """How far (m) the object moves relative to the fingertips while the arm jerks about
    with the gripper closed."""
    offset = env.object_pos - env.ee_pos
    rng = np.random.default_rng(0)
    for _ in range(steps):
        env.step(np.append(rng.uniform(-1, 1, 3), 1.0))
    return float(np.linalg.norm(env.object_pos - env.ee_pos - offset))


@pytest.mark.parametrize("name", ["train-022-dumbbell", "train-059-l_block", "train-061-sphere",
                                  "heldout-016-cross"])
def test_the_object_starts_held_and_stays_in_the_gripper(place, name):
    place.reset(seed=3, options={"object": name})
    assert place.object_in_gripper()
    assert _shaken_loose(place) < 0.01
    assert place.pads_touching() == 2


def test_containers_are_apart_and_the_target_has_the_task_colour(place):
    for seed in range(10):
        place.reset(seed=seed, options={"colour": "green", "object": "train-004-box"})
        gaps = np.linalg.norm(place.container_positions[:, None]
                              - place.container_positions[None], axis=-1)
        assert gaps[np.triu_indices(3, 1)].min() >= 0.19
        assert place.target_colour == NAMED_COLOURS["green"]
        others = np.delete(place.container_colours, place.target_index, axis=0)
        assert not np.any(np.all(np.isclose(others, NAMED_COLOURS["green"]), axis=1))


class AimedAt:
    """``env`` as an expert sees it, but with a distractor container as the target."""

    def __init__(self, env: SawyerPlaceEnv, index: int):
        self._env, self._index = env, index

    def __getattr__(self, name):
        return getattr(self._env, name)

    @property
    def target_pos(self) -> np.ndarray:
        return self._env.container_positions[self._index]


def test_placing_into_a_distractor_container_does_not_succeed(place):
    place.reset(seed=4)
    distractor = (place.target_index + 1) % 3
    expert = PlaceExpert(seed=0)
    for _ in range(EPISODE_STEPS):
        action = np.clip(expert.command(AimedAt(place, distractor)), -1, 1)
        *_, info = place.step(action)
    assert place.in_container(distractor)
    assert not place.in_container(place.target_index)
    assert not info["is_success"] and place.success_steps == 0


def test_placing_into_the_target_container_succeeds(place):
    assert run_episode(place, PlaceExpert(seed=1), seed=4)
    assert place.in_container(place.target_index)
    assert place.success_steps >= SUCCESS_STEPS


def _put(env: SawyerPushEnv, name: str, xy: np.ndarray) -> None:
    for axis, value in zip("xy", xy):
        env.data.qpos[env.model.joint(f"{name}_{axis}").qposadr[0]] = value


def test_the_distractor_on_the_goal_does_not_count_but_the_target_does(push):
    push.reset(seed=5)
    hold = np.array([0.0, 0.0, 0.0, 1.0])
    _put(push, "distractor", push.goal_pos)
    for _ in range(SUCCESS_STEPS + 2):
        push.step(hold)
    assert np.linalg.norm(push.object_xy("distractor") - push.goal_pos) < GOAL_RADIUS
    assert push.success_steps == 0 and not push.is_success()
    _put(push, "distractor", push.goal_pos + [0.0, 0.15])
    _put(push, "target", push.goal_pos)
    for _ in range(SUCCESS_STEPS):
        _, reward, *_ = push.step(hold)
    assert push.is_success() and reward == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("family", FAMILIES)
def test_episode_truncates_at_one_hundred_steps_and_never_terminates(family, place, push):
    env = place if family == "place" else push
    env.reset(seed=0)
    for step in range(1, EPISODE_STEPS + 1):
        _, reward, terminated, truncated, info = env.step(env.action_space.sample())
        assert not terminated and truncated == (step == EPISODE_STEPS)
        assert ("is_success" in info) == (step == EPISODE_STEPS)
        assert reward == pytest.approx(-info["distance"])


def test_expert_actions_stay_in_the_box(place):
    place.reset(seed=0)
    expert = PlaceExpert(noise_std=5.0, seed=0)
    actions = np.array([expert.act(place) for _ in range(20)])
    assert actions.dtype == np.float32 and np.all(np.abs(actions) <= 1.0)
    with pytest.raises(ValueError, match="noise_std"):
        PushExpert(noise_std=-0.1)


@pytest.mark.parametrize("family", FAMILIES)
def test_noisy_expert_succeeds_on_new_tasks(family):
    assert sum(successes(family, episodes=10, seed=500)) >= 9


@pytest.mark.slow
@pytest.mark.parametrize("family", FAMILIES)
def test_noisy_expert_succeeds_at_least_95_percent_over_200_episodes(family):
    assert np.mean(successes(family, episodes=200, seed=0)) >= 0.95


@pytest.mark.slow
@pytest.mark.parametrize("split", ["train", "heldout"])
def test_every_catalogue_object_is_held_by_the_gripper(split):
    env = SawyerPlaceEnv(split=split, image_size=(8, 8), **LOOK)
    try:
        for obj in catalogue(split):
            env.reset(seed=1, options={"object": obj.name})
            assert env.object_in_gripper(), obj.name
            assert _shaken_loose(env) < 0.01, obj.name
            assert env.object_in_gripper(), obj.name
    finally:
        env.close()


# -- the human demonstrator (thesis L3658-L3672) ------------------------------------------

ROBOT_BODIES = {"base", "pedestal", "right_l0", "right_l6", "rightclaw", "leftclaw", "mocap"}


@pytest.fixture(scope="module")
def human_place():
    env = SawyerPlaceEnv(demonstrator="human", object_name="train-004-box", **LOOK)
    yield env
    env.close()


@pytest.mark.parametrize("family", FAMILIES)
def test_the_human_domain_has_a_hand_and_nothing_of_the_robot(family):
    env = FAMILIES[family](demonstrator="human", **LOOK)
    try:
        observation, _ = env.reset(seed=0)
        assert observation["state"].shape == ((8,) if family == "place" else (7,))
        np.testing.assert_allclose(env.action_space.high[:3], HAND_SPEED_LIMIT)
        model = env.model
        bodies = {model.body(i).name for i in range(model.nbody)}
        joints = {model.joint(i).name for i in range(model.njnt)}
        geoms = {model.geom(i).name for i in range(model.ngeom)}
        assert not bodies & ROBOT_BODIES and not joints & set(JOINT_NAMES)
        assert model.nu == 0 and not any("pad" in name or "claw" in name for name in geoms)
        assert model.body("hand").mocapid[0] >= 0 and {"hand_palm", "hand_forearm"} <= geoms
        assert model.neq == (1 if family == "place" else 0)    # only the hand's carry weld
        np.testing.assert_allclose(observation["state"][:3], env.ee_pos, atol=1e-6)
        np.testing.assert_allclose(observation["state"][3:7],
                                   env.data.xquat[model.body("hand").id], atol=1e-6)
        assert env.scene_description()["demonstrator"] == "human"
    finally:
        env.close()


@pytest.mark.parametrize("family", FAMILIES)
def test_human_demos_repeat_with_the_seed_and_differ_from_robot_demos_in_view(family):
    def first_image(seed, demonstrator):
        env = FAMILIES[family](demonstrator=demonstrator)     # fresh: nothing carried over
        try:
            observation, _ = env.reset(seed=seed)
            return observation["image"], env.task, env.camera_name
        finally:
            env.close()

    human, again, robot = first_image(7, "human"), first_image(7, "human"), first_image(7, "robot")
    np.testing.assert_array_equal(human[0], again[0])
    assert human[1] == robot[1]                                # the same task ...
    assert human[2] != robot[2]                                # ... seen by another camera
    assert np.abs(human[0].astype(int) - robot[0]).mean() > 20


def test_human_backgrounds_come_from_background_split_unless_fixed():
    env = SawyerPushEnv(demonstrator="human", image_size=(8, 8), background_split="heldout",
                        object_name="train-004-box", distractor_name="train-009-sphere")
    try:
        drawn = set()
        for seed in range(6):
            env.reset(seed=seed)
            drawn.add(env.task["background"])
        cloth = env.look.table
        env.reset(seed=0, options={"background": "train-bg03"})
        assert env.look.background.name == "train-bg03"
    finally:
        env.close()
    assert drawn == {background.name for background in backgrounds("heldout")}
    assert cloth in {background.cloth for background in backgrounds("heldout")}


def test_the_hand_carries_the_object_until_it_lets_go_and_can_take_it_again(human_place):
    env = human_place
    observation, _ = env.reset(seed=3)
    assert env.object_in_gripper() and observation["state"][7] == 1.0
    offset = env.object_pos - env.ee_pos
    rng = np.random.default_rng(0)
    for _ in range(15):
        env.step(np.append(rng.uniform(-HAND_SPEED_LIMIT, HAND_SPEED_LIMIT, 3), 1.0))
    assert np.linalg.norm(env.object_pos - env.ee_pos - offset) < 0.005
    for _ in range(10):
        observation, *_ = env.step(np.array([0.0, 0.0, 0.0, -1.0]))
    assert not env.object_in_gripper() and observation["state"][7] == 0.0
    assert env.object_pos[2] < env.held_object.half_height + 0.06     # it fell
    for _ in range(5):                               # too far from the palm to take
        env.step(np.array([0.0, 0.0, 0.1, 1.0]))
    assert not env.object_in_gripper()


def test_the_hand_takes_the_object_again_within_reach(human_place):
    env = human_place
    env.reset(seed=4)
    while env.object_pos[2] - env.held_object.half_height > 0.01:    # down to the table
        env.step(np.array([0.0, 0.0, -0.1, 1.0]))
    for grip in (-1.0, 1.0):                       # let go (it drops onto the table), hold
        env.step(np.array([0.0, 0.0, 0.0, grip]))
    assert env.object_in_gripper()
    height = env.object_pos[2]
    for _ in range(3):
        env.step(np.array([0.0, 0.0, 0.2, 1.0]))
    assert env.object_pos[2] > height + 0.05


@pytest.mark.parametrize("family", FAMILIES)
def test_the_persons_expert_succeeds_on_new_tasks(family):
    assert sum(successes(family, episodes=10, seed=500, demonstrator="human")) >= 9


def test_hand_expert_actions_stay_in_the_box_and_pace_is_checked(human_place):
    human_place.reset(seed=0)
    expert = SawyerHandPlaceExpert(noise_std=5.0, seed=0)
    actions = np.array([expert.act(human_place) for _ in range(20)])
    assert actions.dtype == np.float32
    assert np.all(np.abs(actions) <= human_place.action_space.high)
    with pytest.raises(ValueError, match="speed"):
        SawyerHandPushExpert(speed=0.0)


@pytest.mark.slow
@pytest.mark.parametrize("family", FAMILIES)
def test_the_persons_expert_succeeds_at_least_95_percent_over_200_episodes(family):
    assert np.mean(successes(family, episodes=200, seed=0, demonstrator="human")) >= 0.95
