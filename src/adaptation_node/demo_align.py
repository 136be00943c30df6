"""Turn timestamped streams (camera frames, joint states, commands) into an episode's arrays.

A recording interleaves frames with the commands issued in response to them. Step t of
the episode is frame t, the newest joint state stamped at or before it (header stamps:
when the camera and the encoders measured), and the command that followed it: the last
command received after the frame and before the next one (commands carry no stamp, so
receive times order them; zero-order hold over a lost command). Frames before the first command and after the last (the arm waiting for
the operator, or idle after the demo) are trimmed. A recording without commands (a
human video) keeps every frame and has no actions; without joint states either (a camera
alone), its state has zero width. No ROS here: the recorder node and
``oneshot convert`` share it.

A robot with a gripper sends its gripper commands on a stream of their own; each step's
action then ends with the newest gripper command received before the next frame (held
over steps without one; before the first, the first, as the gripper was already set so).
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from typing import Callable

import numpy as np


class AlignmentError(ValueError):
    """The streams do not make an episode; the message says which stream is lacking."""


@dataclass
class Streams:
    """The recorded messages, each list in arrival order (times in ns)."""

    frame_times: list[int]      # when each frame was received
    frame_stamps: list[int]     # when each frame was taken (header stamp)
    frames: list[np.ndarray]
    joint_stamps: list[int]     # header stamps of the joint states
    joints: list[tuple[np.ndarray, np.ndarray]]   # (positions, velocities)
    command_times: list[int]    # when each command was received
    commands: list[np.ndarray]
    grip_times: list[int] = field(default_factory=list)   # when each gripper command came
    grips: list[float] = field(default_factory=list)      # +1 closes, -1 opens


@dataclass
class Aligned:
    frames: np.ndarray          # uint8 [T, H, W, 3]
    state: np.ndarray           # float32 [T, ds]
    actions: np.ndarray | None  # float32 [T, da]; None for a recording without commands
    timestamps: np.ndarray      # float64 [T] seconds from the first kept frame


def _step_end(streams: Streams, index: int) -> int:
    """When step ``index`` ends: the next frame's arrival (never, for the last frame)."""
    if index + 1 < len(streams.frame_times):
        return streams.frame_times[index + 1]
    return np.iinfo(np.int64).max


def _command_after(streams: Streams, index: int) -> np.ndarray | None:
    """The last command received after frame ``index`` and before the next frame."""
    first = bisect_right(streams.command_times, streams.frame_times[index])
    last = bisect_left(streams.command_times, _step_end(streams, index))
    return streams.commands[last - 1] if last > first else None


def _grip_at(streams: Streams, index: int) -> float:
    """The newest gripper command received before the frame after ``index``."""
    return streams.grips[max(bisect_left(streams.grip_times, _step_end(streams, index)) - 1, 0)]


def _joints_at(streams: Streams, index: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The newest joint state stamped at or before frame ``index`` was taken."""
    position = bisect_right(streams.joint_stamps, streams.frame_stamps[index])
    return streams.joints[position - 1] if position else None


def align(streams: Streams, state_fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Aligned:
    """The episode arrays of a recording (see the module docstring)."""
    if not streams.frames:
        raise AlignmentError("no camera frames were recorded")
    if not streams.joints and streams.commands:
        raise AlignmentError("commands but no joint states were recorded")
    indices = list(range(len(streams.frames)))
    answers = [_command_after(streams, i) for i in indices] if streams.commands else []
    if streams.commands:
        followed = [i for i in indices if answers[i] is not None]
        if not followed:
            raise AlignmentError("no command followed any recorded frame")
        indices = indices[followed[0]:followed[-1] + 1]
    if streams.joints:
        indices = [i for i in indices if _joints_at(streams, i) is not None]
        if not indices:
            raise AlignmentError("no frame was taken after a joint state")
        state = np.stack([state_fn(*_joints_at(streams, i)) for i in indices])
    else:
        state = np.zeros((len(indices), 0))
    frames = np.stack([streams.frames[i] for i in indices])
    times = np.array([streams.frame_stamps[i] for i in indices], dtype=np.int64)
    actions = _held(answers, indices) if streams.commands else None
    if actions is not None and streams.grips:
        grips = np.array([[_grip_at(streams, i)] for i in indices], np.float32)
        actions = np.concatenate([actions, grips], axis=1)
    return Aligned(frames, state.astype(np.float32), actions,
                   (times - times[0]).astype(np.float64) / 1e9)


def _held(answers: list[np.ndarray | None], indices: list[int]) -> np.ndarray:
    """The command answering each frame, the previous one held where none came."""
    held, actions = None, []
    for i in indices:
        held = answers[i] if answers[i] is not None else held
        actions.append(held)
    return np.stack(actions).astype(np.float32)
