"""The one video DAML adapts from (thesis 7.2), loaded from whatever a user hands over.

DAML's test-time input is a single video of a person doing the task, no actions and no
state (thesis 7.2, Algorithm 10's d^h). ``oneshot adapt --video PATH`` accepts:

- an episode directory (``episodes`` format), human or robot: only its frames are used;
- a video file PyAV decodes (mp4, mkv, ...), as ``sim.video.write_mp4`` writes them;
- a ROS 2 log: an MCAP file, a rosbag2 folder, or a ``.db3`` (rosbag2 SQLite3 or a
  RealSense recording), read by ``adaptation_node.rosbag_read``: its ``image_raw`` frames
  in the order they were taken.

Each is checked before any gradient step is spent on it, so a bad input fails in one
line naming the file and the problem (:class:`VideoError`) instead of adapting the
policy to nonsense. Frames are never resized here: a video of another size than the
policy's input was taken by another camera set-up, which the user should know about.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from episodes import EpisodeError, read_episode

if TYPE_CHECKING:
    import av

# A frame whose brightest pixel is at most this (of 255) shows nothing: a covered lens or
# an unexposed sensor reads 0 plus a few levels of noise and compression ringing.
BLACK_MAX = 8
# The first bytes of the ROS 2 logs adaptation_node.rosbag_read reads (MCAP, SQLite3);
# repeated here so that telling a log from a video file needs no ROS install.
LOG_MAGICS = (b"\x89MCAP0\r\n", b"SQLite format 3\x00")
EPISODE_META = "meta.json"
BAG_METADATA = "metadata.yaml"
IMAGE_TOPIC = "image_raw"
# Decoded pixel formats without colour: their RGB conversion only repeats the grey level.
GREY_FORMATS = ("gray", "ya", "mono")


class VideoError(ValueError):
    """A video that cannot be used for adaptation; the message names the file and the problem."""


@dataclass
class Video:
    """A demonstration video: its frames, its frame rate if known, and where it came from."""

    frames: np.ndarray   # uint8 [T, H, W, 3] RGB, time order
    fps: float | None
    source: str          # the path it came from


def load_video(path: str | os.PathLike, image_size: tuple[int, int],
               min_frames: int = 10) -> Video:
    """The checked video at ``path`` for a policy taking ``image_size`` = (width, height).

    VideoError if the path is missing or unreadable, or its frames are not RGB, not of
    ``image_size``, fewer than ``min_frames`` or all black (see the module docstring).
    """
    width, height = image_size
    if width < 1 or height < 1 or min_frames < 1:
        raise ValueError(f"image_size {image_size} and min_frames {min_frames} must be positive")
    path = Path(path)
    frames, fps = _read(path, (int(width), int(height)))
    _check_frames(frames, path, (int(width), int(height)), min_frames)
    return Video(frames, fps, str(path))


def clip_indices(count: int, length: int, rng: np.random.Generator | None) -> np.ndarray:
    """``length`` frame indices of a ``count``-frame video, in time order.

    Without ``rng`` (test time): evenly spaced from the first frame to the last, so the
    adaptation sees the whole demonstration. With ``rng`` (meta-training, thesis B.3.1:
    40 frames of each video sampled at random): a sorted random choice, without
    replacement when the video has enough frames and with replacement when it is shorter.
    Indices, not frames, so a memory-mapped episode reads only the frames it uses.
    """
    if count < 1 or length < 1:
        raise ValueError(f"cannot sample {length} frames from a video of {count}")
    if rng is None:
        return np.rint(np.linspace(0, count - 1, length)).astype(np.int64)
    return np.sort(rng.choice(count, size=length, replace=count < length))


def early_biased_indices(count: int, length: int, early: int, window: int,
                         rng: np.random.Generator) -> np.ndarray:
    """``length`` distinct frame indices of a ``count``-frame demo in time order, ``early``
    of them from the first ``window`` frames (fewer if the demo is short).

    Oversampling the start matters for one-shot imitation: once the arm moves, the current
    frame alone tells which object it is heading for, so only the first steps make the
    policy need the demonstration (measured on MIL reach, and on DAML push from robot
    videos, where uniform frames let the adapted loss fall to the unadapted one).
    """
    early = min(early, length, window, count)
    head = rng.choice(min(window, count), size=early, replace=False)
    rest = np.setdiff1d(np.arange(count), head)
    tail = rng.choice(rest, size=min(length - early, rest.size), replace=False)
    return np.sort(np.concatenate([head, tail]))


def sample_clip(frames: np.ndarray, length: int, rng: np.random.Generator | None) -> np.ndarray:
    """``length`` of ``frames`` [T, ...] in time order, as :func:`clip_indices` picks them."""
    return np.asarray(frames[clip_indices(len(frames), length, rng)])


def _read(path: Path, size: tuple[int, int]) -> tuple[np.ndarray, float | None]:
    """Frames and fps of whichever kind of input ``path`` is."""
    if path.is_dir():
        return _read_folder(path, size)
    if not path.is_file():
        raise VideoError(f"{path}: no such file or folder")
    if _is_ros_log(path):
        return _read_ros_log(path, size)
    return _read_media(path, size)


def _read_folder(path: Path, size: tuple[int, int]) -> tuple[np.ndarray, float | None]:
    """An episode directory or a rosbag2 folder, told apart by their index files."""
    if (path / EPISODE_META).is_file():
        return _read_episode(path, size)
    if (path / BAG_METADATA).is_file():
        return _read_ros_log(path, size)
    raise VideoError(f"{path}: a folder that is neither an episode (no {EPISODE_META}) nor "
                     f"a rosbag2 folder (no {BAG_METADATA})")


def _is_ros_log(path: Path) -> bool:
    """Whether the file starts as an MCAP or SQLite3 file does (names are not trusted)."""
    with path.open("rb") as stream:
        head = stream.read(max(len(magic) for magic in LOG_MAGICS))
    return any(head.startswith(magic) for magic in LOG_MAGICS)


def _read_episode(path: Path, size: tuple[int, int]) -> tuple[np.ndarray, float | None]:
    """An episode's frames; its size is checked on the memory map before loading it."""
    try:
        reader = read_episode(path)
    except EpisodeError as error:
        raise VideoError(f"{path}: not a readable episode ({_one_line(error)})") from None
    frames = reader.frames
    _check_rgb(frames.shape, path)
    _check_size(frames.shape, path, size)
    return np.array(frames), float(reader.fps)


