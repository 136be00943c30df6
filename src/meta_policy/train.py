"""Meta-training of the MIL policy (thesis Algorithm 9, L2826), and the shared outer loop.

For each task of a meta-batch, two robot demos are drawn: the inner loop adapts the policy
on frames of the first (behaviour cloning, Eq. 19, or the two-head learned loss, Eq. 20),
and the adapted policy's behaviour cloning loss on frames of the second is the
meta-objective (Eq. 21), plus, with an auxiliary pose head, the error of its predicted
contact pose against the second demo's (as DAML's, L3538-L3546). Adam updates the initial
parameters and the learned inner rates; the meta-gradient is clipped element-wise.
"""
from __future__ import annotations

import json
import math
import time
from contextlib import nullcontext
from dataclasses import asdict
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from episodes import Dataset
from metalearn.checkpoint import make_manifest, save_checkpoint
from metalearn.maml import InnerConfig, InnerLoop, Params, functional, meta_step, params_of
from meta_policy.config import MILConfig, OuterLoopConfig, TrainConfig
from meta_policy.daml_data import POSE_INDEX, PUSHING, pose_target
from meta_policy.data import Demo, TaskSampler, all_states
from meta_policy.policy import MILPolicy


def bc_loss(policy: torch.nn.Module, params: Params, demo: Demo) -> torch.Tensor:
    """Behaviour-cloning MSE of `policy` with `params` on one demo (thesis Eq. 19)."""
    predicted = functional(policy, params, demo.frames, demo.state)
    return F.mse_loss(predicted, demo.actions)


def outer_loss(policy: MILPolicy, params: Params, demo: Demo, pose: torch.Tensor | None,
               pose_weight: float) -> torch.Tensor:
    """The meta-objective on one held-out demo: behaviour cloning (Eq. 21) plus, when the
    policy has the auxiliary head, ``pose_weight`` times the MSE of its per-frame predicted
    contact pose against the demo's ``pose`` [aux_pose_dim]."""
    if policy.pose_head is None:
        return bc_loss(policy, params, demo)
    predicted, predicted_pose = functional(policy, params, demo.frames, demo.state,
                                           head="action_and_pose")
    return (F.mse_loss(predicted, demo.actions)
            + pose_weight * F.mse_loss(predicted_pose, pose.expand_as(predicted_pose)))


def inner_loss(policy: MILPolicy, params: Params, demo: Demo) -> torch.Tensor:
    """The loss the inner step descends on one demo.

    Single head: behaviour cloning (Eq. 19). Two heads: the learned loss of Eq. 20,
    ||W h_t + b - a_t||^2 with (W, b) the pre-update head (L2876-L2890), averaged over
    frames and action dimensions like `bc_loss` so both have the same scale for the inner
    rate. MIL adapts from a robot demo, so the actions stay in the loss. (W, b) are
    meta-learned through the inner gradient only, so they need second-order MAML: with
    `first_order` they get no meta-gradient and stay at their initialisation.
    """
    if not policy.cfg.two_head:
        return bc_loss(policy, params, demo)
    predicted = functional(policy, params, demo.frames, demo.state, head="pre_update")
    return F.mse_loss(predicted, demo.actions)


def make_inner_loop(policy: MILPolicy) -> InnerLoop:
    """The inner loop over the parameters `cfg.adapt_prefixes` names (all when empty),
    minus the two heads of the two-head architecture (`MILPolicy.meta_only_prefixes`)."""
    cfg = policy.cfg
    inner = InnerConfig(
        steps=cfg.inner_steps,
        lr=cfg.inner_lr,
        lr_mode=cfg.inner_lr_mode,
        grad_clip=cfg.inner_grad_clip,
        first_order=cfg.first_order,
    )
    prefixes = tuple(cfg.adapt_prefixes)
    fixed = policy.meta_only_prefixes()

    def adapted(name: str) -> bool:
        return (not prefixes or name.startswith(prefixes)) and not name.startswith(fixed)

    return InnerLoop(inner, params_of(policy), adapted)


