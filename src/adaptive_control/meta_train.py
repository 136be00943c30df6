"""Meta-training with data collection (thesis Algorithm 6, L2400-L2430) and the checkpoints
it writes.

Each iteration collects rollouts in freshly sampled training tasks of the twin (random
actions in the first iterations, then the MPC controller of :mod:`controller` running the
model being trained, so the data follows the states the planner visits), refits the
normalisation statistics on everything collected, and takes Adam steps on meta-batches of
windows:

* ``gbac``: ``phi_i = theta - alpha grad L(theta; past_i)`` for every window of the batch
  at once (``theta`` with a task dimension under ``torch.func.vmap``, MAML's inner loop),
  loss of ``phi_i`` on the next K transitions (Eq. 15-16);
* ``mb``: the same model regressed on all M + K transitions of each window;
* ``rbac``: the LSTM unrolled over the window, scored on its last K steps.

Before training on an iteration's new rollouts, the model's pre- and post-update K-step
losses on windows of them are recorded: data the model has not yet seen, the honest measure
of whether adaptation helps (thesis Fig. 21).
"""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import torch
from torch.func import vmap
from tqdm import tqdm

from adaptive_control.buffer import Transitions
from adaptive_control.config import TrainConfig
from adaptive_control.controller import AdaptiveController, run_episode
from adaptive_control.dynamics import DynamicsModel
from adaptive_control.mpc import CEM, RandomShooting, make_planner
from adaptive_control.predictors import FeedForwardPredictor, RecurrentPredictor
from adaptive_control.rbac import RecurrentDynamics
from adaptive_control.twins import make_twin, model_input_dims
from adaptive_control.windows import RolloutData, split
from metalearn.checkpoint import make_manifest, save_checkpoint
from metalearn.maml import meta_step, per_task

KINDS = {"gbac": "gbac", "mb": "gbac-mb", "rbac": "gbac-rbac"}
EVAL_WINDOWS = 64


def build_model(cfg: TrainConfig, state_dim: int, action_dim: int,
                input_dims: list[int]) -> DynamicsModel | RecurrentDynamics:
    if cfg.method == "rbac":
        return RecurrentDynamics(state_dim, action_dim, input_dims, cfg.rnn_hidden,
                                 cfg.rnn_layers)
    learned = None if cfg.adapt.lr_mode == "fixed" else cfg.adapt.inner
    return DynamicsModel(state_dim, action_dim, input_dims, cfg.hidden, learned)


def predictor_for(model: DynamicsModel | RecurrentDynamics, method: str, cfg: TrainConfig):
    """The run-time predictor of ``method`` (gbac, mb, mb_de, rbac) on ``model``."""
    if method == "rbac":
        return RecurrentPredictor(model, cfg.dtype)
    return FeedForwardPredictor(model, method, cfg.adapt, cfg.dtype)


def controller_for(model: DynamicsModel | RecurrentDynamics, method: str, cfg: TrainConfig,
                   planner: RandomShooting | CEM, env: gym.Env, seed: int
                   ) -> AdaptiveController:
    """``method``'s adaptive controller on ``model``, planning for ``env``'s reward."""
    return AdaptiveController(predictor_for(model, method, cfg), planner, env.reward,
                              env.observation_space.shape[0], env.action_space.shape[0],
                              seed=seed)


def per_window_loss(model: DynamicsModel):
    """Loss of each window [B] under per-window parameters (vmapped over both)."""
    return vmap(lambda p, s, a, n: model.loss(s, a, n, params=p))


