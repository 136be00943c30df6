"""The main job (`make demo`): one-shot imitation of a colour the policy never saw.

In the reach twin, the scripted expert records ONE demonstration of reaching a held-out
colour; the shipped meta-trained MIL policy adapts to it by gradient descent on that demo
(a few inner steps, `meta_policy.adapt.AdaptConfig`); the adapted policy then reaches that colour from new target and distractor positions. Prints
the success rate and the adaptation time, and writes demo | rollout side by side as mp4.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from meta_policy.adapt import adapt, load_mil
from oneshot.evaluate import SEED_RANGE, record_demo, run_episode, wilson_interval
from sim.colours import task_colour
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
    model = load_mil(checkpoint)
    out = new_run_dir(out)
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
    successes = sum(outcomes)
    lo, hi = wilson_interval(successes, trials)
    print(f"one-shot success from new positions: {successes}/{trials} = {successes / trials:.0%} "
          f"(95% CI {lo:.0%}-{hi:.0%})")
    video = write_mp4(out / "demo_vs_rollout.mp4",
                      side_by_side(list(demo.frames), rollout, scale=VIDEO_SCALE), fps=demo.fps)
    print(f"video (demo | first rollout): {video}")
    return 0
