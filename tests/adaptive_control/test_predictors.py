"""GBAC, MB, MB+DE and RBAC predictors: what each does with the recent transitions."""

import numpy as np
import pytest
import torch

from adaptive_control.buffer import TransitionBuffer
from adaptive_control.dynamics import DynamicsModel, RolloutModel
from adaptive_control.predictors import AdaptConfig, FeedForwardPredictor, RecurrentPredictor
from adaptive_control.rbac import RecurrentDynamics
from adaptive_control.twins import make_twin, model_input_dims
from metalearn.maml import InnerConfig


def filled_buffer(env, steps, seed=0):
    rng = np.random.default_rng(seed)
    buffer = TransitionBuffer(env.observation_space.shape[0], env.action_space.shape[0])
    state, _ = env.reset(seed=seed)
    for _ in range(steps):
        action = rng.uniform(-1, 1, env.action_space.shape).astype(np.float32)
        next_state = env.step(action)[0]
        buffer.append(state, action, next_state)
        state = next_state
    return buffer


@pytest.fixture()
def cheetah():
    torch.manual_seed(0)
    env = make_twin("cheetah", "unseen", episode_steps=100)
    model = DynamicsModel(18, 6, model_input_dims(env), hidden=(64, 64))
    buffer = filled_buffer(env, 40)
    w = buffer.last()
    model.norm.fit(w.states, w.actions, w.next_states)
    return env, model, buffer


def window_loss(model, buffer, params, m=32):
    w = buffer.last(m)
    return model.loss(w.states, w.actions, w.next_states, params=params).item()


def test_gbac_step_reduces_the_loss_on_the_window(cheetah):
    _, model, buffer = cheetah
    predictor = FeedForwardPredictor(model, "gbac", AdaptConfig(lr=0.01))
    before = window_loss(model, buffer, predictor.theta)
    predictor.update(buffer)
    assert window_loss(model, buffer, predictor.params) < before


def test_gbac_restarts_from_theta_while_dynamic_evaluation_carries_over(cheetah):
    _, model, buffer = cheetah
    gbac = FeedForwardPredictor(model, "gbac", AdaptConfig())
    de = FeedForwardPredictor(model, "mb_de", AdaptConfig())
    mb = FeedForwardPredictor(model, "mb", AdaptConfig())
    for predictor in (gbac, de, mb):
        predictor.update(buffer)
    first_gbac, first_de = dict(gbac.params), dict(de.params)
    gbac.update(buffer)
    de.update(buffer)
    name = "net.0.weight"
    torch.testing.assert_close(gbac.params[name], first_gbac[name])
    assert not torch.allclose(de.params[name], first_de[name])
    assert window_loss(model, buffer, de.params) < window_loss(model, buffer, first_de)
    assert mb.params[name] is mb.theta[name]
    de.reset()
    assert de.params[name] is de.theta[name]


def test_gbac_steps_with_the_models_learned_rates(cheetah):
    env, fixed, buffer = cheetah
    learned = InnerConfig(lr=0.01, lr_mode="per_param")
    model = DynamicsModel(18, 6, model_input_dims(env), hidden=(64, 64), learned_rates=learned)
    model.load_state_dict(fixed.state_dict(), strict=False)
    rates = model.update_rule.param_rates
    with torch.no_grad():
        rates["net__0__weight"].zero_()     # a rate learned to be 0 freezes that weight
        rates["net__4__bias"].mul_(10)
    gbac = FeedForwardPredictor(model, "gbac", AdaptConfig(lr=0.01, lr_mode="per_param"))
    plain = FeedForwardPredictor(fixed, "gbac", AdaptConfig(lr=0.01))
    gbac.update(buffer)
    plain.update(buffer)
    torch.testing.assert_close(gbac.params["net.0.weight"], model.net[0].weight)
    assert not torch.equal(plain.params["net.0.weight"], fixed.net[0].weight)
    moved = gbac.params["net.4.bias"] - model.net[4].bias
    torch.testing.assert_close(moved, 10 * (plain.params["net.4.bias"] - fixed.net[4].bias))
    half = FeedForwardPredictor(model, "gbac", AdaptConfig(lr=0.01, lr_mode="per_param",
                                                           learned_rate_scale=0.5))
    half.update(buffer)
    torch.testing.assert_close(half.params["net.4.bias"] - model.net[4].bias, moved / 2)
    assert AdaptConfig(learned_rate_scale=0.5).rate_scale == 1.0   # selected: as selected
    with pytest.raises(ValueError, match="learned rates"):
        FeedForwardPredictor(fixed, "gbac", AdaptConfig(lr_mode="per_param"))


def test_rollout_model_predicts_as_the_model_with_the_same_params(cheetah):
    _, model, buffer = cheetah
    predictor = FeedForwardPredictor(model, "gbac", AdaptConfig(lr=0.1))
    predictor.update(buffer)
    w = buffer.last()
    expected = model.predict(w.states, w.actions, predictor.params)
    torch.testing.assert_close(predictor.rollout.predict(w.states, w.actions), expected)
    low = RolloutModel(model, torch.bfloat16)
    low.load(predictor.params)
    scale = (w.next_states - w.states).abs().mean()
    assert (low.predict(w.states, w.actions) - expected).abs().mean() < 0.05 * scale


def test_rbac_feeds_each_transition_once_and_plans_from_the_episode_state(cheetah):
    env, _, buffer = cheetah
    model = RecurrentDynamics(18, 6, model_input_dims(env), hidden_size=32)
    incremental = RecurrentPredictor(model)
    partial = TransitionBuffer(18, 6)
    w = buffer.last()
    for t in range(len(buffer)):
        partial.append(w.states[t].numpy(), w.actions[t].numpy(), w.next_states[t].numpy())
        if t % 7 == 0:
            incremental.update(partial)
    incremental.update(partial)
    whole = RecurrentPredictor(model)
    whole.update(buffer)
    for a, b in zip(incremental.hidden, whole.hidden):
        torch.testing.assert_close(a, b)
    actions = torch.rand(5, 3, 6) * 2 - 1
    states = whole.simulate(w.next_states[-1], actions)
    assert states.shape == (5, 4, 18)
    fresh = RecurrentPredictor(model).simulate(w.next_states[-1], actions)
    assert not torch.allclose(states[:, 1:], fresh[:, 1:])


def test_rbac_plans_in_bfloat16_close_to_float32(cheetah):
    env, _, buffer = cheetah
    torch.manual_seed(1)
    model = RecurrentDynamics(18, 6, model_input_dims(env), hidden_size=32)
    w = buffer.last()
    model.norm.fit(w.states, w.actions, w.next_states)
    exact, low = RecurrentPredictor(model), RecurrentPredictor(model, torch.bfloat16)
    for predictor in (exact, low):
        predictor.update(buffer)
    actions = torch.rand(64, 5, 6) * 2 - 1
    expected = exact.simulate(w.next_states[-1], actions)
    planned = low.simulate(w.next_states[-1], actions)
    assert planned.dtype == torch.float32
    step = (expected[:, 1:] - expected[:, :-1]).abs().mean()
    error = (planned - expected).abs().mean()
    assert 0 < error < 0.05 * step      # bfloat16 did run, and ranks as float32 would
