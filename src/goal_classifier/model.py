"""The CAML goal classifier network (thesis B.6.1, L7296-L7310) and its configuration.

Thesis, simulated experiments: three 3x3 conv layers of 16 filters, stride 2, each with
layer norm and ReLU, the feature maps flattened, three fully connected layers to the
two-way softmax. That is the default here. The real-robot variant (32 filters, spatial
soft-argmax feature points, one FC layer of 50) is ``features="soft_argmax"``; on the
arrangement images it learned far more slowly: trained supervised on one relation
("apart", 3290 train images, 350 held-out), a soft-argmax network of 32 filters reached
0.70 held-out balanced accuracy after 800 Adam steps, the flattening network 0.83 after 200.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
import torch
from torch import nn

from metalearn.layers import ConvTrunk, SpatialSoftArgmax, mlp


@dataclass
class ClassifierConfig:
    """Architecture and inner loop of a FLO classifier; a checkpoint's config.json."""

    image_size: tuple[int, int] = (64, 64)        # (width, height)
    conv_channels: tuple[int, ...] = (16, 16, 16)
    kernel_sizes: tuple[int, ...] = (3, 3, 3)
    strides: tuple[int, ...] = (2, 2, 2)
    features: str = "flatten"                      # or "soft_argmax" (feature points)
    fc_hidden: tuple[int, ...] = (100, 100)
    # Negative slope of the head's ReLUs. With plain ReLUs (0) meta-training can fall into
    # a trap: the outer loss first drops by silencing the head, whose hidden units then
    # all die (98% were zero in a run on 800 tasks), the output is a constant 0.5 and the
    # inner step a no-op for good. A slope of 0.1 keeps gradients alive: the same run
    # reached 0.89 held-out balanced accuracy in 1500 iterations.
    leak: float = 0.1
    keypoint_temperature: float = 0.1              # soft_argmax only
    k: int = 5                                     # positives a goal is inferred from
    inner_steps: int = 1
    inner_lr: float = 0.1
    inner_lr_mode: str = "per_param"               # a learned rate per parameter (Meta-SGD)
    inner_grad_clip: float | None = 10.0
    first_order: bool = False
    # Parameters the inner loop adapts; () = all, as the thesis. Adapting the conv trunk
    # too, meta-training collapsed to a constant 0.5 (2500 iterations, 5 inner steps with
    # one learned rate per step, or 1 step with per-parameter rates); adapting the fully
    # connected head only, it reached 0.83 held-out balanced accuracy in 1000 iterations.
    adapt_prefixes: tuple[str, ...] = ("head.",)

    def to_json(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "ClassifierConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known - {"kind"})
        if unknown:
            raise ValueError(f"unknown classifier config fields: {unknown}")
        return cls(**{k: tuple(v) if isinstance(v, list) else v
                      for k, v in data.items() if k in known})


class GoalClassifier(nn.Module):
    """Image -> two logits (not success, success)."""

    def __init__(self, cfg: ClassifierConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.trunk = ConvTrunk(3, cfg.conv_channels, cfg.kernel_sizes, cfg.strides)
        if cfg.features == "soft_argmax":
            self.features: nn.Module = SpatialSoftArgmax(cfg.keypoint_temperature)
        elif cfg.features == "flatten":
            self.features = nn.Flatten()
        else:
            raise ValueError(f"features must be 'flatten' or 'soft_argmax', got {cfg.features!r}")
        width, height = cfg.image_size
        with torch.no_grad():
            size = self.features(self.trunk(torch.zeros(1, 3, height, width))).shape[1]
        self.head = mlp(size, cfg.fc_hidden, 2, lambda: nn.LeakyReLU(cfg.leak))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Float images [N, 3, H, W] in [0, 1] -> logits [N, 2]."""
        return self.head(self.features(self.trunk(images)))


def as_input(images: np.ndarray | torch.Tensor) -> torch.Tensor:
    """uint8 images [N, H, W, 3] -> float [N, 3, H, W] in [0, 1]."""
    tensor = torch.as_tensor(images)
    return tensor.permute(0, 3, 1, 2).float().div_(255.0)
