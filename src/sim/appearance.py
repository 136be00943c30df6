"""Table textures and backgrounds (walls + lighting), in meta-train / held-out splits.

DAML's large-domain-shift experiment tests on backgrounds never seen in training
(thesis Table 7, L3775-L3805); the pushing experiment holds out textures (L3111). Both
catalogues here are fixed functions of the split: 12 train / 4 held-out table textures,
and 10 train / 2 held-out backgrounds. A background is what surrounds the table: the
cloth on the table, the wall texture behind it, the light's direction and brightness,
and the ambient level.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from sim.colours import SPLITS, Colour
from sim.textures import TEXTURE_KINDS, Texture

TABLE_COUNTS = {"train": 12, "heldout": 4}
BACKGROUND_COUNTS = {"train": 10, "heldout": 2}
SPLIT_SEEDS = {"train": 101, "heldout": 202}
SURFACE_VALUE = (0.35, 0.75)   # muted surfaces: objects must stand out against them


@dataclass(frozen=True)
class Background:
    """A room around the work: a cloth on the table, the walls, and the light."""

    name: str
    split: str
    cloth: Texture
    wall: Texture
    light_dir: tuple[float, float, float]
    diffuse: float
    ambient: float


def _muted(rng: np.random.Generator) -> Colour:
    """A low-saturation surface colour, so that objects' bright colours stand out."""
    grey = rng.uniform(*SURFACE_VALUE)
    tint = rng.uniform(-0.08, 0.08, 3)
    return tuple(float(c) for c in np.clip(grey + tint, 0.0, 1.0))


def _surface_texture(rng: np.random.Generator) -> Texture:
    return Texture(kind=TEXTURE_KINDS[int(rng.integers(len(TEXTURE_KINDS)))],
                   primary=_muted(rng), secondary=_muted(rng), seed=int(rng.integers(2**31)))


@lru_cache(maxsize=None)
def table_textures(split: str) -> tuple[Texture, ...]:
    """The table textures of ``split``, always the same ones."""
    _check_split(split)
    rng = np.random.default_rng(SPLIT_SEEDS[split])
    return tuple(_surface_texture(rng) for _ in range(TABLE_COUNTS[split]))


@lru_cache(maxsize=None)
def backgrounds(split: str) -> tuple[Background, ...]:
    """The backgrounds of ``split`` ("train": 10, "heldout": 2), always the same ones."""
    _check_split(split)
    rng = np.random.default_rng(SPLIT_SEEDS[split] + 1)
    out = []
    for index in range(BACKGROUND_COUNTS[split]):
        direction = np.array([rng.uniform(-0.6, 0.6), rng.uniform(-0.6, 0.6), -1.0])
        out.append(Background(
            name=f"{split}-bg{index:02d}", split=split, cloth=_surface_texture(rng),
            wall=_surface_texture(rng),
            light_dir=tuple(float(c) for c in direction / np.linalg.norm(direction)),
            diffuse=float(rng.uniform(0.45, 0.8)), ambient=float(rng.uniform(0.2, 0.45))))
    return tuple(out)


def background_by_name(name: str) -> Background:
    """The background called ``name`` (e.g. ``train-bg03``); a ValueError names near ones."""
    everything = {bg.name: bg for split in SPLITS for bg in backgrounds(split)}
    if name in everything:
        return everything[name]
    close = difflib.get_close_matches(name, list(everything), n=3)
    raise ValueError(f"unknown background {name!r}; known: {close or sorted(everything)}")


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")

