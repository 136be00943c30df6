"""The Sawyer twins' human demonstrator domain (thesis L3658-L3672): the model edits.

DAML's human demos show a person doing the robot's task, with the same objects but a
different view, background and lighting, and their own start, timing and length
(L3668-L3672). Here the person is :func:`sim.hand.add_hand`'s skin-toned hand and forearm,
a mocap body the env moves at the commanded velocity; nothing of the robot is left:

* :func:`remove_robot` takes Meta-World's Sawyer (pedestal, arm, gripper), its finger
  motors and the mocap body and weld that drive its hand out of the model;
* :func:`humanize` puts the hand and a camera of its own (:data:`HUMAN_VIEW`: from the
  table's far left corner, where the robot's camera looks straight across it) into the
  scene, and walls round the table in the background's wall texture, since that camera
  sees more of the room;
* :func:`add_carry_weld` is how the hand holds the placing task's object: a weld
  between hand and object that the env switches on (hold) and off (release).
"""
from __future__ import annotations

from typing import Sequence

import mujoco
import numpy as np

from sim.hand import add_hand
from sim.push_scene import CameraPose

HUMAN_CAMERA = "human"
HUMAN_VIEW = CameraPose(target=(0.0, 0.56, 0.05), distance=1.05, azimuth=-35.0, elevation=45.0,
                        fovy=50.0)
HAND_SPEED_LIMIT = 0.4           # m/s: the action box of the hand's velocity
HAND_TURN_LIMIT = 3.0            # rad/s: the action box of its turn rate (pushing)
HUMAN_HAND_LOW = np.array([-0.35, 0.25, 0.005])   # bounds of the hand's origin (m): over the table
HUMAN_HAND_HIGH = np.array([0.35, 0.95, 0.35])
HAND_YAWS = (np.pi / 2 - 0.4, np.pi / 2 + 0.4)   # start headings: fingers away from the robot
GRIP_POINT = (-0.012, 0.0)       # m, hand frame: the held object's centre, under the fingertips
GRIP_TOP = 0.012                 # m: the held object's top lies this high above the hand's origin
GRASP_REACH = 0.02               # m: hold takes the object only this close to the grip point
CARRY_SOLREF = (0.01, 1.0)       # a stiff weld: the object hangs on it without sagging
ROOM_WALLS = (("wall_left", (-1.6, 0.5, 0.3), (0.02, 1.5, 1.3)),
              ("wall_right", (1.6, 0.5, 0.3), (0.02, 1.5, 1.3)),
              ("wall_far", (0.0, 2.0, 0.3), (1.6, 0.02, 1.3)))


def remove_robot(spec: mujoco.MjSpec) -> None:
    """Drop the Sawyer (pedestal, arm and gripper, with the cameras on it), its finger
    motors, and the mocap body and weld that move its hand: the human domain shows no robot."""
    for equality in list(spec.equalities):
        equality.delete()
    for actuator in list(spec.actuators):
        actuator.delete()
    for body in ("base", "mocap"):
        spec.detach_body(spec.body(body))


def humanize(spec: mujoco.MjSpec, wall_material: str, contype: int, conaffinity: int) -> None:
    """Replace the robot by the hand (body "hand", touching with ``contype`` and
    ``conaffinity``), add the human camera and the room's other walls."""
    remove_robot(spec)
    for name, pos, size in ROOM_WALLS:
        spec.worldbody.add_geom(name=name, type=mujoco.mjtGeom.mjGEOM_BOX, pos=list(pos),
                                size=list(size), material=wall_material, contype=0,
                                conaffinity=0)
    camera = spec.worldbody.add_camera(name=HUMAN_CAMERA, pos=list(HUMAN_VIEW.position()),
                                       fovy=HUMAN_VIEW.fovy)
    camera.alt.type = mujoco.mjtOrientation.mjORIENTATION_XYAXES
    camera.alt.xyaxes = HUMAN_VIEW.xyaxes()
    add_hand(spec, [0.0, 0.5, 0.2], contype=contype, conaffinity=conaffinity)


def add_carry_weld(spec: mujoco.MjSpec, hand: str, held: str) -> None:
    """A stiff weld from ``hand`` to ``held`` (off until the env sets its relative pose and
    switches it on), and no contacts between them: the weld is the grip. Its data are
    MuJoCo's: anchor (3), ``held``'s pose in ``hand``'s frame (position 3, quaternion 4),
    torque scale."""
    spec.add_equality(name="carry", type=mujoco.mjtEq.mjEQ_WELD, objtype=mujoco.mjtObj.mjOBJ_BODY,
                      name1=hand, name2=held, active=False, solref=list(CARRY_SOLREF),
                      data=[0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1])
    spec.add_exclude(bodyname1=hand, bodyname2=held)


def grip_offset(half_height: float) -> np.ndarray:
    """Where a held object's centre lies in the hand's frame: under the fingertips, which
    rest on its top."""
    return np.array([*GRIP_POINT, GRIP_TOP - half_height])


def relative_pose(pos: np.ndarray, quat: np.ndarray, other_pos: np.ndarray,
                  other_quat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The pose (position, quaternion) of ``other`` in the frame at ``pos, quat``."""
    inverse = np.zeros(4)
    mujoco.mju_negQuat(inverse, quat)
    offset, turn = np.zeros(3), np.zeros(4)
    mujoco.mju_rotVecQuat(offset, np.asarray(other_pos, float) - pos, inverse)
    mujoco.mju_mulQuat(turn, inverse, np.asarray(other_quat, float))
    return offset, turn


def in_hand_frame(quat: np.ndarray, offset: Sequence[float]) -> np.ndarray:
    """``offset`` (hand frame) rotated into the world by the hand's ``quat``."""
    world = np.zeros(3)
    mujoco.mju_rotVecQuat(world, np.asarray(offset, float), np.asarray(quat, float))
    return world
