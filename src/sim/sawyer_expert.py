"""Scripted experts for the Sawyer twins, from privileged state, with Gaussian action noise.

They stand in for the thesis's demonstrators (teleoperation for placing, L3215; per-task
TRPO experts that see the objects' poses for simulated pushing, L6829-L6830): each step they
read the scene's true state, command an end-effector velocity toward a waypoint, add
Gaussian noise to every action dimension and clip to the action box. Both decide their
phase from the state alone (no memory), so a demo recovers from its own noise.

``python -m sim.sawyer_expert --family place --episodes 200`` measures an expert's
success rate (every episode a new task, layout and noise stream).

* :class:`PlaceExpert`: carry the object high over the target container, lower it until
  its lowest point (object or finger pads) is just above the container floor, open, rise.
* :class:`PushExpert`: come down behind the target object, on the far side from the
  goal, and push it along the object-goal line; if the object slides off the line, rise
  and come down behind it again; once the object is on the goal, rise and wait.
"""
from __future__ import annotations

import argparse
import time
from typing import Any, Sequence

import gymnasium as gym
import numpy as np

from sim.sawyer import (
    CONTAINER_WALL,
    CONTROL_DT,
    MAX_SPEED,
    SawyerEnv,
    SawyerPlaceEnv,
    SawyerPushEnv,
)

NOISE_STD = 0.1          # action units (1 = MAX_SPEED for the velocity dimensions)
GAIN = 0.7               # share of the distance to the waypoint commanded in one step
CLOSE, OPEN = 1.0, -1.0

CARRY_Z = 0.22           # m: fingertips' height while carrying over the containers
DROP_HEIGHT = 0.02       # m: the object is let go this far above the container floor
OVER_TARGET = 0.015      # m: the object is over the container when this close (x, y)

TRAVEL_Z = 0.14          # m: fingertips' height when moving over the objects
PUSH_Z = 0.015           # m: fingertips' height while pushing
PUSHER_RADIUS = 0.02     # m: reach of the closed fingers around the fingertips' centre
BEHIND_GAP = 0.015       # m: free space kept behind the object before contact
ON_LINE = 0.012          # m: come down only when this close to the approach point
OFF_LINE = 0.03          # m: rise and re-approach when the fingers drift this far off
DONE_DISTANCE = 0.012    # m: the object counts as delivered this close to the goal
PUSH_SPEED = 0.6         # share of MAX_SPEED while in contact with the object


def velocity_toward(env: SawyerEnv, point: np.ndarray, speed: float = 1.0) -> np.ndarray:
    """Velocity action (x, y, z) that moves the fingertips' centre toward ``point``,
    its largest component at most ``speed``, the direction kept."""
    command = GAIN * (point - env.ee_pos) / (MAX_SPEED * CONTROL_DT)
    largest = np.abs(command).max()
    return command * min(1.0, speed / largest) if largest > 0 else command


class SawyerExpert:
    """Noisy scripted expert: ``act(env) -> action`` (float32 [4], within [-1, 1])."""

    def __init__(self, noise_std: float = NOISE_STD, seed: int | None = None):
        if noise_std < 0:
            raise ValueError(f"noise_std must be >= 0, got {noise_std}")
        self.noise_std = noise_std
        self.rng = np.random.default_rng(seed)

    def act(self, env: gym.Env) -> np.ndarray:
        """The noisy action for the env's current state."""
        clean = self.command(env.unwrapped)
        noisy = clean + self.rng.normal(0.0, self.noise_std, 4)
        return np.clip(noisy, -1.0, 1.0).astype(np.float32)

    def command(self, env: SawyerEnv) -> np.ndarray:
        """The noise-free action."""
        raise NotImplementedError


class PlaceExpert(SawyerExpert):
    """Carry, lower, open, rise (module docstring) for :class:`SawyerPlaceEnv`."""

    def command(self, env: SawyerPlaceEnv) -> np.ndarray:
        tcp, obj = env.ee_pos, env.object_pos
        half_height = env.held_object.half_height
        lowest = min(obj[2] - half_height, tcp[2])
        over = np.linalg.norm(obj[:2] - env.target_pos) < OVER_TARGET
        drop_z = 2 * CONTAINER_WALL + DROP_HEIGHT
        if not env.object_in_gripper() or over and lowest < drop_z + 0.01:
            return np.append(velocity_toward(env, np.append(tcp[:2], CARRY_Z)), OPEN)
        above = env.target_pos - (obj[:2] - tcp[:2])    # fingertips' x, y with the object over it
        if over:
            waypoint = np.append(above, tcp[2] + drop_z - lowest)
        else:
            waypoint = np.append(above, max(tcp[2], CARRY_Z))
        return np.append(velocity_toward(env, waypoint), CLOSE)


