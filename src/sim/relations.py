"""Relative arrangements of two objects on a table: what an arrangement task asks for.

A task of FLO's object-arrangement experiment is "a particular relative positioning of two
objects, e.g. the first object to the left of the second" (thesis L4805-L4810). Relations
here are read off the offset ``d`` of the first object's centre from the second's, in the
image's frame: ``u`` along the image's right, ``v`` away from the camera ("behind").

- eight directions (left of, right of, behind, in front of and the four diagonals): the
  direction of ``d`` lies within 22.5 degrees of the relation's;
- ``touching``: the footprint circles (:attr:`ObjectSpec.footprint_radius`) are at most
  1 cm apart;
- ``apart``: they are at least 18 cm apart.

Labels must be unambiguous, so a negative example of a relation must be *clearly* not it:
at least 35 degrees off its direction, at least 4 cm apart for ``touching``, at most 12 cm
apart for ``apart`` (:func:`clearly_not`). Configurations in between label nothing.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

DIRECTIONS = {"right_of": 0.0, "behind_right": 45.0, "behind": 90.0, "behind_left": 135.0,
              "left_of": 180.0, "front_left": 225.0, "in_front_of": 270.0,
              "front_right": 315.0}
RELATIONS = (*DIRECTIONS, "touching", "apart")
SECTOR_HALF_WIDTH = 22.5          # deg: a direction holds this close to its bearing
NEGATIVE_ANGLE = 35.0             # deg: a direction is clearly wrong this far off
TOUCH_GAP, NOT_TOUCH_GAP = 0.01, 0.04      # m between footprint circles
APART_GAP, NOT_APART_GAP = 0.18, 0.12


@dataclass(frozen=True)
class Pair:
    """Where two objects stand in the image frame: the first's offset ``(u, v)`` from the
    second (m) and both footprint radii (m)."""

    offset: tuple[float, float]
    radii: tuple[float, float]

    @property
    def gap(self) -> float:
        """Free distance between the two footprint circles (m; negative when they overlap)."""
        return math.hypot(*self.offset) - sum(self.radii)

    @property
    def bearing(self) -> float:
        """Direction of the offset in degrees, 0 = right, 90 = behind, in [0, 360)."""
        return math.degrees(math.atan2(self.offset[1], self.offset[0])) % 360.0


def _check(relation: str) -> None:
    if relation not in RELATIONS:
        raise ValueError(f"unknown relation {relation!r}; relations are {list(RELATIONS)}")


def angle_off(relation: str, pair: Pair) -> float:
    """How many degrees the pair's bearing is off a direction relation's bearing."""
    off = abs(pair.bearing - DIRECTIONS[relation]) % 360.0
    return min(off, 360.0 - off)


def holds(relation: str, pair: Pair) -> bool:
    """Whether ``relation`` (first object relative to second) holds for ``pair``."""
    _check(relation)
    if relation == "touching":
        return pair.gap <= TOUCH_GAP
    if relation == "apart":
        return pair.gap >= APART_GAP
    return angle_off(relation, pair) <= SECTOR_HALF_WIDTH


def violation(relation: str, pair: Pair) -> float:
    """How far (m) ``pair`` is from satisfying ``relation``: 0 exactly when :func:`holds`,
    else the gap still to close (``touching``, ``apart``) or, for a direction, the arc its
    offset still has to swing to enter the sector. A graded form of :func:`holds` for
    planning costs."""
    _check(relation)
    if relation == "touching":
        return max(0.0, pair.gap - TOUCH_GAP)
    if relation == "apart":
        return max(0.0, APART_GAP - pair.gap)
    swing = math.radians(max(0.0, angle_off(relation, pair) - SECTOR_HALF_WIDTH))
    return swing * math.hypot(*pair.offset)


def clearly_not(relation: str, pair: Pair) -> bool:
    """Whether ``pair`` is a negative of ``relation`` with a margin (module docstring)."""
    _check(relation)
    if relation == "touching":
        return pair.gap >= NOT_TOUCH_GAP
    if relation == "apart":
        return pair.gap <= NOT_APART_GAP
    return angle_off(relation, pair) >= NEGATIVE_ANGLE


def sample_offset(relation: str, radii: tuple[float, float],
                  rng: np.random.Generator) -> tuple[float, float]:
    """An image-frame offset ``(u, v)`` of the first object from the second for which
    ``relation`` holds well inside its bounds: directions keep 7.5 degrees from the sector
    edges and a gap of 2-10 cm; ``touching`` has a gap of 0-8 mm; ``apart`` 20-26 cm."""
    _check(relation)
    if relation == "touching":
        bearing, gap = rng.uniform(0.0, 360.0), rng.uniform(0.0, 0.008)
    elif relation == "apart":
        bearing, gap = rng.uniform(0.0, 360.0), rng.uniform(0.20, 0.26)
    else:
        spread = SECTOR_HALF_WIDTH - 7.5
        bearing = DIRECTIONS[relation] + rng.uniform(-spread, spread)
        gap = rng.uniform(0.02, 0.10)
    distance = gap + sum(radii)
    angle = math.radians(bearing)
    return distance * math.cos(angle), distance * math.sin(angle)


def sample_near_miss(relation: str, radii: tuple[float, float],
                     rng: np.random.Generator) -> tuple[float, float]:
    """An offset ``(u, v)`` that clearly is not ``relation`` but a few pushes from it, a
    start for planning towards it: directions 35-55 degrees off their bearing with a gap of
    3-8 cm; ``touching`` a gap of 4-7 cm; ``apart`` a gap of 8-12 cm."""
    _check(relation)
    if relation == "touching":
        bearing, gap = rng.uniform(0.0, 360.0), rng.uniform(NOT_TOUCH_GAP, 0.07)
    elif relation == "apart":
        bearing, gap = rng.uniform(0.0, 360.0), rng.uniform(0.08, NOT_APART_GAP)
    else:
        side = rng.choice((-1.0, 1.0))
        bearing = DIRECTIONS[relation] + side * rng.uniform(NEGATIVE_ANGLE, 55.0)
        gap = rng.uniform(0.03, 0.08)
    distance = gap + sum(radii)
    angle = math.radians(bearing)
    return distance * math.cos(angle), distance * math.sin(angle)
