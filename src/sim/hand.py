"""The human demonstrator's hand: a skin-toned right hand and forearm, a mocap body.

DAML learns from videos of a person (thesis L3658-L3672); in the twins a person is this
hand, moved along an expert's path. Being a mocap body, it goes exactly where it is put
and pushes (or carries) objects through contact, as a hand would; nothing of a robot is
in view.
"""
from __future__ import annotations

from typing import Sequence

import mujoco

SKIN = (0.87, 0.67, 0.55)


def add_hand(spec: mujoco.MjSpec, pos: Sequence[float], contype: int, conaffinity: int,
             name: str = "hand") -> mujoco.MjsBody:
    """Add the hand as mocap body ``name`` at ``pos``; returns the body.

    Palm down, fingers along +x of the hand frame, the forearm rising behind it (out of
    view in the twins' cameras). The hand's origin is the middle of the fingers' front
    edge at their lowest point; only palm and fingers touch (``contype``/``conaffinity``).
    """
    hand = spec.worldbody.add_body(name=name, mocap=True, pos=list(pos))
    skin = [*SKIN, 1.0]
    touch = dict(contype=contype, conaffinity=conaffinity, condim=3, rgba=skin)
    hand.add_geom(name=f"{name}_palm", type=mujoco.mjtGeom.mjGEOM_BOX, size=[0.045, 0.04, 0.015],
                  pos=[-0.075, 0, 0.03], **touch)
    for i, y in enumerate((-0.027, -0.009, 0.009, 0.027)):
        hand.add_geom(name=f"{name}_finger{i}", type=mujoco.mjtGeom.mjGEOM_CAPSULE,
                      size=[0.008, 0, 0], fromto=[-0.03, y, 0.028, 0.0, y, 0.012], **touch)
    hand.add_geom(name=f"{name}_thumb", type=mujoco.mjtGeom.mjGEOM_CAPSULE, size=[0.009, 0, 0],
                  fromto=[-0.08, -0.04, 0.03, -0.05, -0.06, 0.015], **touch)
    hand.add_geom(name=f"{name}_forearm", type=mujoco.mjtGeom.mjGEOM_CAPSULE, size=[0.03, 0, 0],
                  fromto=[-0.12, 0, 0.04, -0.5, 0, 0.45], rgba=skin, contype=0, conaffinity=0)
    return hand
