"""Meta-batches of DAML: one video and one robot demonstration of each sampled task.

Algorithm 10 (L3402-L3420) adapts on a demonstration d^h without actions (a human video,
or in the thesis's no-domain-shift setting a robot's video, Table 8) and measures the
behaviour-cloning loss of the adapted policy on a robot demonstration d^r of the same task.
The two need not be synchronised or of equal length. From each, 40 frames are drawn at
random (B.3.1, L6904-L6906) and kept in time order, so the temporal loss reads motion.

Colour augmentation (B.3.4-B.3.5, L6978-L6980, L6996-L6998): hue, saturation and value
are shifted by one draw from U[-0.3, 0.3] per task, the same for its video and its robot
demo, which the thesis found makes the policy robust to lighting; frames leave here as
floats in [0, 1], channels first. One draw per task, not per clip: with independent draws
the video's hue could sit up to 0.6 of the colour wheel from the demo's, and a placing
task is told apart only by its container's colour.

Auxiliary pose target (L3538-L3546): placing supervises the last end-effector position
(the container is there); pushing the position where the end effector meets the target
object, which the thesis's demonstrator marks by hand and the twin's recorded layout
gives here (:func:`contact_step`). Only the contact pose says which object is pushed, so
it is what makes even a demo's first frames, before the arm commits, need the video.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from episodes import Dataset, EpisodeReader
from meta_policy.video import clip_indices, early_biased_indices

VideoSource = Literal["human", "robot"]


@dataclass
class DAMLBatch:
    """A meta-batch of B tasks. ``video``: [B, T, 3, H, W] (no actions, no state);
    ``frames``/``state``/``actions``: [B, N, ...] of the robot demo; ``gripper``: [B, N]
    0/1 targets (None for torque policies); ``pose``: [B, P] the robot's end-effector
    position at the end of its demo, the auxiliary target (L3538-L3546)."""

    video: torch.Tensor
    frames: torch.Tensor
    state: torch.Tensor
    actions: torch.Tensor
    gripper: torch.Tensor | None
    pose: torch.Tensor

    def __len__(self) -> int:
        return self.video.shape[0]

    def to(self, device: str | torch.device) -> "DAMLBatch":
        gripper = None if self.gripper is None else self.gripper.to(device)
        return DAMLBatch(self.video.to(device), self.frames.to(device), self.state.to(device),
                         self.actions.to(device), gripper, self.pose.to(device))

    def task(self, i: int) -> "DAMLBatch":
        """The one-task batch of task ``i`` (the per-task loop of the speed benchmark)."""
        gripper = None if self.gripper is None else self.gripper[i:i + 1]
        return DAMLBatch(self.video[i:i + 1], self.frames[i:i + 1], self.state[i:i + 1],
                         self.actions[i:i + 1], gripper, self.pose[i:i + 1])


def rgb_to_hsv(rgb: torch.Tensor) -> torch.Tensor:
    """[..., 3, H, W] RGB in [0, 1] -> HSV in [0, 1] (hue as a fraction of a turn)."""
    r, g, b = rgb.unbind(-3)
    value, argmax = rgb.max(-3)
    chroma = value - rgb.min(-3).values
    safe = chroma.clamp_min(1e-8)
    hue = torch.where(argmax == 0, ((g - b) / safe) % 6,
                      torch.where(argmax == 1, (b - r) / safe + 2, (r - g) / safe + 4))
    hue = torch.where(chroma > 0, hue / 6, torch.zeros_like(hue))
    saturation = torch.where(value > 0, chroma / value.clamp_min(1e-8), torch.zeros_like(value))
    return torch.stack([hue, saturation, value], dim=-3)


def hsv_to_rgb(hsv: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`rgb_to_hsv`."""
    hue, saturation, value = hsv.unbind(-3)
    k = (torch.tensor([5.0, 3.0, 1.0], device=hsv.device)[:, None, None] + hue.unsqueeze(-3) * 6) % 6
    weight = torch.clamp(torch.minimum(k, 4 - k), 0, 1)
    return value.unsqueeze(-3) * (1 - saturation.unsqueeze(-3) * weight)


