"""The planar reach twin (the MIL simulated-reaching task) as a Gymnasium environment.

A torque-controlled 2-link arm sits at the centre of a 0.6 x 0.6 m arena with three flat
coloured discs. A task is a colour: the arm must bring its fingertip to the disc of that
colour; the other two discs are distractors in other colours. An episode is 50 control
steps of 0.02 s; it succeeds when the fingertip comes within 0.05 m of the target during
the last 10 steps (thesis, MIL simulated reaching).

Observations are ``{"image": uint8 [H, W, 3] overhead camera, "state": float32 [6]}`` with
state ``[q_shoulder, q_elbow, qd_shoulder, qd_elbow, fingertip_x, fingertip_y]``; actions
are the two joint torques in [-1, 1] (clipped). Reward is minus the fingertip-target
distance.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import gymnasium as gym
import mujoco
import numpy as np
from gymnasium import spaces

from sim.arena import (
    ARENA_HALF_SIZE,
    LINK_LENGTHS,
    MIN_TARGET_SEPARATION,
    SUCCESS_DISTANCE,
    SUCCESS_WINDOW,
    TARGET_RING,
)
from sim.colours import SPLITS, Colour, resolve_colour, sample_distractor_colours, task_colour
from sim.scene import ReachScene, size_argument

MODEL_PATH = Path(__file__).parent / "assets" / "reach.xml"
CAMERA = "overhead"
FRAME_SKIP = 2
EPISODE_STEPS = 50
OBJECT_COUNT = 3
INITIAL_JOINT_NOISE = 0.1      # rad: the arm starts stretched along +x, perturbed by this
JOINT_NAMES = ("shoulder", "elbow")


def reach_state(q: np.ndarray, qd: np.ndarray) -> np.ndarray:
    """The observation ``state`` from joint positions and velocities alone (forward
    kinematics of the fingertip), as a robot driver's joint states would give it."""
    upper, fore = LINK_LENGTHS
    elbow_angle = q[0] + q[1]
    fingertip = (upper * np.cos(q[0]) + fore * np.cos(elbow_angle),
                 upper * np.sin(q[0]) + fore * np.sin(elbow_angle))
    return np.array([q[0], q[1], qd[0], qd[1], *fingertip], dtype=np.float32)


