"""Goals: a meta-trained FLO classifier adapted to K pictures of success (Algorithm 14).

``oneshot goal infer`` turns K positive images into a :class:`Goal` (the adapted
parameters, saved as a checkpoint of kind ``flo-goal``); ``oneshot goal score`` gives each
image its probability of showing success. Images must be exactly the classifier's size and
K must be the number it was meta-trained with; anything else is refused with a
:class:`GoalImageError` that names the problem, rather than resized or padded silently.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from goal_classifier.caml import adapt, make_inner, success_probability
from goal_classifier.model import ClassifierConfig, GoalClassifier, as_input
from goal_classifier.train import KIND
from metalearn.checkpoint import load_kind, load_state, make_manifest, save_checkpoint
from metalearn.maml import InnerLoop, Params, functional

GOAL_KIND = "flo-goal"


class GoalImageError(ValueError):
    """Images of the wrong size, count or kind for a goal classifier."""


def read_images(paths: list[str | Path]) -> np.ndarray:
    """Image files (PNG, JPEG, ...) as uint8 [N, H, W, 3]; all must share one size."""
    images = []
    for path in paths:
        try:
            with Image.open(path) as image:
                images.append(np.asarray(image.convert("RGB")))
        except (OSError, ValueError) as error:
            raise GoalImageError(f"cannot read image {path}: {error}") from error
    sizes = {img.shape[:2] for img in images}
    if len(sizes) > 1:
        raise GoalImageError(f"images differ in size: {sorted(f'{w}x{h}' for h, w in sizes)}")
    return np.stack(images)


def check_images(images: np.ndarray, cfg: ClassifierConfig, count: int | None = None,
                 what: str = "images") -> None:
    """Refuse images a classifier of ``cfg`` cannot take (module docstring)."""
    if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
        raise GoalImageError(f"{what} must be uint8 RGB [N, H, W, 3], got {images.dtype} "
                             f"{list(images.shape)}")
    width, height = cfg.image_size
    if images.shape[1:3] != (height, width):
        raise GoalImageError(f"{what} are {images.shape[2]}x{images.shape[1]} pixels; this "
                             f"classifier takes {width}x{height}")
    if count is not None and len(images) != count:
        raise GoalImageError(f"{what}: need exactly {count} (the K this classifier was "
                             f"meta-trained with), got {len(images)}")
    if len(images) == 0:
        raise GoalImageError(f"no {what} given")


@dataclass
class MetaTrainedFLO:
    """A meta-trained FLO classifier: network, inner loop, and where it came from."""

    net: GoalClassifier
    inner: InnerLoop
    path: Path

    @property
    def cfg(self) -> ClassifierConfig:
        return self.net.cfg


def load_flo(path: str | Path) -> MetaTrainedFLO:
    """A checkpoint written by ``oneshot train flo``."""
    tensors, config, _ = load_kind(path, KIND)
    cfg = ClassifierConfig.from_json(config)
    net = GoalClassifier(cfg)
    inner = make_inner(cfg, net)
    load_state(net, {k: v for k, v in tensors.items() if not k.startswith("inner.")},
               source=str(path))
    load_state(inner, {k[len("inner."):]: v for k, v in tensors.items()
                       if k.startswith("inner.")}, source=f"{path} (inner loop)")
    return MetaTrainedFLO(net.eval(), inner, Path(path))


@dataclass
class Goal:
    """An inferred goal classifier: the network with the adapted parameters phi."""

    net: GoalClassifier
    params: Params
    source: dict

    def score(self, images: np.ndarray) -> np.ndarray:
        """P(success) of each uint8 image [N, H, W, 3]."""
        check_images(images, self.net.cfg)
        with torch.no_grad():
            return success_probability(self.net, self.params, as_input(images)).numpy()

    def log_odds(self, images: np.ndarray) -> np.ndarray:
        """log p / (1 - p) of success of each uint8 image [N, H, W, 3], from the logits:
        finite where p itself rounds to 0 or 1."""
        check_images(images, self.net.cfg)
        with torch.no_grad():
            logits = functional(self.net, self.params, as_input(images))
        return (logits[:, 1] - logits[:, 0]).numpy()

    def save(self, path: str | Path, command: list[str]) -> Path:
        manifest = make_manifest(command, None, data=self.source)
        tensors = {k: v.detach() for k, v in self.params.items()}
        return save_checkpoint(path, tensors, {"kind": GOAL_KIND, **self.net.cfg.to_json()},
                               manifest)


def infer_goal(model: MetaTrainedFLO, positives: np.ndarray, steps: int | None = None) -> Goal:
    """Adapt ``model`` to ``positives`` (uint8 [K, H, W, 3], K as meta-trained) with
    ``steps`` inner steps (default: as meta-trained)."""
    check_images(positives, model.cfg, model.cfg.k, "positives")
    start = time.perf_counter()
    phi = adapt(model.net, model.inner, as_input(positives), create_graph=False, steps=steps)
    phi = {name: value.detach() for name, value in phi.items()}
    source = {"checkpoint": str(model.path), "positives": len(positives),
              "infer_seconds": time.perf_counter() - start}
    return Goal(model.net, phi, source)


def load_goal(path: str | Path) -> Goal:
    """A goal written by ``oneshot goal infer``."""
    tensors, config, manifest = load_kind(path, GOAL_KIND)
    net = GoalClassifier(ClassifierConfig.from_json(config))
    load_state(net, tensors, source=str(path))
    return Goal(net.eval(), dict(net.named_parameters()), manifest.get("data") or {})
