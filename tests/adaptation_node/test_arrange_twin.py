"""The arrangement twin behind ROS topics (sim_twin with ``twin: arrange``).

Driven by ``cmd/ee_twist`` it must move the rod at the commanded velocity clamped to its
box, one 0.1 s step per tick; publish the FLO classifier's 64x64 camera, the rod's and
arm's joints and both objects' poses; skip a NaN twist; take its task from the ``task``
parameter (refusing a bad one); and report the episode as the true relation judges it.
"""
from __future__ import annotations

import json
import time

import numpy as np
import pytest
from builtin_interfaces.msg import Time
from geometry_msgs.msg import PoseStamped, TwistStamped
from sensor_msgs.msg import Image, JointState
from std_msgs.msg import String
from std_srvs.srv import Trigger

from adaptation_node import qos
from adaptation_node.messages import twist_msg
from adaptation_node.robots import PR2_JOINTS
from adaptation_node.twins import ARRANGE_POSES, PUSHER_JOINTS, PUSHER_SPEED, arrange_task
from sim.push_scene import TABLE_Z

from ros_harness import wait_until

TWIN = "adaptation_node.sim_twin"
STEP_M = PUSHER_SPEED * 0.1       # the rod's largest move in one step


def test_the_twin_moves_the_rod_as_commanded_and_publishes_the_scene(start_node, probe):
    joints = probe.record(JointState, "joint_states", qos.STATE)
    images = probe.record(Image, "image_raw", qos.IMAGES)
    poses = {topic: probe.record(PoseStamped, topic, qos.STATE) for topic in ARRANGE_POSES}
    episodes = probe.record(String, "sim/episode", qos.LATCHED)
    command = probe.node.create_publisher(TwistStamped, "cmd/ee_twist", qos.COMMAND)
    twin = start_node(TWIN, twin="arrange", seed=5, rate_hz=10.0, episode_steps=7,
                      task='{"relation": "apart"}')
    assert "apart" in probe.call(Trigger, "sim/reset", Trigger.Request()).message
    reset_at = time.monotonic()
    wait_until(lambda: joints[-1][0] > reset_at, 10, "the new scene's joints")
    # towards the table's middle (7 steps cannot cross it), far beyond the speed limit
    heading = np.sign(np.array([0.45, -0.15]) - joints[-1][1].position[:2])
    nan = twist_msg(np.array([np.nan, 0.0, 0.0, 0.0, 0.0, 0.0]), Time(), "world")
    command.publish(nan)
    while not episodes:
        command.publish(twist_msg(np.array([*heading, 0.0, 0.0, 0.0, 0.0]), Time(), "world"))
        time.sleep(0.05)
        assert time.monotonic() < reset_at + 20, "the episode did not end"

    names = list(joints[-1][1].name)
    assert names == [*PUSHER_JOINTS, *PR2_JOINTS]
    rod = np.array([m.position[:2] for t, m in joints if t > reset_at + 0.3])
    moves = np.diff(rod, axis=0) * heading      # along the heading
    assert moves.min() >= -1e-9 and moves.max() <= STEP_M + 1e-9
    assert np.isclose(moves, STEP_M).all(axis=1).sum() >= 3, moves
    assert joints[-1][1].velocity[:2] == pytest.approx(heading * PUSHER_SPEED)
    frame = images[-1][1]
    assert (frame.width, frame.height, frame.encoding) == (64, 64, "rgb8")
    for topic in ARRANGE_POSES:
        pose = poses[topic][-1][1].pose
        q = pose.orientation
        assert np.isfinite([pose.position.x, pose.position.y]).all() and pose.position.z > TABLE_Z
        assert q.x ** 2 + q.y ** 2 + q.z ** 2 + q.w ** 2 == pytest.approx(1.0)

    report = json.loads(episodes[-1][1].data)
    assert report["task"]["relation"] == "apart"
    assert report["task"] == {**arrange_task("", "heldout", 5).describe(), "relation": "apart"}
    assert report["success"] == report["relation_holds"] == (report["final_distance"] == 0.0)
    assert "cmd/ee_twist skipped" in twin.text() and twin.alive()


def test_a_task_parameter_with_an_unknown_relation_or_field_is_refused():
    with pytest.raises(ValueError, match="relation 'over'"):
        arrange_task('{"relation": "over"}', "heldout", 0)
    with pytest.raises(ValueError, match="JSON object"):
        arrange_task('{"colour": "red"}', "heldout", 0)
    assert arrange_task("", "heldout", 0) == arrange_task("{}", "heldout", 0)
