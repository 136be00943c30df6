"""``oneshot record``: a human demonstration straight from a camera, without a ROS graph.

The camera (any :func:`adaptation_node.camera_sources.make_source` spec: ``realsense``,
``realsense:SERIAL``, ``usb:N`` or a recording) is read at its own pace for a number of
seconds, or to the end of a recording if that comes first, and the frames become one
episode: ``demonstrator="human"``, no actions, a zero-width state (no robot to measure)
and the frames' own timestamps, from 0. The episode is written atomically, so an error
or Ctrl-C leaves no episode behind.

No ROS graph is needed and this module does not import rclpy; pyrealsense2 is imported
only when a RealSense source opens, so a process that also uses rclpy must have imported
rclpy by then (see :mod:`adaptation_node.camera_sources`).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from adaptation_node.camera_sources import FrameSource, make_source
from episodes import Episode, write_episode

POLL_S = 0.002  # sleep between polls of a source that has no frame ready yet


@dataclass
class Take:
    """The frames read from one source, with their source times from the first."""

    frames: list[np.ndarray]
    timestamps: list[float]


def capture(source: FrameSource, seconds: float) -> Take:
    """Read an open ``source`` for ``seconds`` of its own time, or until it ends.

    The length is measured in source time, so a file that decodes faster than real time
    gives its first ``seconds`` seconds. The wall clock bounds it too, so that a camera
    that stalls cannot hang it: reading stops ``seconds`` after the first frame came, or
    after the start while none has."""
    take = Take([], [])
    first_stamp: float | None = None
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        read = source.read()
        if read is None:
            if source.ended:
                break
            time.sleep(POLL_S)
            continue
        frame, stamp = read
        if first_stamp is None:
            first_stamp, deadline = stamp, time.monotonic() + seconds
        elif frame.shape != take.frames[0].shape:
            raise ValueError(f"frame {len(take.frames)} is {frame.shape}, "
                             f"the first was {take.frames[0].shape}")
        if stamp - first_stamp >= seconds:
            break
        take.frames.append(frame)
        take.timestamps.append(stamp - first_stamp)
    return take


def episode_name() -> str:
    return time.strftime("record-%Y%m%d-%H%M%S")


def record(spec: str, seconds: float, out_dir: Path, task: dict[str, Any] | None = None
           ) -> tuple[Path, int]:
    """Record ``seconds`` of the camera ``spec`` into a new episode in ``out_dir``.

    Returns the episode's path and its number of frames. A bad spec is a ValueError, a
    missing camera :class:`~adaptation_node.camera_sources.CameraUnavailable` (an
    OSError), fewer than two frames a ValueError; in each case nothing is written."""
    if not seconds > 0:
        raise ValueError(f"--seconds must be positive, got {seconds}")
    path = Path(out_dir) / episode_name()
    if path.exists():
        raise ValueError(f"{path} already exists (one recording per second and directory)")
    with make_source(spec, loop=False) as source:
        take = capture(source, seconds)
        fovy_deg = source.fovy_deg
    if not take.frames:
        raise ValueError(f"no frames from camera {spec!r} in {seconds:g} s; nothing written")
    if len(take.frames) == 1:
        raise ValueError(f"only one frame from camera {spec!r} in {seconds:g} s: an episode "
                         "needs two to have a frame rate; nothing written")
    height, width = take.frames[0].shape[:2]
    episode = Episode(
        frames=np.stack(take.frames),
        state=np.zeros((len(take.frames), 0), np.float32),
        actions=None,
        timestamps=np.asarray(take.timestamps, np.float64),
        task={} if task is None else task,
        demonstrator="human",
        camera={"name": spec, "width": width, "height": height, "fovy_deg": fovy_deg})
    return write_episode(path, episode), len(take.frames)
