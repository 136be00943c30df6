"""Procedural objects for the manipulation twins, in explicit meta-train / held-out splits.

The thesis's pushing tasks vary object shape, size, texture, mass and friction across
tasks, with held-out objects and textures for evaluation (L3105-L3113). Meshes from
thingiverse are not ours to ship, so objects here are built from MuJoCo primitives:
single primitives (box, cylinder, sphere, ellipsoid, lying capsule) and compounds of
two or three parts (L, T, dumbbell, cross, stacked). Each object also has a base colour,
a procedural texture (checker, stripes, dots, noise, gradient), a mass and a
friction coefficient.

The catalogue is a pure function of the split: ``catalogue("train")`` always lists the
same 120 objects and ``catalogue("heldout")`` the same 24. Held-out objects take their
colours from the held-out hue bins of :mod:`sim.colours` and their parameters from a
separate random stream, so no held-out object appears in meta-training. Names look like
``train-042-dumbbell``; :func:`object_by_name` finds one and names near misses.
"""
from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from functools import lru_cache

import mujoco
import numpy as np

from sim.colours import SPLITS, Colour, task_colour
from sim.textures import TEXTURE_KINDS, Texture, add_texture_material

CATALOGUE_SIZES = {"train": 120, "heldout": 24}
SPLIT_SEEDS = {"train": 11, "heldout": 29}
PRIMITIVES = ("box", "cylinder", "sphere", "ellipsoid", "capsule")
COMPOUNDS = ("l_block", "t_block", "dumbbell", "cross", "stacked")
FAMILIES = PRIMITIVES + COMPOUNDS
FOOTPRINT_RANGE = (0.035, 0.055)   # m: radius of the circle enclosing the object from above
HEIGHT_RANGE = (0.025, 0.05)       # m: half height
MASS_RANGE = (0.05, 0.3)           # kg: light enough for the arm's 2 N m motors
FRICTION_RANGE = (0.1, 0.5)        # Coulomb coefficient against the table

GEOM_TYPES = {
    "box": mujoco.mjtGeom.mjGEOM_BOX,
    "cylinder": mujoco.mjtGeom.mjGEOM_CYLINDER,
    "sphere": mujoco.mjtGeom.mjGEOM_SPHERE,
    "ellipsoid": mujoco.mjtGeom.mjGEOM_ELLIPSOID,
    "capsule": mujoco.mjtGeom.mjGEOM_CAPSULE,
}


class UnknownObjectError(ValueError):
    """An object name is not in the catalogue; the message suggests close names."""


@dataclass(frozen=True)
class Part:
    """One primitive of an object: MuJoCo ``size`` semantics, ``pos`` from the object
    centre (m), and a rotation about z (rad); capsules lie along the body's x axis."""

    shape: str
    size: tuple[float, ...]
    pos: tuple[float, float, float]
    yaw: float = 0.0

    def volume(self) -> float:
        """Approximate volume (m^3), used to spread the object's mass over its parts."""
        s = self.size
        if self.shape == "box":
            return 8 * s[0] * s[1] * s[2]
        if self.shape == "cylinder":
            return math.pi * s[0] ** 2 * 2 * s[1]
        if self.shape == "sphere":
            return 4 / 3 * math.pi * s[0] ** 3
        if self.shape == "ellipsoid":
            return 4 / 3 * math.pi * s[0] * s[1] * s[2]
        return math.pi * s[0] ** 2 * 2 * s[1] + 4 / 3 * math.pi * s[0] ** 3  # capsule


@dataclass(frozen=True)
class ObjectSpec:
    """A manipulable object: its parts, look and physical properties."""

    name: str
    split: str
    family: str
    parts: tuple[Part, ...]
    colour: Colour
    texture: Texture
    mass: float
    friction: float

    @property
    def footprint_radius(self) -> float:
        """Radius (m) of the circle around the centre that encloses the object from above."""
        return max(math.hypot(*p.pos[:2]) + _part_reach(p) for p in self.parts)

    @property
    def half_height(self) -> float:
        """Half the object's height (m); its centre sits this far above the table."""
        return max(p.pos[2] + _part_half_height(p) for p in self.parts)

    def describe(self) -> dict:
        """JSON data for an episode's scene metadata."""
        return {"name": self.name, "split": self.split, "family": self.family,
                "colour": list(self.colour), "texture": self.texture.kind,
                "mass": self.mass, "friction": self.friction,
                "footprint_radius": self.footprint_radius}


def _part_reach(part: Part) -> float:
    s = part.size
    if part.shape == "box":
        return math.hypot(s[0], s[1])
    if part.shape == "capsule":
        return s[0] + s[1]
    if part.shape == "ellipsoid":
        return max(s[0], s[1])
    return s[0]


def _part_half_height(part: Part) -> float:
    s = part.size
    if part.shape in ("box", "ellipsoid"):
        return s[2]
    if part.shape == "cylinder":
        return s[1]
    return s[0]


