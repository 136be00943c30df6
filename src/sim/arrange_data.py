"""Arrangement datasets for FLO on disk: generation, the format, and a lazy reader.

Format (version 2), a directory:

- ``dataset.json``: ``{"format": "oneshot-arrange", "version": 2, "split", "seed",
  "image_size": [width, height], "relations": [...], "near_miss_share", "command",
  "tasks": [...]}``; each task entry is :meth:`ArrangeTask.describe` plus ``"file"`` (its
  archive) and the counts ``"positives"``, ``"negatives"`` and ``"near_misses"`` (how many
  of the negatives, the last ones, are near misses of the task's own relation;
  ``"near_miss_share"`` is the share asked for). Datasets written before near misses
  existed lack both keys and hold none.
- ``task-NNNN.npz`` (numpy, no pickled objects): ``images`` uint8 [N, H, W, 3],
  ``labels`` uint8 [N] (1 = the task's relation holds), ``positions`` float32 [N, 4, 2]
  (world x, y of first, second and the two distractors; NaN for absent distractors) and
  ``arm`` float32 [N, 7] (joint angles) and ``pusher`` float32 [N, 2] (world x, y of the
  planner's pusher rod; version 1 had no rod).

The thesis collected ~25 positives and ~45 negatives per task (L4812-L4814); those are
the defaults. Negatives show the pair in a random other relation, which seldom puts it
just past the edge of the task's own (the neighbouring direction, say); ``--near-miss-share
F`` makes a share F of each task's negatives such hard negatives instead
(:meth:`ArrangeTwin.sample_example` with ``near_miss``), still clearly not the relation.
`oneshot datagen arrange --out DIR --tasks N --split train|heldout --seed S
[--near-miss-share F]`.
"""
from __future__ import annotations

import argparse
import json
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from sim.arrange import ArrangeTask, ArrangeTwin, Configuration, sample_task
from sim.arrange_scene import CLUTTER_SLOTS
from sim.colours import SPLITS
from sim.relations import RELATIONS

FORMAT, VERSION = "oneshot-arrange", 2
INDEX = "dataset.json"


@dataclass(frozen=True)
class ArrangeDatagenConfig:
    """What `oneshot datagen arrange` generates."""

    tasks: int = 100
    split: str = "train"
    seed: int = 0
    positives: int = 25
    negatives: int = 45
    image_size: int = 64
    near_miss_share: float = 0.0     # of each task's negatives drawn as near misses

    @property
    def near_misses(self) -> int:
        """How many of each task's negatives are near misses."""
        return int(round(self.near_miss_share * self.negatives))


@dataclass(frozen=True)
class TaskImages:
    """The labelled images of one task, as stored."""

    task: dict
    images: np.ndarray       # uint8 [N, H, W, 3]
    labels: np.ndarray       # uint8 [N]
    positions: np.ndarray    # float32 [N, 4, 2]
    arm: np.ndarray          # float32 [N, 7]
    pusher: np.ndarray       # float32 [N, 2]


def _padded(config: Configuration) -> np.ndarray:
    out = np.full((2 + CLUTTER_SLOTS, 2), np.nan, np.float32)
    out[: len(config.positions)] = config.positions
    return out