class MetaTrainer:
    """Model, optimiser and inner loop of one ``method``; :meth:`loss` of a window batch."""

    def __init__(self, cfg: TrainConfig, model: DynamicsModel | RecurrentDynamics) -> None:
        self.cfg, self.model = cfg, model
        self.optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
        self.inner = cfg.adapt.inner_loop(model) if cfg.method != "rbac" else None

    def adapted_losses(self, window: Transitions, create_graph: bool | None = None,
                       rate_scale: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
        """(pre-update, post-update) K-step loss [B] of GBAC's inner step, at ``rate_scale``
        times its rates, on each window; second order while training unless
        ``cfg.first_order``."""
        if create_graph is None:
            create_graph = not self.cfg.first_order
        past, future = split(window, self.cfg.past)
        losses = per_window_loss(self.model)
        theta = per_task(self.model.network_params(), past.states.shape[0])
        phi = self.inner.adapt(theta, lambda p: losses(
            p, past.states, past.actions, past.next_states).sum(), create_graph=create_graph,
            rate_scale=rate_scale)
        pre = losses(theta, future.states, future.actions, future.next_states)
        post = losses(phi, future.states, future.actions, future.next_states)
        return pre, post

    def loss(self, window: Transitions) -> torch.Tensor:
        """The meta-objective of ``cfg.method`` on a batch of windows [B, M+K, *]."""
        if self.cfg.method == "gbac":
            return self.adapted_losses(window)[1].mean()
        if self.cfg.method == "rbac":
            return self.model.window_loss(window.states, window.actions, window.next_states,
                                          self.cfg.past)
        return self.model.loss(window.states, window.actions, window.next_states)


def collect(cfg: TrainConfig, model, data: RolloutData, iteration: int, bar: tqdm) -> None:
    """One iteration's rollouts in training tasks, random or with the model's MPC."""
    env = make_twin(cfg.env, "train", episode_steps=cfg.rollout_steps)
    low, high = (torch.as_tensor(b, device=cfg.device)
                 for b in (env.action_space.low, env.action_space.high))
    controller = None
    if iteration >= cfg.random_iterations:
        controller = controller_for(model, cfg.method, cfg, make_planner(cfg.mpc, low, high),
                                    env, seed=cfg.seed + iteration)
    for rollout in range(cfg.rollouts_per_iteration):
        bar.set_description(f"iteration {iteration + 1}/{cfg.iterations}: collecting "
                            f"{rollout + 1}/{cfg.rollouts_per_iteration}")
        seed = cfg.seed * 1_000_003 + iteration * cfg.rollouts_per_iteration + rollout
        data.add(run_episode(env, controller, seed))


def train(cfg: TrainConfig, out: Path, command: list[str], progress: bool = True) -> Path:
    """Run Algorithm 6 and write the checkpoint ``out`` (kind gbac, gbac-mb or gbac-rbac)."""
    torch.manual_seed(cfg.seed)
    generator = torch.Generator().manual_seed(cfg.seed)
    twin = make_twin(cfg.env, "train")
    state_dim, action_dim = twin.observation_space.shape[0], twin.action_space.shape[0]
    model = build_model(cfg, state_dim, action_dim, model_input_dims(twin)).to(cfg.device)
    trainer = MetaTrainer(cfg, model)
    data, history = RolloutData(), []
    length = cfg.past + cfg.future
    bar = tqdm(total=cfg.iterations * cfg.meta_steps, disable=not progress, unit="step")
    for iteration in range(cfg.iterations):
        fresh = len(data)
        model.eval()
        collect(cfg, model, data, iteration, bar)
        seen = data.all_transitions().to(cfg.device)
        model.norm.fit(seen.states, seen.actions, seen.next_states)
        record = {"iteration": iteration + 1, "transitions": data.transitions}
        if cfg.method != "rbac" and iteration > 0:
            unseen = data.windows(EVAL_WINDOWS, length, generator, since=fresh).to(cfg.device)
            pre, post = trainer.adapted_losses(unseen, create_graph=False)
            record.update(pre_update_loss=pre.mean().item(), post_update_loss=post.mean().item())
        model.train()
        bar.set_description(f"iteration {iteration + 1}/{cfg.iterations}: meta-training")
        for _ in range(cfg.meta_steps):
            window = data.windows(cfg.batch, length, generator).to(cfg.device)
            record["loss"] = meta_step(trainer.optimizer, trainer.loss(window))
            bar.set_postfix(loss=f"{record['loss']:.4f}", transitions=data.transitions)
            bar.update()
        history.append(record)
    bar.close()
    config = {"kind": KINDS[cfg.method], "env": cfg.env, "model": model.config(),
              "train": cfg.to_json()}
    manifest = make_manifest(command, cfg.seed,
                             data={"env": cfg.env, "rollouts": len(data),
                                   "transitions": data.transitions},
                             results={"training": history})
    return save_checkpoint(out, model.state_dict(), config, manifest)
