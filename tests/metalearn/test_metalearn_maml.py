"""The MAML inner loop: exact meta-gradients, first-order switch, clipping, learned rates."""

import pytest
import torch
from torch import nn

from metalearn.maml import InnerConfig, InnerLoop, functional, meta_step, params_of


def tiny_model() -> nn.Module:
    """MLP 1-3-1 in float64; tanh keeps the outer loss smooth for finite differences."""
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(1, 3), nn.Tanh(), nn.Linear(3, 1)).double()


def task_data():
    gen = torch.Generator().manual_seed(1)
    xs = torch.randn(5, 1, generator=gen, dtype=torch.float64)
    xq = torch.randn(7, 1, generator=gen, dtype=torch.float64)
    return xs, torch.sin(2 * xs), xq, torch.sin(2 * xq)


def mse(model, params, x, y):
    return ((functional(model, params, x) - y) ** 2).mean()


def outer_loss(model, loop, theta):
    xs, ys, xq, yq = task_data()
    phi = loop.adapt(theta, lambda p: mse(model, p, xs, ys))
    return mse(model, phi, xq, yq)


def finite_difference(model, loop, theta, eps=1e-6):
    grads = {}
    for name, value in theta.items():
        grad = torch.zeros_like(value)
        for i in range(value.numel()):
            losses = []
            for sign in (1, -1):
                shifted = value.detach().clone()
                shifted.view(-1)[i] += sign * eps
                params = {n: v.detach().clone().requires_grad_() for n, v in theta.items()}
                params[name] = shifted.requires_grad_()
                losses.append(outer_loss(model, loop, params).item())
            grad.view(-1)[i] = (losses[0] - losses[1]) / (2 * eps)
        grads[name] = grad
    return grads


@pytest.mark.parametrize("steps", [1, 2])
def test_meta_gradient_matches_finite_differences(steps):
    model = tiny_model()
    theta = params_of(model)
    loop = InnerLoop(InnerConfig(steps=steps, lr=0.3), theta)
    analytic = torch.autograd.grad(outer_loss(model, loop, theta), list(theta.values()))
    numeric = finite_difference(model, loop, theta)
    for (name, fd), grad in zip(numeric.items(), analytic):
        torch.testing.assert_close(grad, fd, rtol=1e-6, atol=1e-8, msg=name)


@pytest.mark.parametrize("steps", [1, 2])
def test_first_order_treats_inner_gradient_as_constant(steps):
    model = tiny_model()
    theta = params_of(model)
    xs, ys, xq, yq = task_data()
    lr = 0.3
    first = InnerLoop(InnerConfig(steps=steps, lr=lr, first_order=True), theta)
    second = InnerLoop(InnerConfig(steps=steps, lr=lr), theta)
    g_first = torch.autograd.grad(outer_loss(model, first, theta), list(theta.values()))
    g_second = torch.autograd.grad(outer_loss(model, second, theta), list(theta.values()))

    # by hand: plain SGD on detached parameters, then the outer gradient at phi
    phi = {n: p.detach().clone().requires_grad_() for n, p in theta.items()}
    for _ in range(steps):
        grads = torch.autograd.grad(mse(model, phi, xs, ys), list(phi.values()))
        phi = {n: (p - lr * g).detach().requires_grad_() for (n, p), g in zip(phi.items(), grads)}
    by_hand = torch.autograd.grad(mse(model, phi, xq, yq), list(phi.values()))

    for a, b in zip(g_first, by_hand):
        torch.testing.assert_close(a, b)
    assert max((a - b).abs().max().item() for a, b in zip(g_first, g_second)) > 1e-4


def test_inner_grad_clip_bounds_the_update():
    model = tiny_model()
    theta = params_of(model)
    lr, clip = 0.1, 0.5

    def huge(params):
        return 1e6 * sum((v**2).sum() for v in params.values())

    clipped = InnerLoop(InnerConfig(lr=lr, grad_clip=clip), theta).adapt(theta, huge)
    free = InnerLoop(InnerConfig(lr=lr), theta).adapt(theta, huge)
    for name, value in theta.items():
        step = (clipped[name] - value).abs()
        assert step.max().item() <= lr * clip + 1e-12
        # every element with a gradient beyond the clip moves by exactly lr * clip
        big = value.abs() * 2e6 > clip
        torch.testing.assert_close(step[big], torch.full_like(step[big], lr * clip))
        assert (free[name] - value).abs().max().item() > lr * clip


