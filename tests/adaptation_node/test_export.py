"""ROS logs in and out: ``oneshot export`` writes an episode as a rosbag2 folder that the
rosbags library reads back (topics, types, schemas, counts, pixels), ``oneshot convert``
turns it, a rosbag2 SQLite3 bag or a RealSense ``.db3`` recording into an episode again,
and damaged or foreign files are refused naming the file and the problem."""
from __future__ import annotations

import sqlite3

import numpy as np
import pytest
from rosbags.rosbag2 import Reader, StoragePlugin, Writer
from rosbags.typesys import Stores, get_types_from_msg, get_typestore

import realsense_recording
from adaptation_node.convert import convert
from adaptation_node.export import ExportError, export_episode
from adaptation_node.robots import PROFILES, SAWYER_JOINTS, joint_state
from episodes import Episode, read_episode, write_episode
from oneshot.cli import main as oneshot
from realsense_recording import FPS, HEIGHT, WIDTH, make_frames, record_realsense
from sim.reach import JOINT_NAMES as REACH_JOINTS
from sim.reach import reach_state

STEPS = 12
TASK = {"family": "reach", "colour": [0.9, 0.1, 0.1]}


def make_episode(tmp_path, name: str, state: np.ndarray, actions: np.ndarray | None,
                 robot: str | None, fovy_deg: float | None = 50.0):
    """A small episode on disk: distinct random frames, jittered timestamps."""
    rng = np.random.default_rng(sum(map(ord, name)))
    camera = {"name": "overhead"} | ({} if fovy_deg is None else {"fovy_deg": fovy_deg})
    episode = Episode(
        frames=rng.integers(0, 256, (STEPS, 24, 32, 3), np.uint8),
        state=state, actions=actions,
        timestamps=np.arange(STEPS) / 20.0 + rng.uniform(0, 0.01, STEPS),
        task=TASK, demonstrator="robot" if actions is not None else "human",
        camera=camera, scene={"note": "made by a test"} | ({"robot": robot} if robot else {}))
    return write_episode(tmp_path / name, episode)


