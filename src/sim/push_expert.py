"""Scripted push experts with privileged state: the arm's (torques) and the human hand's.

They stand in for the thesis's TRPO experts (B.2.2, L6826-L6832), which saw object poses
rather than images. Both follow one plan, written in the table plane with ``u`` the unit
vector from the target to the goal:

1. ``approach``: travel, raised above the objects, to a spot behind the target (on the
   far side from the goal), then lower to pushing height;
2. ``push``: move the pusher along ``u`` through the target's centre, re-aiming at every
   step, so the target slides onto the goal;
3. ``hold``: once the target is on the goal, stop there.

The arm tracks the plan's pusher pose (the wrist's U-shaped bar square to ``u``, open
side forward) by damped-least-squares inverse kinematics, then a joint PD torque; the
hand follows it by a clipped velocity. Gaussian noise on every action makes the demos
varied, as the thesis's noisy experts' were.
"""
from __future__ import annotations

import mujoco
import numpy as np

from sim.push import HAND_SPEED_LIMIT, HAND_TURN_LIMIT, TORQUE_LIMIT, PushEnv
from sim.push_scene import TABLE_Z

PUSH_HEIGHT = 0.025        # pusher bar centre above the table (m)
HAND_PUSH_HEIGHT = 0.008   # the hand's fingertips (its origin) above the table (m)
TRAVEL_HEIGHT = 0.15       # clears every catalogue object (m)
BEHIND = 0.13              # gap between the target's edge and the approach spot: the
                           # U's prongs (0.12 m) must land clear of the target (m)
LEAD = 0.08                # how far ahead of the contact point the push aims (m)
SLIP = 0.04                # sideways play of the target in the U before it counts as lost (m)
ON_GOAL = 0.05             # target this close to the goal: hold (m)
ALIGNED = 0.04             # pusher this close to the approach spot: lower and push (m)
KP_POSITION = 40.0         # N per m of pusher position error ...
MAX_FORCE = 6.0            # ... up to this force (N)
KP_TILT = 1.5              # N m per unit of tilt error: keep the U flat on the table ...
KP_YAW = 0.5               # ... and, less strictly, square to the push
KD = 0.6                   # joint damping added by the controller (N m s / rad)


class PushPlan:
    """Where the pusher should be next, from the target, goal and pusher positions.

    Phases: ``rise`` -> ``travel`` (raised, to the spot behind the target) -> ``descend``
    -> ``push`` -> ``hold``; losing the target while pushing starts over with ``rise``.
    """

    def __init__(self, push_height: float = PUSH_HEIGHT) -> None:
        self.phase = "rise"
        self.push_height = push_height

    def waypoint(self, env: PushEnv) -> tuple[np.ndarray, np.ndarray]:
        """The next pusher position (x, y, z) and the push direction ``u`` (x, y)."""
        target, goal = env.object_pos("target"), env.goal_pos
        distance = float(np.linalg.norm(goal - target))
        u = (goal - target) / max(distance, 1e-9)
        radius = env.target_spec.footprint_radius
        pusher = env.pusher_pos
        behind = target - u * (radius + BEHIND)
        travel, low = TABLE_Z + TRAVEL_HEIGHT, TABLE_Z + self.push_height
        if distance < ON_GOAL:
            self.phase = "hold"
        if self.phase == "rise" and pusher[2] > travel - 0.03:
            self.phase = "travel"
        if self.phase == "travel" and np.linalg.norm(pusher[:2] - behind) < ALIGNED:
            self.phase = "descend"
        if self.phase == "descend":
            if np.linalg.norm(pusher[:2] - behind) > 2 * ALIGNED:
                self.phase = "rise"
            elif pusher[2] < low + 0.03:
                self.phase = "push"
        if self.phase == "push" and _lost(pusher, target, u, radius):
            self.phase = "rise"
        return {
            "rise": lambda: np.append(pusher[:2], travel),
            "travel": lambda: np.append(behind, travel),
            "descend": lambda: np.append(behind, low),
            "push": lambda: np.append(target - u * (radius + 0.02) + u * LEAD, low),
            "hold": lambda: pusher,
        }[self.phase](), u


