"""The camera node over real DDS: a node process plays a RealSense recording and the
test's probe subscribes to ``image_raw``; a missing or failing camera must not end the
node. The fixtures (a fresh domain per test, node processes, the probe) are in conftest.py.
"""
from __future__ import annotations

import os
import time

import numpy as np
import pytest
from rclpy.parameter import Parameter
from sensor_msgs.msg import CameraInfo, Image

from adaptation_node import camera, qos
from adaptation_node.camera_sources import CameraUnavailable, FrameSource
from adaptation_node.messages import frame_from_msg
from realsense_recording import FY, HEIGHT, WIDTH, make_frames, record_realsense
from ros_harness import wait_until

CAMERA = "adaptation_node.camera"
TIMEOUT = 30.0  # node start-up alone takes 10 s and more on a loaded machine


def assert_recorded(images: list[Image], frames: list[np.ndarray]) -> None:
    """Every image is one of ``frames``, bit for bit, as 64x48 rgb8."""
    recorded = {frame.tobytes() for frame in frames}
    for msg in images:
        assert (msg.encoding, msg.width, msg.height) == ("rgb8", WIDTH, HEIGHT)
        assert frame_from_msg(msg).tobytes() in recorded, "an image that was not recorded"


def test_node_publishes_the_recorded_frames(start_node, probe, tmp_path):
    frames = make_frames()
    path = record_realsense(tmp_path / "take.db3", frames)
    received = probe.record(Image, "image_raw", qos.IMAGES)
    infos = probe.record(CameraInfo, "camera_info", qos.SENSOR)
    node = start_node(CAMERA, source=str(path), rate_hz=30.0, frame_id="wrist")
    wait_until(lambda: len(received) >= 15 and infos, TIMEOUT, "15 images and a camera_info")
    assert node.stop(timeout=TIMEOUT) == 0, node.text()
    images = [msg for _, msg in received]
    assert_recorded(images, frames)
    assert len({bytes(msg.data) for msg in images}) > 1, "the recording does not play"
    assert {msg.header.frame_id for msg in images} == {"wrist"}
    info = infos[-1][1]
    assert (info.width, info.height, info.header.frame_id) == (WIDTH, HEIGHT, "wrist")
    assert info.k[4] == pytest.approx(FY, rel=1e-6), "fovy of the recording's intrinsics"


def test_node_waits_for_a_missing_source(start_node, probe, tmp_path):
    frames = make_frames()
    late = tmp_path / "late.db3"
    received = probe.record(Image, "image_raw", qos.IMAGES)
    node = start_node(CAMERA, source=str(late), retry_s=0.3)
    wait_until(lambda: "no such file" in node.text(), TIMEOUT, "the missing file to be logged")
    time.sleep(1.0)  # several retries
    assert node.alive(), node.text()
    assert not received
    os.replace(record_realsense(tmp_path / "staging.db3", frames), late)
    wait_until(lambda: len(received) >= 3, TIMEOUT, "images once the file is there")
    assert node.stop(timeout=TIMEOUT) == 0, node.text()
    assert_recorded([msg for _, msg in received], frames)
    text = node.text()
    assert text.count("no such file") == 1, f"one failure, logged once:\n{text}"
    assert str(late) in text and "open: 64x48" in text


class FlakySource(FrameSource):
    """A fake camera: the first opening gives 3 frames then is unplugged, the next two
    openings fail, the fourth works for good; every frame is filled with its opening's
    number."""

    opened: list[FlakySource] = []

    def __init__(self) -> None:
        super().__init__()
        self._width, self._height, self._fovy_deg = WIDTH, HEIGHT, 50.0
        self.number, self.reads, self.closed = len(self.opened) + 1, 0, False

    def open(self) -> None:
        self.opened.append(self)
        if self.number in (2, 3):
            raise CameraUnavailable("fake camera missing")

    def read(self) -> tuple[np.ndarray, float] | None:
        self.reads += 1
        if self.number == 1 and self.reads > 3:
            raise CameraUnavailable("fake camera unplugged")
        return np.full((HEIGHT, WIDTH, 3), self.number, np.uint8), time.time()

    def close(self) -> None:
        self.closed = True


def test_node_recovers_from_a_camera_failing_mid_run(probe, monkeypatch, capfd):
    """In process, so that the source can be faked: the node spins on the probe's
    executor, and the probe's context destroys it at teardown."""
    FlakySource.opened = []
    monkeypatch.setattr(camera, "make_source", lambda spec: FlakySource())
    received = probe.record(Image, "image_raw", qos.IMAGES)
    overrides = [Parameter("source", value="fake"), Parameter("retry_s", value=0.2),
                 Parameter("rate_hz", value=50.0)]
    probe.executor.add_node(camera.CameraNode(context=probe.context,
                                              parameter_overrides=overrides))
    wait_until(lambda: any(msg.data[0] == 4 for _, msg in received), TIMEOUT,
               "frames of the fourth opening")
    numbers = [frame_from_msg(msg)[0, 0, 0] for _, msg in list(received)]
    assert set(numbers) <= {1, 4} and numbers == sorted(numbers)
    assert [source.number for source in FlakySource.opened[:4]] == [1, 2, 3, 4]
    assert FlakySource.opened[0].closed, "the unplugged source is closed before reopening"
    err = capfd.readouterr().err
    assert err.count("fake camera unplugged") == 1 and err.count("fake camera missing") == 1, err
    assert "retrying every 0.2 s" in err
