"""The arrangement twin with a pusher: an end effector a planner can move objects with.

FLO's object-arrangement planner (thesis L4781-L4790) optimises end-effector actions of a
Sawyer that pushes the pair into the goal arrangement. The arrangement scene's arm is
scenery posed for images; every arrangement scene holds a kinematic pusher, a mocap rod
(:data:`sim.arrange_scene.PUSHER`) that slides over the table and pushes objects. For
planning, the arm's contacts and motors are removed so a pose stays put and only the rod
moves things. Its position is the action's target, so a batched rollout drives it through
``mujoco.rollout`` as a mocap control.
"""
from __future__ import annotations

import mujoco
import numpy as np

from sim.arrange_scene import (
    PUSHER,
    PUSHER_RADIUS,
    ArrangeLook,
    arrange_spec,
    compile_fast,
    pusher_height,
)

__all__ = ["PUSHER", "PUSHER_RADIUS", "build_pushing_model", "place_pusher", "pusher_height"]


def build_pushing_model(look: ArrangeLook) -> mujoco.MjModel:
    """The arrangement scene of ``look`` with a motionless, contact-free arm."""
    spec = arrange_spec(look)
    for actuator in list(spec.actuators):
        actuator.delete()
    for geom in spec.body("r_shoulder_pan_link").find_all(mujoco.mjtObj.mjOBJ_GEOM):
        geom.contype, geom.conaffinity = 0, 0
    return compile_fast(spec)


def place_pusher(model: mujoco.MjModel, data: mujoco.MjData, xy: np.ndarray) -> None:
    """Put the pusher at table point ``xy`` (world x, y) and recompute the pose."""
    data.mocap_pos[model.body(PUSHER).mocapid[0]] = (*xy, pusher_height())
    mujoco.mj_forward(model, data)
