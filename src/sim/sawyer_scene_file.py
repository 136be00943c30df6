"""Sawyer scenes from YAML (``--scene FILE.yaml``): stage the objects and looks of the
``place`` and ``sawyer-push`` twins.

Example (``sim/scenes/place_example.yaml``)::

    family: place                  # place | sawyer-push
    object: heldout-004-cross      # place: the held object; sawyer-push: the target
    colour: purple                 # place: the target container's colour (name or RGB)
    distractor: heldout-007-ellipsoid   # sawyer-push: the other object
    split: heldout                 # where table textures (and unset fields) come from
    table: 2
    background: heldout-bg01
    image_size: [64, 64]

Unset fields are drawn at every reset, as in the task family; positions are always
drawn. Every error names the file and the field.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from sim.appearance import background_by_name, table_textures
from sim.colours import SPLITS, Colour, resolve_colour
from sim.objects import UnknownObjectError, object_by_name
from sim.scene import SceneError, image_size_field, read_scene, seed_field

FAMILY_FIELDS = {"place": {"colour"}, "sawyer-push": {"distractor"}}


def _object_name(field: str, value: Any) -> str | None:
    if value is None:
        return None
    try:
        return object_by_name(str(value)).name
    except UnknownObjectError as error:
        raise SceneError(f"field '{field}': {error}") from error


@dataclass
class SawyerScene:
    """A Sawyer scene; construction validates every field (see the module docstring)."""

    family: str
    object: str | None = None
    colour: Colour | str | None = None
    distractor: str | None = None
    split: str = "train"
    table: int | None = None
    background: str | None = None
    image_size: tuple[int, int] | None = None
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.family not in FAMILY_FIELDS:
            raise SceneError(f"field 'family': one of {sorted(FAMILY_FIELDS)}, got {self.family!r}")
        for name, families in (("colour", "place"), ("distractor", "sawyer-push")):
            if getattr(self, name) is not None and self.family != families:
                raise SceneError(f"field '{name}': only a {families} scene has one")
        if self.split not in SPLITS:
            raise SceneError(f"field 'split': one of {SPLITS}, got {self.split!r}")
        self.object = _object_name("object", self.object)
        self.distractor = _object_name("distractor", self.distractor)
        if self.object is not None and self.object == self.distractor:
            raise SceneError("field 'distractor': must differ from 'object'")
        if self.colour is not None:
            try:
                self.colour = resolve_colour(self.colour)
            except (ValueError, TypeError) as error:
                raise SceneError(f"field 'colour': {error}") from error
        tables = len(table_textures(self.split))
        if self.table is not None and (isinstance(self.table, bool) or not isinstance(self.table, int)
                                       or not 0 <= self.table < tables):
            raise SceneError(f"field 'table': an index 0..{tables - 1} of the {self.split} "
                             f"table textures, got {self.table!r}")
        if self.background is not None:
            try:
                background_by_name(self.background)
            except ValueError as error:
                raise SceneError(f"field 'background': {error}") from error
        self.image_size = image_size_field(self.image_size)
        self.seed = seed_field(self.seed)

    def env_kwargs(self) -> dict[str, Any]:
        """Constructor arguments of the family's twin that pin what the scene pins."""
        kwargs: dict[str, Any] = {"split": self.split, "object_name": self.object,
                                  "table": self.table, "background": self.background}
        if self.family == "place":
            kwargs["colour"] = self.colour
        else:
            kwargs["distractor_name"] = self.distractor
        if self.image_size is not None:
            kwargs["image_size"] = self.image_size
        return kwargs


def load_sawyer_scene(path: str | os.PathLike) -> SawyerScene:
    """Read a Sawyer scene from YAML; every error names the file and the offending field."""
    return read_scene(path, SawyerScene, required=("family",))
