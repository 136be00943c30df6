"""Conversions between ROS 2 messages and the arrays the learners use, with validation.

Every ``*_from_msg`` raises :class:`MessageError` with a message naming what is wrong
(encoding, size, non-finite values), so a node can log it, skip the message and go on.
The one exception is ``position_from_msg``: a tracker that loses its object reports NaN,
which is news about the world rather than a malformed message; the mpc node's controller
judges it (it refuses the transition).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
from builtin_interfaces.msg import Time
from geometry_msgs.msg import PoseStamped, TwistStamped
from sensor_msgs.msg import CameraInfo, Image, JointState
from std_msgs.msg import Float64MultiArray, String

RGB8 = "rgb8"
BGR8 = "bgr8"


class MessageError(ValueError):
    """A message that cannot be used; the text says why."""


def stamp_ns(msg: Any) -> int:
    """A stamped message's header time in nanoseconds."""
    return msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec


def image_msg(frame: np.ndarray, stamp: Time, frame_id: str = "camera") -> Image:
    """An ``rgb8`` Image of a uint8 [H, W, 3] array."""
    frame = np.ascontiguousarray(frame, dtype=np.uint8)
    if frame.ndim != 3 or frame.shape[2] != 3:
        raise MessageError(f"an rgb8 frame must be [H, W, 3], got shape {frame.shape}")
    msg = Image()
    msg.header.stamp, msg.header.frame_id = stamp, frame_id
    msg.height, msg.width = frame.shape[:2]
    msg.encoding, msg.is_bigendian, msg.step = RGB8, 0, frame.shape[1] * 3
    msg.data = frame.tobytes()
    return msg


def frame_from_msg(msg: Image, size: tuple[int, int] | None = None) -> np.ndarray:
    """The uint8 [H, W, 3] RGB array of an rgb8/bgr8 Image; ``size`` = (width, height)
    the frame must have, if given."""
    if msg.encoding not in (RGB8, BGR8):
        raise MessageError(f"image encoding {msg.encoding!r} is not supported (rgb8 or bgr8)")
    if size is not None and (msg.width, msg.height) != tuple(size):
        raise MessageError(f"image is {msg.width}x{msg.height}, expected {size[0]}x{size[1]}")
    row = msg.width * 3
    if msg.step < row or len(msg.data) != msg.step * msg.height:
        raise MessageError(f"image data is {len(msg.data)} bytes, which does not fit "
                           f"{msg.width}x{msg.height} with step {msg.step}")
    rows = np.frombuffer(msg.data, dtype=np.uint8).reshape(msg.height, msg.step)
    frame = rows[:, :row].reshape(msg.height, msg.width, 3)
    return np.ascontiguousarray(frame[..., ::-1] if msg.encoding == BGR8 else frame)


def camera_info_msg(width: int, height: int, fovy_deg: float, stamp: Time,
                    frame_id: str = "camera") -> CameraInfo:
    """Pinhole intrinsics of a camera with vertical field of view ``fovy_deg``."""
    focal = 0.5 * height / math.tan(math.radians(fovy_deg) / 2.0)
    cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
    msg = CameraInfo()
    msg.header.stamp, msg.header.frame_id = stamp, frame_id
    msg.width, msg.height = width, height
    msg.distortion_model = "plumb_bob"
    msg.d = [0.0] * 5
    msg.k = [focal, 0.0, cx, 0.0, focal, cy, 0.0, 0.0, 1.0]
    msg.r = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    msg.p = [focal, 0.0, cx, 0.0, 0.0, focal, cy, 0.0, 0.0, 0.0, 1.0, 0.0]
    return msg


@dataclass(frozen=True)
class Joints:
    """Positions and velocities of the named joints, in that order."""

    position: np.ndarray
    velocity: np.ndarray


def joint_state_msg(names: Sequence[str], position: np.ndarray, velocity: np.ndarray,
                    stamp: Time) -> JointState:
    msg = JointState()
    msg.header.stamp = stamp
    msg.name = list(names)
    msg.position = [float(v) for v in position]
    msg.velocity = [float(v) for v in velocity]
    return msg


