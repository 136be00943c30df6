"""The ``camera`` node: publishes ``image_raw`` (rgb8) and ``camera_info`` at ``rate_hz``.

Frames come from a RealSense (live or a recording) or an OpenCV device or file
(:func:`adaptation_node.camera_sources.make_source`). A camera that is missing or
unplugged does not end the node: the problem is logged once and the source reopened
every ``retry_s`` seconds, so plugging the camera in (or the file appearing) resumes
publishing without a restart. Parameters are read once, at start-up.
"""
from __future__ import annotations

import threading
import time
from typing import Any, Sequence

import numpy as np
import rclpy  # noqa: F401  (before pyrealsense2, or the process segfaults at exit)
from rclpy.node import Node
from sensor_msgs.msg import CameraInfo, Image

from adaptation_node import params, qos
from adaptation_node.camera_sources import CameraUnavailable, FrameSource, make_source
from adaptation_node.messages import camera_info_msg, image_msg
from adaptation_node.runner import run_nodes


class CameraNode(Node):
    """Reads the configured source on a timer and publishes each new frame with its
    camera_info; reopens the source every ``retry_s`` while it is unavailable.

    ``kwargs`` go to :class:`rclpy.node.Node` (``context``, ``parameter_overrides``).
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("camera", **kwargs)
        self.spec = params.declare(self, "source", "realsense",
                                   "realsense, realsense:SERIAL, usb:N, or a .bag/.db3/video file")
        rate_hz = params.declare(self, "rate_hz", 30.0, "frames published per second", 1.0, 120.0)
        self.frame_id = params.declare(self, "frame_id", "camera", "frame_id of the messages")
        self.retry_s = params.declare(self, "retry_s", 2.0,
                                      "seconds between tries to reopen an unavailable camera",
                                      0.1, 60.0)
        self.image_pub = self.create_publisher(Image, "image_raw", qos.IMAGES)
        self.info_pub = self.create_publisher(CameraInfo, "camera_info", qos.SENSOR)
        self._source: FrameSource | None = None
        self._next_try = 0.0
        self._last_error = ""
        self._lock = threading.Lock()
        self.create_timer(1.0 / rate_hz, self._tick)

    def _tick(self) -> None:
        with self._lock:
            try:
                frame = self._read()
            except CameraUnavailable as error:
                self._fail(error)
                return
            if frame is not None:
                self._publish(frame, self._source.fovy_deg)

    def _read(self) -> np.ndarray | None:
        """The next frame of the source, opening it first when due; None if none yet."""
        if self._source is None:
            if time.monotonic() < self._next_try:
                return None
            self._open()
        read = self._source.read()
        return None if read is None else read[0]

    def _open(self) -> None:
        try:
            source = make_source(self.spec)
        except ValueError as error:
            raise CameraUnavailable(str(error)) from None
        source.open()
        self._source, self._last_error = source, ""
        self.get_logger().info(f"camera {self.spec!r} open: {source.width}x{source.height}, "
                               f"fovy {source.fovy_deg:.1f} deg")

    def _fail(self, error: CameraUnavailable) -> None:
        """Log a new problem once, close the source and schedule the next try."""
        if str(error) != self._last_error:
            self.get_logger().error(f"{error}; retrying every {self.retry_s:g} s")
            self._last_error = str(error)
        if self._source is not None:
            self._source.close()
            self._source = None
        self._next_try = time.monotonic() + self.retry_s

    def _publish(self, frame: np.ndarray, fovy_deg: float) -> None:
        """Stamped with the node's clock, not the device's, so that consumers can match
        images with other topics (joint_states) in one time base."""
        stamp = self.get_clock().now().to_msg()
        height, width = frame.shape[:2]
        self.image_pub.publish(image_msg(frame, stamp, self.frame_id))
        self.info_pub.publish(camera_info_msg(width, height, fovy_deg, stamp, self.frame_id))

    def destroy_node(self) -> None:
        with self._lock:
            if self._source is not None:
                self._source.close()
                self._source = None
        super().destroy_node()


def main(args: Sequence[str] | None = None) -> int:
    return run_nodes([CameraNode], args)


if __name__ == "__main__":
    raise SystemExit(main())
