"""The MuJoCo twins the sim twin node can serve, each behind one small adapter.

``SimTwinNode`` runs any twin the same way (step at ``rate_hz``, publish what a driver
would, serve resets and scripted demos); an adapter says what differs between twins:
the env it builds, the scripted teleoperator, the joints and the command box, the
camera's intrinsics, the task's own parameters and what ``sim/episode`` reports.

- ``reach``: the 2-joint reach twin (torques in [-1, 1]); the task is a colour, the
  ``colour`` parameter or one drawn from the split and the seed.
- ``push``: the PR2-like push twin (the 7 PR2 right-arm joints, torques in [-2, 2]);
  the task is a (target, distractor, table) triple, the ``task`` parameter (JSON, as
  ``sim.push.task_from_dict`` reads it) or one drawn from the split and the seed.
- ``arm``: GBAC's 7-DoF arm carrying an object to a goal under a force on the object
  (``sim.arm_force``, thesis L2644-L2651; the PR2 right-arm joints, torques in [-2, 2]).
  The ``variant`` parameter is the force: ``constant`` (0.5 N, task k), ``strong`` (3x
  training's strongest, task l), ``changing`` (redrawn every 50 steps, task m) or
  ``train``. Besides the joints it publishes what an object tracker would: the carried
  object's and the goal's positions on ``object_pose`` and ``goal_pose``
  (geometry_msgs/PoseStamped, frame ``world``); a new goal is drawn at every reset.
  ``sim/episode`` reports the episode's return (the twin's reward, minus the squared
  distance to the goal, summed) and the object's final distance. It has no scripted
  demonstrator: the mpc node learns from its own transitions.
- ``arrange``: FLO's object arrangement (``sim.arrange``, thesis ch. 8.2, L4800-L4818): a
  pair of objects on a table and a pusher rod, driven by end-effector velocities on
  ``cmd/ee_twist`` (geometry_msgs/TwistStamped, linear x and y in m/s, clamped to
  ``PUSHER_SPEED``; one step is the FLO planner's action of 0.1 s). The task (which object
  goes where relative to which) is the ``task`` parameter (JSON, :func:`arrange_task`) or
  one drawn from the split and the seed. Every reset lays the pair out as the ``flo-plan``
  suite starts a task: a near miss of the relation, with the rod beside the first object. It publishes the camera
  (64x64, the FLO classifier's input at the default image size), ``joint_states`` (the
  rod's ``pusher_x``, ``pusher_y`` and the arm's 7 joints, which stand still) and, as an
  object tracker would, ``object_pose/first`` and ``object_pose/second`` (position and
  yaw). ``sim/episode`` reports whether the relation truly holds at the end and, as the
  distance, how far (m) the pair is from it (``sim.relations.violation``). No scripted
  demonstrator: the planner node plans from goal pictures.

Who demonstrates on ``sim/demonstrate`` (the node's ``demonstrator`` parameter) is one of
the twin's ``demonstrators``: ``robot`` (both twins: a scripted teleoperator drives the
arm in the robot's own env) or ``human`` (push only: a person's hand pushes the target in
a human-demonstrator PushEnv of the same task, filmed by the camera that faces the
person, in front of the training backgrounds as the ``push-human`` suite shows them).

Each adapter stays fixed on its task until the node restarts, so every demo and trial of
a session is the same task, as one-shot imitation needs.
"""
from __future__ import annotations

import dataclasses
import json
from abc import ABC, abstractmethod
from typing import Any, NamedTuple, Protocol

import gymnasium as gym
import mujoco
import numpy as np
from gymnasium import spaces
from rclpy.node import Node

