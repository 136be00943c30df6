"""Planning costs on predicted outcomes, the objectives compared in thesis L4764-L4790.

- :class:`FLOCost`: 1 - p(success) of the inferred goal classifier on the predicted frame
  (the thesis's planner scores video predictions with the classifier, L4786-L4790);
- :class:`FLOLogitCost`: the same classifier's negative log-odds of success, finite and
  untied where p rounds to 0 or 1. CEM only ranks candidates, and the ranks of 1 - p and
  -logit agree short of that rounding: on 20 flo-plan tasks both costs planned the same
  episodes (8 of 20 successes each, horizon 3, 32 samples);
- :class:`PixelCost`: mean squared pixel distance to the closest of the goal images
  ("we take the minimum distance across these five examples", L4778-L4780);
- :class:`AECost`: Euclidean distance in an autoencoder's latent space
  (:mod:`goal_classifier.autoencoder`) to the closest goal image (L4766-L4771);
- :class:`OracleCost`: how far the true object positions are from the task's relation
  (:func:`sim.relations.violation`), available only in simulation (L4773-L4777).

Each cost maps a :class:`~goal_classifier.predictive.Prediction` of N candidates to N
costs; ``needs_frames`` tells the planner whether to render.
"""
from __future__ import annotations

from typing import Protocol

import numpy as np

from goal_classifier.autoencoder import ConvAutoencoder
from goal_classifier.goal import Goal, GoalImageError
from goal_classifier.predictive import Prediction
from sim.arrange import ArrangeTask, pair_of
from sim.relations import violation


class Cost(Protocol):
    """N costs (lower is better) for a prediction of N candidates."""

    needs_frames: bool

    def __call__(self, prediction: Prediction) -> np.ndarray:
        ...


def _frames(prediction: Prediction) -> np.ndarray:
    if prediction.frames is None:
        raise ValueError("this cost scores frames, but the prediction has none")
    return prediction.frames


class FLOCost:
    """1 - the goal classifier's probability of success on each predicted frame."""

    needs_frames = True

    def __init__(self, goal: Goal) -> None:
        self.goal = goal

    def __call__(self, prediction: Prediction) -> np.ndarray:
        return 1.0 - self.goal.score(_frames(prediction)).astype(np.float64)


class FLOLogitCost:
    """-log(p / (1 - p)) of success on each predicted frame (module docstring)."""

    needs_frames = True

    def __init__(self, goal: Goal) -> None:
        self.goal = goal

    def __call__(self, prediction: Prediction) -> np.ndarray:
        return -self.goal.log_odds(_frames(prediction)).astype(np.float64)


class PixelCost:
    """Mean squared distance (pixels in [0, 1]) to the closest goal image."""

    needs_frames = True

    def __init__(self, goal_images: np.ndarray) -> None:
        if goal_images.ndim != 4 or goal_images.shape[-1] != 3 or goal_images.dtype != np.uint8:
            raise GoalImageError(f"goal images must be uint8 RGB [K, H, W, 3], got "
                                 f"{goal_images.dtype} {list(goal_images.shape)}")
        if len(goal_images) == 0:
            raise GoalImageError("no goal images given")
        self.goals = goal_images.astype(np.float32) / 255.0

    def __call__(self, prediction: Prediction) -> np.ndarray:
        frames = _frames(prediction)
        if frames.shape[1:] != self.goals.shape[1:]:
            raise GoalImageError(f"predicted frames are {list(frames.shape[1:])}, goal images "
                                 f"{list(self.goals.shape[1:])}")
        diff = frames.astype(np.float32)[:, None] / 255.0 - self.goals[None]
        return np.mean(diff ** 2, axis=(2, 3, 4)).min(axis=1).astype(np.float64)


class AECost:
    """Latent l2 distance of each predicted frame to the closest goal image's latent."""

    needs_frames = True

    def __init__(self, autoencoder: ConvAutoencoder, goal_images: np.ndarray) -> None:
        if len(goal_images) == 0:
            raise GoalImageError("no goal images given")
        self.autoencoder = autoencoder
        self.goals = autoencoder.latents(goal_images)

    def __call__(self, prediction: Prediction) -> np.ndarray:
        latents = self.autoencoder.latents(_frames(prediction))
        distances = np.linalg.norm(latents[:, None] - self.goals[None], axis=2)
        return distances.min(axis=1).astype(np.float64)


class OracleCost:
    """Distance (m) of the true arrangement from the task's relation: 0 when it holds."""

    needs_frames = False

    def __init__(self, task: ArrangeTask) -> None:
        self.task = task

    def __call__(self, prediction: Prediction) -> np.ndarray:
        return np.array([violation(self.task.relation, pair_of(self.task, p))
                         for p in prediction.positions])
