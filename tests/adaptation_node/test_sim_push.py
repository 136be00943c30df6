"""The PR2-like push twin behind the ROS topics (``sim_twin`` with ``twin: push``), its
recorder profile, its demonstrators, and ``oneshot up sim-push-demos``: nodes in their own
processes, over DDS."""
from __future__ import annotations

import json
import math
import time

import numpy as np
import pytest
import yaml
from sensor_msgs.msg import CameraInfo, Image, JointState
from std_msgs.msg import Float64MultiArray, String
from std_srvs.srv import Trigger

from adaptation_node import qos
from adaptation_node.bringup import CONFIG_DIR
from adaptation_node.mcap_log import read_log
from adaptation_node.messages import command_msg
from adaptation_node.robots import PR2_JOINTS, push_state
from episodes import read_episode
from sim.push import SUCCESS_SQUARED_DISTANCE, PushEnv
from sim.push_expert import ArmPushExpert
from sim.reach import JOINT_NAMES as REACH_JOINTS

from ros_harness import run_up, start_recording, wait_until

TWIN, RECORDER = "adaptation_node.sim_twin", "adaptation_node.recorder"
PUSH_TASK = {"target": "heldout-002-dumbbell", "distractor": "heldout-018-capsule", "table": 0}


def test_push_state_is_the_push_envs_robot_state():
    """Forward kinematics from joint states alone gives what the env observes."""
    env = PushEnv("heldout")
    observation, _ = env.reset(seed=4)
    expert = ArmPushExpert(noise_std=0.1, seed=4)
    for _ in range(30):
        state = observation["state"]
        np.testing.assert_allclose(push_state(state[:7], state[7:14]), state, atol=1e-5)
        observation, *_ = env.step(expert.act(env))
    env.close()


def test_the_push_twin_publishes_pr2_joints_images_and_takes_seven_torques(start_node, probe):
    joints = probe.record(JointState, "joint_states", qos.STATE)
    images = probe.record(Image, "image_raw", qos.IMAGES)
    infos = probe.record(CameraInfo, "camera_info", qos.SENSOR)
    twin = start_node(TWIN, twin="push", rate_hz=40.0, task='{"target": "no-such-object"}')
    wait_until(lambda: joints and images and infos, 30, "the push twin's streams")
    state, image, info = joints[-1][1], images[-1][1], infos[-1][1]
    assert tuple(state.name) == PR2_JOINTS and len(state.position) == len(state.velocity) == 7
    assert (image.width, image.height, image.encoding, image.header.frame_id) == (
        64, 64, "rgb8", "front")
    assert info.k[4] == pytest.approx(32.0 / math.tan(math.radians(45.0) / 2.0))  # fovy 45
    assert "task parameter" in twin.text() and "drawing one instead" in twin.text()

    assert probe.call(Trigger, "sim/reset", Trigger.Request()).success
    command = probe.node.create_publisher(Float64MultiArray, "cmd/joint", qos.COMMAND)
    start = len(joints)
    for _ in range(10):  # beyond the box: clamped to 2 N m on the shoulder pan
        command.publish(command_msg(np.array([5.0, 0, 0, 0, 0, 0, 0])))
        time.sleep(0.025)
    wait_until(lambda: any(m.velocity[0] > 0.1 for _, m in joints[start:]), 10, "the arm to turn")
    assert twin.stop() == 0


def test_the_twin_reports_steps_whose_command_is_late_or_missing(start_node, probe):
    episodes = probe.record(String, "sim/episode", qos.LATCHED)
    start_node(TWIN, twin="push", rate_hz=20.0, episode_steps=10, command_timeout_s=1.0,
               task=json.dumps(PUSH_TASK))
    command = probe.node.create_publisher(Float64MultiArray, "cmd/joint", qos.COMMAND)
    assert probe.call(Trigger, "sim/reset", Trigger.Request()).success
    command.publish(command_msg(np.full(7, 0.1)))  # once: every later step reuses it
    wait_until(lambda: episodes, 30, "the first episode to end")
    once = json.loads(episodes[-1][1].data)
    assert once["held_steps"] == 0 and once["late_steps"] >= 8

    time.sleep(1.2)  # past the timeout: the arm is held, not driven by the old command
    assert probe.call(Trigger, "sim/reset", Trigger.Request()).success
    wait_until(lambda: len(episodes) == 2, 30, "the second episode to end")
    silent = json.loads(episodes[-1][1].data)
    assert silent["held_steps"] == 10 and silent["late_steps"] == 0


