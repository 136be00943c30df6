"""Sampling-based MPC over H-step action sequences (thesis Eq. 17, Algorithm 7, L2448-L2470).

A *simulator* maps the current state [S] and candidate action sequences [N, H, A] to the
imagined states [N, H+1, S]; every candidate goes through the dynamics model together, as
one batched tensor program (the only Python loop is over the H steps of the horizon).
Returns are the twin's own reward summed over the horizon.

* :class:`RandomShooting`: n_A sequences uniform in the action box; the first action of the
  best one is executed (Algorithm 7, the thesis's optimiser).
* :class:`CEM`: the cross-entropy method, an "iterative gradient-free" alternative the
  thesis names (L2463): a Gaussian over sequences refitted to the elite candidates for a
  few iterations; the candidate budget n_A is split across the iterations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Literal

import torch

Simulator = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
Reward = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass
class MPCConfig:
    """Planner settings; defaults are the half-cheetah's training values (Table 16, L6405)."""

    optimiser: Literal["rs", "cem"] = "rs"
    candidates: int = 1000
    horizon: int = 10
    cem_iterations: int = 4
    cem_elite_fraction: float = 0.1


def sequence_returns(simulate: Simulator, reward: Reward, state: torch.Tensor,
                     actions: torch.Tensor) -> torch.Tensor:
    """Predicted return [N] of each candidate sequence in ``actions`` [N, H, A]."""
    states = simulate(state, actions)
    return reward(states[:, :-1], actions, states[:, 1:]).sum(-1)


class RandomShooting:
    """Best of ``candidates`` uniformly random sequences (Algorithm 7)."""

    def __init__(self, cfg: MPCConfig, low: torch.Tensor, high: torch.Tensor) -> None:
        self.cfg, self.low, self.high = cfg, low, high

    def plan(self, simulate: Simulator, reward: Reward, state: torch.Tensor,
             generator: torch.Generator) -> torch.Tensor:
        """The first action [A] of the best sequence from ``state`` [S]."""
        shape = (self.cfg.candidates, self.cfg.horizon, self.low.shape[0])
        noise = torch.rand(shape, generator=generator).to(self.low.device)
        actions = self.low + (self.high - self.low) * noise
        best = sequence_returns(simulate, reward, state, actions).argmax()
        return actions[best, 0]


class CEM:
    """Cross-entropy method over action sequences, starting from the middle of the box."""

    def __init__(self, cfg: MPCConfig, low: torch.Tensor, high: torch.Tensor) -> None:
        self.cfg, self.low, self.high = cfg, low, high

    def plan(self, simulate: Simulator, reward: Reward, state: torch.Tensor,
             generator: torch.Generator) -> torch.Tensor:
        """The first action [A] of the best sequence found from ``state`` [S]."""
        cfg = self.cfg
        per_iteration = max(2, cfg.candidates // cfg.cem_iterations)
        elites = max(1, int(per_iteration * cfg.cem_elite_fraction))
        shape = (cfg.horizon, self.low.shape[0])
        mean = ((self.low + self.high) / 2).expand(shape)
        std = ((self.high - self.low) / 2).expand(shape)
        best_action, best_return = mean[0], -torch.inf
        for _ in range(cfg.cem_iterations):
            noise = torch.randn((per_iteration, *shape), generator=generator).to(self.low.device)
            actions = torch.maximum(torch.minimum(mean + std * noise, self.high), self.low)
            returns = sequence_returns(simulate, reward, state, actions)
            top = returns.topk(elites).indices
            if returns[top[0]] > best_return:
                best_action, best_return = actions[top[0], 0], returns[top[0]]
            mean, std = actions[top].mean(0), actions[top].std(0, unbiased=False)
        return best_action


def make_planner(cfg: MPCConfig, low: torch.Tensor, high: torch.Tensor) -> RandomShooting | CEM:
    if cfg.optimiser == "rs":
        return RandomShooting(cfg, low, high)
    if cfg.optimiser == "cem":
        return CEM(cfg, low, high)
    raise ValueError(f"unknown MPC optimiser {cfg.optimiser!r} (rs or cem)")
