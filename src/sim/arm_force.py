"""7-DoF arm carrying an object to a goal under an external force (GBAC task, thesis
L2644-L2651).

Gymnasium's ``pusher.xml`` arm (PR2-like, 7 torque-controlled joints, no gravity). Its free
puck and goal marker are removed; the carried object is a 0.1 kg sphere held between the
fingertips, and the condition is a constant force (N, world frame) on it. Meta-training
draws a direction uniformly on the sphere and a magnitude in ``[0, TRAIN_FORCE]``; the
thesis tests (k) a constant low force, (l) a force 3x stronger than in training and
(m) a force redrawn every 50 steps. A task's goal is a point in front of the arm, drawn at
reset.

Control period 0.05 s (five physics steps of 0.01 s, as Gymnasium's pusher); reward
``-|ee - g|^2`` (Table 15, L6373-L6390); episodes are 500 steps (Table 18). Observation:
7 joint angles, 7 joint velocities, end-effector position, goal position (20 floats).
"""

from __future__ import annotations

from typing import Any

import mujoco
import numpy as np

from sim.changing_dynamics import GYM_ASSETS, ChangingDynamicsEnv, Schedule

EPISODE_STEPS = 500
TRAIN_FORCE = 1.0            # N: the largest force magnitude meta-training sees
LOW_FORCE = 0.5              # N: task (k)
STRONG_FORCE = 3 * TRAIN_FORCE   # task (l)
CHANGE_EVERY = 50            # task (m)
PAYLOAD_MASS = 0.1           # kg
PAYLOAD_RADIUS = 0.03        # m
GOAL_LOW = np.array([0.3, -0.9, -0.3])
GOAL_HIGH = np.array([0.7, -0.3, 0.2])
EE = slice(14, 17)
GOAL = slice(17, 20)


def carrying_model() -> mujoco.MjModel:
    """The pusher arm without its puck and goal marker, a payload between its fingertips."""
    spec = mujoco.MjSpec.from_file(str(GYM_ASSETS / "pusher.xml"))
    for name in ("object", "goal"):
        spec.detach_body(spec.body(name))
    payload = spec.body("tips_arm").add_geom()
    payload.name = "payload"
    payload.type = mujoco.mjtGeom.mjGEOM_SPHERE
    payload.size = [PAYLOAD_RADIUS, 0, 0]
    payload.pos = [0.1, 0, 0]
    payload.mass = PAYLOAD_MASS
    return spec.compile()


class ArmForceEnv(ChangingDynamicsEnv):
    """Bring the carried object to the goal while a force of ``magnitude`` (N, or drawn in
    ``[0, magnitude]`` when ``fixed_magnitude`` is False) pushes it, per the ``schedule``."""

    dynamics_invariant_dims = (17, 18, 19)   # the goal: the physics does not depend on it

    def __init__(self, magnitude: float = TRAIN_FORCE, fixed_magnitude: bool = False,
                 schedule: Schedule = Schedule(), episode_steps: int = EPISODE_STEPS,
                 render_mode: str | None = None) -> None:
        if magnitude < 0:
            raise ValueError(f"magnitude must be >= 0, got {magnitude}")
        self.magnitude = magnitude
        self.fixed_magnitude = fixed_magnitude
        model = carrying_model()
        self._payload = model.body("tips_arm").id
        self._tips = (model.geom("tip_arml").id, model.geom("tip_armr").id)
        self.goal = (GOAL_LOW + GOAL_HIGH) / 2
        super().__init__(model, frame_skip=5, episode_steps=episode_steps, schedule=schedule,
                         render_mode=render_mode)

    def randomise_task(self) -> None:
        self.goal = self.np_random.uniform(GOAL_LOW, GOAL_HIGH)

    def draw_condition(self, current: Any) -> tuple[float, float, float]:
        direction = self.np_random.standard_normal(3)
        direction /= np.linalg.norm(direction)
        size = self.magnitude if self.fixed_magnitude else self.np_random.uniform(0, self.magnitude)
        return tuple(float(f) for f in size * direction)

    def apply(self, action: np.ndarray) -> None:
        self.data.ctrl[:] = action
        self.data.xfrc_applied[:] = 0.0
        if self.condition is not None:
            self.data.xfrc_applied[self._payload, :3] = self.condition

    @property
    def end_effector(self) -> np.ndarray:
        """Midpoint of the two fingertips, where the object is held."""
        return self.data.geom_xpos[list(self._tips)].mean(axis=0)

    def observe(self) -> np.ndarray:
        return np.concatenate([self.data.qpos, self.data.qvel, self.end_effector,
                               self.goal]).astype(np.float32)

    def reward(self, state, action, next_state):
        """Minus the squared distance of the end effector to the goal (Table 15)."""
        return -((next_state[..., EE] - next_state[..., GOAL]) ** 2).sum(-1)


VARIANTS = {
    "train": {},
    "constant": {"magnitude": LOW_FORCE, "fixed_magnitude": True},
    "strong": {"magnitude": STRONG_FORCE, "fixed_magnitude": True},
    "changing": {"schedule": Schedule(first=0, every=CHANGE_EVERY)},
}


def make(variant: str = "train", **kwargs) -> ArmForceEnv:
    """The twin of a test condition: ``train``, ``constant`` (k), ``strong`` (l),
    ``changing`` (m)."""
    return ArmForceEnv(**{**VARIANTS[variant], **kwargs})
