"""Sinusoid benchmark: task distribution, report schema, and MAML beating pretraining."""

import json
import math

import pytest
import torch

from oneshot.benchmarks.sinusoid import SinusoidConfig, evaluate, main, run, sample_tasks


def test_tasks_follow_the_thesis_distribution():
    tasks = sample_tasks(2000, 5, 7, torch.Generator().manual_seed(0))
    assert tasks.x_support.shape == (2000, 5, 1) and tasks.x_query.shape == (2000, 7, 1)
    x = torch.cat([tasks.x_support, tasks.x_query], dim=1)
    y = torch.cat([tasks.y_support, tasks.y_query], dim=1)
    assert x.min() >= -5 and x.max() <= 5 and x.min() < -4.9 and x.max() > 4.9
    # recover amplitude and phase of each task from two of its points: y = A sin(x - phase)
    a_cos, a_sin = torch.linalg.solve(
        torch.cat([torch.sin(x[:, :2]), -torch.cos(x[:, :2])], dim=2), y[:, :2]
    ).unbind(1)
    amplitude, phase = torch.hypot(a_cos, a_sin), torch.atan2(a_sin, a_cos)
    assert amplitude.min() >= 0.1 - 1e-3 and amplitude.max() <= 5 + 1e-3
    assert phase.min() >= -1e-3 and phase.max() <= math.pi + 1e-3
    # every point of a task lies on that task's sinusoid
    torch.testing.assert_close(y, amplitude[:, None] * torch.sin(x - phase[:, None]), atol=1e-3, rtol=0)


@pytest.fixture(scope="module")
def small_report():
    return run(SinusoidConfig(iterations=400, eval_tasks=200), progress=False)


def test_report_schema(small_report):
    rows = small_report["results"]
    assert {(r["method"], r["k"], r["steps"]) for r in rows} == {
        (m, k, s) for m in ("maml", "pretrained") for k in (5, 10, 20) for s in (1, 10)
    }
    assert len(rows) == 12 and all(isinstance(r["mse"], float) and r["mse"] > 0 for r in rows)
    assert small_report["config"]["iterations"] == 400
    assert small_report["seconds"] > 0
    json.dumps(small_report)


def test_maml_beats_pretrained_at_k10(small_report):
    mse = {(r["method"], r["k"], r["steps"]): r["mse"] for r in small_report["results"]}
    for steps in (1, 10):
        assert mse["maml", 10, steps] < 0.85 * mse["pretrained", 10, steps]
    assert mse["maml", 10, 10] < mse["maml", 10, 1]


def test_evaluation_is_deterministic_and_leaves_model_unchanged():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(1, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    before = [p.detach().clone() for p in model.parameters()]
    cfg = SinusoidConfig(eval_tasks=50)
    first, second = evaluate(model, 5, cfg), evaluate(model, 5, cfg)
    assert first == second and set(first) == {1, 10}
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_main_writes_json_and_prints_table(tmp_path, capsys):
    out = tmp_path / "bench" / "sinusoid.json"
    assert main(["--json", str(out), "--iterations", "3", "--seed", "1"]) == 0
    report = json.loads(out.read_text())
    assert report["config"]["seed"] == 1 and len(report["results"]) == 12
    table = capsys.readouterr().out
    assert "maml" in table and "pretrained" in table
