"""Robot profiles: which joints a node reads, how a policy's state is built from them,
which command it sends (joint values on ``cmd/joint``, or an end-effector twist on
``cmd/ee_twist`` for MoveIt Servo), and the box every command is clamped to.

The reach twin's policy state is joints plus fingertip position (forward kinematics), so
the same profile serves the twin and any arm whose driver publishes those joints. The
PR2 (right arm) and Sawyer profiles command joint velocities (rad/s) through a
ros2_control forward command controller; their boxes are half the joint velocity limits
of the arms' published URDFs, a conservative start for a learned policy. The
``sawyer_servo`` profile sends end-effector twists instead (linear m/s, then angular
rad/s, in ``twist_frame``), capped at 0.1 m/s and 0.3 rad/s.

The ``push`` profile is the PR2-like push twin's (``sim_twin`` with ``twin: push``): the
PR2 right-arm joints, joint torques in [-2, 2]. Its state is the push env's robot
observation state, ``[q (7), qd (7), pusher position (3), pusher quaternion (4)]``, so
demos recorded through ROS match the episodes ``oneshot datagen push`` writes. A driver's
joint states carry no pusher pose; ``push_state`` computes it by forward kinematics
through the twin's own MuJoCo model (the arm's kinematics do not depend on which objects
lie on the table).

The ``sawyer_gripper`` profile is the Sawyer twin's (DAML's placing policies, ``oneshot
datagen place``): its state, ``[7 angles, 7 velocities, fingertip centre (3), gripper
opening]``, comes from the arm's and the fingers' joint states by forward kinematics through
the twin's model (``sim.sawyer.robot_state``); a policy's three end-effector velocities in
[-1, 1] are scaled to the twin's ``MAX_SPEED`` m/s and sent as a linear twist (to MoveIt
Servo on the robot), and its gripper output goes to ``gripper_topic`` (std_msgs/Float64,
+1 closes, -1 opens).

The ``arm`` profile is GBAC's 7-DoF arm twin's (``sim_twin`` with ``twin: arm``,
``sim.arm_force``: Gymnasium's pusher arm, the PR2 right-arm joints, torques in [-2, 2]).
Its joint state is ``[q (7), qd (7)]``; the mpc node appends the carried object's and the
goal's positions, which come from an object tracker, not from the joints.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Callable

import mujoco
import numpy as np

from sim.appearance import table_textures
from sim.objects import catalogue
from sim.push import TORQUE_LIMIT
from sim.push_scene import JOINT_NAMES as PUSH_JOINTS
from sim.push_scene import PushLook, build_push_model
from sim.reach import JOINT_NAMES as REACH_JOINTS
from sim.reach import reach_state
from sim.sawyer import FINGER_JOINTS as SAWYER_FINGERS
from sim.sawyer import JOINT_NAMES as SAWYER_JOINTS
from sim.sawyer import MAX_SPEED as SAWYER_EE_SPEED
from sim.sawyer import robot_state as sawyer_state

StateFn = Callable[[np.ndarray, np.ndarray], np.ndarray]


def joint_state(q: np.ndarray, qd: np.ndarray) -> np.ndarray:
    """Positions then velocities: the state of a policy trained on raw joint states."""
    return np.concatenate([q, qd]).astype(np.float32)


@cache
def _push_arm() -> mujoco.MjModel:
    """The push twin's model, with the first two training objects (any would do), built
    once: forward kinematics of its arm."""
    first, second = catalogue("train")[:2]
    return build_push_model(PushLook(first, second, table_textures("train")[0], None))


def push_state(q: np.ndarray, qd: np.ndarray) -> np.ndarray:
    """The push env's robot ``state`` from joint positions and velocities alone (the
    pusher's pose by forward kinematics; see the module docstring). A fresh MjData per
    call keeps it safe to call from any thread."""
    model = _push_arm()
    data = mujoco.MjData(model)
    data.qpos[[model.joint(name).qposadr[0] for name in PUSH_JOINTS]] = q
    mujoco.mj_kinematics(model, data)
    pusher = model.site("pusher").id
    quaternion = np.zeros(4)
    mujoco.mju_mat2Quat(quaternion, data.site_xmat[pusher])
    return np.concatenate([q, qd, data.site_xpos[pusher], quaternion]).astype(np.float32)


@dataclass(frozen=True)
class RobotProfile:
    name: str
    joint_names: tuple[str, ...]
    command_low: tuple[float, ...]
    command_high: tuple[float, ...]
    state: StateFn
    command: str = "joint"        # "joint": cmd/joint; "twist": cmd/ee_twist
    twist_frame: str = "base"
    command_scale: float = 1.0    # command units per unit of the policy's output
    gripper_topic: str | None = None   # where a policy's gripper output goes, if anywhere

    @property
    def command_topic(self) -> str:
        return "cmd/ee_twist" if self.command == "twist" else "cmd/joint"

    def action_of(self, command: np.ndarray) -> np.ndarray:
        """The policy output a sent ``command`` stands for (the inverse of the policy
        node's scaling; a twist keeps the profile's components): a demo's action."""
        return np.asarray(command)[:len(self.command_low)] / self.command_scale


def symmetric(limits: tuple[float, ...], scale: float = 0.5) -> tuple[tuple[float, ...], tuple[float, ...]]:
    return tuple(-scale * v for v in limits), tuple(scale * v for v in limits)


PR2_JOINTS = ("r_shoulder_pan_joint", "r_shoulder_lift_joint", "r_upper_arm_roll_joint",
              "r_elbow_flex_joint", "r_forearm_roll_joint", "r_wrist_flex_joint",
              "r_wrist_roll_joint")
PR2_VELOCITY_LIMITS = (2.088, 2.082, 3.27, 3.3, 3.6, 3.078, 3.6)
SAWYER_VELOCITY_LIMITS = (1.74, 1.328, 1.957, 1.957, 3.485, 3.485, 4.545)
ARM_TORQUE_LIMIT = 2.0   # the actuators' ctrlrange in Gymnasium's pusher.xml (sim.arm_force)

PROFILES = {
    "reach": RobotProfile("reach", REACH_JOINTS, (-1.0, -1.0), (1.0, 1.0), reach_state),
    "push": RobotProfile("push", PUSH_JOINTS, *symmetric((TORQUE_LIMIT,) * 7, scale=1.0),
                         push_state),
    "arm": RobotProfile("arm", PR2_JOINTS, *symmetric((ARM_TORQUE_LIMIT,) * 7, scale=1.0),
                        joint_state),
    "pr2": RobotProfile("pr2", PR2_JOINTS, *symmetric(PR2_VELOCITY_LIMITS), joint_state),
    "sawyer": RobotProfile("sawyer", SAWYER_JOINTS, *symmetric(SAWYER_VELOCITY_LIMITS),
                           joint_state),
    "sawyer_servo": RobotProfile("sawyer_servo", SAWYER_JOINTS,
                                 *symmetric((0.1, 0.1, 0.1, 0.3, 0.3, 0.3), scale=1.0),
                                 joint_state, command="twist", twist_frame="base"),
    "sawyer_gripper": RobotProfile("sawyer_gripper", SAWYER_JOINTS + SAWYER_FINGERS,
                                   *symmetric((SAWYER_EE_SPEED,) * 3, scale=1.0), sawyer_state,
                                   command="twist", twist_frame="base",
                                   command_scale=SAWYER_EE_SPEED, gripper_topic="cmd/gripper"),
}


def profile(name: str) -> RobotProfile:
    if name not in PROFILES:
        raise ValueError(f"unknown robot profile {name!r}; known: {sorted(PROFILES)}")
    return PROFILES[name]
