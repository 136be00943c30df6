"""A MuJoCo twin behind the topics a real arm driver exposes.

The ``twin`` parameter picks it (``adaptation_node.twins``): ``reach`` (the default, 2
joints) or ``push`` (the PR2-like push twin, the 7 PR2 right-arm joints); an unknown name
is logged and the reach twin served. The node subscribes to ``cmd/joint`` (joint
torques, std_msgs/Float64MultiArray, clamped to the twin's box) and, at ``rate_hz``
wall-clock steps per second, applies the latest command for one control step of the
twin (0.02 s of simulated time for reach, 0.05 s for push), then publishes
``joint_states``, ``image_raw``, ``camera_info`` and ``/clock``. So the recorder, the
policy and the watchdog see exactly what they would see on a robot. Like a driver, it
also holds the arm (zero torque) when commands go stale.

Episodes: ``sim/reset`` (std_srvs/Trigger) lays out a new scene; after ``episode_steps``
steps the twin reports ``sim/episode`` (JSON: success, the target's final distance, and
the task: the colour for reach; the objects and the goal for push) and holds still until
the next reset. ``sim/demonstrate`` resets and lets a scripted teleoperator (the twin's
expert, noise-free by default) drive one episode, publishing its commands on
``cmd/joint`` as a person with a joystick would: this is how demos are recorded in sim.
"""
from __future__ import annotations

import queue
import threading
import time

import numpy as np
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
)
from adaptation_node.params import declare
from adaptation_node.runner import RCLError, run_nodes
from adaptation_node.twins import TWINS, Teleoperator, Twin
from sim.colours import SPLITS

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
            self, "teleop_noise", 0.0, "std of the scripted teleoperator's torque noise", 0.0, 1.0)
        if twin not in TWINS:
            self.get_logger().error(f"twin {twin!r} is not one of {sorted(TWINS)}; using 'reach'")
            twin = "reach"
        if split not in SPLITS:
            self.get_logger().error(f"split {split!r} is not one of {SPLITS}; using 'heldout'")
            split = "heldout"
        self.twin: Twin = TWINS[twin](self, split, self.seed, (width, height))
        self.episode_steps = declare(
            self, "episode_steps", self.twin.episode_steps,
            "steps before an episode ends (default: the twin's episode)", 1, 100000)
        self.lock = threading.Lock()
        self.command = self._idle()
        self.command_time = -np.inf
        self.teleop: Teleoperator | None = None
        self.episode = 0
        self.sim_time = 0.0
        self.running = False
        self.fresh = False
        self.requests: queue.Queue[tuple[str, queue.Queue]] = queue.Queue()
        self.stopping = threading.Event()
        self.image_pub = self.create_publisher(Image, "image_raw", qos.IMAGES)
        self.info_pub = self.create_publisher(CameraInfo, "camera_info", qos.SENSOR)
        self.joint_pub = self.create_publisher(JointState, "joint_states", qos.STATE)
        self.clock_pub = self.create_publisher(Clock, "/clock", qos.STATE)
        self.command_pub = self.create_publisher(Float64MultiArray, "cmd/joint", qos.COMMAND)
        self.episode_pub = self.create_publisher(String, "sim/episode", qos.LATCHED)
        self.create_subscription(Float64MultiArray, "cmd/joint", self.on_command, qos.COMMAND)
        self.create_service(Trigger, "sim/reset", self.on_reset)
        self.create_service(Trigger, "sim/demonstrate", self.on_demonstrate)
        self.loop = threading.Thread(target=self.run_loop, name="sim_twin", daemon=True)
        self.loop.start()

    def _idle(self) -> np.ndarray:
        """Zero torque on every joint: the arm held still."""
        return np.zeros(len(self.twin.joint_names))

    # -- inputs -------------------------------------------------------------------------

    def on_command(self, msg: Float64MultiArray) -> None:
        try:
            command = command_from_msg(msg, len(self.twin.joint_names))
        except MessageError as error:
            self.get_logger().error(f"cmd/joint skipped: {error}")
            return
        with self.lock:
            if self.teleop is None:  # the teleoperator has the arm during a demonstration
                limit = self.twin.command_limit
                self.command = np.clip(command, -limit, limit)
                self.command_time = time.monotonic()

    def on_reset(self, _request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        return self._request("reset", response)

    def on_demonstrate(self, _request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
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
            self._start_episode()
            self.teleop = (self.twin.teleoperator(self.teleop_noise, self.seed + self.episode)
                           if kind == "demonstrate" else None)
        return self._episode_text()

    def _start_episode(self) -> None:
        self.episode += 1
        self.observation, _ = self.env.reset(options=self.twin.reset_options())
        self.command = self._idle()
        self.command_time = -np.inf
        self.running = True
        self.fresh = True  # the next tick shows the new scene before the first step

    def _episode_text(self) -> str:
        return f"episode {self.episode}: {self.twin.describe(self.env)}"

    # -- the control step -----------------------------------------------------------------

    def run_loop(self) -> None:
        """The simulation thread: every period it serves resets, steps the twin once with
        the current command (while an episode runs) and publishes what the arm sees; half a
        period later the scripted teleoperator, if demonstrating, answers that frame."""
        self.env = self.twin.make_env()
        self.observation, _ = self.env.reset(seed=self.seed, options=self.twin.reset_options())
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
            self.env.close()

    def teleoperate(self) -> None:
        """The scripted operator's command for the current frame, sent like a joystick's."""
        with self.lock:
            if self.teleop is None or not self.running:
                return
            self.command = command = self.teleop.act(self.env)
            self.command_time = time.monotonic()
        self.command_pub.publish(command_msg(command))  # never publish holding the lock

    def tick(self) -> None:
        ended = None
        with self.lock:
            if self.running and not self.fresh:
                ended = self._step()
            self.fresh = False
            observation = self.observation
        self._publish(observation)  # publishing holds no lock
        if ended is not None:
            self.episode_pub.publish(json_msg(ended))
            self.get_logger().info(f"episode {ended['episode']} ended: success={ended['success']}")

    def _step(self) -> dict | None:
        """Step once; the episode's result if this step ended it."""
        if time.monotonic() - self.command_time <= self.command_timeout_s:
            command = self.command
        else:
            command = self._idle()
        self.observation, _, _, _, info = self.env.step(command)
        self.sim_time += self.env.dt
        return self._finish_episode(info) if self.env.steps >= self.episode_steps else None

    def _finish_episode(self, info: dict) -> dict:
        self.running = False
        demonstrated, self.teleop = self.teleop is not None, None
        return {"episode": self.episode, "success": self.env.is_success(),
                "final_distance": info["distance"], "demonstration": demonstrated,
                **self.twin.report(self.env)}

    def _publish(self, observation: dict) -> None:
        stamp = self.get_clock().now().to_msg()
        image, twin = observation["image"], self.twin
        self.clock_pub.publish(Clock(clock=RosTime(nanoseconds=int(self.sim_time * 1e9)).to_msg()))
        self.joint_pub.publish(joint_state_msg(twin.joint_names, *twin.joints(observation["state"]),
                                               stamp))
        self.image_pub.publish(image_msg(image, stamp, twin.frame_id))
        self.info_pub.publish(camera_info_msg(image.shape[1], image.shape[0],
                                              twin.fovy_deg, stamp, twin.frame_id))

    def destroy_node(self) -> None:
        self.stopping.set()
        self.loop.join(timeout=5.0)
        super().destroy_node()


def main(args: list[str] | None = None) -> int:
    return run_nodes([SimTwinNode], args)


if __name__ == "__main__":
    raise SystemExit(main())