def colour_jitter(rng: np.random.Generator, shift: float) -> np.ndarray:
    """One draw of hue, saturation and value offsets from U[-shift, shift] (zeros for
    ``shift`` 0; three numbers are drawn either way, so the shift leaves the rest of a
    batch's sampling unchanged)."""
    return rng.uniform(-1.0, 1.0, size=3) * max(shift, 0.0)


def augment_colour(clip: torch.Tensor, jitter: np.ndarray) -> torch.Tensor:
    """uint8 [T, 3, H, W] -> float [0, 1] with hue, saturation and value moved by the
    offsets ``jitter`` (see :func:`colour_jitter`; hue wraps, the others are clamped)."""
    images = clip.float().div(255.0)
    if not np.any(jitter):
        return images
    dh, ds, dv = jitter
    hsv = rgb_to_hsv(images)
    hue = (hsv[..., 0, :, :] + dh) % 1.0
    saturation = (hsv[..., 1, :, :] + ds).clamp(0, 1)
    value = (hsv[..., 2, :, :] + dv).clamp(0, 1)
    return hsv_to_rgb(torch.stack([hue, saturation, value], dim=-3))


def channels_first(frames: np.ndarray) -> torch.Tensor:
    """uint8 [T, H, W, 3] -> [T, 3, H, W], contiguous (vmapped group norm needs it)."""
    return torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).contiguous()


def trained_clip_frames(manifest: dict) -> int:
    """Frames per video a checkpoint was trained on (its ``video_frames``; 40 if unrecorded,
    the thesis's number, B.3.1)."""
    train = (manifest.get("data") or {}).get("train_config") or {}
    return int(train.get("video_frames", 40))


def evaluation_clip(frames: np.ndarray, length: int) -> torch.Tensor:
    """``length`` frames spaced evenly over a whole video [T, H, W, 3], channels first: at
    test time the model sees the video as training showed it, start to end."""
    return channels_first(frames[clip_indices(len(frames), length, None)])


class PairSampler:
    """Draws tasks with their (video, robot demo) pairs from a dataset of both demonstrators.

    ``video_from='human'``: the video is one of the task's human demos (Table 6, 7);
    ``'robot'``: another robot demo of the task with its actions dropped (Table 8).
    """

    def __init__(self, dataset: Dataset, video_from: VideoSource, rng: np.random.Generator) -> None:
        if video_from not in ("human", "robot"):
            raise ValueError(f"video_from must be 'human' or 'robot', got {video_from!r}")
        self.dataset, self.video_from, self.rng = dataset, video_from, rng
        self.task_ids = [t for t in dataset.task_ids if self._usable(t)]
        if not self.task_ids:
            need = "a human and a robot demo" if video_from == "human" else "two robot demos"
            raise ValueError(f"dataset {dataset.root} has no task with {need}")

    def _split(self, task_id: int) -> tuple[list[EpisodeReader], list[EpisodeReader]]:
        episodes = self.dataset.episodes_of(task_id)
        robot = [e for e in episodes if e.actions is not None]
        human = [e for e in episodes if e.actions is None]
        return human, robot

    def _usable(self, task_id: int) -> bool:
        human, robot = self._split(task_id)
        return len(robot) >= 2 if self.video_from == "robot" else bool(human and robot)

    def tasks(self, n: int) -> list[int]:
        replace = n > len(self.task_ids)
        return [int(t) for t in self.rng.choice(self.task_ids, size=n, replace=replace)]

    def pair(self, task_id: int) -> tuple[EpisodeReader, EpisodeReader]:
        """(video demo, robot demo) of one task; two different demos."""
        human, robot = self._split(task_id)
        if self.video_from == "robot":
            i, j = self.rng.choice(len(robot), size=2, replace=False)
            return robot[i], robot[j]
        return human[self.rng.integers(len(human))], robot[self.rng.integers(len(robot))]


POSE_INDEX = 14  # where the end-effector position starts in both twins' robot state


