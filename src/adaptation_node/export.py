"""``oneshot export``: an episode as a ROS 2 log, to replay with ``ros2 bag play``, view in
Foxglove or hand to another lab; ``oneshot convert`` turns it back into the same episode.

The log is a rosbag2 folder, ``OUT/metadata.yaml`` (format version 9) and one MCAP file
``OUT/OUT_0.mcap``, which ``ros2 bag`` and the rosbags library read. Its topics, each
header stamped with the episode's timestamp of the step (seconds from the episode start):

- ``/image_raw``: sensor_msgs/Image, rgb8, frame id the episode's camera name;
- ``/camera_info``: sensor_msgs/CameraInfo, when the camera has a ``fovy_deg``;
- ``/joint_states``: sensor_msgs/JointState with the robot profile's joint names, when
  the state is not empty. Every profile's state starts with the joint positions, then the
  velocities; the profile's state function must rebuild the episode's state from them;
- ``/cmd/joint`` (std_msgs/Float64MultiArray) or ``/cmd/ee_twist``
  (geometry_msgs/TwistStamped), as the profile commands: the step's action. A human
  demonstration has no actions, so no command topic.

Each step's messages are logged (received) in the order a recorder sees them: joint
state, frame, then the command answering the frame, at strictly increasing log times, so
that converting the log aligns exactly the episode's steps. The task, demonstrator, robot
and scene travel in the MCAP's ``oneshot`` metadata record, as the demo recorder writes
them. The folder is written beside ``OUT`` and renamed, so a failure leaves nothing.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from adaptation_node.mcap_log import McapLog, ros_time, type_name_of
from adaptation_node.messages import (
    camera_info_msg,
    command_msg,
    image_msg,
    joint_state_msg,
    twist_msg,
)
from adaptation_node.robots import RobotProfile, profile
from episodes import Episode, read_episode

BAG_VERSION = 9  # rosbag2's metadata.yaml format of Jazzy and later
STATE_TOLERANCE = 1e-5  # the float32 state against the profile's rebuild of it


class ExportError(ValueError):
    """An episode that cannot be exported as asked; the message names it and why."""


class Rosbag2Folder:
    """A rosbag2 folder being written: messages go to one MCAP file through
    :class:`McapLog`; ``close()`` writes ``metadata.yaml`` with each topic's count."""

    def __init__(self, folder: Path, bag_name: str, metadata: dict[str, Any]) -> None:
        self.folder = folder
        self.file_name = f"{bag_name}_0.mcap"
        self.log = McapLog(folder / self.file_name, metadata)
        self.counts: Counter[str] = Counter()
        self.types: dict[str, str] = {}
        self.times: list[int] = []

    def write(self, topic: str, message: Any, time_ns: int) -> None:
        self.log.write(topic, message, time_ns)
        self.counts[topic] += 1
        self.types.setdefault(topic, type_name_of(message))
        self.times.append(time_ns)

    def close(self) -> None:
        self.log.close()
        (self.folder / "metadata.yaml").write_text(yaml.safe_dump(self._info(), sort_keys=False))

    def _info(self) -> dict[str, Any]:
        """metadata.yaml as rosbag2 writes it for an uncompressed MCAP bag of one file."""
        total = sum(self.counts.values())
        topics = [{"topic_metadata": {"name": topic, "type": self.types[topic],
                                      "serialization_format": "cdr",
                                      "offered_qos_profiles": [], "type_description_hash": ""},
                   "message_count": count} for topic, count in self.counts.items()]
        return {"rosbag2_bagfile_information": {
            "version": BAG_VERSION, "storage_identifier": "mcap",
            "relative_file_paths": [self.file_name], **self._span(), "message_count": total,
            "topics_with_message_count": topics, "compression_format": "",
            "compression_mode": "", "files": [{"path": self.file_name, **self._span(),
                                               "message_count": total}],
            "custom_data": {}, "ros_distro": os.environ.get("ROS_DISTRO", "")}}

    def _span(self) -> dict[str, Any]:
        """When the messages start and how long they last (new dicts each call: the YAML
        stays free of anchors)."""
        start = min(self.times)
        return {"starting_time": {"nanoseconds_since_epoch": start},
                "duration": {"nanoseconds": max(self.times) - start}}


