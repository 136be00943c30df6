"""Push scenes from YAML (``--scene FILE.yaml``): stage any objects, layout and look.

Example (``sim/scenes/push_example.yaml``)::

    target: heldout-004-cross       # a catalogue object, or a new one:
    distractor:
      shape: cylinder                  # box | cylinder | sphere | ellipsoid | capsule
      size: [0.04, 0.03]               # MuJoCo sizes (m): cylinder = radius, half height
      colour: green                    # a name from sim.colours or [r, g, b]
      texture: stripes                 # plain | checker | stripes | dots | noise | gradient
      mass: 0.2                        # kg
      friction: 0.3                    # Coulomb coefficient against the table
    split: heldout                     # where table textures come from (default train)
    table: 1                           # index of that split's table texture (default 0)
    goal: [0.4, -0.04]                 # optional positions (m), table plane
    target_pos: [0.45, -0.22]
    distractor_pos: [0.64, -0.23]
    background: heldout-bg00           # lab | a background name (cloth, walls, light);
                                       # unset: the lab for robots, drawn per reset for people
    camera: {distance: 1.3, azimuth: -90, elevation: 60, fovy: 45}
    demonstrator: human                # robot | human
    image_size: [125, 125]             # [width, height]
    seed: 0                            # seed of the first reset

Unset positions are drawn as in the task family, around the pinned ones. Every error
names the file and the field.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from sim.appearance import Background, background_by_name, table_textures
from sim.colours import SPLITS, resolve_colour
from sim.objects import GEOM_TYPES, ObjectSpec, Part, UnknownObjectError, object_by_name
from sim.push_scene import CameraPose, ROBOT_CAMERA_POSE
from sim.scene import SceneError, image_size_field, read_scene, seed_field
from sim.textures import TEXTURE_KINDS, Texture

SIZE_COUNTS = {"box": 3, "cylinder": 2, "sphere": 1, "ellipsoid": 3, "capsule": 2}
OBJECT_FIELDS = {"shape", "size", "colour", "texture", "mass", "friction"}
TABLE_AREA = ((-0.1, 1.0), (-0.55, 0.45))      # where positions may lie (x, y ranges, m)
MAX_IMAGE_SIDE = 1024
LAB = "lab"                                    # the robot lab's plain walls and light
MAX_FOOTPRINT = 0.065                          # m: the catalogue's largest; fits the arm's U


def _number(field: str, value: Any, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise SceneError(f"field '{field}': needs a number in [{low}, {high}], got {value!r}")
    return float(value)


def _new_object(field: str, data: dict[str, Any]) -> ObjectSpec:
    unknown = sorted(set(data) - OBJECT_FIELDS)
    if unknown:
        raise SceneError(f"field '{field}': unknown key(s) {unknown}; known: {sorted(OBJECT_FIELDS)}")
    shape = data.get("shape")
    if shape not in GEOM_TYPES:
        raise SceneError(f"field '{field}.shape': one of {sorted(GEOM_TYPES)}, got {shape!r}")
    size = data.get("size")
    if not isinstance(size, list) or len(size) != SIZE_COUNTS[shape]:
        raise SceneError(f"field '{field}.size': a {shape} takes {SIZE_COUNTS[shape]} sizes (m), "
                         f"got {size!r}")
    size = tuple(_number(f"{field}.size[{i}]", s, 0.005, 0.08) for i, s in enumerate(size))
    try:
        colour = resolve_colour(data.get("colour", "red"))
    except (ValueError, TypeError) as error:
        raise SceneError(f"field '{field}.colour': {error}") from error
    kind = data.get("texture", "plain")
    if kind not in TEXTURE_KINDS:
        raise SceneError(f"field '{field}.texture': one of {list(TEXTURE_KINDS)}, got {kind!r}")
    secondary = tuple(0.5 * c for c in colour)
    made = ObjectSpec(name=f"scene-{field}", split="scene", family=shape,
                      parts=(Part(shape, size, (0.0, 0.0, 0.0)),), colour=colour,
                      texture=Texture(kind, colour, secondary, seed=0),
                      mass=_number(f"{field}.mass", data.get("mass", 0.15), 0.01, 0.5),
                      friction=_number(f"{field}.friction", data.get("friction", 0.3), 0.0, 1.0))
    if made.footprint_radius > MAX_FOOTPRINT:
        raise SceneError(f"field '{field}.size': the object reaches {made.footprint_radius:.3f} m "
                         f"from its centre; the pusher takes at most {MAX_FOOTPRINT} m")
    return made


def _object(field: str, value: Any) -> ObjectSpec:
    if isinstance(value, ObjectSpec):
        return value
    if isinstance(value, str):
        try:
            return object_by_name(value)
        except UnknownObjectError as error:
            raise SceneError(f"field '{field}': {error}") from error
    if isinstance(value, dict):
        return _new_object(field, value)
    raise SceneError(f"field '{field}': a catalogue object name or a mapping of "
                     f"{sorted(OBJECT_FIELDS)}, got {value!r}")


def _position(field: str, value: Any) -> tuple[float, float] | None:
    if value is None:
        return None
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise SceneError(f"field '{field}': a position is [x, y] (m), got {value!r}")
    (x_low, x_high), (y_low, y_high) = TABLE_AREA
    return (_number(f"{field}[0]", value[0], x_low, x_high),
            _number(f"{field}[1]", value[1], y_low, y_high))


def _camera(value: Any) -> CameraPose | None:
    if value is None or isinstance(value, CameraPose):
        return value
    if not isinstance(value, dict) or set(value) - {"distance", "azimuth", "elevation", "fovy"}:
        raise SceneError(f"field 'camera': a mapping of distance, azimuth, elevation, fovy; "
                         f"got {value!r}")
    base = ROBOT_CAMERA_POSE
    return CameraPose(
        target=base.target,
        distance=_number("camera.distance", value.get("distance", base.distance), 0.3, 5.0),
        azimuth=_number("camera.azimuth", value.get("azimuth", base.azimuth), -360.0, 360.0),
        elevation=_number("camera.elevation", value.get("elevation", base.elevation), 5.0, 90.0),
        fovy=_number("camera.fovy", value.get("fovy", base.fovy), 10.0, 120.0))


@dataclass
class PushScene:
    """A push scene; construction validates and normalises every field (see module doc)."""

    target: ObjectSpec | str | dict
    distractor: ObjectSpec | str | dict
    split: str = "train"
    table: int = 0
    goal: tuple[float, float] | None = None
    target_pos: tuple[float, float] | None = None
    distractor_pos: tuple[float, float] | None = None
    background: Background | str | None = None
    camera: CameraPose | dict | None = None
    demonstrator: str = "robot"
    image_size: tuple[int, int] | None = None
    seed: int | None = None

    def __post_init__(self) -> None:
        self.target = _object("target", self.target)
        self.distractor = _object("distractor", self.distractor)
        if self.split not in SPLITS:
            raise SceneError(f"field 'split': one of {SPLITS}, got {self.split!r}")
        tables = len(table_textures(self.split))
        if isinstance(self.table, bool) or not isinstance(self.table, int) or not 0 <= self.table < tables:
            raise SceneError(f"field 'table': an index 0..{tables - 1} of the {self.split} "
                             f"table textures, got {self.table!r}")
        self.goal = _position("goal", self.goal)
        self.target_pos = _position("target_pos", self.target_pos)
        self.distractor_pos = _position("distractor_pos", self.distractor_pos)
        if isinstance(self.background, str) and self.background != LAB:
            try:
                self.background = background_by_name(self.background)
            except ValueError as error:
                raise SceneError(f"field 'background': {error}") from error
        self.camera = _camera(self.camera)
        if self.demonstrator not in ("robot", "human"):
            raise SceneError(f"field 'demonstrator': robot or human, got {self.demonstrator!r}")
        self.image_size = image_size_field(self.image_size, MAX_IMAGE_SIDE)
        self.seed = seed_field(self.seed)


def load_push_scene(path: str | os.PathLike) -> PushScene:
    """Read a push scene from YAML; every error names the file and the offending field."""
    return read_scene(path, PushScene, required=("target", "distractor"))
