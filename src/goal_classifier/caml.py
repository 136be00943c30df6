"""CAML: adapt a classifier to a task from positives only, and its meta-objective.

Thesis L4648-L4696: at test time the meta-learned parameters take gradient steps on the
cross-entropy of K positive examples (label 1); meta-training minimises the cross-entropy
of the adapted classifier on *other* examples of the task, positives and negatives (Eq. 29,
Algorithm 13). The MAML machinery (inner steps, learned rates, second order) is
:mod:`metalearn.maml`'s.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from goal_classifier.model import ClassifierConfig, GoalClassifier
from metalearn.maml import InnerConfig, InnerLoop, Params, functional, params_of


def inner_config(cfg: ClassifierConfig) -> InnerConfig:
    return InnerConfig(steps=cfg.inner_steps, lr=cfg.inner_lr, lr_mode=cfg.inner_lr_mode,
                       grad_clip=cfg.inner_grad_clip, first_order=cfg.first_order)


def make_inner(cfg: ClassifierConfig, net: GoalClassifier) -> InnerLoop:
    """The inner loop of ``net``; it adapts the parameters named by ``cfg.adapt_prefixes``
    (all when empty, as in the thesis)."""
    prefixes = tuple(cfg.adapt_prefixes)
    return InnerLoop(inner_config(cfg), params_of(net),
                     adapt_filter=(lambda name: name.startswith(prefixes)) if prefixes else None)


def positives_loss(net: GoalClassifier, params: Params, positives: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of ``positives`` [K, 3, H, W] against the label "success"."""
    logits = functional(net, params, positives)
    return F.cross_entropy(logits, torch.ones(len(positives), dtype=torch.long))


def adapt(net: GoalClassifier, inner: InnerLoop, positives: torch.Tensor,
          create_graph: bool | None = None, steps: int | None = None) -> Params:
    """The goal classifier's parameters phi for the task that ``positives`` show."""
    return inner.adapt(params_of(net), lambda p: positives_loss(net, p, positives),
                       create_graph=create_graph, steps=steps)


def task_loss(net: GoalClassifier, inner: InnerLoop, positives: torch.Tensor,
              query: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Outer loss of one task: cross-entropy of the adapted classifier on ``query``."""
    phi = adapt(net, inner, positives)
    return F.cross_entropy(functional(net, phi, query), labels)


def success_probability(net: GoalClassifier, params: Params, images: torch.Tensor) -> torch.Tensor:
    """P(success) of each image [N, 3, H, W] under ``params``."""
    return torch.softmax(functional(net, params, images), dim=-1)[:, 1]
