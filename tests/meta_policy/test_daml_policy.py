"""The DAML policy: configuration, output shapes, mixture density loss and action selection."""
import math

import pytest
import torch

from metalearn.maml import functional, params_of
from meta_policy.daml_config import DAMLConfig
from meta_policy.daml_policy import (
    DAMLPolicy,
    MixtureParams,
    bc_loss,
    mdn_nll,
    sample_most_probable,
    select_action,
)

TINY = dict(image_size=(16, 16), conv_channels=(4, 4), kernel_sizes=(3, 3), strides=(2, 1),
            fc_hidden=(16, 16), points_loss_channels=(8, 8), hidden_loss_channels=(8, 8))
TORQUE = DAMLConfig(**TINY)
GRIPPER = DAMLConfig.for_sawyer(**TINY, mixture_modes=3)


def frames(*lead: int) -> torch.Tensor:
    return torch.randint(0, 256, (*lead, 3, 16, 16), dtype=torch.uint8)


def reference_log_prob(mixture: MixtureParams, actions: torch.Tensor) -> torch.Tensor:
    """Mean log-density of ``actions`` under ``mixture``, computed by torch.distributions."""
    d = torch.distributions
    components = d.Independent(d.Normal(mixture.means, mixture.log_stds.exp()), 1)
    return d.MixtureSameFamily(d.Categorical(logits=mixture.logits), components).log_prob(
        actions).mean()


def test_config_round_trips_through_json_and_checks_its_kinds():
    for cfg in (DAMLConfig(), DAMLConfig.for_sawyer()):
        assert DAMLConfig.from_json(cfg.to_json()) == cfg
    with pytest.raises(ValueError, match="action_kind"):
        DAMLConfig(action_kind="joint_velocity")
    with pytest.raises(ValueError, match="loss_kind"):
        DAMLConfig(loss_kind="lstm")


@pytest.mark.parametrize("lead", [(2, 5), (7,)])
def test_torque_policy_shapes(lead):
    out = DAMLPolicy(TORQUE)(frames(*lead), torch.randn(*lead, 21))
    assert out.points.shape == (*lead, 8) and out.hidden.shape == (*lead, 16)
    assert out.pose.shape == (*lead, 3) and out.actions.shape == (*lead, 7)
    assert out.mixture is None and out.gripper_logit is None
    assert select_action(out).shape == (*lead, 7)


@pytest.mark.parametrize("lead", [(2, 5), (7,)])
def test_ee_velocity_gripper_policy_shapes(lead):
    out = DAMLPolicy(GRIPPER)(frames(*lead), torch.randn(*lead, 18))
    assert out.actions is None and out.gripper_logit.shape == lead
    assert out.mixture.logits.shape == (*lead, 3)
    assert out.mixture.means.shape == out.mixture.log_stds.shape == (*lead, 3, 3)
    action = select_action(out, n=10)
    assert action.shape == (*lead, 4)
    closing = out.gripper_logit > 0  # the twins' gripper command: +1 closes, -1 opens
    assert torch.equal(action[..., 3], torch.where(closing, 1.0, -1.0))


def test_policy_runs_under_functional_call_with_substituted_parameters():
    torch.manual_seed(0)
    policy = DAMLPolicy(TORQUE)
    video, state = frames(4), torch.randn(4, 21)
    theta = params_of(policy)
    assert torch.allclose(functional(policy, theta, video, state).actions,
                          policy(video, state).actions)
    shifted = {**theta, "action_head.bias": theta["action_head.bias"] + 1.0}
    assert torch.allclose(functional(policy, shifted, video, state).actions,
                          policy(video, state).actions + 1.0, atol=1e-6)


def test_mdn_nll_of_one_mode_is_the_gaussian_log_density():
    torch.manual_seed(0)
    means, log_stds = torch.randn(5, 1, 3), 0.3 * torch.randn(5, 1, 3)
    actions = torch.randn(5, 3)
    one = MixtureParams(torch.randn(5, 1), means, log_stds)
    gaussian = torch.distributions.Normal(means[:, 0], log_stds[:, 0].exp())
    expected = -gaussian.log_prob(actions).sum(-1).mean()
    assert torch.allclose(mdn_nll(one, actions), expected, atol=1e-5)
    # two identical modes with any weights are the same distribution
    two = MixtureParams(torch.randn(5, 2), means.expand(5, 2, 3), log_stds.expand(5, 2, 3))
    assert torch.allclose(mdn_nll(two, actions), expected, atol=1e-5)


def test_training_on_the_nll_makes_the_demonstrated_actions_likelier():
    torch.manual_seed(0)
    policy = DAMLPolicy(GRIPPER)
    video, state = frames(8), torch.randn(8, 18)
    demonstrated = torch.full((8, 3), 1.0) + 0.1 * torch.randn(8, 3)
    far = -demonstrated
    optimizer = torch.optim.Adam(policy.parameters(), lr=3e-3)
    for _ in range(60):
        optimizer.zero_grad()
        mdn_nll(policy(video, state).mixture, demonstrated).backward()
        optimizer.step()
    # judged by torch.distributions, so a wrong mdn_nll cannot grade itself
    mixture = policy(video, state).mixture
    assert reference_log_prob(mixture, demonstrated) > reference_log_prob(mixture, far) + 1.0


def test_sample_most_probable_returns_the_peak_of_a_sharp_mixture():
    peak = torch.tensor([0.8, -0.4])
    logits = torch.log(torch.tensor([0.4, 0.3, 0.3])).expand(6, 3)
    means = torch.stack([peak, torch.tensor([-1.0, 1.0]), torch.tensor([1.0, 1.0])])
    log_stds = torch.tensor([math.log(0.01), 0.0, 0.0])[:, None].expand(3, 2)
    mixture = MixtureParams(logits, means.expand(6, 3, 2), log_stds.expand(6, 3, 2))
    generator = torch.Generator().manual_seed(0)
    action = sample_most_probable(mixture, n=100, generator=generator)
    assert action.shape == (6, 2)
    assert torch.allclose(action, peak.expand(6, 2), atol=0.05)


def test_bc_loss_matches_the_action_kind():
    torch.manual_seed(0)
    out = DAMLPolicy(TORQUE)(frames(3), torch.randn(3, 21))
    target = torch.randn(3, 7)
    assert torch.allclose(bc_loss(out, target), (out.actions - target).square().mean())
    with pytest.raises(ValueError, match="gripper"):
        bc_loss(out, target, torch.ones(3))
    out = DAMLPolicy(GRIPPER)(frames(3), torch.randn(3, 18))
    with pytest.raises(ValueError, match="gripper"):
        bc_loss(out, torch.randn(3, 3))
    assert bc_loss(out, torch.randn(3, 3), torch.tensor([0.0, 1.0, 1.0])).isfinite()
