"""Plane geometry the twins' layouts share."""
from __future__ import annotations

import numpy as np


def segment_distance(point: np.ndarray, start: np.ndarray, end: np.ndarray) -> float:
    """Distance from ``point`` to the segment from ``start`` to ``end``: how far an
    object lies from the path another object is pushed along."""
    along = end - start
    t = np.clip(np.dot(point - start, along) / max(np.dot(along, along), 1e-12), 0.0, 1.0)
    return float(np.linalg.norm(point - (start + t * along)))
