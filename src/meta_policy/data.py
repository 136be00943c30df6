"""Demonstrations as tensors, and the task sampling of the meta-trainers.

MIL's meta-training step needs two robot demonstrations of one task: the inner loss is
fitted on one and the outer loss measured on the other (Algorithm 9, L2826). Frames are
sampled from each demo per step to keep a meta-step cheap on a CPU.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from episodes import Dataset, EpisodeReader
from meta_policy.video import early_biased_indices


class DemoError(ValueError):
    """A demonstration that cannot be used for adaptation; the message says why."""


@dataclass
class Demo:
    """One demonstration as tensors: frames uint8 [T,H,W,3], state [T,ds], actions [T,da]."""

    frames: torch.Tensor
    state: torch.Tensor
    actions: torch.Tensor

    def __len__(self) -> int:
        return self.frames.shape[0]

    def select(self, index: np.ndarray) -> "Demo":
        idx = torch.as_tensor(index)
        return Demo(self.frames[idx], self.state[idx], self.actions[idx])

    def to(self, device: str | torch.device) -> "Demo":
        return Demo(self.frames.to(device), self.state.to(device), self.actions.to(device))


def load_demo(
    episode: EpisodeReader, image_size: tuple[int, int], state_dim: int, action_dim: int
) -> Demo:
    """Read and check an episode for one-shot adaptation.

    Refuses, with a message naming the file and the problem: no frames, frames of another
    size than the policy's camera (`image_size` is width, height), missing or non-finite
    actions, or state/action dimensions the policy was not built for.
    """
    where = f"demo {episode.path}"
    if episode.length == 0:
        raise DemoError(f"{where} has no frames")
    frames = np.array(episode.frames)
    width, height = image_size
    if frames.shape[1:] != (height, width, 3):
        raise DemoError(
            f"{where}: frames are {frames.shape[2]}x{frames.shape[1]}x{frames.shape[3]}, "
            f"the policy expects {width}x{height}x3 images"
        )
    if episode.actions is None:
        raise DemoError(f"{where} has no actions (a human video); MIL adapts from robot demos")
    actions = np.array(episode.actions, dtype=np.float32)
    state = np.array(episode.state, dtype=np.float32)
    if not np.isfinite(actions).all():
        raise DemoError(f"{where} has NaN or infinite actions")
    if not np.isfinite(state).all():
        raise DemoError(f"{where} has NaN or infinite robot state")
    if state.shape[1] != state_dim or actions.shape[1] != action_dim:
        raise DemoError(
            f"{where}: state/action dims are {state.shape[1]}/{actions.shape[1]}, "
            f"the policy expects {state_dim}/{action_dim}"
        )
    return Demo(torch.from_numpy(frames), torch.from_numpy(state), torch.from_numpy(actions))


class TaskSampler:
    """Draws meta-batches of tasks and pairs of distinct robot demos of a task from a Dataset.

    Only robot demos count: MIL's inner and outer losses both need actions (Algorithm 9),
    and a paired dataset (the push twin's) also holds human demos without them. Tasks with
    fewer than two robot demos are left out.
    """

    def __init__(self, dataset: Dataset, rng: np.random.Generator) -> None:
        self.dataset = dataset
        self.rng = rng
        self.robot_demos = {t: robot_demos(dataset.episodes_of(t)) for t in dataset.task_ids}
        self.task_ids = [t for t, demos in self.robot_demos.items() if len(demos) >= 2]
        if not self.task_ids:
            raise ValueError(f"dataset {dataset.root} has no task with two or more robot demos")

    def tasks(self, n: int) -> list[int]:
        replace = n > len(self.task_ids)
        return [int(t) for t in self.rng.choice(self.task_ids, size=n, replace=replace)]

    def demo_pair(self, task_id: int) -> tuple[EpisodeReader, EpisodeReader]:
        episodes = self.robot_demos[task_id]
        i, j = self.rng.choice(len(episodes), size=2, replace=False)
        return episodes[i], episodes[j]

    def frames(self, episode: EpisodeReader, n: int, early: int = 0, window: int = 10) -> Demo:
        """`n` frames of `episode` without replacement, in time order, `early` of them from
        the first `window` steps (see :func:`meta_policy.video.early_biased_indices`)."""
        index = early_biased_indices(episode.length, n, early, window, self.rng)
        return Demo(
            torch.from_numpy(np.asarray(episode.frames[index])),
            torch.from_numpy(np.asarray(episode.state[index], dtype=np.float32)),
            torch.from_numpy(np.asarray(episode.actions[index], dtype=np.float32)),
        )


def robot_demos(episodes: list[EpisodeReader]) -> list[EpisodeReader]:
    """The episodes that record actions (a human demo's `actions` is None)."""
    return [episode for episode in episodes if episode.actions is not None]


def all_states(dataset: Dataset, max_episodes: int = 200) -> torch.Tensor:
    """Robot states of up to `max_episodes` robot demos, to fit the state normalisation
    (a human demo's state is the hand's pose, not the robot's)."""
    states = []
    for task_id in dataset.task_ids:
        for episode in dataset.episodes_of(task_id):
            if episode.actions is None:
                continue
            states.append(np.asarray(episode.state, dtype=np.float32))
            if len(states) >= max_episodes:
                return torch.from_numpy(np.concatenate(states))
    return torch.from_numpy(np.concatenate(states))
