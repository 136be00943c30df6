"""The two baselines DAML is compared with (thesis 7.2.7, L3633-L3640; Tables 6-8).

- ``contextual``: a feed-forward policy that takes the robot's observation and the FINAL
  frame of the demonstration video, the demonstrator's end state, "to indicate the task"
  (L3633-L3634). One conv trunk serves both frames; 3 FC layers of 100 (L6944-L6945).
- ``da-lstm``: "a recurrent network that directly ingests the human demonstration video
  and the current robot observation" (L3635-L3638), the domain-adaptive version of Duan et
  al. (2017): an LSTM of 512 units (L6944) reads the feature points of the video frame by
  frame; its final hidden state joins the observation's feature points and robot state.

Both use DAML's conv trunk and spatial soft-argmax ("the same architecture for
convolutional layers as DAML", L6942-L6943), DAML's action head and auxiliary end-pose
head, and are trained on the same (video, robot demo) pairs with the same supervision
(L3644-L3646): behaviour cloning on the robot demo plus the end-pose MSE, by plain
gradient descent, no inner loop. Like DAML's inner step, the video side sees no robot
state and no actions: only frames.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from episodes import Dataset, EpisodeReader
from metalearn.checkpoint import (CheckpointError, load_kind, load_state, make_manifest,
                                  save_checkpoint)
from metalearn.layers import ConvTrunk, SpatialSoftArgmax
from meta_policy.config import VisionPolicyConfig
from meta_policy.daml_config import ACTION_KINDS, DAMLConfig, DAMLTrainConfig
from meta_policy.daml_data import (ClipSpec, DAMLBatch, PairSampler, augment_colour,
                                   channels_first, colour_jitter, evaluation_clip, task_tensors,
                                   trained_clip_frames)
from meta_policy.daml_policy import (DAMLOutput, bc_loss, frames_to_input, mixture_params,
                                     select_action)
from meta_policy.daml_train import clip_spec
from meta_policy.data import all_states
from meta_policy.policy import StateNorm
from meta_policy.train import metrics_path, outer_loop
from meta_policy.video import clip_indices, load_video

KINDS = ("contextual", "da-lstm")
ACTION_SAMPLES = 100  # test-time samples of a mixture head, as DAML (L6950)


@dataclass
class VideoBaselineConfig(VisionPolicyConfig):
    """A video-conditioned baseline: DAML's trunk and heads plus the conditioning network.

    The image, robot, conv and head fields mean what they mean in :class:`DAMLConfig`
    (defaults: the push twin's); build one from a DAML configuration with
    :meth:`from_daml` so both share the conv layers. ``fc_hidden``: 3 x 100 for the
    contextual model (L6944-L6945); the thesis gives no FC size for the LSTM, which uses
    the same. ``lstm_hidden``: 512 units (L6944), used by ``da-lstm`` only.
    """

    kind: str = "contextual"
    image_size: tuple[int, int] = (64, 64)
    state_dim: int = 21
    action_dim: int = 7
    conv_channels: tuple[int, ...] = (16, 16, 16, 32)
    kernel_sizes: tuple[int, ...] = (5, 5, 5, 5)
    strides: tuple[int, ...] = (2, 2, 2, 1)
    fc_hidden: tuple[int, ...] = (100, 100, 100)
    action_kind: str = "torque"
    mixture_modes: int = 20
    aux_pose_dim: int = 3
    lstm_hidden: int = 512

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"VideoBaselineConfig.kind must be one of {KINDS}, got {self.kind!r}")
        if self.action_kind not in ACTION_KINDS:
            raise ValueError(f"VideoBaselineConfig.action_kind must be one of {ACTION_KINDS}, "
                             f"got {self.action_kind!r}")
        if not self.fc_hidden or min(self.action_dim, self.mixture_modes, self.lstm_hidden) < 1:
            raise ValueError(f"VideoBaselineConfig sizes must be positive: {self}")

    @classmethod
    def from_daml(cls, daml: DAMLConfig, kind: str, **overrides: Any) -> "VideoBaselineConfig":
        """The baseline ``kind`` with the camera, robot, conv layers and heads of ``daml``."""
        shared = {f.name: getattr(daml, f.name) for f in fields(cls) if hasattr(daml, f.name)}
        shared.pop("fc_hidden")  # the baselines' own FC sizes (L6944-L6945)
        return cls(**{**shared, "kind": kind, **overrides})


class VideoBaseline(nn.Module):
    """pi(a_t | video, o_t, s_t): ``encode`` turns a video into a context vector once,
    ``policy`` runs on the current frames and robot state given that context.

    frames -> conv trunk -> feature points f; [context, f, pose(f), normalised state] ->
    FC layers with layer norm and ReLU (as DAML's, L6940-L6941) -> action head. The pose
    head predicts the gripper's final position from f and feeds it to the FC layers, as in
    DAML (L3538-L3546). Outputs are :class:`DAMLOutput`, so DAML's losses and action
    selection apply unchanged.
    """

    def __init__(self, cfg: VideoBaselineConfig, context_dim: int) -> None:
        super().__init__()
        self.cfg = cfg
        self.trunk = ConvTrunk(3, cfg.conv_channels, cfg.kernel_sizes, cfg.strides)
        self.keypoints = SpatialSoftArgmax(cfg.keypoint_temperature)
        self.state_norm = StateNorm(cfg.state_dim)
        self.points_dim = 2 * cfg.conv_channels[-1]
        self.pose_head = nn.Linear(self.points_dim, cfg.aux_pose_dim) if cfg.aux_pose_dim else None
        self.fc = _fc_layers(context_dim + self.points_dim + cfg.aux_pose_dim + cfg.state_dim,
                             cfg.fc_hidden)
        mixture = cfg.action_kind == "ee_velocity_gripper"
        head = cfg.mixture_modes * (1 + 2 * cfg.action_dim) if mixture else cfg.action_dim
        self.action_head = nn.Linear(cfg.fc_hidden[-1], head)
        self.gripper_head = nn.Linear(cfg.fc_hidden[-1], 1) if mixture else None

    def points(self, frames: torch.Tensor) -> torch.Tensor:
        """Feature points [..., 2C] of frames [..., 3, H, W] (uint8 or float in [0, 1])."""
        flat = frames_to_input(frames.reshape(-1, *frames.shape[-3:]))
        return self.keypoints(self.trunk(flat)).reshape(*frames.shape[:-3], self.points_dim)

    def encode(self, video: torch.Tensor) -> torch.Tensor:
        """Context [B, D] of videos [B, T, 3, H, W]."""
        raise NotImplementedError

    def policy(self, context: torch.Tensor, frames: torch.Tensor,
               state: torch.Tensor) -> DAMLOutput:
        """Outputs [B, N, ...] for frames [B, N, 3, H, W] and state [B, N, ds] under the
        contexts [B, D] of their tasks."""
        points = self.points(frames)
        pose = self.pose_head(points) if self.pose_head is not None else None
        inputs = [context[:, None].expand(-1, points.shape[1], -1), points,
                  *([] if pose is None else [pose]), self.state_norm(state)]
        hidden = self.fc(torch.cat(inputs, dim=-1))
        head = self.action_head(hidden)
        if self.gripper_head is None:
            return DAMLOutput(points, hidden, pose, head, None, None)
        mixture = mixture_params(head, self.cfg.mixture_modes, self.cfg.action_dim)
        return DAMLOutput(points, hidden, pose, None, mixture, self.gripper_head(hidden)[..., 0])

    def forward(self, video: torch.Tensor, frames: torch.Tensor, state: torch.Tensor) -> DAMLOutput:
        return self.policy(self.encode(video), frames, state)


class ContextualBaseline(VideoBaseline):
    """The contextual policy: the context is the feature points of the video's last frame
    (L3633-L3634), from the same trunk as the observation's."""

    def __init__(self, cfg: VideoBaselineConfig) -> None:
        super().__init__(cfg, 2 * cfg.conv_channels[-1])

    def encode(self, video: torch.Tensor) -> torch.Tensor:
        return self.points(video[:, -1])


class DALSTMBaseline(VideoBaseline):
    """The DA-LSTM policy: an LSTM over the video's per-frame feature points; the context
    is its hidden state after the last frame (L3635-L3638, L6944)."""

    def __init__(self, cfg: VideoBaselineConfig) -> None:
        super().__init__(cfg, cfg.lstm_hidden)
        self.lstm = nn.LSTM(self.points_dim, cfg.lstm_hidden, batch_first=True)

    def encode(self, video: torch.Tensor) -> torch.Tensor:
        _, (hidden, _) = self.lstm(self.points(video))
        return hidden[-1]


def make_video_baseline(cfg: VideoBaselineConfig) -> VideoBaseline:
    """The network of ``cfg.kind``."""
    return ContextualBaseline(cfg) if cfg.kind == "contextual" else DALSTMBaseline(cfg)


def _fc_layers(in_features: int, hidden: tuple[int, ...]) -> nn.Sequential:
    """Linear -> layer norm -> ReLU for each hidden size (DAML's FC style, L6940-L6941)."""
    layers: list[nn.Module] = []
    for size in hidden:
        layers += [nn.Linear(in_features, size), nn.LayerNorm(size), nn.ReLU()]
        in_features = size
    return nn.Sequential(*layers)


def baseline_loss(model: VideoBaseline, batch: DAMLBatch,
                  aux_pose_weight: float = 1.0) -> torch.Tensor:
    """DAML's outer objective without adaptation (``DAMLObjective.outer_loss``): behaviour
    cloning on the robot demo given the video, plus the end-pose MSE (L3538-L3546)."""
    output = model(batch.video, batch.frames, batch.state)
    loss = bc_loss(output, batch.actions, batch.gripper)
    if output.pose is not None:
        target = batch.pose[:, None].expand_as(output.pose)
        loss = loss + aux_pose_weight * F.mse_loss(output.pose, target)
    return loss


# --- training -------------------------------------------------------------------------

def end_anchored_indices(count: int, length: int, rng: np.random.Generator) -> np.ndarray:
    """``length`` sorted frame indices of a ``count``-frame video whose last is the final
    frame: random ones before it, as DAML's training clips (B.3.1), while the end state,
    which the contextual model reads and the evenly spaced test-time clip always holds,
    is never missed."""
    if length == 1 or count == 1:
        return np.full(length, count - 1, dtype=np.int64)
    return np.append(clip_indices(count - 1, length - 1, rng), count - 1)


def make_baseline_batch(sampler: PairSampler, tasks: int, spec: ClipSpec) -> DAMLBatch:
    """A batch of ``tasks`` (video, robot demo) pairs as :func:`make_batch` draws them,
    except that each video clip ends on the video's final frame."""
    robot_only = replace(spec, video_frames=1)
    parts = []
    for task_id in sampler.tasks(tasks):
        video, demo = sampler.pair(task_id)
        index = end_anchored_indices(video.length, spec.video_frames, sampler.rng)
        jitter = colour_jitter(sampler.rng, spec.colour_shift)  # one draw for the whole task
        clip = augment_colour(channels_first(video.frames[index]), jitter)
        robot = task_tensors(video, demo, robot_only, sampler.rng, jitter)[1:]  # no 1-frame clip
        parts.append((clip, *robot))
    video, frames, state, actions, gripper, pose = (torch.stack(p) for p in zip(*parts))
    return DAMLBatch(video, frames, state, actions, gripper if spec.gripper else None, pose)


def baseline_spec(cfg: VideoBaselineConfig, train: DAMLTrainConfig, family: str) -> ClipSpec:
    """DAML's clip layout; the contextual model needs only each video's final frame."""
    spec = clip_spec(cfg, train, family)  # reads only action_kind and aux_pose_dim
    if cfg.kind == "contextual":
        return replace(spec, video_frames=1)
    return spec


def checkpoint_kind(kind: str) -> str:
    return f"daml-{kind}"


class VideoBaselineTrainer:
    """The baseline, its data and Adam: ``step_loss`` is one batch's loss, ``save`` writes
    the checkpoint. Batches are DAML's meta-batches, so both see the same data."""

    def __init__(self, cfg: VideoBaselineConfig, train: DAMLTrainConfig, dataset: Dataset) -> None:
        torch.manual_seed(train.seed)
        self.cfg, self.train, self.dataset = cfg, train, dataset
        self.sampler = PairSampler(dataset, train.video_from, np.random.default_rng(train.seed))
        self.spec = baseline_spec(cfg, train, dataset.family)
        self.device = torch.device(train.device)
        self.model = make_video_baseline(cfg)
        self.model.state_norm.fit(all_states(dataset))  # robot states only, as DAML
        self.model.to(self.device)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=train.meta_lr)

    def batch(self) -> DAMLBatch:
        return make_baseline_batch(self.sampler, self.train.meta_batch, self.spec).to(self.device)

    def step_loss(self, diagnose: bool = True) -> tuple[torch.Tensor, dict[str, float]]:
        return baseline_loss(self.model, self.batch(), self.train.aux_pose_weight), {}

    def save(self, out: Path, command: list[str], iteration: int) -> Path:
        data = {"dataset": str(self.dataset.root), "dataset_command": self.dataset.command,
                "family": self.dataset.family, "split": self.dataset.split,
                "tasks": len(self.sampler.task_ids), "episodes": len(self.dataset),
                "iterations": iteration, "train_config": asdict(self.train)}
        tensors = {k: v.detach().cpu() for k, v in self.model.state_dict().items()}
        config = {"kind": checkpoint_kind(self.cfg.kind), "policy": self.cfg.to_json()}
        manifest = make_manifest(command, self.train.seed, data=data)
        return save_checkpoint(out, tensors, config, manifest)


def train_video_baseline(data: Path, out: Path, cfg: VideoBaselineConfig, train: DAMLTrainConfig,
                         command: list[str], progress: bool = True) -> Path:
    """Train the baseline ``cfg.kind`` by behaviour cloning on the paired demos in ``data``
    with DAML's sampling, batch size and rate schedule (``train``); writes the checkpoint
    ``out`` and ``out``.metrics.jsonl."""
    trainer = VideoBaselineTrainer(cfg, train, Dataset(data))
    outer_loop(trainer.step_loss, trainer.optimizer, train, metrics_path(out),
               lambda iteration: trainer.save(out, command, iteration), progress)
    return out


# --- test time ------------------------------------------------------------------------

@dataclass
class TrainedVideoBaseline:
    """A baseline checkpoint, loaded: the network (eval mode) and how it was trained."""

    network: VideoBaseline
    path: Path
    manifest: dict

    @property
    def cfg(self) -> VideoBaselineConfig:
        return self.network.cfg

    @property
    def clip_frames(self) -> int:
        """Frames per video in training (``video_frames``), kept at test time too."""
        return trained_clip_frames(self.manifest)


def load_video_baseline(path: str | Path) -> TrainedVideoBaseline:
    """Load a checkpoint of :func:`train_video_baseline`; another kind, a config that does
    not parse or weights that do not fit are a CheckpointError."""
    path = Path(path)
    tensors, config, manifest = load_kind(path, *(checkpoint_kind(k) for k in KINDS))
    try:
        cfg = VideoBaselineConfig.from_json(config["policy"])
    except (KeyError, TypeError, ValueError) as e:
        raise CheckpointError(f"{path / 'config.json'}: bad policy config: {e}") from e
    if checkpoint_kind(cfg.kind) != config["kind"]:
        raise CheckpointError(f"{path / 'config.json'}: kind {config['kind']!r} but policy "
                              f"kind {cfg.kind!r}")
    network = make_video_baseline(cfg)
    load_state(network, tensors, source=str(path))
    return TrainedVideoBaseline(network.eval(), path, manifest)


class ConditionedBaseline:
    """A baseline with its video encoded once: ``act(image, state) -> action``."""

    def __init__(self, network: VideoBaseline, context: torch.Tensor, seed: int = 0) -> None:
        self.network, self.context = network.eval(), context
        self.generator = torch.Generator().manual_seed(seed)

    @torch.inference_mode()
    def act(self, image: np.ndarray, state: np.ndarray) -> np.ndarray:
        frame = channels_first(np.array(image)[None])[None]  # [1, 1, 3, H, W], a writable copy
        robot = torch.as_tensor(state, dtype=torch.float32)[None, None]
        output = self.network.policy(self.context, frame, robot)
        return select_action(output, ACTION_SAMPLES, self.generator)[0, 0].numpy()


class VideoBaselineMethod:
    """A trained baseline as an evaluation method (``oneshot.evaluate.Method``): it reads
    only the demonstration's frames, as DAML does, and encodes them once per demo."""

    def __init__(self, checkpoint: str | Path) -> None:
        self.model = load_video_baseline(checkpoint)
        self.name = self.model.cfg.kind
        self.image_size = tuple(self.model.cfg.image_size)

    def condition(self, demo: EpisodeReader) -> ConditionedBaseline:
        video = load_video(demo.path, self.image_size)
        # evenly spaced, as DAML adapts on; the last index is the video's final frame
        clip = evaluation_clip(video.frames, self.model.clip_frames)
        with torch.inference_mode():
            context = self.model.network.encode(clip[None])
        return ConditionedBaseline(self.model.network, context)
