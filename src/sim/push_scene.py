"""The MuJoCo model of the push twin, built in code from Gymnasium's Pusher arm.

The thesis's simulated pushing starts from the OpenAI Gym PusherEnv (L3102-L3109): a
7-DoF PR2-like arm (joints ``r_shoulder_pan_joint`` ... ``r_wrist_roll_joint``, the real
PR2's names) pushing on a table. This module loads Gymnasium's ``pusher_v5.xml`` from the
installed package and, with ``mujoco.MjSpec``, replaces its single cylinder by two of our
procedural objects (the target and one distractor), adds the red goal disc, a textured
table and walls, cameras and lights.

Physics choices (Gym's Pusher has no gravity; its arm keeps that):
- objects slide on the table through planar joints (slide x, slide y, hinge z); table
  friction is Coulomb friction ``mu * m * g`` as joint friction loss on those joints, so
  mass and friction both change how an object moves when pushed;
- contacts: arm <-> objects and object <-> object; objects do not touch the table plane
  (their height is held by the planar joints).

The human demonstrator (thesis L3658-L3672) replaces the arm by a skin-toned hand and
forearm: a mocap body that follows a scripted path and pushes objects through contact.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import gymnasium
import mujoco
import numpy as np

from sim.appearance import Background
from sim.hand import add_hand
from sim.objects import ObjectSpec, add_object
from sim.textures import Texture, add_texture_material

PUSHER_XML = Path(gymnasium.__file__).parent / "envs" / "mujoco" / "assets" / "pusher_v5.xml"
JOINT_NAMES = ("r_shoulder_pan_joint", "r_shoulder_lift_joint", "r_upper_arm_roll_joint",
               "r_elbow_flex_joint", "r_forearm_roll_joint", "r_wrist_flex_joint",
               "r_wrist_roll_joint")
TABLE_Z = -0.325                 # the table plane's height in Gym's Pusher model (m)
GOAL_RADIUS = 0.08               # drawn radius of the red goal disc (m)
GRAVITY = 9.81                   # only for the table friction of objects (N/kg)
OBJECT_DAMPING = 0.5             # viscous damping on the planar joints, as Gym's Pusher
ARM_BITS, OBJECT_BITS, TABLE_BITS = 1, 2, 4   # contact groups: arm/hand, objects, table
CAMERA = "view"
DEMONSTRATORS = ("robot", "human")


@dataclass(frozen=True)
class CameraPose:
    """A camera looking at ``target`` from ``distance`` m, at ``azimuth`` (deg, about z,
    0 = looking along +x) and ``elevation`` (deg below the horizon)."""

    target: tuple[float, float, float]
    distance: float
    azimuth: float
    elevation: float
    fovy: float = 45.0

    def position(self) -> np.ndarray:
        az, el = math.radians(self.azimuth), math.radians(self.elevation)
        back = np.array([-math.cos(el) * math.cos(az), -math.cos(el) * math.sin(az), math.sin(el)])
        return np.array(self.target) + self.distance * back

    def xyaxes(self) -> list[float]:
        """Camera x (right) and y (up) axes in the world, for MuJoCo's ``xyaxes``."""
        forward = np.array(self.target) - self.position()
        forward /= np.linalg.norm(forward)
        right = np.cross(forward, [0.0, 0.0, 1.0])
        right /= np.linalg.norm(right)
        up = np.cross(right, forward)
        return [*right, *up]


# Both cameras frame the area layouts use (goal, target and distractor centres lie in
# x 0.36-0.64, y -0.40 to -0.08 m; with the objects' and the goal's radii, x 0.31-0.69,
# y -0.45 to -0.03): it spans about 50 of the 64 columns, and an object 10 (robot) or 9
# (human) pixels. Framed from 1.3 m the layouts took 16 x 14 pixels, two cells of the
# policies' last 8 x 8 feature map, and the objects 5 pixels.
LAYOUT_CENTRE = (0.50, -0.24, TABLE_Z)
ROBOT_CAMERA_POSE = CameraPose(target=LAYOUT_CENTRE, distance=0.7, azimuth=-90.0, elevation=60.0)
HUMAN_CAMERA_POSE = CameraPose(target=LAYOUT_CENTRE, distance=0.8, azimuth=-125.0, elevation=42.0)
DEFAULT_CAMERAS = {"robot": ROBOT_CAMERA_POSE, "human": HUMAN_CAMERA_POSE}
LAB_WALL = Texture(kind="plain", primary=(0.55, 0.55, 0.58), secondary=(0.55, 0.55, 0.58), seed=0)


@dataclass(frozen=True)
class PushLook:
    """Everything of a push scene that needs a new model: what is on the table and how
    the world looks. Positions are not part of it: they change at every reset."""

    target: ObjectSpec
    distractor: ObjectSpec
    table: Texture
    background: Background | None      # None: the robot lab's plain walls and light
    demonstrator: str = "robot"
    camera: CameraPose | None = None   # None: the demonstrator's default view


def _remove_pusher_extras(spec: mujoco.MjSpec) -> None:
    """Drop Gym's cylinder and goal bodies (and their joints): ours replace them."""
    for name in ("object", "goal"):
        spec.detach_body(spec.body(name))


def _remove_arm(spec: mujoco.MjSpec) -> None:
    """The human domain shows no robot: remove the arm and its motors."""
    for actuator in list(spec.actuators):
        actuator.delete()
    spec.detach_body(spec.body("r_shoulder_pan_link"))


def _set_arm_contacts(spec: mujoco.MjSpec) -> None:
    """Arm geoms touch objects (and the table) but not each other, as in Gym's model."""
    for geom in spec.body("r_shoulder_pan_link").find_all(mujoco.mjtObj.mjOBJ_GEOM):
        if geom.contype:
            geom.contype, geom.conaffinity = ARM_BITS, OBJECT_BITS


