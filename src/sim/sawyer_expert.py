"""Scripted experts for the Sawyer twins, from privileged state, with Gaussian action noise.

They stand in for the thesis's demonstrators (teleoperation for placing, L3215; per-task
TRPO experts that see the objects' poses for simulated pushing, L6829-L6830): each step they
read the scene's true state, command an end-effector velocity toward a waypoint, add
Gaussian noise to every action dimension and clip to the action box. Both decide their
phase from the state alone (no memory), so a demo recovers from its own noise.

``python -m sim.sawyer_expert --family place --episodes 200`` measures an expert's
success rate (every episode a new task, layout and noise stream); ``--demonstrator human``
measures the person's.

* :func:`place_waypoint` (:class:`PlaceExpert`, :class:`SawyerHandPlaceExpert`): carry the
  object high over the target container, lower it until its lowest point (object, finger
  pads or fingers) is just above the container floor, let go, rise.
* :func:`push_waypoint` (:class:`PushExpert`, :class:`SawyerHandPushExpert`): come down
  behind the target object, on the far side from the goal, and push it along the
  object-goal line; if the object slides off the line, rise and come down behind it
  again; once the object is on the goal, rise and wait.

The human demonstrator (thesis L3658-L3672) follows the same plans with the hand; its
``speed`` is the person's pace (1.0: at most ``HAND_PACE`` m/s), so human and robot demos
of one task differ in timing (L3670-L3672); the person also turns the hand to push with
the fingers square to the push.
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
    DEMONSTRATORS,
    HAND_SPEED_LIMIT,
    HAND_TURN_LIMIT,
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
PUSH_SPEED = 0.6         # share of the top speed while in contact with the object

HAND_PACE = 0.3          # m/s: a person's top speed at ``speed`` 1
HAND_PUSH_Z = 0.008      # m: the hand's origin (its fingers' lowest point) while pushing
HAND_REACH = 0.01        # m: reach of the fingertips ahead of the hand's origin


def velocity_toward(env: SawyerEnv, point: np.ndarray, speed: float = 1.0,
                    unit: float = MAX_SPEED) -> np.ndarray:
    """Velocity action (x, y, z) that moves the end effector toward ``point``, in units
    of ``unit`` m/s (the arm's action scale; 1 for the hand's m/s), its largest component
    at most ``speed``, the direction kept."""
    command = GAIN * (point - env.ee_pos) / (unit * CONTROL_DT)
    largest = np.abs(command).max()
    return command * min(1.0, speed / largest) if largest > 0 else command


class SawyerExpert:
    """Noisy scripted expert: ``act(env) -> action`` (float32 [4], within the action box;
    the noise's standard deviation is ``noise_std`` times each entry's bound)."""

    def __init__(self, noise_std: float = NOISE_STD, seed: int | None = None):
        if noise_std < 0:
            raise ValueError(f"noise_std must be >= 0, got {noise_std}")
        self.noise_std = noise_std
        self.rng = np.random.default_rng(seed)

    def act(self, env: gym.Env) -> np.ndarray:
        """The noisy action for the env's current state."""
        clean = self.command(env.unwrapped)
        box = env.unwrapped.action_space
        noisy = clean + self.rng.normal(0.0, self.noise_std, 4) * box.high
        return np.clip(noisy, box.low, box.high).astype(np.float32)

    def command(self, env: SawyerEnv) -> np.ndarray:
        """The noise-free action."""
        raise NotImplementedError


def place_waypoint(env: SawyerPlaceEnv) -> tuple[np.ndarray, float]:
    """Where the end effector should head next and the grip (CLOSE: hold, OPEN: let go):
    carry, lower, let go, rise (module docstring)."""
    tcp, obj = env.ee_pos, env.object_pos
    half_height = env.held_object.half_height
    lowest = min(obj[2] - half_height, tcp[2])
    over = np.linalg.norm(obj[:2] - env.target_pos) < OVER_TARGET
    drop_z = 2 * CONTAINER_WALL + DROP_HEIGHT
    if not env.object_in_gripper() or over and lowest < drop_z + 0.01:
        return np.append(tcp[:2], CARRY_Z), OPEN
    above = env.target_pos - (obj[:2] - tcp[:2])    # effector's x, y with the object over it
    if over:
        return np.append(above, tcp[2] + drop_z - lowest), CLOSE
    return np.append(above, max(tcp[2], CARRY_Z)), CLOSE


