"""Meta-training of DAML (thesis Algorithm 10, L3402-L3420; B.3).

For each task of a meta-batch: adapt the policy on a video with the learned loss,
phi = theta - alpha grad_theta L_psi(theta, video) (robot state zeroed), then score phi by
behaviour cloning on a robot demo of the same task plus the auxiliary end-pose error.
Adam updates theta and psi through the second-order inner step.

The meta-batch is one tensor program: every parameter gets a leading task dimension
(``theta.expand(B, ...)``), the policy runs under ``torch.func.vmap``, and the inner loss is
the sum of the per-task losses, so each task's slice of the gradient is its own (see
metalearn.maml). ``DAMLObjective`` holds theta, psi and the inner loop in one module, so
``DistributedDataParallel`` can wrap it for multi-GPU training with ``torchrun``.
"""
from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from torch.func import vmap

from episodes import Dataset
from metalearn.checkpoint import make_manifest, save_checkpoint
from metalearn.maml import InnerConfig, InnerLoop, Params, functional, params_of, per_task
from meta_policy.adaptation_loss import inner_objective, make_adaptation_loss
from meta_policy.daml_config import DAMLConfig, DAMLTrainConfig
from meta_policy.daml_data import PUSHING, ClipSpec, DAMLBatch, PairSampler, make_batch
from meta_policy.daml_policy import DAMLOutput, DAMLPolicy, bc_loss
from meta_policy.data import all_states
from meta_policy.train import metrics_path, outer_loop


def make_inner_loop(policy: DAMLPolicy) -> InnerLoop:
    """A fixed inner rate alpha over all policy parameters, clipped (B.3.3, B.3.6)."""
    cfg = policy.cfg
    inner = InnerConfig(steps=cfg.inner_steps, lr=cfg.inner_lr, lr_mode="fixed",
                        grad_clip=cfg.inner_grad_clip, first_order=cfg.first_order)
    return InnerLoop(inner, params_of(policy))


class DAMLObjective(nn.Module):
    """theta (the policy), psi (the learned loss) and the inner loop: ``forward(batch)`` is
    the meta-objective of Algorithm 10 on a meta-batch."""

    def __init__(self, cfg: DAMLConfig, aux_pose_weight: float = 1.0) -> None:
        super().__init__()
        self.cfg = cfg
        self.policy = DAMLPolicy(cfg)
        self.learned_loss = make_adaptation_loss(cfg)
        self.inner = make_inner_loop(self.policy)
        self.aux_pose_weight = aux_pose_weight

    def inner_loss(self, params: Params, video: torch.Tensor) -> torch.Tensor:
        """Sum over tasks of L_psi(params_i, video_i); state input zeroed (L6957-L6958)."""
        def one(p: Params, clip: torch.Tensor) -> torch.Tensor:
            return inner_objective(self.policy, p, self.learned_loss, clip)
        return vmap(one)(params, video).sum()

    def adapt(self, params: Params, video: torch.Tensor, *, create_graph: bool | None = None,
              steps: int | None = None, rate_scale: float = 1.0) -> Params:
        """Task-batched params [B, ...] adapted on videos [B, T, 3, H, W]."""
        return self.inner.adapt(params, lambda p: self.inner_loss(p, video),
                                create_graph=create_graph, steps=steps, rate_scale=rate_scale)

    def run(self, params: Params, frames: torch.Tensor, state: torch.Tensor) -> DAMLOutput:
        """The task-batched policy on frames [B, N, 3, H, W] and state [B, N, ds]."""
        def one(p: Params, f: torch.Tensor, s: torch.Tensor) -> dict[str, Any]:
            output = functional(self.policy, p, f, s)._asdict()
            return {name: value for name, value in output.items() if value is not None}
        outputs = vmap(one)(params, frames, state)  # vmap returns tensors only, not None
        return DAMLOutput(**{name: outputs.get(name) for name in DAMLOutput._fields})

    def outer_loss(self, params: Params, batch: DAMLBatch) -> torch.Tensor:
        """Behaviour cloning on the robot demos + the auxiliary end-pose MSE (L3538-L3546)."""
        output = self.run(params, batch.frames, batch.state)
        loss = bc_loss(output, batch.actions, batch.gripper)
        if output.pose is not None:
            target = batch.pose[:, None].expand_as(output.pose)
            loss = loss + self.aux_pose_weight * F.mse_loss(output.pose, target)
        return loss

    def forward(self, batch: DAMLBatch) -> torch.Tensor:
        theta = per_task(params_of(self.policy), len(batch))
        return self.outer_loss(self.adapt(theta, batch.video), batch)

    @torch.no_grad()
    def unadapted_loss(self, batch: DAMLBatch) -> float:
        """The outer loss of theta itself: what adaptation has to improve on."""
        return float(self.outer_loss(per_task(params_of(self.policy), len(batch)), batch))


