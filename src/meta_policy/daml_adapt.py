"""DAML at test time (thesis Algorithm 11, L3414-L3420): one video -> an adapted policy.

The meta-trained checkpoint holds theta and the learned loss psi. ``adapt`` takes a video
(an episode, an mp4 or a ROS 2 log: :func:`meta_policy.video.load_video`), keeps frames
spaced evenly over it as many as meta-training sampled, and takes the inner steps
phi = theta - alpha grad L_psi(theta, video). The ``AdaptedDAML`` holds phi; each control
step is a forward pass, the mixture head's action the most probable of 100 samples (L6950).
Adapted policies are checkpoints (safetensors + JSON) with a version for hot-swapping.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from metalearn.checkpoint import (
    check_config,
    load_kind,
    load_state,
    make_manifest,
    save_checkpoint,
)
from metalearn.maml import params_of
from meta_policy.daml_config import DAMLConfig
from meta_policy.daml_data import channels_first, evaluation_clip, trained_clip_frames
from meta_policy.daml_policy import DAMLPolicy, select_action
from meta_policy.adaptation_loss import inner_objective
from meta_policy.daml_train import DAMLObjective, checkpoint_config
from meta_policy.video import Video, load_video

ACTION_SAMPLES = 100  # L6950


@dataclass
class MetaTrainedDAML:
    """A meta-trained DAML checkpoint, loaded: theta, psi and how it was trained."""

    objective: DAMLObjective
    path: Path
    manifest: dict

    @property
    def cfg(self) -> DAMLConfig:
        return self.objective.cfg

    @property
    def clip_frames(self) -> int:
        """Frames per video that meta-training adapted on (its ``video_frames``)."""
        return trained_clip_frames(self.manifest)


def load_daml(path: str | Path) -> MetaTrainedDAML:
    """Load a checkpoint of ``oneshot train daml``; a wrong kind or layout is a CheckpointError."""
    path = Path(path)
    tensors, config, manifest = load_kind(path, "daml")
    objective = DAMLObjective(DAMLConfig.from_json(config["policy"]))
    load_state(objective, tensors, source=str(path))
    return MetaTrainedDAML(objective.eval(), path, manifest)


class AdaptedDAML:
    """The policy after adapting on one video: ``act(image, state) -> action``."""

    def __init__(self, network: DAMLPolicy, source: dict, version: int = 1, seed: int = 0) -> None:
        self.network = network.eval()
        self.source = source  # checkpoint, video and adaptation time it came from
        self.version = version
        self.generator = torch.Generator().manual_seed(seed)

    @property
    def cfg(self) -> DAMLConfig:
        return self.network.cfg

    @torch.inference_mode()
    def act(self, image: np.ndarray, state: np.ndarray) -> np.ndarray:
        frame = channels_first(np.asarray(image)[None])
        output = self.network(frame, torch.as_tensor(state, dtype=torch.float32)[None])
        return select_action(output, ACTION_SAMPLES, self.generator)[0].numpy()

    def save(self, out: str | Path, command: list[str]) -> Path:
        config = {**checkpoint_config(self.cfg), "kind": "daml-adapted", "version": self.version}
        tensors = {k: v.detach().cpu() for k, v in self.network.state_dict().items()}
        return save_checkpoint(out, tensors, config, make_manifest(command, None, data=self.source))

    @classmethod
    def load(cls, path: str | Path, expected: DAMLConfig | None = None) -> "AdaptedDAML":
        """Load an adapted policy; with ``expected``, refuse one built for another network."""
        path = Path(path)
        tensors, config, manifest = load_kind(path, "daml-adapted")
        if expected is not None:
            check_config(expected.to_json(), config["policy"], source=str(path))
        network = DAMLPolicy(DAMLConfig.from_json(config["policy"]))
        load_state(network, tensors, source=str(path))
        return cls(network, manifest.get("data") or {}, int(config.get("version", 1)))


def adapt(model: MetaTrainedDAML, video: Video | str | Path, version: int = 1,
          steps: int | None = None) -> AdaptedDAML:
    """Adapt ``model`` on one video: a path (checked by ``load_video``) or a loaded Video.

    ``steps`` defaults to the inner steps the model was meta-trained with; 0 keeps theta,
    the ablation that shows what the video adds. The inner loop runs without a
    second-order graph: only phi is needed now.
    """
    cfg = model.cfg
    if not isinstance(video, Video):
        video = load_video(video, tuple(cfg.image_size))
    clip = evaluation_clip(video.frames, model.clip_frames)
    start = time.perf_counter()
    objective = model.objective
    with torch.enable_grad():  # one video: no task dimension, so no vmap
        phi = objective.inner.adapt(
            params_of(objective.policy),
            lambda p: inner_objective(objective.policy, p, objective.learned_loss, clip),
            create_graph=False, steps=steps)
    network = DAMLPolicy(cfg)
    network.load_state_dict({**objective.policy.state_dict(),
                             **{name: value.detach() for name, value in phi.items()}})
    seconds = time.perf_counter() - start
    source = {"checkpoint": str(model.path), "video": video.source, "adapt_seconds": seconds,
              "adapt_steps": cfg.inner_steps if steps is None else steps, "clip_frames": model.clip_frames}
    return AdaptedDAML(network, source, version)
