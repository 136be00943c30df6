"""Frame sources of the camera node, on files the tests write themselves.

A RealSense recording, made through pyrealsense2's software device and recorder (no
camera needed; ``realsense_recording``), must play back bit-exact, in RGB order, with the
fovy of its intrinsics; an FFV1 (lossless) video must come back bit-exact through OpenCV.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from adaptation_node.camera_sources import (
    CameraUnavailable,
    FrameSource,
    OpenCVSource,
    RealSenseSource,
    make_source,
)
from realsense_recording import (
    COUNT,
    FOVY_DEG,
    FPS,
    HEIGHT,
    RED,
    WIDTH,
    make_frames,
    record_realsense,
    write_video,
)


def read_n(source: FrameSource, count: int,
           timeout_s: float = 10.0) -> list[tuple[np.ndarray, float]]:
    """``count`` frames of an open source, polling until they come or the timeout."""
    got, deadline = [], time.monotonic() + timeout_s
    while len(got) < count and time.monotonic() < deadline:
        read = source.read()
        if read is None:
            time.sleep(0.005)
        else:
            got.append(read)
    assert len(got) == count, f"{len(got)} of {count} frames within {timeout_s} s"
    return got


@pytest.mark.parametrize("fmt", ["rgb8", "bgr8"])
def test_realsense_playback_is_bit_exact_rgb(tmp_path, fmt):
    frames = make_frames()
    path = record_realsense(tmp_path / f"{fmt}.db3", frames, fmt)
    with RealSenseSource(playback=path, loop=False, real_time=False) as source:
        assert (source.width, source.height) == (WIDTH, HEIGHT)
        assert source.fovy_deg == pytest.approx(FOVY_DEG, abs=1e-3)
        assert not source.ended
        got = read_n(source, COUNT)
        time.sleep(0.3)
        deadline = time.monotonic() + 5.0
        while not source.ended and time.monotonic() < deadline:
            assert source.read() is None, "a recording played once has ended"
            time.sleep(0.01)
        assert source.ended
    for index, ((frame, stamp), expected) in enumerate(zip(got, frames)):
        assert frame.dtype == np.uint8 and frame.shape == (HEIGHT, WIDTH, 3)
        assert tuple(frame[0, 0]) == RED
        np.testing.assert_array_equal(frame, expected)
        assert stamp == pytest.approx(index / FPS, abs=1e-6)


def test_realsense_playback_loops_in_real_time(tmp_path):
    """Recorded frames at the recorded pace, from the start again after the last one.
    (Real time: librealsense 2.59 may abort in ``stop()`` once a non-real-time playback
    has looped.)"""
    frames = make_frames()
    path = record_realsense(tmp_path / "loop.db3", frames)
    index = {frame.tobytes(): number for number, frame in enumerate(frames)}
    count = COUNT + 5
    with RealSenseSource(playback=path, loop=True) as source:
        start = time.monotonic()
        got = read_n(source, count)
        elapsed = time.monotonic() - start
        assert not source.ended, "a looping recording never ends"
    numbers = [index[frame.tobytes()] for frame, _ in got]
    assert any(later < earlier for earlier, later in zip(numbers, numbers[1:])), numbers
    assert elapsed > 0.5 * count / FPS, f"{count} frames in {elapsed:.3f} s: not real time"


def test_missing_recording_names_the_path(tmp_path):
    missing = tmp_path / "nowhere.db3"
    with pytest.raises(CameraUnavailable, match="nowhere.db3"):
        RealSenseSource(playback=missing).open()
    assert issubclass(CameraUnavailable, OSError), "oneshot reports OSErrors in one line"


def test_unreadable_recording_is_unavailable(tmp_path):
    junk = tmp_path / "junk.db3"
    junk.write_bytes(b"not a recording")
    with pytest.raises(CameraUnavailable, match="junk.db3"):
        RealSenseSource(playback=junk).open()


def test_missing_realsense_camera_fails_at_once():
    """At once, not after librealsense's 15 s wait: the node reopens it on its timer."""
    start = time.monotonic()
    with pytest.raises(CameraUnavailable, match="RealSense camera 000000000000"):
        RealSenseSource(serial="000000000000").open()
    assert time.monotonic() - start < 5.0


def test_opencv_file_is_bit_exact_rgb_and_loops(tmp_path):
    frames = make_frames(4)
    path = write_video(tmp_path / "clip.avi", frames)
    with OpenCVSource(str(path)) as source:
        assert (source.width, source.height) == (WIDTH, HEIGHT)
        assert source.fovy_deg > 0
        got = [source.read() for _ in range(6)]
    for (frame, _), expected in zip(got, frames + frames[:2]):
        assert tuple(frame[0, 0]) == RED
        np.testing.assert_array_equal(frame, expected)


def test_opencv_file_without_loop_ends(tmp_path):
    path = write_video(tmp_path / "once.avi", make_frames(2))
    with OpenCVSource(str(path), loop=False) as source:
        assert source.read() is not None and source.read() is not None
        assert not source.ended
        assert source.read() is None and source.ended


def test_opencv_missing_file_and_device_name_the_source(tmp_path):
    with pytest.raises(CameraUnavailable, match="gone.avi"):
        OpenCVSource(str(tmp_path / "gone.avi")).open()
    with pytest.raises(CameraUnavailable, match="USB camera 57"):
        OpenCVSource(57).open()


@pytest.mark.parametrize("spec, kind, attrs", [
    ("realsense", RealSenseSource, {"serial": None, "playback": None}),
    ("realsense:123456", RealSenseSource, {"serial": "123456", "playback": None}),
    ("usb:2", OpenCVSource, {"device": 2}),
    ("/data/take.db3", RealSenseSource, {"serial": None, "playback": Path("/data/take.db3")}),
    ("/data/take.BAG", RealSenseSource, {"playback": Path("/data/take.BAG")}),
    ("/data/clip.mp4", OpenCVSource, {"device": "/data/clip.mp4"}),
])
def test_make_source_parses_specs(spec, kind, attrs):
    source = make_source(spec)
    assert type(source) is kind
    assert {name: getattr(source, name) for name in attrs} == attrs


@pytest.mark.parametrize("spec", ["", "usb:", "usb:front"])
def test_make_source_rejects_bad_specs(spec):
    with pytest.raises(ValueError, match="camera source"):
        make_source(spec)

