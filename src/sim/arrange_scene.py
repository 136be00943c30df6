"""The MuJoCo model of the arrangement twin: the push twin's PR2-like arm over a table
with two task objects and up to two distractor slots (thesis L4800-L4812).

FLO's object-arrangement data (thesis ch. 8.2.6.1) shows a pair of objects in many relative
positions, the arm somewhere in view and, in about a third of the images, distractors. The
scene reuses the push twin's pieces (Gym's Pusher arm, sliding object bodies, table, walls,
light) so a later planner can push the same objects with the same physics; only the camera
is closer, so that 4-5 cm objects still cover a few pixels of a 64x64 image.

Bodies: ``first`` and ``second`` (the task's objects) and ``clutter0``, ``clutter1``
(distractors, parked off the table when an image has fewer). Each slides on the table
through joints ``{body}_x``, ``{body}_y``, ``{body}_yaw``. The scene also holds the
planner's end effector, the mocap rod ``pusher``: FLO's planner scores frames in which the
rod stands beside the pair, so the classifier must have seen it, at random places, as
a nuisance like the arm (a classifier meta-trained without it scored 1 of 10 plans).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import mujoco

from sim.objects import ObjectSpec
from sim.push_scene import (
    ARM_BITS,
    OBJECT_BITS,
    PUSHER_XML,
    TABLE_Z,
    CameraPose,
    PushLook,
    _add_camera,
    _add_object_body,
    _add_surroundings,
    _remove_pusher_extras,
    _set_arm_contacts,
)
from sim.textures import Texture

CAMERA = "view"
CLUTTER_SLOTS = 2
PUSHER = "pusher"
PUSHER_RADIUS = 0.012            # m: a finger-sized rod
PUSHER_HALF_HEIGHT = 0.04        # m: tall enough to reach every object's side
PUSHER_LIFT = 0.002              # m between the rod's foot and the table
PUSHER_COLOUR = (0.15, 0.15, 0.15, 1.0)
# Looking at the workspace from the side opposite the arm's shoulder, steeply from above.
ARRANGE_CAMERA = CameraPose(target=(0.45, -0.15, TABLE_Z), distance=0.75, azimuth=-90.0,
                            elevation=70.0)


@dataclass(frozen=True)
class ArrangeLook:
    """What needs a new model: the two task objects, the distractors, and the table."""

    first: ObjectSpec
    second: ObjectSpec
    clutter: tuple[ObjectSpec, ...]
    table: Texture

    def __post_init__(self) -> None:
        if len(self.clutter) != CLUTTER_SLOTS:
            raise ValueError(f"an arrangement scene has {CLUTTER_SLOTS} distractor slots, "
                             f"got {len(self.clutter)} distractors")


def body_names() -> tuple[str, ...]:
    """The object bodies of an arrangement scene, task objects first."""
    return ("first", "second", *(f"clutter{i}" for i in range(CLUTTER_SLOTS)))


def build_arrange_model(look: ArrangeLook) -> mujoco.MjModel:
    """Compile the arrangement scene (shadows and multisampling off: fast renders)."""
    return compile_fast(arrange_spec(look))


def compile_fast(spec: mujoco.MjSpec) -> mujoco.MjModel:
    """Compile ``spec`` with shadows and multisampling off (fast renders)."""
    model = spec.compile()
    model.light_castshadow[:] = 0
    model.vis.quality.offsamples = 0
    return model


def arrange_spec(look: ArrangeLook) -> mujoco.MjSpec:
    """The arrangement scene, uncompiled, for variants such as the pushing twin."""
    spec = mujoco.MjSpec.from_file(str(PUSHER_XML))
    spec.modelname = "oneshot_arrange"
    _remove_pusher_extras(spec)
    _set_arm_contacts(spec)
    for name, obj in zip(body_names(), (look.first, look.second, *look.clutter)):
        _add_object_body(spec, name, obj)
    _add_surroundings(spec, PushLook(target=look.first, distractor=look.second,
                                     table=look.table, background=None))
    _add_camera(spec, CAMERA, ARRANGE_CAMERA)
    rod = spec.worldbody.add_body(name=PUSHER, mocap=True, pos=[0.45, 0.0, pusher_height()])
    rod.add_geom(name=PUSHER, type=mujoco.mjtGeom.mjGEOM_CYLINDER,
                 size=[PUSHER_RADIUS, PUSHER_HALF_HEIGHT, 0], rgba=list(PUSHER_COLOUR),
                 contype=ARM_BITS, conaffinity=OBJECT_BITS, condim=3)
    return spec


def pusher_height() -> float:
    """World z of the pusher rod's centre."""
    return TABLE_Z + PUSHER_LIFT + PUSHER_HALF_HEIGHT


def image_axes() -> tuple[tuple[float, float], tuple[float, float]]:
    """Unit vectors on the table (world x, y) of the image's right and of "behind"
    (away from the camera), so relations read as a viewer of the image reads them."""
    az = math.radians(ARRANGE_CAMERA.azimuth)
    away = (math.cos(az), math.sin(az))
    right = (away[1], -away[0])
    return right, away
