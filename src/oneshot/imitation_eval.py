"""One-shot imitation suites on the push and Sawyer place twins (thesis 7.2.7, B.3.6):
DAML, MIL, baselines.

Protocol: for each held-out task (push: a target and a distractor never seen in training;
place: a target container colour from the held-out hue bins, a held-out object), the
scripted demonstrator records ONE demonstration in a fresh layout; it is written to disk
and read back as a user's recorded demo would be; the method conditions on it; the robot
then runs ``trials_per_task`` trials, each a new layout of the same task, and succeeds as
the twin defines it (push: the target on the goal for 10 steps, B.3.6; place: the object
resting in the target container, L3672-L3673).

Suites (which demonstration the method sees; DAML reads only a demo's frames, through
:func:`meta_policy.video.load_video`, as it would a user's video):
- ``push-video``: a robot demo as a video (no domain shift, no actions: Table 8);
- ``push-human``: a person's video, backgrounds of the training distribution (Table 6);
- ``push-human-novel-bg``: a person's video in front of held-out backgrounds (Table 7);
- ``push-robot``: a robot demo with states and actions (MIL, thesis 7.1.6.2);
- ``place-human``: a person's video placing the held object into one of three containers
  on the Sawyer twin (Table 6, placing).

Failures are attributed as in the thesis's analysis: ``wrong_object`` when the demo was
misread (push: the distractor moved further than the target; place: the object rests in a
container of another colour), else ``control`` (the right object, or nothing, moved but
did not end where it should).
"""
from __future__ import annotations

import math
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import gymnasium as gym
import numpy as np
from tqdm import tqdm

from episodes import EpisodeReader, read_episode, write_episode
from oneshot.evaluate import SEED_RANGE, Actor, Method, wilson_interval
from sim.datagen_families import FAMILIES
from sim.manipulation_datagen import MAX_ATTEMPTS, rollout

MOVED = 0.02  # m: an object displaced less than this was not pushed
PUSH_BODIES = ("target", "distractor")


@dataclass(frozen=True)
class ImitationSuite:
    """Which twin, who demonstrates, and in front of which backgrounds (a person's videos)."""

    family: str                    # push | place
    demonstrator: str              # robot | human
    background_split: str = "train"


SUITES = {
    "push-video": ImitationSuite("push", "robot"),
    "push-human": ImitationSuite("push", "human"),
    "push-human-novel-bg": ImitationSuite("push", "human", background_split="heldout"),
    "push-robot": ImitationSuite("push", "robot"),
    "place-human": ImitationSuite("place", "human"),
}


@dataclass
class ImitationEvalConfig:
    suite: str = "push-human"
    trials: int = 100
    trials_per_task: int = 5
    seed: int = 1000


def twin_env(family: str, demonstrator: str, image_size: tuple[int, int],
             split: str = "heldout", background_split: str = "train") -> gym.Env:
    """The push or place twin of ``split`` with ``demonstrator`` in it (a person's videos
    are drawn in front of ``background_split``'s backgrounds)."""
    if family == "push":
        from sim.push import PushEnv

        return PushEnv(split=split, demonstrator=demonstrator, image_size=image_size,
                       background_split=background_split)
    from sim.sawyer import SawyerPlaceEnv

    return SawyerPlaceEnv(split=split, demonstrator=demonstrator, image_size=image_size,
                          background_split=background_split)


def suite_env(suite: ImitationSuite, demonstrator: str, image_size: tuple[int, int]) -> gym.Env:
    """The held-out twin of ``suite`` with ``demonstrator`` in it."""
    return twin_env(suite.family, demonstrator, image_size,
                    background_split=suite.background_split)


def record_demo(env: gym.Env, suite: ImitationSuite, task: dict, task_id: int,
                rng: np.random.Generator, path: Path) -> EpisodeReader:
    """One successful scripted demonstration of ``task`` in ``env``, written to ``path``
    and read back."""
    for _ in range(MAX_ATTEMPTS):
        episode = rollout(env, FAMILIES[suite.family], task, suite.demonstrator, rng,
                          {"split": "heldout", "task_id": task_id})
        if episode is not None:
            write_episode(path, episode)
            return read_episode(path)
    raise RuntimeError(f"the {suite.demonstrator} expert failed {MAX_ATTEMPTS} times on {task}")