def render_task(task: ArrangeTask, cfg: ArrangeDatagenConfig,
                rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The arrays of one task: positives first, then negatives, the near misses last."""
    twin = ArrangeTwin(task, (cfg.image_size, cfg.image_size))
    kinds = ([(True, False)] * cfg.positives
             + [(False, False)] * (cfg.negatives - cfg.near_misses)
             + [(False, True)] * cfg.near_misses)
    try:
        images, configs = [], []
        for positive, near_miss in kinds:
            configs.append(twin.sample_example(positive, rng, near_miss))
            images.append(twin.render())
    finally:
        twin.close()
    return {"images": np.stack(images),
            "labels": np.array([1] * cfg.positives + [0] * cfg.negatives, np.uint8),
            "positions": np.stack([_padded(c) for c in configs]),
            "arm": np.stack([c.arm for c in configs]).astype(np.float32),
            "pusher": np.stack([c.pusher for c in configs]).astype(np.float32)}


def generate(out: Path, cfg: ArrangeDatagenConfig, command: str = "",
             progress: bool = True) -> Path:
    """Write ``cfg.tasks`` tasks of ``cfg.split`` to ``out`` (module docstring)."""
    if cfg.split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {cfg.split!r}")
    if cfg.positives < 1 or cfg.negatives < 1 or cfg.tasks < 1:
        raise ValueError("tasks, positives and negatives must each be at least 1")
    if not 0.0 <= cfg.near_miss_share <= 1.0:
        raise ValueError(f"near_miss_share must lie in [0, 1], got {cfg.near_miss_share}")
    out.mkdir(parents=True, exist_ok=True)
    entries = []
    for index in tqdm(range(cfg.tasks), desc=f"arrange {cfg.split}", disable=not progress):
        rng = np.random.default_rng([cfg.seed, index])
        task = sample_task(cfg.split, rng)
        name = f"task-{index:04d}.npz"
        np.savez_compressed(out / name, **render_task(task, cfg, rng))
        entries.append({**task.describe(), "file": name, "positives": cfg.positives,
                        "negatives": cfg.negatives, "near_misses": cfg.near_misses})
    index_data = {"format": FORMAT, "version": VERSION, "split": cfg.split, "seed": cfg.seed,
                  "image_size": [cfg.image_size, cfg.image_size], "relations": list(RELATIONS),
                  "near_miss_share": cfg.near_miss_share, "command": command, "tasks": entries}
    (out / INDEX).write_text(json.dumps(index_data, indent=2) + "\n")
    return out


class ArrangeDataset:
    """A generated arrangement dataset; task archives are read only when asked for."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        index = self.root / INDEX
        if not index.is_file():
            raise ValueError(f"{self.root} is not an arrangement dataset: {INDEX} is missing")
        self.index = json.loads(index.read_text())
        if self.index.get("format") != FORMAT or self.index.get("version") != VERSION:
            raise ValueError(f"{index}: expected format {FORMAT!r} version {VERSION}, got "
                             f"{self.index.get('format')!r} version {self.index.get('version')}")
        self.tasks: list[dict] = self.index["tasks"]
        self.image_size: tuple[int, int] = tuple(self.index["image_size"])

    def __len__(self) -> int:
        return len(self.tasks)

    def require_image_size(self, size: tuple[int, int], user: str) -> None:
        """Refuse a dataset whose images are not the ``size`` that ``user`` expects."""
        if tuple(self.image_size) != tuple(size):
            raise ValueError(f"{self.root} holds {self.image_size} images; the {user} expects "
                             f"{tuple(size)}")

    def task(self, index: int) -> TaskImages:
        """The images and labels of task ``index``."""
        entry = self.tasks[index]
        with np.load(self.root / entry["file"], allow_pickle=False) as arrays:
            return TaskImages(task=entry, **{k: arrays[k] for k in
                                             ("images", "labels", "positions", "arm",
                                                              "pusher")})


def main(argv: list[str]) -> int:
    """`oneshot datagen arrange ...`."""
    defaults = ArrangeDatagenConfig()
    parser = argparse.ArgumentParser(prog="oneshot datagen arrange",
                                     description="FLO arrangement images (positives + negatives)")
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--tasks", type=int, default=defaults.tasks)
    parser.add_argument("--split", choices=SPLITS, default=defaults.split)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--positives", type=int, default=defaults.positives)
    parser.add_argument("--negatives", type=int, default=defaults.negatives)
    parser.add_argument("--image-size", type=int, default=defaults.image_size)
    parser.add_argument("--near-miss-share", type=float, default=defaults.near_miss_share,
                        help="share of each task's negatives drawn as near misses of its own "
                             "relation (hard negatives); 0 keeps random other relations only")
    args = parser.parse_args(argv)
    cfg = ArrangeDatagenConfig(tasks=args.tasks, split=args.split, seed=args.seed,
                               positives=args.positives, negatives=args.negatives,
                               image_size=args.image_size,
                               near_miss_share=args.near_miss_share)
    generate(args.out, cfg, shlex.join(["oneshot", *sys.argv[1:]]))
    print(f"wrote {cfg.tasks} {cfg.split} arrangement tasks to {args.out}")
    return 0
