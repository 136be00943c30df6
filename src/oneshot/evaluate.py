"""One-shot evaluation suites: success rate of a method on tasks it never trained on.

Protocol of the thesis's reach experiment (L6803-L6810): for each held-out colour, the
expert records ONE demonstration; the method conditions on it (MIL adapts; the contextual
baseline keeps its final frame); then it is run in several trials, each a new scene with
other target and distractor positions than the demo. Demos are written to disk and read
back as episodes, the same path a user's recorded demo takes.
"""
from __future__ import annotations

import math
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from episodes import EpisodeReader, read_episode, write_episode
from meta_policy.adapt import AdaptConfig, adapt, load_mil
from meta_policy.baselines import RandomPolicy, condition_contextual, load_contextual
from sim.colours import task_colour
from sim.datagen import successful_demo
from sim.reach import ReachEnv
from sim.scene import ReachScene, load_scene

SUITES = {"reach-heldout": "heldout", "reach-train": "train"}
SEED_RANGE = 2**31


class Actor(Protocol):
    def act(self, image: np.ndarray, state: np.ndarray) -> np.ndarray: ...


class Method(Protocol):
    """Something that turns one demonstration into an actor (MIL, a baseline)."""

    name: str
    image_size: tuple[int, int]

    def condition(self, demo: EpisodeReader) -> Actor: ...


@dataclass
class EvalConfig:
    suite: str = "reach-heldout"
    trials: int = 200
    trials_per_task: int = 10  # the thesis runs 10 trials per held-out colour (L6804)
    seed: int = 1000
    scene: Path | None = None


def wilson_interval(successes: int, trials: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a success rate (sound at rates near 0 or 1)."""
    if trials == 0:
        return (0.0, 1.0)
    p = successes / trials
    centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / (1 + z * z / trials)
    return (max(0.0, centre - half), min(1.0, centre + half))


def run_episode(
    env: ReachEnv, actor: Actor, colour, seed: int, record: bool = False
) -> tuple[bool, list[np.ndarray]]:
    """Run `actor` for one episode of reaching `colour`; returns success and the frames seen."""
    observation, _ = env.reset(seed=seed, options={"colour": colour})
    frames, done = [], False
    while not done:
        if record:
            frames.append(observation["image"])
        observation, _, terminated, truncated, _ = env.step(actor.act(observation["image"], observation["state"]))
        done = terminated or truncated
    return env.is_success(), frames


def record_demo(env: ReachEnv, task: dict, rng: np.random.Generator, path: Path) -> EpisodeReader:
    """One successful expert demonstration of `task`, written to `path` and read back."""
    write_episode(path, successful_demo(env, task, rng))
    return read_episode(path)


def _task_colours(cfg: EvalConfig, scene: ReachScene | None, rng: np.random.Generator, count: int):
    if scene is not None:
        return [scene.target_colour] * count
    return [task_colour(SUITES[cfg.suite], rng) for _ in range(count)]


def evaluate(method: Method, cfg: EvalConfig) -> dict:
    """Success rate of `method` over `cfg.trials` trials; the JSON of `oneshot eval`."""
    if cfg.suite not in SUITES:
        raise ValueError(f"unknown suite {cfg.suite!r}; known: {sorted(SUITES)}")
    scene = load_scene(cfg.scene) if cfg.scene else None
    rng = np.random.default_rng(cfg.seed)
    tasks = math.ceil(cfg.trials / cfg.trials_per_task)
    env = ReachEnv(split=SUITES[cfg.suite], image_size=method.image_size, scene=scene)
    outcomes: list[bool] = []
    condition_seconds: list[float] = []
    try:
        with tempfile.TemporaryDirectory(prefix="oneshot-eval-") as tmp:
            for task_id, colour in enumerate(_task_colours(cfg, scene, rng, tasks)):
                task = {"family": "reach", "task_id": task_id, "colour": list(colour),
                        "split": SUITES[cfg.suite]}
                demo = record_demo(env, task, rng, Path(tmp) / f"demo_{task_id:04d}")
                start = time.perf_counter()
                actor = method.condition(demo)
                condition_seconds.append(time.perf_counter() - start)
                for _ in range(min(cfg.trials_per_task, cfg.trials - len(outcomes))):
                    success, _ = run_episode(env, actor, colour, int(rng.integers(SEED_RANGE)))
                    outcomes.append(success)
    finally:
        env.close()
    successes = int(sum(outcomes))
    return {
        "suite": cfg.suite,
        "method": method.name,
        "trials": len(outcomes),
        "success_rate": successes / len(outcomes),
        "ci95": list(wilson_interval(successes, len(outcomes))),
        "successes": successes,
        "tasks": tasks,
        "trials_per_task": cfg.trials_per_task,
        "seed": cfg.seed,
        "scene": str(cfg.scene) if cfg.scene else None,
        "condition_ms_mean": 1000 * float(np.mean(condition_seconds)),
        **({"adaptation": asdict(method.how)} if isinstance(method, MILMethod) else {}),
    }


class MILMethod:
    """MIL: adapt the meta-trained policy to the demo by gradient descent."""

    name = "mil"

    def __init__(self, checkpoint: str | Path, how: AdaptConfig = AdaptConfig()) -> None:
        self.model = load_mil(checkpoint)
        self.how = how
        self.image_size = tuple(self.model.cfg.image_size)

    def condition(self, demo: EpisodeReader) -> Actor:
        return adapt(self.model, demo, how=self.how)


class ContextualMethod:
    """Contextual baseline: the demo's final frame is an input of the policy."""

    name = "contextual"

    def __init__(self, checkpoint: str | Path) -> None:
        self.network = load_contextual(checkpoint)
        self.image_size = tuple(self.network.cfg.image_size)

    def condition(self, demo: EpisodeReader) -> Actor:
        return condition_contextual(self.network, demo)


class RandomMethod:
    """Random baseline: standard-normal torques whatever the demo."""

    name = "random"

    def __init__(self, seed: int, image_size: tuple[int, int] = (64, 64)) -> None:
        self.seed, self.image_size = seed, image_size

    def condition(self, demo: EpisodeReader) -> Actor:
        return RandomPolicy(action_dim=2, seed=self.seed + int(demo.task.get("task_id", 0)))


def method_from_args(checkpoint: str | None, baseline: str | None, seed: int,
                     how: AdaptConfig = AdaptConfig()) -> Method:
    """The method `oneshot eval` names: MIL from --checkpoint (adapted as ``how`` says),
    or --baseline NAME."""
    if baseline == "random":
        return RandomMethod(seed)
    if checkpoint is None:
        raise ValueError("--checkpoint is required (for MIL and for --baseline contextual)")
    if baseline == "contextual":
        return ContextualMethod(checkpoint)
    return MILMethod(checkpoint, how)
