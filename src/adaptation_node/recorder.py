"""The demo recorder: records a demonstration into MCAP and into an episode.

``~/start`` and ``~/stop`` (std_srvs/Trigger) bracket a demonstration; ``~/start``
refuses, naming the stream, when camera frames (and, for a robot demo, joint states)
have not arrived in the last ``stream_timeout_s``. While recording,
every ``image_raw``, ``joint_states`` and command message (``cmd/joint`` or
``cmd/ee_twist``, and ``cmd/gripper`` for a robot profile with a gripper) goes to
``OUT/NAME.mcap`` as it arrives (so a recorder killed mid-demo leaves a readable partial
log), and valid ones are kept for the episode. ``~/stop`` aligns them (``demo_align``)
and writes the episode ``OUT/NAME/`` atomically (temp dir + rename: never half an
episode), then announces its path on ``demo/recorded``. A bad message is logged and left
out of the episode; a recording that cannot make an episode keeps its MCAP and says why.
"""
from __future__ import annotations

import json
import threading
import time
from functools import partial
from pathlib import Path

from rclpy.node import Node
from rclpy.subscription import MessageInfo
from geometry_msgs.msg import TwistStamped
from sensor_msgs.msg import Image, JointState
from std_msgs.msg import Float64, Float64MultiArray, String
from std_srvs.srv import Trigger

from adaptation_node import qos
from adaptation_node.demo_align import AlignmentError
from adaptation_node.episode_builder import EpisodeBuilder
from adaptation_node.mcap_log import McapLog
from adaptation_node.messages import MessageError, json_msg
from adaptation_node.params import declare
from adaptation_node.robots import RobotProfile, profile
from adaptation_node.runner import run_nodes
from episodes import EpisodeError
from episodes.episode import DEMONSTRATORS



class Recording:
    """One demonstration being recorded: its MCAP log and the episode being built."""

    def __init__(self, out_dir: Path, robot: RobotProfile, task: dict, demonstrator: str) -> None:
        self.name = time.strftime("demo-%Y%m%d-%H%M%S") + f"-{time.monotonic_ns() % 1000:03d}"
        self.task, self.demonstrator = task, demonstrator
        self.mcap_path = out_dir / f"{self.name}.mcap"
        self.episode_path = out_dir / self.name
        self.log = McapLog(self.mcap_path, {"task": task, "demonstrator": demonstrator,
                                            "robot": robot.name})
        self.builder = EpisodeBuilder(robot)

    def add(self, topic: str, msg, received_ns: int) -> None:
        """Log the message, then add it to the episode (MessageError if it is unusable)."""
        self.log.write(topic, msg, received_ns)
        self.builder.add(topic, msg, received_ns)

    def finish(self) -> tuple[Path, int]:
        """Close the log and write the episode; return its path and length.
        AlignmentError or EpisodeError when the recording makes no episode."""
        self.log.close()
        scene = {"source": "ros", "mcap": self.mcap_path.name}
        return self.builder.write(self.episode_path, self.task, self.demonstrator, scene)


class DemoRecorderNode(Node):
    """Records demonstrations on request (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__("demo_recorder")
        self.out_dir = Path(declare(self, "out_dir", "demos", "where MCAP logs and episodes go"))
        self.robot = profile(declare(self, "robot", "reach", "robot profile (joint names)"))
        self.demonstrator = declare(self, "demonstrator", "robot",
                                    f"who demonstrates, one of {DEMONSTRATORS}")
        self.task = self._task(declare(self, "task", '{"family": "reach"}',
                                       "task description stored in each episode (JSON)"))
        if self.demonstrator not in DEMONSTRATORS:
            self.get_logger().error(f"demonstrator {self.demonstrator!r} is not one of "
                                    f"{DEMONSTRATORS}; using 'robot'")
            self.demonstrator = "robot"
        self.stream_timeout_s = declare(self, "stream_timeout_s", 1.0,
                                        "~/start needs the streams this fresh", 0.05, 60.0)
        self.last_seen: dict[str, float] = {}
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.lock = threading.Lock()
        self.recording: Recording | None = None
        self.recorded_pub = self.create_publisher(String, "demo/recorded", qos.LATCHED)
        command_type = TwistStamped if self.robot.command == "twist" else Float64MultiArray
        recorded_topics = ((Image, "image_raw"), (JointState, "joint_states"),
                           (command_type, self.robot.command_topic))
        if self.robot.gripper_topic:
            recorded_topics += ((Float64, self.robot.gripper_topic),)
        for msg_type, topic in recorded_topics:
            self.create_subscription(msg_type, topic, partial(self._add, topic), qos.RECORD)
        self.create_service(Trigger, "~/start", self.on_start)
        self.create_service(Trigger, "~/stop", self.on_stop)

    def _task(self, text: str) -> dict:
        try:
            task = json.loads(text)
            if isinstance(task, dict):
                return task
        except json.JSONDecodeError:
            pass
        self.get_logger().error(f"task {text!r} is not a JSON object; using {{}}")
        return {}

    def _add(self, topic: str, msg, info: MessageInfo) -> None:
        """Record ``msg`` at the time DDS received it: when the executor runs behind, its
        callbacks may take a frame after the command that answered it, and ordering steps
        by callback time would then pair each frame with the wrong command."""
        received_ns = info["received_timestamp"] or self.get_clock().now().nanoseconds
        with self.lock:
            self.last_seen[topic] = time.monotonic()
            if self.recording is None:
                return
            try:
                self.recording.add(topic, msg, received_ns)
            except MessageError as error:
                self.get_logger().error(f"{topic} message left out of the demo: {error}",
                                        throttle_duration_sec=1.0)

    def on_start(self, _request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        with self.lock:
            missing = self._silent_streams()
            if self.recording is not None or missing:
                response.success = False
                response.message = "already recording" if self.recording else (
                    f"not recording: nothing on {' or '.join(missing)} in the last "
                    f"{self.stream_timeout_s} s (is the camera / arm driver running?)")
                return response
            self.recording = Recording(self.out_dir, self.robot, self.task, self.demonstrator)
            response.success, response.message = True, str(self.recording.mcap_path)
        self.get_logger().info(f"recording {response.message}")
        return response

    def _silent_streams(self) -> list[str]:
        """The streams a demonstration needs that are not arriving."""
        needed = ["image_raw"] + (["joint_states"] if self.demonstrator == "robot" else [])
        now = time.monotonic()
        return [topic for topic in needed
                if now - self.last_seen.get(topic, -float("inf")) > self.stream_timeout_s]

    def on_stop(self, _request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        with self.lock:
            recording, self.recording = self.recording, None
        if recording is None:
            response.success, response.message = False, "not recording"
            return response
        try:
            path, frames = recording.finish()
        except (AlignmentError, EpisodeError) as error:
            response.success = False
            response.message = f"no episode from {recording.mcap_path}: {error}"
            self.get_logger().error(response.message)
            return response
        self.recorded_pub.publish(json_msg({"path": str(path), "mcap": str(recording.mcap_path),
                                            "frames": frames}))
        response.success, response.message = True, str(path)
        self.get_logger().info(f"recorded {frames} steps to {path}")
        return response

    def destroy_node(self) -> None:
        with self.lock:
            if self.recording is not None:
                self.recording.log.close()  # keep what was recorded, with its index
        super().destroy_node()


def main(args: list[str] | None = None) -> int:
    return run_nodes([DemoRecorderNode], args)


if __name__ == "__main__":
    raise SystemExit(main())