def adapt_on_demo(
    policy: MILPolicy, inner: InnerLoop, params: Params, demo: Demo,
    create_graph: bool | None = None, steps: int | None = None, rate_scale: float = 1.0,
) -> Params:
    """phi = theta - alpha * grad L_inner(theta, demo): the one-shot adaptation of MIL (with
    ``steps`` such steps, rates times ``rate_scale``, at test time)."""
    return adapt_on_demos(policy, inner, params, [demo], create_graph, steps, rate_scale)


def adapt_on_demos(
    policy: MILPolicy, inner: InnerLoop, params: Params, demos: Sequence[Demo],
    create_graph: bool | None = None, steps: int | None = None, rate_scale: float = 1.0,
) -> Params:
    """K-shot adaptation by averaging the inner gradients of K demos (thesis L3183-L3186:
    5-shot MIL "averaged the gradient" of a policy meta-trained for one shot).

    Each step descends the mean of the per-demo inner losses, whose gradient is the mean
    of the per-demo gradients; the inner clip then applies to that mean, as it does to one
    demo's gradient. Demos may differ in length: each is averaged over its own frames.
    """
    if not demos:
        raise ValueError("adapt_on_demos needs at least one demo")

    def loss(p: Params) -> torch.Tensor:
        return torch.stack([inner_loss(policy, p, demo) for demo in demos]).mean()

    return inner.adapt(params, loss, create_graph=create_graph, steps=steps, rate_scale=rate_scale)


def mil_checkpoint_tensors(policy: MILPolicy, inner: InnerLoop) -> dict[str, torch.Tensor]:
    tensors = {f"policy.{k}": v.detach().cpu() for k, v in policy.state_dict().items()}
    tensors.update({f"inner.{k}": v.detach().cpu() for k, v in inner.state_dict().items()})
    return tensors


def mil_checkpoint_config(cfg: MILConfig) -> dict:
    return {"kind": "mil", "policy": cfg.to_json()}


class MILTrainer:
    """Holds the policy, its inner loop and Adam; `meta_loss` is one meta-batch's objective."""

    def __init__(self, cfg: MILConfig, train: TrainConfig, dataset: Dataset) -> None:
        torch.manual_seed(train.seed)
        self.cfg, self.train, self.dataset = cfg, train, dataset
        self.sampler = TaskSampler(dataset, np.random.default_rng(train.seed))
        self.policy = MILPolicy(cfg)
        self.policy.state_norm.fit(all_states(dataset))
        self.policy.to(train.device)
        self.inner = make_inner_loop(self.policy).to(train.device)
        learned = list(self.policy.parameters()) + list(self.inner.parameters())
        self.optimizer = torch.optim.Adam(learned, lr=train.meta_lr)
        self.poses: dict[str, torch.Tensor] = {}  # auxiliary targets, one per demo file

    def pose_of(self, episode) -> torch.Tensor | None:
        """The auxiliary head's target for ``episode``: its end-effector position at contact
        when pushing, else at its end; None without the head."""
        if not self.cfg.aux_pose_dim:
            return None
        key = str(episode.path)
        if key not in self.poses:
            at_contact = self.dataset.family in PUSHING
            target = pose_target(episode, POSE_INDEX, self.cfg.aux_pose_dim, at_contact)
            self.poses[key] = target.to(self.train.device)
        return self.poses[key]

    def meta_loss(self, diagnose: bool = True) -> tuple[torch.Tensor, dict[str, float]]:
        """Mean post-adaptation outer loss over a meta-batch, and the loss without adaptation
        on the same frames (their gap is what one-shot adaptation buys)."""
        params = params_of(self.policy)
        outer_losses, unadapted_losses = [], []
        for task_id in self.sampler.tasks(self.train.meta_batch):
            first, second = self.sampler.demo_pair(task_id)
            train_demo = self.sample_frames(first)
            test_demo = self.sample_frames(second)
            adapted = adapt_on_demo(self.policy, self.inner, params, train_demo)
            pose = self.pose_of(second)
            weight = self.train.aux_pose_weight
            outer_losses.append(outer_loss(self.policy, adapted, test_demo, pose, weight))
            if diagnose:
                with torch.no_grad():
                    unadapted = outer_loss(self.policy, params, test_demo, pose, weight)
                unadapted_losses.append(unadapted)
        loss = torch.stack(outer_losses).mean()
        if not diagnose:
            return loss, {}
        return loss, {"unadapted_loss": float(torch.stack(unadapted_losses).mean())}

    def sample_frames(self, episode) -> Demo:
        t = self.train
        return self.sampler.frames(episode, t.frames_per_demo, t.early_frames, t.early_window).to(t.device)

    def save(self, out: Path, command: list[str], iteration: int, results: dict | None = None) -> Path:
        data = {"dataset": str(self.dataset.root), "dataset_command": self.dataset.command,
                "family": self.dataset.family,
                "split": self.dataset.split, "tasks": len(self.dataset.task_ids),
                "episodes": len(self.dataset), "iterations": iteration,
                "train_config": asdict(self.train)}
        return save_checkpoint(
            out,
            mil_checkpoint_tensors(self.policy, self.inner),
            mil_checkpoint_config(self.cfg),
            make_manifest(command, self.train.seed, data=data, results=results),
        )


