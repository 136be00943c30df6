"""Demonstrations of the manipulation twins at scale: parallel, resumable, deterministic.

``oneshot datagen {push,place,sawyer-push}``. Each task is drawn once from the split's
catalogues (:mod:`sim.datagen_families`); for every task and demonstrator the family's
scripted expert records ``demos_per_task`` demos. Push tasks get paired robot and human
demos, the pairs DAML meta-trains on (thesis L3658-L3672): same objects, but other
initial positions, another camera, background and lighting, another speed, and another
length (a person stops a few steps after the goal is reached). Only successful demos
are kept; a failed rollout is redrawn.

Determinism: every demo's randomness comes from ``(seed, task, demonstrator, demo)``, so
the data do not depend on the number of workers or on the order they finish in.
Resuming: episodes are written atomically (``write_episode``), so after an interruption
every directory present is complete; a rerun with the same arguments skips them, removes
stray temporary directories and writes ``dataset.json`` once all are done.

Layout: ``OUT/datagen.json`` (the arguments), ``OUT/dataset.json`` (the index, last),
``OUT/task_NNNN/{robot,human}_NNN/`` episodes.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import shlex
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

import gymnasium as gym
import numpy as np
from tqdm import tqdm

from episodes import Episode, write_dataset_index, write_episode
from sim.colours import SPLITS
from sim.datagen_families import FAMILIES, Expert, Family, scene_split

KINDS = ("robot", "human")
EPISODE_STEPS = 100
HUMAN_LINGER = (3, 15)             # steps a person keeps filming after the goal is reached
MAX_ATTEMPTS = 20
PLAN_FILE = "datagen.json"


@dataclass(frozen=True)
class DatagenConfig:
    """What a dataset is made of; saved as ``datagen.json`` to check resumes."""

    family: str = "push"
    tasks: int = 10
    demos_per_task: int = 2
    split: str = "train"
    demonstrator: str = "both"          # robot | human | both (what the family has)
    seed: int = 0
    image_size: tuple[int, int] = (64, 64)
    scene: str | None = None            # a scene YAML: every task stages its objects

    @property
    def spec(self) -> Family:
        return FAMILIES[self.family]

    def kinds(self) -> tuple[str, ...]:
        return self.spec.kinds if self.demonstrator == "both" else (self.demonstrator,)

    def check(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"family must be one of {sorted(FAMILIES)}, got {self.family!r}")
        if self.split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {self.split!r}")
        if self.demonstrator != "both" and self.demonstrator not in self.spec.kinds:
            raise ValueError(f"{self.family} demos come from {self.spec.kinds}; got "
                             f"--demonstrator {self.demonstrator!r}")
        if self.tasks < 1 or self.demos_per_task < 1:
            raise ValueError("tasks and demos_per_task must be at least 1")
        if len(self.image_size) != 2 or min(self.image_size) < 1:
            raise ValueError(f"image size must be two positive numbers, got {self.image_size}")
        if self.scene and scene_split(self.family, self.scene) != self.split:
            raise ValueError(f"{self.scene} is a {scene_split(self.family, self.scene)} scene; "
                             f"pass --split {scene_split(self.family, self.scene)}")


@dataclass(frozen=True)
class Job:
    task_id: int
    kind: str
    demo: int

    @property
    def relative(self) -> str:
        return f"task_{self.task_id:04d}/{self.kind}_{self.demo:03d}"


def plan_tasks(cfg: DatagenConfig) -> list[dict[str, Any]]:
    """The dataset's tasks, a function of the family, seed, split (and scene) alone: a
    scene's pinned fields replace the drawn ones."""
    pinned = cfg.spec.scene_task(cfg.scene) if cfg.scene else {}
    rng = np.random.default_rng([cfg.seed, 0x7A5C])
    return [cfg.spec.draw_task(cfg.split, rng, pinned) | pinned for _ in range(cfg.tasks)]


