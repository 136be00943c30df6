"""Frame sources for the camera node: a RealSense (live or a recorded file) or OpenCV.

Every source has the same small interface (:class:`FrameSource`): ``open()``, a
non-blocking-where-possible ``read()`` giving an RGB uint8 [H, W, 3] frame and its source
time in seconds (or ``None`` when no frame is ready or a file has ended; ``ended`` tells
which), ``close()``, and the ``width``, ``height`` and vertical field of view
``fovy_deg`` the camera_info needs.

A camera that is missing, unplugged or a file that cannot be read raises
:class:`CameraUnavailable` (an ``OSError``) with a message naming the source, so the node
can log it and retry instead of dying on an obscure driver error.

This module never imports rclpy, and imports ``pyrealsense2`` and ``cv2`` only when a
source opens: a process using both rclpy and pyrealsense2 must import rclpy first, or it
segfaults at exit, and the lazy import leaves that order to the caller.
"""
from __future__ import annotations

import importlib
import math
import time
from abc import ABC, abstractmethod
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

# Used when the source does not report intrinsics (OpenCV devices and files): MuJoCo's
# default camera fovy, so an uncalibrated camera matches the sim twin's default view.
DEFAULT_FOVY_DEG = 45.0

PLAYBACK_SUFFIXES = (".bag", ".db3")

# A playback that has stopped may still deliver its last frames (librealsense passes them
# on from other threads): it has ended once its queue stayed empty this long after.
PLAYBACK_DRAIN_S = 0.25

Frame = tuple[np.ndarray, float]


class CameraUnavailable(OSError):
    """A camera or recording that cannot be opened or read now; the text names it.

    An ``OSError``, like any other device or file that is not there: ``oneshot`` reports
    it in one line with exit status 2."""


def fovy_from_focal(height: int, fy: float) -> float:
    """Vertical field of view in degrees of a pinhole camera (focal length in pixels)."""
    return math.degrees(2.0 * math.atan(0.5 * height / fy))


