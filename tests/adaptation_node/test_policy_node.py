"""The policy node in its own process: acting, watchdog, clamping, estop, hot swap, bad input.

The test's probe node plays the arm: it publishes camera frames and joint states, and
records the commands the policy node sends back over DDS.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import torch
from builtin_interfaces.msg import Time
from sensor_msgs.msg import Image, JointState
from std_msgs.msg import Float64MultiArray, String
from std_srvs.srv import SetBool

from adaptation_node import qos
from adaptation_node.messages import image_msg, joint_state_msg, json_msg
from adaptation_node.robots import profile
from meta_policy.adapt import adapt, load_mil
from oneshot.evaluate import record_demo
from sim.colours import task_colour
from sim.reach import ReachEnv

from ros_harness import FakeArm, wait_until

CHECKPOINT = Path(__file__).resolve().parents[2] / "checkpoints" / "mil-reach"
JOINTS = profile("reach").joint_names
POLICY = "adaptation_node.policy_node"


@pytest.fixture(scope="module")
def adapted(tmp_path_factory) -> dict[str, Path]:
    """Two adapted policies (versions 1 and 2) and one whose output is far out of limits."""
    root = tmp_path_factory.mktemp("adapted")
    env = ReachEnv(split="heldout", image_size=(64, 64))
    task = {"family": "reach", "colour": list(task_colour("heldout", 0))}
    demo = record_demo(env, task, np.random.default_rng(0), root / "demo")
    env.close()
    model = load_mil(CHECKPOINT)
    paths = {}
    for version in (1, 2):
        paths[f"v{version}"] = adapt(model, demo, version).save(root / f"v{version}", ["test"])
    wild = adapt(model, demo, 3)
    with torch.no_grad():
        wild.network.head[4].weight.zero_()
        wild.network.head[4].bias.copy_(torch.tensor([50.0, -50.0]))
    paths["wild"] = wild.save(root / "wild", ["test"])
    return paths


@pytest.fixture
def fake_arm(probe):
    """``fake_arm(frame=None, joints=None) -> FakeArm``; every arm stops at teardown."""
    arms: list[FakeArm] = []

    def start(frame: Image | None = None, joints: JointState | None = None) -> FakeArm:
        arms.append(FakeArm(probe, frame, joints))
        return arms[-1]

    yield start
    for arm in arms:
        arm.stop()


def commands_of(received) -> np.ndarray:
    return np.array([list(msg.data) for _, msg in received])


def acting(received) -> bool:
    """Whether the newest command moves the arm."""
    return bool(received) and bool(np.any(received[-1][1].data))


def test_policy_acts_and_the_watchdog_stops_the_arm_on_stale_input(start_node, probe, fake_arm, adapted):
    commands = probe.record(Float64MultiArray, "cmd/joint", qos.COMMAND)
    node = start_node(POLICY, policy=str(adapted["v1"]), rate_hz=20.0, stale_s=0.2)
    wait_until(lambda: len(commands) > 0, 30, "the first command")
    assert not commands_of(commands).any()  # no inputs yet: zeros
    arm = fake_arm()
    wait_until(lambda: acting(commands), 15, "a non-zero command")
    last_input = arm.stop()
    stale_at = last_input + 0.2
    wait_until(lambda: commands[-1][0] > stale_at + 0.5, 5, "commands after the inputs stop")
    first_zero = next(t for t, msg in commands if t > last_input and not any(msg.data))
    assert first_zero - stale_at <= 0.2, f"zero command {first_zero - stale_at:.3f} s late"
    assert not commands_of([c for c in commands if c[0] > first_zero]).any()
    assert node.alive()


def test_every_command_is_clamped_to_the_limits(start_node, probe, fake_arm, adapted):
    commands = probe.record(Float64MultiArray, "cmd/joint", qos.COMMAND)
    start_node(POLICY, policy=str(adapted["wild"]), rate_hz=20.0)
    arm = fake_arm()
    wait_until(lambda: acting(commands), 30, "a non-zero command")
    time.sleep(0.5)
    arm.stop()
    moving = commands_of(commands)
    moving = moving[moving.any(axis=1)]
    assert len(moving) >= 5
    np.testing.assert_array_equal(moving, np.tile([1.0, -1.0], (len(moving), 1)))


def test_estop_latches_zero_commands_until_released(start_node, probe, fake_arm, adapted):
    commands = probe.record(Float64MultiArray, "cmd/joint", qos.COMMAND)
    start_node(POLICY, policy=str(adapted["v1"]), rate_hz=20.0)
    arm = fake_arm()
    wait_until(lambda: acting(commands), 30, "a non-zero command")
    assert probe.call(SetBool, "estop", SetBool.Request(data=True)).message == "stopped"
    stopped_at = time.monotonic()
    time.sleep(0.6)
    after = commands_of([c for c in commands if c[0] > stopped_at + 0.05])
    assert len(after) >= 5 and not after.any()
    assert probe.call(SetBool, "estop", SetBool.Request(data=False)).message == "released"
    wait_until(lambda: acting(commands), 5, "commands after release")
    arm.stop()


def test_without_a_policy_or_when_disabled_the_node_leaves_the_arm_to_others(
        start_node, probe, fake_arm, adapted):
    commands = probe.record(Float64MultiArray, "cmd/joint", qos.COMMAND)
    announce = probe.node.create_publisher(String, "policy/adapted", qos.LATCHED)
    start_node(POLICY, rate_hz=20.0)
    arm = fake_arm()
    time.sleep(3.0)
    assert commands == []  # no policy: silent, so a teleoperator can drive
    announce.publish(json_msg({"path": str(adapted["v1"]), "version": 1}))
    wait_until(lambda: commands, 30, "the first command of the policy")
    assert probe.call(SetBool, "/policy/enable", SetBool.Request(data=False)).success
    disabled_at = time.monotonic()
    time.sleep(1.0)
    assert not [c for c in commands if c[0] > disabled_at + 0.1]
    arm.stop()


def test_a_new_version_is_swapped_in_without_missing_a_tick(start_node, probe, fake_arm, adapted):
    commands = probe.record(Float64MultiArray, "cmd/joint", qos.COMMAND)
    active = probe.record(String, "policy/active", qos.LATCHED)
    announce = probe.node.create_publisher(String, "policy/adapted", qos.LATCHED)
    start_node(POLICY, rate_hz=20.0)
    arm = fake_arm()
    announce.publish(json_msg({"path": str(adapted["v1"]), "version": 1}))
    wait_until(lambda: any('"version": 1' in m.data for _, m in active), 30, "version 1 active")
    wait_until(lambda: acting(commands), 10, "version 1 acting")
    swap_started = time.monotonic()
    announce.publish(json_msg({"path": str(adapted["v2"]), "version": 2}))
    wait_until(lambda: any('"version": 2' in m.data for _, m in active), 10, "version 2 active")
    time.sleep(0.5)
    arm.stop()
    times = np.array([t for t, msg in commands if t > swap_started - 0.5 and np.any(msg.data)])
    assert np.diff(times).max() < 2.5 / 20.0, "a control tick was missed during the swap"


def test_bad_messages_are_logged_and_skipped_while_the_node_keeps_running(start_node, probe, fake_arm, adapted):
    commands = probe.record(Float64MultiArray, "cmd/joint", qos.COMMAND)
    node = start_node(POLICY, policy=str(adapted["v1"]), rate_hz=20.0, stale_s=0.2)
    wait_until(lambda: len(commands) > 0, 30, "the node to run")
    bad_frame = Image(height=64, width=64, encoding="mono8", step=64, data=bytes(64 * 64))
    nan_joints = joint_state_msg(JOINTS, [np.nan, 0.0], [0.0, 0.0], Time())
    # NaN joints first: the later phases publish good joint states, which would keep
    # the joints fresh for a moment after they end
    for frame, joints in [(None, nan_joints), (bad_frame, None),
                          (image_msg(np.zeros((32, 32, 3), np.uint8), Time()), None)]:
        arm = fake_arm(frame, joints)
        time.sleep(0.6)
        arm.stop()
    assert not commands_of(commands).any()  # no usable input, so only stop commands
    arm = fake_arm()
    wait_until(lambda: acting(commands), 10, "acting on good input again")
    arm.stop()
    log = node.text()
    for reason in ("'mono8' is not supported", "is 32x32, expected 64x64", "non-finite"):
        assert reason in log
    assert node.alive()


def test_an_out_of_range_parameter_is_refused_and_the_default_used(start_node, probe, adapted):
    commands = probe.record(Float64MultiArray, "cmd/joint", qos.COMMAND)
    node = start_node(POLICY, policy=str(adapted["v1"]), rate_hz=1000.0)
    wait_until(lambda: len(commands) >= 3, 30, "the watchdog's stop commands")
    assert "parameter rate_hz" in node.text() and "using the default 10.0" in node.text()
    assert node.alive()


@pytest.fixture(scope="module")
def twist_policy(tmp_path_factory) -> Path:
    """A Sawyer twist policy (untrained network) whose output is far out of limits."""
    from meta_policy.adapt import AdaptedPolicy
    from meta_policy.config import MILConfig
    from meta_policy.policy import MILPolicy

    network = MILPolicy(MILConfig(state_dim=14, action_dim=6))
    with torch.no_grad():
        network.head[4].weight.zero_()
        network.head[4].bias.copy_(torch.tensor([5.0, -5.0, 0.05, 9.0, -9.0, 0.1]))
    return AdaptedPolicy(network, {}).save(tmp_path_factory.mktemp("twist") / "p", ["test"])


def test_a_twist_profile_sends_clamped_end_effector_twists(start_node, probe, fake_arm,
                                                            twist_policy):
    from geometry_msgs.msg import TwistStamped

    from adaptation_node.messages import twist_from_msg

    twists = probe.record(TwistStamped, "cmd/ee_twist", qos.COMMAND)
    start_node(POLICY, robot="sawyer_servo", policy=str(twist_policy), rate_hz=20.0)
    sawyer = profile("sawyer_servo").joint_names
    fake_arm(joints=joint_state_msg(sawyer, [0.1] * 7, [0.0] * 7, Time()))
    wait_until(lambda: twists and np.any(twist_from_msg(twists[-1][1])), 30, "a twist")
    values = twist_from_msg(twists[-1][1])
    np.testing.assert_allclose(values, [0.1, -0.1, 0.05, 0.3, -0.3, 0.1], atol=1e-6)
    assert twists[-1][1].header.frame_id == "base"


def test_a_policy_for_another_robot_is_refused_with_the_sizes(start_node, probe, twist_policy):
    commands = probe.record(Float64MultiArray, "cmd/joint", qos.COMMAND)
    node = start_node(POLICY, robot="reach", policy=str(twist_policy), rate_hz=20.0)
    wait_until(lambda: "not used" in node.text(), 30, "the refusal in the log")
    assert "maps a 14-d state to 6 values; robot profile reach gives a 6-d state and takes 2" \
        in node.text()
    time.sleep(0.5)
    assert commands == [] and node.alive()  # no policy in use: silent


def sawyer_daml(root: Path, action_kind: str) -> Path:
    """An adapted Sawyer DAML policy (untrained network) that always asks for the end
    effector to move at 4x the twin's top speed along +x and -y, 2 cm/s up, with the
    gripper closed (``ee_velocity_gripper``); or, as ``torque``, one without a gripper."""
    from meta_policy.daml_adapt import AdaptedDAML
    from meta_policy.daml_config import DAMLConfig
    from meta_policy.daml_policy import DAMLPolicy

    cfg = DAMLConfig.for_sawyer(action_kind=action_kind, mixture_modes=2)
    network = DAMLPolicy(cfg)
    with torch.no_grad():
        network.action_head.weight.zero_()
        if action_kind == "ee_velocity_gripper":  # logits, means, then (squashed) scales
            network.action_head.bias.copy_(torch.tensor(
                [0.0, 0.0, 4.0, -4.0, 0.08, 4.0, -4.0, 0.08] + [-50.0] * 6))
            network.gripper_head.weight.zero_()
            network.gripper_head.bias.fill_(10.0)
    return AdaptedDAML(network, {}).save(root / action_kind, ["test"])


@pytest.fixture(scope="module")
def sawyer_policies(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("sawyer")
    return {kind: sawyer_daml(root, kind) for kind in ("ee_velocity_gripper", "torque")}


def test_a_gripper_policy_sends_scaled_clamped_twists_and_keeps_the_grip_on_stop(
        start_node, probe, fake_arm, sawyer_policies):
    from geometry_msgs.msg import TwistStamped
    from std_msgs.msg import Float64

    from adaptation_node.messages import twist_from_msg

    twists = probe.record(TwistStamped, "cmd/ee_twist", qos.COMMAND)
    grips = probe.record(Float64, "cmd/gripper", qos.COMMAND)
    start_node(POLICY, robot="sawyer_gripper", rate_hz=20.0,
               policy=str(sawyer_policies["ee_velocity_gripper"]))
    sawyer = profile("sawyer_gripper")
    arm = fake_arm(joints=joint_state_msg(sawyer.joint_names, [0.1] * 7 + [0.0, 0.0],
                                          [0.0] * 9, Time()))
    wait_until(lambda: twists and np.any(twist_from_msg(twists[-1][1])) and grips, 30,
               "a twist and a gripper command")
    # 4 x 0.25 m/s clamped to the twin's 0.25 m/s; 0.08 x 0.25 = 0.02 m/s within it
    np.testing.assert_allclose(twist_from_msg(twists[-1][1]), [0.25, -0.25, 0.02, 0, 0, 0],
                               atol=1e-3)
    assert grips and all(msg.data == 1.0 for _, msg in grips)  # +1: closed

    arm.stop()
    wait_until(lambda: not np.any(twist_from_msg(twists[-1][1])), 5, "the watchdog's stop")
    time.sleep(0.3)  # commands of the last control step still on their way (other topic)
    held = len(grips)
    time.sleep(0.5)
    assert not np.any(twist_from_msg(twists[-1][1])) and len(grips) == held


def test_a_gripper_and_a_policy_must_agree(start_node, sawyer_policies):
    node = start_node(POLICY, robot="sawyer_gripper", rate_hz=20.0,
                      policy=str(sawyer_policies["torque"]))
    wait_until(lambda: "not used" in node.text(), 30, "the refusal in the log")
    assert "has a gripper on cmd/gripper and the policy does not command one" in node.text()
    assert node.alive()
