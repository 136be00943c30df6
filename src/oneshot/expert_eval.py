"""`oneshot eval --suite TWIN --expert`: how often each twin's scripted expert succeeds.

Demonstrations are only as good as the experts that make them; datagen keeps successful
demos only, so a weak expert silently biases the data towards easy layouts. Each trial
is a new task (held-out objects/colours) and a new layout, drawn from ``seed``; the JSON
is the one single-method suites write, with the Wilson 95% interval.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Protocol

import gymnasium as gym
import numpy as np
from tqdm import tqdm

from oneshot.evaluate import wilson_interval

SEED_RANGE = 2**31


class Expert(Protocol):
    def act(self, env: gym.Env) -> np.ndarray: ...


Twin = Callable[[Path | None], tuple[gym.Env, Callable[[int], Expert]]]


def _reach(scene: Path | None) -> tuple[gym.Env, Callable[[int], Expert]]:
    from sim.expert import ReachExpert
    from sim.reach import ReachEnv
    from sim.scene import load_scene

    env = ReachEnv(split="heldout", scene=load_scene(scene) if scene else None)
    return env, lambda seed: ReachExpert(seed=seed)


def _push(demonstrator: str) -> Twin:
    def make(scene: Path | None) -> tuple[gym.Env, Callable[[int], Expert]]:
        from dataclasses import replace

        from sim.push import PushEnv
        from sim.push_expert import ArmPushExpert, HandPushExpert
        from sim.push_scene_file import load_push_scene

        expert = ArmPushExpert if demonstrator == "robot" else HandPushExpert
        staged = replace(load_push_scene(scene), demonstrator=demonstrator) if scene else None
        env = PushEnv(split="heldout", demonstrator=demonstrator, scene=staged)
        return env, lambda seed: expert(seed=seed)
    return make


def _sawyer(family: str, demonstrator: str) -> Twin:
    def make(scene: Path | None) -> tuple[gym.Env, Callable[[int], Expert]]:
        from sim.datagen_families import FAMILIES, sawyer_scene
        from sim.sawyer import SawyerPlaceEnv, SawyerPushEnv

        kwargs = sawyer_scene(family, str(scene)).env_kwargs() if scene else {"split": "heldout"}
        env = (SawyerPlaceEnv if family == "place" else SawyerPushEnv)(
            **kwargs, demonstrator=demonstrator)
        make_expert = FAMILIES[family].make_expert
        return env, lambda seed: make_expert(demonstrator, seed, np.random.default_rng(seed))
    return make


TWINS: dict[str, Twin] = {
    "reach": _reach,
    "push": _push("robot"),
    "push-human": _push("human"),
    "place": _sawyer("place", "robot"),
    "place-human": _sawyer("place", "human"),
    "sawyer-push": _sawyer("sawyer-push", "robot"),
    "sawyer-push-human": _sawyer("sawyer-push", "human"),
}


def evaluate_expert(suite: str, trials: int, seed: int, scene: Path | None = None,
                    progress: bool = True) -> dict[str, Any]:
    """Success rate of the scripted expert of twin ``suite`` over ``trials`` episodes
    (in the staged ``scene``, if given)."""
    if suite not in TWINS:
        raise ValueError(f"--expert suites are twins: {sorted(TWINS)}; got {suite!r}")
    if trials < 1:
        raise ValueError(f"--trials must be at least 1, got {trials}")
    env, make_expert = TWINS[suite](scene)
    rng = np.random.default_rng(seed)
    successes = 0
    try:
        for _ in tqdm(range(trials), desc=f"expert {suite}", unit="trial", disable=not progress):
            reset_seed, expert_seed = (int(s) for s in rng.integers(SEED_RANGE, size=2))
            env.reset(seed=reset_seed)
            expert, done = make_expert(expert_seed), False
            while not done:
                _, _, terminated, truncated, _ = env.step(expert.act(env))
                done = terminated or truncated
            successes += bool(env.unwrapped.is_success())
        split = env.unwrapped.split
    finally:
        env.close()
    return {"suite": suite, "method": "expert", "trials": trials,
            "success_rate": successes / trials, "ci95": list(wilson_interval(successes, trials)),
            "successes": successes, "seed": seed, "split": split,
            "scene": str(scene) if scene else None}
