"""Demonstration datasets for the reach family, written in the ``episodes`` format.

Each task is one target colour drawn from the split's hues; each of its demonstrations is
a new episode (new target and distractor positions, new distractor colours) driven by the
noisy scripted expert. Only successful demonstrations are kept: a failed rollout is
discarded and the next draw of the generator is tried instead, so every stored demo
shows the task solved. Everything derives from one seed, so a seed gives identical data.

Layout: ``OUT/dataset.json`` and ``OUT/task_NNNN/demo_NNN/`` episode directories.
Each episode holds T = 50 steps: ``frames[t]`` and ``state[t]`` are the observation seen
before ``actions[t]`` was applied, and ``timestamps[t] = t * dt``.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from tqdm import tqdm

from episodes import Episode, write_dataset_index, write_episode
from sim.colours import SPLITS, task_colour
from sim.expert import ReachExpert
from sim.reach import CAMERA, EPISODE_STEPS, ReachEnv

EXPERT_NOISE = 0.1
MAX_ATTEMPTS = 100    # rollouts tried per demonstration before giving up
SEED_RANGE = 2 ** 31


def rollout_demo(env: ReachEnv, task: dict[str, Any], reset_seed: int,
                 expert: ReachExpert) -> tuple[Episode, bool]:
    """Run the expert for one episode of ``task``; return it and whether it succeeded."""
    observation, _ = env.reset(seed=reset_seed, options={"colour": task["colour"]})
    scene = env.scene_description()
    frames, states, actions = [], [], []
    for _ in range(EPISODE_STEPS):
        action = expert.act(env)
        frames.append(observation["image"])
        states.append(observation["state"])
        actions.append(action)
        observation, _, _, _, info = env.step(action)
    width, height = env.image_size
    episode = Episode(
        frames=np.stack(frames),
        state=np.stack(states),
        actions=np.stack(actions),
        timestamps=np.arange(EPISODE_STEPS) * env.dt,
        task=task,
        demonstrator="robot",
        fps=1.0 / env.dt,
        camera={"name": CAMERA, "width": width, "height": height},
        scene={**scene, "reset_seed": reset_seed, "expert_noise_std": expert.noise_std},
    )
    return episode, info["is_success"]


def successful_demo(env: ReachEnv, task: dict[str, Any],
                    rng: np.random.Generator) -> Episode:
    """Draw rollouts from ``rng`` until the expert succeeds (at most MAX_ATTEMPTS)."""
    for _ in range(MAX_ATTEMPTS):
        reset_seed, expert_seed = (int(s) for s in rng.integers(SEED_RANGE, size=2))
        expert = ReachExpert(noise_std=EXPERT_NOISE, seed=expert_seed)
        episode, success = rollout_demo(env, task, reset_seed, expert)
        if success:
            return episode
    raise RuntimeError(f"the reach expert failed {MAX_ATTEMPTS} times for task {task}")


def generate_reach(out: Path, tasks: int, demos_per_task: int, split: str, seed: int,
                   image_size: tuple[int, int] = (64, 64), progress: bool = True,
                   command: str | None = None) -> Path:
    """Write ``tasks`` x ``demos_per_task`` expert demonstrations to ``out``; return
    the path of its ``dataset.json``. ``out`` must be absent or empty."""
    out = Path(out)
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    if tasks < 1 or demos_per_task < 1:
        raise ValueError("tasks and demos_per_task must be at least 1")
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out}: not empty; choose a new output directory")
    rng = np.random.default_rng(seed)
    task_entries, episode_entries = [], []
    env = ReachEnv(split=split, image_size=image_size)
    try:
        with tqdm(total=tasks * demos_per_task, desc=f"reach {split}", unit="demo",
                  disable=not progress) as bar:
            for task_id in range(tasks):
                colour = task_colour(split, rng)
                task = {"family": "reach", "task_id": task_id, "colour": list(colour),
                        "split": split}
                task_entries.append(task)
                for demo in range(demos_per_task):
                    episode = successful_demo(env, task, rng)
                    relative = f"task_{task_id:04d}/demo_{demo:03d}"
                    write_episode(out / relative, episode)
                    episode_entries.append({"path": relative, "task_id": task_id})
                    bar.update()
    finally:
        env.close()
    return write_dataset_index(out, family="reach", split=split, seed=seed,
                               tasks=task_entries, episodes=episode_entries, command=command)


def main(argv: Sequence[str] | None = None) -> int:
    """``datagen reach`` options: ``--out DIR --tasks N --demos-per-task K
    --split train|heldout --seed S [--image-size W H] [--no-progress]``."""
    parser = argparse.ArgumentParser(prog="oneshot datagen reach",
                                     description="Generate expert reach demonstrations.")
    parser.add_argument("--out", type=Path, required=True, help="new dataset directory")
    parser.add_argument("--tasks", type=int, default=10, help="number of target colours")
    parser.add_argument("--demos-per-task", type=int, default=4)
    parser.add_argument("--split", choices=SPLITS, default="train",
                        help="hue bins to draw task colours from")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--image-size", type=int, nargs=2, default=(64, 64),
                        metavar=("W", "H"))
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    try:
        index = generate_reach(args.out, args.tasks, args.demos_per_task, args.split,
                               args.seed, tuple(args.image_size), not args.no_progress,
                               command=shlex.join(["oneshot", "datagen", "reach", *argv]))
    except (FileExistsError, ValueError) as error:
        print(f"datagen reach: {error}", file=sys.stderr)
        return 2
    print(f"wrote {args.tasks * args.demos_per_task} demos to {index.parent}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
