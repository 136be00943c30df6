"""The autoencoder baseline of FLO's comparison (thesis L4764-L4771, B.6.2 L7311-L7319).

"Latent space distance": an autoencoder trained on the meta-training images gives a
latent space in which to measure the distance of a frame to the goal images. Thesis
architecture: three 3x3 conv layers of 64, 32 and 16 filters (stride 2, 1, 1), three fully
connected layers of 200, 100 and 50 units, reconstructions of 32x32x3. The decoder here
mirrors the fully connected layers (50 -> 100 -> 200 -> 32*32*3, sigmoid); the thesis does
not describe its decoder. The 50-D code is the latent
(:class:`goal_classifier.plan_costs.AECost`).

`oneshot train flo-ae --data DIR --out DIR` writes a checkpoint of kind ``flo-ae``
(safetensors weights, JSON config and manifest).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from goal_classifier.goal import GoalImageError
from goal_classifier.model import as_input
from metalearn.checkpoint import load_kind, load_state, make_manifest, save_checkpoint
from metalearn.layers import ConvTrunk, mlp
from sim.arrange_data import ArrangeDataset

AE_KIND = "flo-ae"


@dataclass
class AEConfig:
    """Architecture (B.6.2); a checkpoint's config.json."""

    image_size: tuple[int, int] = (64, 64)          # (width, height)
    conv_channels: tuple[int, ...] = (64, 32, 16)
    strides: tuple[int, ...] = (2, 1, 1)
    fc: tuple[int, ...] = (200, 100, 50)
    target_size: int = 32                            # reconstructions target_size^2 x 3

    def to_json(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "AEConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: tuple(v) if isinstance(v, list) else v
                      for k, v in data.items() if k in known})


@dataclass
class AETrainConfig:
    """Training schedule (Adam on the mean squared reconstruction error)."""

    iterations: int = 3000
    batch: int = 64
    lr: float = 1e-3
    seed: int = 0


class ConvAutoencoder(nn.Module):
    """Image [N, 3, H, W] -> latent [N, fc[-1]] -> reconstruction [N, 3, T, T]."""

    def __init__(self, cfg: AEConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.trunk = ConvTrunk(3, cfg.conv_channels, (3,) * len(cfg.conv_channels), cfg.strides)
        width, height = cfg.image_size
        with torch.no_grad():
            size = self.trunk(torch.zeros(1, 3, height, width)).flatten(1).shape[1]
        self.encoder = mlp(size, cfg.fc[:-1], cfg.fc[-1], nn.ReLU)
        self.decoder = mlp(cfg.fc[-1], cfg.fc[-2::-1], 3 * cfg.target_size ** 2, nn.ReLU)

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        return self.encoder(self.trunk(images).flatten(1))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        size = self.cfg.target_size
        return torch.sigmoid(self.decoder(self.encode(images))).view(-1, 3, size, size)

    def latents(self, images: np.ndarray) -> np.ndarray:
        """Latent codes of uint8 images [N, H, W, 3]; other sizes are refused."""
        width, height = self.cfg.image_size
        if images.ndim != 4 or images.shape[1:] != (height, width, 3) or images.dtype != np.uint8:
            raise GoalImageError(f"the autoencoder takes uint8 [N, {height}, {width}, 3], got "
                                 f"{images.dtype} {list(images.shape)}")
        with torch.no_grad():
            return self.encode(as_input(images)).numpy()


def target(images: torch.Tensor, size: int) -> torch.Tensor:
    """The reconstruction target: ``images`` area-averaged to size x size."""
    return F.adaptive_avg_pool2d(images, size)


def all_images(dataset: ArrangeDataset) -> np.ndarray:
    """Every image of the dataset, uint8 [N, H, W, 3]."""
    return np.concatenate([dataset.task(i).images for i in range(len(dataset))])


def train_autoencoder(data: Path, out: Path, cfg: AEConfig, train: AETrainConfig,
                      command: list[str], progress: bool = True) -> Path:
    """Fit the autoencoder to every image of ``data`` and write a checkpoint to ``out``."""
    dataset = ArrangeDataset(data)
    dataset.require_image_size(cfg.image_size, "autoencoder")
    images = all_images(dataset)
    torch.manual_seed(train.seed)
    rng = np.random.default_rng(train.seed)
    net = ConvAutoencoder(cfg)
    optimizer = torch.optim.Adam(net.parameters(), lr=train.lr)
    bar = tqdm(range(train.iterations), desc="train flo-ae", unit="it", disable=not progress)
    smoothed = None
    for _ in bar:
        batch = as_input(images[rng.choice(len(images), size=train.batch, replace=False)])
        loss = F.mse_loss(net(batch), target(batch, cfg.target_size))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        smoothed = loss.item() if smoothed is None else 0.98 * smoothed + 0.02 * loss.item()
        bar.set_postfix(loss=f"{smoothed:.4f}")
    manifest = make_manifest(command, train.seed, data={
        "path": str(data), "made_by": dataset.index["command"], "images": len(images),
        "train_config": asdict(train), "final_loss": smoothed})
    return save_checkpoint(out, dict(net.state_dict()), {"kind": AE_KIND, **cfg.to_json()},
                           manifest)


def load_autoencoder(path: str | Path) -> ConvAutoencoder:
    """A checkpoint written by ``oneshot train flo-ae``."""
    tensors, config, _ = load_kind(path, AE_KIND)
    net = ConvAutoencoder(AEConfig.from_json(config))
    load_state(net, tensors, source=str(path))
    return net.eval()