def joints_from_msg(msg: JointState, names: Sequence[str]) -> Joints:
    """Positions and velocities of ``names`` from a JointState that may list more joints
    in any order; a missing joint, missing velocities or a non-finite value is an error."""
    index = {name: i for i, name in enumerate(msg.name)}
    missing = [name for name in names if name not in index]
    if missing:
        raise MessageError(f"joint_states lacks joints {missing}")
    if len(msg.position) != len(msg.name) or len(msg.velocity) != len(msg.name):
        raise MessageError("joint_states needs one position and one velocity per name")
    order = [index[name] for name in names]
    position = np.asarray(msg.position, dtype=np.float64)[order]
    velocity = np.asarray(msg.velocity, dtype=np.float64)[order]
    if not (np.isfinite(position).all() and np.isfinite(velocity).all()):
        raise MessageError(f"joint_states has non-finite values: {position}, {velocity}")
    return Joints(position, velocity)


def command_msg(values: np.ndarray) -> Float64MultiArray:
    return Float64MultiArray(data=[float(v) for v in values])


def command_from_msg(msg: Float64MultiArray, size: int) -> np.ndarray:
    """The command vector of a Float64MultiArray, which must hold ``size`` finite values."""
    values = np.asarray(msg.data, dtype=np.float64)
    if values.shape != (size,):
        raise MessageError(f"command has {values.size} values, expected {size}")
    if not np.isfinite(values).all():
        raise MessageError(f"command has non-finite values: {values}")
    return values


def twist_msg(values: np.ndarray, stamp: Time, frame_id: str) -> TwistStamped:
    """An end-effector twist: ``values`` = linear x, y, z (m/s), then angular x, y, z
    (rad/s), which stay zero when only the linear three are given."""
    msg = TwistStamped()
    msg.header.stamp, msg.header.frame_id = stamp, frame_id
    six = np.zeros(6)
    six[:len(values)] = values
    msg.twist.linear.x, msg.twist.linear.y, msg.twist.linear.z = (float(v) for v in six[:3])
    msg.twist.angular.x, msg.twist.angular.y, msg.twist.angular.z = (float(v) for v in six[3:])
    return msg


def twist_from_msg(msg: TwistStamped) -> np.ndarray:
    """The six twist values of a TwistStamped, which must be finite."""
    linear, angular = msg.twist.linear, msg.twist.angular
    values = np.array([linear.x, linear.y, linear.z, angular.x, angular.y, angular.z])
    if not np.isfinite(values).all():
        raise MessageError(f"twist has non-finite values: {values}")
    return values


def pose_msg(position: np.ndarray, stamp: Time, frame_id: str, yaw: float = 0.0) -> PoseStamped:
    """A tracked object as a pose: ``position`` (x, y, z, m), turned ``yaw`` rad about z."""
    msg = PoseStamped()
    msg.header.stamp, msg.header.frame_id = stamp, frame_id
    msg.pose.position.x, msg.pose.position.y, msg.pose.position.z = (float(v) for v in position)
    msg.pose.orientation.z = math.sin(yaw / 2.0)
    msg.pose.orientation.w = math.cos(yaw / 2.0)
    return msg


def position_from_msg(msg: PoseStamped) -> np.ndarray:
    """The pose's position (x, y, z); NaN is kept (see the module docstring)."""
    point = msg.pose.position
    return np.array([point.x, point.y, point.z])


def yaw_from_msg(msg: PoseStamped) -> float:
    """The pose's rotation about z (rad), for objects that stand on a table."""
    q = msg.pose.orientation
    return math.atan2(2.0 * (q.w * q.z + q.x * q.y), 1.0 - 2.0 * (q.y * q.y + q.z * q.z))


def json_msg(payload: dict) -> String:
    """A std_msgs/String carrying JSON: how paths and versions travel between nodes."""
    return String(data=json.dumps(payload, sort_keys=True))


def json_from_msg(msg: String, required: Sequence[str] = ()) -> dict:
    try:
        payload = json.loads(msg.data)
    except json.JSONDecodeError as error:
        raise MessageError(f"not JSON: {msg.data[:80]!r} ({error})") from None
    if not isinstance(payload, dict):
        raise MessageError(f"expected a JSON object, got {msg.data[:80]!r}")
    missing = [key for key in required if key not in payload]
    if missing:
        raise MessageError(f"JSON message lacks {missing}: {msg.data[:80]!r}")
    return payload