def _add_pusher_site(spec: mujoco.MjSpec) -> None:
    """A site at the middle of the wrist's U-shaped pusher bar: the expert's handle."""
    spec.body("r_wrist_roll_link").add_site(name="pusher", pos=[0.02, 0.0, 0.0], size=[0.01, 0, 0])


def _add_object_body(spec: mujoco.MjSpec, name: str, obj: ObjectSpec) -> None:
    """A body sliding on the table (x, y, yaw) with Coulomb table friction."""
    body = spec.worldbody.add_body(name=name, pos=[0.45, 0.0, TABLE_Z + obj.half_height])
    coulomb = obj.friction * obj.mass * GRAVITY
    for axis_name, kind, axis in (("x", mujoco.mjtJoint.mjJNT_SLIDE, [1, 0, 0]),
                                  ("y", mujoco.mjtJoint.mjJNT_SLIDE, [0, 1, 0]),
                                  ("yaw", mujoco.mjtJoint.mjJNT_HINGE, [0, 0, 1])):
        rotational = kind == mujoco.mjtJoint.mjJNT_HINGE
        body.add_joint(name=f"{name}_{axis_name}", type=kind, axis=axis,
                       limited=mujoco.mjtLimited.mjLIMITED_FALSE,
                       damping=OBJECT_DAMPING * (0.01 if rotational else 1.0),
                       frictionloss=coulomb * (obj.footprint_radius if rotational else 1.0))
    add_object(spec, body, obj, prefix=name, contype=OBJECT_BITS, conaffinity=ARM_BITS | OBJECT_BITS)


def _add_goal(spec: mujoco.MjSpec) -> None:
    goal = spec.worldbody.add_body(name="goal", mocap=True, pos=[0.45, -0.05, TABLE_Z])
    goal.add_geom(name="goal", type=mujoco.mjtGeom.mjGEOM_CYLINDER, size=[GOAL_RADIUS, 0.001, 0],
                  pos=[0, 0, 0.001], rgba=[1, 0, 0, 1], contype=0, conaffinity=0)


def _add_surroundings(spec: mujoco.MjSpec, look: PushLook) -> None:
    """Table texture (or the background's cloth over it), walls around the table, and
    the lights."""
    table = spec.geom("table")
    table.size = [2.5, 2.5, 0.1]
    table.contype, table.conaffinity = TABLE_BITS, ARM_BITS    # the arm, not objects
    surface = look.background.cloth if look.background else look.table
    table.material = add_texture_material(spec, "table", surface, mujoco.mjtTexture.mjTEXTURE_2D,
                                          repeat=(4.0, 4.0))
    table.rgba = [1, 1, 1, 1]
    wall = look.background.wall if look.background else LAB_WALL
    wall_material = add_texture_material(spec, "wall", wall, mujoco.mjtTexture.mjTEXTURE_CUBE)
    for name, pos, size in (("wall_far", [0.5, 1.5, 0.2], [1.5, 0.02, 0.6]),
                            ("wall_left", [-0.9, 0.3, 0.2], [0.02, 1.5, 0.6]),
                            ("wall_right", [1.9, 0.3, 0.2], [0.02, 1.5, 0.6]),
                            ("wall_near", [0.5, -1.9, 0.2], [1.5, 0.02, 0.6])):
        spec.worldbody.add_geom(name=name, type=mujoco.mjtGeom.mjGEOM_BOX, pos=pos, size=size,
                                material=wall_material, contype=0, conaffinity=0)
    for light in list(spec.worldbody.lights):
        light.delete()
    direction = look.background.light_dir if look.background else (0.0, 0.3, -1.0)
    diffuse = look.background.diffuse if look.background else 0.6
    ambient = look.background.ambient if look.background else 0.35
    spec.worldbody.add_light(name="key", pos=[0.45, -0.1, 1.5], dir=list(direction),
                             directional=True, diffuse=[diffuse] * 3, specular=[0.1] * 3,
                             castshadow=False)
    spec.visual.headlight.ambient = [ambient] * 3
    spec.visual.headlight.diffuse = [0.2] * 3
    spec.visual.headlight.specular = [0.0] * 3


def _add_camera(spec: mujoco.MjSpec, name: str, pose: CameraPose) -> None:
    spec.worldbody.add_camera(name=name, pos=list(pose.position()), fovy=pose.fovy)
    camera = spec.camera(name)
    camera.alt.xyaxes = pose.xyaxes()
    camera.alt.type = mujoco.mjtOrientation.mjORIENTATION_XYAXES


def build_push_model(look: PushLook) -> mujoco.MjModel:
    """Compile the push scene for ``look`` (shadows and multisampling off: fast renders)."""
    if look.demonstrator not in DEMONSTRATORS:
        raise ValueError(f"demonstrator must be one of {DEMONSTRATORS}, got {look.demonstrator!r}")
    spec = mujoco.MjSpec.from_file(str(PUSHER_XML))
    spec.modelname = "oneshot_push"
    _remove_pusher_extras(spec)
    if look.demonstrator == "human":
        _remove_arm(spec)
        add_hand(spec, [0.45, -0.5, TABLE_Z + 0.2], contype=ARM_BITS, conaffinity=OBJECT_BITS)
    else:
        _set_arm_contacts(spec)
        _add_pusher_site(spec)
    _add_object_body(spec, "target", look.target)
    _add_object_body(spec, "distractor", look.distractor)
    _add_goal(spec)
    _add_surroundings(spec, look)
    _add_camera(spec, CAMERA, look.camera or DEFAULT_CAMERAS[look.demonstrator])
    model = spec.compile()
    model.light_castshadow[:] = 0
    model.vis.quality.offsamples = 0
    return model