def rollout(env: gym.Env, family: Family, task: dict[str, Any], kind: str,
            rng: np.random.Generator, labels: dict[str, Any]) -> Episode | None:
    """One expert rollout of ``task``; the episode (its task: ``labels`` + ``task``) if
    it succeeded, else None."""
    reset_seed, expert_seed = (int(s) for s in rng.integers(2**31, size=2))
    observation, _ = env.reset(seed=reset_seed, options=family.reset_options(task))
    scene = env.unwrapped.scene_description()
    expert: Expert = family.make_expert(kind, expert_seed, rng)
    frames, states, actions, linger = [], [], [], int(rng.integers(*HUMAN_LINGER))
    for _ in range(EPISODE_STEPS):
        action = expert.act(env)
        frames.append(observation["image"])
        states.append(observation["state"])
        actions.append(action)
        observation, _, terminated, truncated, info = env.step(action)
        if kind == "human" and info["success_so_far"]:
            linger -= 1
        if terminated or truncated or linger == 0:
            break
    if not env.unwrapped.is_success():
        return None
    width, height = env.unwrapped.image_size
    return Episode(
        frames=np.stack(frames), state=np.stack(states),
        actions=np.stack(actions) if kind == "robot" else None,
        timestamps=np.arange(len(frames)) * env.unwrapped.dt,
        task={"family": family.name, **labels, **task}, demonstrator=kind, fps=1.0 / env.unwrapped.dt,
        camera={"name": family.camera, "width": width, "height": height},
        scene={**scene, "reset_seed": reset_seed, "expert_seed": expert_seed})


class _Worker:
    """Per-process twins (one per demonstrator), built on first use."""

    envs: dict[str, gym.Env] = {}
    cfg: DatagenConfig
    tasks: list[dict[str, Any]]
    out: Path

    @classmethod
    def setup(cls, cfg: DatagenConfig, out: Path) -> None:
        cls.cfg, cls.out, cls.tasks, cls.envs = cfg, out, plan_tasks(cfg), {}

    @classmethod
    def close(cls) -> None:
        """Free the renderers now (EGL contexts cannot be freed at interpreter exit)."""
        for env in cls.envs.values():
            env.close()
        cls.envs = {}

    @classmethod
    def run(cls, job: Job) -> tuple[Job, int]:
        """Write the demo of ``job``; returns it and its frame count."""
        cfg, family = cls.cfg, cls.cfg.spec
        if job.kind not in cls.envs:
            cls.envs[job.kind] = family.make_env(cfg.split, job.kind, cfg.image_size, cfg.scene)
        rng = np.random.default_rng([cfg.seed, job.task_id, KINDS.index(job.kind), job.demo])
        for _ in range(MAX_ATTEMPTS):
            episode = rollout(cls.envs[job.kind], family, cls.tasks[job.task_id], job.kind, rng,
                              {"task_id": job.task_id, "split": cfg.split})
            if episode is not None:
                write_episode(cls.out / job.relative, episode)
                return job, len(episode.frames)
        raise RuntimeError(f"the {job.kind} expert failed {MAX_ATTEMPTS} times on "
                           f"{family.name} task {job.task_id} ({cls.tasks[job.task_id]})")


def all_jobs(cfg: DatagenConfig) -> list[Job]:
    return [Job(task, kind, demo) for task in range(cfg.tasks) for kind in cfg.kinds()
            for demo in range(cfg.demos_per_task)]


def _prepare(out: Path, cfg: DatagenConfig) -> None:
    """Start a new dataset or check a resumed one; remove half-written temporaries."""
    plan = out / PLAN_FILE
    wanted = asdict(cfg) | {"image_size": list(cfg.image_size)}
    if plan.exists():
        saved = json.loads(plan.read_text())
        if saved != wanted:
            raise FileExistsError(f"{out}: holds a dataset made with other arguments "
                                  f"({saved}); resume with the same ones or use a new --out")
    elif out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out}: not empty and not a datagen dataset; choose a new --out")
    out.mkdir(parents=True, exist_ok=True)
    plan.write_text(json.dumps(wanted, indent=1))
    for stray in out.glob("task_*/.*.tmp"):
        shutil.rmtree(stray, ignore_errors=True)


