"""The MPC optimisers and the adapt-plan-act loop (thesis Eq. 17, Algorithms 7-8)."""

import logging

import mujoco
import numpy as np
import pytest
import torch

from adaptive_control.buffer import NonFiniteTransition, TransitionBuffer
from adaptive_control.controller import AdaptiveController, run_episode
from adaptive_control.dynamics import DynamicsModel
from adaptive_control.mpc import CEM, MPCConfig, RandomShooting, sequence_returns
from adaptive_control.predictors import AdaptConfig, FeedForwardPredictor
from adaptive_control.twins import make_twin, model_input_dims
from sim.arm_force import EE


class TrueArmDynamics:
    """The arm twin's own physics as a simulator of candidate sequences (an oracle for
    the planner test): one MuJoCo copy stepped through each candidate in turn."""

    def __init__(self, env):
        self.env = env
        self.data = mujoco.MjData(env.model)

    def __call__(self, state, actions):
        env, data = self.env, self.data
        out = torch.zeros(actions.shape[0], actions.shape[1] + 1, state.shape[0])
        for i, sequence in enumerate(actions.numpy()):
            data.qpos[:] = state[:7].numpy()
            data.qvel[:] = state[7:14].numpy()
            data.xfrc_applied[:] = env.data.xfrc_applied
            mujoco.mj_forward(env.model, data)
            out[i, 0] = state
            for h, action in enumerate(sequence):
                data.ctrl[:] = action
                mujoco.mj_step(env.model, data, nstep=env.frame_skip)
                ee = data.geom_xpos[list(env._tips)].mean(axis=0)
                out[i, h + 1] = torch.as_tensor(np.concatenate(
                    [data.qpos, data.qvel, ee, env.goal]), dtype=torch.float32)
        return out


def test_mpc_with_the_true_dynamics_beats_random_actions():
    env = make_twin("arm", "constant", episode_steps=25)
    low, high = (torch.as_tensor(b) for b in (env.action_space.low, env.action_space.high))
    planner = RandomShooting(MPCConfig(candidates=64, horizon=4), low, high)
    generator = torch.Generator().manual_seed(0)
    for seed in range(2):
        state, _ = env.reset(seed=seed)
        start = np.linalg.norm(state[EE] - env.goal)
        oracle = TrueArmDynamics(env)
        planned = 0.0
        for _ in range(25):
            action = planner.plan(oracle, env.reward, torch.as_tensor(state), generator)
            state, reward, *_ = env.step(action.numpy())
            planned += reward
        random = run_episode(env, None, seed).total_reward
        assert planned > random + 1.0
        assert np.linalg.norm(state[EE] - env.goal) < start / 2


def small_setup(optimiser="rs", candidates=40):
    torch.manual_seed(0)
    env = make_twin("cheetah", "switch", episode_steps=30)
    model = DynamicsModel(18, 6, model_input_dims(env), hidden=(32, 32))
    predictor = FeedForwardPredictor(model, "gbac", AdaptConfig(past=8))
    low, high = (torch.as_tensor(b) for b in (env.action_space.low, env.action_space.high))
    cfg = MPCConfig(optimiser=optimiser, candidates=candidates, horizon=5)
    planner = (RandomShooting if optimiser == "rs" else CEM)(cfg, low, high)
    return env, model, predictor, planner


def test_batched_returns_equal_a_per_candidate_loop():
    env, _, predictor, _ = small_setup()
    state = torch.as_tensor(env.reset(seed=1)[0])
    actions = torch.rand(50, 5, 6) * 2 - 1
    batched = sequence_returns(predictor.simulate, env.reward, state, actions)
    looped = torch.stack([sequence_returns(predictor.simulate, env.reward, state, a[None])[0]
                          for a in actions])
    torch.testing.assert_close(batched, looped, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("optimiser", ["rs", "cem"])
def test_planner_picks_the_first_action_of_a_high_return_sequence(optimiser):
    env, _, predictor, planner = small_setup(optimiser, candidates=200)
    state = torch.as_tensor(env.reset(seed=2)[0])
    action = planner.plan(predictor.simulate, env.reward, state, torch.Generator().manual_seed(0))
    assert action.shape == (6,) and torch.all(action.abs() <= 1)
    random = torch.rand(200, 5, 6) * 2 - 1
    planned_returns = []
    for seed in range(20):
        rest = torch.rand(1, 4, 6, generator=torch.Generator().manual_seed(seed)) * 2 - 1
        sequence = torch.cat([action[None, None], rest], dim=1)
        planned_returns.append(sequence_returns(predictor.simulate, env.reward, state, sequence))
    chosen_first = sequence_returns(predictor.simulate, env.reward, state, random).median()
    assert torch.cat(planned_returns).median() > chosen_first


def test_non_finite_transitions_are_refused_and_do_not_touch_the_model(caplog):
    env, model, predictor, planner = small_setup()
    controller = AdaptiveController(predictor, planner, env.reward, 18, 6)
    state, _ = env.reset(seed=0)
    for _ in range(5):
        action = controller.act(state)
        next_state = env.step(action)[0]
        assert controller.observe(state, action, next_state)
        state = next_state
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    bad_state = state.copy()
    bad_state[3] = np.nan
    with caplog.at_level(logging.WARNING):
        assert not controller.observe(state, np.zeros(6, np.float32), bad_state)
        assert not controller.observe(state, np.full(6, np.inf, np.float32), state)
    assert "not finite" in caplog.text
    assert len(controller.buffer) == 5
    action = controller.act(state)
    assert np.all(np.isfinite(action))
    assert all(torch.isfinite(p).all() for p in predictor.params.values())
    for key, value in model.state_dict().items():
        torch.testing.assert_close(value, weights[key])
    with pytest.raises(NonFiniteTransition, match="action"):
        TransitionBuffer(18, 6).append(state, np.array([np.nan] * 6), state)



def test_a_long_running_buffer_keeps_its_capacity_and_the_latest_transitions():
    buffer = TransitionBuffer(2, 1, capacity=5)
    for i in range(23):
        buffer.append(np.full(2, i, np.float32), np.full(1, i, np.float32),
                      np.full(2, i + 1, np.float32))
        assert len(buffer) < 2 * 5
    assert buffer.appended == 23
    window = buffer.last(4)
    np.testing.assert_array_equal(window.actions[:, 0].numpy(), [19, 20, 21, 22])
    np.testing.assert_array_equal(window.next_states[:, 0].numpy(), [20, 21, 22, 23])
    buffer.clear()
    assert len(buffer) == buffer.appended == 0

def test_controlled_episode_is_reproducible_under_seed():
    env, _, predictor, planner = small_setup("cem")
    runs = []
    for _ in range(2):
        controller = AdaptiveController(predictor, planner, env.reward, 18, 6, seed=3)
        runs.append(run_episode(env, controller, seed=4))
    np.testing.assert_array_equal(runs[0].actions, runs[1].actions)
    assert len(runs[0].rewards) == 30