def _read_media(path: Path, size: tuple[int, int]) -> tuple[np.ndarray, float | None]:
    """A video file's first video stream, decoded to RGB; stops at the first wrong frame.
    PyAV is imported here: reading episodes and logs (training) does not need it."""
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise VideoError(f"{path}: holds no video stream")
            stream = container.streams.video[0]
            frames = [_media_frame(frame, path, size) for frame in container.decode(stream)]
            rate = stream.average_rate
    except (av.FFmpegError, OSError) as error:  # their strerror leaves out the path
        reason = getattr(error, "strerror", None) or str(error)
        raise VideoError(f"{path}: not a readable video ({_one_line(reason)})") from None
    return _stacked(frames, path), float(rate) if rate else None


def _media_frame(frame: av.VideoFrame, path: Path, size: tuple[int, int]) -> np.ndarray:
    """One decoded frame as uint8 [H, W, 3] RGB, refused if it has no colour or the wrong size."""
    if frame.format.name.startswith(GREY_FORMATS):
        raise VideoError(f"{path}: frames are not RGB: pixel format {frame.format.name} has "
                         "no colour; a colour video is needed")
    pixels = frame.to_ndarray(format="rgb24")
    _check_size((1, *pixels.shape), path, size)
    return pixels


def _read_ros_log(path: Path, size: tuple[int, int]) -> tuple[np.ndarray, float | None]:
    """The ``image_raw`` frames of a ROS 2 log, in the order the camera took them (an MCAP
    cut short reads up to the cut), and the rate of their header stamps."""
    images, stamps = _image_messages(path)
    frames = [_log_frame(logged, path, size) for logged in images]
    return _stacked(frames, path), _rate(stamps)


