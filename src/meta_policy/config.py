"""Configurations of the one-shot imitation policies (MIL, thesis ch. 7.1 and B.2.1).

Kept apart from the networks so that a checkpoint's `config.json` is exactly one of these
dataclasses, and a mismatch between a checkpoint and the code is caught field by field.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
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
    # Two-head architecture (L2861-L2910): the inner loss is ||W h_t + b - a_t||^2 of a
    # separate pre-update head (W, b) on the last hidden layer h, the outer loss the usual
    # action head's; both heads are meta-learned, neither is adapted. Off for mil-reach.
    two_head: bool = False
    # A learned image-sized input channel (one more conv input), adapted like z: the push
    # net's "additional bias transformation concatenated to the image" (L6838-L6840).
    image_bias_transform: bool = False
    # An auxiliary head predicting the end-effector position at contact from the feature
    # points, fed to the FC layers with them and supervised in the outer loss only: DAML's
    # auxiliary pose (L3538-L3546), here for MIL too (see `for_push`). 0 = none (mil-reach).
    aux_pose_dim: int = 0

    @classmethod
    def for_push(cls, **overrides: Any) -> "MILConfig":
        """The simulated pushing network of B.2.2 (L6834-L6842) on the push twin.

        Kept from the thesis: 4 strided conv layers of 5x5 filters -> spatial soft-argmax
        -> 3 FC x 200; one inner step with the inner gradient clipped to [-10, 10]; bias
        transformation of 20 and the image-sized bias transformation (L6837-L6840); two
        heads, which the thesis found important here (L6841-L6842). Every parameter of the
        trunk and FC layers is adapted, as in the thesis (the two heads are meta-learned
        only, see `make_inner_loop`).
        Changed for the twin and two CPU cores: 64x64 images (the twin renders 64x64, not
        125x125); strides (2, 2, 2, 1), since a fourth stride-2 layer would leave a 4x4
        map to place feature points on; the last layer has 32 filters, as DAMLConfig's push
        net, so both methods see the same 32 feature points (two look-alike objects, the
        goal and the arm); the twin's 21-D state (7 joint angles, 7 velocities, pusher
        position + quaternion) and 7 joint torques. Inner rates are meta-learned per
        parameter (Meta-SGD, as mil-reach) from 0.1, not the thesis's alpha = 0.01: that
        alpha steps on the authors' loss, which their released code scales by a constant
        (50^2 on the squared error for push), while ours is the plain mean squared error;
        0.1 is where mil-reach starts too (thesis alpha 0.001 there). The meta-batch of 15
        (L6836-L6837) is a TrainConfig setting (`--meta-batch 15`).
        Added: DAML's auxiliary contact-pose head (`aux_pose_dim` = 3). Without it, MIL on
        the twin never used the demo: its adapted and unadapted losses stayed equal over
        4,395 iterations (checkpoints/mil-push, 42% on push-robot), while DAML, whose outer
        loss has the contact pose, reads which object to push from one video.
        """
        push = cls(
            image_size=(64, 64), state_dim=21, action_dim=7,
            conv_channels=(16, 16, 16, 32), kernel_sizes=(5, 5, 5, 5), strides=(2, 2, 2, 1),
            fc_hidden=(200, 200, 200), bias_transform_dim=20, inner_steps=1, inner_lr=0.1,
            inner_lr_mode="per_param", inner_grad_clip=10.0, adapt_prefixes=(),
            two_head=True, image_bias_transform=True, aux_pose_dim=3,
        )
        return replace(push, **overrides)


@dataclass
class ContextualConfig(VisionPolicyConfig):
    """The contextual baseline (thesis L3050-L3052): final demo frame + current frame -> action.

    It shares the MIL trunk's shape so the comparison isolates the adaptation mechanism.
    """


@dataclass
class OuterLoopConfig:
    """What every meta-trainer's outer loop reads (meta_policy.train.outer_loop): Adam with
    a cosine-decayed rate, element-wise meta-gradient clipping, logging and saving."""

    iterations: int = 6000
    meta_batch: int = 5  # tasks per meta-step (thesis L6815)
    meta_lr: float = 1e-3
    meta_lr_final: float = 1e-4  # cosine decay to this rate by the last iteration
    meta_grad_clip: float | None = 20.0  # thesis L6817-L6819
    seed: int = 0
    device: str = "cpu"
    save_every: int = 500
    log_every: int = 25
    max_minutes: float | None = None  # stop and save after this long (the rate anneals on it)


@dataclass
class TrainConfig(OuterLoopConfig):
    """The MIL meta-trainer's and the contextual baseline's settings: the outer loop and
    how frames are drawn from each robot demo."""

    frames_per_demo: int = 20  # frames sampled from each demo per step (DAML samples 40, L6990)
    early_frames: int = 8  # of which drawn from the first `early_window` steps (see TaskSampler.frames)
    early_window: int = 10
    aux_pose_weight: float = 1.0  # of the auxiliary pose MSE in the outer loss (aux_pose_dim > 0)


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
