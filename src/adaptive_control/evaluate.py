"""Evaluation suites of GBAC and its comparisons on the changing-dynamics twins (thesis
L2612-L2660, Figs. 18-21).

A suite is one test condition of one twin, named after the thesis's task letters:

====================== ======= =============================================== ======
suite                  twin    condition                                       thesis
====================== ======= =============================================== ======
gbac-cheetah-joint     cheetah a seen joint disabled                           (a)
gbac-cheetah-switch    cheetah the disabled joint switches every 250 steps     (c)
gbac-ant-leg           ant     a seen leg crippled                             (h)
gbac-ant-leg-midway    ant     a leg crippled half-way through the episode     (j)
gbac-arm-force         arm     a constant low force on the carried object      (k)
gbac-arm-force-3x      arm     a force 3x the strongest seen in training       (l)
gbac-arm-force-changing arm    a force redrawn every 50 steps                  (m)
====================== ======= =============================================== ======

Every method runs the same seeds (each seed fixes the task draw and the initial state) with
the same planner; methods whose model the checkpoint lacks are skipped and listed. The
checkpoint is GBAC's; the comparisons' models live inside it: ``mb/`` (used by MB and by
MB+DE) and ``rbac/``. GBAC's episodes also give the pre- vs post-update K-step model error
on every window (thesis Fig. 21).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from adaptive_control.buffer import Transitions
from adaptive_control.checkpoint import MODEL_OF, load_method, load_trained
from adaptive_control.config import TrainConfig
from adaptive_control.controller import Episode, run_episode
from adaptive_control.meta_train import MetaTrainer, controller_for
from adaptive_control.mpc import MPCConfig, make_planner
from adaptive_control.predictors import METHODS
from adaptive_control.twins import make_twin

SUITES: dict[str, tuple[str, str]] = {
    "gbac-cheetah-joint": ("cheetah", "seen"),
    "gbac-cheetah-switch": ("cheetah", "switch"),
    "gbac-ant-leg": ("ant", "seen"),
    "gbac-ant-leg-midway": ("ant", "midway"),
    "gbac-arm-force": ("arm", "constant"),
    "gbac-arm-force-3x": ("arm", "strong"),
    "gbac-arm-force-changing": ("arm", "changing"),
}


@dataclass
class EvalConfig:
    """``seeds`` episodes per method of ``episode_steps`` (None: the twin's, 1000 or 500)
    steps, planned with ``candidates`` x ``horizon`` random shooting (the thesis tests
    with 2500 x 15 on the cheetah, Table 16; 1000 x 10 keeps a CPU run affordable)."""

    suite: str
    seeds: int = 5
    episode_steps: int | None = None
    candidates: int = 1000
    horizon: int = 10
    first_seed: int = 1000


def model_error(model, cfg: TrainConfig, episodes: list[Episode]) -> dict:
    """Pre- vs post-update K-step loss on the consecutive (M, K) windows of GBAC's own
    episodes (thesis Fig. 21), with the update its controller made."""
    states = torch.from_numpy(np.stack([e.states for e in episodes]).astype(np.float32))
    actions = torch.from_numpy(np.stack([e.actions for e in episodes]))
    length, trainer = cfg.past + cfg.future, MetaTrainer(cfg, model)
    pre, post = [], []
    for start in range(0, actions.shape[1] - length + 1, cfg.future):
        t = start + torch.arange(length)
        window = Transitions(states[:, t], actions[:, t], states[:, t + 1])
        before, after = trainer.adapted_losses(window, create_graph=False,
                                               rate_scale=cfg.adapt.rate_scale)
        pre.append(before.detach())
        post.append(after.detach())
    if not pre:
        return {"windows": 0}
    pre_all, post_all = torch.cat(pre), torch.cat(post)
    return {"windows": len(pre_all), "pre_update_mean": pre_all.mean().item(),
            "post_update_mean": post_all.mean().item(),
            "post_below_pre_fraction": (post_all < pre_all).float().mean().item(),
            "pre_update": pre_all.tolist(), "post_update": post_all.tolist()}


def run_method(method: str, checkpoint: Path, cfg: EvalConfig, bar: tqdm) -> list[Episode]:
    """``cfg.seeds`` episodes of ``method`` in the suite's twin."""
    env_name, variant = SUITES[cfg.suite]
    model, train_cfg = load_method(checkpoint, method)
    kwargs = {} if cfg.episode_steps is None else {"episode_steps": cfg.episode_steps}
    env = make_twin(env_name, variant, **kwargs)
    low, high = (torch.as_tensor(b) for b in (env.action_space.low, env.action_space.high))
    planner = make_planner(MPCConfig(candidates=cfg.candidates, horizon=cfg.horizon), low, high)
    episodes = []
    for i in range(cfg.seeds):
        controller = controller_for(model, method, train_cfg, planner, env,
                                    seed=cfg.first_seed + i)
        episodes.append(run_episode(env, controller, cfg.first_seed + i))
        bar.update()
    return episodes


def evaluate(checkpoint: Path, cfg: EvalConfig, progress: bool = True) -> dict:
    """The suite's JSON result: mean and std of the return per method over the seeds."""
    if cfg.suite not in SUITES:
        raise ValueError(f"unknown GBAC suite {cfg.suite!r}; one of {sorted(SUITES)}")
    load_trained(checkpoint)   # refuses a checkpoint of another kind before any rollout
    methods = [m for m in METHODS if (checkpoint / MODEL_OF[m] / "config.json").is_file()]
    result = {"suite": cfg.suite, "seeds": cfg.seeds, "methods": {},
              "missing": [m for m in METHODS if m not in methods],
              "planner": {"candidates": cfg.candidates, "horizon": cfg.horizon}}
    with tqdm(total=cfg.seeds * len(methods), disable=not progress, desc=cfg.suite) as bar:
        for method in methods:
            episodes = run_method(method, checkpoint, cfg, bar)
            returns = [episode.total_reward for episode in episodes]
            result["methods"][method] = {"mean_return": float(np.mean(returns)),
                                         "std": float(np.std(returns)), "returns": returns}
            if method == "gbac":
                result["model_error"] = model_error(*load_trained(checkpoint), episodes)
    return result
