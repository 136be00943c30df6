"""Meta-training of the FLO goal classifier (thesis Algorithm 13, L4560-L4600).

Each iteration draws a meta-batch of tasks; for each, K positives are the inner set D+
and a query of other positives and negatives of the same task is D_test (Eq. 29). The query
is balanced (as many positives as negatives) although a task holds ~25 positives and ~45
negatives: the classifier is judged by balanced accuracy, and a 1:2 query would reward
leaning towards "not success". Meta-optimiser: Adam on theta and the learned inner rates.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from goal_classifier.caml import make_inner, task_loss
from goal_classifier.model import ClassifierConfig, GoalClassifier, as_input
from metalearn.checkpoint import make_manifest, save_checkpoint
from metalearn.maml import meta_step
from sim.arrange_data import ArrangeDataset

KIND = "flo"


@dataclass
class FLOTrainConfig:
    """Meta-training schedule (CPU defaults)."""

    iterations: int = 5000
    meta_batch: int = 4
    query_positives: int = 8
    query_negatives: int = 8
    lr: float = 5e-4
    meta_grad_clip: float = 10.0
    seed: int = 0


@dataclass
class TaskTensors:
    """One task's images as network input, split by label."""

    positives: torch.Tensor      # [P, 3, H, W]
    negatives: torch.Tensor      # [N, 3, H, W]


def load_tasks(dataset: ArrangeDataset) -> list[TaskTensors]:
    """Every task of ``dataset`` in memory as float tensors."""
    tasks = []
    for index in range(len(dataset)):
        data = dataset.task(index)
        images = as_input(data.images)
        labels = torch.as_tensor(data.labels.astype(bool))
        tasks.append(TaskTensors(images[labels], images[~labels]))
    return tasks


def split_task(task: TaskTensors, k: int, query_positives: int, query_negatives: int,
               rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(K inner positives, query images, query labels) of one task, drawn without overlap."""
    pos = rng.permutation(len(task.positives))
    neg = rng.choice(len(task.negatives), size=query_negatives, replace=False)
    query_pos = task.positives[pos[k:k + query_positives]]
    query = torch.cat([query_pos, task.negatives[neg]])
    labels = torch.cat([torch.ones(len(query_pos), dtype=torch.long),
                        torch.zeros(query_negatives, dtype=torch.long)])
    return task.positives[pos[:k]], query, labels


class FLOTrainer:
    """The network, its inner loop, the meta-optimiser and the meta-training tasks."""

    def __init__(self, cfg: ClassifierConfig, train: FLOTrainConfig, tasks: list[TaskTensors]):
        needed = cfg.k + 1
        short = [i for i, t in enumerate(tasks) if len(t.positives) < needed
                 or len(t.negatives) < train.query_negatives]
        if short:
            raise ValueError(f"tasks {short[:5]} have too few examples: meta-training needs "
                             f"{needed} positives and {train.query_negatives} negatives each")
        torch.manual_seed(train.seed)
        self.cfg, self.train, self.tasks = cfg, train, tasks
        self.net = GoalClassifier(cfg)
        self.inner = make_inner(cfg, self.net)
        self.optimizer = torch.optim.Adam([*self.net.parameters(), *self.inner.parameters()],
                                          lr=train.lr)
        self.rng = np.random.default_rng(train.seed)

    def meta_loss(self) -> torch.Tensor:
        """Mean outer loss over a meta-batch of tasks."""
        picks = self.rng.choice(len(self.tasks), size=self.train.meta_batch, replace=False)
        losses = []
        for index in picks:
            positives, query, labels = split_task(
                self.tasks[index], self.cfg.k, self.train.query_positives,
                self.train.query_negatives, self.rng)
            losses.append(task_loss(self.net, self.inner, positives, query, labels))
        return torch.stack(losses).mean()

    def tensors(self) -> dict[str, torch.Tensor]:
        """Weights of the network and the inner loop's learned rates, for a checkpoint."""
        return {**self.net.state_dict(),
                **{f"inner.{k}": v for k, v in self.inner.state_dict().items()}}


def train_flo(data: Path, out: Path, cfg: ClassifierConfig, train: FLOTrainConfig,
              command: list[str], progress: bool = True) -> Path:
    """Meta-train on the arrangement dataset ``data`` and write a checkpoint to ``out``."""
    dataset = ArrangeDataset(data)
    dataset.require_image_size(cfg.image_size, "classifier")
    trainer = FLOTrainer(cfg, train, load_tasks(dataset))
    bar = tqdm(range(train.iterations), desc="meta-train flo", unit="it", disable=not progress)
    smoothed = None
    for _ in bar:
        loss = meta_step(trainer.optimizer, trainer.meta_loss(), train.meta_grad_clip)
        smoothed = loss if smoothed is None else 0.98 * smoothed + 0.02 * loss
        bar.set_postfix(loss=f"{smoothed:.3f}")
    manifest = make_manifest(command, train.seed, data={
        "path": str(data), "made_by": dataset.index["command"],
        "split": dataset.index["split"], "tasks": len(dataset),
        "train_config": asdict(train), "final_loss": smoothed})
    return save_checkpoint(out, trainer.tensors(), {"kind": KIND, **cfg.to_json()}, manifest)
