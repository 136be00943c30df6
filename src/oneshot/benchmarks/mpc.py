"""`oneshot bench mpc`: how fast GBAC's adapt-plan-act loop runs on this machine.

The control rate is measured on the real loop in the half-cheetah twin (disabled joint):
each control step adapts the dynamics model (MLP 3x512) with one inner step on the last
M = 32 transitions, plans with random shooting over n_A = 1000 candidate sequences of
H = 10 steps (thesis Table 16, L6405; every candidate in one batched rollout), and steps the
twin. ``control_hz`` is one over the median wall time of that whole step.

``rollout_fraction_of_matmul_peak`` relates the planning rollout's matmul FLOP rate
(n_A x H predictions through the network, timed alone) to the best rate torch's matmul
reaches on this machine in the same dtype and the same run (square and rollout-shaped
products, the best of several repeats); 1.0 would mean the rollout spends no time outside
large matmuls. Both the rollout dtype the controller uses (bfloat16 by default) and float32
are reported. The model is untrained (speed does not depend on the weights) with
normalisation statistics from a random rollout.
"""
from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from adaptive_control.controller import AdaptiveController, run_episode
from adaptive_control.dynamics import DynamicsModel
from adaptive_control.mpc import MPCConfig, RandomShooting
from adaptive_control.predictors import AdaptConfig, FeedForwardPredictor
from adaptive_control.twins import make_twin, model_input_dims
from oneshot.benchmarks.timing import samples_ms

DTYPES = {"bfloat16": torch.bfloat16, "float32": torch.float32}


def best_seconds(fn: Callable[[], object], repeats: int, warmup: int = 2) -> float:
    """The fastest of ``repeats`` timed calls (the least disturbed by other load)."""
    return min(samples_ms(fn, repeats, warmup)) / 1000


def matmul_peak_gflops(dtype: torch.dtype, rows: int) -> float:
    """Best torch matmul rate in ``dtype`` over a square product and the rollout's shape."""
    rates = []
    for m, k, n in ((2048, 2048, 2048), (rows, 512, 512)):
        a, b = torch.randn(m, k, dtype=dtype), torch.randn(k, n, dtype=dtype)
        rates.append(2 * m * k * n / best_seconds(lambda: a @ b, repeats=10) / 1e9)
    return max(rates)


def cheetah_controller(dtype: torch.dtype, cfg: MPCConfig, seed: int):
    """Twin and GBAC controller with normalisation fitted on one random rollout."""
    env = make_twin("cheetah", "unseen", episode_steps=1000)
    torch.manual_seed(seed)
    model = DynamicsModel(18, 6, model_input_dims(env))
    warm = run_episode(make_twin("cheetah", "unseen", episode_steps=200), None, seed)
    model.norm.fit(*(torch.from_numpy(x) for x in (warm.states[:-1], warm.actions,
                                                   warm.states[1:])))
    low, high = (torch.as_tensor(b) for b in (env.action_space.low, env.action_space.high))
    predictor = FeedForwardPredictor(model, "gbac", AdaptConfig(past=32), dtype)
    controller = AdaptiveController(predictor, RandomShooting(cfg, low, high), env.reward,
                                    18, 6, seed=seed)
    return env, controller


def measure(dtype_name: str, cfg: MPCConfig, steps: int, seed: int = 0) -> dict:
    """Control-step timing of GBAC in the cheetah twin and its rollout's share of peak."""
    dtype = DTYPES[dtype_name]
    env, controller = cheetah_controller(dtype, cfg, seed)
    state, _ = env.reset(seed=seed)
    step_s, adapt_s = [], []
    for t in range(steps + 5):
        start = time.perf_counter()
        controller.predictor.update(controller.buffer)
        adapted = time.perf_counter()
        action = controller.act(state)   # adapts again (same window), then plans
        next_state = env.step(action)[0]
        controller.observe(state, action, next_state)
        end = time.perf_counter()
        state = next_state
        if t >= 5:   # the buffer holds M transitions by then; first calls warm up
            adapt_s.append(adapted - start)
            step_s.append(end - adapted)
    predictor = controller.predictor
    actions = torch.rand(cfg.candidates, cfg.horizon, 6) * 2 - 1
    start_state = torch.as_tensor(state)
    with torch.no_grad():
        rollout_s = best_seconds(lambda: predictor.simulate(start_state, actions), repeats=5)
    flops = cfg.horizon * predictor.rollout.flops(cfg.candidates)
    peak = matmul_peak_gflops(dtype, cfg.candidates)
    return {
        "rollout_dtype": dtype_name,
        "control_hz": 1.0 / float(np.median(step_s)),
        "control_step_ms": 1000 * float(np.median(step_s)),
        "adapt_ms": 1000 * float(np.median(adapt_s)),
        "rollout_ms": 1000 * rollout_s,
        "rollout_gflops": flops / rollout_s / 1e9,
        "matmul_peak_gflops": peak,
        "rollout_fraction_of_matmul_peak": flops / rollout_s / 1e9 / peak,
        "steps_timed": steps,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="oneshot bench mpc", description=__doc__.splitlines()[0])
    parser.add_argument("--json", required=True, type=Path)
    parser.add_argument("--steps", type=int, default=40, help="control steps timed per dtype")
    parser.add_argument("--candidates", type=int, default=1000)
    parser.add_argument("--horizon", type=int, default=10)
    parser.add_argument("--dtype", choices=sorted(DTYPES), default="bfloat16",
                        help="rollout dtype of the headline figures (both are measured)")
    args = parser.parse_args(argv)
    cfg = MPCConfig(candidates=args.candidates, horizon=args.horizon)
    runs = {name: measure(name, cfg, args.steps) for name in DTYPES}
    headline = runs[args.dtype]
    result = {
        "control_hz": headline["control_hz"],
        "rollout_fraction_of_matmul_peak": headline["rollout_fraction_of_matmul_peak"],
        "candidates": cfg.candidates, "horizon": cfg.horizon, "past": 32,
        "torch_threads": torch.get_num_threads(), "torch": torch.__version__,
        "machine": platform.processor() or platform.machine(),
        **{name: figures for name, figures in runs.items()},
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    for name, figures in runs.items():
        print(f"{name:9s} control {figures['control_hz']:6.1f} Hz (adapt {figures['adapt_ms']:.1f} ms, "
              f"rollout {figures['rollout_ms']:.1f} ms = {figures['rollout_gflops']:.0f} GFLOP/s, "
              f"{100 * figures['rollout_fraction_of_matmul_peak']:.0f}% of the "
              f"{figures['matmul_peak_gflops']:.0f} GFLOP/s matmul peak)")
    return 0