from adaptation_node.params import declare
from adaptation_node.robots import ARM_TORQUE_LIMIT, PR2_JOINTS
from goal_classifier.plan_eval import start_configuration
from goal_classifier.predictive import SUBSTEPS, TwinModel
from sim import arm_force
from sim.arrange import ArrangeTask, ArrangeTwin, pair_of
from sim.arrange import sample_task as sample_arrange_task
from sim.arrange_scene import ARRANGE_CAMERA, body_names
from sim.objects import object_by_name
from sim.relations import RELATIONS, holds, violation
from sim.colours import Colour, resolve_colour, task_colour
from sim.datagen_families import HUMAN_SPEEDS
from sim.expert import ReachExpert
from sim.push import EPISODE_STEPS as PUSH_STEPS
from sim.push import TORQUE_LIMIT, PushEnv, PushTask, sample_task, task_from_dict
from sim.push_expert import ArmPushExpert, HandPushExpert
from sim.push_scene import JOINT_NAMES as PUSH_JOINTS
from sim.push_scene import HUMAN_CAMERA_POSE, ROBOT_CAMERA_POSE
from sim.reach import EPISODE_STEPS as REACH_STEPS
from sim.reach import JOINT_NAMES as REACH_JOINTS
from sim.reach import ReachEnv

# The reach camera is orthographic; it is published as the pinhole that sees the same
# extent at the camera's height.
REACH_EXTENT_M, REACH_CAMERA_HEIGHT_M = 0.64, 1.0
REACH_FOVY_DEG = float(np.degrees(2.0 * np.arctan(REACH_EXTENT_M / 2.0 / REACH_CAMERA_HEIGHT_M)))
TRACKER_FRAME = "world"     # the frame the tracked positions are given in
ARM_SUCCESS_M = 0.05        # the arm twin counts an episode ending this near the goal a success
ARM_FOVY_DEG = 45.0         # MuJoCo's default free camera, which films the arm twin
PUSHER_SPEED = 0.3          # m/s: the FLO planner's largest move, 3 cm a 0.1 s step
PUSHER_JOINTS = ("pusher_x", "pusher_y")
ARRANGE_STEPS = 40          # 4 s of the arrangement twin
ARRANGE_POSES = ("object_pose/first", "object_pose/second")
TASK_FIELDS = ("first", "second", "relation", "table")   # what the task parameter may set


class Teleoperator(Protocol):
    """A scripted operator: the command for the env's current state."""

    def act(self, env: gym.Env) -> np.ndarray: ...


class Camera(NamedTuple):
    """A view as the image header and camera_info tell it."""

    frame_id: str
    fovy_deg: float     # vertical field of view