def _run_jobs(jobs: list[Job], cfg: DatagenConfig, out: Path,
              workers: int) -> Iterator[tuple[Job, int]]:
    if workers <= 1:
        _Worker.setup(cfg, out)
        try:
            yield from map(_Worker.run, jobs)
        finally:
            _Worker.close()
        return
    context = multiprocessing.get_context("spawn")   # each worker its own EGL context
    with context.Pool(workers, initializer=_Worker.setup, initargs=(cfg, out)) as pool:
        yield from pool.imap_unordered(_Worker.run, jobs)


def generate(out: Path, cfg: DatagenConfig, workers: int = 1, progress: bool = True,
             command: str | None = None) -> tuple[Path, dict[str, Any]]:
    """Generate (or finish) the dataset ``cfg`` in ``out``; returns the index path and
    throughput figures (frames written, seconds, workers)."""
    cfg.check()
    out = Path(out)
    _prepare(out, cfg)
    jobs = all_jobs(cfg)
    todo = [job for job in jobs if not (out / job.relative / "meta.json").exists()]
    frames, start = 0, time.perf_counter()
    with tqdm(total=len(jobs), initial=len(jobs) - len(todo), desc=f"{cfg.family} {cfg.split}",
              unit="demo", disable=not progress) as bar:
        for _, count in _run_jobs(todo, cfg, out, workers):
            frames += count
            bar.update()
    seconds = time.perf_counter() - start
    tasks = [{"task_id": i, "family": cfg.family, "split": cfg.split, **task}
             for i, task in enumerate(plan_tasks(cfg))]
    episodes = [{"path": job.relative, "task_id": job.task_id, "demonstrator": job.kind}
                for job in jobs]
    index = write_dataset_index(out, family=cfg.family, split=cfg.split, seed=cfg.seed,
                                tasks=tasks, episodes=episodes, command=command)
    return index, {"frames": frames, "seconds": seconds,
                   "workers": max(1, min(workers, len(todo)))}


def main(family: str, argv: Sequence[str] | None = None) -> int:
    """``datagen FAMILY --out DIR [--tasks N --demos-per-task K --split S --demonstrator
    robot|human|both --workers W --seed S --image-size W H --scene F --no-progress]``."""
    parser = argparse.ArgumentParser(prog=f"oneshot datagen {family}",
                                     description=f"Generate {family} demonstrations.")
    parser.add_argument("--out", type=Path, required=True, help="new (or interrupted) dataset directory")
    parser.add_argument("--tasks", type=int, default=10)
    parser.add_argument("--demos-per-task", type=int, default=2,
                        help="demos per task and per demonstrator")
    parser.add_argument("--split", choices=SPLITS, default="train")
    parser.add_argument("--demonstrator", choices=(*KINDS, "both"), default="both")
    parser.add_argument("--workers", type=int, default=1, help="parallel processes")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--image-size", type=int, nargs=2, default=(64, 64), metavar=("W", "H"))
    parser.add_argument("--scene", help="scene YAML: stage its objects (and looks) in every task")
    parser.add_argument("--no-progress", action="store_true")
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    cfg = DatagenConfig(family, args.tasks, args.demos_per_task, args.split, args.demonstrator,
                        args.seed, tuple(args.image_size), str(args.scene) if args.scene else None)
    try:
        index, speed = generate(args.out, cfg, args.workers, not args.no_progress,
                                shlex.join(["oneshot", "datagen", family, *argv]))
    except (FileExistsError, ValueError) as error:
        print(f"datagen {family}: {error}", file=sys.stderr)
        return 2
    print(f"dataset ready: {index} ({speed['frames']} frames written in "
          f"{speed['seconds']:.1f} s by {speed['workers']} worker(s))")
    return 0
