"""Half-cheetah with a disabled joint (GBAC task, thesis L2620-L2627).

Gymnasium's ``half_cheetah.xml``; the condition is the index of the one joint whose motor
gives no torque. Meta-training disables one of :data:`SEEN_JOINTS`; the thesis tests (a) a
seen joint, (b) an unseen one and (c) switching between disabled joints during a rollout.
The thesis does not say which joint is held out: here the front thigh (``fthigh``, a
strong 120-gear motor, so losing it matters), which no training episode disables.

Control period 0.01 s (one physics step of the model's 0.01 s), the denominator of the
Table 15 reward ``(x_{t+1} - x_t) / 0.01 - 0.05 |a|^2`` (L6373-L6390); episodes are 1000
steps (Table 16, L6405). Observation: ``qpos`` (root x first) then ``qvel``, 18 floats.
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

JOINTS = ("bthigh", "bshin", "bfoot", "fthigh", "fshin", "ffoot")
UNSEEN_JOINTS = (3,)
SEEN_JOINTS = tuple(j for j in range(len(JOINTS)) if j not in UNSEEN_JOINTS)
EPISODE_STEPS = 1000
SWITCH_EVERY = 250          # task (c): a new disabled joint every 250 steps (2.5 s)
CONTROL_COST = 0.05


class CheetahJointEnv(ChangingDynamicsEnv):
    """Run forward with one disabled joint, drawn from ``joints`` per the ``schedule``."""

    dynamics_invariant_dims = (0,)   # root x: the physics does not depend on it

    def __init__(self, joints: tuple[int, ...] = SEEN_JOINTS, schedule: Schedule = Schedule(),
                 episode_steps: int = EPISODE_STEPS, render_mode: str | None = None) -> None:
        if not joints or any(j not in range(len(JOINTS)) for j in joints):
            raise ValueError(f"joints must be indices into {JOINTS}, got {joints}")
        self.joints = tuple(joints)
        model = mujoco.MjModel.from_xml_path(str(GYM_ASSETS / "half_cheetah.xml"))
        super().__init__(model, frame_skip=1, episode_steps=episode_steps, schedule=schedule,
                         render_mode=render_mode)

    def draw_condition(self, current: Any) -> int:
        return int(draw_other(self.np_random, self.joints, current))

    def apply(self, action: np.ndarray) -> None:
        disabled = () if self.condition is None else (self.condition,)
        self.data.ctrl[:] = action * actuated_mask(self.model, disabled)

    def observe(self) -> np.ndarray:
        return np.concatenate([self.data.qpos, self.data.qvel]).astype(np.float32)

    def reward(self, state, action, next_state):
        """Forward speed of the root minus the control cost (Table 15)."""
        speed = (next_state[..., 0] - state[..., 0]) / self.dt
        return speed - CONTROL_COST * (action ** 2).sum(-1)


VARIANTS = {
    "train": {},
    "seen": {},
    "unseen": {"joints": UNSEEN_JOINTS},
    "switch": {"schedule": Schedule(first=0, every=SWITCH_EVERY)},
}


def make(variant: str = "train", **kwargs) -> CheetahJointEnv:
    """The twin of a test condition: ``train``/``seen`` (a), ``unseen`` (b), ``switch`` (c)."""
    return CheetahJointEnv(**{**VARIANTS[variant], **kwargs})