def _lost(pusher: np.ndarray, target: np.ndarray, u: np.ndarray, radius: float) -> bool:
    """Whether the target slipped out from in front of the pusher (the U's prongs keep
    it within SLIP of the push line)."""
    offset = pusher[:2] - target
    across = u[0] * offset[1] - u[1] * offset[0]
    return abs(float(across)) > radius + SLIP or float(np.dot(offset, u)) > SLIP


def _pusher_frame(u: np.ndarray) -> np.ndarray:
    """Rotation whose x axis is the push direction and z axis points up."""
    x = np.array([u[0], u[1], 0.0])
    z = np.array([0.0, 0.0, 1.0])
    return np.column_stack([x, np.cross(z, x), z])


class ArmPushExpert:
    """Noisy scripted expert for the robot push twin: ``act(env) -> torques``."""

    def __init__(self, noise_std: float = 0.1, seed: int | None = None) -> None:
        self.noise_std = noise_std
        self.rng = np.random.default_rng(seed)
        self.plan = PushPlan()

    def reset(self) -> None:
        self.plan = PushPlan()

    def act(self, env: PushEnv) -> np.ndarray:
        position, u = self.plan.waypoint(env)
        torque = self._task_space_torque(env, position, _pusher_frame(u))
        torque += self.rng.normal(0.0, self.noise_std, torque.shape)
        return np.clip(torque, -TORQUE_LIMIT, TORQUE_LIMIT).astype(np.float32)

    @staticmethod
    def _task_space_torque(env: PushEnv, position: np.ndarray,
                           rotation: np.ndarray) -> np.ndarray:
        """Jacobian-transpose control: a spring pulling the pusher site to ``position``
        (force capped at MAX_FORCE), a weaker one turning it to ``rotation``, and joint
        damping. The arm is weightless (Gym's Pusher), so nothing else is needed."""
        model, data, site = env.model, env.data, env.pusher_site
        jacp, jacr = np.zeros((3, model.nv)), np.zeros((3, model.nv))
        mujoco.mj_jacSite(model, data, jacp, jacr, site)
        force = KP_POSITION * (position - data.site_xpos[site])
        force *= min(1.0, MAX_FORCE / max(np.linalg.norm(force), 1e-9))
        current = data.site_xmat[site].reshape(3, 3)
        moment = (KP_TILT * np.cross(current[:, 2], rotation[:, 2])
                  + KP_YAW * np.cross(current[:, 0], rotation[:, 0]))
        dofs = env.arm_dofs
        return jacp[:, dofs].T @ force + jacr[:, dofs].T @ moment - KD * data.qvel[dofs]


class HandPushExpert:
    """Scripted human demonstrator: ``act(env) -> hand velocity``. ``speed`` scales how
    fast this person moves, so human demos differ from robot demos in timing."""

    def __init__(self, noise_std: float = 0.03, seed: int | None = None,
                 speed: float = 1.0) -> None:
        self.noise_std = noise_std
        self.speed = speed
        self.rng = np.random.default_rng(seed)
        self.plan = PushPlan(HAND_PUSH_HEIGHT)

    def reset(self) -> None:
        self.plan = PushPlan(HAND_PUSH_HEIGHT)

    def act(self, env: PushEnv) -> np.ndarray:
        position, u = self.plan.waypoint(env)
        if self.plan.phase == "hold":
            return np.zeros(4, np.float32)
        velocity = (position - env.hand_target) / env.dt * 0.5 * self.speed
        velocity += self.rng.normal(0.0, self.noise_std, 3)
        limit = HAND_SPEED_LIMIT * self.speed
        heading = np.arctan2(u[1], u[0])
        turn = (heading - env.hand_yaw + np.pi) % (2 * np.pi) - np.pi
        return np.append(np.clip(velocity, -limit, limit),
                         np.clip(turn / env.dt * 0.5, -HAND_TURN_LIMIT, HAND_TURN_LIMIT)
                         ).astype(np.float32)
