"""The manipulation task families that ``oneshot datagen`` makes demos of.

A family says how to draw a task (a JSON dict, fixed across the task's demos), which
twin and scripted expert make a demo of each demonstrator, and how a task becomes a
twin's reset options. ``push`` is the PR2-like push twin, ``place`` and ``sawyer-push`` the Sawyer twins, each with robot and human
demonstrators.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable, Protocol

import gymnasium as gym
import numpy as np

from sim.appearance import table_textures
from sim.colours import task_colour
from sim.objects import catalogue
from sim.sawyer_scene_file import SawyerScene, load_sawyer_scene
from sim.scene import SceneError

ROBOT_NOISE = 0.1                  # push: torque noise of the arm's demos (N m)
HUMAN_NOISE = 0.03                 # push: velocity noise of the hand's demos (m/s)
HUMAN_SPEEDS = (0.7, 1.3)          # a person's pace relative to the plan's


class Expert(Protocol):
    def act(self, env: gym.Env) -> np.ndarray: ...


@dataclass(frozen=True)
class Family:
    """How to make demos of one task family (see the module docstring)."""

    name: str
    kinds: tuple[str, ...]
    draw_task: Callable[[str, np.random.Generator, dict[str, Any]], dict[str, Any]]
    make_env: Callable[[str, str, tuple[int, int], str | None], gym.Env]
    reset_options: Callable[[dict[str, Any]], dict[str, Any]]
    make_expert: Callable[[str, int, np.random.Generator], Expert]
    camera: str
    scene_task: Callable[[str], dict[str, Any]]    # the task fields a scene file pins


# -- push (PR2-like arm / human hand) -------------------------------------------------

def _push_task(split: str, rng: np.random.Generator, pinned: dict[str, Any]) -> dict[str, Any]:
    from sim.push import sample_task

    return sample_task(split, rng).describe()


def _push_env(split: str, kind: str, image_size: tuple[int, int], scene: str | None) -> gym.Env:
    from sim.push import PushEnv
    from sim.push_scene_file import load_push_scene

    staged = replace(load_push_scene(scene), demonstrator=kind) if scene else None
    return PushEnv(split=split, demonstrator=kind, image_size=image_size, scene=staged)


def _push_scene_task(scene: str) -> dict[str, Any]:
    from sim.push import PushTask
    from sim.push_scene_file import load_push_scene

    staged = load_push_scene(scene)
    return PushTask(staged.target.name, staged.distractor.name, staged.table).describe()


def _push_options(task: dict[str, Any]) -> dict[str, Any]:
    from sim.push import PushTask

    return {"task": PushTask(**task)}


def _push_expert(kind: str, seed: int, rng: np.random.Generator) -> Expert:
    from sim.push_expert import ArmPushExpert, HandPushExpert

    if kind == "robot":
        return ArmPushExpert(ROBOT_NOISE, seed)
    return HandPushExpert(HUMAN_NOISE, seed, speed=float(rng.uniform(*HUMAN_SPEEDS)))


# -- Sawyer: place and push -----------------------------------------------------------

def _object_name(split: str, rng: np.random.Generator, other: str | None = None) -> str:
    names = [obj.name for obj in catalogue(split) if obj.name != other]
    return names[int(rng.integers(len(names)))]


def _place_task(split: str, rng: np.random.Generator, pinned: dict[str, Any]) -> dict[str, Any]:
    return {"colour": list(task_colour(split, rng)), "object": _object_name(split, rng),
            "table": int(rng.integers(len(table_textures(split))))}


def _sawyer_push_task(split: str, rng: np.random.Generator,
                      pinned: dict[str, Any]) -> dict[str, Any]:
    """Target and distractor differ, also when a scene pins one of them."""
    target = _object_name(split, rng, other=pinned.get("distractor"))
    target = pinned.get("object", target)
    return {"object": target, "distractor": _object_name(split, rng, other=target),
            "table": int(rng.integers(len(table_textures(split))))}


def scene_split(family: str, scene: str) -> str:
    """The split a scene file of ``family`` draws from."""
    if family == "push":
        from sim.push_scene_file import load_push_scene

        return load_push_scene(scene).split
    return sawyer_scene(family, scene).split


def sawyer_scene(family: str, scene: str) -> SawyerScene:
    """The Sawyer scene file ``scene``, which must be of ``family``."""
    staged = load_sawyer_scene(scene)
    if staged.family != family:
        raise SceneError(f"{scene}: a {staged.family} scene, not a {family} one")
    return staged


def _sawyer_env(family: str) -> Callable[[str, str, tuple[int, int], str | None], gym.Env]:
    def make(split: str, kind: str, image_size: tuple[int, int], scene: str | None) -> gym.Env:
        from sim.sawyer import SawyerPlaceEnv, SawyerPushEnv

        env_class = SawyerPlaceEnv if family == "place" else SawyerPushEnv
        kwargs = {"split": split, "image_size": image_size, "demonstrator": kind}
        if scene:
            kwargs |= sawyer_scene(family, scene).env_kwargs()
        return env_class(**kwargs)
    return make


def _sawyer_scene_task(family: str) -> Callable[[str], dict[str, Any]]:
    def pinned(scene: str) -> dict[str, Any]:
        staged = sawyer_scene(family, scene)
        fields = {"object": staged.object, "table": staged.table,
                  "colour": list(staged.colour) if staged.colour else None,
                  "distractor": staged.distractor}
        return {key: value for key, value in fields.items() if value is not None}
    return pinned


def _sawyer_expert(family: str) -> Callable[[str, int, np.random.Generator], Expert]:
    def make(kind: str, seed: int, rng: np.random.Generator) -> Expert:
        from sim.sawyer_expert import (
            PlaceExpert,
            PushExpert,
            SawyerHandPlaceExpert,
            SawyerHandPushExpert,
        )

        if kind == "robot":
            return (PlaceExpert if family == "place" else PushExpert)(seed=seed)
        hand = SawyerHandPlaceExpert if family == "place" else SawyerHandPushExpert
        return hand(seed=seed, speed=float(rng.uniform(*HUMAN_SPEEDS)))
    return make


FAMILIES = {
    "push": Family("push", ("robot", "human"), _push_task, _push_env, _push_options,
                   _push_expert, camera="view", scene_task=_push_scene_task),
    "place": Family("place", ("robot", "human"), _place_task, _sawyer_env("place"), dict,
                    _sawyer_expert("place"), camera="front",
                    scene_task=_sawyer_scene_task("place")),
    "sawyer-push": Family("sawyer-push", ("robot", "human"), _sawyer_push_task, _sawyer_env("sawyer-push"),
                          dict, _sawyer_expert("sawyer-push"), camera="front",
                          scene_task=_sawyer_scene_task("sawyer-push")),
}
