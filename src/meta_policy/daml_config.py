"""Configuration of the DAML policy and its learned adaptation loss (thesis 7.2, B.3).

The defaults are the thesis's simulated pushing set-up (B.3.6, L7003-L7012) on the push
twin: 7 joint torques with a mean-squared-error behaviour-cloning loss, the twin's 21-D
robot state, 4 conv layers, 2 FC layers of 400, a temporal loss of two 64-channel 10x1
layers, one inner step at alpha = 0.01 clipped to [-20, 20]. Only the image is smaller
than the thesis's 125x125 (the twin renders 64x64, which suits two CPU cores).
:meth:`DAMLConfig.for_sawyer` gives the real-robot pushing set-up (B.3.3, L6927-L6957:
mixture density head, 5 inner steps, alpha = 0.005, clip [-30, 30]) on the Sawyer twin.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from meta_policy.config import OuterLoopConfig, VisionPolicyConfig

ACTION_KINDS = ("torque", "ee_velocity_gripper")
LOSS_KINDS = ("temporal", "linear")


@dataclass
class DAMLConfig(VisionPolicyConfig):
    """The DAML network (policy + learned loss) and its inner loop.

    action_kind: ``torque`` -> a deterministic head of ``action_dim`` joint torques trained
    with MSE (sim pushing, L7009-L7010); ``ee_velocity_gripper`` -> a mixture density head
    over ``action_dim`` end-effector velocities plus a sigmoid gripper open/close
    (L3533-L3537). ``aux_pose_dim`` is the size of the gripper pose predicted from the
    feature points and fed back into the FC layers (L3538-L3546); 0 drops the head (the
    thesis's sim pushing does not mention one). The push twin's default of 3 is the
    pusher position, which its robot state records.
    loss_kind: ``temporal`` (L3547-L3560) or the ``linear`` two-head ablation (L2911-L2944).
    ``points_loss_channels`` / ``hidden_loss_channels`` are the widths of the 10x1 layers
    over the feature points f and the last hidden layer h (real pushing used 20 on the
    pose branch and 10 on the action branch, L6931-L6933). ``loss_out_dim`` is the width
    of the final 1x1 layer (temporal) or of W (linear); the thesis does not give it, so it
    defaults to the action size, the width of the two-head loss's pre-update head.
    """

    image_size: tuple[int, int] = (64, 64)  # thesis 125x125 (L7005); the twin renders 64x64
    state_dim: int = 21  # push twin: 7 joint angles, 7 velocities, pusher position + quaternion
    action_dim: int = 7
    conv_channels: tuple[int, ...] = (16, 16, 16, 32)  # L7005-L7006
    kernel_sizes: tuple[int, ...] = (5, 5, 5, 5)
    strides: tuple[int, ...] = (2, 2, 2, 1)
    fc_hidden: tuple[int, ...] = (400, 400)  # L7006
    action_kind: str = "torque"
    mixture_modes: int = 20  # L6948-L6949 (ee_velocity_gripper only)
    aux_pose_dim: int = 3
    bias_transform_dim: int = 20  # L6956
    loss_kind: str = "temporal"
    points_loss_channels: tuple[int, ...] = (64, 64)  # L7007
    hidden_loss_channels: tuple[int, ...] = (64, 64)
    loss_kernel: int = 10  # 10x1 temporal filters (L3559)
    loss_out_dim: int = 7
    inner_steps: int = 1  # L7011; real-robot experiments use 5 (L6955)
    inner_lr: float = 0.01  # L7010
    inner_grad_clip: float | None = 20.0  # L7010; real-robot experiments use 30 (L6953)
    first_order: bool = False

    def __post_init__(self) -> None:
        if self.action_kind not in ACTION_KINDS:
            raise ValueError(f"DAMLConfig.action_kind must be one of {ACTION_KINDS}, "
                             f"got {self.action_kind!r}")
        if self.loss_kind not in LOSS_KINDS:
            raise ValueError(f"DAMLConfig.loss_kind must be one of {LOSS_KINDS}, "
                             f"got {self.loss_kind!r}")
        if min(self.action_dim, self.mixture_modes, self.loss_kernel, self.loss_out_dim,
               self.inner_steps) < 1 or self.aux_pose_dim < 0:
            raise ValueError(f"DAMLConfig sizes must be positive (aux_pose_dim >= 0): {self}")

    @classmethod
    def for_sawyer(cls, **overrides: Any) -> "DAMLConfig":
        """The real-robot pushing hyperparameters (B.3.3) on the Sawyer twin's layout.

        Sawyer twin: 18-D state (7 joint angles, 7 velocities, EE position, gripper
        opening), 3 EE velocities + gripper. Thesis: 5 conv x 64 3x3 filters (here 16, for
        CPUs), 4 FC x 50, 20 mixture modes, losses of 20 (on f) and 10 (on h) 10x1 filters,
        5 inner steps at alpha = 0.005 clipped to [-30, 30] (L6927-L6933, L6948-L6956).
        """
        sawyer = cls(state_dim=18, action_dim=3, action_kind="ee_velocity_gripper",
                     conv_channels=(16,) * 5, kernel_sizes=(3,) * 5, strides=(2, 2, 2, 1, 1),
                     fc_hidden=(50,) * 4, points_loss_channels=(20, 20),
                     hidden_loss_channels=(10, 10), loss_out_dim=3, inner_steps=5,
                     inner_lr=0.005, inner_grad_clip=30.0)
        return replace(sawyer, **overrides)


@dataclass
class DAMLTrainConfig(OuterLoopConfig):
    """Outer-loop settings of ``oneshot train daml``. The defaults are the CPU preset,
    sized to train in under two hours on two cores; :meth:`gpu` is the thesis's scale
    (B.3.6: meta-batch 15, 30k iterations; B.3.1: 40 frames per demo)."""

    iterations: int = 3000
    meta_batch: int = 8
    video_from: str = "human"  # human: Table 6/7 setting; robot: video only, Table 8
    video_frames: int = 20
    demo_frames: int = 20
    early_frames: int = 0  # robot-demo frames drawn from its first early_window steps (0: uniform)
    early_window: int = 25
    colour_shift: float = 0.3  # U[-shift, shift] on hue, saturation, value (B.3.5, Sawyer); the
    # simulated pushing of B.3.6 has none: its shipped models use 0 (scripts/train-daml.sh)
    aux_pose_weight: float = 1.0

    @classmethod
    def gpu(cls, **overrides: Any) -> "DAMLTrainConfig":
        values = {"iterations": 30000, "meta_batch": 15, "video_frames": 40, "demo_frames": 40,
                  "device": "cuda", "save_every": 2000, "log_every": 100}
        return cls(**{**values, **overrides})
