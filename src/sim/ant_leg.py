"""Ant with a crippled leg (GBAC task, thesis L2637-L2643).

Gymnasium's ``ant.xml``; the condition is the crippled leg (1-4, named by the model's
``hip_k``/``ankle_k`` joints), whose two motors give no torque. Meta-training cripples one of
:data:`SEEN_LEGS`; the thesis tests (h) a seen leg, (i) an unseen leg and (j) crippling a
leg in the middle of a rollout (nominal before). Leg 4 (right back) is the held-out one
here; the thesis's extrapolation task also shrinks the leg, which this twin does not.

Control period 0.02 s (two physics steps of 0.01 s); the Table 15 denominator is garbled in
the source text ("0.0e", L6383), so the control period stands in for it as for the cheetah.
Reward ``(x_{t+1} - x_t) / dt - 0.005 |a|^2 + 0.05``; episodes are 500 steps (Table 17).
Observation: ``qpos`` (torso x, y, z, orientation quaternion, 8 joint angles) then ``qvel``,
29 floats; there is no early termination, a fallen ant keeps its (poor) reward.
"""

from __future__ import annotations

from typing import Any

import mujoco
import numpy as np

from sim.changing_dynamics import (
    GYM_ASSETS,
    ChangingDynamicsEnv,
    Schedule,
    actuated_mask,
    draw_other,
)

LEGS = (1, 2, 3, 4)
UNSEEN_LEGS = (4,)
SEEN_LEGS = tuple(leg for leg in LEGS if leg not in UNSEEN_LEGS)
EPISODE_STEPS = 500
CONTROL_COST = 0.005
ALIVE_BONUS = 0.05


def leg_actuators(model: mujoco.MjModel, leg: int) -> tuple[int, ...]:
    """Indices of the motors driving ``leg``'s hip and ankle."""
    joints = {f"hip_{leg}", f"ankle_{leg}"}
    return tuple(i for i in range(model.nu)
                 if model.joint(model.actuator_trnid[i, 0]).name in joints)


class AntLegEnv(ChangingDynamicsEnv):
    """Walk forward (+x) with one crippled leg, drawn from ``legs`` per the ``schedule``."""

    dynamics_invariant_dims = (0, 1)   # torso x, y: the physics does not depend on them

    def __init__(self, legs: tuple[int, ...] = SEEN_LEGS, schedule: Schedule = Schedule(),
                 episode_steps: int = EPISODE_STEPS, render_mode: str | None = None) -> None:
        if not legs or any(leg not in LEGS for leg in legs):
            raise ValueError(f"legs must be among {LEGS}, got {legs}")
        self.legs = tuple(legs)
        model = mujoco.MjModel.from_xml_path(str(GYM_ASSETS / "ant.xml"))
        self._leg_actuators = {leg: leg_actuators(model, leg) for leg in LEGS}
        super().__init__(model, frame_skip=2, episode_steps=episode_steps, schedule=schedule,
                         render_mode=render_mode)

    def draw_condition(self, current: Any) -> int:
        return int(draw_other(self.np_random, self.legs, current))

    def apply(self, action: np.ndarray) -> None:
        crippled = () if self.condition is None else self._leg_actuators[self.condition]
        self.data.ctrl[:] = action * actuated_mask(self.model, crippled)

    def observe(self) -> np.ndarray:
        return np.concatenate([self.data.qpos, self.data.qvel]).astype(np.float32)

    def reward(self, state, action, next_state):
        """Forward speed of the torso minus the control cost plus a bonus (Table 15)."""
        speed = (next_state[..., 0] - state[..., 0]) / self.dt
        return speed - CONTROL_COST * (action ** 2).sum(-1) + ALIVE_BONUS


VARIANTS = {
    "train": {},
    "seen": {},
    "unseen": {"legs": UNSEEN_LEGS},
    "midway": {"schedule": Schedule(first=EPISODE_STEPS // 2)},
}


def make(variant: str = "train", **kwargs) -> AntLegEnv:
    """The twin of a test condition: ``train``/``seen`` (h), ``unseen`` (i), ``midway`` (j)."""
    config = {**VARIANTS[variant], **kwargs}
    if variant == "midway" and "episode_steps" in kwargs:
        config["schedule"] = Schedule(first=kwargs["episode_steps"] // 2)
    return AntLegEnv(**config)
