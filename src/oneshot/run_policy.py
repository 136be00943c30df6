"""``oneshot run --policy ADAPTED --env push|place|reach``: execute an adapted policy in a twin.

The last line of Algorithm 11 (thesis L3414-L3420): the policy adapted on one demonstration
acts. Which task it is run on comes from ``--task`` (JSON) or, by default, from the task
recorded with the demonstration it was adapted on (an episode's ``meta.json``); each trial
is a new layout of that task. An adapted DAML policy (``daml-adapted``) runs in the push
twin (torque actions) or the Sawyer place twin (end-effector velocities and gripper), an
adapted MIL policy (``mil-adapted``) in the reach twin.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from episodes import EpisodeError, read_episode
from meta_policy.adapt import AdaptedPolicy
from meta_policy.daml_adapt import AdaptedDAML
from metalearn.checkpoint import load_kind
from oneshot.evaluate import SEED_RANGE, run_episode, wilson_interval
from oneshot.imitation_eval import run_trial, twin_env
from sim.push import task_from_dict
from sim.reach import ReachEnv
from sim.video import write_mp4

ADAPTED_KINDS = ("daml-adapted", "mil-adapted")
REQUIRED_FIELDS = {"push": ("target", "distractor"), "place": ("colour", "object")}  # + "table"


def load_adapted(path: Path) -> tuple[AdaptedDAML | AdaptedPolicy, str]:
    """The adapted policy at ``path`` and the twin it runs in."""
    _, config, _ = load_kind(path, *ADAPTED_KINDS)  # an adapted policy, made by `oneshot adapt`
    if config["kind"] == "mil-adapted":
        return AdaptedPolicy.load(path), "reach"
    policy = AdaptedDAML.load(path)
    return policy, "push" if policy.cfg.action_kind == "torque" else "place"


def demonstrated_task(policy: AdaptedDAML | AdaptedPolicy) -> dict[str, Any]:
    """The task of the episode the policy was adapted on."""
    demo = policy.source.get("video") or policy.source.get("demo")
    try:
        return read_episode(demo).task
    except (EpisodeError, TypeError) as error:
        raise ValueError(f"the policy was adapted on {demo!r}, which records no task "
                         f"(not an episode); give --task") from error


def run(policy_path: Path, env_name: str, task: dict[str, Any] | None, trials: int, seed: int,
        video: Path | None = None) -> dict[str, Any]:
    """Run ``trials`` episodes; returns the outcomes as ``oneshot eval`` reports them."""
    policy, native = load_adapted(policy_path)
    if env_name != native:
        raise ValueError(f"{policy_path} is a {native} policy; run it with --env {native}")
    if trials < 1:
        raise ValueError(f"--trials must be at least 1, got {trials}")
    task = task if task is not None else demonstrated_task(policy)
    rng, size = np.random.default_rng(seed), tuple(policy.cfg.image_size)
    first: list[np.ndarray] = []
    if native == "reach":
        outcomes = _run_reach(policy, task, trials, rng, size, first)
    else:
        outcomes = _run_imitation(policy, native, task, trials, rng, size, first)
    if video is not None:
        write_mp4(video, first, fps=20)
    successes = outcomes.count("success")
    return {"policy": str(policy_path), "env": native, "task": task, "trials": trials,
            "success_rate": successes / trials, "ci95": list(wilson_interval(successes, trials)),
            "outcomes": {kind: outcomes.count(kind) for kind in sorted(set(outcomes))},
            "seed": seed, "video": str(video) if video else None}


def _run_imitation(policy: AdaptedDAML, family: str, task: dict[str, Any], trials: int,
                   rng: np.random.Generator, size: tuple[int, int],
                   first: list[np.ndarray]) -> list[str]:
    """Trials of a DAML policy in the push or place twin of the task's split (default
    held-out); a task the twin cannot stage is a ValueError naming the field."""
    split = task.get("split", "heldout")
    required = REQUIRED_FIELDS[family]
    if any(name not in task for name in required):
        raise ValueError(f"a {family} task needs {list(required)}, got {task}")
    fields = {name: task[name] for name in (*required, "table") if name in task}
    if family == "push":
        fields = task_from_dict(fields, split).describe()
    env = twin_env(family, "robot", size, split)
    try:
        return [run_trial(env, policy, fields, int(rng.integers(SEED_RANGE)),
                          first if trial == 0 else None) for trial in range(trials)]
    finally:
        env.close()


def _run_reach(policy: AdaptedPolicy, task: dict[str, Any], trials: int, rng: np.random.Generator,
               size: tuple[int, int], first: list[np.ndarray]) -> list[str]:
    if "colour" not in task:
        raise ValueError(f"a reach task needs a 'colour', got {task}")
    env = ReachEnv(split=task.get("split", "heldout"), image_size=size)
    outcomes = []
    try:
        for trial in range(trials):
            success, frames = run_episode(env, policy, task["colour"], int(rng.integers(SEED_RANGE)),
                                          record=trial == 0)
            first.extend(frames)
            outcomes.append("success" if success else "failure")
    finally:
        env.close()
    return outcomes