def _image_messages(path: Path) -> tuple[list[Any], list[int]]:
    """The log's ``image_raw`` messages sorted by header stamp (then receive time: a
    driver's queue may deliver late), and those stamps in ns."""
    try:  # the optional ROS extras: only logs need them
        from adaptation_node.messages import stamp_ns
        from adaptation_node.rosbag_read import read_ros_log
    except ImportError as error:
        raise VideoError(f"{path}: reading a ROS 2 log needs the ros extras "
                         f"(pip install -e '.[ros]'): {error}") from None
    try:
        log = read_ros_log(path, (IMAGE_TOPIC,))
    except (ValueError, OSError) as error:
        raise VideoError(f"{path}: not a readable ROS 2 log ({_one_line(error)})") from None
    images = [m for m in log.messages if m.topic.lstrip("/") == IMAGE_TOPIC]
    if not images:
        raise VideoError(f"{path}: no frames: the log has no {IMAGE_TOPIC} messages")
    images.sort(key=lambda logged: (stamp_ns(logged.message), logged.time_ns))
    return images, [stamp_ns(logged.message) for logged in images]


def _log_frame(logged: Any, path: Path, size: tuple[int, int]) -> np.ndarray:
    """The RGB pixels of one logged ``sensor_msgs/Image`` (rgb8 or bgr8) of ``size``."""
    from adaptation_node.messages import MessageError, frame_from_msg
    from sensor_msgs.msg import Image

    try:
        if not isinstance(logged.message, Image):
            raise MessageError(f"a {type(logged.message).__name__}, not an Image")
        frame = frame_from_msg(logged.message)
    except MessageError as error:
        raise VideoError(f"{path}: {IMAGE_TOPIC} frame received at {logged.time_ns} ns "
                         f"is not a usable RGB image: {_one_line(error)}") from None
    _check_size((1, *frame.shape), path, size)
    return frame


def _rate(stamps_ns: list[int]) -> float | None:
    """Frames per second over the stamps' span; None when they do not span any time."""
    if len(stamps_ns) < 2 or stamps_ns[-1] <= stamps_ns[0]:
        return None
    return (len(stamps_ns) - 1) / ((stamps_ns[-1] - stamps_ns[0]) / 1e9)


def _stacked(frames: list[np.ndarray], path: Path) -> np.ndarray:
    if not frames:
        raise VideoError(f"{path}: no frames")
    return np.stack(frames)


def _check_frames(frames: np.ndarray, path: Path, size: tuple[int, int],
                  min_frames: int) -> None:
    """Refuse frames that would make a meaningless adaptation."""
    if frames.dtype != np.uint8:
        raise VideoError(f"{path}: frames are {frames.dtype}, not uint8 RGB")
    _check_rgb(frames.shape, path)
    _check_size(frames.shape, path, size)
    if len(frames) == 0:
        raise VideoError(f"{path}: no frames")
    if len(frames) < min_frames:
        raise VideoError(f"{path}: too short: {len(frames)} frames, at least {min_frames} needed")
    if frames.max() <= BLACK_MAX:
        raise VideoError(f"{path}: all black: no pixel brighter than {BLACK_MAX}/255 in any of "
                         f"its {len(frames)} frames (lens covered or camera not exposing?)")


def _check_rgb(shape: tuple[int, ...], path: Path) -> None:
    if len(shape) != 4 or shape[-1] != 3:
        raise VideoError(f"{path}: frames are not RGB: shape {tuple(shape)}, expected "
                         "[T, H, W, 3]")


def _check_size(shape: tuple[int, ...], path: Path, size: tuple[int, int]) -> None:
    """Refuse [T, H, W, 3] frames of another size than ``size`` = (width, height)."""
    height, width = shape[1:3]
    if (width, height) != size:
        raise VideoError(f"{path}: frames are {width}x{height} (width x height), the policy "
                         f"expects {size[0]}x{size[1]}; frames are not resized here, so record "
                         "or convert the video at that size")


def _one_line(error: object) -> str:
    """An error (or its text) on one line: ffmpeg and sqlite messages may span several."""
    return " ".join(str(error).split())
