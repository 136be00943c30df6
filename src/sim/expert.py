"""A scripted reach expert that knows where the target is (privileged state).

It stands in for the thesis's iLQG expert with injected noise: each step it solves the
arm's inverse kinematics for the target, then applies a PD torque toward that joint
configuration, plus Gaussian noise, clipped to the action box. Joint-space PD with
gains (KP, KD) reaches a typical target in about 25 of the 50 steps and holds it there.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from sim.arena import LINK_LENGTHS

KP = 2.0    # action units per rad of joint error
KD = 0.2    # action units per rad/s of joint velocity


def wrap_near(angles: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """The angles shifted by whole turns to lie within pi of ``reference``."""
    return reference + (angles - reference + np.pi) % (2.0 * np.pi) - np.pi


def inverse_kinematics(point: np.ndarray, current: np.ndarray) -> np.ndarray:
    """Joint angles putting the fingertip at ``point`` (x, y), for the elbow solution (up
    or down) nearest the ``current`` joint angles, wrapped to be near them too.

    Points out of reach give the configuration pointing straight at them.
    """
    upper, fore = LINK_LENGTHS
    x, y = point
    cos_elbow = (x * x + y * y - upper ** 2 - fore ** 2) / (2.0 * upper * fore)
    elbow = np.arccos(np.clip(cos_elbow, -1.0, 1.0))
    solutions = []
    for bend in (elbow, -elbow):
        shoulder = np.arctan2(y, x) - np.arctan2(fore * np.sin(bend), upper + fore * np.cos(bend))
        solutions.append(wrap_near(np.array([shoulder, bend]), current))
    return min(solutions, key=lambda q: float(np.abs(q - current).sum()))


class ReachExpert:
    """Noisy scripted expert for :class:`sim.reach.ReachEnv`: ``act(env) -> action``."""

    def __init__(self, noise_std: float = 0.1, seed: int | None = None,
                 kp: float = KP, kd: float = KD):
        self.noise_std = noise_std
        self.kp = kp
        self.kd = kd
        self.rng = np.random.default_rng(seed)

    def act(self, env: gym.Env) -> np.ndarray:
        """The torque action for the env's current state (float32, within [-1, 1])."""
        reach = env.unwrapped
        q = reach.joint_positions
        goal = inverse_kinematics(reach.target_pos, q)
        torque = np.clip(self.kp * (goal - q) - self.kd * reach.joint_velocities, -1.0, 1.0)
        noisy = torque + self.rng.normal(0.0, self.noise_std, 2)
        return np.clip(noisy, -1.0, 1.0).astype(np.float32)
