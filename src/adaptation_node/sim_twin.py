"""A MuJoCo twin behind the topics a real arm driver exposes.

The ``twin`` parameter picks it (``adaptation_node.twins``): ``reach`` (the default, 2
joints), ``push`` (the PR2-like push twin, the 7 PR2 right-arm joints), ``arm`` (GBAC's
arm under a force, which also publishes the tracked object's and goal's poses) or
``arrange`` (FLO's pair of objects and pusher rod, which also publishes the objects'
poses); an unknown name is logged and the reach twin served. The node subscribes to
``cmd/joint`` (joint torques, std_msgs/Float64MultiArray, clamped to the twin's box; the
arrangement twin takes rod velocities on ``cmd/ee_twist``, geometry_msgs/TwistStamped,
instead) and, at ``rate_hz`` wall-clock steps per second, applies the latest command for
one control step of the twin (0.02 s of simulated time for reach, 0.05 s for push and
arm, 0.1 s for arrange), then publishes
``joint_states``, ``image_raw``, ``camera_info`` and ``/clock``. So the recorder, the
policy and the watchdog see exactly what they would see on a robot. Like a driver, it
also holds the arm (zero torque) when commands go stale.

Episodes: ``sim/reset`` (std_srvs/Trigger) lays out a new scene; after ``episode_steps``
steps the twin reports ``sim/episode`` (JSON: success, the target's final distance, the
task: the colour for reach; the objects and the goal for push; and how well the
controller kept up: ``late_steps``, steps that applied a command received before the frame
they follow went out, so it cannot have answered that frame, and ``held_steps``, steps
with no command for ``command_timeout_s``) and holds still until the next reset.
``sim/demonstrate`` resets and lets a scripted demonstrator (the twin's expert, noise-free
by default) act for one episode (a twin without one, the arm, refuses); the
``demonstrator`` parameter says who:

- ``robot`` (the default): a teleoperator drives the arm, publishing its commands on
  ``cmd/joint`` as a person with a joystick would: this is how robot demos are recorded.
- ``human`` (push twin only; the reach twin refuses it and serves ``robot``): a person's
  hand pushes the target in a human-demonstrator env of the same task and split, and
  ``image_raw`` shows the camera facing the person (frame ``human_view``) from that reset
  until the next one. The arm is parked at its ready pose meanwhile and ``joint_states``
  keep reporting it standing still, as a real robot's driver would; nothing goes out on
  ``cmd/joint`` (a person sends no robot commands). Trials (``sim/reset``) run in the
  robot's env as with a robot demonstrator. Like a person filming, the demonstration ends
  a few steps (HUMAN_LINGER) after the target reaches the goal, as in the human demos of
  ``oneshot datagen push``. This is how DAML's one-shot loop sees a person's video in sim.
"""
from __future__ import annotations

import queue
import threading
import time

import gymnasium as gym
import numpy as np
from geometry_msgs.msg import PoseStamped, TwistStamped
from rclpy.node import Node
from rclpy.time import Time as RosTime
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import CameraInfo, Image, JointState
from std_msgs.msg import Float64MultiArray, String
from std_srvs.srv import Trigger

from adaptation_node import qos
from adaptation_node.messages import (
    MessageError,
    camera_info_msg,
    command_from_msg,
    command_msg,
    image_msg,
    joint_state_msg,
    json_msg,
    pose_msg,
    twist_from_msg,
)
from adaptation_node.params import declare
from adaptation_node.runner import RCLError, run_nodes
from adaptation_node.twins import TRACKER_FRAME, TWINS, Camera, Teleoperator, Twin
from sim.colours import SPLITS
from sim.manipulation_datagen import HUMAN_LINGER

REQUEST_TIMEOUT_S = 5.0


