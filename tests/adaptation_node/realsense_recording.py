"""Test recordings written without a camera: RealSense ``.db3`` files made through
pyrealsense2's software device and recorder, and lossless (FFV1) videos through OpenCV.

A helper module, not a test module, so that several test files can share it. Every frame
is a distinct random RGB image with a pure red top-left pixel (to tell RGB from BGR).
"""
from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
import rclpy  # noqa: F401  (before pyrealsense2, or the process segfaults at exit)
import pyrealsense2 as rs

WIDTH, HEIGHT, COUNT, FPS = 64, 48, 10, 30
FX, FY = 50.0, 40.0
FOVY_DEG = 61.9275  # 2 atan(24 / 40): HEIGHT / 2 over FY
RED = (255, 0, 0)


def make_frames(count: int = COUNT) -> list[np.ndarray]:
    """Distinct random RGB frames, each with a pure red top-left pixel."""
    frames = []
    for index in range(count):
        frame = np.random.default_rng(index).integers(0, 256, (HEIGHT, WIDTH, 3), np.uint8)
        frame[0, 0] = RED
        frames.append(frame)
    return frames


def _colour_stream(fmt: str) -> "rs.video_stream":
    intrinsics = rs.intrinsics()
    intrinsics.width, intrinsics.height = WIDTH, HEIGHT
    intrinsics.ppx, intrinsics.ppy, intrinsics.fx, intrinsics.fy = WIDTH / 2, HEIGHT / 2, FX, FY
    intrinsics.model, intrinsics.coeffs = rs.distortion.none, [0.0] * 5
    stream = rs.video_stream()
    stream.type, stream.index, stream.uid = rs.stream.color, 0, 0
    stream.width, stream.height, stream.fps, stream.bpp = WIDTH, HEIGHT, FPS, 3
    stream.fmt, stream.intrinsics = getattr(rs.format, fmt), intrinsics
    return stream


def record_realsense(path: Path, frames: list[np.ndarray], fmt: str = "rgb8") -> Path:
    """Write ``frames`` (RGB) as a RealSense recording of a colour stream in ``fmt``
    (rgb8 or bgr8), at FPS, with intrinsics FX, FY; the file is complete on return.

    The recorder stamps each frame with its arrival time, which real-time playback
    follows, so the frames are injected at FPS. Frame ``i`` has the hardware timestamp
    ``i / FPS`` seconds."""
    device = rs.software_device()
    sensor = device.add_sensor("Color")
    profile = sensor.add_video_stream(_colour_stream(fmt)).as_video_stream_profile()
    recorder = rs.recorder(str(path), device)
    sensor.open(profile)
    sensor.start(lambda frame: None)
    for index, frame in enumerate(frames):
        video_frame = rs.software_video_frame()
        video_frame.pixels = np.ascontiguousarray(frame if fmt == "rgb8" else frame[..., ::-1])
        video_frame.stride, video_frame.bpp = WIDTH * 3, 3
        video_frame.timestamp = index * 1000.0 / FPS
        video_frame.domain = rs.timestamp_domain.hardware_clock
        video_frame.frame_number, video_frame.profile = index, profile
        sensor.on_video_frame(video_frame)
        time.sleep(1.0 / FPS)
    sensor.stop()
    sensor.close()
    del recorder  # the recorder writes the file out when it is destroyed
    return path


def write_video(path: Path, frames: list[np.ndarray], fps: float = FPS) -> Path:
    """A lossless FFV1 video of RGB ``frames`` (OpenCV writes BGR)."""
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"FFV1"), fps, (width, height))
    assert writer.isOpened(), "OpenCV cannot write FFV1"
    for frame in frames:
        writer.write(np.ascontiguousarray(frame[..., ::-1]))
    writer.release()
    return path