def misread(env: gym.Env, start: dict[str, np.ndarray]) -> bool:
    """Whether a failed episode acted on the wrong thing: pushed the distractor further
    than the target, or placed the object in a container of another colour."""
    if env.family == "place":
        return any(env.in_container(i) for i in range(len(env.container_positions))
                   if i != env.target_index)
    moved = {body: float(np.linalg.norm(env.object_pos(body) - start[body]))
             for body in PUSH_BODIES}
    return moved["distractor"] >= MOVED and moved["distractor"] > moved["target"]


def outcome(env: gym.Env, start: dict[str, np.ndarray]) -> str:
    """``success``, ``wrong_object`` or ``control`` for the episode that just ended."""
    if env.is_success():
        return "success"
    return "wrong_object" if misread(env, start) else "control"


def run_trial(env: gym.Env, actor: Actor, task: dict, seed: int,
              frames: list[np.ndarray] | None = None) -> str:
    """One trial of ``actor`` on ``task`` in a new layout; its outcome. The camera images
    the actor saw are appended to ``frames`` when given."""
    observation, _ = env.reset(seed=seed, options=FAMILIES[env.family].reset_options(task))
    start = ({body: env.object_pos(body) for body in PUSH_BODIES}
             if env.family == "push" else {})
    done = False
    while not done:
        if frames is not None:
            frames.append(observation["image"])
        action = actor.act(observation["image"], observation["state"])
        observation, _, terminated, truncated, _ = env.step(action)
        done = terminated or truncated
    return outcome(env, start)


def evaluate_imitation(method: Method, cfg: ImitationEvalConfig, progress: bool = True) -> dict:
    """Success rate of ``method`` on suite ``cfg.suite``; the JSON of ``oneshot eval``."""
    if cfg.suite not in SUITES:
        raise ValueError(f"unknown suite {cfg.suite!r}; imitation suites: {sorted(SUITES)}")
    if cfg.trials < 1 or cfg.trials_per_task < 1:
        raise ValueError("--trials and --trials-per-task must be at least 1")
    suite, rng = SUITES[cfg.suite], np.random.default_rng(cfg.seed)
    tasks = math.ceil(cfg.trials / cfg.trials_per_task)
    env = suite_env(suite, "robot", method.image_size)
    demonstrator_env = suite_env(suite, suite.demonstrator, method.image_size)
    outcomes: list[str] = []
    condition_seconds: list[float] = []
    bar = tqdm(total=cfg.trials, desc=f"{method.name} {cfg.suite}", unit="trial", disable=not progress)
    try:
        with tempfile.TemporaryDirectory(prefix="oneshot-eval-") as tmp:
            for task_id in range(tasks):
                task = FAMILIES[suite.family].draw_task("heldout", rng, {})
                demo = record_demo(demonstrator_env, suite, task, task_id, rng,
                                   Path(tmp) / f"demo_{task_id:04d}")
                start = time.perf_counter()
                actor = method.condition(demo)
                condition_seconds.append(time.perf_counter() - start)
                for _ in range(min(cfg.trials_per_task, cfg.trials - len(outcomes))):
                    outcomes.append(run_trial(env, actor, task, int(rng.integers(SEED_RANGE))))
                    bar.update()
    finally:
        bar.close()
        env.close()
        demonstrator_env.close()
    successes = outcomes.count("success")
    return {
        "suite": cfg.suite, "method": method.name, "trials": len(outcomes),
        "success_rate": successes / len(outcomes),
        "ci95": list(wilson_interval(successes, len(outcomes))),
        "successes": successes,
        "failures": {kind: outcomes.count(kind) for kind in ("wrong_object", "control")},
        "tasks": tasks, "trials_per_task": cfg.trials_per_task, "seed": cfg.seed,
        "split": "heldout", "condition_ms_mean": 1000 * float(np.mean(condition_seconds)),
    }


class DAMLMethod:
    """DAML: adapt the meta-trained policy on the demo's frames with the learned loss."""

    def __init__(self, checkpoint: str | Path, steps: int | None = None) -> None:
        from meta_policy.daml_adapt import load_daml

        self.model = load_daml(checkpoint)
        self.steps = steps
        self.name = f"daml-{self.model.cfg.loss_kind}" + ("-unadapted" if steps == 0 else "")
        self.image_size = tuple(self.model.cfg.image_size)

    def condition(self, demo: EpisodeReader) -> Actor:
        from meta_policy.daml_adapt import adapt

        return adapt(self.model, demo.path, steps=self.steps)
