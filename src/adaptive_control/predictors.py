"""What each method does with the recent transitions before planning (thesis L2474-L2545,
L2680-L2690), behind one interface: ``reset`` at an episode's start, ``update`` on the buffer
every control step, ``simulate`` candidate action sequences for the planner.

* ``gbac``: ``phi = theta - alpha grad L(theta; last M transitions)`` every step, always
  from the meta-learned ``theta`` (Eq. 18), through MAML's :class:`InnerLoop`.
* ``mb``: the model as trained, never adapted (Nagabandi et al. 2017a).
* ``mb_de``: dynamic evaluation (Krause et al. 2017): plain gradient steps on the last M
  transitions at run time, on a model trained without meta-learning; the adapted weights
  carry over from step to step (reset each episode), which is what makes it *dynamic*.
* ``rbac``: the LSTM's hidden state, fed every transition of the episode (M = t).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

from adaptive_control.buffer import TransitionBuffer
from adaptive_control.dynamics import DynamicsModel, RolloutModel
from adaptive_control.rbac import Hidden, RecurrentDynamics
from metalearn.maml import InnerConfig, InnerLoop, LrMode, Params

Method = Literal["gbac", "mb", "mb_de", "rbac"]
METHODS: tuple[Method, ...] = ("gbac", "mb", "mb_de", "rbac")


@dataclass
class AdaptConfig:
    """Run-time adaptation; half-cheetah values of Table 16 (L6405): inner LR 0.01, M = 32.

    ``steps`` inner steps of rate ``lr`` on the last ``past`` transitions (GBAC meta-trains
    with the same ``lr`` and ``steps``; MB+DE uses them at run time only). ``lr_mode``
    other than ``fixed``: the rates are meta-learned from ``lr`` and held by the model
    (:class:`DynamicsModel`'s ``learned_rates``); controllers then step at
    ``learned_rate_scale`` times them (:attr:`rate_scale`), meta-training at 1x.
    """

    lr: float = 0.01
    steps: int = 1
    past: int = 32
    lr_mode: LrMode = "fixed"
    learned_rate_scale: float = 1.0

    @property
    def rate_scale(self) -> float:
        """The run-time factor on the rates: a selected rate runs as selected."""
        return 1.0 if self.lr_mode == "fixed" else self.learned_rate_scale

    @property
    def inner(self) -> InnerConfig:
        return InnerConfig(steps=self.steps, lr=self.lr, lr_mode=self.lr_mode)

    def inner_loop(self, model: DynamicsModel) -> InnerLoop:
        """The update rule on ``model``'s network: the model's own learned one, or a new
        one with the fixed rate ``lr``."""
        if self.lr_mode == "fixed":
            return InnerLoop(self.inner, model.network_params())
        if model.update_rule is None or model.update_rule.cfg != self.inner:
            raise ValueError(f"lr_mode {self.lr_mode!r} needs a model holding its learned "
                             f"rates ({self.inner}); this one holds "
                             f"{model.update_rule and model.update_rule.cfg}")
        return model.update_rule


class FeedForwardPredictor:
    """GBAC, MB or MB+DE on a :class:`DynamicsModel`."""

    def __init__(self, model: DynamicsModel, method: Method, cfg: AdaptConfig,
                 rollout_dtype: torch.dtype = torch.float32) -> None:
        if method not in ("gbac", "mb", "mb_de"):
            raise ValueError(f"{method!r} is not a feed-forward method")
        self.model, self.method, self.cfg = model, method, cfg
        self.theta = model.network_params()
        self.inner = cfg.inner_loop(model)
        self.rollout = RolloutModel(model, rollout_dtype)
        self.params: Params = self.theta
        self.device = next(model.parameters()).device

    def reset(self) -> None:
        self.params = self.theta
        self.rollout.load(self.theta)

    def update(self, buffer: TransitionBuffer) -> None:
        """Adapt on the last M transitions (nothing for MB or an empty buffer)."""
        if self.method == "mb" or len(buffer) == 0:
            return
        window = buffer.last(self.cfg.past).to(self.device)
        start = self.theta if self.method == "gbac" else {
            name: p.detach().requires_grad_() for name, p in self.params.items()}
        with torch.enable_grad():
            phi = self.inner.adapt(start, lambda p: self.model.loss(
                window.states, window.actions, window.next_states, params=p),
                create_graph=False, rate_scale=self.cfg.rate_scale)
        self.params = {name: p.detach() for name, p in phi.items()}
        self.rollout.load(self.params)

    def simulate(self, state: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        """Imagined states [N, H+1, S] from ``state`` [S] under ``actions`` [N, H, A]."""
        n, horizon, _ = actions.shape
        states = [state.expand(n, -1)]
        for h in range(horizon):
            states.append(self.rollout.predict(states[-1], actions[:, h]))
        return torch.stack(states, dim=1)


class RecurrentPredictor:
    """RBAC: the LSTM's hidden state summarises the episode so far. Planning may run the
    LSTM under bfloat16 autocast (``rollout_dtype``; states stay float32, as in
    :class:`~adaptive_control.dynamics.RolloutModel`): 113 -> 57 ms a plan of 1,000 x 10
    candidates on one thread of this project's CPU."""

    def __init__(self, model: RecurrentDynamics,
                 rollout_dtype: torch.dtype = torch.float32) -> None:
        self.model, self.rollout_dtype = model, rollout_dtype
        self.device = next(model.parameters()).device
        self.reset()

    def reset(self) -> None:
        self.hidden: Hidden | None = None
        self.fed = 0

    def update(self, buffer: TransitionBuffer) -> None:
        """Feed the transitions observed since the last update."""
        new = buffer.appended - self.fed
        if new <= 0:
            return
        window = buffer.last(new).to(self.device)
        with torch.no_grad():
            _, self.hidden = self.model(window.states[None], window.actions[None], self.hidden)
        self.fed = buffer.appended

    def simulate(self, state: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        """Imagined states [N, H+1, S], every candidate starting from the episode's state."""
        n, horizon, _ = actions.shape
        hidden = None if self.hidden is None else tuple(
            h.expand(-1, n, -1).contiguous() for h in self.hidden)
        states = [state.expand(n, -1)]
        with torch.autocast(self.device.type, dtype=torch.bfloat16,
                            enabled=self.rollout_dtype == torch.bfloat16):
            for h in range(horizon):
                next_state, hidden = self.model.predict(states[-1], actions[:, h], hidden)
                states.append(next_state.float())
        return torch.stack(states, dim=1)


Predictor = FeedForwardPredictor | RecurrentPredictor
