"""MCAP logs: schemas as rosbag2 writes them, read-back, partial files, and messages
at their exact CDR length."""

import numpy as np
import pytest
from builtin_interfaces.msg import Time
from rclpy.serialization import deserialize_message
from rosbags.typesys import Stores, get_typestore
from std_msgs.msg import String

from adaptation_node.mcap_log import (
    McapLog,
    cdr_bytes,
    message_definition,
    read_log,
    type_name_of,
)
from adaptation_node.messages import (
    camera_info_msg,
    command_msg,
    image_msg,
    joint_state_msg,
    twist_msg,
)


def write_log(path, steps: int) -> McapLog:
    log = McapLog(path, {"task": {"colour": [1.0, 0.0, 0.0]}, "demonstrator": "robot"})
    for i in range(steps):
        log.write("image_raw", image_msg(np.full((2, 3, 3), i, np.uint8), Time(sec=i)), i * 10)
        log.write("joint_states", joint_state_msg(["a"], [float(i)], [0.0], Time(sec=i)), i * 10 + 1)
    return log


def test_schema_text_holds_the_type_and_its_nested_types_once():
    text = message_definition("sensor_msgs/msg/Image")
    assert "uint32 height" in text
    assert text.count("MSG: std_msgs/Header") == 1
    assert text.count("MSG: builtin_interfaces/Time") == 1


def test_messages_round_trip_in_order(tmp_path):
    write_log(tmp_path / "a.mcap", 3).close()
    log = read_log(tmp_path / "a.mcap")
    messages = log.messages
    assert not log.truncated
    assert log.metadata == {"task": {"colour": [1.0, 0.0, 0.0]}, "demonstrator": "robot"}
    assert [(m.topic, m.time_ns) for m in messages][:3] == [
        ("image_raw", 0), ("joint_states", 1), ("image_raw", 10)]
    assert bytes(messages[4].message.data) == bytes([2] * 18)
    assert list(messages[5].message.position) == [2.0]


def test_a_log_cut_short_reads_up_to_the_cut(tmp_path):
    log = write_log(tmp_path / "a.mcap", 4)  # never closed: no summary, like a killed recorder
    data = (tmp_path / "a.mcap").read_bytes()
    (tmp_path / "cut.mcap").write_bytes(data[:-20])  # and the last record half written
    cut = read_log(tmp_path / "cut.mcap")
    assert cut.truncated and len(cut.messages) == 7 and cut.metadata["demonstrator"] == "robot"
    log.close()


@pytest.mark.parametrize("message", [
    joint_state_msg(["a", "bb"], [1.0, 2.0], [3.0, 4.0], Time(sec=1)),  # efforts empty
    joint_state_msg([], [], [], Time(sec=1)),
    image_msg(np.zeros((5, 7, 3), np.uint8), Time(sec=1), "odd_id"),
    camera_info_msg(4, 3, 45.0, Time(sec=1)),
    twist_msg(np.ones(6), Time(sec=1), "ba"),
    command_msg(np.ones(0)),
    String(data="héllo"),
], ids=lambda message: type(message).__name__)
def test_messages_are_logged_at_their_exact_cdr_length(message):
    """rclpy pads some serialisations past their data (a JointState without efforts gets
    4 to 8 bytes more), which strict readers refuse: the log holds exactly the data, as
    rosbags serialises the same message."""
    store = get_typestore(Stores.ROS2_KILTED)
    type_name = type_name_of(message)
    logged = cdr_bytes(message)
    assert deserialize_message(logged, type(message)) == message
    assert len(logged) == len(store.serialize_cdr(store.deserialize_cdr(logged, type_name),
                                                  type_name))
