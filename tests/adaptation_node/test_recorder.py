"""The demo recorder and the sim twin, each in its own process: a demo recorded over DDS
becomes an MCAP log and an episode; a killed recorder leaves a readable partial log."""
from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import numpy as np
from builtin_interfaces.msg import Time
from sensor_msgs.msg import Image
from std_msgs.msg import Float64MultiArray, String
from std_srvs.srv import Trigger

from adaptation_node import qos
from adaptation_node.mcap_log import read_log
from adaptation_node.messages import image_msg
from episodes import read_episode
from sim.reach import EPISODE_STEPS, reach_state

from ros_harness import FakeArm, start_recording, wait_until

RECORDER, TWIN = "adaptation_node.recorder", "adaptation_node.sim_twin"


def test_a_demo_of_the_twin_is_recorded_into_an_episode_and_mcap(start_node, probe, tmp_path):
    commands = probe.record(Float64MultiArray, "cmd/joint", qos.COMMAND)
    episodes = probe.record(String, "sim/episode", qos.LATCHED)
    recorded = probe.record(String, "demo/recorded", qos.LATCHED)
    start_node(TWIN, rate_hz=25.0, seed=2)
    recorder = start_node(RECORDER, out_dir=str(tmp_path / "demos"))
    start_recording(probe)
    assert probe.call(Trigger, "sim/demonstrate", Trigger.Request()).success
    wait_until(lambda: episodes, 30, "the demonstration to end")
    stop = probe.call(Trigger, "/demo_recorder/stop", Trigger.Request())
    assert stop.success, stop.message
    assert json.loads(episodes[-1][1].data)["success"]

    episode = read_episode(stop.message)
    assert episode.length == EPISODE_STEPS
    assert episode.frames.shape == (EPISODE_STEPS, 64, 64, 3)
    teleop = np.array([list(msg.data) for _, msg in commands])
    np.testing.assert_allclose(episode.actions, teleop, atol=1e-6)  # what the operator sent
    state = np.asarray(episode.state)
    np.testing.assert_allclose(state, [reach_state(s[:2], s[2:4]) for s in state], atol=1e-5)
    assert np.abs(state[0, :2]).max() <= 0.1  # the first step is the fresh scene's start

    wait_until(lambda: recorded, 10, "demo/recorded")
    announced = json.loads(recorded[-1][1].data)
    assert announced["path"] == stop.message and announced["frames"] == EPISODE_STEPS
    log = read_log(announced["mcap"])
    assert not log.truncated and {m.topic for m in log.messages} == {
        "image_raw", "joint_states", "cmd/joint"}
    assert log.metadata == {"task": {"family": "reach"}, "demonstrator": "robot", "robot": "reach"}
    assert recorder.alive()


def counted_frame(step: int) -> Image:
    return image_msg(np.full((64, 64, 3), step % 256, np.uint8), Time())


def test_a_killed_recorder_leaves_a_readable_partial_log_and_no_episode(start_node, probe, tmp_path):
    out = tmp_path / "demos"
    recorder = start_node(RECORDER, out_dir=str(out))
    arm = FakeArm(probe, frame_at=counted_frame)
    try:
        log = Path(start_recording(probe))
        wait_until(lambda: log.stat().st_size > 20 * 64 * 64 * 3, 10, "the log to fill")
        recorder.stop(signal.SIGKILL)
    finally:
        arm.stop()
    frames = [bytes(m.message.data[:1])[0] for m in read_log(log).messages
              if m.topic == "image_raw"]
    assert len(frames) >= 20 and np.all(np.diff(frames) % 256 == 1)  # every frame, in order
    assert [p for p in out.iterdir() if p.suffix != ".mcap"] == []  # no episode, whole or half


def test_start_needs_live_streams_and_stop_says_why_no_episode_was_made(start_node, probe, tmp_path):
    out = tmp_path / "demos"
    recorder = start_node(RECORDER, out_dir=str(out), stream_timeout_s=0.5)
    assert probe.call(Trigger, "/demo_recorder/stop", Trigger.Request()).message == "not recording"
    start = probe.call(Trigger, "/demo_recorder/start", Trigger.Request())
    assert not start.success and "nothing on image_raw or joint_states in the last" in start.message
    assert list(out.iterdir()) == []
    arm = FakeArm(probe)
    try:
        start_recording(probe)
        assert probe.call(Trigger, "/demo_recorder/start", Trigger.Request()).message == (
            "already recording")
        time.sleep(0.3)
        stop = probe.call(Trigger, "/demo_recorder/stop", Trigger.Request())
    finally:
        arm.stop()
    assert not stop.success and "no commands were recorded on cmd/joint" in stop.message
    assert len(list(out.glob("*.mcap"))) == 1  # the log is kept
    assert recorder.alive()


