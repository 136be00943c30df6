"""Base of the twins whose dynamics change during use (GBAC's tasks, thesis L2612-L2660).

Each twin is a Gymnasium MuJoCo model shipped inside the ``gymnasium`` package (half
cheetah, ant, the 7-DoF pusher arm) plus a *condition* that alters its dynamics: a
disabled joint, a crippled leg, an external force. A :class:`Schedule` says when the
condition is drawn: at ``first`` (before that the robot runs with nominal dynamics) and again
every ``every`` steps, so one class covers the static tasks, the "crippled midway" ones and
the "changing every 50 steps" ones.

Observations are flat float32 vectors that hold everything the twin's reward reads
(positions included), so a learned dynamics model predicting the whole next observation
lets a planner score imagined states with the twin's own :meth:`reward`. That method is
written with operations numpy arrays and torch tensors share (``[..., i]``, ``**``,
``.sum(-1)``), so this package never imports torch. Everything random comes from the
environment's ``np_random``: a seeded reset makes the episode reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import mujoco
import numpy as np
from gymnasium import spaces

GYM_ASSETS = Path(gym.__file__).parent / "envs" / "mujoco" / "assets"
INITIAL_POSITION_NOISE = 0.1   # uniform half-width on qpos at reset (as Gymnasium's twins)
INITIAL_VELOCITY_NOISE = 0.1   # std of the Gaussian on qvel at reset


@dataclass(frozen=True)
class Schedule:
    """When the condition is drawn: first at step ``first`` (nominal dynamics before), then
    redrawn every ``every`` steps (``None``: it stays for the rest of the episode)."""

    first: int = 0
    every: int | None = None

    def draws_at(self, step: int) -> bool:
        if step == self.first:
            return True
        return self.every is not None and step > self.first and (step - self.first) % self.every == 0


class ChangingDynamicsEnv(gym.Env):
    """A MuJoCo twin whose condition follows a :class:`Schedule`; subclasses say what a
    condition is (:meth:`draw_condition`), how it acts (:meth:`apply`), what is observed
    (:meth:`observe`) and the reward (:meth:`reward`)."""

    metadata = {"render_modes": ["rgb_array"]}
    # observation entries the physics does not depend on (positions in a flat world, a
    # goal), which a learned dynamics model need not read
    dynamics_invariant_dims: tuple[int, ...] = ()

    def __init__(self, model: mujoco.MjModel, frame_skip: int, episode_steps: int,
                 schedule: Schedule, render_mode: str | None = None) -> None:
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        self.model = model
        self.data = mujoco.MjData(model)
        self.frame_skip = frame_skip
        self.dt = model.opt.timestep * frame_skip
        self.episode_steps = episode_steps
        self.schedule = schedule
        self.render_mode = render_mode
        self.metadata = {**self.metadata, "render_fps": round(1.0 / self.dt)}
        low, high = model.actuator_ctrlrange.T.astype(np.float32)
        self.action_space = spaces.Box(low, high, dtype=np.float32)
        self.condition: Any = None
        self._steps = 0
        self._renderer: mujoco.Renderer | None = None
        mujoco.mj_forward(model, self.data)
        size = self.observe().shape
        self.observation_space = spaces.Box(-np.inf, np.inf, size, np.float32)

    # -- what a subclass defines -----------------------------------------------------------

    def draw_condition(self, current: Any) -> Any:
        """A new condition, drawn with ``self.np_random`` (``current`` is the one in force)."""
        raise NotImplementedError

    def apply(self, action: np.ndarray) -> None:
        """Write ``action`` (already clipped) and the condition into ``self.data``."""
        raise NotImplementedError

    def observe(self) -> np.ndarray:
        """The flat float32 observation of the current MuJoCo state."""
        raise NotImplementedError

    def reward(self, state, action, next_state):
        """Reward of a transition; works on numpy arrays and torch tensors of shape [..., D]."""
        raise NotImplementedError

    def randomise_task(self) -> None:
        """Draw per-episode task parameters other than the condition (default: none)."""

    # -- Gymnasium API ---------------------------------------------------------------------

    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        """Nominal dynamics, a slightly perturbed initial pose; the condition is drawn when
        the schedule says (at step 0 unless it starts midway)."""
        super().reset(seed=seed)
        mujoco.mj_resetData(self.model, self.data)
        nq, nv = self.model.nq, self.model.nv
        self.data.qpos[:] = self.model.qpos0 + self.np_random.uniform(
            -INITIAL_POSITION_NOISE, INITIAL_POSITION_NOISE, nq)
        self.data.qvel[:] = INITIAL_VELOCITY_NOISE * self.np_random.standard_normal(nv)
        self.randomise_task()
        self.condition = None
        self._steps = 0
        self._update_condition()
        mujoco.mj_forward(self.model, self.data)
        return self.observe(), self._info()

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict]:
        """Apply the (clipped) action for ``frame_skip`` physics steps under the condition."""
        action = np.asarray(action, dtype=np.float32)
        if action.shape != self.action_space.shape or not np.all(np.isfinite(action)):
            raise ValueError(f"action must be a finite vector of shape {self.action_space.shape}, "
                             f"got {action!r}")
        action = np.clip(action, self.action_space.low, self.action_space.high)
        state = self.observe()
        self.apply(action)
        mujoco.mj_step(self.model, self.data, nstep=self.frame_skip)
        self._steps += 1
        next_state = self.observe()
        reward = float(self.reward(state, action, next_state))
        info = self._info()
        self._update_condition()
        return next_state, reward, False, self._steps >= self.episode_steps, info

    def render(self) -> np.ndarray | None:
        if self.render_mode is None:
            return None
        if self._renderer is None:
            self._renderer = mujoco.Renderer(self.model, 240, 320)
        self._renderer.update_scene(self.data)
        return self._renderer.render()

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None

    @property
    def steps(self) -> int:
        """Control steps since the last reset."""
        return self._steps

    def _update_condition(self) -> None:
        if self.schedule.draws_at(self._steps):
            self.condition = self.draw_condition(self.condition)

    def _info(self) -> dict:
        return {"condition": self.condition, "step": self._steps}


def actuated_mask(model: mujoco.MjModel, disabled: tuple[int, ...]) -> np.ndarray:
    """1 for each actuator that works, 0 for those listed in ``disabled``."""
    mask = np.ones(model.nu, dtype=np.float32)
    mask[list(disabled)] = 0.0
    return mask


def draw_other(rng: np.random.Generator, choices: tuple, current: Any) -> Any:
    """One of ``choices``, never ``current`` when another is available (a switch switches)."""
    options = [c for c in choices if c != current] or list(choices)
    return options[int(rng.integers(len(options)))]
