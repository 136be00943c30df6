"""`oneshot bench speed`: how fast MIL and DAML meta-train, adapt and act on this machine.

A benchmark, not a test: it measures and writes JSON. For the MIL reach configuration:
milliseconds per meta-iteration (meta-batch of tasks, second-order inner step, Adam
update), adaptation latency on one 50-step demo (what `adapt` costs when a demo arrives),
and the latency of one policy step (one frame + state -> torques).

For DAML on the push twin (``daml``): the meta-iteration of the CPU preset as one vmapped
tensor program, beside a plain per-task autograd loop over the same model and meta-batch
(how learn2learn-style libraries run MAML: one adaptation per task, losses averaged);
adaptation on a 40-frame human video with 5 inner steps; one policy step.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
from pathlib import Path

import numpy as np
import torch

from episodes import Dataset
from meta_policy.adapt import MetaTrainedMIL, adapt
from meta_policy.config import MILConfig, TrainConfig
from meta_policy.daml_adapt import MetaTrainedDAML
from meta_policy.daml_adapt import adapt as adapt_daml
from meta_policy.daml_config import DAMLConfig, DAMLTrainConfig
from meta_policy.daml_train import DAMLTrainer
from meta_policy.train import MILTrainer
from meta_policy.video import load_video
from metalearn.maml import meta_step
from oneshot.benchmarks.timing import timed
from sim.datagen import generate_reach
from sim.manipulation_datagen import DatagenConfig, generate


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


def run_daml(repeats: int) -> dict:
    """The DAML figures (module docstring) on a small real paired push dataset."""
    with tempfile.TemporaryDirectory(prefix="oneshot-bench-") as tmp:
        generate(Path(tmp) / "data", DatagenConfig("push", tasks=4, demos_per_task=2, seed=0),
                 progress=False)
        cfg, train = DAMLConfig(), DAMLTrainConfig()
        trainer = DAMLTrainer(cfg, train, Dataset(Path(tmp) / "data"))
        batch, objective = trainer.batch(), trainer.objective

        def task_loop() -> torch.Tensor:
            return torch.stack([objective(batch.task(i)) for i in range(len(batch))]).mean()

        batched = timed(lambda: meta_step(trainer.optimizer, objective(batch)), repeats)
        looped = timed(lambda: meta_step(trainer.optimizer, task_loop()), repeats)
        model = MetaTrainedDAML(objective.eval(), Path(tmp),
                                {"data": {"train_config": {"video_frames": 40}}})
        human = next(e for e in trainer.dataset.episodes_of(0) if e.actions is None)
        video = load_video(human.path, cfg.image_size)
        adaptation = timed(lambda: adapt_daml(model, video, steps=5), repeats)
        policy = adapt_daml(model, video, steps=5)
        robot = next(e for e in trainer.dataset.episodes_of(0) if e.actions is not None)
        image, state = np.array(robot.frames[0]), np.array(robot.state[0])
        step = timed(lambda: policy.act(image, state), repeats * 10)
    return {
        "meta_iteration_vmapped": {**batched, "meta_batch": train.meta_batch,
                                   "frames_per_clip": train.video_frames},
        "meta_iteration_task_loop": looped,
        "vmapped_speedup": looped["median_ms"] / batched["median_ms"],
        "adaptation": {**adaptation, "video_frames": 40, "inner_steps": 5},
        "policy_step": step,
        "config": cfg.to_json(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="oneshot bench speed", description=__doc__.splitlines()[0])
    parser.add_argument("--json", required=True, type=Path)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args(argv)
    result = run(MILConfig(), TrainConfig(), args.repeats)
    result["daml"] = run_daml(args.repeats)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    for prefix, figures in (("mil", result), ("daml", result["daml"])):
        for name, value in figures.items():
            if isinstance(value, dict) and "median_ms" in value:
                print(f"{prefix} {name:25s} median {value['median_ms']:8.2f} ms   "
                      f"p90 {value['p90_ms']:8.2f} ms")
    print(f"daml vmapped meta-iteration: {result['daml']['vmapped_speedup']:.2f}x the task loop")
    return 0
