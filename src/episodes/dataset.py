"""A dataset: a directory of episodes indexed by ``dataset.json``.

``dataset.json`` (format ``oneshot-dataset``, version 1)::

    {"format": "oneshot-dataset", "version": 1, "family": "reach", "split": "train",
     "seed": 0,
     "tasks": [{"task_id": 0, ...task description}],
     "episodes": [{"path": "task_0000/demo_000", "task_id": 0, ...}]}

Episode paths are relative to the dataset root. Episodes are opened only when a task's
demonstrations are first asked for, so opening a large dataset costs one JSON read.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterable

from episodes.episode import EpisodeError, EpisodeReader, check_versioned

DATASET_FORMAT = "oneshot-dataset"
DATASET_VERSION = 1
INDEX_FILE = "dataset.json"
REQUIRED_INDEX_KEYS = ("format", "version", "family", "split", "seed", "tasks", "episodes")


class DatasetError(EpisodeError):
    """``dataset.json`` or the layout it describes is malformed; the message names the file."""


def _check_index(index: Any, where: Path) -> None:
    """Raise a DatasetError naming ``where`` unless ``index`` is a valid dataset index."""
    check_versioned(index, where, REQUIRED_INDEX_KEYS, DATASET_FORMAT, DATASET_VERSION, DatasetError)
    if not isinstance(index["tasks"], list) or not isinstance(index["episodes"], list):
        raise DatasetError(f"{where}: tasks and episodes must be lists")
    task_ids = [task.get("task_id") if isinstance(task, dict) else None
                for task in index["tasks"]]
    if not all(isinstance(task_id, int) for task_id in task_ids):
        raise DatasetError(f"{where}: every task needs an integer task_id")
    if len(set(task_ids)) != len(task_ids):
        raise DatasetError(f"{where}: duplicate task_id in tasks")
    for number, entry in enumerate(index["episodes"]):
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
            raise DatasetError(f"{where}: episodes[{number}] needs a string 'path'")
        relative = Path(entry["path"])
        if relative.is_absolute() or ".." in relative.parts:
            raise DatasetError(f"{where}: episodes[{number}] path {entry['path']!r} must be "
                               f"relative and inside the dataset")
        if entry.get("task_id") not in task_ids:
            raise DatasetError(f"{where}: episodes[{number}] has task_id "
                               f"{entry.get('task_id')!r}, which is not in tasks")


def write_dataset_index(root: str | os.PathLike, family: str, split: str, seed: int,
                        tasks: Iterable[dict[str, Any]],
                        episodes: Iterable[dict[str, Any]], command: str | None = None) -> Path:
    """Validate and write ``root/dataset.json`` atomically; return its path.

    ``command`` is the command line that generated the data, kept for provenance (trainers
    copy it into the checkpoint manifest)."""
    root = Path(root)
    index_file = root / INDEX_FILE
    index = {"format": DATASET_FORMAT, "version": DATASET_VERSION, "family": family,
             "split": split, "seed": seed, "tasks": list(tasks), "episodes": list(episodes)}
    if command is not None:
        index["command"] = command
    _check_index(index, index_file)
    root.mkdir(parents=True, exist_ok=True)
    staging = index_file.with_name(f".{INDEX_FILE}.tmp")
    staging.write_text(json.dumps(index, indent=1))
    os.replace(staging, index_file)
    return index_file


class Dataset:
    """A lazily opened dataset: the index is validated at once, episodes when first used."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        index_file = self.root / INDEX_FILE
        try:
            index = json.loads(index_file.read_text())
        except (OSError, ValueError) as error:
            raise DatasetError(f"{index_file}: cannot read dataset index: {error}") from error
        _check_index(index, index_file)
        self.index: dict[str, Any] = index
        self.family: str = index["family"]
        self.split: str = index["split"]
        self.seed: int = index["seed"]
        self.command: str | None = index.get("command")
        self.tasks: list[dict[str, Any]] = index["tasks"]
        self.task_ids: list[int] = [task["task_id"] for task in self.tasks]
        self._paths: dict[int, list[Path]] = {task_id: [] for task_id in self.task_ids}
        for entry in index["episodes"]:
            episode_dir = self.root / entry["path"]
            if not episode_dir.is_dir():
                raise DatasetError(f"{episode_dir}: episode listed in {index_file} is missing")
            self._paths[entry["task_id"]].append(episode_dir)
        self._opened: dict[int, list[EpisodeReader]] = {}

    def episodes_of(self, task_id: int) -> list[EpisodeReader]:
        """The demonstrations of one task, opened on first request and then cached."""
        if task_id not in self._paths:
            raise DatasetError(f"{self.root / INDEX_FILE}: no task with task_id {task_id!r}")
        if task_id not in self._opened:
            self._opened[task_id] = [EpisodeReader(path) for path in self._paths[task_id]]
        return self._opened[task_id]

    def __len__(self) -> int:
        """The number of episodes over all tasks."""
        return sum(len(paths) for paths in self._paths.values())

    def __repr__(self) -> str:
        return (f"Dataset({str(self.root)!r}, family={self.family!r}, split={self.split!r}, "
                f"tasks={len(self.task_ids)}, episodes={len(self)})")
