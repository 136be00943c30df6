"""Reading a GBAC / MB / RBAC checkpoint back (written by :func:`meta_train.train` through
``metalearn.checkpoint``: safetensors weights, JSON config and manifest, never pickle)."""

from __future__ import annotations

import json
from dataclasses import replace
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


MODEL_OF = {"gbac": ".", "mb": "mb", "mb_de": "mb", "rbac": "rbac"}


def load_method(checkpoint: str | Path, method: str, device: str = "cpu"):
    """(model, TrainConfig) that ``method`` runs, from a GBAC checkpoint holding the
    comparisons' models (``mb/``, ``rbac/``). MB+DE runs MB's model with GBAC's run-time
    update (inner rate, steps, M), so the two differ only in whether theta was meta-trained."""
    checkpoint = Path(checkpoint)
    model, cfg = load_trained(checkpoint / MODEL_OF[method], device)
    if method == "mb_de":
        gbac = TrainConfig.from_json(json.loads((checkpoint / "config.json").read_text())["train"])
        cfg = replace(cfg, inner_lr=gbac.inner_lr, inner_steps=gbac.inner_steps, past=gbac.past)
    return model, cfg
