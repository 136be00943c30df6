"""Fixed reach scenes from YAML (``--scene FILE.yaml``): pin colours, positions, image size.

Example (``sim/scenes/reach_example.yaml``)::

    target_colour: red              # a name from sim.colours.NAMED_COLOURS or [r, g, b]
    distractor_colours: [green, [0.1, 0.3, 1.0]]   # optional: exactly 2
    target_positions: [[0.2, 0.0], [0.0, 0.2], [-0.15, -0.1]]  # optional: target first
    image_size: [64, 64]            # optional: [width, height]
    seed: 0                         # optional: seed of the first reset

Unset fields are sampled at every reset as in the random task family.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Sequence

import yaml

from sim.arena import ARENA_HALF_SIZE, LINK_LENGTHS, TARGET_RADIUS
from sim.colours import Colour, resolve_colour

Position = tuple[float, float]
MAX_IMAGE_SIDE = 2048


class SceneError(ValueError):
    """A scene is invalid; the message names the field (and the file, when loaded)."""


def _colour(field_name: str, value: Any) -> Colour:
    try:
        return resolve_colour(value)
    except (ValueError, TypeError) as error:
        raise SceneError(f"field '{field_name}': {error}") from error


def _position(field_name: str, value: Any) -> Position:
    """A reachable (x, y) inside the arena, or a SceneError naming the field."""
    if (not isinstance(value, (list, tuple)) or len(value) != 2
            or not all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in value)):
        raise SceneError(f"field '{field_name}': a position is 2 numbers [x, y], got {value!r}")
    x, y = float(value[0]), float(value[1])
    limit = ARENA_HALF_SIZE - TARGET_RADIUS
    if abs(x) > limit or abs(y) > limit:
        raise SceneError(f"field '{field_name}': position {[x, y]} is outside the arena "
                         f"(|x|, |y| <= {limit} m)")
    if math.hypot(x, y) > sum(LINK_LENGTHS):
        raise SceneError(f"field '{field_name}': position {[x, y]} is beyond the arm's reach "
                         f"({sum(LINK_LENGTHS)} m from the centre)")
    return x, y


def _sequence(field_name: str, value: Any, count: int) -> Sequence[Any]:
    if not isinstance(value, (list, tuple)) or len(value) != count:
        raise SceneError(f"field '{field_name}': needs exactly {count} entries, got {value!r}")
    return value


def _check_apart(positions: Sequence[Position]) -> None:
    """Refuse overlapping targets: the camera could not tell them apart."""
    for i, a in enumerate(positions):
        for j, b in enumerate(positions[:i]):
            if math.dist(a, b) < 2 * TARGET_RADIUS:
                raise SceneError(f"field 'target_positions': entries {j} and {i} overlap "
                                 f"(centres closer than {2 * TARGET_RADIUS} m)")


@dataclass
class ReachScene:
    """A reach scene. ``target_positions`` lists the target first, then the 2 distractors.

    Construction validates and normalises: colour names become RGB tuples, positions
    tuples, so a scene built in code is checked the same way as one loaded from YAML.
    """

    target_colour: Colour | str
    distractor_colours: Sequence[Colour | str] | None = None
    target_positions: Sequence[Position] | None = None
    image_size: tuple[int, int] | None = None
    seed: int | None = None

    def __post_init__(self) -> None:
        self.target_colour = _colour("target_colour", self.target_colour)
        if self.distractor_colours is not None:
            self.distractor_colours = tuple(
                _colour(f"distractor_colours[{i}]", colour) for i, colour in
                enumerate(_sequence("distractor_colours", self.distractor_colours, 2)))
        if self.target_positions is not None:
            self.target_positions = tuple(
                _position(f"target_positions[{i}]", position) for i, position in
                enumerate(_sequence("target_positions", self.target_positions, 3)))
            _check_apart(self.target_positions)
        if self.image_size is not None:
            size = _sequence("image_size", self.image_size, 2)
            self.image_size = image_size_field(size)
        self.seed = seed_field(self.seed)


def size_argument(name: str, size: Sequence[int]) -> tuple[int, int]:
    """An image size given to a twin: a (width, height) pair of positive integers, or a
    ValueError naming the argument ``name``."""
    width, height = (int(side) for side in size)
    if width < 1 or height < 1:
        raise ValueError(f"{name} must be positive (width, height), got {tuple(size)}")
    return width, height


def image_size_field(size: Any, largest: int = MAX_IMAGE_SIDE) -> tuple[int, int] | None:
    """The ``image_size`` field: None or [width, height] of positive integers."""
    if size is None:
        return None
    if (not isinstance(size, (list, tuple)) or len(size) != 2 or not all(
            isinstance(s, int) and not isinstance(s, bool) and 0 < s <= largest for s in size)):
        raise SceneError(f"field 'image_size': needs 2 integers in [1, {largest}] as "
                         f"[width, height], got {size!r}")
    return size[0], size[1]


def seed_field(seed: Any) -> int | None:
    """The ``seed`` field: None or a non-negative integer."""
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool) or seed < 0):
        raise SceneError(f"field 'seed': needs a non-negative integer, got {seed!r}")
    return seed


def read_scene(path: str | os.PathLike, scene_class: type, required: Sequence[str]) -> Any:
    """Build ``scene_class`` (a dataclass validating itself) from the YAML file ``path``;
    every error names the file and the offending field."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise SceneError(f"{path}: cannot read scene: {error}") from error
    if not isinstance(data, dict):
        raise SceneError(f"{path}: a scene is a YAML mapping of fields")
    known = {f.name for f in fields(scene_class)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise SceneError(f"{path}: unknown field(s) {unknown}; known: {sorted(known)}")
    for name in required:
        if name not in data:
            raise SceneError(f"{path}: field '{name}' is required")
    try:
        return scene_class(**data)
    except SceneError as error:
        raise SceneError(f"{path}: {error}") from error


def load_scene(path: str | os.PathLike) -> ReachScene:
    """Read a reach scene from YAML; every error names the file and the offending field."""
    return read_scene(path, ReachScene, required=("target_colour",))
