"""`oneshot bench datagen`: how fast the push twin makes demonstrations on one core.

A benchmark, not a test: it measures and writes JSON. ``frames_per_second_per_core`` is
the whole datagen path in one process (physics, the scripted expert, rendering at the
dataset's image size, writing episodes), over a small paired robot + human dataset; it is
what one worker of ``oneshot datagen push --workers W`` delivers. ``render`` isolates the
renderer (shadows and multisampling off) and ``physics_steps_per_second`` the simulation.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import mujoco

from sim.push import PushEnv
from sim.manipulation_datagen import DatagenConfig, generate


def _render_rate(env: PushEnv, size: tuple[int, int], frames: int) -> float:
    env.render_view(size)
    start = time.perf_counter()
    for _ in range(frames):
        env.render_view(size)
    return frames / (time.perf_counter() - start)


def _physics_rate(env: PushEnv, steps: int) -> float:
    start = time.perf_counter()
    mujoco.mj_step(env.model, env.data, nstep=steps)
    return steps / (time.perf_counter() - start)


def run(tasks: int, demos_per_task: int, image_size: tuple[int, int]) -> dict:
    cfg = DatagenConfig("push", tasks=tasks, demos_per_task=demos_per_task, demonstrator="both",
                        image_size=image_size)
    with tempfile.TemporaryDirectory(prefix="oneshot-bench-datagen-") as tmp:
        _, speed = generate(Path(tmp) / "data", cfg, workers=1, progress=False)
    env = PushEnv(image_size=image_size)
    env.reset(seed=0)
    render = {f"{w}x{h}": _render_rate(env, (w, h), 300) for w, h in (image_size, (125, 125))}
    physics = _physics_rate(env, 5000)
    env.close()
    return {
        "frames_per_second_per_core": speed["frames"] / speed["seconds"],
        "frames": speed["frames"],
        "seconds": speed["seconds"],
        "dataset": {"family": "push", "tasks": tasks, "demos_per_task": demos_per_task,
                    "demonstrators": ["robot", "human"], "image_size": list(image_size)},
        "render_frames_per_second": render,
        "physics_steps_per_second": physics,
        "machine": {"cpus": os.cpu_count(), "processor": platform.processor() or platform.machine(),
                    "mujoco": mujoco.__version__},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="oneshot bench datagen", description=__doc__.splitlines()[0])
    parser.add_argument("--json", required=True, type=Path)
    parser.add_argument("--tasks", type=int, default=4)
    parser.add_argument("--demos-per-task", type=int, default=2)
    parser.add_argument("--image-size", type=int, nargs=2, default=(64, 64), metavar=("W", "H"))
    args = parser.parse_args(argv)
    result = run(args.tasks, args.demos_per_task, tuple(args.image_size))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(f"datagen: {result['frames_per_second_per_core']:.0f} frames/s on one core "
          f"({result['frames']} frames); render "
          + ", ".join(f"{k} {v:.0f} fps" for k, v in result["render_frames_per_second"].items())
          + f"; physics {result['physics_steps_per_second']:.0f} steps/s")
    return 0
