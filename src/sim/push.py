"""The push twin (the thesis's simulated pushing, L3099-L3130, B.2.2) as a Gymnasium env.

A PR2-like 7-DoF arm (Gym's Pusher arm) must push the task's target object onto the red
goal disc; one distractor object lies on the table too. A task is a pair of catalogue
objects (target, distractor) and a table texture; every reset draws new positions for
the goal and both objects. An episode is 100 control steps of 0.05 s. Success as the MIL
code measures it: the target's centre within the goal (squared distance < 0.017 m^2)
for at least 10 of the 100 steps.

Robot demonstrator: actions are the 7 joint torques in [-2, 2] (Gym's Pusher range);
``state`` is ``[q (7), qd (7), pusher position (3), pusher orientation quaternion (4)]``.
Human demonstrator (DAML's domain, L3658-L3672): no robot; a hand follows the action,
a velocity (m/s) of the hand in [-0.5, 0.5]^3; ``state`` is the tracked hand pose
``[position (3), quaternion (4)]``. Observations are ``{"image", "state"}``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import mujoco
import numpy as np
from gymnasium import spaces

from sim.appearance import Background, backgrounds, table_textures
from sim.colours import SPLITS
from sim.geometry import segment_distance
from sim.objects import ObjectSpec, catalogue, object_by_name
from sim.push_scene_file import LAB, PushScene
from sim.push_scene import (
    CAMERA,
    JOINT_NAMES,
    TABLE_Z,
    CameraPose,
    PushLook,
    build_push_model,
)

FRAME_SKIP = 5
EPISODE_STEPS = 100
SUCCESS_SQUARED_DISTANCE = 0.017
SUCCESS_STEPS = 10
TORQUE_LIMIT = 2.0
HAND_SPEED_LIMIT = 0.5                 # m/s
HAND_TURN_LIMIT = 3.0                  # rad/s about the vertical
# Layout, in polar coordinates about the shoulder (where the arm pushes well: radius from
# the shoulder axis, bearing from the arm's zero direction +x).
SHOULDER = np.array([0.0, -0.6])
GOAL_RADII, GOAL_BEARINGS = (0.66, 0.76), (32.0, 46.0)
WORK_RADII, WORK_BEARINGS = (0.52, 0.82), (8.0, 64.0)
PUSH_DISTANCES = (0.18, 0.25)            # the target starts this far from the goal (m)
APPROACH_ROOM = 0.10                   # free space behind the target for the pusher (m)
MAX_PUSH_ANGLE = np.radians(70.0)      # pushes point at most this far off straight away
                                       # from the shoulder: a PR2 arm cannot push sideways
MAX_LAYOUT_ATTEMPTS = 20000            # draws before a layout is declared impossible
DISTRACTOR_TRIES = 200                # draws of the second object per goal and first
CLEARANCE = 0.06                       # free space kept around the target's path (m)
HAND_START = np.array([0.3, -0.55, TABLE_Z + 0.2])
# The arm starts raised over the table (pusher near (0.34, -0.15), 0.18 m up), each joint
# perturbed by up to READY_NOISE rad; Gym's Pusher starts stretched out at q = 0.
READY_QPOS = np.array([0.34, 0.735, -1.136, -1.652, -0.3, 0.0, 0.987])
READY_NOISE = 0.1


@dataclass(frozen=True)
class PushTask:
    """What stays fixed across the demos of one task: the objects and the table."""

    target: str
    distractor: str
    table: int                 # index into the split's table textures

    def describe(self) -> dict[str, Any]:
        return {"target": self.target, "distractor": self.distractor, "table": self.table}


def sample_task(split: str, rng: np.random.Generator) -> PushTask:
    """A task of ``split``: two different catalogue objects and a table texture."""
    objects = catalogue(split)
    first, second = rng.choice(len(objects), size=2, replace=False)
    return PushTask(objects[first].name, objects[second].name,
                    int(rng.integers(len(table_textures(split)))))


def task_from_dict(data: dict[str, Any], split: str) -> PushTask:
    """A PushTask from episode/scene metadata; unknown objects raise UnknownObjectError."""
    task = PushTask(str(data["target"]), str(data["distractor"]), int(data.get("table", 0)))
    object_by_name(task.target), object_by_name(task.distractor)
    if not 0 <= task.table < len(table_textures(split)):
        raise ValueError(f"table {task.table} is not a {split} table texture "
                         f"(0..{len(table_textures(split)) - 1})")
    return task


class PushEnv(gym.Env):
    """Push the target object onto the goal amid one distractor (module docstring).

    ``task`` fixes the task for every episode (otherwise each reset draws one from
    ``split``, or takes ``options={"task": PushTask}``). ``background`` dresses the scene
    (a Background or "lab"; default: the lab for robots, and for humans one drawn from
    ``background_split`` at every reset, which recompiles the model). ``camera`` overrides
    the demonstrator's view. A ``scene`` (``--scene FILE.yaml``) pins objects, look, and
    any positions it gives; its split, demonstrator, image size and seed replace the
    arguments.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 20}
    family = "push"

    def __init__(self, split: str = "train", demonstrator: str = "robot",
                 image_size: tuple[int, int] = (64, 64), task: PushTask | None = None,
                 background: Background | str | None = None, background_split: str | None = None,
                 camera: CameraPose | None = None, render_mode: str | None = None,
                 scene: PushScene | None = None):
        if scene is not None:
            split, demonstrator, camera = scene.split, scene.demonstrator, scene.camera
            image_size = scene.image_size or image_size
            task = PushTask(scene.target.name, scene.distractor.name, scene.table)
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        if demonstrator not in ("robot", "human"):
            raise ValueError(f"demonstrator must be 'robot' or 'human', got {demonstrator!r}")
        width, height = (int(side) for side in image_size)
        if width < 1 or height < 1:
            raise ValueError(f"image_size must be positive (width, height), got {image_size}")
        self.split, self.demonstrator, self.image_size = split, demonstrator, (width, height)
        self.fixed_task, self.scene = task, scene
        pinned = scene.background if scene else background
        self.fixed_background = None if pinned == LAB else pinned
        self.background_pinned = pinned is not None
        self.background_split = background_split or split
        self.camera, self.render_mode = camera, render_mode
        self._resets = 0
        self.observation_space = spaces.Dict({
            "image": spaces.Box(0, 255, (height, width, 3), np.uint8),
            "state": spaces.Box(-np.inf, np.inf, (21 if demonstrator == "robot" else 7,),
                                np.float32),
        })
        if demonstrator == "robot":
            self.action_space = spaces.Box(-TORQUE_LIMIT, TORQUE_LIMIT, (7,), np.float32)
        else:
            limit = np.array([HAND_SPEED_LIMIT] * 3 + [HAND_TURN_LIMIT], np.float32)
            self.action_space = spaces.Box(-limit, limit, (4,), np.float32)
        self.model: mujoco.MjModel | None = None
        self.look: PushLook | None = None
        self.task: PushTask | None = None
        self.goal_pos = np.zeros(2)
        self._renderers: dict[tuple[int, int], mujoco.Renderer] = {}
        self._steps = 0
        self._steps_on_goal = 0
        self._hand_yaw = 0.0

    # -- model management -------------------------------------------------------------

    def _use_look(self, look: PushLook) -> None:
        """Compile a new model only when what is on the table or its looks changed."""
        if look == self.look:
            return
        self.close()
        self.look = look
        self.model = build_push_model(look)
        width, height = self.image_size
        self.model.vis.global_.offwidth = max(width, 640)
        self.model.vis.global_.offheight = max(height, 480)
        self.data = mujoco.MjData(self.model)
        self.dt = self.model.opt.timestep * FRAME_SKIP
        self._joint_qpos = {name: self.model.joint(name).qposadr[0]
                            for name in self._object_joints()}
        if self.demonstrator == "robot":
            self._arm_qpos = np.array([self.model.joint(n).qposadr[0] for n in JOINT_NAMES])
            self._arm_dof = np.array([self.model.joint(n).dofadr[0] for n in JOINT_NAMES])
            self._pusher = self.model.site("pusher").id
        else:
            self._hand = self.model.body("hand").id
            self._hand_mocap = self.model.body("hand").mocapid[0]
        self._goal_mocap = self.model.body("goal").mocapid[0]

    def _redraws_background(self) -> bool:
        """Human demos get a new background at every reset unless one is fixed."""
        return self.demonstrator == "human" and not self.background_pinned

    def _object(self, name: str) -> ObjectSpec:
        """A task's object: the scene's own, else from the catalogue."""
        if self.scene is not None:
            for obj in (self.scene.target, self.scene.distractor):
                if obj.name == name:
                    return obj
        return object_by_name(name)

    @staticmethod
    def _object_joints() -> list[str]:
        return [f"{body}_{axis}" for body in ("target", "distractor") for axis in ("x", "y", "yaw")]

    def _background(self) -> Background | None:
        if self.background_pinned or self.demonstrator == "robot":
            return self.fixed_background
        options = backgrounds(self.background_split)
        return options[int(self.np_random.integers(len(options)))]

    # -- privileged state -------------------------------------------------------------

    def object_pos(self, body: str) -> np.ndarray:
        """(x, y) of the ``target`` or ``distractor`` object's centre (m)."""
        return np.array([self.data.qpos[self._joint_qpos[f"{body}_x"]],
                         self.data.qpos[self._joint_qpos[f"{body}_y"]]]) + self._origin

    @property
    def _origin(self) -> np.ndarray:
        return np.array([0.45, 0.0])      # the object bodies' reference position

    @property
    def target_spec(self) -> ObjectSpec:
        return self.look.target

    @property
    def distractor_spec(self) -> ObjectSpec:
        return self.look.distractor

    @property
    def pusher_pos(self) -> np.ndarray:
        """Position of the middle of the wrist's pusher bar (robot) or fingertips (human)."""
        if self.demonstrator == "robot":
            return self.data.site_xpos[self._pusher].copy()
        return self.data.xpos[self._hand].copy()

    @property
    def pusher_site(self) -> int:
        """Id of the ``pusher`` site at the middle of the wrist's U-shaped bar (robot)."""
        return self._pusher

    @property
    def arm_dofs(self) -> np.ndarray:
        """The arm joints' degree-of-freedom indices, in JOINT_NAMES order (robot)."""
        return self._arm_dof

    @property
    def hand_target(self) -> np.ndarray:
        """Where the hand is commanded to be (human demonstrator)."""
        return self.data.mocap_pos[self._hand_mocap].copy()

    @property
    def steps(self) -> int:
        return self._steps

    def scene_description(self) -> dict[str, Any]:
        """The current layout as JSON data, for an episode's ``scene`` metadata."""
        return {
            "family": "push",
            "demonstrator": self.demonstrator,
            "task": self.task.describe(),
            "target": self.look.target.describe(),
            "distractor": self.look.distractor.describe(),
            "goal_pos": self.goal_pos.tolist(),
            "target_pos": self.object_pos("target").tolist(),
            "distractor_pos": self.object_pos("distractor").tolist(),
            "background": self.look.background.name if self.look.background else "lab",
            "image_size": list(self.image_size),
            "dt": self.dt,
        }

    # -- Gymnasium API ----------------------------------------------------------------

    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[dict[str, np.ndarray], dict]:
        """New goal and object positions; a new task unless fixed (``options["task"]``)."""
        options = options or {}
        if set(options) - {"task"}:
            raise ValueError(f"unknown reset options {sorted(set(options) - {'task'})}")
        if seed is None and self._resets == 0 and self.scene is not None:
            seed = self.scene.seed
        super().reset(seed=seed)
        self._resets += 1
        task = options.get("task") or self.fixed_task or sample_task(self.split, self.np_random)
        if task != self.task or self._redraws_background():
            self.task = task
            self._use_look(PushLook(self._object(task.target), self._object(task.distractor),
                                    table_textures(self.split)[task.table], self._background(),
                                    self.demonstrator, self.camera))
        mujoco.mj_resetData(self.model, self.data)
        self._place()
        mujoco.mj_forward(self.model, self.data)
        self._steps = 0
        self._steps_on_goal = 0
        return self._observation(), self._info()

    def _place(self) -> None:
        """Lay out the goal, the target (the pusher can get behind it and push it to the
        goal) and the distractor (clear of the target's path and of the goal); a scene's
        pinned positions are kept and the rest drawn around them."""
        rng = self.np_random
        for _ in range(MAX_LAYOUT_ATTEMPTS):
            layout = self._draw_layout(rng)
            if layout is not None:
                break
        else:
            raise ValueError(
                f"no push layout found in {MAX_LAYOUT_ATTEMPTS} tries for objects of footprint "
                f"radius {self.look.target.footprint_radius:.3f} and "
                f"{self.look.distractor.footprint_radius:.3f} m with the scene's pinned positions")
        goal, target, distractor = layout
        self.goal_pos = goal
        self.data.mocap_pos[self._goal_mocap, :2] = goal
        for body, (x, y) in (("target", target), ("distractor", distractor)):
            self.data.qpos[self._joint_qpos[f"{body}_x"]] = x - self._origin[0]
            self.data.qpos[self._joint_qpos[f"{body}_y"]] = y - self._origin[1]
            self.data.qpos[self._joint_qpos[f"{body}_yaw"]] = rng.uniform(-np.pi, np.pi)
        if self.demonstrator == "human":
            self._place_hand()
        else:
            self.data.qpos[self._arm_qpos] = READY_QPOS + rng.uniform(-READY_NOISE, READY_NOISE, 7)

    def _pinned(self, name: str) -> np.ndarray | None:
        value = getattr(self.scene, name) if self.scene is not None else None
        return None if value is None else np.array(value, float)

    def _draw_layout(self, rng: np.random.Generator) -> tuple[np.ndarray, ...] | None:
        """One try at (goal, target, distractor); None if it breaks a layout rule.

        Target and distractor are drawn alike: each a push away from the goal with room
        behind it for the pusher inside the working annulus, each clear of the other's
        path; a coin decides which is drawn first and which around it, so neither role has
        a place of its own. Only the demonstration then tells which to push. (With the
        distractor anywhere, or always drawn second, where an object lay gave the target
        away, and a DAML policy learnt to do without the demo.) Pinned positions come first.
        """
        goal = self._pinned("goal")
        goal = _polar(rng, GOAL_RADII, GOAL_BEARINGS) if goal is None else goal
        radius = {"target": self.look.target.footprint_radius,
                  "distractor": self.look.distractor.footprint_radius}
        start = {"target": self._pinned("target_pos"), "distractor": self._pinned("distractor_pos")}
        order = ["target", "distractor"] if rng.random() < 0.5 else ["distractor", "target"]
        first, second = sorted(order, key=lambda name: start[name] is None)  # pinned first
        if start[first] is None:
            start[first] = _pushable_start(rng, goal, radius[first])
            if start[first] is None:
                return None
        if start[second] is None:
            start[second] = self._draw_beside(rng, goal, start[first], radius[first],
                                              radius[second])
            if start[second] is None:
                return None
        target, distractor = start["target"], start["distractor"]
        if np.linalg.norm(distractor - target) <= sum(radius.values()):
            return None                         # pinned positions put the objects inside each other
        return goal, target, distractor

    @staticmethod
    def _draw_beside(rng: np.random.Generator, goal: np.ndarray, other: np.ndarray,
                     other_r: float, own_r: float) -> np.ndarray | None:
        """A pushable start for an object of footprint ``own_r``, off the path of the one
        at ``other`` and it off its own, or None.

        Drawn up to DISTRACTOR_TRIES times for one goal and first object: pushable pairs
        are rare (both approach points must stay in the working annulus), so redrawing the
        whole layout for every blocked path would exhaust MAX_LAYOUT_ATTEMPTS."""
        clear = other_r + own_r + CLEARANCE
        other_path = _approach(other, goal, other_r)
        for _ in range(DISTRACTOR_TRIES):
            start = _pushable_start(rng, goal, own_r)
            if start is None:
                continue
            own_path = _approach(start, goal, own_r)
            if (segment_distance(start, other_path, goal) > clear
                    and segment_distance(other, own_path, goal) > clear):
                return start
        return None

    def _place_hand(self) -> None:
        rng = self.np_random
        start = HAND_START + np.append(rng.uniform(-0.05, 0.05, 2), 0.0)
        self._hand_yaw = float(rng.uniform(0.8, 1.8))
        self.data.mocap_pos[self._hand_mocap] = start
        self.data.mocap_quat[self._hand_mocap] = yaw_quaternion(self._hand_yaw)

    def step(self, action: np.ndarray) -> tuple[dict[str, np.ndarray], float, bool, bool, dict]:
        """Torques (robot) or a hand velocity (human), clipped to the action box, held for
        ``FRAME_SKIP`` physics steps."""
        action = np.clip(np.asarray(action, dtype=np.float64).reshape(self.action_space.shape),
                         self.action_space.low, self.action_space.high)
        if self.demonstrator == "robot":
            self.data.ctrl[:] = action
        else:
            self._move_hand(action)
        mujoco.mj_step(self.model, self.data, nstep=FRAME_SKIP)
        mujoco.mj_forward(self.model, self.data)
        self._steps += 1
        distance = self._goal_distance()
        self._steps_on_goal += int(distance ** 2 < SUCCESS_SQUARED_DISTANCE)
        truncated = self._steps >= EPISODE_STEPS
        info = self._info()
        if truncated:
            info["is_success"] = self.is_success()
        return self._observation(), -distance, False, truncated, info

    def _move_hand(self, action: np.ndarray) -> None:
        """Move the hand's mocap target by the commanded velocity and turn rate, keeping
        it above the table and over it."""
        low = np.array([-0.2, -0.8, TABLE_Z + 0.005])
        high = np.array([1.1, 0.6, TABLE_Z + 0.4])
        self.data.mocap_pos[self._hand_mocap] = np.clip(
            self.hand_target + action[:3] * self.dt, low, high)
        self._hand_yaw += action[3] * self.dt
        self.data.mocap_quat[self._hand_mocap] = yaw_quaternion(self._hand_yaw)

    @property
    def hand_yaw(self) -> float:
        """The hand's heading about the vertical (rad): its fingers point that way."""
        return self._hand_yaw

    def is_success(self) -> bool:
        """Whether the target sat on the goal for at least 10 steps so far."""
        return self._steps_on_goal >= SUCCESS_STEPS

    def render(self) -> np.ndarray | None:
        if self.render_mode is None:
            gym.logger.warn("render() called with render_mode=None; pass render_mode='rgb_array'")
            return None
        return self.render_view(self.image_size)

    def render_view(self, size: tuple[int, int]) -> np.ndarray:
        """The camera's view at ``size`` (width, height)."""
        if size not in self._renderers:
            self._renderers[size] = mujoco.Renderer(self.model, height=size[1], width=size[0])
        renderer = self._renderers[size]
        renderer.update_scene(self.data, camera=CAMERA)
        return renderer.render()

    def close(self) -> None:
        """Free the offscreen renderers (and their EGL contexts) now, not at exit."""
        for renderer in self._renderers.values():
            renderer.close()
        self._renderers.clear()

    # -- helpers ----------------------------------------------------------------------

    def _state(self) -> np.ndarray:
        if self.demonstrator == "robot":
            quat = np.zeros(4)
            mujoco.mju_mat2Quat(quat, self.data.site_xmat[self._pusher])
            return np.concatenate([self.data.qpos[self._arm_qpos], self.data.qvel[self._arm_dof],
                                   self.pusher_pos, quat])
        return np.concatenate([self.data.xpos[self._hand], self.data.xquat[self._hand]])

    def _observation(self) -> dict[str, np.ndarray]:
        return {"image": self.render_view(self.image_size),
                "state": self._state().astype(np.float32)}

    def _goal_distance(self) -> float:
        return float(np.linalg.norm(self.object_pos("target") - self.goal_pos))

    def _info(self) -> dict[str, Any]:
        return {"distance": self._goal_distance(), "steps_on_goal": self._steps_on_goal,
                "success_so_far": self.is_success()}