class SimTwinNode(Node):
    """A MuJoCo twin as a ROS 2 node (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__("sim_twin")
        self.rate_hz = declare(self, "rate_hz", 20.0, "twin control steps per wall second", 1.0, 500.0)
        width = declare(self, "image_width", 64, "camera image width (px)", 8, 1280)
        height = declare(self, "image_height", 64, "camera image height (px)", 8, 960)
        twin = declare(self, "twin", "reach", f"which twin, one of {sorted(TWINS)}")
        split = declare(self, "split", "heldout", f"split of the tasks, one of {SPLITS}")
        self.seed = declare(self, "seed", 0, "seed of the first reset", 0, 2 ** 31 - 1)
        self.command_timeout_s = declare(
            self, "command_timeout_s", 0.2, "hold the arm when commands are older", 0.01, 5.0)
        self.teleop_noise = declare(
            self, "teleop_noise", 0.0, "std of the scripted demonstrator's action noise "
            "(joint torques for the arm, m/s for a person's hand)", 0.0, 1.0)
        demonstrator = declare(self, "demonstrator", "robot",
                               "who acts on sim/demonstrate: robot (a teleoperator on the arm) "
                               "or human (a person's hand, in the twin's human domain; push only)")
        if twin not in TWINS:
            self.get_logger().error(f"twin {twin!r} is not one of {sorted(TWINS)}; using 'reach'")
            twin = "reach"
        if split not in SPLITS:
            self.get_logger().error(f"split {split!r} is not one of {SPLITS}; using 'heldout'")
            split = "heldout"
        self.twin: Twin = TWINS[twin](self, split, self.seed, (width, height))
        self.demonstrator = self._demonstrator(demonstrator, twin)
        self.episode_steps = declare(
            self, "episode_steps", self.twin.episode_steps,
            "steps before an episode ends (default: the twin's episode)", 1, 100000)
        self.lock = threading.Lock()
        self.command = np.zeros(self.twin.command_size)
        self.command_time = -np.inf
        self.teleop: Teleoperator | None = None
        self.linger: int | None = None  # steps a demonstrating person films after success
        self.acting = "robot"     # whose env the current (or last) episode runs in
        self.episode = 0
        self.sim_time = 0.0
        self.shown_at = -np.inf   # when the latest frame went out (time.monotonic)
        self.timing = {"late_steps": 0, "held_steps": 0}  # of the current episode
        self.running = False
        self.fresh = False
        self.requests: queue.Queue[tuple[str, queue.Queue]] = queue.Queue()
        self.stopping = threading.Event()
        self.image_pub = self.create_publisher(Image, "image_raw", qos.IMAGES)
        self.info_pub = self.create_publisher(CameraInfo, "camera_info", qos.SENSOR)
        self.joint_pub = self.create_publisher(JointState, "joint_states", qos.STATE)
        self.clock_pub = self.create_publisher(Clock, "/clock", qos.STATE)
        self.tracked_pubs = {topic: self.create_publisher(PoseStamped, topic, qos.STATE)
                             for topic in self.twin.tracked_topics}
        self.command_pub = self.create_publisher(Float64MultiArray, "cmd/joint", qos.COMMAND)
        self.episode_pub = self.create_publisher(String, "sim/episode", qos.LATCHED)
        if self.twin.twist_axes:
            self.create_subscription(TwistStamped, "cmd/ee_twist", self.on_twist, qos.COMMAND)
        else:
            self.create_subscription(Float64MultiArray, "cmd/joint", self.on_command,
                                     qos.COMMAND)
        self.create_service(Trigger, "sim/reset", self.on_reset)
        self.create_service(Trigger, "sim/demonstrate", self.on_demonstrate)
        self.loop = threading.Thread(target=self.run_loop, name="sim_twin", daemon=True)
        self.loop.start()

    def _demonstrator(self, name: str, twin: str) -> str:
        """The ``demonstrator`` parameter if this twin offers it, else ``robot``."""
        if name not in self.twin.demonstrators:
            if not self.twin.demonstrators:  # nobody demonstrates: only the robot's env runs
                return "robot"
            self.get_logger().error(f"demonstrator {name!r}: the {twin} twin offers "
                                    f"{self.twin.demonstrators}; using 'robot'")
            return "robot"
        return name

    @property
    def stage(self) -> gym.Env:
        """The env of the current (or last) episode."""
        return self.envs[self.acting]

    # -- inputs -------------------------------------------------------------------------

    def on_command(self, msg: Float64MultiArray) -> None:
        try:
            self.accept(command_from_msg(msg, len(self.twin.joint_names)))
        except MessageError as error:
            self.get_logger().error(f"cmd/joint skipped: {error}")

    def on_twist(self, msg: TwistStamped) -> None:
        try:
            self.accept(twist_from_msg(msg)[:self.twin.twist_axes])
        except MessageError as error:
            self.get_logger().error(f"cmd/ee_twist skipped: {error}")

    def accept(self, command: np.ndarray) -> None:
        """Act on ``command`` (clamped to the twin's box) from the next step on."""
        with self.lock:
            if self.teleop is None:  # the teleoperator has the arm during a demonstration
                limit = self.twin.command_limit
                self.command = np.clip(command, -limit, limit)
                self.command_time = time.monotonic()

    def on_reset(self, _request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        return self._request("reset", response)

    def on_demonstrate(self, _request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        if not self.twin.demonstrators:
            response.success, response.message = False, "this twin has no scripted demonstrator"
            return response
        return self._request("demonstrate", response)

    def _request(self, kind: str, response: Trigger.Response) -> Trigger.Response:
        """Hand a reset to the simulation thread (MuJoCo's GL context lives there)."""
        reply: queue.Queue = queue.Queue()
        self.requests.put((kind, reply))
        try:
            response.message = reply.get(timeout=REQUEST_TIMEOUT_S)
            response.success = True
        except queue.Empty:
            response.success, response.message = False, f"the twin did not {kind} in time"
        return response

    def _serve(self, kind: str) -> str:
        with self.lock:
            acting = self.demonstrator if kind == "demonstrate" else "robot"
            self._start_episode(acting)
            self.teleop = (self.twin.teleoperator(acting, self.teleop_noise,
                                                  self.seed + self.episode)
                           if kind == "demonstrate" else None)
            self.linger = self._linger(acting)
        return self._episode_text()

    def _linger(self, acting: str) -> int | None:
        """How many steps a demonstrating person keeps filming after success (None: the
        episode runs its full length)."""
        if acting != "human":
            return None
        return int(np.random.default_rng(self.seed + self.episode).integers(*HUMAN_LINGER))

    def _start_episode(self, acting: str) -> None:
        """Lay out a new scene in ``acting``'s env; a person's scene parks the arm."""
        self.episode += 1
        self.acting = acting
        if acting != "robot":  # at its ready pose, still, out of the person's way
            self.observations["robot"], _ = self.envs["robot"].reset(
                options=self.twin.reset_options())
        self.observations[acting], _ = self.stage.reset(options=self.twin.reset_options())
        self.command = np.zeros(self.stage.action_space.shape)
        self.command_time = -np.inf
        self.timing = dict.fromkeys(self.timing, 0)
        self.running = True
        self.fresh = True  # the next tick shows the new scene before the first step

    def _episode_text(self) -> str:
        return f"episode {self.episode}: {self.twin.describe(self.stage)}"

    # -- the control step -----------------------------------------------------------------

    def run_loop(self) -> None:
        """The simulation thread: every period it serves resets, steps the twin once with
        the current command (while an episode runs) and publishes what the camera sees and
        the arm's joints; half a period later the scripted demonstrator, if demonstrating,
        answers that frame."""
        actors = dict.fromkeys(("robot", self.demonstrator))  # one env each, the robot's first
        self.envs = {who: self.twin.make_env(who) for who in actors}
        self.observations = {who: env.reset(seed=self.seed, options=self.twin.reset_options())[0]
                             for who, env in self.envs.items()}
        period, next_tick = 1.0 / self.rate_hz, time.monotonic()
        try:
            while not self.stopping.is_set() and self.context.ok():
                while not self.requests.empty():
                    kind, reply = self.requests.get_nowait()
                    reply.put(self._serve(kind))
                try:
                    self.tick()
                    self.stopping.wait(next_tick + period / 2 - time.monotonic())
                    self.teleoperate()
                except RCLError:
                    if self.context.ok():
                        raise
                    break  # shut down between the check and the publish
                next_tick = max(next_tick + period, time.monotonic())
                self.stopping.wait(next_tick - time.monotonic())
        finally:
            for env in self.envs.values():
                env.close()

    def teleoperate(self) -> None:
        """The scripted demonstrator's action for the current frame; a teleoperator's
        goes out on ``cmd/joint`` like a joystick's, a person's hand just moves."""
        with self.lock:
            if self.teleop is None or not self.running:
                return
            self.command = command = self.teleop.act(self.stage)
            self.command_time = time.monotonic()
            joystick = self.acting == "robot"
        if joystick:
            self.command_pub.publish(command_msg(command))  # never publish holding the lock

    def tick(self) -> None:
        ended = None
        with self.lock:
            if self.running and not self.fresh:
                ended = self._step()
            self.fresh = False
            view, arm = self.observations[self.acting], self.observations["robot"]
            camera = self.twin.cameras[self.acting]
            self.shown_at = time.monotonic()
        self._publish(view["image"], camera, arm["state"])  # publishing holds no lock
        if ended is not None:
            self.episode_pub.publish(json_msg(ended))
            self.get_logger().info(f"episode {ended['episode']} ended: success={ended['success']}")

    def _step(self) -> dict | None:
        """Step once; the episode's result if this step ended it."""
        if time.monotonic() - self.command_time <= self.command_timeout_s:
            command = self.command
            self.timing["late_steps"] += self.command_time < self.shown_at
        else:
            command = np.zeros_like(self.command)  # held still: zero torque, or a hand at rest
            self.timing["held_steps"] += 1
        self.observations[self.acting], _, _, _, info = self.stage.step(command)
        self.sim_time += self.stage.dt
        if self.linger is not None and info["success_so_far"]:
            self.linger -= 1  # a person stops filming soon after the goal is reached
        done = self.stage.steps >= self.episode_steps or self.linger == 0
        return self._finish_episode(info) if done else None

    def _finish_episode(self, info: dict) -> dict:
        self.running = False
        demonstrated, self.teleop = self.teleop is not None, None
        return {"episode": self.episode, "success": self.stage.is_success(),
                "final_distance": info["distance"], "demonstration": demonstrated,
                **self.timing, **self.twin.report(self.stage)}

    def _publish(self, image: np.ndarray, camera: Camera, arm_state: np.ndarray) -> None:
        """The camera's ``image``, the arm's joints and the tracked positions from its
        observed ``arm_state``."""
        stamp = self.get_clock().now().to_msg()
        twin = self.twin
        self.clock_pub.publish(Clock(clock=RosTime(nanoseconds=int(self.sim_time * 1e9)).to_msg()))
        for topic, pose in twin.tracked(arm_state).items():
            yaw = float(pose[3]) if len(pose) > 3 else 0.0
            self.tracked_pubs[topic].publish(pose_msg(pose[:3], stamp, TRACKER_FRAME, yaw))
        self.joint_pub.publish(joint_state_msg(twin.joint_names, *twin.joints(arm_state), stamp))
        self.image_pub.publish(image_msg(image, stamp, camera.frame_id))
        self.info_pub.publish(camera_info_msg(image.shape[1], image.shape[0],
                                              camera.fovy_deg, stamp, camera.frame_id))

    def destroy_node(self) -> None:
        self.stopping.set()
        self.loop.join(timeout=5.0)
        super().destroy_node()


def main(args: list[str] | None = None) -> int:
    return run_nodes([SimTwinNode], args)


if __name__ == "__main__":
    raise SystemExit(main())
