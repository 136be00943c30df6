"""Meta-training with data collection (thesis Algorithm 6) on a tiny configuration."""

import json

import numpy as np
import pytest
import torch

from adaptive_control.checkpoint import load_trained
from adaptive_control.config import TrainConfig
from adaptive_control.controller import run_episode
from adaptive_control.meta_train import MetaTrainer, train
from adaptive_control.twins import make_twin
from adaptive_control.windows import RolloutData
from metalearn.checkpoint import CheckpointError

TINY = dict(env="cheetah", iterations=2, rollouts_per_iteration=3, rollout_steps=100,
            meta_steps=150, batch=16, past=16, future=16, hidden=(64, 64), rnn_hidden=32,
            candidates=32, horizon=4, inner_lr=0.05)


@pytest.fixture(scope="module")
def gbac_checkpoint(tmp_path_factory):
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("gbac") / "ckpt"
    return train(TrainConfig(**TINY), out, ["oneshot", "train", "gbac"], progress=False)


def unseen_windows(cfg):
    """Windows of random-action rollouts with the held-out joint disabled."""
    env = make_twin("cheetah", "unseen", episode_steps=cfg.rollout_steps)
    data = RolloutData()
    for seed in range(5):
        data.add(run_episode(env, None, 10_000 + seed))
    return data.windows(64, cfg.past + cfg.future, torch.Generator().manual_seed(0))


def test_adapted_model_predicts_an_unseen_disabled_joint_better(gbac_checkpoint):
    model, cfg = load_trained(gbac_checkpoint)
    pre, post = MetaTrainer(cfg, model).adapted_losses(unseen_windows(cfg),
                                                       create_graph=False)
    assert post.mean() < pre.mean()
    assert (post < pre).float().mean() > 0.5


def test_checkpoint_records_config_command_and_training(gbac_checkpoint):
    config = json.loads((gbac_checkpoint / "config.json").read_text())
    manifest = json.loads((gbac_checkpoint / "manifest.json").read_text())
    assert config["kind"] == "gbac" and config["train"]["hidden"] == [64, 64]
    assert manifest["command"] == "oneshot train gbac"
    history = manifest["results"]["training"]
    assert [h["transitions"] for h in history] == [300, 600]
    assert history[-1]["loss"] < 1.0
    assert not any(p.suffix in (".pt", ".pkl") for p in gbac_checkpoint.iterdir())
    model, _ = load_trained(gbac_checkpoint)
    assert torch.all(model.norm.delta_std > 0)


def test_learned_inner_rates_train_save_and_load(tmp_path):
    torch.set_num_threads(1)
    cfg = TrainConfig(**{**TINY, "meta_steps": 40, "inner_lr_mode": "per_param"})
    out = train(cfg, tmp_path / "meta-sgd", ["test"], progress=False)
    model, loaded = load_trained(out)
    assert loaded.inner_lr_mode == "per_param"
    rates = model.update_rule.param_rates["net__2__weight"]
    assert rates.shape == (1, 64, 64)
    assert not torch.allclose(rates, torch.full_like(rates, cfg.inner_lr))   # meta-learned
    pre, post = MetaTrainer(loaded, model).adapted_losses(unseen_windows(loaded),
                                                          create_graph=False)
    assert post.mean() < pre.mean()


@pytest.mark.parametrize("method", ["mb", "rbac"])
def test_comparisons_train_and_load_as_their_kind(tmp_path, method):
    torch.set_num_threads(1)
    cfg = TrainConfig(**{**TINY, "meta_steps": 20, "method": method, "rollout_steps": 50})
    out = train(cfg, tmp_path / method, ["test"], progress=False)
    model, loaded = load_trained(out)
    assert loaded.method == method
    with pytest.raises(CheckpointError, match="kind"):
        from metalearn.checkpoint import load_kind
        load_kind(out, "mil")


def test_config_refuses_windows_longer_than_a_rollout():
    with pytest.raises(ValueError, match="past \\+ future"):
        TrainConfig(rollout_steps=40, past=32, future=32)
    gpu = TrainConfig.preset("ant", "gpu")
    assert (gpu.past, gpu.future, gpu.horizon, gpu.candidates) == (16, 10, 15, 1000)
    assert np.isclose(TrainConfig.preset("cheetah", "cpu").inner_lr, 0.01)
    # the cheetah's and the ant's cpu presets collect 8 rollouts an iteration (GBAC's data
    # gap), the arm's 4
    assert [TrainConfig.preset(env, "cpu").rollouts_per_iteration
            for env in ("cheetah", "ant", "arm")] == [8, 8, 4]
    # and meta-learn a rate per weight, run at half (held-out seeds: more windows improved)
    assert [TrainConfig.preset(env, "cpu").adapt.rate_scale
            for env in ("cheetah", "ant", "arm")] == [0.5, 0.5, 1.0]
    assert TrainConfig.preset("ant", "cpu", method="mb").adapt.lr_mode == "fixed"