def test_an_unknown_twin_is_reported_and_the_reach_twin_served(start_node, probe):
    joints = probe.record(JointState, "joint_states", qos.STATE)
    twin = start_node(TWIN, twin="juggle", rate_hz=40.0)
    wait_until(lambda: joints, 30, "joint states")
    assert tuple(joints[-1][1].name) == REACH_JOINTS
    assert "twin 'juggle' is not one of ['arm', 'arrange', 'push', 'reach']; using 'reach'" in twin.text()
    assert twin.stop() == 0


def test_a_push_demo_is_recorded_into_a_robot_episode(start_node, probe, tmp_path):
    commands = probe.record(Float64MultiArray, "cmd/joint", qos.COMMAND)
    episodes = probe.record(String, "sim/episode", qos.LATCHED)
    start_node(TWIN, twin="push", rate_hz=40.0, seed=3, task=json.dumps(PUSH_TASK))
    start_node(RECORDER, out_dir=str(tmp_path / "demos"), robot="push",
               task=json.dumps({"family": "push", **PUSH_TASK}))
    start_recording(probe)
    assert probe.call(Trigger, "sim/demonstrate", Trigger.Request()).success
    wait_until(lambda: episodes, 30, "the demonstration to end")
    stop = probe.call(Trigger, "/demo_recorder/stop", Trigger.Request())
    assert stop.success, stop.message
    report = json.loads(episodes[-1][1].data)
    assert report["success"] and report["demonstration"] and report["task"] == PUSH_TASK
    assert report["final_distance"] < SUCCESS_SQUARED_DISTANCE ** 0.5  # ended on the goal
    assert report["late_steps"] == report["held_steps"] == 0  # the operator answers each frame

    episode = read_episode(stop.message)
    assert episode.length == 100 and episode.task == {"family": "push", **PUSH_TASK}
    assert episode.frames.shape == (100, 64, 64, 3)
    state, actions = np.asarray(episode.state), np.asarray(episode.actions)
    assert state.shape == (100, 21) and actions.shape == (100, 7)
    np.testing.assert_allclose(state, [push_state(s[:7], s[7:14]) for s in state], atol=1e-5)
    assert np.abs(actions).max() <= 2.0 and np.abs(actions).max() > 0.5
    teleop = np.array([list(msg.data) for _, msg in commands])
    np.testing.assert_allclose(actions, teleop, atol=1e-6)  # what the operator sent
    log = read_log(next((tmp_path / "demos").glob("*.mcap")))
    assert log.metadata["robot"] == "push"


def test_up_sim_push_demos_records_demos_and_stops(tmp_path, ros_domain):
    """`oneshot up sim-push-demos`, with one demo, a faster twin and its output under
    tmp_path."""
    config = yaml.safe_load((CONFIG_DIR / "sim-push-demos.yaml").read_text())
    nodes = config["nodes"]
    nodes["sim_twin"]["parameters"]["rate_hz"] = 40.0
    nodes["demo_recorder"]["parameters"]["out_dir"] = str(tmp_path / "demos")
    nodes["rehearsal"]["parameters"]["demos_only"] = 1
    result = run_up(config, tmp_path / "sim-push-demos.yaml", ros_domain, 90)
    assert len(result["demos"]) == len(result["success"]) == 1
    demo = read_episode(result["demos"][0])
    assert demo.length == 100 and demo.actions is not None and demo.state.shape == (100, 21)
    log = read_log(next((tmp_path / "demos").glob("*.mcap")))
    assert not log.truncated and len(log.messages) >= 300  # 100 frames, states, commands


@pytest.mark.parametrize("twin, demonstrator, message", [
    ("reach", "human", "demonstrator 'human': the reach twin offers ['robot']; using 'robot'"),
    ("push", "alien", "demonstrator 'alien': the push twin offers ['human', 'robot']; "
                      "using 'robot'"),
])
def test_a_demonstrator_the_twin_lacks_is_reported_and_the_robot_demonstrates(
        start_node, probe, twin, demonstrator, message):
    commands = probe.record(Float64MultiArray, "cmd/joint", qos.COMMAND)
    joints = probe.record(JointState, "joint_states", qos.STATE)
    node = start_node(TWIN, twin=twin, demonstrator=demonstrator, rate_hz=40.0)
    wait_until(lambda: joints, 30, "joint states")
    assert message in node.text()
    assert probe.call(Trigger, "sim/demonstrate", Trigger.Request()).success
    wait_until(lambda: len(commands) >= 5, 10, "the teleoperator's commands on cmd/joint")
    assert len(commands[-1][1].data) == len(joints[-1][1].name)  # joint torques, not a hand's
    assert node.stop() == 0
