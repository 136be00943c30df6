"""Target colours for the reach family: a task is "reach the target of colour c".

Colours are drawn in HSV with saturation and value in a bright range, so every colour is
vivid and distinguishable from the grey arm and floor. The hue circle is cut into
``HUE_BINS`` equal bins; every ``HELDOUT_EVERY``-th bin belongs to the held-out split and
the rest to meta-training, so a held-out colour's hue is never seen in training. Hues are
drawn from the middle ``1 - 2 * BIN_MARGIN`` of a bin, which keeps a gap between the
hues of adjacent train and held-out bins.
"""

from __future__ import annotations

import colorsys
from typing import Sequence

import numpy as np

Colour = tuple[float, float, float]

SPLITS = ("train", "heldout")
HUE_BINS = 20
HELDOUT_EVERY = 4
BIN_MARGIN = 0.1
SATURATION_RANGE = (0.65, 1.0)
VALUE_RANGE = (0.75, 1.0)
MIN_HUE_DISTANCE = 0.1
GOLDEN_RATIO_FRACTION = 0.6180339887498949

NAMED_COLOURS: dict[str, Colour] = {
    "red": (1.0, 0.0, 0.0),
    "orange": (1.0, 0.5, 0.0),
    "yellow": (1.0, 1.0, 0.0),
    "green": (0.0, 0.8, 0.0),
    "cyan": (0.0, 1.0, 1.0),
    "blue": (0.0, 0.2, 1.0),
    "purple": (0.6, 0.0, 1.0),
    "magenta": (1.0, 0.0, 1.0),
    "pink": (1.0, 0.4, 0.7),
}


def hue_bins(split: str) -> list[int]:
    """Indices of the hue bins that belong to ``split`` ("train" or "heldout")."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    heldout = [b for b in range(HUE_BINS) if b % HELDOUT_EVERY == HELDOUT_EVERY - 1]
    return heldout if split == "heldout" else [b for b in range(HUE_BINS) if b not in heldout]


def hue_bin(hue: float) -> int:
    """The bin a hue in [0, 1) falls in."""
    return int(hue % 1.0 * HUE_BINS) % HUE_BINS


def _split_hue(split: str, fraction: float) -> float:
    """Map ``fraction`` in [0, 1) onto the usable hue range of ``split``'s bins."""
    bins = hue_bins(split)
    position = fraction * len(bins)
    index = min(int(position), len(bins) - 1)
    within = BIN_MARGIN + (position - index) * (1.0 - 2.0 * BIN_MARGIN)
    return (bins[index] + within) / HUE_BINS


def _hsv_colour(hue: float, saturation_fraction: float, value_fraction: float) -> Colour:
    """A bright RGB colour: saturation and value fractions index their bright ranges."""
    saturation = SATURATION_RANGE[0] + saturation_fraction * np.ptp(SATURATION_RANGE)
    value = VALUE_RANGE[0] + value_fraction * np.ptp(VALUE_RANGE)
    return tuple(float(c) for c in colorsys.hsv_to_rgb(hue, saturation, value))


def task_colour(split: str, key: int | np.random.Generator) -> Colour:
    """The target colour of a task in ``split``.

    ``key`` as an ``int`` gives a fixed colour per task index, spread evenly over the
    split's hues by a golden-ratio sequence (index 0, 1, 2, ... never repeat); ``key`` as a
    generator draws a colour uniformly from the split.
    """
    if isinstance(key, np.random.Generator):
        hue_fraction, saturation_fraction, value_fraction = key.random(3)
    else:
        index = int(key)
        hue_fraction = (index * GOLDEN_RATIO_FRACTION) % 1.0
        saturation_fraction = (index * 0.7548776662466927) % 1.0
        value_fraction = (index * 0.5698402909980532) % 1.0
    return _hsv_colour(_split_hue(split, hue_fraction), saturation_fraction, value_fraction)


def colour_hue(colour: Sequence[float]) -> float:
    """The HSV hue in [0, 1) of an RGB colour."""
    return colorsys.rgb_to_hsv(*colour)[0]


def hue_distance(a: float, b: float) -> float:
    """Distance between two hues on the hue circle, in [0, 0.5]."""
    gap = abs(a - b) % 1.0
    return min(gap, 1.0 - gap)


def sample_distractor_colours(target: Sequence[float], split: str, rng: np.random.Generator,
                              count: int = 2) -> list[Colour]:
    """``count`` colours from ``split`` whose hues are at least ``MIN_HUE_DISTANCE`` from the
    target's and from each other's, so no distractor can be mistaken for the target."""
    hues = [colour_hue(target)]
    colours: list[Colour] = []
    while len(colours) < count:
        candidate = task_colour(split, rng)
        hue = colour_hue(candidate)
        if all(hue_distance(hue, other) >= MIN_HUE_DISTANCE for other in hues):
            hues.append(hue)
            colours.append(candidate)
    return colours


def resolve_colour(value: str | Sequence[float]) -> Colour:
    """An RGB triple from a colour name or from three numbers in [0, 1]."""
    if isinstance(value, str):
        if value not in NAMED_COLOURS:
            raise ValueError(f"unknown colour name {value!r}; known: {sorted(NAMED_COLOURS)}")
        return NAMED_COLOURS[value]
    numbers = list(value)
    if len(numbers) != 3 or not all(
            isinstance(c, (int, float)) and not isinstance(c, bool) and 0.0 <= c <= 1.0
            for c in numbers):
        raise ValueError(f"colour must be a name or 3 numbers in [0, 1], got {value!r}")
    return tuple(float(c) for c in numbers)
