"""The DAML visuomotor policy (thesis 7.2.5.1, L3516-L3546) and its behaviour-cloning losses.

frames -> layer-normed conv trunk -> channel-wise spatial soft-argmax feature points f ->
[f, predicted gripper pose, robot state] -> bias-transformed FC layers with layer norm and
ReLU -> last hidden layer h -> action head. The learned adaptation loss reads f and h
(L3551-L3555), so the forward pass returns them next to the action outputs.

Action heads (``DAMLConfig.action_kind``):
- ``ee_velocity_gripper``: a mixture density network over end-effector velocities
  (diagonal Gaussians, 20 modes) trained by negative log-likelihood, plus a sigmoid gripper
  open/close trained by cross-entropy (L3533-L3537, L6948-L6950). At test time 100 actions
  are sampled and the most probable kept (L6950).
- ``torque``: a deterministic linear head trained with mean squared error, as the thesis's
  simulated pushing (L7009-L7010); an MSE loss is the NLL of a fixed-variance Gaussian, so
  no variance is learned and the test-time action is the mean.

Every step is a pure function of the parameters, so ``torch.func.functional_call`` (the
MAML inner loop) can substitute adapted ones.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from metalearn.layers import BiasTransform, ConvTrunk, SpatialSoftArgmax
from meta_policy.daml_config import DAMLConfig
from meta_policy.policy import StateNorm

# Mixture standard deviations are squashed into [e^-5, e^2]: a mode can neither collapse on
# one demonstrated action (NLL -> -inf) nor lose its gradient, as a hard clamp would.
LOG_STD_MIN, LOG_STD_MAX = -5.0, 2.0
HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


class MixtureParams(NamedTuple):
    """A diagonal Gaussian mixture per sample: weights before softmax, means, log std devs."""

    logits: torch.Tensor  # [..., K]
    means: torch.Tensor  # [..., K, A]
    log_stds: torch.Tensor  # [..., K, A]


class DAMLOutput(NamedTuple):
    """What the policy computes for each frame; heads the configuration lacks are None.

    points: feature points f [..., 2C]; hidden: last hidden layer h [..., H] (inputs of the
    learned loss); pose: the auxiliary gripper pose (supervised by MSE in the outer
    objective only, L3538-L3546); actions: torques (``torque``); mixture and gripper_logit:
    the velocity distribution and open/close logit (``ee_velocity_gripper``).
    """

    points: torch.Tensor
    hidden: torch.Tensor
    pose: torch.Tensor | None
    actions: torch.Tensor | None
    mixture: MixtureParams | None
    gripper_logit: torch.Tensor | None


def frames_to_input(frames: torch.Tensor) -> torch.Tensor:
    """[N, 3, H, W] frames (uint8, or float in [0, 1] after colour augmentation) -> float
    centred on zero."""
    images = frames.float().div(255.0) if frames.dtype == torch.uint8 else frames
    return images - 0.5


class DAMLPolicy(nn.Module):
    """pi_theta(a_t | o_t, s_t) of DAML; ``forward`` takes frames and robot state."""

    def __init__(self, cfg: DAMLConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.trunk = ConvTrunk(3, cfg.conv_channels, cfg.kernel_sizes, cfg.strides)
        self.keypoints = SpatialSoftArgmax(cfg.keypoint_temperature)
        self.state_norm = StateNorm(cfg.state_dim)
        points_dim = 2 * cfg.conv_channels[-1]
        self.pose_head = nn.Linear(points_dim, cfg.aux_pose_dim) if cfg.aux_pose_dim else None
        fc_in = points_dim + cfg.aux_pose_dim + cfg.state_dim
        self.fc_in = BiasTransform(fc_in, cfg.fc_hidden[0], cfg.bias_transform_dim)
        self.fc = nn.ModuleList(nn.Linear(a, b) for a, b in zip(cfg.fc_hidden, cfg.fc_hidden[1:]))
        self.fc_norms = nn.ModuleList(nn.LayerNorm(size) for size in cfg.fc_hidden)
        mixture = cfg.action_kind == "ee_velocity_gripper"
        head = cfg.mixture_modes * (1 + 2 * cfg.action_dim) if mixture else cfg.action_dim
        self.action_head = nn.Linear(cfg.fc_hidden[-1], head)
        self.gripper_head = nn.Linear(cfg.fc_hidden[-1], 1) if mixture else None

    def forward(self, frames: torch.Tensor, state: torch.Tensor | None) -> DAMLOutput:
        """Run the policy on frames [..., 3, H, W] (e.g. [B, T, ...] or [N, ...]) and robot
        state [..., state_dim]; every output keeps the leading dimensions.

        ``state=None`` feeds zeros as the (normalised) state input: a human video has no
        robot state, so DAML zeroes it in the inner step (L6957-L6958).
        """
        lead = frames.shape[:-3]
        images = frames_to_input(frames.reshape(-1, *frames.shape[-3:]))
        points = self.keypoints(self.trunk(images))
        if state is None:
            robot = points.new_zeros(points.shape[0], self.cfg.state_dim)
        else:
            robot = self.state_norm(state.reshape(-1, self.cfg.state_dim))
        pose = self.pose_head(points) if self.pose_head is not None else None
        inputs = [points, robot] if pose is None else [points, pose, robot]
        hidden = self.control(torch.cat(inputs, dim=-1))
        head = self.action_head(hidden)
        if self.gripper_head is None:
            actions, mixture, gripper = head, None, None
        else:
            mixture = mixture_params(head, self.cfg.mixture_modes, self.cfg.action_dim)
            actions, gripper = None, self.gripper_head(hidden)[..., 0]
        return _unflatten(DAMLOutput(points, hidden, pose, actions, mixture, gripper), lead)

    def control(self, x: torch.Tensor) -> torch.Tensor:
        """The FC layers: bias transformation first, each followed by layer norm and ReLU
        (L6940-L6941); returns the last hidden layer h."""
        layers = [self.fc_in, *self.fc]
        for layer, norm in zip(layers, self.fc_norms):
            x = torch.relu(norm(layer(x)))
        return x


def _unflatten(output: DAMLOutput, lead: torch.Size) -> DAMLOutput:
    """Restore the leading dimensions of every tensor of ``output``."""
    def restore(t: torch.Tensor | None) -> torch.Tensor | None:
        return None if t is None else t.reshape(*lead, *t.shape[1:])

    mixture = None if output.mixture is None else MixtureParams(*map(restore, output.mixture))
    return output._replace(points=restore(output.points), hidden=restore(output.hidden),
                           pose=restore(output.pose), actions=restore(output.actions),
                           mixture=mixture, gripper_logit=restore(output.gripper_logit))


def mixture_params(head: torch.Tensor, modes: int, action_dim: int) -> MixtureParams:
    """Split an action head's output [..., K(1 + 2A)] into mixture parameters, the standard
    deviations squashed into [e^LOG_STD_MIN, e^LOG_STD_MAX]."""
    logits, means, scales = head.split([modes, modes * action_dim, modes * action_dim], dim=-1)
    log_stds = LOG_STD_MIN + (LOG_STD_MAX - LOG_STD_MIN) * torch.sigmoid(scales)
    shape = (modes, action_dim)
    return MixtureParams(logits, means.unflatten(-1, shape), log_stds.unflatten(-1, shape))


def mixture_log_prob(mixture: MixtureParams, actions: torch.Tensor) -> torch.Tensor:
    """log sum_k pi_k N(a; mu_k, diag sigma_k^2) of actions [..., A]; the mixture's leading
    dimensions broadcast against the actions'."""
    logits, means, log_stds = mixture
    z = (actions.unsqueeze(-2) - means) / log_stds.exp()
    components = (-0.5 * z.square() - log_stds - HALF_LOG_2PI).sum(-1)
    return torch.logsumexp(components + logits.log_softmax(-1), dim=-1)