def test_convert_turns_a_recorded_log_into_the_same_episode(start_node, probe, tmp_path):
    from oneshot.cli import main as oneshot

    episodes = probe.record(String, "sim/episode", qos.LATCHED)
    start_node(TWIN, rate_hz=25.0, seed=4)
    start_node(RECORDER, out_dir=str(tmp_path / "demos"))
    start_recording(probe)
    probe.call(Trigger, "sim/demonstrate", Trigger.Request())
    wait_until(lambda: episodes, 30, "the demonstration to end")
    recorded = read_episode(probe.call(Trigger, "/demo_recorder/stop", Trigger.Request()).message)
    mcap = next((tmp_path / "demos").glob("*.mcap"))
    assert oneshot(["convert", "--mcap", str(mcap), "--out", str(tmp_path / "converted")]) == 0
    converted = read_episode(tmp_path / "converted")
    for name in ("frames", "state", "actions", "timestamps"):
        np.testing.assert_array_equal(getattr(converted, name), getattr(recorded, name))
    assert oneshot(["convert", "--mcap", str(tmp_path / "none.mcap"), "--out",
                    str(tmp_path / "x")]) == 2


def test_a_gripper_robots_twists_and_grips_make_its_actions(start_node, probe, tmp_path):
    """A Sawyer demo (profile sawyer_gripper): the operator's twists in m/s become the
    policy's velocity units and the gripper command ends each action; convert agrees."""
    import threading

    from geometry_msgs.msg import TwistStamped
    from std_msgs.msg import Float64

    from adaptation_node.messages import joint_state_msg, twist_msg
    from adaptation_node.robots import profile
    from oneshot.cli import main as oneshot
    from sim.sawyer import robot_state

    sawyer = profile("sawyer_gripper")
    start_node(RECORDER, out_dir=str(tmp_path / "demos"), robot="sawyer_gripper")
    q = [0.1] * 7 + [0.01, -0.01]
    stamped = lambda step: image_msg(np.full((64, 64, 3), step % 256, np.uint8),
                                     probe.node.get_clock().now().to_msg())
    arm = FakeArm(probe, joints=joint_state_msg(sawyer.joint_names, q, [0.0] * 9, Time()),
                  frame_at=stamped)
    twists = probe.node.create_publisher(TwistStamped, "cmd/ee_twist", qos.COMMAND)
    grips = probe.node.create_publisher(Float64, "cmd/gripper", qos.COMMAND)
    teleop = threading.Event()

    def operate() -> None:  # 0.1 m/s along x, 0.05 m/s down; grip closed, then opened
        for step in range(40):
            twists.publish(twist_msg(np.array([0.1, 0.0, -0.05]), Time(), "base"))
            grips.publish(Float64(data=1.0 if step < 20 else -1.0))
            time.sleep(0.02)
        teleop.set()

    try:
        start_recording(probe)
        threading.Thread(target=operate, daemon=True).start()
        teleop.wait(10)
        stop = probe.call(Trigger, "/demo_recorder/stop", Trigger.Request())
    finally:
        arm.stop()
    assert stop.success, stop.message
    episode = read_episode(stop.message)
    actions = np.asarray(episode.actions)
    assert actions.shape[1] == 4 and episode.length >= 20
    np.testing.assert_allclose(actions[:, :3], np.tile([0.4, 0.0, -0.2], (len(actions), 1)),
                               atol=1e-6)  # m/s over the twin's 0.25 m/s
    assert actions[0, 3] == 1.0 and actions[-1, 3] == -1.0
    assert set(actions[:, 3]) == {1.0, -1.0}
    np.testing.assert_allclose(episode.state[0], robot_state(np.array(q), np.zeros(9)),
                               atol=1e-6)
    mcap = next((tmp_path / "demos").glob("*.mcap"))
    assert oneshot(["convert", "--mcap", str(mcap), "--out", str(tmp_path / "converted")]) == 0
    np.testing.assert_array_equal(read_episode(tmp_path / "converted").actions, actions)


def test_a_lagging_recorder_pairs_each_frame_with_the_command_that_answered_it(
        start_node, probe, tmp_path):
    """Frames and commands sent in lockstep faster than the recorder writes them: steps are
    ordered by when DDS received each message, not by when the recorder's executor got to
    it, so every frame keeps its own command; and the streams' backlog is deep enough that
    none is lost."""
    start_node(RECORDER, out_dir=str(tmp_path / "demos"))
    commands = probe.node.create_publisher(Float64MultiArray, "cmd/joint", qos.COMMAND)
    now = lambda: probe.node.get_clock().now().to_msg()
    big = lambda step: image_msg(np.full((480, 640, 3), step % 256, np.uint8), now())
    arm = FakeArm(probe, frame_at=big)
    try:
        start_recording(probe)
    finally:
        arm.stop()
    burst = qos.BACKLOG - 10  # steps sent before the recorder may catch up: fewer than the backlog
    steps = 3 * burst
    for step in range(steps):  # 640x480 frames at 250 Hz: the recorder falls behind
        arm.joints.header.stamp = now()
        arm.joint_pub.publish(arm.joints)
        arm.images.publish(big(step))
        commands.publish(Float64MultiArray(data=[float(step), 0.0]))
        time.sleep(0.004 if (step + 1) % burst else 0.5)  # then lets it catch up
    stop = probe.call(Trigger, "/demo_recorder/stop", Trigger.Request())
    assert stop.success, stop.message
    episode = read_episode(stop.message)
    sent = np.asarray(episode.actions)[:, 0]
    shown = np.asarray(episode.frames)[:, 0, 0, 0].astype(float)
    np.testing.assert_array_equal(sent % 256, shown)
    assert episode.length == steps