def yaw_quaternion(yaw: float) -> np.ndarray:
    """The quaternion (w, x, y, z) of a rotation by ``yaw`` about the vertical."""
    return np.array([np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2)])


def _polar(rng: np.random.Generator, radii: tuple[float, float],
           bearings: tuple[float, float]) -> np.ndarray:
    """A point drawn uniformly in radius and bearing (degrees) about the shoulder."""
    radius, bearing = rng.uniform(*radii), np.radians(rng.uniform(*bearings))
    return SHOULDER + radius * np.array([np.cos(bearing), np.sin(bearing)])


def _push_start(rng: np.random.Generator, goal: np.ndarray) -> np.ndarray | None:
    """A start PUSH_DISTANCES from ``goal`` for a push pointing at most MAX_PUSH_ANGLE off
    straight away from the shoulder, inside the working annulus; None for a draw that
    breaks a rule."""
    outward = np.arctan2(*(goal - SHOULDER)[::-1])
    heading = outward + rng.uniform(-MAX_PUSH_ANGLE, MAX_PUSH_ANGLE)
    start = goal - np.array([np.cos(heading), np.sin(heading)]) * rng.uniform(*PUSH_DISTANCES)
    radial = np.arctan2(*(start - SHOULDER)[::-1])
    sideways = abs((heading - radial + np.pi) % (2 * np.pi) - np.pi)
    return start if sideways <= MAX_PUSH_ANGLE and _workable(start) else None


def _pushable_start(rng: np.random.Generator, goal: np.ndarray,
                    radius: float) -> np.ndarray | None:
    """A push start (see ``_push_start``) whose approach point for an object of footprint
    ``radius`` is in the working annulus too; None for a draw that breaks a rule."""
    start = _push_start(rng, goal)
    if start is None or not _workable(_approach(start, goal, radius)):
        return None
    return start


def _approach(start: np.ndarray, goal: np.ndarray, radius: float) -> np.ndarray:
    """Where the pusher stands to push an object of footprint ``radius`` from ``start``
    towards ``goal``: APPROACH_ROOM behind the object."""
    u = (goal - start) / max(float(np.linalg.norm(goal - start)), 1e-9)
    return start - u * (radius + APPROACH_ROOM)


def _workable(point: np.ndarray) -> bool:
    """Whether the arm can push well at ``point`` (inside the working annulus)."""
    offset = point - SHOULDER
    radius, bearing = np.linalg.norm(offset), np.degrees(np.arctan2(offset[1], offset[0]))
    return WORK_RADII[0] <= radius <= WORK_RADII[1] and WORK_BEARINGS[0] <= bearing <= WORK_BEARINGS[1]