def _import(module: str, package: str, source: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise CameraUnavailable(f"{source}: cannot import {module} ({error}); "
                                f"install {package}") from None


class FrameSource(ABC):
    """One camera or recording; ``width``, ``height`` and ``fovy_deg`` hold once opened."""

    def __init__(self) -> None:
        self._width = 0
        self._height = 0
        self._fovy_deg = DEFAULT_FOVY_DEG

    @property
    def width(self) -> int:
        return self._width

    @property
    def height(self) -> int:
        return self._height

    @property
    def fovy_deg(self) -> float:
        return self._fovy_deg

    @property
    def ended(self) -> bool:
        """True once ``read()`` has found that a file opened without ``loop`` played to
        its end: no more frames will come. A camera or a looping file never ends."""
        return False

    @abstractmethod
    def open(self) -> None:
        """Start the camera or open the file; raises :class:`CameraUnavailable`."""

    @abstractmethod
    def read(self) -> Frame | None:
        """The next (RGB frame, source time in s), or None; raises :class:`CameraUnavailable`."""

    @abstractmethod
    def close(self) -> None:
        """Release the device or file; safe to call twice or before ``open()``."""

    def __enter__(self) -> FrameSource:
        self.open()
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class RealSenseSource(FrameSource):
    """The colour stream of a RealSense camera (by serial, or the first one found), or of
    a recording (``playback``: a ``.bag`` or ``.db3`` written by librealsense).

    A live camera streams ``width`` x ``height`` rgb8 at ``fps``; a recording plays as
    recorded, in real time unless ``real_time`` is False (then every frame is delivered,
    one per ``read()``), from the start again at its end if ``loop``. ``fovy_deg`` comes
    from the stream's intrinsics.
    """

    def __init__(self, serial: str | None = None, playback: Path | None = None,
                 width: int = 640, height: int = 480, fps: int = 30, loop: bool = True,
                 real_time: bool = True) -> None:
        super().__init__()
        if serial is not None and playback is not None:
            raise ValueError("give a RealSense serial or a playback file, not both")
        self.serial, self.playback = serial, None if playback is None else Path(playback)
        self.size, self.fps, self.loop, self.real_time = (width, height), fps, loop, real_time
        self._rs: Any = None
        self._pipeline: Any = None
        self._device: Any = None
        self._drained_since: float | None = None  # stopped, and no frame since then

    @property
    def name(self) -> str:
        if self.playback is not None:
            return f"RealSense playback {self.playback}"
        return f"RealSense camera {self.serial or '(first found)'}"

    def open(self) -> None:
        self.close()
        if self.playback is not None and not self.playback.is_file():
            raise CameraUnavailable(f"{self.name}: no such file")
        self._rs = _import("pyrealsense2", "pyrealsense2 (and Debian's libusb-1.0-0)", self.name)
        pipeline, config = self._rs.pipeline(), self._config()
        try:
            # resolve() fails at once without the device; start() would wait 15 s for it
            self._set_pace(config.resolve(self._rs.pipeline_wrapper(pipeline)).get_device())
            profile = pipeline.start(config)
        except RuntimeError as error:
            raise CameraUnavailable(f"{self.name}: {error}") from None
        self._pipeline, self._device = pipeline, profile.get_device()
        self._describe(profile.get_stream(self._rs.stream.color).as_video_stream_profile())

    @property
    def ended(self) -> bool:
        drained = self._drained_since
        return drained is not None and time.monotonic() - drained >= PLAYBACK_DRAIN_S

    def _stopped(self) -> bool:
        """Whether a playback that does not loop has stopped at its end."""
        if self._device is None or self.playback is None or self.loop:
            return False
        return self._device.as_playback().current_status() == self._rs.playback_status.stopped

    def _set_pace(self, device: Any) -> None:
        """Real time or not, set on a playback device before ``start()``: set after, a
        recording may already have played through in real time, its frames dropped."""
        if self.playback is not None:
            device.as_playback().set_real_time(self.real_time)

    def _config(self) -> Any:
        rs, config = self._rs, self._rs.config()
        if self.playback is not None:
            config.enable_device_from_file(str(self.playback), repeat_playback=self.loop)
            config.enable_stream(rs.stream.color)
            return config
        if self.serial is not None:
            config.enable_device(self.serial)
        config.enable_stream(rs.stream.color, *self.size, rs.format.rgb8, self.fps)
        return config

    def _describe(self, stream: Any) -> None:
        intrinsics = stream.get_intrinsics()
        self._width, self._height = intrinsics.width, intrinsics.height
        self._fovy_deg = fovy_from_focal(intrinsics.height, intrinsics.fy)

    def read(self) -> Frame | None:
        if self._pipeline is None:
            raise CameraUnavailable(f"{self.name}: read before open()")
        try:
            stopped = self._stopped()  # before the poll: a frame may come until it is
            frames = self._pipeline.poll_for_frames()
            connected = self.playback is not None or self._device.is_connected()
        except RuntimeError as error:
            raise CameraUnavailable(f"{self.name}: {error}") from None
        if not connected:
            raise CameraUnavailable(f"{self.name}: disconnected")
        colour = frames.get_color_frame() if frames else None
        if not colour:
            if not stopped:
                self._drained_since = None
            elif self._drained_since is None:
                self._drained_since = time.monotonic()
            return None
        self._drained_since = None
        return self._rgb(colour), colour.get_timestamp() / 1000.0

    def _rgb(self, colour: Any) -> np.ndarray:
        """A copy of the frame's pixels in RGB order (the driver reuses its buffers)."""
        pixels = np.asanyarray(colour.get_data())
        fmt, formats = colour.get_profile().format(), self._rs.format
        if fmt in (formats.rgb8, formats.rgba8):
            return np.array(pixels[..., :3])
        if fmt in (formats.bgr8, formats.bgra8):
            return np.array(pixels[..., 2::-1])
        raise CameraUnavailable(f"{self.name}: colour format {fmt} is not supported "
                                "(rgb8, bgr8, rgba8 or bgra8)")

    def close(self) -> None:
        pipeline, self._pipeline, self._device = self._pipeline, None, None
        self._drained_since = None
        if pipeline is not None:
            try:
                pipeline.stop()
            except RuntimeError:
                pass  # already stopped by the driver (unplugged): nothing left to release


class OpenCVSource(FrameSource):
    """An OpenCV ``VideoCapture`` of a USB camera index or a video file.

    ``read()`` blocks until the device's next frame (files read at once, from the start
    again at their end if ``loop``); frames are converted from OpenCV's BGR to RGB. The
    source time is the file position, or the wall clock for a device. OpenCV does not
    report intrinsics, so ``fovy_deg`` is :data:`DEFAULT_FOVY_DEG`.
    """

    def __init__(self, device: int | str, loop: bool = True) -> None:
        super().__init__()
        self.device, self.loop = device, loop
        self._cv2: Any = None
        self._capture: Any = None
        self._ended = False

    @property
    def name(self) -> str:
        if isinstance(self.device, int):
            return f"USB camera {self.device}"
        return f"video file {self.device}"

    @property
    def is_file(self) -> bool:
        return not isinstance(self.device, int)

    @property
    def ended(self) -> bool:
        return self._ended

    def open(self) -> None:
        self.close()
        if self.is_file and not Path(self.device).is_file():
            raise CameraUnavailable(f"{self.name}: no such file")
        self._cv2 = _import("cv2", "opencv-python-headless", self.name)
        capture = self._cv2.VideoCapture(self.device)
        if not capture.isOpened():
            capture.release()
            raise CameraUnavailable(f"{self.name}: OpenCV cannot open it")
        self._capture, self._ended = capture, False
        self._width = int(capture.get(self._cv2.CAP_PROP_FRAME_WIDTH))
        self._height = int(capture.get(self._cv2.CAP_PROP_FRAME_HEIGHT))

    def read(self) -> Frame | None:
        if self._capture is None:
            raise CameraUnavailable(f"{self.name}: read before open()")
        ok, frame = self._capture.read()
        if not ok and self.is_file and self.loop:
            self._capture.set(self._cv2.CAP_PROP_POS_FRAMES, 0)
            ok, frame = self._capture.read()
        if not ok:
            if self.is_file:
                self._ended = True
                return None
            raise CameraUnavailable(f"{self.name}: no frame (unplugged?)")
        return np.ascontiguousarray(frame[..., ::-1]), self._stamp()

    def _stamp(self) -> float:
        if self.is_file:
            return self._capture.get(self._cv2.CAP_PROP_POS_MSEC) / 1000.0
        return time.time()

    def close(self) -> None:
        capture, self._capture = self._capture, None
        if capture is not None:
            capture.release()


def make_source(spec: str, width: int = 640, height: int = 480, fps: int = 30,
                loop: bool = True) -> FrameSource:
    """The source a spec names: ``realsense`` (the first RealSense found),
    ``realsense:SERIAL``, ``usb:N`` (OpenCV device N), or a file path (``.bag``/``.db3``:
    RealSense playback; any other: a video file read by OpenCV). ``width``, ``height``
    and ``fps`` apply to a live RealSense; ``loop`` to files."""
    kind, _, arg = spec.partition(":")
    if kind == "realsense":
        return RealSenseSource(serial=arg or None, width=width, height=height, fps=fps)
    if kind == "usb":
        if not arg.isdigit():
            raise ValueError(f"camera source {spec!r}: usb needs a device number, e.g. usb:0")
        return OpenCVSource(int(arg))
    if not spec:
        raise ValueError("camera source is empty: give realsense, realsense:SERIAL, "
                         "usb:N or a file path")
    path = Path(spec).expanduser()
    if path.suffix.lower() in PLAYBACK_SUFFIXES:
        return RealSenseSource(playback=path, loop=loop)
    return OpenCVSource(str(path), loop=loop)
