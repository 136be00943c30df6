"""The arrangement twin with a pusher: an end effector a planner can move objects with.

FLO's object-arrangement planner (thesis L4781-L4790) optimises end-effector actions of a
Sawyer that pushes the pair into the goal arrangement. The arrangement scene's arm is
scenery posed for images; for planning, the scene gains a kinematic pusher: a mocap
cylinder that slides over the table and pushes objects (not the table or the arm, whose
contacts and motors are removed so a pose stays put). Its position is the action's
target, so a batched rollout drives it through ``mujoco.rollout`` as a mocap control.
"""
from __future__ import annotations

import mujoco
import numpy as np

from sim.arrange_scene import ArrangeLook, arrange_spec, compile_fast
from sim.push_scene import ARM_BITS, OBJECT_BITS, TABLE_Z

PUSHER = "pusher"
PUSHER_RADIUS = 0.012            # m: a finger-sized rod
PUSHER_HALF_HEIGHT = 0.04        # m: tall enough to reach every object's side
PUSHER_LIFT = 0.002              # m between the rod's foot and the table
PUSHER_COLOUR = (0.15, 0.15, 0.15, 1.0)


def build_pushing_model(look: ArrangeLook) -> mujoco.MjModel:
    """The arrangement scene of ``look`` with a mocap pusher and a motionless arm."""
    spec = arrange_spec(look)
    for actuator in list(spec.actuators):
        actuator.delete()
    for geom in spec.body("r_shoulder_pan_link").find_all(mujoco.mjtObj.mjOBJ_GEOM):
        geom.contype, geom.conaffinity = 0, 0
    rod = spec.worldbody.add_body(name=PUSHER, mocap=True, pos=[0.45, 0.0, pusher_height()])
    rod.add_geom(name=PUSHER, type=mujoco.mjtGeom.mjGEOM_CYLINDER,
                 size=[PUSHER_RADIUS, PUSHER_HALF_HEIGHT, 0], rgba=list(PUSHER_COLOUR),
                 contype=ARM_BITS, conaffinity=OBJECT_BITS, condim=3)
    return compile_fast(spec)


def pusher_height() -> float:
    """World z of the pusher's centre."""
    return TABLE_Z + PUSHER_LIFT + PUSHER_HALF_HEIGHT


def place_pusher(model: mujoco.MjModel, data: mujoco.MjData, xy: np.ndarray) -> None:
    """Put the pusher at table point ``xy`` (world x, y) and recompute the pose."""
    data.mocap_pos[model.body(PUSHER).mocapid[0]] = (*xy, pusher_height())
    mujoco.mj_forward(model, data)
