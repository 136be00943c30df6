"""The Sawyer twin: placing and pushing (thesis L3658-L3674, L3099-L3113) with Gymnasium's API.

The arm, gripper, table and physics options are Meta-World's Sawyer model, loaded from the
installed ``metaworld`` package and edited in code (its joints are the real arm's
``right_j0..right_j6``, so one config drives twin and robot). Meta-World's task object
and goal are removed; the project's procedural objects, table textures and backgrounds
(:mod:`sim.objects`, :mod:`sim.appearance`) take their place.

Two families share the robot:

* ``place`` (:class:`SawyerPlaceEnv`): the gripper starts holding an object above the
  table; three open containers of different colours stand on it. A task is the target
  container's colour; the other two are distractors. Success, as the thesis measures
  placing (L3672-L3673): the object landed in or on the target container, counted here
  as resting there, out of the gripper, for at least 10 steps.
* ``sawyer-push`` (:class:`SawyerPushEnv`): the target object and one distractor object
  lie on the table with a red goal disc. A task is the target object. Success, as in the
  thesis's simulated pushing (L6826-L6827): the target's centre within the goal for at
  least 10 of the 100 steps; the distractor on the goal does not count.

Actions are float32 [4]: the end effector's velocity (x, y, z) in [-1, 1], scaled to
``MAX_SPEED`` m/s, and the gripper command in [-1, 1] (+1 closes, -1 opens); actions are
clipped to the box. The arm follows a mocap target that moves at that velocity (and
never leads the hand by more than ``MAX_LEAD``), as in Meta-World. Observations are
``{"image": uint8 [H, W, 3], "state": float32 [18]}`` with state
``[right_j0..6 angles, their velocities, fingertip-centre position (3), gripper opening]``.
An episode is 100 control steps at 10 Hz.

Human demonstrator (``demonstrator="human"``; DAML's human domain, thesis L3658-L3672):
the same tasks and objects, done by a person stand-in: the Sawyer is not in the model,
a skin-toned hand and forearm (:mod:`sim.hand`, :mod:`sim.sawyer_human`) moves instead,
seen by another camera, with the background's cloth on the table and its walls and light
round it; a background is drawn from ``background_split`` at every reset unless one is
fixed. Starts differ from the robot's and the person sets the pace (L3668-L3672). Actions
are float32 [4]: the hand's velocity (x, y, z) in m/s within ``HAND_SPEED_LIMIT``, then
for ``place`` the grip (> 0 holds, <= 0 lets go; the object hangs on a weld to the hand
while held, and hold takes it again only within ``GRASP_REACH`` of the fingertips) and for
``sawyer-push`` the turn rate about the vertical in rad/s (the hand pushes by contact).
``state`` is the tracked hand pose ``[position (3), quaternion (4)]``, for ``place``
followed by whether the hand holds the object (1.0 or 0.0).

Changes to Meta-World's scene: its retaining wall is gone (it hid the gripper from the
camera), the Sawyer's head and the table's legs are left out of renders (out of view;
their triangles dominate software rendering), shadows are off, and the fingers squeeze
with at most ``GRIP_FORCE`` (Meta-World's ~400 N sinks them into light objects) on
lighter finger joints, so they still close in about 0.1 s. A held object is shrunk to
fit the gripper's 8.9 cm opening and gripped at its centre of mass, a quarter turn
round if its thin part would lie between the fingers. Pushed objects slide on the table
(x, y and yaw joints with Coulomb friction ``mu m g``, as in the MIL pusher), so they
neither roll nor tip over.
"""
from __future__ import annotations

import dataclasses
import functools
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import gymnasium as gym
import mujoco
import numpy as np
from gymnasium import spaces

from sim.appearance import Background, background_by_name, backgrounds, table_textures
from sim.colours import SPLITS, Colour, resolve_colour, sample_distractor_colours, task_colour
from sim.geometry import segment_distance
from sim.objects import ObjectSpec, add_object, catalogue, object_by_name
from sim.push import yaw_quaternion
from sim.scene import size_argument
from sim.sawyer_human import (
    GRASP_REACH,
    HAND_SPEED_LIMIT,
    HAND_TURN_LIMIT,
    HAND_YAWS,
    HUMAN_CAMERA,
    HUMAN_HAND_HIGH,
    HUMAN_HAND_LOW,
    add_carry_weld,
    grip_offset,
    humanize,
    in_hand_frame,
    relative_pose,
)
from sim.textures import Texture, add_texture_material

JOINT_NAMES = tuple(f"right_j{i}" for i in range(7))
FINGER_JOINTS = ("r_close", "l_close")
FINGERTIPS = ("rightEndEffector", "leftEndEffector")    # sites at the two fingertips
PADS = ("rightpad_geom", "leftpad_geom")                  # the fingers' gripping pads
CAMERA = "front"
CONTROL_DT = 0.1                 # s: 10 Hz, the rate the Sawyer launch configs run at
FRAME_SKIP = 40                  # physics steps of Meta-World's 0.0025 s per control step
MOCAP_SUBSTEPS = 4               # the mocap target advances in this many increments per step
EPISODE_STEPS = 100
SUCCESS_STEPS = 10
MAX_SPEED = 0.25                 # m/s of the end effector at |action| = 1
MAX_LEAD = 0.05                  # m: how far the mocap target may run ahead of the hand
TCP_OFFSET = 0.045               # m: the fingertips' centre lies this far below the hand
HAND_LOW = np.array([-0.3, 0.4, 0.05])     # bounds of the hand's mocap target (m)
HAND_HIGH = np.array([0.3, 0.8, 0.3])
HOME_HAND = np.array([0.0, 0.6, 0.2])      # where the arm's cached home pose puts the hand
SETTLE_STEPS = 200               # physics steps for the arm to reach an episode's start
GRIP_FORCE = 30.0                # N: the most each finger squeezes with
GRIP_STEPS = 80                  # physics steps for the gripper to close on a held object
HIDDEN_GROUP = 3                 # geom group the renderer leaves out (it shows groups 0-2)
OBJECT_BITS, ROBOT_BITS = 2, 1   # contact bits of pushed objects and of robot/table/containers

