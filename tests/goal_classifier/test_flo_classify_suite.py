"""The flo-classify suite and the FLO speed benchmark write what they promise."""

import json

from goal_classifier.evaluate import FLOClassifyConfig, evaluate_flo_classify
from goal_classifier.goal import load_flo
from oneshot.benchmarks.flo import main as bench_main
from oneshot.cli import main


def test_suite_reports_each_k_for_flo_and_scratch(tiny_flo):
    cfg = FLOClassifyConfig(tasks=2, ks=(1, 5), scratch_steps=3, seed=4)
    result = evaluate_flo_classify(load_flo(tiny_flo), cfg)
    assert result["suite"] == "flo-classify" and result["tasks"] == 2
    for method in ("flo", "scratch"):
        figures = result["methods"][method]
        assert set(figures) == {"k1", "k1_auroc", "k5", "k5_auroc"}
        assert all(0.0 <= value <= 1.0 for value in figures.values())
        relations = result["by_relation"][method]
        assert relations and all(0.0 <= value <= 1.0 for value in relations.values())


def test_suite_needs_a_checkpoint(tmp_path, capsys):
    assert main(["eval", "--suite", "flo-classify", "--json", str(tmp_path / "r.json")]) == 2
    assert "needs --checkpoint" in capsys.readouterr().err


def test_bench_times_frames_and_goal_inference(tiny_flo, tmp_path):
    out = tmp_path / "bench.json"
    assert bench_main(["--json", str(out), "--checkpoint", str(tiny_flo), "--repeats", "2"]) == 0
    result = json.loads(out.read_text())
    assert result["classify_frame"]["median_ms"] > 0 and result["infer_goal"]["median_ms"] > 0
    assert result["infer_goal"]["positives"] == 5