@pytest.mark.parametrize("mode", ["per_step", "per_param"])
@pytest.mark.parametrize("first_order", [False, True])
def test_learned_rates_receive_meta_gradients(mode, first_order):
    model = tiny_model()
    theta = params_of(model)
    loop = InnerLoop(InnerConfig(steps=2, lr=0.1, lr_mode=mode, first_order=first_order), theta)
    rates = list(loop.parameters())
    assert rates and all(isinstance(r, nn.Parameter) for r in rates)
    outer_loss(model, loop, theta).backward()
    for rate in rates:
        assert rate.grad is not None and rate.grad.abs().sum().item() > 0
    if mode == "per_step":
        assert loop.step_rates.shape == (2,)
    else:
        assert {k: tuple(v.shape) for k, v in loop.state_dict().items()} == {
            f"param_rates.{n.replace('.', '__')}": (2, *p.shape) for n, p in theta.items()
        }


def test_fixed_rate_has_no_parameters_and_takes_plain_sgd_steps():
    model = tiny_model()
    theta = params_of(model)
    loop = InnerLoop(InnerConfig(steps=1, lr=0.2), theta)
    assert list(loop.parameters()) == []
    xs, ys, _, _ = task_data()
    grads = torch.autograd.grad(mse(model, theta, xs, ys), list(theta.values()))
    phi = loop.adapt(theta, lambda p: mse(model, p, xs, ys))
    for (name, value), grad in zip(theta.items(), grads):
        torch.testing.assert_close(phi[name], value - 0.2 * grad)


def test_extra_test_time_steps_reuse_the_last_learned_rate_times_the_scale():
    model = tiny_model()
    theta = params_of(model)
    loop = InnerLoop(InnerConfig(steps=2, lr=0.1, lr_mode="per_param"), theta)
    with torch.no_grad():
        for index, rates in enumerate(loop.param_rates.values()):
            rates[0].fill_(0.05 * (index + 1))
            rates[1].fill_(0.2 * (index + 1))
    xs, ys, _, _ = task_data()
    loss = lambda p: mse(model, p, xs, ys)  # noqa: E731
    expected = theta
    for step in range(4):  # steps 2 and 3 were never trained: they take step 1's rates
        grads = torch.autograd.grad(loss(expected), list(expected.values()))
        expected = {name: value - 1.5 * loop.rate(name, min(step, 1)) * grad
                    for (name, value), grad in zip(expected.items(), grads)}
    phi = loop.adapt(theta, loss, create_graph=False, steps=4, rate_scale=1.5)
    for name in theta:
        torch.testing.assert_close(phi[name], expected[name])


def test_adapt_filter_leaves_other_params_untouched():
    model = tiny_model()
    theta = params_of(model)

    def last_layer(name):
        return name.startswith("2.")

    cfg = InnerConfig(steps=3, lr=0.1, lr_mode="per_param")
    loop = InnerLoop(cfg, theta, adapt_filter=last_layer)
    xs, ys, _, _ = task_data()
    phi = loop.adapt(theta, lambda p: mse(model, p, xs, ys))
    for name in theta:
        if last_layer(name):
            assert not torch.equal(phi[name], theta[name])
        else:
            assert phi[name] is theta[name]
    assert set(loop.param_rates.keys()) == {"2__weight", "2__bias"}


def test_unused_parameter_gets_zero_update():
    model = tiny_model()
    theta = params_of(model)
    extra = torch.ones(2, dtype=torch.float64, requires_grad=True)
    params = {**theta, "extra": extra}
    loop = InnerLoop(InnerConfig(lr=0.1), params)
    xs, ys, _, _ = task_data()
    phi = loop.adapt(params, lambda p: mse(model, {n: p[n] for n in theta}, xs, ys))
    torch.testing.assert_close(phi["extra"], extra)


def test_meta_step_clips_meta_gradient():
    weight = nn.Parameter(torch.zeros(3))
    optimizer = torch.optim.SGD([weight], lr=1.0)
    loss = (torch.tensor([100.0, -100.0, 0.5]) * weight).sum() + 7.0
    assert meta_step(optimizer, loss, clip=20.0) == pytest.approx(7.0)
    torch.testing.assert_close(weight.detach(), torch.tensor([-20.0, 20.0, -0.5]))
