"""``oneshot convert``: ROS 2 logs of demonstrations -> an episode, or a training dataset.

A log is an MCAP file, a rosbag2 folder (MCAP or SQLite3 storage), a rosbag2 ``.db3``
file, or a RealSense ``.db3`` recording (see :mod:`adaptation_node.rosbag_read`): logs
recorded on a robot by the demo recorder, written by ``oneshot export``, or by ``ros2 bag
record`` of ``image_raw``, ``joint_states`` and ``cmd/joint`` (or ``cmd/ee_twist``); a
RealSense recording is a human demonstration of its colour stream. Steps are aligned
exactly as the recorder aligns them; unusable messages are counted and skipped, and an
MCAP log cut short (a killed recorder) converts up to the cut. Each log's task,
demonstrator, robot and scene come from its metadata (the recorder and ``oneshot
export`` write them), else from the options. Several logs become a dataset for ``oneshot
train``: demos with the same task description are one task.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from adaptation_node.demo_align import AlignmentError
from adaptation_node.episode_builder import TOPICS, EpisodeBuilder
from adaptation_node.mcap_log import Log
from adaptation_node.messages import MessageError
from adaptation_node.robots import profile
from adaptation_node.rosbag_read import read_ros_log
from episodes import write_dataset_index


@dataclass
class Conversion:
    episode: Path
    steps: int
    task: dict
    skipped: list[str]   # why each unusable message was left out
    truncated: bool


def read_demo_log(source: Path) -> Log:
    """The messages of the log ``source`` that an episode is made of."""
    return read_ros_log(source, TOPICS)


def convert(source: Path, out: Path, robot: str | None = None, demonstrator: str | None = None,
            task: dict | None = None, log: Log | None = None) -> Conversion:
    """Write the episode of the log ``source`` (already read, if ``log`` is given) to
    ``out``; options given here override the log's metadata. AlignmentError/EpisodeError
    if the log holds no usable demonstration, McapLogError if it is no readable log."""
    log = log or read_demo_log(source)
    robot = robot or log.metadata.get("robot", "reach")
    demonstrator = demonstrator or log.metadata.get("demonstrator", "robot")
    task = task if task is not None else log.metadata.get("task", {"family": robot})
    builder = EpisodeBuilder(profile(robot))
    skipped = []
    for logged in log.messages:
        try:
            builder.add(logged.topic, logged.message, logged.time_ns)
        except MessageError as error:
            skipped.append(f"{logged.topic}: {error}")
    scene = {**log.metadata.get("scene", {}), "source": "ros", "mcap": str(source),
             "truncated": log.truncated}
    try:
        path, steps = builder.write(out, task, demonstrator, scene)
    except AlignmentError as error:
        raise AlignmentError(f"{source}: {error}") from None
    return Conversion(path, steps, task, skipped, log.truncated)


def convert_dataset(sources: Sequence[Path], out: Path, command: str,
                    robot: str | None = None) -> list[Conversion]:
    """Convert every log into ``out/task_NNNN/demo_NNN`` and index them as a dataset."""
    task_ids: dict[str, int] = {}
    demos: Counter[int] = Counter()
    tasks, episodes, conversions = [], [], []
    for source in sources:
        log = read_demo_log(source)
        log_task = log.metadata.get("task", {})
        key = json.dumps(log_task, sort_keys=True)
        if key not in task_ids:
            task_ids[key] = len(task_ids)
            tasks.append({**log_task, "task_id": task_ids[key]})
        task_id = task_ids[key]
        relative = f"task_{task_id:04d}/demo_{demos[task_id]:03d}"
        demos[task_id] += 1
        conversions.append(convert(source, out / relative, robot, task=tasks[task_id], log=log))
        episodes.append({"path": relative, "task_id": task_id})
    family = tasks[0].get("family", "ros") if tasks else "ros"
    write_dataset_index(out, family=family, split="recorded", seed=None, tasks=tasks,
                        episodes=episodes, command=command)
    return conversions


def task_argument(text: str | None) -> dict | None:
    """The --task option: a JSON object, or None."""
    if text is None:
        return None
    task = json.loads(text)
    if not isinstance(task, dict):
        raise ValueError(f"--task must be a JSON object, got {text!r}")
    return task