class Twin(ABC):
    """What the sim twin node needs from one twin; the subclasses fill it in.

    Constructed in the node's ``__init__`` (it declares the task's parameters there);
    ``make_env`` is called on the simulation thread, which owns the GL context."""

    joint_names: tuple[str, ...]
    command_limit: float          # every command is clamped to [-limit, limit]
    episode_steps: int            # the default episode length
    cameras: dict[str, Camera]    # who can demonstrate -> the camera filming them; the
                                  # "robot" camera also films every trial
    tracked_topics: tuple[str, ...] = ()   # PoseStamped topics of ``tracked``
    twist_axes = 0                # > 0: commands are cmd/ee_twist's first linear axes

    def __init__(self, node: Node, split: str, seed: int, image_size: tuple[int, int]) -> None:
        self.node, self.split, self.seed, self.image_size = node, split, seed, image_size

    @property
    def demonstrators(self) -> list[str]:
        """Who can demonstrate on this twin."""
        return sorted(self.cameras)

    @abstractmethod
    def make_env(self, demonstrator: str = "robot") -> gym.Env:
        """The env ``demonstrator`` acts in, built on the simulation thread."""

    def reset_options(self) -> dict[str, Any] | None:
        """``env.reset`` options that keep the session's task."""
        return None

    def joints(self, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Joint positions and velocities from the observation's ``state``."""
        count = len(self.joint_names)
        return state[:count], state[count:2 * count]

    @property
    def command_size(self) -> int:
        """How many values a command holds: joint torques, or twist axes."""
        return self.twist_axes or len(self.joint_names)

    def tracked(self, state: np.ndarray) -> dict[str, np.ndarray]:
        """What an object tracker would publish: ``tracked_topics`` -> position (x, y, z in
        ``TRACKER_FRAME``) and, where a fourth value follows, the yaw about z (rad), from
        the observation's ``state``."""
        return {}

    @abstractmethod
    def teleoperator(self, demonstrator: str, noise_std: float, seed: int) -> Teleoperator:
        """The scripted ``demonstrator`` of one demonstration."""

    @abstractmethod
    def report(self, env: gym.Env) -> dict[str, Any]:
        """What ``sim/episode`` tells about the task, besides success and distance."""

    @abstractmethod
    def describe(self, env: gym.Env) -> str:
        """One line on the freshly reset scene, the answer of ``sim/reset``."""


class ReachTwin(Twin):
    """Reach the disc of the session's colour (see the module docstring)."""

    joint_names = REACH_JOINTS
    command_limit = 1.0
    episode_steps = REACH_STEPS
    cameras = {"robot": Camera("overhead", REACH_FOVY_DEG)}

    def __init__(self, node: Node, split: str, seed: int, image_size: tuple[int, int]) -> None:
        super().__init__(node, split, seed, image_size)
        self.colour = self._colour(declare(
            node, "colour", "", "reach task colour (name or 'r,g,b'); empty: drawn once"))

    def _colour(self, text: str) -> Colour:
        """The ``colour`` parameter as RGB, or a colour of the split drawn from the seed."""
        if text:
            try:
                return resolve_colour([float(c) for c in text.split(",")] if "," in text else text)
            except ValueError as error:
                self.node.get_logger().error(f"colour parameter: {error}; drawing one instead")
        return task_colour(self.split, np.random.default_rng(self.seed))

    def make_env(self, demonstrator: str = "robot") -> gym.Env:
        return ReachEnv(split=self.split, image_size=self.image_size)

    def reset_options(self) -> dict[str, Any]:
        return {"colour": self.colour}

    def teleoperator(self, demonstrator: str, noise_std: float, seed: int) -> Teleoperator:
        return ReachExpert(noise_std=noise_std, seed=seed)

    def report(self, env: gym.Env) -> dict[str, Any]:
        scene = env.scene_description()
        return {"target_colour": scene["target_colour"], "target_pos": scene["target_pos"]}

    def describe(self, env: gym.Env) -> str:
        scene = env.scene_description()
        return f"colour {scene['target_colour']} at {scene['target_pos']}"


class PushTwin(Twin):
    """Push the session's target onto the goal past its distractor (module docstring)."""

    joint_names = PUSH_JOINTS
    command_limit = TORQUE_LIMIT
    episode_steps = PUSH_STEPS
    cameras = {"robot": Camera("front", ROBOT_CAMERA_POSE.fovy),  # faces the arm across the table
               "human": Camera("human_view", HUMAN_CAMERA_POSE.fovy)}  # faces the person

    def __init__(self, node: Node, split: str, seed: int, image_size: tuple[int, int]) -> None:
        super().__init__(node, split, seed, image_size)
        self.task = self._task(declare(
            node, "task", "", 'push task as JSON {"target", "distractor", "table"}; '
            "empty: drawn once"))

    def _task(self, text: str) -> PushTask:
        """The ``task`` parameter, or a task of the split drawn from the seed."""
        if text:
            try:
                return task_from_dict(json.loads(text), self.split)
            except (ValueError, KeyError, TypeError) as error:  # bad JSON, fields, objects
                self.node.get_logger().error(
                    f"task parameter {text!r}: {error}; drawing one instead")
        return sample_task(self.split, np.random.default_rng(self.seed))

    def make_env(self, demonstrator: str = "robot") -> gym.Env:
        return PushEnv(split=self.split, demonstrator=demonstrator, image_size=self.image_size,
                       task=self.task, background_split="train")

    def teleoperator(self, demonstrator: str, noise_std: float, seed: int) -> Teleoperator:
        """The arm's teleoperator, or a person whose pace varies as in the human demos of
        ``oneshot datagen push`` (HUMAN_SPEEDS), so DAML sees videos like its training ones."""
        if demonstrator == "human":
            speed = float(np.random.default_rng(seed).uniform(*HUMAN_SPEEDS))
            return HandPushExpert(noise_std=noise_std, seed=seed, speed=speed)
        return ArmPushExpert(noise_std=noise_std, seed=seed)

    def report(self, env: gym.Env) -> dict[str, Any]:
        scene = env.scene_description()
        return {key: scene[key] for key in ("task", "demonstrator", "goal_pos", "target_pos",
                                            "distractor_pos")}

    def describe(self, env: gym.Env) -> str:
        task = self.task
        return (f"push {task.target} onto the goal at {np.round(env.goal_pos, 3).tolist()} "
                f"past {task.distractor} (table {task.table})")


class ArmScene(gym.Wrapper):
    """GBAC's arm twin as the sim twin node steps it: observations ``{"image", "state"}``
    (``state`` is the twin's own 20 floats), the object's ``distance`` to the goal in the
    step's info, and the episode's return so far."""

    def __init__(self, env: arm_force.ArmForceEnv, image_size: tuple[int, int]) -> None:
        super().__init__(env)
        width, height = image_size
        self.renderer = mujoco.Renderer(env.model, height, width)
        # pusher.xml's 4096 px shadow map costs 30 ms a frame here; without it, 4 ms
        self.renderer.scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = False
        self.observation_space = spaces.Dict({
            "image": spaces.Box(0, 255, (height, width, 3), np.uint8),
            "state": env.observation_space})
        self.episode_return = 0.0

    def reset(self, **kwargs) -> tuple[dict[str, np.ndarray], dict]:
        state, info = self.env.reset(**kwargs)
        self.episode_return = 0.0
        return self._observation(state), info

    def step(self, action: np.ndarray) -> tuple[dict[str, np.ndarray], float, bool, bool, dict]:
        state, reward, terminated, truncated, info = self.env.step(action)
        self.episode_return += reward
        return (self._observation(state), reward, terminated, truncated,
                {**info, "distance": self.distance})

    @property
    def steps(self) -> int:
        return self.env.unwrapped.steps

    @property
    def dt(self) -> float:
        return self.env.unwrapped.dt

    @property
    def distance(self) -> float:
        """How far the carried object is from the goal (m)."""
        arm = self.env.unwrapped
        return float(np.linalg.norm(arm.end_effector - arm.goal))

    def is_success(self) -> bool:
        return self.distance <= ARM_SUCCESS_M

    def _observation(self, state: np.ndarray) -> dict[str, np.ndarray]:
        self.renderer.update_scene(self.env.unwrapped.data)
        return {"image": self.renderer.render().copy(), "state": state}

    def close(self) -> None:
        self.renderer.close()
        super().close()


class ArmTwin(Twin):
    """Carry the object to the goal under the ``variant``'s force (module docstring)."""

    joint_names = PR2_JOINTS
    command_limit = ARM_TORQUE_LIMIT
    episode_steps = arm_force.EPISODE_STEPS
    cameras = {"robot": Camera("arm_view", ARM_FOVY_DEG)}
    tracked_topics = ("object_pose", "goal_pose")

    def __init__(self, node: Node, split: str, seed: int, image_size: tuple[int, int]) -> None:
        super().__init__(node, split, seed, image_size)
        self.variant = declare(node, "variant", "constant", "arm twin's force on the object: "
                               f"one of {sorted(arm_force.VARIANTS)}")
        if self.variant not in arm_force.VARIANTS:
            node.get_logger().error(f"variant {self.variant!r} is not one of "
                                    f"{sorted(arm_force.VARIANTS)}; using 'constant'")
            self.variant = "constant"

    @property
    def demonstrators(self) -> list[str]:
        return []

    def make_env(self, demonstrator: str = "robot") -> gym.Env:
        return ArmScene(arm_force.make(self.variant), self.image_size)

    def tracked(self, state: np.ndarray) -> dict[str, np.ndarray]:
        return {"object_pose": state[arm_force.EE], "goal_pose": state[arm_force.GOAL]}

    def teleoperator(self, demonstrator: str, noise_std: float, seed: int) -> Teleoperator:
        raise ValueError("the arm twin has no scripted demonstrator")

    def report(self, env: gym.Env) -> dict[str, Any]:
        arm = env.unwrapped
        return {"return": env.episode_return, "variant": self.variant,
                "goal_pos": arm.goal.tolist(), "object_pos": arm.end_effector.tolist()}

    def describe(self, env: gym.Env) -> str:
        arm = env.unwrapped
        return (f"carry the object to {np.round(arm.goal, 3).tolist()} under a force of "
                f"{np.round(arm.condition, 2).tolist()} N ({self.variant})")


def arrange_task(text: str, split: str, seed: int) -> ArrangeTask:
    """The task of the ``task`` parameter: JSON setting any of ``TASK_FIELDS`` on the task
    of ``split`` drawn from ``seed`` (so "{}" or "" is that task); ValueError if a field,
    relation, object or table does not exist."""
    task = sample_arrange_task(split, np.random.default_rng(seed))
    fields = json.loads(text) if text else {}
    if not isinstance(fields, dict) or set(fields) - set(TASK_FIELDS):
        raise ValueError(f"a task is a JSON object of some of {list(TASK_FIELDS)}")
    task = dataclasses.replace(task, **fields)
    if task.relation not in RELATIONS:
        raise ValueError(f"relation {task.relation!r} is not one of {list(RELATIONS)}")
    if task.first == task.second:
        raise ValueError("the two objects must differ")
    for name in (task.first, task.second):
        object_by_name(name)            # KeyError for an unknown object
    task.look()                         # IndexError for a table the split lacks
    return task


def task_of(node: Node, split: str, seed: int) -> ArrangeTask:
    """The ``task`` parameter of ``node`` (declared here), or the drawn task if it is bad."""
    text = declare(node, "task", "", "arrangement task as JSON, any of "
                   f"{list(TASK_FIELDS)}; empty: drawn from the split and the seed")
    try:
        return arrange_task(text, split, seed)
    except (ValueError, KeyError, IndexError, TypeError) as error:
        node.get_logger().error(f"task parameter {text!r}: {error}; drawing one instead")
        return arrange_task("", split, seed)


class ArrangeScene(gym.Env):
    """The pushing arrangement twin stepped by rod velocities: observations ``{"image",
    "state"}``, ``state`` = [rod x, y, rod vx, vy, arm q (7), then x, y, yaw of the first
    and the second object]; ``info["distance"]`` is the pair's distance from the relation."""

    def __init__(self, task: ArrangeTask, image_size: tuple[int, int]) -> None:
        self.twin = ArrangeTwin(task, image_size, pusher=True)
        self.model = TwinModel(self.twin)
        self.dt = SUBSTEPS * float(self.twin.model.opt.timestep)
        self.action_space = spaces.Box(-PUSHER_SPEED, PUSHER_SPEED, (2,), np.float64)
        width, height = image_size
        self.observation_space = spaces.Dict({
            "image": spaces.Box(0, 255, (height, width, 3), np.uint8),
            "state": spaces.Box(-np.inf, np.inf, (4 + len(PR2_JOINTS) + 6,), np.float64)})
        self.steps = 0
        self.velocity = np.zeros(2)
        self._arm = [self.twin.model.joint(n).qposadr[0] for n in PR2_JOINTS]
        self._yaws = [self.twin.model.joint(f"{body}_yaw").qposadr[0]
                      for body in body_names()[:2]]
        self._bodies = [self.twin.model.body(body).id for body in body_names()[:2]]

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        lay_out(self.twin, self.np_random)
        self.steps, self.velocity = 0, np.zeros(2)
        return self._observation(), {}

    def step(self, action: np.ndarray):
        self.velocity = np.clip(np.asarray(action, dtype=np.float64), -PUSHER_SPEED, PUSHER_SPEED)
        self.model.step(self.velocity * self.dt)
        self.steps += 1
        distance = self.distance
        return (self._observation(), -distance, False, False,
                {"distance": distance, "success_so_far": distance == 0.0})

    @property
    def positions(self) -> np.ndarray:
        """The centres (world x, y) of the first and the second object."""
        return self.model.positions(self.model.state().physics[None])[0, :2]

    @property
    def distance(self) -> float:
        """How far (m) the pair is from the task's relation: 0 where it holds."""
        task = self.twin.task
        return violation(task.relation, pair_of(task, self.positions))

    def is_success(self) -> bool:
        task = self.twin.task
        return holds(task.relation, pair_of(task, self.positions))

    def _observation(self) -> dict[str, np.ndarray]:
        data = self.twin.data
        yaws = data.qpos[self._yaws]
        objects = np.column_stack([self.positions, yaws]).ravel()
        state = np.concatenate([self.model.state().pusher, self.velocity, data.qpos[self._arm],
                                objects])
        return {"image": self.twin.render(), "state": state}

    def object_heights(self) -> np.ndarray:
        """World z of the two objects' centres (they slide and turn on the table only)."""
        mujoco.mj_forward(self.twin.model, self.twin.data)
        return self.twin.data.xpos[self._bodies, 2].copy()

    def close(self) -> None:
        self.twin.close()


def lay_out(twin: ArrangeTwin, rng: np.random.Generator) -> None:
    """A start as the ``flo-plan`` suite lays it out (``plan_eval.start_configuration``): a
    near miss of the relation, a few pushes from it, with no distractors, the rod beside the
    first object and the arm hiding neither; objects at rest."""
    mujoco.mj_resetData(twin.model, twin.data)
    start_configuration(twin, twin.task.relation, rng)


class ArrangeTwinAdapter(Twin):
    """Push a pair into the session's relative arrangement (module docstring)."""

    joint_names = (*PUSHER_JOINTS, *PR2_JOINTS)
    command_limit = PUSHER_SPEED
    episode_steps = ARRANGE_STEPS
    cameras = {"robot": Camera("arrange_view", ARRANGE_CAMERA.fovy)}
    tracked_topics = ARRANGE_POSES
    twist_axes = 2

    def __init__(self, node: Node, split: str, seed: int, image_size: tuple[int, int]) -> None:
        super().__init__(node, split, seed, image_size)
        self.task = task_of(node, split, seed)
        self.heights = np.zeros(2)

    @property
    def demonstrators(self) -> list[str]:
        return []

    def make_env(self, demonstrator: str = "robot") -> gym.Env:
        env = ArrangeScene(self.task, self.image_size)
        self.heights = env.object_heights()
        return env

    def joints(self, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        arm = state[4:4 + len(PR2_JOINTS)]
        return np.concatenate([state[:2], arm]), np.concatenate([state[2:4], np.zeros_like(arm)])

    def tracked(self, state: np.ndarray) -> dict[str, np.ndarray]:
        poses = state[-6:].reshape(2, 3)
        return {topic: np.array([x, y, z, yaw]) for topic, (x, y, yaw), z
                in zip(ARRANGE_POSES, poses, self.heights)}

    def teleoperator(self, demonstrator: str, noise_std: float, seed: int) -> Teleoperator:
        raise ValueError("the arrangement twin has no scripted demonstrator")

    def report(self, env: gym.Env) -> dict[str, Any]:
        return {"task": self.task.describe(), "relation_holds": env.is_success(),
                "positions": env.positions.tolist()}

    def describe(self, env: gym.Env) -> str:
        task = self.task
        return (f"put {task.first} {task.relation} {task.second} (table {task.table}); the "
                f"pair starts {env.distance:.3f} m from it")


TWINS: dict[str, type[Twin]] = {"reach": ReachTwin, "push": PushTwin, "arm": ArmTwin,
                                "arrange": ArrangeTwinAdapter}