CONTAINER_INNER = 0.065          # m: inner half width of an open container
CONTAINER_WALL = 0.006           # m: half thickness of its walls and floor
CONTAINER_HEIGHT = 0.045         # m: height of its walls above the table
CONTAINER_REGION = ((-0.25, 0.25), (0.47, 0.75))   # x, y ranges of container centres
CONTAINER_SEPARATION = 0.19      # m: centre-to-centre distance between any two containers
HELD_RADIUS = 0.033              # m: held objects are scaled down to this footprint ...
HELD_HALF_HEIGHT = 0.035         # ... and half height, so the gripper's 9 cm opening fits them
HELD_DROP = 0.02                 # m: the held object's centre lies this far below the hand
GRIP_YAWS = (0.0, np.pi / 2)     # headings tried for the held object, in this order
PLACE_START = ((-0.08, 0.08), (0.48, 0.56), (0.24, 0.26))  # x, y, z ranges of the start TCP
RESTING_SPEED = 0.05             # m/s over a control step: slower, a placed object is resting

GOAL_RADIUS = 0.05               # m: the red goal disc
GOAL_REGION = ((-0.2, 0.2), (0.6, 0.78))
OBJECT_REGION = ((-0.22, 0.22), (0.5, 0.74))
PUSH_START = ((-0.05, 0.05), (0.42, 0.48), (0.18, 0.2))
HAND_PLACE_START = ((-0.1, 0.1), (0.42, 0.55), (0.2, 0.27))   # the person's hand: x, y, z
HAND_PUSH_START = ((-0.12, 0.12), (0.35, 0.45), (0.16, 0.22))
MIN_PUSH_DISTANCE = 0.12         # m: the target starts at least this far from the goal
MAX_PUSH_DISTANCE = 0.3
APPROACH_GAP = 0.035             # m: free space between the target and the approach point
CLEARANCE = 0.05                 # m: free space kept around the target's path to the goal
GRAVITY = 9.81                   # m/s^2, for the objects' Coulomb friction on the table
DEMONSTRATORS = ("robot", "human")


class MissingMetaWorldError(ImportError):
    """The ``metaworld`` package (the Sawyer model's source) is not installed."""


def sawyer_model_path() -> Path:
    """The Meta-World scene file the twin starts from (found without importing it)."""
    found = importlib.util.find_spec("metaworld")
    if found is None or found.origin is None:
        raise MissingMetaWorldError("the Sawyer twin loads Meta-World's model: "
                                    "pip install metaworld==3.1.1")
    return Path(found.origin).parent / "assets" / "sawyer_xyz" / "sawyer_push_v3.xml"


# -- model building ---------------------------------------------------------------------


@dataclass(frozen=True)
class Look:
    """What a compiled model holds: the objects on the table and the scene's appearance."""

    objects: tuple[ObjectSpec, ...]
    table: Texture
    background: Background


def _load_sawyer() -> mujoco.MjSpec:
    """Meta-World's Sawyer scene without its task object and goal, with the hand welded to
    the mocap target at zero offset and pointing down."""
    spec = mujoco.MjSpec.from_file(str(sawyer_model_path()))
    spec.modelname = "oneshot_sawyer"
    spec.detach_body(spec.body("obj"))
    spec.site("goal").delete()
    hidden = [geom for geom in spec.body("tablelink").geoms if geom.meshname == "tablebody"]
    for geom in (*spec.body("head").geoms, *hidden):
        geom.group = HIDDEN_GROUP      # out of view or under the table: skip their triangles
    weld = spec.equalities[0]
    weld.data = [0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 5]     # no relative pose; torque scale 5
    spec.body("mocap").quat = [1, 0, 1, 0]
    for actuator in spec.actuators:    # fingers: a firm grip (not 400 N), still quick
        actuator.forcelimited = mujoco.mjtLimited.mjLIMITED_TRUE
        actuator.forcerange = [-GRIP_FORCE, GRIP_FORCE]
    for finger in ("r_close", "l_close"):
        spec.joint(finger).damping, spec.joint(finger).armature = 100.0, 1.0
    return spec


def fingertip_centre(model: mujoco.MjModel, data: mujoco.MjData) -> np.ndarray:
    """The robot's end effector (m): the point midway between its two fingertips."""
    return data.site_xpos[[model.site(name).id for name in FINGERTIPS]].mean(axis=0)


def gripper_gap(model: mujoco.MjModel, data: mujoco.MjData) -> float:
    """Distance between the inner faces of the two finger pads (m)."""
    pads = [model.geom(name).id for name in PADS]
    centres = data.geom_xpos[pads]
    return float(np.linalg.norm(centres[1] - centres[0]) - model.geom_size[pads, 1].sum())


@functools.cache
def _arm_model() -> mujoco.MjModel:
    """The Sawyer alone (no objects): forward kinematics of its arm and fingers."""
    return _load_sawyer().compile()


def robot_state(q: np.ndarray, qd: np.ndarray) -> np.ndarray:
    """The twin's robot ``state`` (angles, velocities, fingertip centre, gripper opening)
    from the joint states of ``JOINT_NAMES + FINGER_JOINTS`` alone, by forward kinematics
    through the twin's own model, so that a real Sawyer's driver feeds a policy trained on
    the twin. A fresh MjData per call keeps it safe to call from any thread."""
    model = _arm_model()
    data = mujoco.MjData(model)
    names = JOINT_NAMES + FINGER_JOINTS
    data.qpos[[model.joint(name).qposadr[0] for name in names]] = q
    mujoco.mj_kinematics(model, data)
    arm = len(JOINT_NAMES)
    return np.concatenate([q[:arm], qd[:arm], fingertip_centre(model, data),
                           [gripper_gap(model, data)]]).astype(np.float32)


def _dress(spec: mujoco.MjSpec, table: Texture, background: Background) -> str:
    """Table texture, a backdrop and floor in the background's wall texture, its light;
    returns the wall material's name."""
    table_material = add_texture_material(spec, "table", table, mujoco.mjtTexture.mjTEXTURE_2D,
                                          repeat=(8.0, 8.0))
    # by iteration: MjSpec.material() misses materials added after from_file
    next(m for m in spec.materials if m.name == table_material).texuniform = True
    for geom in spec.body("tablelink").geoms:
        if geom.material == "table_wood":
            geom.material = table_material
    spec.detach_body(spec.body("RetainingWall"))     # it would hide the gripper from view
    wall = add_texture_material(spec, "wall", background.wall, mujoco.mjtTexture.mjTEXTURE_CUBE)
    spec.geom("floor").material = wall
    spec.worldbody.add_geom(name="backdrop", type=mujoco.mjtGeom.mjGEOM_BOX, pos=[0, -0.9, 0.3],
                            size=[2.0, 0.02, 1.3], material=wall, contype=0, conaffinity=0)
    for light in list(spec.worldbody.lights):
        light.delete()
    spec.worldbody.add_light(name="key", pos=[0, 0.6, 1.5], dir=list(background.light_dir),
                             directional=True, diffuse=[background.diffuse] * 3,
                             specular=[0.1] * 3, castshadow=False)
    spec.visual.headlight.ambient = [background.ambient] * 3
    spec.visual.headlight.diffuse = [0.25] * 3
    spec.visual.headlight.specular = [0.0] * 3
    return wall


