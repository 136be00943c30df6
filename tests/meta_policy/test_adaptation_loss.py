"""DAML's learned adaptation losses and the inner step on one video without actions."""
import pytest
import torch

from metalearn.maml import InnerConfig, InnerLoop, functional, params_of
from meta_policy.adaptation_loss import (
    LinearAdaptationLoss,
    TemporalAdaptationLoss,
    inner_objective,
    make_adaptation_loss,
)
from meta_policy.daml_config import DAMLConfig
from meta_policy.daml_policy import DAMLPolicy, bc_loss

TINY = dict(image_size=(16, 16), conv_channels=(4, 4), kernel_sizes=(3, 3), strides=(2, 1),
            fc_hidden=(16, 16), points_loss_channels=(8, 8), hidden_loss_channels=(8, 8))


def video(length: int = 6) -> torch.Tensor:
    return torch.randint(0, 256, (length, 3, 16, 16), dtype=torch.uint8)


def setup(loss_kind: str = "temporal"):
    torch.manual_seed(0)
    cfg = DAMLConfig(**TINY, loss_kind=loss_kind)
    policy = DAMLPolicy(cfg)
    inner = InnerLoop(InnerConfig(steps=1, lr=0.01, grad_clip=30.0), params_of(policy))
    return policy, inner, make_adaptation_loss(cfg)


def test_make_adaptation_loss_follows_the_config():
    assert isinstance(make_adaptation_loss(DAMLConfig(**TINY)), TemporalAdaptationLoss)
    linear = make_adaptation_loss(DAMLConfig(**TINY, loss_kind="linear"))
    assert isinstance(linear, LinearAdaptationLoss)
    assert linear.head.weight.shape == (7, 16)


@pytest.mark.parametrize("length", [1, 3, 12])
def test_temporal_loss_is_a_scalar_for_any_video_length(length):
    torch.manual_seed(0)
    loss = TemporalAdaptationLoss(8, 16, (8, 8), (8, 8), kernel=10, out_dim=7)
    value = loss(torch.randn(length, 8), torch.randn(length, 16))
    assert value.shape == () and value.isfinite() and value > 0


def test_temporal_loss_sees_frame_order_and_the_linear_loss_does_not():
    torch.manual_seed(0)
    points, hidden = torch.randn(12, 8), torch.randn(12, 16)
    shuffled = torch.randperm(12)
    temporal = TemporalAdaptationLoss(8, 16, (8, 8), (8, 8), kernel=10, out_dim=7)
    linear = LinearAdaptationLoss(16, 7)
    assert not torch.allclose(temporal(points, hidden),
                              temporal(points[shuffled], hidden[shuffled]))
    assert torch.allclose(linear(points, hidden), linear(points[shuffled], hidden[shuffled]))


def test_linear_loss_is_the_summed_squared_norm_of_a_linear_head():
    torch.manual_seed(0)
    linear = LinearAdaptationLoss(16, 7)
    hidden = torch.randn(5, 16)
    expected = sum(((linear.head.weight @ h + linear.head.bias) ** 2).sum() for h in hidden)
    assert torch.allclose(linear(torch.randn(5, 8), hidden), expected)


def adapt_to_video(policy, inner, theta, learned_loss, clip, create_graph=None):
    return inner.adapt(theta, lambda p: inner_objective(policy, p, learned_loss, clip),
                       create_graph=create_graph)


@pytest.mark.parametrize("loss_kind", ["temporal", "linear"])
def test_inner_step_adapts_the_policy_and_the_outer_loss_reaches_psi(loss_kind):
    policy, inner, learned_loss = setup(loss_kind)
    theta = params_of(policy)
    phi = adapt_to_video(policy, inner, theta, learned_loss, video())
    assert not torch.equal(phi["trunk.layers.0.weight"], theta["trunk.layers.0.weight"])
    assert phi["action_head.weight"] is theta["action_head.weight"]  # h does not reach it
    robot = video(), torch.randn(6, 21), torch.randn(6, 7)
    outer = bc_loss(functional(policy, phi, robot[0], robot[1]), robot[2])
    psi = list(learned_loss.parameters())
    grads = torch.autograd.grad(outer, [*theta.values(), *psi], allow_unused=True)
    psi_grads = torch.cat([g.flatten() for g in grads[len(theta):]])
    assert psi_grads.isfinite().all() and psi_grads.abs().sum() > 0
    assert torch.cat([g.flatten() for g in grads[:len(theta)]]).isfinite().all()


def test_first_order_inner_step_gives_psi_no_gradient():
    policy, inner, learned_loss = setup()
    phi = adapt_to_video(policy, inner, params_of(policy), learned_loss, video(),
                         create_graph=False)
    outer = bc_loss(functional(policy, phi, video(), torch.randn(6, 21)), torch.randn(6, 7))
    grads = torch.autograd.grad(outer, list(learned_loss.parameters()), allow_unused=True)
    assert all(g is None for g in grads)


def test_inner_step_zeroes_the_robot_state():
    policy, _, learned_loss = setup()
    policy.state_norm.fit(torch.randn(50, 21) * 3 + 1)
    clip = video()
    at_mean = policy(clip, policy.state_norm.mean.expand(6, 21)).hidden
    assert torch.allclose(policy(clip, None).hidden, at_mean)  # None = zero network input
    theta = params_of(policy)
    weight = "fc_in.linear.weight"  # its input columns: [points (8), pose (3), state (21), z]
    grad = torch.autograd.grad(inner_objective(policy, theta, learned_loss, clip), theta[weight])[0]
    assert grad[:, :11].abs().sum() > 0
    assert torch.equal(grad[:, 11:32], torch.zeros_like(grad[:, 11:32]))


def test_inner_objective_takes_one_video():
    policy, _, learned_loss = setup()
    with pytest.raises(ValueError, match="one video"):
        inner_objective(policy, params_of(policy), learned_loss, video().unsqueeze(0))
