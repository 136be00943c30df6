"""`oneshot bench flo`: how fast FLO classifies frames and infers goals on this machine.

Targets (issue #6): classifier inference <= 2 ms per 64x64 frame, goal inference from 5
images <= 100 ms, on the 2 CPU cores. Measured on real arrangement images: one frame
scored at a time (what a planner checking the camera does), and the whole Algorithm 14
step (5 positives -> adapted parameters). With ``--checkpoint`` the shipped classifier is
timed, else a freshly initialised one of the default configuration (the same compute).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
from pathlib import Path

import numpy as np
import torch

from goal_classifier.caml import make_inner
from goal_classifier.goal import MetaTrainedFLO, infer_goal, load_flo
from goal_classifier.model import ClassifierConfig, GoalClassifier
from oneshot.benchmarks.timing import timed
from sim.arrange import ArrangeTwin, sample_task


def arrangement_images(size: tuple[int, int], count: int, seed: int = 0) -> np.ndarray:
    """``count`` positive images of one held-out arrangement task."""
    rng = np.random.default_rng(seed)
    twin = ArrangeTwin(sample_task("heldout", rng), size)
    try:
        images = []
        for _ in range(count):
            twin.sample_example(True, rng)
            images.append(twin.render())
    finally:
        twin.close()
    return np.stack(images)


def run(model: MetaTrainedFLO, repeats: int) -> dict:
    images = arrangement_images(model.cfg.image_size, model.cfg.k + 1)
    positives, frame = images[: model.cfg.k], images[model.cfg.k:]
    goal = infer_goal(model, positives)
    return {
        "classify_frame": {**timed(lambda: goal.score(frame), repeats * 10),
                           "image_size": list(model.cfg.image_size), "target_ms": 2.0},
        "infer_goal": {**timed(lambda: infer_goal(model, positives), repeats),
                       "positives": model.cfg.k, "inner_steps": model.cfg.inner_steps,
                       "target_ms": 100.0},
        "checkpoint": str(model.path),
        "config": model.cfg.to_json(),
        "torch_threads": torch.get_num_threads(),
        "machine": {"cpus": os.cpu_count(), "processor": platform.processor() or platform.machine(),
                    "torch": torch.__version__},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="oneshot bench flo", description=__doc__.splitlines()[0])
    parser.add_argument("--json", required=True, type=Path)
    parser.add_argument("--checkpoint", help="a `oneshot train flo` checkpoint (default: untrained)")
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args(argv)
    if args.checkpoint:
        model = load_flo(args.checkpoint)
    else:
        cfg = ClassifierConfig()
        net = GoalClassifier(cfg).eval()
        model = MetaTrainedFLO(net, make_inner(cfg, net), Path("untrained"))
    result = run(model, args.repeats)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    for name in ("classify_frame", "infer_goal"):
        figures = result[name]
        print(f"flo {name:15s} median {figures['median_ms']:7.2f} ms   p90 "
              f"{figures['p90_ms']:7.2f} ms   (target <= {figures['target_ms']:.0f} ms)")
    return 0
