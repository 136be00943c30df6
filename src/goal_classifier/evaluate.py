"""The ``flo-classify`` suite: how well goals inferred from K positives classify held-out
tasks, against a classifier trained from scratch (thesis ch. 8.2.6; issue #6, part 6).

Held-out tasks (objects and table textures never seen in meta-training) are rendered
afresh from the suite's seed. For each task and each K, K positives are drawn; FLO adapts
the meta-trained classifier to them (Algorithm 14). The scratch baseline is the same
network from a random initialisation trained with Adam on those K positives *and* K
negatives of the task: trained on positives alone a classifier from scratch can only learn
"everything is success", so it is given the negatives FLO does without. Both are tested on
the task's remaining images (the K negatives excluded for both): balanced accuracy at
p > 0.5 and AUROC, averaged over tasks.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from goal_classifier.caml import adapt, success_probability
from goal_classifier.goal import MetaTrainedFLO
from goal_classifier.model import GoalClassifier, as_input
from goal_classifier.train import TaskTensors
from metalearn.maml import params_of
from sim.arrange import sample_task
from sim.arrange_data import ArrangeDatagenConfig, render_task

SUITE = "flo-classify"


@dataclass
class FLOClassifyConfig:
    tasks: int = 40
    ks: tuple[int, ...] = (1, 5, 10)
    scratch_steps: int = 100
    scratch_lr: float = 1e-3
    seed: int = 1000


def balanced_accuracy(scores: np.ndarray, labels: np.ndarray) -> float:
    """Mean of the true-positive and true-negative rates at p > 0.5."""
    predicted = scores > 0.5
    positive = labels.astype(bool)
    return float((predicted[positive].mean() + (~predicted[~positive]).mean()) / 2)


def auroc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Probability that a random positive scores above a random negative (ties: half)."""
    positive, negative = scores[labels == 1], scores[labels == 0]
    above = (positive[:, None] > negative[None, :]).mean()
    ties = (positive[:, None] == negative[None, :]).mean()
    return float(above + ties / 2)


def heldout_tasks(cfg: FLOClassifyConfig, image_size: int) -> list[tuple[str, TaskTensors]]:
    """The suite's held-out tasks with their relations, rendered from its seed (25
    positives, 45 negatives each)."""
    data_cfg = ArrangeDatagenConfig(tasks=cfg.tasks, split="heldout", seed=cfg.seed,
                                    image_size=image_size)
    tasks = []
    for index in tqdm(range(cfg.tasks), desc="render held-out tasks", unit="task"):
        rng = np.random.default_rng([cfg.seed, index])
        task = sample_task("heldout", rng)
        arrays = render_task(task, data_cfg, rng)
        images, labels = as_input(arrays["images"]), torch.as_tensor(arrays["labels"] == 1)
        tasks.append((task.relation, TaskTensors(images[labels], images[~labels])))
    return tasks


def train_scratch(model: MetaTrainedFLO, images: torch.Tensor, labels: torch.Tensor,
                  cfg: FLOClassifyConfig, seed: int) -> GoalClassifier:
    """The baseline: a freshly initialised network fitted to the given examples."""
    torch.manual_seed(seed)
    net = GoalClassifier(model.cfg)
    optimizer = torch.optim.Adam(net.parameters(), lr=cfg.scratch_lr)
    for _ in range(cfg.scratch_steps):
        optimizer.zero_grad()
        F.cross_entropy(net(images), labels).backward()
        optimizer.step()
    return net.eval()


def _scores(net: GoalClassifier, params, images: torch.Tensor) -> np.ndarray:
    with torch.no_grad():
        return success_probability(net, params, images).numpy()


def evaluate_task(model: MetaTrainedFLO, task: TaskTensors, k: int, cfg: FLOClassifyConfig,
                  rng: np.random.Generator) -> dict[str, tuple[float, float]]:
    """(balanced accuracy, AUROC) of FLO and scratch on one task with K positives."""
    pos, neg = rng.permutation(len(task.positives)), rng.permutation(len(task.negatives))
    shots, negatives = task.positives[pos[:k]], task.negatives[neg[:k]]
    test = torch.cat([task.positives[pos[k:]], task.negatives[neg[k:]]])
    labels = np.r_[np.ones(len(pos) - k), np.zeros(len(neg) - k)]
    phi = adapt(model.net, model.inner, shots, create_graph=False)
    flo = _scores(model.net, phi, test)
    scratch_net = train_scratch(model, torch.cat([shots, negatives]),
                                torch.cat([torch.ones(k), torch.zeros(k)]).long(), cfg,
                                int(rng.integers(2**31)))
    scratch = _scores(scratch_net, params_of(scratch_net), test)
    return {name: (balanced_accuracy(s, labels), auroc(s, labels))
            for name, s in (("flo", flo), ("scratch", scratch))}


def _means(results: list[tuple[float, float]], name: str) -> dict[str, float]:
    accuracy, area = np.mean(results, axis=0)
    return {name: float(accuracy), f"{name}_auroc": float(area)}


def evaluate_flo_classify(model: MetaTrainedFLO, cfg: FLOClassifyConfig) -> dict:
    """The suite's JSON result: per method, ``k{K}`` balanced accuracy and ``k{K}_auroc``
    over all tasks, and under ``by_relation`` the same at the meta-trained K per relation
    (which arrangements the goals get wrong, cf. thesis Fig. 42)."""
    tasks = heldout_tasks(cfg, model.cfg.image_size[0])
    rng = np.random.default_rng(cfg.seed)
    rows = []                                  # (method, K, relation, (accuracy, AUROC))
    for k in cfg.ks:
        for relation, task in tqdm(tasks, desc=f"{SUITE} K={k}", unit="task"):
            for method, result in evaluate_task(model, task, k, cfg, rng).items():
                rows.append((method, k, relation, result))
    methods: dict[str, dict[str, float]] = {"flo": {}, "scratch": {}}
    by_relation: dict[str, dict[str, float]] = {"flo": {}, "scratch": {}}
    for method in methods:
        for k in cfg.ks:
            methods[method].update(_means([r for m, kk, _, r in rows if (m, kk) == (method, k)],
                                          f"k{k}"))
        for relation in sorted({rel for _, _, rel, _ in rows}):
            chosen = [r for m, kk, rel, r in rows if (m, kk, rel) == (method, model.cfg.k, relation)]
            if chosen:
                by_relation[method].update(_means(chosen, relation))
    return {"suite": SUITE, "checkpoint": str(model.path), "tasks": len(tasks),
            "methods": methods, "by_relation": {"k": model.cfg.k, **by_relation},
            "config": {**asdict(cfg), "ks": list(cfg.ks)}}
