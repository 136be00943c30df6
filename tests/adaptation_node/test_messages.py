"""Conversions between ROS messages and arrays, and the errors for bad messages."""

import numpy as np
import pytest
from builtin_interfaces.msg import Time
from sensor_msgs.msg import Image, JointState
from std_msgs.msg import Float64MultiArray, String

from adaptation_node.messages import (
    MessageError,
    camera_info_msg,
    command_from_msg,
    frame_from_msg,
    image_msg,
    joint_state_msg,
    joints_from_msg,
    json_from_msg,
)

RNG = np.random.default_rng(0)


def test_rgb_frames_round_trip_and_bgr_with_row_padding_is_converted():
    frame = RNG.integers(0, 255, (4, 5, 3), dtype=np.uint8)
    msg = image_msg(frame, Time(sec=3), "cam")
    assert (msg.width, msg.height, msg.encoding, msg.header.frame_id) == (5, 4, "rgb8", "cam")
    np.testing.assert_array_equal(frame_from_msg(msg, (5, 4)), frame)
    padded = np.zeros((4, 16), np.uint8)
    padded[:, :15] = frame[..., ::-1].reshape(4, 15)
    bgr = Image(height=4, width=5, encoding="bgr8", step=16, data=padded.tobytes())
    np.testing.assert_array_equal(frame_from_msg(bgr), frame)


@pytest.mark.parametrize("msg, size, message", [
    (Image(height=2, width=2, encoding="mono8", step=2, data=bytes(4)), None, "mono8"),
    (Image(height=2, width=2, encoding="rgb8", step=6, data=bytes(12)), (3, 2), "expected 3x2"),
    (Image(height=2, width=2, encoding="rgb8", step=6, data=bytes(10)), None, "10 bytes"),
])
def test_bad_images_are_refused_with_the_reason(msg, size, message):
    with pytest.raises(MessageError, match=message):
        frame_from_msg(msg, size)


def test_joints_are_picked_by_name_and_missing_or_nan_ones_are_refused():
    msg = joint_state_msg(["elbow", "wrist", "shoulder"], [1.0, 2.0, 3.0], [4.0, 5.0, 6.0], Time())
    joints = joints_from_msg(msg, ["shoulder", "elbow"])
    np.testing.assert_array_equal(joints.position, [3.0, 1.0])
    np.testing.assert_array_equal(joints.velocity, [6.0, 4.0])
    with pytest.raises(MessageError, match="lacks joints \\['hip'\\]"):
        joints_from_msg(msg, ["hip"])
    with pytest.raises(MessageError, match="non-finite"):
        joints_from_msg(joint_state_msg(["a"], [np.nan], [0.0], Time()), ["a"])
    with pytest.raises(MessageError, match="one position and one velocity"):
        joints_from_msg(JointState(name=["a"], position=[1.0]), ["a"])


def test_commands_need_the_right_size_and_finite_values():
    np.testing.assert_array_equal(command_from_msg(Float64MultiArray(data=[1.0, 2.0]), 2), [1, 2])
    with pytest.raises(MessageError, match="3 values, expected 2"):
        command_from_msg(Float64MultiArray(data=[1.0, 2.0, 3.0]), 2)
    with pytest.raises(MessageError, match="non-finite"):
        command_from_msg(Float64MultiArray(data=[np.nan, 2.0]), 2)


def test_json_messages_need_an_object_with_the_required_keys():
    assert json_from_msg(String(data='{"path": "a", "version": 2}'), ["path"])["version"] == 2
    for text, message in [("nope", "not JSON"), ("[1]", "JSON object"), ('{"a": 1}', "lacks")]:
        with pytest.raises(MessageError, match=message):
            json_from_msg(String(data=text), ["path"])


def test_camera_info_puts_the_principal_point_at_the_centre():
    info = camera_info_msg(64, 48, 90.0, Time())
    assert info.k[2] == pytest.approx(31.5) and info.k[5] == pytest.approx(23.5)
    assert info.k[4] == pytest.approx(24.0)  # 0.5 * 48 / tan(45 deg)
