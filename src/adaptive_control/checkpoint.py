"""Reading a GBAC / MB / RBAC checkpoint back (written by :func:`meta_train.train` through
``metalearn.checkpoint``: safetensors weights, JSON config and manifest, never pickle)."""

from __future__ import annotations

from pathlib import Path

from adaptive_control.config import TrainConfig
from adaptive_control.meta_train import KINDS, build_model
from metalearn.checkpoint import load_kind, load_state


def load_trained(path: str | Path, device: str = "cpu"):
    """(model, TrainConfig) of a checkpoint of kind gbac, gbac-mb or gbac-rbac."""
    tensors, config, _ = load_kind(path, *KINDS.values())
    cfg = TrainConfig.from_json({**config["train"], "device": device})
    arch = config["model"]
    model = build_model(cfg, arch["state_dim"], arch["action_dim"], arch["input_dims"])
    load_state(model, tensors, source=str(path))
    return model.to(device).eval(), cfg
