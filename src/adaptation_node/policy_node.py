"""The policy node: runs the adapted policy on the latest image and joints, at a set rate.

A new ``image_raw`` frame triggers a control step (at most ``rate_hz`` a second, so a
30 Hz camera drives a 10 Hz controller on every third frame): the frame and the newest
``joint_states`` go through the adapted policy and the clamped command goes out at once
(joint values on ``cmd/joint``, or a TwistStamped on ``cmd/ee_twist`` for a twist
profile), so a command is never older than its frame by more than the network's forward
pass. A policy with a gripper output (DAML's ``ee_velocity_gripper`` policies, thesis
L3533-L3537) also sends it, +1 closes and -1 opens, on the profile's gripper topic
(std_msgs/Float64); stopping the arm leaves the gripper as it is, so a held object is not
dropped. A policy built for another state or command size than the robot profile's is
refused with the sizes in the log. It never acts on stale input: a watchdog timer (every 50 ms)
publishes zeros while the image or the joint states are older than ``stale_s``, and
while the ``estop`` service (std_srvs/SetBool, true = stop) is engaged. Without a policy,
or while ``~/enable`` (SetBool) is false, the node sends nothing, so a teleoperator can
drive the arm for a demonstration. A new adapted policy announced on ``policy/adapted``
is loaded in a thread of its own, so control goes on while it loads, and is swapped in
between two control steps (thesis ch. 7: adapt on the demo, then act in closed loop).

An adapted policy is a MIL one (kind ``mil-adapted``) or a DAML one (``daml-adapted``,
adapted on a human video; for the push twin it maps a frame and the 21-d push state to
the 7 joint torques); the kind in its config.json picks the loader, and clamping, the
watchdog and the estop treat both alike. A new version must be the same kind of network
as the active one (as it must have the same configuration): the image size and the
meaning of its outputs cannot change between two control steps. To change methods,
restart the node.
"""
from __future__ import annotations

import threading
import time

import numpy as np
from geometry_msgs.msg import TwistStamped
from rclpy.node import Node
from sensor_msgs.msg import Image, JointState
from std_msgs.msg import Float64, Float64MultiArray, String
from std_srvs.srv import SetBool

from adaptation_node import qos
from adaptation_node.estop import EStop
from adaptation_node.messages import (
    MessageError,
    command_msg,
    frame_from_msg,
    joints_from_msg,
    json_from_msg,
    json_msg,
    stamp_ns,
    twist_msg,
)
from adaptation_node.params import declare
from adaptation_node.robots import profile
from adaptation_node.runner import run_nodes
from adaptation_node.safety import CommandLimits, Watchdog
from meta_policy.adapt import AdaptedPolicy
from meta_policy.daml_adapt import AdaptedDAML
from metalearn.checkpoint import CheckpointError, load_kind

WATCHDOG_PERIOD_S = 0.05
GRIPPER_ACTIONS = "ee_velocity_gripper"   # DAMLConfig.action_kind of policies with a gripper
INPUTS = ("image_raw", "joint_states")

Adapted = AdaptedPolicy | AdaptedDAML
# An adapted policy's kind (config.json) -> its class; every kind the node runs is here.
ADAPTED_KINDS: dict[str, type[AdaptedPolicy] | type[AdaptedDAML]] = {
    "mil-adapted": AdaptedPolicy, "daml-adapted": AdaptedDAML}


def has_gripper(policy: Adapted) -> bool:
    """Whether ``policy``'s last output is a gripper command."""
    return getattr(policy.cfg, "action_kind", None) == GRIPPER_ACTIONS


def load_adapted(path: str, active: Adapted | None) -> Adapted:
    """The adapted policy at ``path``, loaded by its kind; with an ``active`` policy, one
    of another kind or configuration is refused (CheckpointError: see the module docstring)."""
    _, config, _ = load_kind(path, *ADAPTED_KINDS)
    kind = config["kind"]
    policy_class = ADAPTED_KINDS[kind]
    if active is not None and not isinstance(active, policy_class):
        active_kind = next(k for k, c in ADAPTED_KINDS.items() if isinstance(active, c))
        raise CheckpointError(f"{path} is a {kind} policy and the active one a {active_kind} "
                              f"policy; restart the policy node to change methods")
    return policy_class.load(path, active.cfg if active is not None else None)


