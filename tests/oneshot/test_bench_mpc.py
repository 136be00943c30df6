"""`oneshot bench mpc` writes the control rate and the rollout's share of matmul peak."""

import json

import torch

from oneshot.cli import main


def test_bench_mpc_writes_rates_for_both_rollout_dtypes(tmp_path):
    torch.set_num_threads(1)
    out = tmp_path / "mpc.json"
    assert main(["bench", "mpc", "--json", str(out), "--steps", "3", "--candidates", "64",
                 "--horizon", "2"]) == 0
    result = json.loads(out.read_text())
    assert result["candidates"] == 64 and result["horizon"] == 2
    for dtype in ("bfloat16", "float32"):
        figures = result[dtype]
        assert figures["control_hz"] > 0 and figures["adapt_ms"] > 0
        assert 0 < figures["rollout_fraction_of_matmul_peak"] < 1.5
    assert result["control_hz"] == result["bfloat16"]["control_hz"]