def joints(seed: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.uniform(-2, 2, (STEPS, count)), rng.uniform(-1, 1, (STEPS, count))


@pytest.fixture
def reach_demo(tmp_path):
    """A reach robot demo: state = joints + fingertip, two joint commands per step."""
    q, qd = joints(1, 2)
    state = np.stack([reach_state(*pair) for pair in zip(q, qd)])
    actions = np.random.default_rng(2).uniform(-1, 1, (STEPS, 2))
    return make_episode(tmp_path, "reach-demo", state, actions, robot=None)


@pytest.fixture
def servo_demo(tmp_path):
    """A Sawyer demo commanded by end-effector twists (MoveIt Servo)."""
    q, qd = joints(3, 7)
    state = np.stack([joint_state(*pair) for pair in zip(q, qd)])
    actions = np.random.default_rng(4).uniform(-0.1, 0.1, (STEPS, 6))
    return make_episode(tmp_path, "servo-demo", state, actions, robot="sawyer_servo",
                        fovy_deg=None)


def bag_messages(bag) -> dict[str, list]:
    """Every message of a rosbag2 folder, deserialised by rosbags with the schemas the
    bag carries (not rosbags' own definitions), per topic: (log time, message)."""
    with Reader(bag) as reader:
        store = get_typestore(Stores.EMPTY)
        for connection in reader.connections:
            assert connection.msgdef.data, f"{connection.topic} has no schema"
            store.register(get_types_from_msg(connection.msgdef.data, connection.msgtype))
        messages: dict[str, list] = {}
        for connection, time_ns, raw in reader.messages():
            message = store.deserialize_cdr(raw, connection.msgtype)
            messages.setdefault(connection.topic, []).append((time_ns, message))
        return messages


def stamp_s(message) -> float:
    return message.header.stamp.sec + message.header.stamp.nanosec / 1e9


def assert_same_episode(converted, original, state_atol: float = 0.0) -> None:
    np.testing.assert_array_equal(converted.frames, original.frames)
    np.testing.assert_allclose(converted.state, original.state, rtol=0, atol=state_atol)
    if original.actions is None:
        assert converted.actions is None
    else:
        np.testing.assert_array_equal(converted.actions, original.actions)
    np.testing.assert_allclose(converted.timestamps, original.timestamps - original.timestamps[0],
                               rtol=0, atol=1e-9)
    assert converted.task == original.task and converted.demonstrator == original.demonstrator


def test_rosbags_reads_an_exported_robot_demo(reach_demo, tmp_path):
    bag = export_episode(reach_demo, tmp_path / "bag")
    assert sorted(path.name for path in bag.iterdir()) == ["bag_0.mcap", "metadata.yaml"]
    original = read_episode(reach_demo)
    with Reader(bag) as reader:
        assert {topic: (info.msgtype, info.msgcount) for topic, info in reader.topics.items()} == {
            "/image_raw": ("sensor_msgs/msg/Image", STEPS),
            "/camera_info": ("sensor_msgs/msg/CameraInfo", STEPS),
            "/joint_states": ("sensor_msgs/msg/JointState", STEPS),
            "/cmd/joint": ("std_msgs/msg/Float64MultiArray", STEPS)}
        assert reader.message_count == 4 * STEPS
    messages = bag_messages(bag)
    for step, (_, image) in enumerate(messages["/image_raw"]):
        assert (image.encoding, image.height, image.width, image.step) == ("rgb8", 24, 32, 96)
        assert image.header.frame_id == "overhead"
        np.testing.assert_array_equal(image.data.reshape(24, 32, 3), original.frames[step])
        assert stamp_s(image) == pytest.approx(original.timestamps[step], abs=1e-9)
    for step, (_, state) in enumerate(messages["/joint_states"]):
        assert list(state.name) == list(REACH_JOINTS)
        np.testing.assert_array_equal(state.position, original.state[step, :2])
        np.testing.assert_array_equal(state.velocity, original.state[step, 2:4])
        assert stamp_s(state) == pytest.approx(original.timestamps[step], abs=1e-9)
    commands = [command.data for _, command in messages["/cmd/joint"]]
    np.testing.assert_array_equal(np.stack(commands), original.actions)
    info = messages["/camera_info"][0][1]
    assert (info.width, info.height) == (32, 24)
    assert 2 * np.degrees(np.arctan(12 / info.k[4])) == pytest.approx(50.0)
    # each step is logged as a recorder receives it: joint state, frame, then the command
    times = {topic: [time for time, _ in listed] for topic, listed in messages.items()}
    assert all(a < b < c for a, b, c in zip(times["/joint_states"], times["/image_raw"],
                                            times["/cmd/joint"]))
    assert all(c < a for c, a in zip(times["/cmd/joint"], times["/joint_states"][1:]))


def test_an_exported_robot_demo_converts_back_to_the_same_episode(reach_demo, tmp_path, capsys):
    assert oneshot(["export", "--episode", str(reach_demo), "--out", str(tmp_path / "bag")]) == 0
    assert f"to the rosbag2 folder {tmp_path / 'bag'}" in capsys.readouterr().out
    assert oneshot(["convert", "--log", str(tmp_path / "bag"), "--out",
                    str(tmp_path / "back")]) == 0
    assert f"{STEPS} steps, 0 messages skipped" in capsys.readouterr().out
    original, converted = read_episode(reach_demo), read_episode(tmp_path / "back")
    # the fingertip is recomputed from the float32 joints: equal to float32 rounding
    assert_same_episode(converted, original, state_atol=1e-6)
    np.testing.assert_array_equal(converted.state[:, :4], original.state[:, :4])
    assert converted.fps == pytest.approx(original.fps)
    assert converted.meta["camera"] == {"name": "overhead", "width": 32, "height": 24}
    scene = converted.meta["scene"]
    assert scene["note"] == "made by a test" and scene["robot"] == "reach"
    assert scene["source"] == "ros" and scene["truncated"] is False


def test_a_twist_profile_exports_twist_stamped_commands(servo_demo, tmp_path):
    """The profile comes from the episode's scene; no camera_info without a fovy."""
    bag = export_episode(servo_demo, tmp_path / "bag")
    messages = bag_messages(bag)
    assert sorted(messages) == ["/cmd/ee_twist", "/image_raw", "/joint_states"]
    original = read_episode(servo_demo)
    for step, (_, twist) in enumerate(messages["/cmd/ee_twist"]):
        assert twist.__msgtype__ == "geometry_msgs/msg/TwistStamped"
        assert twist.header.frame_id == PROFILES["sawyer_servo"].twist_frame
        assert stamp_s(twist) == pytest.approx(original.timestamps[step], abs=1e-9)
        linear, angular = twist.twist.linear, twist.twist.angular
        np.testing.assert_array_equal(
            [linear.x, linear.y, linear.z, angular.x, angular.y, angular.z],
            original.actions[step])
    assert [list(state.name) for _, state in messages["/joint_states"]] == [
        list(SAWYER_JOINTS)] * STEPS
    converted = read_episode(convert(bag, tmp_path / "back").episode)
    assert_same_episode(converted, original)
    assert converted.meta["scene"]["robot"] == "sawyer_servo"


def test_a_human_video_exports_frames_only(tmp_path):
    human = make_episode(tmp_path, "human", np.zeros((STEPS, 0)), None, robot=None)
    bag = export_episode(human, tmp_path / "bag")
    assert sorted(bag_messages(bag)) == ["/camera_info", "/image_raw"]
    converted = read_episode(convert(bag, tmp_path / "back").episode)
    assert_same_episode(converted, read_episode(human))
    assert converted.state.shape == (STEPS, 0)


@pytest.mark.parametrize("storage", [StoragePlugin.SQLITE3, StoragePlugin.MCAP])
def test_a_bag_written_by_rosbags_converts(servo_demo, tmp_path, storage):
    """An exported demo copied by rosbags into a new bag (as ``ros2 bag convert`` does),
    every message serialised again by rosbags, beside a /tf topic whose type is not
    installed here (as ``ros2 bag record -a`` would have it). The bag has no oneshot
    metadata, so the options say what the demo was. The folder and its file alone give
    the same episode."""
    exported = export_episode(servo_demo, tmp_path / "exported")
    store = get_typestore(Stores.ROS2_KILTED)
    with Reader(exported) as reader, Writer(tmp_path / "bag", version=9,
                                            storage_plugin=storage) as writer:
        copies = {c.id: writer.add_connection(c.topic, c.msgtype, typestore=store)
                  for c in reader.connections}
        tf = writer.add_connection("/tf", "tf2_msgs/msg/TFMessage", typestore=store)
        for connection, time_ns, raw in reader.messages():
            message = store.deserialize_cdr(raw, connection.msgtype)
            writer.write(copies[connection.id], time_ns,
                         store.serialize_cdr(message, connection.msgtype))
            writer.write(tf, time_ns, store.serialize_cdr(
                store.types["tf2_msgs/msg/TFMessage"](transforms=[]), "tf2_msgs/msg/TFMessage"))
    [file] = [path for path in (tmp_path / "bag").iterdir() if path.name != "metadata.yaml"]
    original = read_episode(servo_demo)
    for source, out in [(tmp_path / "bag", "from-folder"), (file, "from-file")]:
        conversion = convert(source, tmp_path / out, robot="sawyer_servo", task=TASK)
        assert conversion.steps == STEPS and not conversion.skipped
        assert_same_episode(read_episode(tmp_path / out), original)


@pytest.mark.parametrize("compressed", [True, False], ids=["png", "raw"])
@pytest.mark.parametrize("fmt", ["rgb8", "bgr8"])
def test_a_realsense_recording_converts_bit_exact(tmp_path, capsys, monkeypatch, fmt,
                                                   compressed):
    """librealsense records colour frames PNG-compressed unless told not to."""
    recorder = realsense_recording.rs.recorder
    monkeypatch.setattr(realsense_recording.rs, "recorder",
                        lambda path, device: recorder(path, device, compressed))
    frames = make_frames()
    take = record_realsense(tmp_path / "take.db3", frames, fmt)
    assert oneshot(["convert", "--log", str(take), "--out", str(tmp_path / "human"),
                    "--task", '{"family": "reach", "colour": "red"}']) == 0
    assert f"{len(frames)} steps" in capsys.readouterr().out
    episode = read_episode(tmp_path / "human")
    assert episode.demonstrator == "human" and episode.actions is None
    np.testing.assert_array_equal(episode.frames, np.stack(frames))
    assert episode.state.shape == (len(frames), 0)
    np.testing.assert_allclose(episode.timestamps, np.arange(len(frames)) / FPS, atol=1e-6)
    assert episode.task == {"family": "reach", "colour": "red"}
    assert episode.meta["camera"] == {"name": "Color", "width": WIDTH, "height": HEIGHT}


def test_an_mcap_cut_short_converts_up_to_the_cut(reach_demo, tmp_path, capsys):
    bag = export_episode(reach_demo, tmp_path / "bag")
    mcap = bag / "bag_0.mcap"
    mcap.write_bytes(mcap.read_bytes()[:mcap.stat().st_size // 2])
    assert oneshot(["convert", "--log", str(bag), "--out", str(tmp_path / "back")]) == 0
    assert "log cut short: converted up to the cut" in capsys.readouterr().out
    original, converted = read_episode(reach_demo), read_episode(tmp_path / "back")
    assert 2 < converted.length < STEPS and converted.meta["scene"]["truncated"] is True
    np.testing.assert_array_equal(converted.frames, original.frames[:converted.length])
    np.testing.assert_array_equal(converted.actions, original.actions[:converted.length])


def cut_before_first_frame(bag) -> None:
    """Cut the MCAP in the middle of its first image: one joint state is left."""
    mcap = bag / "bag_0.mcap"
    data = mcap.read_bytes()
    first_frame = read_episode(bag.parent / "reach-demo").frames[0].tobytes()
    mcap.write_bytes(data[:data.index(first_frame) + 100])


def cut_in_header(bag) -> None:
    mcap = bag / "bag_0.mcap"
    mcap.write_bytes(mcap.read_bytes()[:30])


def garbage_file(bag) -> None:
    (bag / "bag_0.mcap").write_bytes(b"not a log " * 100)


def no_bag_metadata(bag) -> None:
    (bag / "metadata.yaml").unlink()


@pytest.mark.parametrize("damage, where, problem", [
    (cut_in_header, "bag/bag_0.mcap", "not a readable MCAP log"),
    (cut_before_first_frame, "bag", "no commands were recorded"),
    (garbage_file, "bag/bag_0.mcap", "not a mcap file, as"),
    (no_bag_metadata, "bag", "a folder without metadata.yaml"),
])
def test_a_damaged_bag_is_refused_naming_the_file(reach_demo, tmp_path, capsys, damage, where,
                                                  problem):
    bag = export_episode(reach_demo, tmp_path / "bag")
    damage(bag)
    assert oneshot(["convert", "--log", str(bag), "--out", str(tmp_path / "back")]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"oneshot convert: error: {tmp_path / where}: ") and problem in line
    assert not (tmp_path / "back").exists()


def damaged_message(db3) -> None:
    with sqlite3.connect(db3) as db:
        db.execute("UPDATE messages SET data = x'0001000000' WHERE id = (SELECT m.id FROM "
                   "messages m JOIN topics t ON t.id = m.topic_id WHERE t.name LIKE "
                   "'%/image/data/compressed' LIMIT 1)")


def cut_in_half(db3) -> None:
    db3.write_bytes(db3.read_bytes()[:db3.stat().st_size // 2])


def ros1_bag(db3) -> None:
    db3.write_bytes(b"#ROSBAG V2.0\n" + bytes(200))


@pytest.mark.parametrize("damage, problem", [
    (damaged_message, "/image/data/compressed message received at"),
    (cut_in_half, "damaged, cut short or no rosbag2 SQLite3 file"),
    (ros1_bag, "not a ROS 2 log: neither MCAP nor SQLite3"),
])
def test_a_damaged_db3_is_refused_naming_the_file(tmp_path, capsys, damage, problem):
    take = record_realsense(tmp_path / "take.db3", make_frames(3))
    damage(take)
    assert oneshot(["convert", "--log", str(take), "--out", str(tmp_path / "human")]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"oneshot convert: error: {take}: ") and problem in line


def test_export_refuses_a_state_the_profile_does_not_make(reach_demo, tmp_path, capsys):
    with pytest.raises(ExportError, match="is not the pr2 profile's state"):
        export_episode(reach_demo, tmp_path / "bag", robot="pr2")
    assert not (tmp_path / "bag").exists() and not list(tmp_path.glob(".bag.*"))
    export_episode(reach_demo, tmp_path / "bag")
    assert oneshot(["export", "--episode", str(reach_demo), "--out", str(tmp_path / "bag")]) == 2
    assert "already exists; refusing to overwrite" in capsys.readouterr().err
