"""DAML in the ROS graph: the adaptation node adapts a DAML checkpoint on a human video
announced on ``demo/recorded`` and the policy node drives the PR2-like push twin with it;
``oneshot up sim-push`` runs that loop from a person's demonstration in the twin.

The nodes run in their own processes and talk to the test over DDS (ros_harness). The
DAML checkpoint is a tiny one meta-trained for one iteration on ``tiny_push`` (32x32
paired push demos; the ``daml_checkpoint`` fixture): what is checked is the wiring, not
how well it pushes.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from sensor_msgs.msg import Image, JointState
from std_msgs.msg import Float64, Float64MultiArray, String
from std_srvs.srv import Trigger

from adaptation_node import qos
from adaptation_node.adaptation import load_meta_trained
from adaptation_node.bringup import CONFIG_DIR
from adaptation_node.messages import json_msg
from adaptation_node.policy_node import load_adapted
from adaptation_node.robots import profile
from episodes import read_episode
from meta_policy.adapt import AdaptedPolicy
from meta_policy.config import MILConfig
from meta_policy.daml_adapt import AdaptedDAML, MetaTrainedDAML, adapt, load_daml
from meta_policy.policy import MILPolicy
from metalearn.checkpoint import CheckpointError
from sim.video import write_mp4

from ros_harness import run_up, wait_until

PUSH = profile("push")


def bad_videos(root: Path) -> dict[str, Path]:
    """Videos DAML must refuse, by the reason the adaptation node should log for each."""
    rng = np.random.default_rng(0)
    noise = lambda count, size: list(rng.integers(0, 255, (count, size, size, 3), np.uint8))
    return {
        "no such file or folder": root / "missing.mp4",
        "too short: 5 frames": write_mp4(root / "short.mp4", noise(5, 32), 10.0),
        "frames are 64x64": write_mp4(root / "big.mp4", noise(12, 64), 10.0),
        "all black": write_mp4(root / "black.mp4", [np.zeros((32, 32, 3), np.uint8)] * 12, 10.0),
    }


def test_a_human_video_adapts_daml_and_the_policy_drives_the_push_twin(
        start_node, probe, tmp_path, tiny_push, daml_checkpoint):
    adapted = probe.record(String, "policy/adapted", qos.LATCHED)
    active = probe.record(String, "policy/active", qos.LATCHED)
    latency = probe.record(Float64, "adaptation/latency_ms", qos.STATE)
    commands = probe.record(Float64MultiArray, "cmd/joint", qos.COMMAND)
    joints = probe.record(JointState, "joint_states", qos.STATE)
    announce = probe.node.create_publisher(String, "demo/recorded", qos.LATCHED)

    # the twin of `oneshot up sim-push`, at the tiny checkpoint's image size
    shipped = yaml.safe_load((CONFIG_DIR / "sim-push.yaml").read_text())
    twin = {**shipped["nodes"]["sim_twin"]["parameters"], "image_width": 32,
            "image_height": 32}
    start_node("adaptation_node.sim_twin", **twin)
    adaptation = start_node("adaptation_node.adaptation", checkpoint=str(daml_checkpoint),
                            out_dir=str(tmp_path / "adapted"))
    policy = start_node("adaptation_node.policy_node", robot="push", rate_hz=20.0,
                        stale_s=0.5)

    # bad videos are reported one by one and change nothing
    for reason, video in bad_videos(tmp_path).items():
        announce.publish(json_msg({"path": str(video)}))
        wait_until(lambda: f"demo {video} skipped" in adaptation.text()
                   and reason in adaptation.text(), 30, f"the {reason!r} refusal")
    assert adapted == [] and adaptation.alive()
    assert "daml checkpoint" in adaptation.text()

    human = tiny_push / "task_0000" / "human_000"
    announce.publish(json_msg({"path": str(human)}))
    wait_until(lambda: adapted, 30, "the adapted policy")
    announced = json.loads(adapted[-1][1].data)
    assert announced["version"] == 1 and announced["demo"] == str(human)
    config = json.loads((Path(announced["path"]) / "config.json").read_text())
    assert config["kind"] == "daml-adapted"
    wait_until(lambda: latency, 10, "the adaptation latency")
    assert latency[-1][1].data > 0

    wait_until(lambda: any(json.loads(m.data)["version"] == 1 for _, m in active), 20,
               "version 1 active in the policy node")
    assert probe.call(Trigger, "sim/reset", Trigger.Request()).success  # an episode starts
    swapped = time.monotonic()
    wait_until(lambda: sum(np.any(m.data) for t, m in commands if t > swapped) >= 10, 20,
               "the policy to command the twin")
    acting = np.array([list(m.data) for t, m in commands if t > swapped])
    assert acting.shape[1] == 7
    assert np.all(acting >= PUSH.command_low) and np.all(acting <= PUSH.command_high)
    wait_until(lambda: any(np.abs(m.velocity).max() > 1e-3 for t, m in joints if t > swapped),
               10, "the twin's arm to move")
    assert adaptation.alive() and policy.alive()
    assert adaptation.stop() == 0 and policy.stop() == 0


def test_the_nodes_load_by_kind_and_refuse_the_wrong_one(tmp_path, tiny_push, daml_checkpoint):
    """Without ROS processes: what each node loads, and what it refuses."""
    kind, model = load_meta_trained(str(daml_checkpoint))
    assert kind == "daml" and isinstance(model, MetaTrainedDAML)
    daml_policy = adapt(load_daml(daml_checkpoint), tiny_push / "task_0001" / "human_001")
    daml_path = daml_policy.save(tmp_path / "daml-adapted", ["test"])
    assert isinstance(load_adapted(str(daml_path), None), AdaptedDAML)
    with pytest.raises(CheckpointError, match="expected 'mil' or 'daml'"):
        load_meta_trained(str(daml_path))  # an adapted policy is no meta-trained one
    with pytest.raises(CheckpointError, match="expected 'mil-adapted' or 'daml-adapted'"):
        load_adapted(str(daml_checkpoint), None)

    mil_policy = AdaptedPolicy(MILPolicy(MILConfig(state_dim=21, action_dim=7)), {})
    mil_path = mil_policy.save(tmp_path / "mil-adapted", ["test"])
    with pytest.raises(CheckpointError, match="restart the policy node"):
        load_adapted(str(daml_path), mil_policy)  # no method change between two steps
    with pytest.raises(CheckpointError, match="restart the policy node"):
        load_adapted(str(mil_path), daml_policy)


def test_up_sim_push_adapts_daml_on_a_persons_demo_and_rehearses(
        tmp_path, ros_domain, probe, daml_checkpoint):
    """`oneshot up sim-push` with the tiny checkpoint (so a 32x32 twin), a faster twin, two
    trials and its output under tmp_path: the wiring of the loop, not its success rate."""
    reports = probe.record(String, "sim/episode", qos.LATCHED)
    images = probe.record(Image, "image_raw", qos.IMAGES)
    config = yaml.safe_load((CONFIG_DIR / "sim-push.yaml").read_text())
    nodes = config["nodes"]
    nodes["sim_twin"]["parameters"].update(rate_hz=40.0, image_width=32, image_height=32)
    nodes["demo_recorder"]["parameters"]["out_dir"] = str(tmp_path / "demos")
    nodes["adaptation"]["parameters"].update(checkpoint=str(daml_checkpoint),
                                             out_dir=str(tmp_path / "adapted"))
    nodes["rehearsal"]["parameters"]["episodes"] = 2
    result = run_up(config, tmp_path / "sim-push.yaml", ros_domain, 90)
    assert result["episodes"] == len(result["final_distances"]) == 2
    assert len(result["late_steps"]) == len(result["held_steps"]) == 2  # the twin's timing
    assert result["policy_version"] == 1 and isinstance(result["demo_success"], bool)

    # the person demonstrated, the robot ran the trials
    demonstrators = [(r["demonstration"], r["demonstrator"])
                     for r in (json.loads(m.data) for _, m in reports)]
    assert demonstrators == [(True, "human"), (False, "robot"), (False, "robot")]

    # the episode is the person's video, seen by the camera facing them, while the arm stood
    demo = read_episode(result["demo"])
    assert demo.demonstrator == "human" and demo.actions is None
    assert demo.meta["camera"]["name"] == "human_view"
    assert demo.frames.shape[1:] == (32, 32, 3)
    assert result["demo_success"] and demo.length < 100  # filming stopped soon after success
    robot_view = {bytes(m.data) for _, m in images if m.header.frame_id == "front"}
    assert robot_view  # before the demonstration and in the trials
    assert not any(frame.tobytes() in robot_view for frame in demo.frames)
    state = np.asarray(demo.state)
    assert state.shape == (demo.length, 21)
    np.testing.assert_allclose(state, np.broadcast_to(state[0], state.shape))  # parked
    assert not np.any(state[:, 7:14])  # no joint moving

    adapted = tmp_path / "adapted" / "policy-v0001"
    assert json.loads((adapted / "config.json").read_text())["kind"] == "daml-adapted"