def clip_spec(cfg: DAMLConfig, train: DAMLTrainConfig, family: str) -> ClipSpec:
    """How meta-batches of demos of ``family`` are cut for this policy and outer loop."""
    return ClipSpec(train.video_frames, train.demo_frames, train.early_frames, train.early_window,
                    train.colour_shift, gripper=cfg.action_kind == "ee_velocity_gripper",
                    pose_dim=cfg.aux_pose_dim, pose_at_contact=family in PUSHING)


def checkpoint_config(cfg: DAMLConfig) -> dict:
    return {"kind": "daml", "policy": cfg.to_json()}


class DAMLTrainer:
    """The objective, its data and Adam, on one process (or one rank of ``torchrun``)."""

    def __init__(self, cfg: DAMLConfig, train: DAMLTrainConfig, dataset: Dataset) -> None:
        self.rank, self.world = _distributed_rank()
        if train.meta_batch % self.world:
            raise ValueError(f"meta_batch {train.meta_batch} must divide among {self.world} ranks")
        if self.world > 1 and train.max_minutes is not None:
            raise ValueError("--max-minutes stops each rank on its own clock; under torchrun "
                             "size the run with --iterations")
        torch.manual_seed(train.seed)  # the same theta and psi on every rank
        self.cfg, self.train, self.dataset = cfg, train, dataset
        rng = np.random.default_rng([train.seed, self.rank])
        self.sampler = PairSampler(dataset, train.video_from, rng)
        self.spec = clip_spec(cfg, train, dataset.family)
        self.device = _device(train.device, self.rank)
        self.objective = DAMLObjective(cfg, train.aux_pose_weight)
        self.objective.policy.state_norm.fit(all_states(dataset))
        self.objective.to(self.device)
        self.model: nn.Module = self.objective
        if self.world > 1:
            self.model = nn.parallel.DistributedDataParallel(self.objective)
        self.optimizer = torch.optim.Adam(self.objective.parameters(), lr=train.meta_lr)

    def batch(self) -> DAMLBatch:
        return make_batch(self.sampler, self.train.meta_batch // self.world, self.spec).to(self.device)

    def meta_loss(self, diagnose: bool = True) -> tuple[torch.Tensor, dict[str, float]]:
        """The meta-objective on a fresh meta-batch, and (when logging) the unadapted loss."""
        batch = self.batch()
        loss = self.model(batch)
        return loss, ({"unadapted_loss": self.objective.unadapted_loss(batch)} if diagnose else {})

    def save(self, out: Path, command: list[str], iteration: int) -> Path | None:
        if self.rank != 0:
            return None
        data = {"dataset": str(self.dataset.root), "dataset_command": self.dataset.command,
                "family": self.dataset.family, "split": self.dataset.split,
                "tasks": len(self.sampler.task_ids), "episodes": len(self.dataset),
                "iterations": iteration, "world_size": self.world,
                "train_config": asdict(self.train)}
        tensors = {k: v.detach().cpu() for k, v in self.objective.state_dict().items()}
        return save_checkpoint(out, tensors, checkpoint_config(self.cfg),
                               make_manifest(command, self.train.seed, data=data))


def _distributed_rank() -> tuple[int, int]:
    """(rank, world size): joins the process group when started by ``torchrun``."""
    if "WORLD_SIZE" not in os.environ or int(os.environ["WORLD_SIZE"]) == 1:
        return 0, 1
    if not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend)
    return dist.get_rank(), dist.get_world_size()


def _device(name: str, rank: int) -> torch.device:
    if name == "cuda":
        if not torch.cuda.is_available():
            raise ValueError("--device cuda: no CUDA device is visible to torch")
        local = int(os.environ.get("LOCAL_RANK", rank))
        torch.cuda.set_device(local)
        return torch.device("cuda", local)
    return torch.device(name)


def train_daml(data: Path, out: Path, cfg: DAMLConfig, train: DAMLTrainConfig,
               command: list[str], progress: bool = True) -> Path:
    """Meta-train DAML on the paired demos in ``data``; writes the checkpoint ``out`` (rank 0)
    and ``out``.metrics.jsonl."""
    trainer = DAMLTrainer(cfg, train, Dataset(data))
    lead = trainer.rank == 0
    outer_loop(trainer.meta_loss, trainer.optimizer, train, metrics_path(out) if lead else None,
               lambda iteration: trainer.save(out, command, iteration), progress and lead)
    if trainer.world > 1:
        dist.destroy_process_group()
    return out