class PushExpert(SawyerExpert):
    """Approach behind, push along the line, re-approach, rise (module docstring) for
    :class:`SawyerPushEnv`."""

    def command(self, env: SawyerPushEnv) -> np.ndarray:
        tcp, obj, goal = env.ee_pos, env.target_pos, env.goal_pos
        to_goal = goal - obj
        distance = np.linalg.norm(to_goal)
        if distance < DONE_DISTANCE:
            return self._rise(env)
        direction = to_goal / distance
        contact = env.target_object.footprint_radius + PUSHER_RADIUS
        approach = obj - direction * (contact + BEHIND_GAP)
        lateral = tcp[:2] - obj
        off_line = abs(lateral[0] * direction[1] - lateral[1] * direction[0])
        behind = lateral @ direction < 0.0
        low = tcp[2] < TRAVEL_Z - 0.02             # coming down, pushing or rising
        if low and not (behind and off_line < OFF_LINE):
            return self._rise(env)                 # beside the object or off the line
        if tcp[2] < PUSH_Z + 0.01:                 # down behind it: push along the line,
            finish = goal + direction * (lateral @ direction)   # the fingers as far behind
            return np.append(velocity_toward(env, np.append(finish, PUSH_Z), PUSH_SPEED), CLOSE)
        if not low and np.linalg.norm(tcp[:2] - approach) > ON_LINE:
            return np.append(velocity_toward(env, np.append(approach, TRAVEL_Z)), CLOSE)
        return np.append(velocity_toward(env, np.append(approach, PUSH_Z)), CLOSE)

    @staticmethod
    def _rise(env: SawyerPushEnv) -> np.ndarray:
        return np.append(velocity_toward(env, np.append(env.ee_pos[:2], TRAVEL_Z)), CLOSE)


EXPERTS = {"place": (SawyerPlaceEnv, PlaceExpert), "sawyer-push": (SawyerPushEnv, PushExpert)}


def run_episode(env: SawyerEnv, expert: SawyerExpert, seed: int,
                options: dict[str, Any] | None = None) -> bool:
    """Roll out one full episode of ``expert`` from ``reset(seed)``; whether it succeeded."""
    env.reset(seed=seed, options=options)
    truncated = False
    while not truncated:
        _, _, _, truncated, info = env.step(expert.act(env))
    return bool(info["is_success"])


def successes(family: str, episodes: int, seed: int = 0, noise_std: float = NOISE_STD,
              split: str = "train", image_size: tuple[int, int] = (64, 64)) -> list[bool]:
    """Each episode's success for the family's expert; episode ``i`` resets with seed
    ``seed + i`` and seeds the expert's noise with it too."""
    if family not in EXPERTS:
        raise ValueError(f"family must be one of {sorted(EXPERTS)}, got {family!r}")
    env_class, expert_class = EXPERTS[family]
    env = env_class(split=split, image_size=image_size)
    try:
        return [run_episode(env, expert_class(noise_std, seed=seed + i), seed + i)
                for i in range(episodes)]
    finally:
        env.close()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Success rate of a Sawyer twin's expert.")
    parser.add_argument("--family", choices=sorted(EXPERTS), required=True)
    parser.add_argument("--episodes", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--noise", type=float, default=NOISE_STD)
    parser.add_argument("--split", choices=("train", "heldout"), default="train")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    outcomes = successes(args.family, args.episodes, args.seed, args.noise, args.split)
    elapsed = time.perf_counter() - start
    failed = [args.seed + i for i, success in enumerate(outcomes) if not success]
    print(f"{args.family} ({args.split}, noise {args.noise}): {sum(outcomes)}/{len(outcomes)} "
          f"= {np.mean(outcomes):.1%} in {elapsed:.0f} s; failed seeds: {failed}")


if __name__ == "__main__":
    main()
