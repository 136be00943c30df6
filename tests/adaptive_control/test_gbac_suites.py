"""GBAC's evaluation suites: every method on the same seeds, JSON as the issue specifies."""

import json
import math

import pytest
import torch
from PIL import Image

from adaptive_control.checkpoint import load_method
from adaptive_control.config import TrainConfig
from adaptive_control.evaluate import SUITES, EvalConfig, evaluate
from adaptive_control.meta_train import train
from adaptive_control.plots import suite_figures
from oneshot.cli import main

TINY = dict(env="arm", iterations=1, rollouts_per_iteration=2, rollout_steps=40,
            random_iterations=1, meta_steps=10, batch=8, past=8, future=8, hidden=(32, 32),
            rnn_hidden=16, candidates=16, horizon=3, inner_lr=0.01)


@pytest.fixture(scope="module")
def arm_checkpoint(tmp_path_factory):
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("suites") / "gbac-arm"
    train(TrainConfig(**TINY), root, ["test"], progress=False)
    for method in ("mb", "rbac"):      # MB trained with another inner rate than GBAC's
        train(TrainConfig(**{**TINY, "method": method, "inner_lr": 0.001}), root / method,
              ["test"], progress=False)
    return root


def test_mb_de_runs_mb_model_with_gbac_run_time_update(arm_checkpoint):
    mb_model, mb_cfg = load_method(arm_checkpoint, "mb")
    de_model, de_cfg = load_method(arm_checkpoint, "mb_de")
    assert mb_cfg.inner_lr == 0.001 and de_cfg.inner_lr == TINY["inner_lr"]
    assert de_cfg.method == "mb" and de_cfg.past == TINY["past"]
    assert all(torch.equal(a, b) for a, b in zip(mb_model.state_dict().values(),
                                                  de_model.state_dict().values()))


def test_every_method_runs_the_same_seeds_and_reports_model_error(arm_checkpoint, tmp_path):
    cfg = EvalConfig("gbac-arm-force-changing", seeds=2, episode_steps=24, candidates=32,
                     horizon=3)
    result = evaluate(arm_checkpoint, cfg, progress=False)
    assert result["suite"] == "gbac-arm-force-changing" and result["seeds"] == 2
    assert set(result["methods"]) == {"gbac", "mb", "mb_de", "rbac"} and not result["missing"]
    for figures in result["methods"].values():
        assert len(figures["returns"]) == 2 and math.isfinite(figures["mean_return"])
    assert result["methods"]["mb"]["returns"] != result["methods"]["mb_de"]["returns"]
    error = result["model_error"]
    assert error["windows"] == 2 * 2 and 0 <= error["post_below_pre_fraction"] <= 1
    assert len(error["pre_update"]) == len(error["post_update"]) == 4
    pngs = suite_figures(result, tmp_path / "suite.json")
    assert [p.name for p in pngs] == ["suite.returns.png", "suite.model-error.png"]
    for png in pngs:
        with Image.open(png) as image:
            assert image.size == (480, 320) and len(image.getcolors(1 << 16)) > 2


def test_cli_writes_the_suite_json_and_skips_missing_models(arm_checkpoint, tmp_path):
    import shutil

    only_gbac = tmp_path / "only-gbac"
    shutil.copytree(arm_checkpoint, only_gbac, ignore=shutil.ignore_patterns("mb", "rbac"))
    out = tmp_path / "result.json"
    code = main(["eval", "--suite", "gbac-arm-force-3x", "--checkpoint", str(only_gbac),
                 "--seeds", "1", "--episode-steps", "8", "--json", str(out)])
    assert code == 0
    result = json.loads(out.read_text())
    assert list(result["methods"]) == ["gbac"] and result["missing"] == ["mb", "mb_de", "rbac"]
    assert result["command"].startswith("oneshot")
    assert result["model_error"] == {"windows": 0}   # 8 steps hold no (M, K) window
    assert (tmp_path / "result.returns.png").is_file()
    assert not (tmp_path / "result.model-error.png").exists()


def test_suites_cover_the_issue_list():
    assert set(SUITES) == {f"gbac-{name}" for name in (
        "cheetah-joint", "cheetah-switch", "ant-leg", "ant-leg-midway", "arm-force",
        "arm-force-3x", "arm-force-changing")}