def mdn_nll(mixture: MixtureParams, actions: torch.Tensor) -> torch.Tensor:
    """Mean negative log-likelihood of the demonstrated actions: the MDN's behaviour-cloning
    loss (L6948-L6950)."""
    return -mixture_log_prob(mixture, actions).mean()


def gripper_bce(logit: torch.Tensor, closed: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of the sigmoid gripper output against 0 (open) / 1 (closed) targets."""
    return F.binary_cross_entropy_with_logits(logit, closed.to(logit.dtype))


def bc_loss(output: DAMLOutput, actions: torch.Tensor,
            gripper: torch.Tensor | None = None) -> torch.Tensor:
    """The behaviour-cloning part of the outer objective: MSE on torques, or mixture NLL on
    velocities plus the gripper's cross-entropy (``gripper`` holds its 0/1 targets)."""
    if output.mixture is None:
        if gripper is not None:
            raise ValueError("bc_loss: the torque policy has no gripper output")
        return F.mse_loss(output.actions, actions)
    if gripper is None:
        raise ValueError("bc_loss: the ee_velocity_gripper policy needs gripper targets")
    return mdn_nll(output.mixture, actions) + gripper_bce(output.gripper_logit, gripper)


def sample_most_probable(mixture: MixtureParams, n: int = 100,
                         generator: torch.Generator | None = None) -> torch.Tensor:
    """Draw ``n`` actions from each sample's mixture and return the one of highest mixture
    density, [..., A] (test-time action selection, L6950)."""
    logits, means, log_stds = mixture
    k, a = means.shape[-2:]
    lead = logits.shape[:-1]
    flat = MixtureParams(logits.reshape(-1, 1, k), means.reshape(-1, 1, k, a),
                         log_stds.reshape(-1, 1, k, a))
    modes = torch.multinomial(flat.logits[:, 0].softmax(-1), n, replacement=True,
                              generator=generator)
    index = modes[..., None].expand(-1, -1, a)
    mu = flat.means[:, 0].gather(1, index)
    sigma = flat.log_stds[:, 0].gather(1, index).exp()
    noise = torch.randn(mu.shape, generator=generator, dtype=mu.dtype, device=mu.device)
    samples = mu + sigma * noise  # [N, n, A]
    best = mixture_log_prob(flat, samples).argmax(-1)
    return samples[torch.arange(samples.shape[0], device=samples.device), best].reshape(*lead, a)


def select_action(output: DAMLOutput, n: int = 100,
                  generator: torch.Generator | None = None) -> torch.Tensor:
    """The action to execute: torques as predicted, or the most probable of ``n`` sampled
    velocities followed by the gripper command in the twins' convention: +1 closes (its
    probability of closed is > 0.5), -1 opens."""
    if output.mixture is None:
        return output.actions
    velocity = sample_most_probable(output.mixture, n, generator)
    command = torch.where(output.gripper_logit > 0, 1.0, -1.0).to(velocity.dtype)
    return torch.cat([velocity, command[..., None]], dim=-1)
