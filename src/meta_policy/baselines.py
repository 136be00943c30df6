"""Baselines of the MIL comparison (thesis L3049-L3056): random and contextual policies.

- random: actions drawn from a standard normal, clipped to the action box by the env.
- contextual: a feed-forward policy that sees the demo's final frame (the goal) beside the
  current frame, trained by plain behaviour cloning on the same demos MIL meta-trains on.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from episodes import Dataset, EpisodeReader
from metalearn.checkpoint import load_kind, load_state, make_manifest, save_checkpoint
from metalearn.layers import ConvTrunk, SpatialSoftArgmax, mlp
from meta_policy.config import ContextualConfig, TrainConfig
from meta_policy.data import Demo, TaskSampler, all_states, load_demo
from meta_policy.policy import StateNorm, image_to_input
from meta_policy.train import metrics_path, outer_loop


class RandomPolicy:
    """Standard-normal actions (the thesis's random baseline)."""

    def __init__(self, action_dim: int, seed: int = 0) -> None:
        self.action_dim = action_dim
        self.rng = np.random.default_rng(seed)

    def act(self, image: np.ndarray, state: np.ndarray) -> np.ndarray:
        return self.rng.standard_normal(self.action_dim).astype(np.float32)


class ContextualPolicy(nn.Module):
    """(final demo frame, current frame, state) -> action, one trunk shared by both frames."""

    def __init__(self, cfg: ContextualConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.trunk = ConvTrunk(3, cfg.conv_channels, cfg.kernel_sizes, cfg.strides)
        self.keypoints = SpatialSoftArgmax(cfg.keypoint_temperature)
        self.state_norm = StateNorm(cfg.state_dim)
        features = 4 * cfg.conv_channels[-1] + cfg.state_dim
        self.head = mlp(features, cfg.fc_hidden, cfg.action_dim)

    def points(self, images: torch.Tensor) -> torch.Tensor:
        return self.keypoints(self.trunk(image_to_input(images)))

    def forward(self, goal: torch.Tensor, images: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        goal_points = self.points(goal).expand(images.shape[0], -1)
        features = torch.cat([goal_points, self.points(images), self.state_norm(state)], dim=-1)
        return self.head(features)


class ConditionedContextual:
    """A contextual policy with its goal frame fixed from one demo: `act(image, state)`."""

    def __init__(self, network: ContextualPolicy, goal: torch.Tensor) -> None:
        self.network, self.goal = network.eval(), goal

    @torch.inference_mode()
    def act(self, image: np.ndarray, state: np.ndarray) -> np.ndarray:
        images = torch.from_numpy(np.ascontiguousarray(image))[None]
        states = torch.as_tensor(state, dtype=torch.float32)[None]
        return self.network(self.goal, images, states)[0].numpy()


def condition_contextual(network: ContextualPolicy, demo: EpisodeReader) -> ConditionedContextual:
    cfg = network.cfg
    tensors = load_demo(demo, cfg.image_size, cfg.state_dim, cfg.action_dim)
    return ConditionedContextual(network, tensors.frames[-1:])


def _bc_loss(network: ContextualPolicy, sampler: TaskSampler, train: TrainConfig) -> torch.Tensor:
    losses = []
    for task_id in sampler.tasks(train.meta_batch):
        context, target = sampler.demo_pair(task_id)
        goal = torch.from_numpy(np.asarray(context.frames[-1:]))
        demo: Demo = sampler.frames(target, train.frames_per_demo, train.early_frames,
                                    train.early_window)
        losses.append(F.mse_loss(network(goal, demo.frames, demo.state), demo.actions))
    return torch.stack(losses).mean()


def train_contextual(
    data: Path, out: Path, cfg: ContextualConfig, train: TrainConfig, command: list[str],
    progress: bool = True,
) -> Path:
    """Behaviour-clone the contextual baseline on the same demos and sampling as MIL."""
    torch.manual_seed(train.seed)
    dataset = Dataset(data)
    sampler = TaskSampler(dataset, np.random.default_rng(train.seed))
    network = ContextualPolicy(cfg)
    network.state_norm.fit(all_states(dataset))
    optimizer = torch.optim.Adam(network.parameters(), lr=train.meta_lr)

    def save(iteration: int) -> None:
        data_info = {"dataset": str(dataset.root), "dataset_command": dataset.command,
                     "tasks": len(dataset.task_ids),
                     "episodes": len(dataset), "iterations": iteration}
        save_checkpoint(out, {k: v.detach().cpu() for k, v in network.state_dict().items()},
                        {"kind": "contextual", "policy": cfg.to_json()},
                        make_manifest(command, train.seed, data=data_info))

    outer_loop(lambda _: (_bc_loss(network, sampler, train), {}), optimizer, train,
               metrics_path(out), save, progress)
    return out


def load_contextual(path: str | Path) -> ContextualPolicy:
    path = Path(path)
    tensors, config, _ = load_kind(path, "contextual")
    network = ContextualPolicy(ContextualConfig.from_json(config["policy"]))
    load_state(network, tensors, source=str(path))
    return network.eval()
