"""Collect ROS messages of one demonstration and write them as an episode.

The recorder feeds it live messages; ``oneshot convert`` feeds it the messages of an
MCAP log (their log time is when the recorder received them). Each ``add_*`` checks its
message and raises MessageError for one that cannot be used, which the caller logs and
skips; ``write`` aligns the streams (``demo_align``) and writes the episode atomically.

A person's video is one camera's view: when the frames' camera (their header frame_id)
changes during such a recording, the frames from before the last change are left out.
This is what the sim twin's human demonstrator needs: its image_raw switches from the
robot's camera to the one facing the person when the demonstration's scene is laid out,
which may be a frame or two after the recording started. (A robot demo needs no such
rule: frames before its first command are trimmed anyway.)
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from geometry_msgs.msg import TwistStamped
from sensor_msgs.msg import Image, JointState
from std_msgs.msg import Float64, Float64MultiArray

from adaptation_node.demo_align import AlignmentError, Streams, align
from adaptation_node.messages import (
    MessageError,
    command_from_msg,
    frame_from_msg,
    joints_from_msg,
    stamp_ns,
    twist_from_msg,
)
from adaptation_node.robots import RobotProfile
from episodes import Episode, write_episode

TOPICS = {"image_raw": "image", "joint_states": "joints", "cmd/joint": "command",
          "cmd/ee_twist": "twist", "cmd/gripper": "gripper"}


class EpisodeBuilder:
    """The valid messages of one demonstration, in arrival order."""

    def __init__(self, robot: RobotProfile) -> None:
        self.robot = robot
        self.streams = Streams([], [], [], [], [], [], [])
        self.frame_size: tuple[int, int] | None = None
        self.frame_id = "camera"
        self.frame_ids: list[str] = []    # each frame's camera

    def add(self, topic: str, msg: Any, received_ns: int) -> None:
        """Add a message of one of TOPICS (others are ignored)."""
        kind = TOPICS.get(topic.lstrip("/"))
        if kind is not None:
            getattr(self, f"add_{kind}")(msg, received_ns)

    def add_image(self, msg: Image, received_ns: int) -> None:
        frame = frame_from_msg(msg, self.frame_size)
        self.frame_size = (msg.width, msg.height)
        self.frame_id = msg.header.frame_id or self.frame_id
        self.frame_ids.append(self.frame_id)
        self.streams.frame_times.append(received_ns)
        self.streams.frame_stamps.append(stamp_ns(msg))
        self.streams.frames.append(frame)

    def add_joints(self, msg: JointState, _received_ns: int) -> None:
        joints = joints_from_msg(msg, self.robot.joint_names)
        self.streams.joint_stamps.append(stamp_ns(msg))
        self.streams.joints.append((joints.position, joints.velocity))

    def add_command(self, msg: Float64MultiArray, received_ns: int) -> None:
        command = command_from_msg(msg, len(self.robot.joint_names))
        self.streams.command_times.append(received_ns)
        self.streams.commands.append(command)

    def add_twist(self, msg: TwistStamped, received_ns: int) -> None:
        self.streams.command_times.append(received_ns)
        self.streams.commands.append(self.robot.action_of(twist_from_msg(msg)))

    def add_gripper(self, msg: Float64, received_ns: int) -> None:
        if not np.isfinite(msg.data):
            raise MessageError(f"gripper command is not finite: {msg.data}")
        self.streams.grip_times.append(received_ns)
        self.streams.grips.append(float(np.clip(msg.data, -1.0, 1.0)))

    def write(self, path: Path, task: dict, demonstrator: str, scene: dict) -> tuple[Path, int]:
        """Write the episode to ``path``; return it and its length. AlignmentError or
        EpisodeError when the messages make no episode."""
        streams = self.streams
        if demonstrator == "human":  # a person's video: no robot commands to learn from
            streams = replace(self._last_camera(streams), command_times=[], commands=[])
        elif not streams.commands:
            raise AlignmentError(f"no commands were recorded on {self.robot.command_topic} "
                                 "for a robot demo")
        elif self.robot.gripper_topic and not streams.grips:
            raise AlignmentError(f"no gripper commands were recorded on "
                                 f"{self.robot.gripper_topic} for a robot demo")
        aligned = align(streams, self.robot.state)
        width, height = self.frame_size
        episode = Episode(
            frames=aligned.frames, state=aligned.state, actions=aligned.actions,
            timestamps=aligned.timestamps, task=task, demonstrator=demonstrator,
            camera={"name": self.frame_id, "width": width, "height": height},
            scene={**scene, "robot": self.robot.name})
        return write_episode(path, episode), len(aligned.frames)

    def _last_camera(self, streams: Streams) -> Streams:
        """The frames since the camera last changed (module docstring)."""
        start = len(self.frame_ids)
        while start > 0 and self.frame_ids[start - 1] == self.frame_id:
            start -= 1
        return replace(streams, frame_times=streams.frame_times[start:],
                       frame_stamps=streams.frame_stamps[start:], frames=streams.frames[start:])