def _add_camera(spec: mujoco.MjSpec) -> None:
    """A fixed camera across the table from the robot, looking down at the workspace."""
    camera = spec.worldbody.add_camera(name=CAMERA, pos=[0, 1.1, 0.75], fovy=50)
    camera.alt.type = mujoco.mjtOrientation.mjORIENTATION_XYAXES
    camera.alt.xyaxes = [-1, 0, 0, 0, -0.786, 0.618]


def _scene_spec(look: Look, demonstrator: str) -> mujoco.MjSpec:
    """The Sawyer scene dressed in ``look``, seen by the robot's camera; or, for the human
    demonstrator, without the robot and with the hand, the human camera and more walls
    (for a person, ``look.table`` is the background's cloth)."""
    spec = _load_sawyer()
    wall = _dress(spec, look.table, look.background)
    if demonstrator == "human":
        humanize(spec, wall, contype=ROBOT_BITS, conaffinity=ROBOT_BITS | OBJECT_BITS)
    else:
        _add_camera(spec)
    return spec


def compile_model(spec: mujoco.MjSpec, image_sizes: Sequence[tuple[int, int]]) -> mujoco.MjModel:
    """Compile ``spec`` for fast offscreen rendering (no shadows or shadow map, no
    reflections or multisampling) with buffers large enough for ``image_sizes``."""
    model = spec.compile()
    model.light_castshadow[:] = 0
    model.vis.quality.shadowsize = 0
    model.mat_reflectance[:] = 0
    model.vis.quality.offsamples = 0
    model.vis.global_.offwidth = max(width for width, _ in image_sizes)
    model.vis.global_.offheight = max(height for _, height in image_sizes)
    return model


def scaled_object(obj: ObjectSpec, radius: float, half_height: float) -> ObjectSpec:
    """``obj`` shrunk uniformly (never grown) to fit within ``radius`` and ``half_height``."""
    scale = min(1.0, radius / obj.footprint_radius, half_height / obj.half_height)
    parts = tuple(dataclasses.replace(part, size=tuple(s * scale for s in part.size),
                                      pos=tuple(p * scale for p in part.pos))
                  for part in obj.parts)
    return dataclasses.replace(obj, parts=parts)


def _set_inertia(body: mujoco.MjsBody, obj: ObjectSpec) -> None:
    """Give ``body`` the object's mass at its parts' centroid, with the inertia of a solid
    cylinder of its footprint and height. Meta-World's compiler takes inertia only from
    geom groups 4-5, so the object's (visible, group 0) geoms cannot supply it."""
    radius, half_height = obj.footprint_radius, obj.half_height
    side = obj.mass * (3 * radius ** 2 + 4 * half_height ** 2) / 12
    volumes = np.array([part.volume() for part in obj.parts])
    body.explicitinertial = True
    body.mass = obj.mass
    body.ipos = volumes @ np.array([part.pos for part in obj.parts]) / volumes.sum()
    body.inertia = [side, side, obj.mass * radius ** 2 / 2]


def _add_container(spec: mujoco.MjSpec, index: int) -> None:
    """An open square container (floor and four walls) on a mocap body, so a reset can
    move it; its colour is set per episode."""
    body = spec.worldbody.add_body(name=f"container_{index}", mocap=True)
    span = CONTAINER_INNER + 2 * CONTAINER_WALL
    wall_half = CONTAINER_HEIGHT / 2
    pieces = [([0, 0, CONTAINER_WALL], [span, span, CONTAINER_WALL])]
    for sign in (-1, 1):
        offset = sign * (CONTAINER_INNER + CONTAINER_WALL)
        pieces.append(([offset, 0, wall_half], [CONTAINER_WALL, span, wall_half]))
        pieces.append(([0, offset, wall_half], [span, CONTAINER_WALL, wall_half]))
    for piece, (pos, size) in enumerate(pieces):
        body.add_geom(name=f"container_{index}_{piece}", type=mujoco.mjtGeom.mjGEOM_BOX,
                      pos=pos, size=size, contype=0, conaffinity=ROBOT_BITS)


def build_place_model(look: Look, image_sizes: Sequence[tuple[int, int]],
                      demonstrator: str = "robot") -> mujoco.MjModel:
    """The placing scene: three containers and the held object on a free joint (and, for
    the human demonstrator, the weld by which the hand carries it)."""
    spec = _scene_spec(look, demonstrator)
    for index in range(3):
        _add_container(spec, index)
    held = spec.worldbody.add_body(name="held", pos=[0.5, 0.9, 0.1])   # clear of the arm
    held.add_freejoint(name="held_free")
    add_object(spec, held, look.objects[0], prefix="held", contype=ROBOT_BITS,
               conaffinity=ROBOT_BITS)
    _set_inertia(held, look.objects[0])
    for geom in held.geoms:            # stiff contacts: the grip must not sink into it
        geom.solref, geom.solimp = [0.01, 1.0], [0.99, 0.99, 0.01, 0.5, 2.0]
    if demonstrator == "human":
        add_carry_weld(spec, "hand", "held")
    return compile_model(spec, image_sizes)


def _add_pushed_object(spec: mujoco.MjSpec, name: str, obj: ObjectSpec) -> None:
    """An object that slides on the table (x, y, yaw joints) with Coulomb friction
    ``mu m g`` as joint friction loss, so its mass and friction change how it moves."""
    body = spec.worldbody.add_body(name=name, pos=[0, 0, obj.half_height])
    coulomb = obj.friction * obj.mass * GRAVITY
    for axis_name, kind, axis in (("x", mujoco.mjtJoint.mjJNT_SLIDE, [1, 0, 0]),
                                  ("y", mujoco.mjtJoint.mjJNT_SLIDE, [0, 1, 0]),
                                  ("yaw", mujoco.mjtJoint.mjJNT_HINGE, [0, 0, 1])):
        turning = kind == mujoco.mjtJoint.mjJNT_HINGE
        body.add_joint(name=f"{name}_{axis_name}", type=kind, axis=axis, damping=0.5,
                       frictionloss=coulomb * (obj.footprint_radius if turning else 1.0))
    add_object(spec, body, obj, prefix=name, contype=OBJECT_BITS,
               conaffinity=ROBOT_BITS | OBJECT_BITS)
    _set_inertia(body, obj)


