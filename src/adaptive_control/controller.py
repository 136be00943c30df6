"""The online adaptive controller (thesis Algorithms 7 and 8, L2433-L2500): at every step
adapt on the recent transitions, plan with the adapted model, execute the first action,
record the transition.

A NaN or infinite observation or action is refused by the buffer (see
:mod:`adaptive_control.buffer`); the controller logs it and carries on with the transitions
it has, so one bad sensor reading cannot poison the adapted model.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import torch

from adaptive_control.buffer import NonFiniteTransition, TransitionBuffer
from adaptive_control.mpc import CEM, RandomShooting, Reward
from adaptive_control.predictors import Predictor

log = logging.getLogger(__name__)


class AdaptiveController:
    """Adapt, plan, act, one control step at a time."""

    def __init__(self, predictor: Predictor, planner: RandomShooting | CEM, reward: Reward,
                 state_dim: int, action_dim: int, seed: int = 0) -> None:
        self.predictor, self.planner, self.reward = predictor, planner, reward
        self.buffer = TransitionBuffer(state_dim, action_dim)
        self.generator = torch.Generator().manual_seed(seed)
        self.device = planner.low.device

    def reset(self) -> None:
        self.buffer.clear()
        self.predictor.reset()

    def act(self, state: np.ndarray) -> np.ndarray:
        """Adapt on the last transitions, then the first action of the best plan."""
        self.predictor.update(self.buffer)
        with torch.no_grad():
            action = self.planner.plan(self.predictor.simulate, self.reward,
                                       torch.as_tensor(state, device=self.device),
                                       self.generator)
        return action.cpu().numpy()

    def observe(self, state: np.ndarray, action: np.ndarray, next_state: np.ndarray) -> bool:
        """Record a transition; a non-finite one is logged and dropped (returns False)."""
        try:
            self.buffer.append(state, action, next_state)
        except NonFiniteTransition as error:
            log.warning("adaptive controller: %s; adapting on the transitions before it", error)
            return False
        return True


@dataclass
class Episode:
    """One rollout: states [T+1, S], actions [T, A], rewards [T], condition per step."""

    states: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    conditions: list

    @property
    def total_reward(self) -> float:
        return float(self.rewards.sum())


def run_episode(env: gym.Env, controller: AdaptiveController | None, seed: int,
                rng: np.random.Generator | None = None) -> Episode:
    """Roll out one episode; ``controller=None`` acts uniformly at random with ``rng``."""
    state, _ = env.reset(seed=seed)
    if controller is not None:
        controller.reset()
    rng = rng or np.random.default_rng(seed)
    space = env.action_space
    states, actions, rewards, conditions = [state], [], [], []
    truncated = terminated = False
    while not (truncated or terminated):
        if controller is None:
            action = rng.uniform(space.low, space.high).astype(np.float32)
        else:
            action = controller.act(state)
        next_state, reward, terminated, truncated, info = env.step(action)
        if controller is not None:
            controller.observe(state, action, next_state)
        states.append(next_state)
        actions.append(action)
        rewards.append(reward)
        conditions.append(info["condition"])
        state = next_state
    return Episode(np.array(states), np.array(actions, dtype=np.float32),
                   np.array(rewards), conditions)
