"""Configurations of the one-shot imitation policies (MIL, thesis ch. 7.1 and B.2.1).

Kept apart from the networks so that a checkpoint's `config.json` is exactly one of these
dataclasses, and a mismatch between a checkpoint and the code is caught field by field.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass
class VisionPolicyConfig:
    """What every image-conditioned policy here shares: camera, robot spec, trunk and head.

    The thesis's reach network is 3 conv x 40 filters on 80x64 images with 4 FC x 200
    (L6811-L6819). On two CPU cores we use fewer, strided filters and spatial soft-argmax
    feature points (as in the push network, L6836-L6840), which localise coloured targets
    with far less compute.
    """

    image_size: tuple[int, int] = (64, 64)  # (width, height) of the camera image
    state_dim: int = 6
    action_dim: int = 2
    conv_channels: tuple[int, ...] = (16, 16, 16)
    kernel_sizes: tuple[int, ...] = (5, 3, 3)
    strides: tuple[int, ...] = (2, 2, 1)
    fc_hidden: tuple[int, ...] = (100, 100, 100)
    keypoint_temperature: float = 0.1  # initial soft-argmax temperature (see SpatialSoftArgmax)

    def to_json(self) -> dict[str, Any]:
        return _jsonable(asdict(self))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Any:
        return _from_json(cls, data)


@dataclass
class MILConfig(VisionPolicyConfig):
    """The MIL policy: the shared network plus bias transformation and the inner loop.

    Bias transformation of size 10 and meta-gradient clipping at 20 follow the reach set-up
    (L6815-L6819). Inner rates start at `inner_lr` and are meta-learned per parameter
    (Meta-SGD style). These defaults are the shipped `checkpoints/mil-reach` configuration.
    """

    bias_transform_dim: int = 10
    inner_steps: int = 1
    inner_lr: float = 0.1
    inner_lr_mode: str = "per_param"
    inner_grad_clip: float | None = 10.0
    first_order: bool = False
    # parameter-name prefixes the inner loop adapts; empty = all (thesis MIL). Adapting only
    # the perception layers forces the demo to act on which target the feature points find,
    # instead of on output biases that do not transfer to a new scene: with all parameters
    # adapted, post-adaptation loss stayed at the unadapted loss for 3.5k iterations.
    adapt_prefixes: tuple[str, ...] = ("trunk.", "keypoints.")


@dataclass
class ContextualConfig(VisionPolicyConfig):
    """The contextual baseline (thesis L3050-L3052): final demo frame + current frame -> action.

    It shares the MIL trunk's shape so the comparison isolates the adaptation mechanism.
    """


@dataclass
class TrainConfig:
    """Outer-loop settings shared by the MIL meta-trainer and the contextual baseline."""

    iterations: int = 6000
    meta_batch: int = 5  # tasks per meta-step (thesis L6815)
    meta_lr: float = 1e-3
    meta_lr_final: float = 1e-4  # cosine decay to this rate by the last iteration
    meta_grad_clip: float | None = 20.0  # thesis L6817-L6819
    frames_per_demo: int = 20  # frames sampled from each demo per step (DAML samples 40, L6990)
    early_frames: int = 8  # of which drawn from the first `early_window` steps (see TaskSampler.frames)
    early_window: int = 10
    seed: int = 0
    device: str = "cpu"
    save_every: int = 500
    log_every: int = 25
    max_minutes: float | None = None  # stop and save after this long (the schedule is cut)


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def _from_json(cls: type, data: dict[str, Any]) -> Any:
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"{cls.__name__}: unknown config keys {unknown}")
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    return cls(**values)