class ReachEnv(gym.Env):
    """Reach the disc of the task colour among three discs (see the module docstring).

    ``colour`` fixes the task colour for every episode; otherwise each reset draws one from
    ``split``'s hues. Distractor colours come from ``distractor_split`` (default ``split``).
    A ``scene`` pins colours/positions/image size (it replaces ``colour`` and, when it sets
    one, ``image_size``); its ``seed`` seeds the first reset if that reset gives none.
    ``image_size`` and ``render_size`` are (width, height); ``render()`` returns a
    ``render_size`` view (default: the observation size) for videos.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 50}

    def __init__(self, colour: Sequence[float] | str | None = None, split: str = "train",
                 image_size: tuple[int, int] = (64, 64), render_mode: str | None = None,
                 scene: ReachScene | None = None, distractor_split: str | None = None,
                 render_size: tuple[int, int] | None = None):
        for name, value in (("split", split), ("distractor_split", distractor_split or split)):
            if value not in SPLITS:
                raise ValueError(f"{name} must be one of {SPLITS}, got {value!r}")
        if render_mode not in (None, *self.metadata["render_modes"]):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        if colour is not None and scene is not None:
            raise ValueError("give either a colour or a scene (which has its own colour)")
        self.split = split
        self.distractor_split = distractor_split or split
        self.scene = scene
        self.render_mode = render_mode
        self.colour: Colour | None = scene.target_colour if scene else (
            None if colour is None else resolve_colour(colour))
        self.image_size = size_argument(
            "image_size", scene.image_size if scene and scene.image_size else image_size)
        self.render_size = size_argument("render_size", render_size or self.image_size)
        self._load_model()
        width, height = self.image_size
        self.observation_space = spaces.Dict({
            "image": spaces.Box(0, 255, (height, width, 3), np.uint8),
            "state": spaces.Box(-np.inf, np.inf, (6,), np.float32),
        })
        self.action_space = spaces.Box(-1.0, 1.0, (2,), np.float32)
        self.object_positions = np.zeros((OBJECT_COUNT, 2))
        self.object_colours = np.zeros((OBJECT_COUNT, 3))
        self.target_index = 0
        self._resets = 0
        self._steps = 0
        self._window_min = np.inf

    def _load_model(self) -> None:
        """Compile the model and set up fast, faithful offscreen rendering."""
        self.model = mujoco.MjModel.from_xml_path(str(MODEL_PATH))
        self.model.light_castshadow[:] = 0
        self.model.vis.quality.offsamples = 0
        sizes = (self.image_size, self.render_size)
        self.model.vis.global_.offwidth = max(width for width, _ in sizes)
        self.model.vis.global_.offheight = max(height for _, height in sizes)
        self.data = mujoco.MjData(self.model)
        self.dt = self.model.opt.timestep * FRAME_SKIP
        self._camera = self.model.camera(CAMERA).id
        self._fingertip = self.model.site("fingertip").id
        self._object_geoms = [self.model.geom(f"object_{i}").id for i in range(OBJECT_COUNT)]
        self._object_mocap = [self.model.body_mocapid[self.model.body(f"object_{i}").id]
                              for i in range(OBJECT_COUNT)]
        self._renderers: dict[tuple[int, int], mujoco.Renderer] = {}

    # -- privileged state (for experts, data generation and evaluation) ------------------

    @property
    def joint_positions(self) -> np.ndarray:
        """Joint angles [shoulder, elbow] in rad."""
        return self.data.qpos.copy()

    @property
    def joint_velocities(self) -> np.ndarray:
        """Joint velocities [shoulder, elbow] in rad/s."""
        return self.data.qvel.copy()

    @property
    def fingertip_pos(self) -> np.ndarray:
        """The end effector's (x, y) in m."""
        return self.data.site_xpos[self._fingertip, :2].copy()

    @property
    def steps(self) -> int:
        """Control steps taken since the last reset."""
        return self._steps

    @property
    def target_pos(self) -> np.ndarray:
        """The task target's (x, y) in m."""
        return self.object_positions[self.target_index].copy()

    @property
    def target_colour(self) -> Colour:
        """The task target's RGB colour this episode."""
        return tuple(float(c) for c in self.object_colours[self.target_index])

    def scene_description(self) -> dict[str, Any]:
        """The current layout as JSON data, for an episode's ``scene`` metadata."""
        distractors = [i for i in range(OBJECT_COUNT) if i != self.target_index]
        return {
            "family": "reach",
            "arena_size": [2 * ARENA_HALF_SIZE] * 2,
            "target_index": self.target_index,
            "target_pos": self.target_pos.tolist(),
            "target_colour": list(self.target_colour),
            "distractor_positions": self.object_positions[distractors].tolist(),
            "distractor_colours": self.object_colours[distractors].tolist(),
            "object_positions": self.object_positions.tolist(),
            "object_colours": self.object_colours.tolist(),
            "image_size": list(self.image_size),
            "dt": self.dt,
        }

    # -- Gymnasium API ----------------------------------------------------------------

    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[dict[str, np.ndarray], dict]:
        """Start an episode: new target/distractor positions, and a new colour unless fixed.

        ``options={"colour": rgb or name}`` sets the task colour for this episode only.
        """
        options = options or {}
        if set(options) - {"colour"}:
            raise ValueError(f"unknown reset options {sorted(set(options) - {'colour'})}")
        if seed is None and self._resets == 0 and self.scene is not None:
            seed = self.scene.seed
        super().reset(seed=seed)
        self._resets += 1
        colour = self._episode_colour(options.get("colour"))
        self._place_objects(colour)
        mujoco.mj_resetData(self.model, self.data)
        self.data.qpos[:] = self.np_random.uniform(-INITIAL_JOINT_NOISE, INITIAL_JOINT_NOISE, 2)
        for mocap, (x, y) in zip(self._object_mocap, self.object_positions):
            self.data.mocap_pos[mocap] = (x, y, 0.0)
        self.model.geom_rgba[self._object_geoms, :3] = self.object_colours
        mujoco.mj_forward(self.model, self.data)
        self._steps = 0
        self._window_min = np.inf
        return self._observation(), self._info(self._distance())

    def _episode_colour(self, requested: Sequence[float] | str | None) -> Colour:
        if requested is not None:
            return resolve_colour(requested)
        if self.colour is not None:
            return self.colour
        return task_colour(self.split, self.np_random)

    def _place_objects(self, colour: Colour) -> None:
        """Choose object positions and colours; the target's slot is random unless the
        scene pins positions (then the target is its first position)."""
        scene = self.scene
        distractors = (list(scene.distractor_colours) if scene and scene.distractor_colours
                       else sample_distractor_colours(colour, self.distractor_split,
                                                      self.np_random))
        if scene and scene.target_positions:
            self.object_positions = np.array(scene.target_positions, dtype=float)
            self.target_index = 0
        else:
            self.object_positions = self._sample_positions()
            self.target_index = int(self.np_random.integers(OBJECT_COUNT))
        distractors.insert(self.target_index, colour)
        self.object_colours = np.array(distractors, dtype=float)

    def _sample_positions(self) -> np.ndarray:
        """Uniform positions in the reachable ring, pairwise at least the minimum apart."""
        inner, outer = TARGET_RING
        while True:
            radius = np.sqrt(self.np_random.uniform(inner ** 2, outer ** 2, OBJECT_COUNT))
            angle = self.np_random.uniform(0.0, 2.0 * np.pi, OBJECT_COUNT)
            positions = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
            gaps = np.linalg.norm(positions[:, None] - positions[None], axis=-1)
            if gaps[np.triu_indices(OBJECT_COUNT, 1)].min() >= MIN_TARGET_SEPARATION:
                return positions

    def step(self, action: np.ndarray) -> tuple[dict[str, np.ndarray], float, bool, bool, dict]:
        """Apply clipped joint torques for ``FRAME_SKIP`` physics steps."""
        torque = np.clip(np.asarray(action, dtype=np.float64).reshape(2), -1.0, 1.0)
        self.data.ctrl[:] = torque
        mujoco.mj_step(self.model, self.data, nstep=FRAME_SKIP)
        mujoco.mj_forward(self.model, self.data)  # positions of the new state, for obs/render
        self._steps += 1
        distance = self._distance()
        if EPISODE_STEPS - SUCCESS_WINDOW < self._steps <= EPISODE_STEPS:
            self._window_min = min(self._window_min, distance)
        truncated = self._steps >= EPISODE_STEPS
        info = self._info(distance)
        if truncated:
            info["is_success"] = self.is_success()
        return self._observation(), -distance, False, truncated, info

    def is_success(self) -> bool:
        """Whether the fingertip came within 0.05 m of the target in steps 41..50."""
        return bool(self._window_min < SUCCESS_DISTANCE)

    def render(self) -> np.ndarray | None:
        """The overhead view at ``render_size`` (None unless render_mode is "rgb_array")."""
        if self.render_mode is None:
            gym.logger.warn("render() called with render_mode=None; pass render_mode='rgb_array'")
            return None
        return self._render(self.render_size)

    def close(self) -> None:
        """Free the offscreen renderers (and their EGL contexts) now, not at exit."""
        for renderer in self._renderers.values():
            renderer.close()
        self._renderers.clear()

    # -- helpers ----------------------------------------------------------------------

    def _render(self, size: tuple[int, int]) -> np.ndarray:
        if size not in self._renderers:
            self._renderers[size] = mujoco.Renderer(self.model, height=size[1], width=size[0])
        renderer = self._renderers[size]
        renderer.update_scene(self.data, camera=self._camera)
        return renderer.render()

    def _observation(self) -> dict[str, np.ndarray]:
        state = np.concatenate([self.data.qpos, self.data.qvel, self.fingertip_pos])
        return {"image": self._render(self.image_size), "state": state.astype(np.float32)}

    def _distance(self) -> float:
        return float(np.linalg.norm(self.fingertip_pos - self.target_pos))

    def _info(self, distance: float) -> dict[str, Any]:
        return {
            "distance": distance,
            "target_pos": self.target_pos,
            "success_so_far": self.is_success(),
            "target_index": self.target_index,
        }