class PolicyNode(Node):
    """Closed-loop control with the adapted policy (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__("policy")
        self.robot = profile(declare(self, "robot", "reach", "robot profile (joints, limits)"))
        rate_hz = declare(self, "rate_hz", 10.0, "most control steps a second", 1.0, 200.0)
        stale_s = declare(self, "stale_s", 0.2, "inputs older than this stop the arm", 0.01, 5.0)
        initial = declare(self, "policy", "", "adapted policy to start with; empty: wait")
        self.limits = CommandLimits(self.robot.command_low, self.robot.command_high)
        self.watchdog = Watchdog(INPUTS, stale_s)
        self.lock = threading.Lock()
        self.frame: np.ndarray | None = None
        self.frame_stamp_ns = 0  # when the camera took it (header stamp, ROS time)
        self.joints = None
        self.policy: Adapted | None = None
        self.enabled = True
        self.min_interval_ns = int(0.9e9 / rate_hz)  # some slack for camera jitter
        self.last_step_ns = 0
        command_type = TwistStamped if self.robot.command == "twist" else Float64MultiArray
        self.command_pub = self.create_publisher(command_type, self.robot.command_topic,
                                                 qos.COMMAND)
        if self.robot.gripper_topic:
            self.gripper_pub = self.create_publisher(Float64, self.robot.gripper_topic,
                                                     qos.COMMAND)
        self.latency_pub = self.create_publisher(Float64, "policy/latency_ms", qos.STATE)
        self.active_pub = self.create_publisher(String, "policy/active", qos.LATCHED)
        self.create_subscription(Image, "image_raw", self.on_image, qos.SENSOR)
        self.create_subscription(JointState, "joint_states", self.on_joints, qos.STATE)
        self.create_subscription(String, "policy/adapted", self.on_adapted, qos.LATCHED)
        self.estop = EStop(self, lambda: self.publish(self.limits.zero))
        self.create_service(SetBool, "~/enable", self.on_enable)
        self.create_timer(WATCHDOG_PERIOD_S, self.guard)
        if initial:
            self.swap_in(initial, version=0)

    # -- inputs -------------------------------------------------------------------------

    def on_image(self, msg: Image) -> None:
        policy = self.policy
        try:
            frame = frame_from_msg(msg, policy.cfg.image_size if policy else None)
        except MessageError as error:
            self.get_logger().error(f"image_raw skipped: {error}", throttle_duration_sec=1.0)
            return
        with self.lock:
            self.frame, self.frame_stamp_ns = frame, stamp_ns(msg)
        self.watchdog.feed("image_raw")
        now_ns = time.monotonic_ns()
        if now_ns - self.last_step_ns >= self.min_interval_ns:
            self.last_step_ns = now_ns
            self.control_step()

    def on_joints(self, msg: JointState) -> None:
        try:
            joints = joints_from_msg(msg, self.robot.joint_names)
        except MessageError as error:
            self.get_logger().error(f"joint_states skipped: {error}", throttle_duration_sec=1.0)
            return
        with self.lock:
            self.joints = joints
        self.watchdog.feed("joint_states")

    def on_adapted(self, msg: String) -> None:
        try:
            announced = json_from_msg(msg, ("path", "version"))
        except MessageError as error:
            self.get_logger().error(f"policy/adapted skipped: {error}")
            return
        current = self.policy.version if self.policy else -1
        if int(announced["version"]) <= current:
            self.get_logger().warn(f"policy/adapted version {announced['version']} is not "
                                   f"newer than the active {current}; ignored")
            return
        threading.Thread(target=self.swap_in, args=(announced["path"], int(announced["version"])),
                         daemon=True).start()

    def swap_in(self, path: str, version: int) -> None:
        """Load an adapted policy and make it the active one (one reference assignment)."""
        try:
            loaded = load_adapted(path, self.policy)
        except (CheckpointError, OSError) as error:
            self.get_logger().error(f"adapted policy {path} not loaded: {error}")
            return
        problem = self.mismatch(loaded) or self.gripper_mismatch(loaded)
        if problem:
            self.get_logger().error(f"adapted policy {path} not used: {problem}")
            return
        loaded.version = version
        with self.lock:  # two loads in flight: the newer version wins whichever ends last
            if self.policy is not None and self.policy.version >= version:
                return
            self.policy = loaded
        self.active_pub.publish(json_msg({"path": str(path), "version": version}))
        self.get_logger().info(f"policy version {version} active: {path}")

    def mismatch(self, policy: Adapted) -> str | None:
        """Why ``policy`` cannot drive this robot profile, if it cannot."""
        joints = np.zeros(len(self.robot.joint_names))
        state_dim = len(self.robot.state(joints, joints))
        commands = len(self.limits.low)
        if policy.cfg.state_dim != state_dim or policy.cfg.action_dim != commands:
            return (f"it maps a {policy.cfg.state_dim}-d state to {policy.cfg.action_dim} "
                    f"values; robot profile {self.robot.name} gives a {state_dim}-d state "
                    f"and takes {commands}")
        return None

    def gripper_mismatch(self, policy: Adapted) -> str | None:
        """Why ``policy``'s gripper output and this robot profile's gripper disagree, if they do."""
        if has_gripper(policy) == bool(self.robot.gripper_topic):
            return None
        if has_gripper(policy):
            return f"it commands a gripper and robot profile {self.robot.name} has none"
        return (f"robot profile {self.robot.name} has a gripper on "
                f"{self.robot.gripper_topic} and the policy does not command one")

    def on_enable(self, request: SetBool.Request, response: SetBool.Response) -> SetBool.Response:
        self.enabled = bool(request.data)
        response.success = True
        response.message = "enabled" if self.enabled else "disabled: sending no commands"
        self.get_logger().info(response.message)
        return response

    # -- control --------------------------------------------------------------------------

    def must_stop(self) -> bool:
        """Whether to send the stop command rather than act (or stay silent)."""
        return self.estop.engaged or (not self.silent() and bool(self.watchdog.stale()))

    def silent(self) -> bool:
        """No policy to run, or disabled: leave the command topic to others."""
        return self.policy is None or not self.enabled

    def control_step(self) -> None:
        """Act on the newest inputs, or stop if anything is missing."""
        policy = self.policy
        if self.must_stop():
            self.publish(self.limits.zero)
            return
        if policy is None or self.silent():
            return
        with self.lock:
            frame, taken_ns, joints = self.frame, self.frame_stamp_ns, self.joints
        state = self.robot.state(joints.position, joints.velocity)
        action = policy.act(frame, state)
        gripper = has_gripper(policy)
        motion = action[:-1] if gripper else action
        self.publish(self.limits.clamp(motion * self.robot.command_scale))
        if gripper:
            grip = float(np.clip(np.nan_to_num(action[-1]), -1.0, 1.0))
            self.gripper_pub.publish(Float64(data=grip))
        age_ms = (self.get_clock().now().nanoseconds - taken_ns) / 1e6
        self.latency_pub.publish(Float64(data=age_ms))  # camera frame -> command

    def guard(self) -> None:
        """The watchdog: while the arm must not act, keep sending the stop command."""
        if self.must_stop():
            self.publish(self.limits.zero)

    def publish(self, command: np.ndarray) -> None:
        if self.robot.command == "twist":
            stamp = self.get_clock().now().to_msg()
            self.command_pub.publish(twist_msg(command, stamp, self.robot.twist_frame))
        else:
            self.command_pub.publish(command_msg(command))


def main(args: list[str] | None = None) -> int:
    return run_nodes([PolicyNode], args)


if __name__ == "__main__":
    raise SystemExit(main())