def push_waypoint(env: SawyerPushEnv, push_z: float = PUSH_Z,
                  reach: float = PUSHER_RADIUS) -> tuple[np.ndarray, float]:
    """Where the end effector (pushing at height ``push_z``, touching within ``reach`` of
    its centre) should head next and at what share of its top speed: approach behind,
    push along the line, re-approach, rise (module docstring)."""
    tcp, obj, goal = env.ee_pos, env.target_pos, env.goal_pos
    rise = np.append(tcp[:2], TRAVEL_Z), 1.0
    to_goal = goal - obj
    distance = np.linalg.norm(to_goal)
    if distance < DONE_DISTANCE:
        return rise
    direction = to_goal / distance
    approach = obj - direction * (env.target_object.footprint_radius + reach + BEHIND_GAP)
    lateral = tcp[:2] - obj
    off_line = abs(lateral[0] * direction[1] - lateral[1] * direction[0])
    behind = lateral @ direction < 0.0
    low = tcp[2] < TRAVEL_Z - 0.02                 # coming down, pushing or rising
    if low and not (behind and off_line < OFF_LINE):
        return rise                                # beside the object or off the line
    if tcp[2] < push_z + 0.01:                     # down behind it: push along the line,
        finish = goal + direction * (lateral @ direction)   # the effector as far behind
        return np.append(finish, push_z), PUSH_SPEED
    if not low and np.linalg.norm(tcp[:2] - approach) > ON_LINE:
        return np.append(approach, TRAVEL_Z), 1.0
    return np.append(approach, push_z), 1.0


class PlaceExpert(SawyerExpert):
    """Carry, lower, open, rise (:func:`place_waypoint`) for :class:`SawyerPlaceEnv`."""

    def command(self, env: SawyerPlaceEnv) -> np.ndarray:
        waypoint, grip = place_waypoint(env)
        return np.append(velocity_toward(env, waypoint), grip)


class PushExpert(SawyerExpert):
    """Approach behind, push along the line, re-approach, rise (:func:`push_waypoint`)
    for :class:`SawyerPushEnv`."""

    def command(self, env: SawyerPushEnv) -> np.ndarray:
        waypoint, share = push_waypoint(env)
        return np.append(velocity_toward(env, waypoint, share), CLOSE)


class SawyerHandExpert(SawyerExpert):
    """A person doing a Sawyer task with the hand: the robot expert's plan at the
    person's own pace, ``speed`` (1.0: at most HAND_PACE m/s)."""

    def __init__(self, noise_std: float = NOISE_STD, seed: int | None = None,
                 speed: float = 1.0):
        super().__init__(noise_std, seed)
        if not 0 < speed * HAND_PACE <= HAND_SPEED_LIMIT:
            raise ValueError(f"speed must be in (0, {HAND_SPEED_LIMIT / HAND_PACE:.3g}], "
                             f"got {speed}")
        self.speed = speed

    def velocity(self, env: SawyerEnv, waypoint: np.ndarray, share: float = 1.0) -> np.ndarray:
        """The hand's velocity (m/s) toward ``waypoint`` at ``share`` of the person's pace."""
        return velocity_toward(env, waypoint, share * self.speed * HAND_PACE, unit=1.0)


class SawyerHandPlaceExpert(SawyerHandExpert):
    """The person's placing (:func:`place_waypoint`): hold while carrying, let go over
    the target container; for ``SawyerPlaceEnv(demonstrator="human")``."""

    def command(self, env: SawyerPlaceEnv) -> np.ndarray:
        waypoint, grip = place_waypoint(env)
        return np.append(self.velocity(env, waypoint), grip)


