"""MCAP logs: schemas as rosbag2 writes them, read-back, and partial files."""

import numpy as np
from builtin_interfaces.msg import Time

from adaptation_node.mcap_log import McapLog, message_definition, read_log
from adaptation_node.messages import image_msg, joint_state_msg


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