def export_episode(episode_dir: Path, out: Path, robot: str | None = None) -> Path:
    """Write the episode at ``episode_dir`` as the rosbag2 folder ``out``; return ``out``.
    ``robot`` names the profile (default: the episode's ``scene.robot``, else reach)."""
    episode, out = read_episode(episode_dir).load(), Path(out)
    if out.exists():
        raise ExportError(f"{out}: already exists; refusing to overwrite a log")
    arm = profile(robot or episode.scene.get("robot", "reach"))
    _check_fits(episode, arm, Path(episode_dir))
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        bag = Rosbag2Folder(staging, out.name, {
            "task": episode.task, "demonstrator": episode.demonstrator, "robot": arm.name,
            "scene": episode.scene})
        _write_steps(bag, episode, arm)
        bag.close()
        os.rename(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out


def _stamps_ns(timestamps: np.ndarray) -> np.ndarray:
    """The episode's timestamps (s) as header stamps (ns)."""
    return np.round(np.asarray(timestamps, np.float64) * 1e9).astype(np.int64)


def _joints_of(arm: RobotProfile, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Joint positions and velocities [T, n] that the profile's state begins with."""
    n = len(arm.joint_names)
    return state[:, :n].astype(np.float64), state[:, n:2 * n].astype(np.float64)


def _check_fits(episode: Episode, arm: RobotProfile, where: Path) -> None:
    """Raise unless the profile can carry the episode's state and actions over ROS."""
    if episode.state.shape[1]:
        if not _state_of(arm, episode.state):
            raise ExportError(f"{where}: its state [{episode.state.shape[1]}] is not the "
                              f"{arm.name} profile's state of joints {list(arm.joint_names)}; "
                              "name the robot with --robot")
        if np.any(np.diff(_stamps_ns(episode.timestamps)) <= 0):
            raise ExportError(f"{where}: timestamps repeat, so joint states stamped with them "
                              "would not match their frames")
    width = 6 if arm.command == "twist" else len(arm.joint_names)
    if episode.actions is not None and episode.actions.shape[1] != width:
        raise ExportError(f"{where}: actions have {episode.actions.shape[1]} values, the "
                          f"{arm.name} profile's {arm.command} command {width}")


def _state_of(arm: RobotProfile, state: np.ndarray) -> bool:
    """Whether ``state`` is what the profile makes of the joints it begins with."""
    positions, velocities = _joints_of(arm, state)
    if velocities.shape[1] != len(arm.joint_names):
        return False
    rebuilt = np.stack([arm.state(q, qd) for q, qd in zip(positions, velocities)])
    return rebuilt.shape == state.shape and np.allclose(
        rebuilt, state, rtol=STATE_TOLERANCE, atol=STATE_TOLERANCE)


def _write_steps(bag: Rosbag2Folder, episode: Episode, arm: RobotProfile) -> None:
    """Each step's joint state, frame (and camera info) and command, in that order."""
    camera = episode.camera
    positions, velocities = _joints_of(arm, episode.state)
    # a step is logged from its stamp, or just after the previous step where that is
    # later: log times rise even where stamps repeat (and are never below 0)
    received = -3
    for step, stamp_ns in enumerate(_stamps_ns(episode.timestamps).tolist()):
        received, stamp = max(stamp_ns, received + 3), ros_time(stamp_ns)
        if episode.state.shape[1]:
            bag.write("/joint_states", joint_state_msg(
                arm.joint_names, positions[step], velocities[step], stamp), received)
        bag.write("/image_raw", image_msg(episode.frames[step], stamp, camera["name"]),
                  received + 1)
        if "fovy_deg" in camera:
            bag.write("/camera_info", camera_info_msg(
                camera["width"], camera["height"], camera["fovy_deg"], stamp, camera["name"]),
                received + 1)
        if episode.actions is not None:
            bag.write(f"/{arm.command_topic}", _command(arm, episode.actions[step], stamp),
                      received + 2)


def _command(arm: RobotProfile, action: np.ndarray, stamp: Any) -> Any:
    if arm.command == "twist":
        return twist_msg(action, stamp, arm.twist_frame)
    return command_msg(action)