class SawyerHandPushExpert(SawyerHandExpert):
    """The person's pushing (:func:`push_waypoint` with the fingertips), turning the hand
    so the fingers point along the push; for ``SawyerPushEnv(demonstrator="human")``."""

    def command(self, env: SawyerPushEnv) -> np.ndarray:
        waypoint, share = push_waypoint(env, HAND_PUSH_Z, HAND_REACH)
        to_goal = env.goal_pos - env.target_pos
        heading = np.arctan2(to_goal[1], to_goal[0])
        turn = (heading - env.hand_yaw + np.pi) % (2 * np.pi) - np.pi
        turn_rate = np.clip(GAIN * turn / CONTROL_DT, -HAND_TURN_LIMIT, HAND_TURN_LIMIT)
        return np.append(self.velocity(env, waypoint, share), turn_rate)


EXPERTS = {
    ("place", "robot"): (SawyerPlaceEnv, PlaceExpert),
    ("sawyer-push", "robot"): (SawyerPushEnv, PushExpert),
    ("place", "human"): (SawyerPlaceEnv, SawyerHandPlaceExpert),
    ("sawyer-push", "human"): (SawyerPushEnv, SawyerHandPushExpert),
}
FAMILIES = ("place", "sawyer-push")


def run_episode(env: SawyerEnv, expert: SawyerExpert, seed: int,
                options: dict[str, Any] | None = None) -> bool:
    """Roll out one full episode of ``expert`` from ``reset(seed)``; whether it succeeded."""
    env.reset(seed=seed, options=options)
    truncated = False
    while not truncated:
        _, _, _, truncated, info = env.step(expert.act(env))
    return bool(info["is_success"])


def successes(family: str, episodes: int, seed: int = 0, noise_std: float = NOISE_STD,
              split: str = "train", image_size: tuple[int, int] = (64, 64),
              demonstrator: str = "robot", speed: float = 1.0) -> list[bool]:
    """Each episode's success for the family's expert (the person's, at pace ``speed``,
    for ``demonstrator="human"``); episode ``i`` resets with seed ``seed + i`` and seeds
    the expert's noise with it too."""
    if family not in FAMILIES or demonstrator not in DEMONSTRATORS:
        raise ValueError(f"family must be one of {FAMILIES} and demonstrator one of "
                         f"{DEMONSTRATORS}, got {family!r} and {demonstrator!r}")
    env_class, expert_class = EXPERTS[family, demonstrator]
    pace = {"speed": speed} if demonstrator == "human" else {}
    env = env_class(split=split, image_size=image_size, demonstrator=demonstrator)
    try:
        return [run_episode(env, expert_class(noise_std, seed=seed + i, **pace), seed + i)
                for i in range(episodes)]
    finally:
        env.close()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Success rate of a Sawyer twin's expert.")
    parser.add_argument("--family", choices=FAMILIES, required=True)
    parser.add_argument("--demonstrator", choices=DEMONSTRATORS, default="robot")
    parser.add_argument("--speed", type=float, default=1.0, help="the person's pace (human)")
    parser.add_argument("--episodes", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--noise", type=float, default=NOISE_STD)
    parser.add_argument("--split", choices=("train", "heldout"), default="train")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    outcomes = successes(args.family, args.episodes, args.seed, args.noise, args.split,
                         demonstrator=args.demonstrator, speed=args.speed)
    elapsed = time.perf_counter() - start
    failed = [args.seed + i for i, success in enumerate(outcomes) if not success]
    print(f"{args.family} ({args.demonstrator}, {args.split}, noise {args.noise}): "
          f"{sum(outcomes)}/{len(outcomes)} "
          f"= {np.mean(outcomes):.1%} in {elapsed:.0f} s; failed seeds: {failed}")


if __name__ == "__main__":
    main()
