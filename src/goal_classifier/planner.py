"""FLO's planner: model-predictive control with the cross-entropy method (CEM).

Thesis L4781-L4790: actions are optimised by sampling with iterative replanning, each
candidate action sequence scored by a cost on the predicted future (the learned goal
classifier's, a pixel or an oracle distance: :mod:`goal_classifier.plan_costs`). Each
step, CEM refines a Gaussian over the next ``horizon`` pusher displacements for
``iterations`` rounds, refitting it to the ``elites`` cheapest of ``samples`` candidates;
the first action of the best candidate is carried out and the plan made afresh from the
new state. The predictive model is any :class:`~goal_classifier.predictive.PredictiveModel`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from goal_classifier.plan_costs import Cost
from goal_classifier.predictive import PredictiveModel


class CostError(ValueError):
    """A cost that did not return one finite number per candidate."""


@dataclass(frozen=True)
class CEMConfig:
    """Sizes of one CEM plan; actions are pusher displacements of at most ``max_step`` m
    per axis."""

    horizon: int = 3
    samples: int = 32
    elites: int = 6
    iterations: int = 3
    max_step: float = 0.03

    def __post_init__(self) -> None:
        if min(self.horizon, self.samples, self.elites, self.iterations) < 1:
            raise ValueError(f"CEM sizes must be positive: {self}")
        if self.elites > self.samples:
            raise ValueError(f"{self.elites} elites of {self.samples} samples")


def checked_costs(costs: object, candidates: int) -> np.ndarray:
    """``costs`` as float64 [candidates], or a :class:`CostError` saying what is wrong."""
    array = np.asarray(costs, dtype=np.float64)
    if array.shape != (candidates,):
        raise CostError(f"a cost must return one number per candidate, shape "
                        f"({candidates},); got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise CostError(f"a cost returned non-finite values for candidates "
                        f"{np.flatnonzero(~np.isfinite(array)).tolist()}")
    return array


def score(model: PredictiveModel, state: object, actions: np.ndarray, cost: Cost) -> np.ndarray:
    """Costs [N] of action sequences [N, T, 2] from ``state``."""
    prediction = model.predict(state, actions, frames=cost.needs_frames)
    return checked_costs(cost(prediction), len(actions))


def plan(model: PredictiveModel, state: object, cost: Cost, cfg: CEMConfig,
         rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """The cheapest action sequence [horizon, 2] CEM finds, and its cost."""
    mean = np.zeros((cfg.horizon, 2))
    std = np.full((cfg.horizon, 2), cfg.max_step)
    best, best_cost = mean, np.inf
    for _ in range(cfg.iterations):
        actions = np.clip(rng.normal(mean, std, (cfg.samples, cfg.horizon, 2)),
                          -cfg.max_step, cfg.max_step)
        costs = score(model, state, actions, cost)
        order = np.argsort(costs)
        if costs[order[0]] < best_cost:
            best, best_cost = actions[order[0]], float(costs[order[0]])
        elites = actions[order[:cfg.elites]]
        mean, std = elites.mean(axis=0), elites.std(axis=0) + 1e-4
    return best, best_cost


@dataclass(frozen=True)
class Episode:
    """What one MPC run did: the actions carried out, the plan's cost at each step, and
    the step at which ``done`` first held (None if never)."""

    actions: np.ndarray
    planned_costs: list[float]
    done_at: int | None


def run_mpc(model: PredictiveModel, observe: Callable[[], object],
            act: Callable[[np.ndarray], None], cost: Cost, cfg: CEMConfig, steps: int,
            rng: np.random.Generator, done: Callable[[], bool]) -> Episode:
    """Replan from ``observe()`` every step and ``act`` on the plan's first action, for up
    to ``steps`` steps or until ``done()``."""
    actions, costs = [], []
    for step in range(steps):
        if done():
            return Episode(np.array(actions).reshape(-1, 2), costs, step)
        sequence, planned = plan(model, observe(), cost, cfg, rng)
        act(sequence[0])
        actions.append(sequence[0])
        costs.append(planned)
    return Episode(np.array(actions).reshape(-1, 2), costs, steps if done() else None)
