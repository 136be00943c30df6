"""Predictive models for FLO's planner: what the world will look like after actions.

The thesis plans object arrangement with a video prediction model learned from
self-supervised data and scores its predicted frames with the goal classifier (L4781-L4790).
Here the predictive model is anything that satisfies :class:`PredictiveModel`; the one
built is :class:`TwinModel`, the MuJoCo arrangement twin itself, which rolls every
candidate out from a copy of the current physics state in one ``mujoco.rollout`` batch and
renders the final frame. A learned model can later take its place unchanged.

Actions are pusher displacements (m, world x and y) held for :data:`SUBSTEPS` physics steps,
over which the pusher slides linearly to its new target. MuJoCo's physics state does not
hold mocap positions, so the twin's state is the physics state with the pusher beside it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import mujoco
import numpy as np
from mujoco import rollout

from sim.arrange import REGION, ArrangeTwin
from sim.arrange_pusher import PUSHER, pusher_height
from sim.arrange_scene import body_names

SUBSTEPS = 10                    # physics steps (0.01 s) per action: 0.1 s
STATE = mujoco.mjtState.mjSTATE_FULLPHYSICS
CONTROL = mujoco.mjtState.mjSTATE_MOCAP_POS


@dataclass(frozen=True)
class Prediction:
    """The predicted end of each candidate: object centres [N, objects, 2] (world x, y;
    task objects first), pusher position [N, 2] and, when asked for, frames uint8
    [N, H, W, 3]."""

    positions: np.ndarray
    pusher: np.ndarray
    frames: np.ndarray | None


@dataclass(frozen=True)
class TwinState:
    """The twin's state: MuJoCo's full physics state and the pusher's table point."""

    physics: np.ndarray
    pusher: np.ndarray


class PredictiveModel(Protocol):
    """Predicts where a batch of action sequences [N, T, 2] leads from ``state`` (whatever
    the model keeps as its state: the twin's :class:`TwinState`, a learned model's frames)."""

    def predict(self, state: object, actions: np.ndarray, frames: bool) -> Prediction:
        ...


class TwinModel:
    """The pushing arrangement twin as a predictive model (module docstring)."""

    def __init__(self, twin: ArrangeTwin) -> None:
        self.twin = twin
        self.model = twin.model
        self._scratch = mujoco.MjData(self.model)
        self._mocap = self.model.body(PUSHER).mocapid[0]
        self._object_qpos = np.array([[self.model.joint(f"{b}_{axis}").qposadr[0]
                                       for axis in ("x", "y")] for b in body_names()])
        self._origin = np.array([self.model.body(b).pos[:2] for b in body_names()])

    def state(self, data: mujoco.MjData | None = None) -> TwinState:
        """The state of ``data`` (default: the twin's)."""
        data = self.twin.data if data is None else data
        physics = np.empty(mujoco.mj_stateSize(self.model, STATE))
        mujoco.mj_getState(self.model, data, physics, STATE)
        return TwinState(physics, data.mocap_pos[self._mocap, :2].copy())

    def controls(self, state: TwinState, actions: np.ndarray) -> np.ndarray:
        """Mocap positions [N, T * SUBSTEPS, 3] that carry out ``actions`` [N, T, 2]
        from ``state``; targets stay over the visible table region."""
        start = state.pusher
        (x0, x1), (y0, y1) = REGION
        targets = np.clip(start + np.cumsum(actions, axis=1), (x0, y0), (x1, y1))
        before = np.concatenate([np.broadcast_to(start, (len(actions), 1, 2)),
                                 targets[:, :-1]], axis=1)
        share = np.arange(1, SUBSTEPS + 1) / SUBSTEPS
        path = before[:, :, None] + (targets - before)[:, :, None] * share[:, None]
        path = path.reshape(len(actions), -1, 2)
        return np.concatenate([path, np.full(path.shape[:2] + (1,), pusher_height())], axis=2)

    def predict(self, state: TwinState, actions: np.ndarray, frames: bool) -> Prediction:
        """Roll all candidates out in one batch from ``state``; render finals if asked."""
        check_actions(actions)
        control = self.controls(state, actions)
        physics, _ = rollout.rollout(self.model, self._scratch, state.physics[None], control,
                                     control_spec=CONTROL)
        finals = [TwinState(p, c[:2]) for p, c in zip(physics[:, -1], control[:, -1])]
        rendered = np.stack([self.render(s) for s in finals]) if frames else None
        return Prediction(self.positions(physics[:, -1]), control[:, -1, :2], rendered)

    def step(self, action: np.ndarray, data: mujoco.MjData | None = None) -> None:
        """Carry out one action [2] on ``data`` (default: the twin's), step by step."""
        data = self.twin.data if data is None else data
        for target in self.controls(self.state(data), action[None, None])[0]:
            data.mocap_pos[self._mocap] = target
            mujoco.mj_step(self.model, data)

    def render(self, state: TwinState) -> np.ndarray:
        """The camera frame of ``state``, uint8 [H, W, 3]."""
        mujoco.mj_setState(self.model, self._scratch, state.physics, STATE)
        self._scratch.mocap_pos[self._mocap] = (*state.pusher, pusher_height())
        mujoco.mj_forward(self.model, self._scratch)
        saved, self.twin.data = self.twin.data, self._scratch
        try:
            return self.twin.render()
        finally:
            self.twin.data = saved

    def positions(self, states: np.ndarray) -> np.ndarray:
        """Object centres [N, objects, 2] in ``states`` [N, nstate]."""
        return self._origin + states[:, 1 + self._object_qpos]


def check_actions(actions: np.ndarray) -> None:
    """Refuse anything but finite action sequences [N >= 1, T >= 1, 2]."""
    if actions.ndim != 3 or actions.shape[-1] != 2 or 0 in actions.shape:
        raise ValueError(f"actions must be pusher displacements [N, T, 2], got "
                         f"{list(actions.shape)}")
    if not np.all(np.isfinite(actions)):
        raise ValueError("actions must be finite")
