"""`oneshot bench speed`: how fast MIL meta-trains, adapts and acts on this machine.

A benchmark, not a test: it measures and writes JSON. Three figures for the MIL reach
configuration: milliseconds per meta-iteration (meta-batch of tasks, second-order inner
step, Adam update), adaptation latency on one 50-step demo (what `adapt` costs when a demo
arrives), and the latency of one policy step (one frame + state -> torques).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from episodes import Dataset
from meta_policy.adapt import MetaTrainedMIL, adapt
from meta_policy.config import MILConfig, TrainConfig
from meta_policy.train import MILTrainer
from metalearn.maml import meta_step
from sim.datagen import generate_reach


def timed(fn: Callable[[], object], repeats: int, warmup: int = 3) -> dict[str, float]:
    """Median and 90th percentile wall time of `fn` in milliseconds."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(1000 * (time.perf_counter() - start))
    return {"median_ms": float(np.median(samples)), "p90_ms": float(np.percentile(samples, 90)),
            "repeats": repeats}


def run(cfg: MILConfig, train: TrainConfig, repeats: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="oneshot-bench-") as tmp:
        generate_reach(Path(tmp) / "data", tasks=6, demos_per_task=2, split="train", seed=0,
                       image_size=cfg.image_size, progress=False)
        trainer = MILTrainer(cfg, train, Dataset(Path(tmp) / "data"))

        def meta_iteration() -> None:
            meta_step(trainer.optimizer, trainer.meta_loss()[0], train.meta_grad_clip)

        meta = timed(meta_iteration, repeats)
        model = MetaTrainedMIL(trainer.policy.eval(), trainer.inner, Path(tmp), {})
        demo = trainer.dataset.episodes_of(trainer.dataset.task_ids[0])[0]
        adaptation = timed(lambda: adapt(model, demo), repeats)
        policy = adapt(model, demo)
        image, state = np.array(demo.frames[0]), np.array(demo.state[0])
        step = timed(lambda: policy.act(image, state), repeats * 10)
    return {
        "meta_iteration": {**meta, "meta_batch": train.meta_batch,
                           "frames_per_demo": train.frames_per_demo},
        "adaptation": {**adaptation, "demo_steps": demo.length},
        "policy_step": step,
        "config": cfg.to_json(),
        "torch_threads": torch.get_num_threads(),
        "machine": {"cpus": os.cpu_count(), "processor": platform.processor() or platform.machine(),
                    "torch": torch.__version__},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="oneshot bench speed", description=__doc__.splitlines()[0])
    parser.add_argument("--json", required=True, type=Path)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args(argv)
    result = run(MILConfig(), TrainConfig(), args.repeats)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    for name in ("meta_iteration", "adaptation", "policy_step"):
        print(f"{name:15s} median {result[name]['median_ms']:8.2f} ms   p90 {result[name]['p90_ms']:8.2f} ms")
    return 0