def _primitive(family: str, radius: float, half_height: float,
               rng: np.random.Generator) -> tuple[Part, ...]:
    aspect = rng.uniform(0.55, 1.0)
    if family == "box":
        side = radius / math.hypot(1.0, aspect)
        return (Part("box", (side, side * aspect, half_height), (0, 0, 0)),)
    if family == "cylinder":
        return (Part("cylinder", (radius, half_height), (0, 0, 0)),)
    if family == "sphere":
        return (Part("sphere", (min(radius, half_height * 1.4),), (0, 0, 0)),)
    if family == "ellipsoid":
        return (Part("ellipsoid", (radius, radius * aspect, half_height), (0, 0, 0)),)
    thickness = min(half_height, radius * 0.45)
    return (Part("capsule", (thickness, radius - thickness), (0, 0, 0)),)


def _compound(family: str, radius: float, half_height: float,
              rng: np.random.Generator) -> tuple[Part, ...]:
    arm = radius * rng.uniform(0.22, 0.32)      # half width of each bar
    length = radius * 0.7                        # half length of each bar
    if family == "l_block":
        return (Part("box", (length, arm, half_height), (0, -length + arm, 0)),
                Part("box", (arm, length, half_height), (-length + arm, 0, 0)))
    if family == "t_block":
        return (Part("box", (length, arm, half_height), (0, length - arm, 0)),
                Part("box", (arm, length - arm, half_height), (0, -arm, 0)))
    if family == "dumbbell":
        bell = radius * 0.42
        return (Part("cylinder", (bell, half_height), (radius - bell, 0, 0)),
                Part("cylinder", (bell, half_height), (-(radius - bell), 0, 0)),
                Part("box", (radius - bell, arm * 0.6, half_height * 0.6), (0, 0, 0)))
    if family == "cross":
        return (Part("box", (length, arm, half_height), (0, 0, 0)),
                Part("box", (arm, length, half_height), (0, 0, 0)))
    base_half = half_height * 0.5                # stacked: a cylinder on a box
    side = radius / math.sqrt(2)
    return (Part("box", (side, side, base_half), (0, 0, -base_half)),
            Part("cylinder", (side * 0.7, base_half), (0, 0, base_half)))


def _make_object(split: str, index: int, rng: np.random.Generator) -> ObjectSpec:
    family = FAMILIES[int(rng.integers(len(FAMILIES)))]
    radius = rng.uniform(*FOOTPRINT_RANGE)
    half_height = rng.uniform(*HEIGHT_RANGE)
    build = _primitive if family in PRIMITIVES else _compound
    parts = build(family, radius, half_height, rng)
    colour = task_colour(split, rng)
    texture = Texture(kind=TEXTURE_KINDS[int(rng.integers(len(TEXTURE_KINDS)))],
                      primary=colour, secondary=task_colour(split, rng),
                      seed=int(rng.integers(2**31)))
    return ObjectSpec(name=f"{split}-{index:03d}-{family}", split=split, family=family,
                      parts=parts, colour=colour, texture=texture,
                      mass=float(rng.uniform(*MASS_RANGE)),
                      friction=float(rng.uniform(*FRICTION_RANGE)))


@lru_cache(maxsize=None)
def catalogue(split: str) -> tuple[ObjectSpec, ...]:
    """Every object of ``split`` ("train": 120, "heldout": 24), always the same ones."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    rng = np.random.default_rng(SPLIT_SEEDS[split])
    return tuple(_make_object(split, i, rng) for i in range(CATALOGUE_SIZES[split]))


def object_by_name(name: str) -> ObjectSpec:
    """The catalogue object called ``name``; UnknownObjectError suggests near names."""
    everything = {obj.name: obj for split in SPLITS for obj in catalogue(split)}
    if name in everything:
        return everything[name]
    close = difflib.get_close_matches(name, list(everything), n=3)
    hint = f"; did you mean {close}?" if close else "; names look like 'train-042-dumbbell'"
    raise UnknownObjectError(f"unknown object {name!r}{hint}")


def add_object(spec: mujoco.MjSpec, body: mujoco.MjsBody, obj: ObjectSpec, prefix: str,
               contype: int, conaffinity: int) -> None:
    """Add ``obj``'s geoms (named ``{prefix}_part{i}``), texture and material to ``body``.

    The object's mass is spread over its parts in proportion to their volumes.
    """
    material = add_texture_material(spec, prefix, obj.texture, mujoco.mjtTexture.mjTEXTURE_CUBE)
    density = obj.mass / sum(part.volume() for part in obj.parts)
    for i, part in enumerate(obj.parts):
        half_yaw = part.yaw / 2
        body.add_geom(name=f"{prefix}_part{i}", type=GEOM_TYPES[part.shape],
                      size=list(part.size) + [0.0] * (3 - len(part.size)),
                      pos=list(part.pos), density=density, material=material,
                      quat=_capsule_quat(part) if part.shape == "capsule"
                      else [math.cos(half_yaw), 0, 0, math.sin(half_yaw)],
                      contype=contype, conaffinity=conaffinity, condim=3)


def _capsule_quat(part: Part) -> list[float]:
    """Lay a capsule (MuJoCo's run along z) down along x, then turn it by its yaw."""
    lie = np.array([math.cos(math.pi / 4), 0, math.sin(math.pi / 4), 0])
    turn = np.array([math.cos(part.yaw / 2), 0, 0, math.sin(part.yaw / 2)])
    out = np.zeros(4)
    mujoco.mju_mulQuat(out, turn, lie)
    return out.tolist()