def build_push_model(look: Look, image_sizes: Sequence[tuple[int, int]],
                     demonstrator: str = "robot") -> mujoco.MjModel:
    """The pushing scene: target and distractor objects and the red goal disc."""
    spec = _scene_spec(look, demonstrator)
    _add_pushed_object(spec, "target", look.objects[0])
    _add_pushed_object(spec, "distractor", look.objects[1])
    goal = spec.worldbody.add_body(name="goal", mocap=True)
    goal.add_geom(name="goal", type=mujoco.mjtGeom.mjGEOM_CYLINDER, size=[GOAL_RADIUS, 0.001, 0],
                  pos=[0, 0, 0.001], rgba=[1, 0, 0, 1], contype=0, conaffinity=0)
    return compile_model(spec, image_sizes)


# -- the shared environment ---------------------------------------------------------------


class SawyerEnv(gym.Env):
    """What both Sawyer families share: the demonstrator (arm or hand), its actions and
    observations, the task draw, model (re)building and rendering. Subclasses say what is
    on the table (``_look``, ``_build``, ``_arrange``), when a step succeeds
    (``_succeeding``) and what the hand's fourth action does (``_hand_action``)."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}
    family = ""
    hand_action_limit = 1.0    # the human action box's bound on its fourth entry
    hand_state_size = 7        # the human state's length

    def __init__(self, split: str, image_size: tuple[int, int], render_mode: str | None,
                 render_size: tuple[int, int] | None, table: int | None,
                 background: str | None, demonstrator: str = "robot",
                 background_split: str | None = None, **task_fields: Any):
        if split not in SPLITS or background_split not in (None, *SPLITS):
            raise ValueError(f"split and background_split must be in {SPLITS}, "
                             f"got {split!r} and {background_split!r}")
        if render_mode not in (None, *self.metadata["render_modes"]):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        if demonstrator not in DEMONSTRATORS:
            raise ValueError(f"demonstrator must be one of {DEMONSTRATORS}, got {demonstrator!r}")
        self.split = split
        self.demonstrator = demonstrator
        self.background_split = background_split or split
        self.render_mode = render_mode
        self.image_size = size_argument("image_size", image_size)
        self.render_size = size_argument("render_size", render_size or self.image_size)
        self.fixed = {key: None if value is None else self._given(key, value)
                      for key, value in {"table": table, "background": background,
                                         **task_fields}.items()}
        width, height = self.image_size
        human = demonstrator == "human"
        self.observation_space = spaces.Dict({
            "image": spaces.Box(0, 255, (height, width, 3), np.uint8),
            "state": spaces.Box(-np.inf, np.inf, (self.hand_state_size if human else 18,),
                                np.float32),
        })
        high = np.array([HAND_SPEED_LIMIT] * 3 + [self.hand_action_limit] if human else [1.0] * 4,
                        np.float32)
        self.action_space = spaces.Box(-high, high, dtype=np.float32)
        self.camera_name = HUMAN_CAMERA if human else CAMERA
        self.dt = CONTROL_DT
        self.look: Look | None = None
        self.task: dict[str, Any] = {}
        self._renderers: dict[tuple[int, int], mujoco.Renderer] = {}
        self._steps = 0
        self._success_steps = 0
        self._hand_yaw = 0.0

    # -- task and appearance --------------------------------------------------------

    def _given(self, key: str, value: Any) -> Any:
        """A task field as given by the caller, checked (a ValueError names what is wrong)."""
        if key == "table":
            count = len(table_textures(self.split))
            whole = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
            if not (whole and 0 <= value < count):
                raise ValueError(f"table must be a {self.split} table texture index "
                                 f"0..{count - 1}, got {value!r}")
            return int(value)
        if key == "background":
            return background_by_name(value).name
        if key == "colour":
            return resolve_colour(value)
        return object_by_name(value).name            # "object", "distractor"

    def _draw(self, key: str, known: dict[str, Any]) -> Any:
        """A task field drawn from ``np_random`` and the split (``known``: the fields
        fixed or drawn so far, so that two objects differ)."""
        if key == "table":
            return int(self.np_random.integers(len(table_textures(self.split))))
        if key == "background":
            names = [background.name for background in backgrounds(self.background_split)]
            return names[int(self.np_random.integers(len(names)))]
        if key == "colour":
            return task_colour(self.split, self.np_random)
        other = known.get("distractor" if key == "object" else "object")
        names = [obj.name for obj in catalogue(self.split) if obj.name != other]
        return names[int(self.np_random.integers(len(names)))]

    def _episode_task(self, options: dict[str, Any]) -> dict[str, Any]:
        """This episode's task: each field from the reset options, else as fixed at
        construction, else drawn (in the order of ``self.fixed``)."""
        unknown = set(options) - set(self.fixed)
        if unknown:
            raise ValueError(f"unknown reset options {sorted(unknown)}; known: {list(self.fixed)}")
        given = {key: self._given(key, options[key]) if key in options else fixed
                 for key, fixed in self.fixed.items()}
        known = {key: value for key, value in given.items() if value is not None}
        for key in self.fixed:
            if key not in known:
                known[key] = self._draw(key, known)
        if "distractor" in known and known["object"] == known["distractor"]:
            raise ValueError(f"the target and the distractor must be different objects, "
                             f"both are {known['object']!r}")
        return {key: known[key] for key in self.fixed}

    def _use_look(self, look: Look) -> None:
        """Compile a new model only when the objects or the appearance changed."""
        if look == self.look:
            return
        self.close()
        self.look = look
        self.model = self._build(look, (self.image_size, self.render_size))
        self.data = mujoco.MjData(self.model)
        self._camera = self.model.camera(self.camera_name).id
        self._hand = self.model.body("hand").id
        if self.demonstrator == "human":
            self._hand_mocap = self.model.body("hand").mocapid[0]
        else:
            self._index_arm()
        self._index_objects()

    def _index_arm(self) -> None:
        """The arm's joints, mocap target, fingertips and pads; its settled home pose."""
        self._arm_qpos = np.array([self.model.joint(n).qposadr[0] for n in JOINT_NAMES])
        self._arm_dofs = np.array([self.model.joint(n).dofadr[0] for n in JOINT_NAMES])
        self._mocap = self.model.body("mocap").mocapid[0]
        self._pads = [self.model.geom(n).id for n in PADS]
        self._home_qpos = self._settle_home()

    def _surface(self, task: dict[str, Any]) -> Texture:
        """What covers the table: the task's table texture for the robot, the background's
        cloth for a person (thesis L3668-L3670: other backgrounds)."""
        if self.demonstrator == "human":
            return background_by_name(task["background"]).cloth
        return table_textures(self.split)[task["table"]]

    def _build(self, look: Look, sizes: Sequence[tuple[int, int]]) -> mujoco.MjModel:
        raise NotImplementedError

    def _index_objects(self) -> None:
        raise NotImplementedError

    def _settle_home(self) -> np.ndarray:
        """The arm's pose with the hand at HOME_HAND, pointing down, gripper open."""
        mujoco.mj_resetData(self.model, self.data)
        self.data.mocap_pos[self._mocap] = HOME_HAND
        self.data.ctrl[:] = (-1.0, 1.0)
        mujoco.mj_step(self.model, self.data, nstep=1000)
        return self.data.qpos.copy()

    # -- privileged state (for experts, data generation and evaluation) ------------

    @property
    def joint_positions(self) -> np.ndarray:
        """Angles of right_j0..right_j6 (rad); robot only, as are the joint velocities,
        the gripper opening and the pads."""
        return self.data.qpos[self._arm_qpos].copy()

    @property
    def joint_velocities(self) -> np.ndarray:
        """Velocities of right_j0..right_j6 (rad/s)."""
        return self.data.qvel[self._arm_dofs].copy()

    @property
    def ee_pos(self) -> np.ndarray:
        """The end effector (m): the point midway between the two fingertips, or the human
        hand's origin (the middle of its fingers' front edge, at their lowest point)."""
        if self.demonstrator == "human":
            return self.data.xpos[self._hand].copy()
        return fingertip_centre(self.model, self.data)

    @property
    def hand_yaw(self) -> float:
        """The human hand's heading about the vertical (rad): its fingers point that way."""
        return self._hand_yaw

    @property
    def gripper_opening(self) -> float:
        """Distance between the inner faces of the two finger pads (m)."""
        return gripper_gap(self.model, self.data)

    @property
    def steps(self) -> int:
        """Control steps taken since the last reset."""
        return self._steps

    @property
    def success_steps(self) -> int:
        """Steps of this episode in which the success condition held."""
        return self._success_steps

    # -- Gymnasium API --------------------------------------------------------------

    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[dict[str, np.ndarray], dict]:
        """Start an episode: draw the task fields not fixed (see the subclass), the
        layout and the start pose, all from ``np_random``."""
        super().reset(seed=seed)
        self.task = self._episode_task(dict(options or {}))
        self._use_look(self._look(self.task))
        mujoco.mj_resetData(self.model, self.data)
        if self.demonstrator == "robot":
            self.data.qpos[:] = self._home_qpos
        self._arrange()
        mujoco.mj_forward(self.model, self.data)
        self._steps = 0
        self._success_steps = 0
        return self._observation(), self._info()

    def _look(self, task: dict[str, Any]) -> Look:
        raise NotImplementedError

    def _arrange(self) -> None:
        raise NotImplementedError

    def _start(self, tcp: Sequence[tuple[float, float]],
               hand: Sequence[tuple[float, float]], grip: float) -> None:
        """Put the demonstrator at a start drawn from its region: the arm's fingertips in
        ``tcp`` with the gripper at ``grip``, or the person's hand in ``hand`` at a heading
        drawn from HAND_YAWS (a person starts elsewhere than the robot, L3670-L3672)."""
        if self.demonstrator == "robot":
            self._move_to_start(self._uniform(tcp), grip)
            return
        self.data.mocap_pos[self._hand_mocap] = self._uniform(hand)
        self._hand_yaw = float(self.np_random.uniform(*HAND_YAWS))
        self.data.mocap_quat[self._hand_mocap] = yaw_quaternion(self._hand_yaw)
        mujoco.mj_forward(self.model, self.data)

    def _move_to_start(self, tcp: np.ndarray, grip: float) -> None:
        """Bring the arm from its home pose to put the fingertips at ``tcp``."""
        self.data.mocap_pos[self._mocap] = tcp + (0, 0, TCP_OFFSET)
        self.data.ctrl[:] = (grip, -grip)
        mujoco.mj_step(self.model, self.data, nstep=SETTLE_STEPS)

    def step(self, action: np.ndarray) -> tuple[dict[str, np.ndarray], float, bool, bool, dict]:
        """Drive the arm (or move the hand) for one control step (0.1 s); actions are
        clipped to the action box."""
        self._require_reset()
        action = np.asarray(action, dtype=np.float64)
        if action.shape != (4,):
            raise ValueError(f"action must have shape (4,), got {action.shape}")
        if not np.all(np.isfinite(action)):
            raise ValueError(f"action must be finite, got {action}")
        action = np.clip(action, self.action_space.low, self.action_space.high)
        if self.demonstrator == "robot":
            self._drive_arm(action)
        else:
            self._hand_action(action)
        mujoco.mj_forward(self.model, self.data)
        self._steps += 1
        self._success_steps += int(self._succeeding())
        truncated = self._steps >= EPISODE_STEPS
        info = self._info()
        if truncated:
            info["is_success"] = self.is_success()
        return self._observation(), self._reward(), False, truncated, info

    def _drive_arm(self, action: np.ndarray) -> None:
        """Move the mocap target at the commanded velocity (never more than MAX_LEAD ahead
        of the hand) and drive the gripper."""
        self.data.ctrl[:] = (action[3], -action[3])
        increment = action[:3] * MAX_SPEED * CONTROL_DT / MOCAP_SUBSTEPS
        for _ in range(MOCAP_SUBSTEPS):
            hand = self.data.xpos[self._hand]
            target = np.clip(self.data.mocap_pos[self._mocap] + increment,
                             hand - MAX_LEAD, hand + MAX_LEAD)
            self.data.mocap_pos[self._mocap] = np.clip(target, HAND_LOW, HAND_HIGH)
            mujoco.mj_step(self.model, self.data, nstep=FRAME_SKIP // MOCAP_SUBSTEPS)

    def _hand_action(self, action: np.ndarray) -> None:
        """Carry out a human action (velocity, then the family's fourth entry)."""
        raise NotImplementedError

    def _move_hand(self, velocity: np.ndarray, turn_rate: float) -> None:
        """Move the hand at ``velocity`` (m/s), turning at ``turn_rate`` (rad/s), for one
        control step, kept within the human hand's bounds."""
        for _ in range(MOCAP_SUBSTEPS):
            self._hand_yaw += turn_rate * CONTROL_DT / MOCAP_SUBSTEPS
            moved = self.data.mocap_pos[self._hand_mocap] + velocity * CONTROL_DT / MOCAP_SUBSTEPS
            self.data.mocap_pos[self._hand_mocap] = np.clip(moved, HUMAN_HAND_LOW, HUMAN_HAND_HIGH)
            self.data.mocap_quat[self._hand_mocap] = yaw_quaternion(self._hand_yaw)
            mujoco.mj_step(self.model, self.data, nstep=FRAME_SKIP // MOCAP_SUBSTEPS)

    def _succeeding(self) -> bool:
        raise NotImplementedError

    def _reward(self) -> float:
        raise NotImplementedError

    def is_success(self) -> bool:
        """Whether the success condition has held for at least 10 steps so far."""
        return self._success_steps >= SUCCESS_STEPS

    def render(self) -> np.ndarray | None:
        """The camera's view at ``render_size`` (None unless render_mode is "rgb_array")."""
        if self.render_mode is None:
            gym.logger.warn("render() called with render_mode=None; pass render_mode='rgb_array'")
            return None
        self._require_reset()
        return self._render(self.render_size)

    def close(self) -> None:
        """Free the offscreen renderers (and their EGL contexts) now, not at exit."""
        for renderer in self._renderers.values():
            renderer.close()
        self._renderers.clear()

    def scene_description(self) -> dict[str, Any]:
        """The current task and layout as JSON data, for an episode's ``scene`` metadata."""
        return {
            "family": self.family,
            "task": {key: list(value) if isinstance(value, tuple) else value
                     for key, value in self.task.items()},
            "objects": [obj.describe() for obj in self.look.objects],
            "demonstrator": self.demonstrator,
            "ee_pos": self.ee_pos.tolist(),
            "image_size": list(self.image_size),
            "camera": self.camera_name,
            "dt": self.dt,
            **self._layout(),
        }

    def _layout(self) -> dict[str, Any]:
        raise NotImplementedError

    # -- helpers --------------------------------------------------------------------

    def _require_reset(self) -> None:
        if self.look is None:
            raise RuntimeError("call reset() first: the scene is built by the first reset")

    def _render(self, size: tuple[int, int]) -> np.ndarray:
        if size not in self._renderers:
            self._renderers[size] = mujoco.Renderer(self.model, height=size[1], width=size[0])
        renderer = self._renderers[size]
        renderer.update_scene(self.data, camera=self._camera)
        return renderer.render()

    def _observation(self) -> dict[str, np.ndarray]:
        if self.demonstrator == "human":
            state = np.concatenate([self.ee_pos, self.data.xquat[self._hand], self._hand_state()])
        else:
            state = np.concatenate([self.joint_positions, self.joint_velocities, self.ee_pos,
                                    [self.gripper_opening]])
        return {"image": self._render(self.image_size), "state": state.astype(np.float32)}

    def _hand_state(self) -> np.ndarray:
        """What the human state holds after the hand's pose (nothing, unless a family adds)."""
        return np.zeros(0)

    def _info(self) -> dict[str, Any]:
        return {"success_so_far": self.is_success(), "success_steps": self._success_steps}

    def _uniform(self, ranges: Sequence[tuple[float, float]]) -> np.ndarray:
        return np.array([self.np_random.uniform(low, high) for low, high in ranges])


# -- placing ------------------------------------------------------------------------------


class SawyerPlaceEnv(SawyerEnv):
    """Place the held object into the container of the task colour (module docstring).

    ``colour`` (a name or RGB) fixes the target container's colour, ``object_name`` the
    held object (a catalogue name; it is shrunk to fit the gripper), ``table`` and
    ``background`` the appearance; what is not fixed is drawn from ``split`` (backgrounds
    from ``background_split``, default ``split``) at every reset. ``reset(options=...)``
    takes the same keys (``colour``, ``object``, ``table``, ``background``) for one
    episode. Distractor colours are drawn per episode, each at least a hue step from the
    target's. ``demonstrator="human"``: a hand carries the object (module docstring).
    """

    family = "place"
    hand_state_size = 8        # the hand's pose, then whether it holds the object

    def __init__(self, split: str = "train", image_size: tuple[int, int] = (64, 64),
                 render_mode: str | None = None, colour: Sequence[float] | str | None = None,
                 object_name: str | None = None, table: int | None = None,
                 background: str | None = None, render_size: tuple[int, int] | None = None,
                 demonstrator: str = "robot", background_split: str | None = None):
        super().__init__(split, image_size, render_mode, render_size, table, background,
                         demonstrator, background_split, colour=colour, object=object_name)
        self.container_positions = np.zeros((3, 2))
        self.container_colours = np.zeros((3, 3))
        self.target_index = 0
        self._previous_object_pos = np.zeros(3)

    def _look(self, task: dict[str, Any]) -> Look:
        held = scaled_object(object_by_name(task["object"]), HELD_RADIUS, HELD_HALF_HEIGHT)
        return Look((held,), self._surface(task), background_by_name(task["background"]))

    def _build(self, look: Look, sizes: Sequence[tuple[int, int]]) -> mujoco.MjModel:
        return build_place_model(look, sizes, self.demonstrator)

    def _index_objects(self) -> None:
        self._containers = [self.model.body(f"container_{i}").mocapid[0] for i in range(3)]
        self._container_geoms = [
            [self.model.geom(f"container_{i}_{piece}").id for piece in range(5)] for i in range(3)]
        self._held_qpos = self.model.joint("held_free").qposadr[0]
        self._held_dofs = self.model.joint("held_free").dofadr[0]
        self._held_body = self.model.body("held").id
        self._held_geoms = {g for g in range(self.model.ngeom)
                            if self.model.geom_bodyid[g] == self._held_body}
        if self.demonstrator == "human":
            self._carry = self.model.equality("carry").id

    # -- privileged state -----------------------------------------------------------

    @property
    def held_object(self) -> ObjectSpec:
        """The object the episode starts holding (as shrunk to fit the gripper)."""
        return self.look.objects[0]

    @property
    def object_pos(self) -> np.ndarray:
        """The held object's centre (m)."""
        return self.data.qpos[self._held_qpos:self._held_qpos + 3].copy()

    @property
    def target_pos(self) -> np.ndarray:
        """The target container's centre on the table (x, y) (m)."""
        return self.container_positions[self.target_index].copy()

    @property
    def target_colour(self) -> Colour:
        """The target container's colour."""
        return tuple(float(c) for c in self.container_colours[self.target_index])

    def in_container(self, index: int) -> bool:
        """Whether the object rests in or on container ``index``, out of the gripper."""
        offset = np.abs(self.object_pos[:2] - self.container_positions[index])
        outer = CONTAINER_INNER + 2 * CONTAINER_WALL
        low_enough = self.object_pos[2] < CONTAINER_HEIGHT + 2 * self.held_object.half_height
        speed = np.linalg.norm(self.object_pos - self._previous_object_pos) / CONTROL_DT
        return bool(np.all(offset < outer) and low_enough and speed < RESTING_SPEED
                    and not self.object_in_gripper())

    def pads_touching(self) -> int:
        """How many of the two finger pads touch the object."""
        contacts = self.data.contact.geom[:self.data.ncon]
        held = np.isin(contacts, list(self._held_geoms))
        return sum(bool(np.any((contacts[:, 0] == pad) & held[:, 1]
                               | (contacts[:, 1] == pad) & held[:, 0])) for pad in self._pads)

    def object_in_gripper(self) -> bool:
        """Whether a finger pad touches the object (robot) or the hand holds it (human)."""
        if self.demonstrator == "human":
            return bool(self.data.eq_active[self._carry])
        return self.pads_touching() > 0

    # -- episode --------------------------------------------------------------------

    def _arrange(self) -> None:
        """Containers at random spots (pairwise apart), colours with the target at a random
        slot; the arm at a random start with the object closed in the gripper."""
        self.container_positions = self._container_spots()
        self.target_index = int(self.np_random.integers(3))
        colours = sample_distractor_colours(self.task["colour"], self.split, self.np_random)
        colours.insert(self.target_index, self.task["colour"])
        self.container_colours = np.array(colours)
        for mocap, geoms, (x, y), colour in zip(self._containers, self._container_geoms,
                                                 self.container_positions, colours):
            self.data.mocap_pos[mocap] = (x, y, 0.0)
            self.model.geom_rgba[geoms] = (*colour, 1.0)
        self._start(PLACE_START, HAND_PLACE_START, grip=-1.0)
        if self.demonstrator == "human":
            self._take_in_hand()
        else:
            self._grasp()
        self._previous_object_pos = self.object_pos

    def step(self, action: np.ndarray) -> tuple[dict[str, np.ndarray], float, bool, bool, dict]:
        """As :meth:`SawyerEnv.step`; remembers where the object was, to tell whether it
        rests (by its displacement over the step: contacts make velocities chatter)."""
        self._previous_object_pos = self.object_pos
        return super().step(action)

    def _container_spots(self) -> np.ndarray:
        while True:
            spots = np.stack([self._uniform(CONTAINER_REGION[:2]) for _ in range(3)])
            gaps = np.linalg.norm(spots[:, None] - spots[None], axis=-1)
            if gaps[np.triu_indices(3, 1)].min() >= CONTAINER_SEPARATION:
                return spots

    def _grasp(self) -> None:
        """Close the fingers on the object, its centre of mass between them, at each of
        GRIP_YAWS in turn, and keep the widest grip in which both pads touch it (the
        object held still, gravity off, so that the grip forms where it was placed); then
        let gravity load the grip for a moment."""
        gravity = self.model.opt.gravity.copy()
        self.model.opt.gravity[:] = 0
        start = self.data.qpos.copy(), self.data.qvel.copy()
        grips = []
        for yaw in GRIP_YAWS:
            self.data.qpos[:], self.data.qvel[:] = start
            self._close_on_object(yaw)
            if self.pads_touching() == 2 or yaw == GRIP_YAWS[-1]:
                grips.append((self.gripper_opening, self.data.qpos.copy(), self.data.qvel.copy()))
        _, self.data.qpos[:], self.data.qvel[:] = max(grips, key=lambda grip: grip[0])
        self.model.opt.gravity[:] = gravity
        mujoco.mj_step(self.model, self.data, nstep=GRIP_STEPS // 4)   # the grip takes the weight

    def _take_in_hand(self) -> None:
        """Put the object at the hand's grip point, square to the hand, and hold it."""
        hand_quat = self.data.mocap_quat[self._hand_mocap]
        offset = grip_offset(self.held_object.half_height)
        self.data.qpos[self._held_qpos:self._held_qpos + 3] = (
            self.data.mocap_pos[self._hand_mocap] + in_hand_frame(hand_quat, offset))
        self.data.qpos[self._held_qpos + 3:self._held_qpos + 7] = hand_quat
        self._hold()

    def _hold(self) -> None:
        """Weld the object to the hand where it is now relative to the hand."""
        pos, quat = relative_pose(self.data.mocap_pos[self._hand_mocap],
                                  self.data.mocap_quat[self._hand_mocap], self.object_pos,
                                  self.data.qpos[self._held_qpos + 3:self._held_qpos + 7])
        self.model.eq_data[self._carry, 3:10] = (*pos, *quat)      # the weld's relative pose
        self.data.eq_active[self._carry] = 1

    def within_grasp(self) -> bool:
        """Whether the object's centre lies within GRASP_REACH of the hand's grip point."""
        pos, _ = relative_pose(self.data.mocap_pos[self._hand_mocap],
                               self.data.mocap_quat[self._hand_mocap], self.object_pos,
                               np.array([1.0, 0.0, 0.0, 0.0]))
        offset = grip_offset(self.held_object.half_height)
        return bool(np.linalg.norm(pos - offset) < GRASP_REACH)

    def _hand_action(self, action: np.ndarray) -> None:
        """Hold (action[3] > 0: keep the object, or take it again within reach) or let go,
        then move the hand."""
        if action[3] <= 0:
            self.data.eq_active[self._carry] = 0
        elif not self.object_in_gripper() and self.within_grasp():
            self._hold()
        self._move_hand(action[:3], 0.0)

    def _hand_state(self) -> np.ndarray:
        return np.array([float(self.object_in_gripper())])

    def _close_on_object(self, yaw: float) -> None:
        quat = np.array([np.cos(yaw / 2), 0, 0, np.sin(yaw / 2)])
        centre_of_mass = np.zeros(3)
        mujoco.mju_rotVecQuat(centre_of_mass, self.model.body_ipos[self._held_body], quat)
        origin = self.data.xpos[self._hand] - (0, 0, HELD_DROP) - centre_of_mass
        self.data.ctrl[:] = (1.0, -1.0)
        for _ in range(GRIP_STEPS // 4):
            self.data.qpos[self._held_qpos:self._held_qpos + 7] = (*origin, *quat)
            self.data.qvel[self._held_dofs:self._held_dofs + 6] = 0
            mujoco.mj_step(self.model, self.data, nstep=4)
        mujoco.mj_forward(self.model, self.data)

    def _succeeding(self) -> bool:
        return self.in_container(self.target_index)

    def _reward(self) -> float:
        return -float(np.linalg.norm(self.object_pos[:2] - self.target_pos))

    def _info(self) -> dict[str, Any]:
        return {**super()._info(), "target_index": self.target_index,
                "distance": -self._reward()}

    def _layout(self) -> dict[str, Any]:
        return {"target_index": self.target_index,
                "container_positions": self.container_positions.tolist(),
                "container_colours": self.container_colours.tolist(),
                "object_pos": self.object_pos.tolist()}


# -- pushing ------------------------------------------------------------------------------


class SawyerPushEnv(SawyerEnv):
    """Push the target object onto the red goal amid one distractor (module docstring).

    ``object_name`` fixes the target object, ``distractor_name`` the distractor (catalogue
    names), ``table`` and ``background`` the appearance; what is not fixed is drawn from
    ``split`` (backgrounds from ``background_split``, default ``split``) at every reset.
    ``reset(options=...)`` takes the same keys (``object``, ``distractor``, ``table``,
    ``background``) for one episode. Goal and object positions are drawn per episode, the
    distractor clear of the target's way to the goal. ``demonstrator="human"``: a hand
    pushes the target, turning as it goes (module docstring).
    """

    family = "sawyer-push"
    hand_action_limit = HAND_TURN_LIMIT

    def __init__(self, split: str = "train", image_size: tuple[int, int] = (64, 64),
                 render_mode: str | None = None, object_name: str | None = None,
                 distractor_name: str | None = None, table: int | None = None,
                 background: str | None = None, render_size: tuple[int, int] | None = None,
                 demonstrator: str = "robot", background_split: str | None = None):
        super().__init__(split, image_size, render_mode, render_size, table, background,
                         demonstrator, background_split, object=object_name,
                         distractor=distractor_name)
        if object_name is not None and self.fixed["object"] == self.fixed["distractor"]:
            raise ValueError("the target and the distractor must be different objects")
        self.goal_pos = np.zeros(2)

    def _look(self, task: dict[str, Any]) -> Look:
        return Look((object_by_name(task["object"]), object_by_name(task["distractor"])),
                    self._surface(task), background_by_name(task["background"]))

    def _build(self, look: Look, sizes: Sequence[tuple[int, int]]) -> mujoco.MjModel:
        return build_push_model(look, sizes, self.demonstrator)

    def _hand_action(self, action: np.ndarray) -> None:
        """Move the hand, turning it at action[3] rad/s; it pushes by contact."""
        self._move_hand(action[:3], action[3])

    def _index_objects(self) -> None:
        self._object_qpos = {name: [self.model.joint(f"{name}_{axis}").qposadr[0]
                                    for axis in ("x", "y", "yaw")]
                             for name in ("target", "distractor")}
        self._goal = self.model.body("goal").mocapid[0]

    # -- privileged state -----------------------------------------------------------

    @property
    def target_object(self) -> ObjectSpec:
        return self.look.objects[0]

    @property
    def distractor_object(self) -> ObjectSpec:
        return self.look.objects[1]

    def object_xy(self, name: str) -> np.ndarray:
        """(x, y) of the ``"target"`` or ``"distractor"`` object's centre (m)."""
        return self.data.qpos[self._object_qpos[name][:2]].copy()

    def set_object_xy(self, name: str, xy: Sequence[float]) -> None:
        """Move an object's centre to ``xy`` (m), keeping its heading (for tests and
        scripted scenes)."""
        self.data.qpos[self._object_qpos[name][:2]] = xy
        self.data.qvel[self.model.joint(f"{name}_x").dofadr[0]:][:3] = 0
        mujoco.mj_forward(self.model, self.data)

    @property
    def target_pos(self) -> np.ndarray:
        """The target object's centre (x, y) (m)."""
        return self.object_xy("target")

    # -- episode --------------------------------------------------------------------

    def _arrange(self) -> None:
        """Goal, target (a push's length from the goal, with room behind it for the
        gripper) and distractor (clear of the target's way to the goal and of the goal)."""
        target_r = self.target_object.footprint_radius
        distractor_r = self.distractor_object.footprint_radius
        while True:
            goal = self._uniform(GOAL_REGION)
            target = self._uniform(OBJECT_REGION)
            distance = np.linalg.norm(goal - target)
            if not MIN_PUSH_DISTANCE <= distance <= MAX_PUSH_DISTANCE:
                continue
            approach = target - (goal - target) / distance * (target_r + APPROACH_GAP)
            if not np.all((HAND_LOW[:2] <= approach) & (approach <= HAND_HIGH[:2])):
                continue
            distractor = self._uniform(OBJECT_REGION)
            if (segment_distance(distractor, approach, goal)
                    > target_r + distractor_r + CLEARANCE
                    and np.linalg.norm(distractor - goal) > GOAL_RADIUS + distractor_r + CLEARANCE):
                break
        self.goal_pos = goal
        self.data.mocap_pos[self._goal] = (*goal, 0.0)
        for name, xy in (("target", target), ("distractor", distractor)):
            x, y, yaw = self._object_qpos[name]
            self.data.qpos[[x, y]] = xy
            self.data.qpos[yaw] = self.np_random.uniform(-np.pi, np.pi)
        self._start(PUSH_START, HAND_PUSH_START, grip=1.0)

    def _succeeding(self) -> bool:
        return bool(np.linalg.norm(self.target_pos - self.goal_pos) < GOAL_RADIUS)

    def _reward(self) -> float:
        return -float(np.linalg.norm(self.target_pos - self.goal_pos))

    def _info(self) -> dict[str, Any]:
        return {**super()._info(), "distance": -self._reward()}

    def _layout(self) -> dict[str, Any]:
        return {"goal_pos": self.goal_pos.tolist(), "goal_radius": GOAL_RADIUS,
                "target_pos": self.target_pos.tolist(),
                "distractor_pos": self.object_xy("distractor").tolist()}