@dataclass(frozen=True)
class ClipSpec:
    """How a meta-batch is cut from demos: frames per clip, colour shift, action layout.

    ``gripper``: the robot's actions end with a gripper command in [-1, 1] (closed when
    > 0) that the policy predicts with its own head; ``pose_index``: where the end-effector
    position starts in the robot state (both twins keep it at 14, after 7 joint angles and
    7 velocities); ``pose_dim``: its length, 0 for no auxiliary target.
    """

    video_frames: int = 40
    demo_frames: int = 40
    early_frames: int = 0     # of the demo's frames, drawn from its first `early_window`
    early_window: int = 25
    colour_shift: float = 0.3
    gripper: bool = False
    pose_index: int = POSE_INDEX
    pose_dim: int = 3
    pose_at_contact: bool = False  # pushing: the pose at contact; else the final pose


def task_tensors(video: EpisodeReader, demo: EpisodeReader, spec: ClipSpec,
                 rng: np.random.Generator,
                 jitter: np.ndarray | None = None) -> tuple[torch.Tensor, ...]:
    """One task's (video clip, demo frames, state, actions, gripper, pose), both clips
    colour-shifted by ``jitter`` (one new draw when None)."""
    jitter = colour_jitter(rng, spec.colour_shift) if jitter is None else jitter
    video_clip = channels_first(video.frames[clip_indices(video.length, spec.video_frames, rng)])
    if spec.early_frames:
        index = early_biased_indices(demo.length, spec.demo_frames, spec.early_frames,
                                     spec.early_window, rng)
    else:
        index = clip_indices(demo.length, spec.demo_frames, rng)
    actions = torch.from_numpy(np.asarray(demo.actions[index], dtype=np.float32))
    gripper = (actions[:, -1] > 0).float() if spec.gripper else torch.zeros(0)
    if spec.gripper:
        actions = actions[:, :-1]
    pose = pose_target(demo, spec.pose_index, spec.pose_dim, spec.pose_at_contact)
    return (augment_colour(video_clip, jitter),
            augment_colour(channels_first(demo.frames[index]), jitter),
            torch.from_numpy(np.asarray(demo.state[index], dtype=np.float32)),
            actions, gripper, pose)


PUSHING = ("push", "sawyer-push")  # families whose pose target is the contact pose (L3542)


def pose_target(demo: EpisodeReader, pose_index: int, pose_dim: int,
                at_contact: bool) -> torch.Tensor:
    """The auxiliary head's target (L3538-L3546): the end-effector pose [pose_dim] at contact
    (pushing) or at the demo's end (placing)."""
    step = contact_step(demo, pose_index) if at_contact else demo.length - 1
    pose = np.array(demo.state[step], dtype=np.float32)[pose_index:pose_index + pose_dim]
    return torch.from_numpy(pose)


def contact_step(demo: EpisodeReader, pose_index: int) -> int:
    """The step at which a pushing demo's end effector meets the target: the one closest to
    the target's recorded start position at the height the push ends at (a pusher passing
    over the object on its way behind it is higher, so it does not count)."""
    start = (demo.meta.get("scene") or {}).get("target_pos")
    if start is None:
        raise ValueError(f"{demo.path}: its scene records no target_pos, so the contact pose "
                         f"of a pushing demo cannot be found")
    position = np.asarray(demo.state, dtype=np.float64)[:, pose_index:pose_index + 3]
    touch = np.array([start[0], start[1], position[-1, 2]])
    return int(np.argmin(np.linalg.norm(position - touch, axis=1)))


def make_batch(sampler: PairSampler, tasks: int, spec: ClipSpec) -> DAMLBatch:
    """A meta-batch of ``tasks`` tasks drawn by ``sampler``."""
    parts = [task_tensors(*sampler.pair(t), spec, sampler.rng) for t in sampler.tasks(tasks)]
    video, frames, state, actions, gripper, pose = (torch.stack(p) for p in zip(*parts))
    return DAMLBatch(video, frames, state, actions, gripper if spec.gripper else None, pose)
