"""The mpc node: GBAC on a robot arm through ROS topics (thesis Algorithm 7, L2433-L2500).

Every control tick (``rate_hz``, which should match the model's time step: 20 Hz for the
arm twin's 0.05 s) it assembles the state ``[q, qd, object position, goal position]`` from
the newest ``joint_states`` and the tracker's ``object_pose`` and ``goal_pose``
(geometry_msgs/PoseStamped), the layout of GBAC's arm twin (``sim.arm_force``). Then, as
Algorithm 7 does, it records the previous transition (the previous state, the command it
sent, this state) with ``AdaptiveController.observe``, adapts the dynamics model on the
last M transitions and plans with it (``act``), and publishes the first planned action,
clamped to the robot profile's box, on ``cmd/joint`` (std_msgs/Float64MultiArray). The
checkpoint is a ``oneshot train gbac --env arm`` one; ``method`` picks what runs: ``gbac``
(one meta-learned gradient step every tick), ``mb`` (no adaptation), ``mb_de`` (plain
gradient steps on the MB model) or ``rbac`` (the LSTM), the models a GBAC checkpoint holds.

It publishes ``mpc/latency_ms`` (std_msgs/Float64: adapt + plan, per tick),
``mpc/transitions`` (std_msgs/UInt64: transitions recorded for the current goal) and
``mpc/refused`` (std_msgs/UInt64: transitions refused since start).

Safety, as the policy node's: a watchdog (every 50 ms) publishes zero torques while any
input is older than ``stale_s`` and while the ``estop`` service (std_srvs/SetBool, true =
stop) is engaged. A non-finite state (a tracker that lost the object reports NaN) is for
the controller to judge: ``observe`` refuses the transition and the model adapts on the
good ones before it; the node logs the refusal, holds the arm for that tick and carries
on. Every state the planner sees has first passed ``observe`` as a transition's end, so
the first tick after a start, a stop or a refusal holds the arm (zero torque) and records
that as its action. A goal that moves more than ``NEW_GOAL_M`` starts a new task: the
controller forgets the old transitions (Algorithm 7 runs per task), as does a restart of
the twin's episode, which lays out a new goal.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from geometry_msgs.msg import PoseStamped
from rclpy.node import Node
from sensor_msgs.msg import JointState
from std_msgs.msg import Float64, Float64MultiArray, UInt64

from adaptation_node import qos
from adaptation_node.estop import EStop
from adaptation_node.messages import (
    Joints,
    MessageError,
    command_msg,
    joints_from_msg,
    position_from_msg,
)
from adaptation_node.params import declare
from adaptation_node.robots import RobotProfile, profile
from adaptation_node.runner import run_nodes
from adaptation_node.safety import CommandLimits, Watchdog
from adaptive_control.checkpoint import load_method
from adaptive_control.controller import AdaptiveController
from adaptive_control.meta_train import controller_for
from adaptive_control.mpc import MPCConfig, make_planner
from adaptive_control.predictors import METHODS
from adaptive_control.twins import make_twin
from metalearn.checkpoint import CheckpointError

WATCHDOG_PERIOD_S = 0.05
INPUTS = ("joint_states", "object_pose", "goal_pose")
NEW_GOAL_M = 0.01   # a goal that moves further than this is a new task


class Planning(NamedTuple):
    """What the node plans with: ``candidates`` x ``horizon`` (0: the checkpoint's)."""

    method: str
    candidates: int
    horizon: int
    seed: int


class Step(NamedTuple):
    """A state and the command sent in it: the first half of the next transition."""

    state: np.ndarray
    command: np.ndarray


def load_controller(checkpoint: Path, planning: Planning, robot: RobotProfile,
                    limits: CommandLimits) -> AdaptiveController:
    """The adaptive controller of ``planning.method`` on the checkpoint's model, planning in
    the command box with the twin's reward; CheckpointError if the checkpoint lacks that
    model or was trained for another state layout than the arm's (see the module docstring)."""
    if planning.method not in METHODS:
        raise CheckpointError(f"method {planning.method!r} is not one of {list(METHODS)}")
    try:
        model, cfg = load_method(checkpoint, planning.method)
    except OSError as error:
        raise CheckpointError(f"{checkpoint}: {error}") from None
    twin = make_twin(cfg.env)
    zero = np.zeros(len(robot.joint_names))
    state_dim = len(robot.state(zero, zero)) + 6    # + object and goal positions
    action_dim = len(limits.low)
    if cfg.env != "arm" or twin.observation_space.shape != (state_dim,) \
            or twin.action_space.shape != (action_dim,):
        raise CheckpointError(f"{checkpoint} models the {cfg.env} twin; the mpc node drives "
                              f"the arm twin's {state_dim}-d state with {action_dim} torques")
    mpc = MPCConfig(optimiser=cfg.optimiser, candidates=planning.candidates or cfg.candidates,
                    horizon=planning.horizon or cfg.horizon)
    low, high = (torch.as_tensor(b, dtype=torch.float32) for b in (limits.low, limits.high))
    return controller_for(model, planning.method, cfg, make_planner(mpc, low, high), twin,
                          seed=planning.seed)


class MPCNode(Node):
    """Adapt, plan, command, every tick (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__("mpc")
        self.robot = profile(declare(self, "robot", "arm", "robot profile (joints, torque box)"))
        checkpoint = declare(self, "checkpoint", "checkpoints/gbac-arm",
                             "GBAC checkpoint of the arm twin (oneshot train gbac --env arm)")
        planning = Planning(
            declare(self, "method", "gbac", f"what adapts the model, one of {list(METHODS)}"),
            declare(self, "candidates", 0, "MPC candidate sequences (0: the checkpoint's)",
                    0, 100_000),
            declare(self, "horizon", 0, "MPC horizon in steps (0: the checkpoint's)", 0, 100),
            declare(self, "seed", 0, "seed of the planner's sampling", 0, 2 ** 31 - 1))
        rate_hz = declare(self, "rate_hz", 20.0, "control ticks a second (match the model's "
                          "time step: 20 Hz for the arm twin)", 1.0, 200.0)
        stale_s = declare(self, "stale_s", 0.2, "inputs older than this stop the arm", 0.01, 5.0)
        self.limits = CommandLimits(self.robot.command_low, self.robot.command_high)
        try:
            self.controller = load_controller(Path(checkpoint), planning, self.robot, self.limits)
        except CheckpointError as error:
            self.get_logger().fatal(f"nothing to plan with: {error}")
            raise SystemExit(1) from None
        self.watchdog = Watchdog(INPUTS, stale_s)
        self.joints: Joints | None = None
        self.positions: dict[str, np.ndarray] = {}
        self.goal = np.full(3, np.inf)   # the current task's goal
        self.previous: Step | None = None
        self.refused = 0
        self.command_pub = self.create_publisher(Float64MultiArray, "cmd/joint", qos.COMMAND)
        self.latency_pub = self.create_publisher(Float64, "mpc/latency_ms", qos.STATE)
        self.transitions_pub = self.create_publisher(UInt64, "mpc/transitions", qos.STATE)
        self.refused_pub = self.create_publisher(UInt64, "mpc/refused", qos.STATE)
        self.create_subscription(JointState, "joint_states", self.on_joints, qos.STATE)
        for topic in ("object_pose", "goal_pose"):
            self.create_subscription(PoseStamped, topic, self._position_of(topic), qos.STATE)
        self.estop = EStop(self, lambda: self.publish(self.limits.zero))
        self.create_timer(1.0 / rate_hz, self.control_step)
        self.create_timer(WATCHDOG_PERIOD_S, self.guard)
        self.get_logger().info(
            f"{planning.method} on {checkpoint}: {self.controller.planner.cfg.candidates} "
            f"candidates x {self.controller.planner.cfg.horizon} steps at {rate_hz} Hz")

    # -- inputs -------------------------------------------------------------------------

    def on_joints(self, msg: JointState) -> None:
        try:
            self.joints = joints_from_msg(msg, self.robot.joint_names)
        except MessageError as error:
            self.get_logger().error(f"joint_states skipped: {error}", throttle_duration_sec=1.0)
            return
        self.watchdog.feed("joint_states")

    def _position_of(self, topic: str):
        def callback(msg: PoseStamped) -> None:
            self.positions[topic] = position_from_msg(msg)
            self.watchdog.feed(topic)
        return callback

    # -- control --------------------------------------------------------------------------

    def must_stop(self) -> bool:
        return self.estop.engaged or bool(self.watchdog.stale())

    def state(self) -> np.ndarray:
        """``[q, qd, object, goal]`` from the newest inputs."""
        joints = self.joints
        return np.concatenate([self.robot.state(joints.position, joints.velocity),
                               self.positions["object_pose"],
                               self.positions["goal_pose"]]).astype(np.float32)

    def control_step(self) -> None:
        """Observe the last transition, adapt and plan, command (Algorithm 7)."""
        if self.must_stop():
            self.previous = None    # the guard holds the arm; no transition spans the stop
            return
        state = self.state()
        if np.linalg.norm(state[-3:] - self.goal) > NEW_GOAL_M:
            self.start_task(state[-3:])
        if self.previous is None:
            self.send(state, self.limits.zero)   # hold: this state is not yet accepted
        elif not self.controller.observe(*self.previous, state):
            self.refused += 1
            self.get_logger().error(
                f"transition refused, a state is not finite ({self.previous.state.tolist()} -> "
                f"{state.tolist()}); the model keeps adapting on the transitions before it")
            self.publish(self.limits.zero)
            self.previous = None
        else:
            started = time.perf_counter()
            command = self.limits.clamp(self.controller.act(state))
            self.latency_pub.publish(Float64(data=(time.perf_counter() - started) * 1e3))
            self.send(state, command)
        self.transitions_pub.publish(UInt64(data=len(self.controller.buffer)))
        self.refused_pub.publish(UInt64(data=self.refused))

    def start_task(self, goal: np.ndarray) -> None:
        self.get_logger().info(f"new goal {np.round(goal, 3).tolist()}: adapting afresh")
        self.goal = goal
        self.controller.reset()
        self.previous = None

    def send(self, state: np.ndarray, command: np.ndarray) -> None:
        """Command the arm in ``state``: the first half of the next transition."""
        self.publish(command)
        self.previous = Step(state, command)

    def guard(self) -> None:
        """The watchdog: while the arm must not act, keep sending the stop command."""
        if self.must_stop():
            self.publish(self.limits.zero)

    def publish(self, command: np.ndarray) -> None:
        self.command_pub.publish(command_msg(command))


def main(args: list[str] | None = None) -> int:
    return run_nodes([MPCNode], args)


if __name__ == "__main__":
    raise SystemExit(main())