def cosine_rate(progress: float, initial: float, final: float) -> float:
    """The learning rate a fraction ``progress`` (0..1) through a cosine decay."""
    return final + (initial - final) * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))


def outer_loop(
    step_loss: Callable[[bool], tuple[torch.Tensor, dict[str, float]]],
    optimizer: torch.optim.Optimizer,
    train: OuterLoopConfig,
    log_path: Path | None,
    save: Callable[[int], None],
    progress: bool = True,
) -> None:
    """Run `train.iterations` optimiser steps, logging JSON lines (unless `log_path` is None,
    as on the other ranks of a distributed run) and saving periodically.

    The rate decays from `meta_lr` to `meta_lr_final` on a cosine. With `train.max_minutes`
    the decay runs on whichever budget is spent faster, iterations or time, and training
    stops (and saves) when time is up: a run sized by the clock still ends annealed.

    `step_loss(logging)` returns the loss to minimise and, when `logging` is True, extra
    diagnostics for the log (computed only then, to keep them off the other iterations)."""
    start = time.perf_counter()
    budget = None if train.max_minutes is None else 60.0 * train.max_minutes
    if log_path is not None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
    log_file = log_path.open("w") if log_path is not None else nullcontext()
    bar = tqdm(range(1, train.iterations + 1), disable=not progress, desc="meta-train", unit="it")
    with log_file as log, bar:
        for iteration in bar:
            elapsed = time.perf_counter() - start
            done = max((iteration - 1) / train.iterations, elapsed / budget if budget else 0.0)
            for group in optimizer.param_groups:
                group["lr"] = cosine_rate(done, train.meta_lr, train.meta_lr_final)
            logging = iteration % train.log_every == 0 or iteration == train.iterations
            loss, extra = step_loss(logging)  # diagnostics only on iterations that log them
            value = meta_step(optimizer, loss, train.meta_grad_clip)
            out_of_time = budget is not None and time.perf_counter() - start > budget
            if logging or out_of_time:
                record = {"iteration": iteration, "loss": value, **extra,
                          "lr": optimizer.param_groups[0]["lr"],
                          "seconds": round(time.perf_counter() - start, 2)}
                if log is not None:
                    log.write(json.dumps(record) + "\n")
                    log.flush()
                bar.set_postfix(loss=f"{value:.4f}")
            if iteration % train.save_every == 0 or iteration == train.iterations or out_of_time:
                save(iteration)
            if out_of_time:
                bar.write(f"stopped at iteration {iteration}: --max-minutes {train.max_minutes}")
                return


def train_mil(
    data: Path, out: Path, cfg: MILConfig, train: TrainConfig, command: list[str], progress: bool = True
) -> Path:
    """Meta-train MIL on the demos in `data`; writes the checkpoint `out` and `out`.metrics.jsonl."""
    trainer = MILTrainer(cfg, train, Dataset(data))

    def save(iteration: int) -> None:
        trainer.save(out, command, iteration)

    outer_loop(trainer.meta_loss, trainer.optimizer, train, metrics_path(out), save, progress)
    return out


def metrics_path(out: Path) -> Path:
    """The training log sits beside the checkpoint directory (which is replaced atomically)."""
    return out.with_name(out.name + ".metrics.jsonl")
