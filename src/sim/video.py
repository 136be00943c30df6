"""MP4 output for rollouts and demonstrations (H.264 via PyAV; OpenCV wheels cannot)."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path
from typing import Sequence

import av
import numpy as np


def _even(frame: np.ndarray) -> np.ndarray:
    """Pad the bottom/right edge by one black pixel where needed: yuv420p needs even sides."""
    height, width = frame.shape[:2]
    return np.pad(frame, ((0, height % 2), (0, width % 2), (0, 0)))


def write_mp4(path: str | os.PathLike, frames: Sequence[np.ndarray], fps: float) -> Path:
    """Encode uint8 RGB frames [H, W, 3] (all one size) as an H.264 yuv420p MP4."""
    path = Path(path)
    if len(frames) == 0:
        raise ValueError(f"{path}: no frames to write")
    first = np.asarray(frames[0])
    if first.dtype != np.uint8 or first.ndim != 3 or first.shape[2] != 3:
        raise ValueError(f"{path}: frames must be uint8 [H, W, 3], got {first.dtype} "
                         f"{first.shape}")
    height, width = _even(first).shape[:2]
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for frame in frames:
            frame = _even(np.asarray(frame))
            if frame.shape[:2] != (height, width):
                raise ValueError(f"{path}: frame size {frame.shape[:2]} differs from the "
                                 f"first frame's {(height, width)}")
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())
    return path


def upscale(frame: np.ndarray, scale: int) -> np.ndarray:
    """Nearest-neighbour upscale by an integer factor, so small images stay crisp."""
    return np.repeat(np.repeat(frame, scale, axis=0), scale, axis=1)


def side_by_side(left_frames: Sequence[np.ndarray], right_frames: Sequence[np.ndarray],
                 scale: int = 1, gap: int = 4) -> list[np.ndarray]:
    """Frames showing ``left`` and ``right`` next to each other (e.g. demo | rollout).

    Each side is upscaled by ``scale`` and bottom-padded to a common height; the shorter
    sequence holds its last frame until the longer one ends; ``gap`` black columns
    separate the two.
    """
    if len(left_frames) == 0 or len(right_frames) == 0:
        raise ValueError("side_by_side needs at least one frame on each side")
    length = max(len(left_frames), len(right_frames))
    height = scale * max(left_frames[0].shape[0], right_frames[0].shape[0])
    combined = []
    for step in range(length):
        sides = []
        for frames in (left_frames, right_frames):
            frame = upscale(np.asarray(frames[min(step, len(frames) - 1)]), scale)
            sides.append(np.pad(frame, ((0, height - frame.shape[0]), (0, 0), (0, 0))))
        spacer = np.zeros((height, gap, 3), dtype=np.uint8)
        combined.append(np.concatenate([sides[0], spacer, sides[1]], axis=1))
    return combined
