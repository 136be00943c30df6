"""The main job (`make demo`): a robot imitates one video of a person, on objects it never saw.

With a DAML checkpoint (the default, ``checkpoints/daml-push-human``): in the push twin a
person stand-in (the twin's human hand, in front of a drawn background) pushes a held-out
object onto the goal while a distractor sits by; the meta-trained policy adapts to that one
video with its learned loss (thesis 7.2); the robot arm then pushes the same object from new
positions. With a MIL checkpoint (``checkpoints/mil-reach``): the reach twin's expert
demonstrates a held-out colour and MIL adapts on the demo (thesis 7.1). Prints the success
rate and adaptation time, and writes demonstration | first rollout side by side as mp4.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from meta_policy.adapt import adapt, load_mil
from meta_policy.daml_adapt import adapt as adapt_daml
from meta_policy.daml_adapt import load_daml
from metalearn.checkpoint import load_checkpoint
from oneshot.evaluate import SEED_RANGE, record_demo, run_episode, wilson_interval
from oneshot.imitation_eval import SUITES, run_trial, suite_env
from oneshot.imitation_eval import record_demo as record_push_demo
from sim.colours import task_colour
from sim.datagen_families import FAMILIES
from sim.reach import ReachEnv
from sim.video import side_by_side, write_mp4

VIDEO_SCALE = 4


def new_run_dir(parent: Path) -> Path:
    """A folder under `parent` named after the current time, never one that exists."""
    stamp = time.strftime("run-%Y%m%d-%H%M%S")
    candidate, suffix = parent / stamp, 1
    while candidate.exists():
        suffix += 1
        candidate = parent / f"{stamp}-{suffix}"
    candidate.mkdir(parents=True)
    return candidate


def run_demo(checkpoint: Path, out: Path, trials: int, seed: int) -> int:
    """Run the demo into a new time-stamped folder under `out`, so earlier runs are kept."""
    _, config, _ = load_checkpoint(checkpoint)
    story = push_story if config.get("kind") == "daml" else reach_story
    return story(checkpoint, new_run_dir(out), trials, seed)


def push_story(checkpoint: Path, out: Path, trials: int, seed: int) -> int:
    """DAML: one human video of pushing a never-seen object -> the robot pushes it."""
    model = load_daml(checkpoint)
    rng = np.random.default_rng(seed)
    task = FAMILIES["push"].draw_task("heldout", rng, {})
    print(f"held-out objects: push the {task['target']} (the {task['distractor']} is a "
          f"distractor); neither was seen in meta-training")
    size = tuple(model.cfg.image_size)
    suite = SUITES["push-human"]
    person, robot = suite_env(suite, "human", size), suite_env(suite, "robot", size)
    try:
        demo = record_push_demo(person, suite, task, 0, rng, out / "human_video")
        print(f"human video recorded: {demo.path} ({demo.length} frames, background "
              f"{demo.meta['scene']['background']})")
        policy = adapt_daml(model, demo.path)
        policy.save(out / "adapted_policy", ["oneshot", "demo"])
        print(f"adapted in {policy.source['adapt_seconds'] * 1000:.1f} ms "
              f"({policy.source['adapt_steps']} step(s) on the learned loss) -> {out / 'adapted_policy'}")
        rollout: list[np.ndarray] = []
        outcomes = [run_trial(robot, policy, task, int(rng.integers(SEED_RANGE)),
                              rollout if trial == 0 else None) for trial in range(trials)]
    finally:
        person.close()
        robot.close()
    return _report([o == "success" for o in outcomes], list(demo.frames), rollout, demo.fps,
                   out, "human video")


def reach_story(checkpoint: Path, out: Path, trials: int, seed: int) -> int:
    """MIL: one expert demo of reaching a held-out colour -> the arm reaches it."""
    model = load_mil(checkpoint)
    rng = np.random.default_rng(seed)
    colour = task_colour("heldout", rng)
    rgb = ", ".join(f"{c:.2f}" for c in colour)
    print(f"held-out colour: rgb({rgb})  (never seen in meta-training)")
    env = ReachEnv(split="heldout", image_size=tuple(model.cfg.image_size))
    try:
        task = {"family": "reach", "task_id": 0, "colour": list(colour), "split": "heldout"}
        demo = record_demo(env, task, rng, out / "demo_episode")
        print(f"demonstration recorded: {demo.path} ({demo.length} steps)")
        policy = adapt(model, demo)
        policy.save(out / "adapted_policy", ["oneshot", "demo"])
        print(f"adapted in {policy.source['adapt_seconds'] * 1000:.1f} ms "
              f"({policy.source['adapt_steps']} gradient steps on the demo) "
              f"-> {out / 'adapted_policy'}")
        outcomes, rollout = [], []
        for trial in range(trials):
            success, frames = run_episode(env, policy, colour, int(rng.integers(SEED_RANGE)),
                                          record=trial == 0)
            outcomes.append(success)
            rollout = frames or rollout
    finally:
        env.close()
    return _report(outcomes, list(demo.frames), rollout, demo.fps, out, "demo")


def _report(outcomes: list[bool], demo: list[np.ndarray], rollout: list[np.ndarray], fps: float,
            out: Path, shown: str) -> int:
    """Print the success rate and write demonstration | first rollout as mp4."""
    successes, trials = sum(outcomes), len(outcomes)
    lo, hi = wilson_interval(successes, trials)
    print(f"one-shot success from new positions: {successes}/{trials} = {successes / trials:.0%} "
          f"(95% CI {lo:.0%}-{hi:.0%})")
    video = write_mp4(out / "demo_vs_rollout.mp4", side_by_side(demo, rollout, scale=VIDEO_SCALE),
                      fps=fps)
    print(f"video ({shown} | first rollout): {video}")
    return 0
