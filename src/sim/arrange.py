"""The arrangement twin: images of two objects in a relative arrangement, for FLO.

Thesis L4800-L4818: a task is one relative arrangement of one pair of objects; positives
show the pair in that arrangement, negatives the same pair in other arrangements; the arm
stands at a random pose in every image ("a good objective should ignore the position of
the arm") and about a third of the images hold distractor objects. The planner's pusher
rod stands at a random place in every image too, half the time right beside an object
(where planning leaves it), so that the classifier learns to ignore it as it does the arm.
Meta-training tasks use objects and table textures of the ``train`` catalogues, held-out
tasks those of ``heldout`` (never seen in meta-training, as in the thesis's evaluation, L4827-L4829).

:class:`ArrangeTwin` poses a compiled scene and renders it; :func:`sample_example` draws
one labelled configuration of a task. Relations and their margins are in
:mod:`sim.relations`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import mujoco
import numpy as np

from sim.appearance import table_textures
from sim.arrange_pusher import build_pushing_model
from sim.arrange_scene import (
    CAMERA,
    CLUTTER_SLOTS,
    PUSHER,
    PUSHER_RADIUS,
    ArrangeLook,
    body_names,
    build_arrange_model,
    image_axes,
    pusher_height,
)
from sim.objects import catalogue, object_by_name
from sim.push_scene import JOINT_NAMES
from sim.relations import RELATIONS, Pair, clearly_not, holds, sample_near_miss, sample_offset

REGION = ((0.22, 0.68), (-0.38, 0.08))    # x, y (m) of the table area the camera sees whole
ORIGIN = np.array([0.45, 0.0])       # where an object body sits at zero joint offsets
PARKED = np.array([3.0, 3.0])        # unused distractor slots wait here, out of view
# The pair's midpoint varies by up to this much (m) about the region's centre. Spread
# over the whole region, 5 positives of a directional relation showed the pair in places
# too different for the flattening classifier to pick out the relation: meta-training
# collapsed to 0.5 balanced accuracy (2500 iterations, all ten relations).
PAIR_JITTER = 0.06
ARM_PAN = (-0.2, 1.6)                # rad: shoulder pans that bring the arm over the table
DISTRACTOR_SHARE = 1 / 3             # of images with distractors (L4811)
CLUTTER_GAP = 0.02                   # m between a distractor and any other object
MAX_DRAWS = 500                      # draws of one configuration before giving up
MIN_VISIBLE = 0.6                    # of a task object's pixels the arm may not hide
ARM_GROUP = 3                        # geom group of the arm, hidden to count unoccluded pixels
PUSHER_BESIDE = 0.5                  # share of images with the rod within PUSHER_NEAR of an object
PUSHER_NEAR = 0.015                  # m between the rod and the object it stands beside
PUSHER_CLEAR = 0.003                 # m the rod keeps from every object


@dataclass(frozen=True)
class ArrangeTask:
    """One arrangement task: ``relation`` of ``first`` relative to ``second``, on one
    table texture of the split, with two objects of the split as the distractors."""

    first: str
    second: str
    relation: str
    table: int
    clutter: tuple[str, str]
    split: str

    def look(self) -> ArrangeLook:
        """The scene this task's images are rendered in."""
        return ArrangeLook(first=object_by_name(self.first), second=object_by_name(self.second),
                           clutter=tuple(object_by_name(n) for n in self.clutter),
                           table=table_textures(self.split)[self.table])

    def describe(self) -> dict:
        return {"first": self.first, "second": self.second, "relation": self.relation,
                "table": self.table, "clutter": list(self.clutter), "split": self.split}


def sample_task(split: str, rng: np.random.Generator) -> ArrangeTask:
    """A task of ``split``: a relation, four different objects of the split's catalogue
    (two to arrange, two distractors) and a table texture."""
    objects = catalogue(split)
    picks = rng.choice(len(objects), size=2 + CLUTTER_SLOTS, replace=False)
    names = [objects[i].name for i in picks]
    return ArrangeTask(first=names[0], second=names[1],
                       relation=RELATIONS[int(rng.integers(len(RELATIONS)))],
                       table=int(rng.integers(len(table_textures(split)))),
                       clutter=(names[2], names[3]), split=split)


@dataclass(frozen=True)
class Configuration:
    """Where everything stands in one image: object centres (world x, y; first, second,
    then distractors), their yaws, the arm's 7 joint angles and the pusher rod's table
    point (world x, y)."""

    positions: np.ndarray          # [2 + n_clutter, 2]
    yaws: np.ndarray               # [2 + n_clutter]
    arm: np.ndarray                # [7]
    pusher: np.ndarray             # [2]


def pair_of(task: ArrangeTask, positions: np.ndarray) -> Pair:
    """The task objects' arrangement, in the image frame, from their world positions."""
    right, away = image_axes()
    d = positions[0] - positions[1]
    return Pair(offset=(float(d @ right), float(d @ away)),
                radii=(object_by_name(task.first).footprint_radius,
                       object_by_name(task.second).footprint_radius))


def label(task: ArrangeTask, positions: np.ndarray) -> int | None:
    """1 if the task's relation holds, 0 if it clearly does not, None in between."""
    pair = pair_of(task, positions)
    if holds(task.relation, pair):
        return 1
    return 0 if clearly_not(task.relation, pair) else None


def inside_region(point: np.ndarray, radius: float) -> bool:
    """Whether a footprint of ``radius`` at ``point`` lies wholly in the camera's REGION."""
    (x0, x1), (y0, y1) = REGION
    return x0 + radius <= point[0] <= x1 - radius and y0 + radius <= point[1] <= y1 - radius


class ArrangeTwin:
    """A compiled arrangement scene for one task that poses and renders configurations."""

    def __init__(self, task: ArrangeTask, image_size: tuple[int, int] = (64, 64),
                 pusher: bool = False) -> None:
        """``pusher`` adds the planner's end effector (:mod:`sim.arrange_pusher`)."""
        self.task = task
        self.model = (build_pushing_model if pusher else build_arrange_model)(task.look())
        self.data = mujoco.MjData(self.model)
        width, height = image_size
        self.renderer = mujoco.Renderer(self.model, height=height, width=width)
        self.radii = [obj.footprint_radius for obj in
                      (object_by_name(task.first), object_by_name(task.second),
                       *(object_by_name(n) for n in task.clutter))]
        self._arm_qpos = np.array([self.model.joint(n).qposadr[0] for n in JOINT_NAMES])
        self._arm_range = self.model.jnt_range[[self.model.joint(n).id for n in JOINT_NAMES]]
        self._arm_range[0] = ARM_PAN
        arm_root = self.model.body("r_shoulder_pan_link").id
        arm = self.model.body_rootid[self.model.geom_bodyid] == arm_root
        self._arm_geoms = set(np.flatnonzero(arm).tolist())
        self.model.geom_group[arm] = ARM_GROUP
        self.model.geom_group[self.model.geom(PUSHER).id] = ARM_GROUP    # it may hide too
        self._pusher = self.model.body(PUSHER).mocapid[0]
        self._task_geoms = [np.flatnonzero(self.model.geom_bodyid == self.model.body(b).id)
                            for b in body_names()[:2]]
        self._with_arm, self._without_arm = mujoco.MjvOption(), mujoco.MjvOption()
        self._with_arm.geomgroup[ARM_GROUP] = 1
        self._without_arm.geomgroup[ARM_GROUP] = 0

    def close(self) -> None:
        self.renderer.close()

    def pose(self, config: Configuration) -> None:
        """Put objects and arm where ``config`` says; unused distractor slots are parked."""
        for index, body in enumerate(body_names()):
            xy = config.positions[index] if index < len(config.positions) else PARKED
            yaw = config.yaws[index] if index < len(config.yaws) else 0.0
            for axis, value in zip(("x", "y", "yaw"), (*(xy - ORIGIN), yaw)):
                self.data.qpos[self.model.joint(f"{body}_{axis}").qposadr[0]] = value
        self.data.qpos[self._arm_qpos] = config.arm
        self.data.mocap_pos[self._pusher] = (*config.pusher, pusher_height())
        mujoco.mj_forward(self.model, self.data)

    def arm_collides(self) -> bool:
        """Whether the posed arm touches the table or an object."""
        contacts = self.data.contact[: self.data.ncon]
        return any(int(g) in self._arm_geoms for g in (*contacts.geom1, *contacts.geom2))

    def render(self) -> np.ndarray:
        """The camera image of the current pose, uint8 [H, W, 3]."""
        self.renderer.update_scene(self.data, camera=CAMERA, scene_option=self._with_arm)
        return self.renderer.render().copy()

    def task_pixels(self, arm: bool) -> list[int]:
        """How many pixels of each task object the camera sees, with or without the arm
        (and the pusher rod)."""
        self.renderer.enable_segmentation_rendering()
        option = self._with_arm if arm else self._without_arm
        self.renderer.update_scene(self.data, camera=CAMERA, scene_option=option)
        geoms = self.renderer.render()[..., 0]
        self.renderer.disable_segmentation_rendering()
        return [int(np.isin(geoms, ids).sum()) for ids in self._task_geoms]

    def arm_hides_task(self) -> bool:
        """Whether the arm hides more than ``1 - MIN_VISIBLE`` of either task object: the
        label must stay readable from the image."""
        shown, whole = self.task_pixels(arm=True), self.task_pixels(arm=False)
        return any(s < MIN_VISIBLE * w for s, w in zip(shown, whole))

    def sample_example(self, positive: bool, rng: np.random.Generator,
                       near_miss: bool = False) -> Configuration:
        """A configuration whose task label is 1 (``positive``) or clearly 0, posed.

        ``near_miss`` (negatives only) draws the task objects as a near miss of the task's
        own relation (:func:`sim.relations.sample_near_miss`: just past the margin of
        :func:`sim.relations.clearly_not`) instead of in a random other relation: a hard
        negative, such as a pair in the neighbouring direction."""
        if positive and near_miss:
            raise ValueError("near_miss draws negatives only")
        for _ in range(MAX_DRAWS):
            positions = self._task_positions(positive, rng, near_miss)
            if positions is None:
                continue
            with_clutter = rng.random() < DISTRACTOR_SHARE
            positions = self._add_clutter(positions, int(rng.integers(1, CLUTTER_SLOTS + 1))
                                          if with_clutter else 0, rng)
            pusher = self._pusher_point(positions, rng)
            if pusher is None:
                continue
            config = Configuration(positions, rng.uniform(-math.pi, math.pi, len(positions)),
                                   rng.uniform(*self._arm_range.T), pusher)
            self.pose(config)
            if not self.arm_collides() and not self.arm_hides_task():
                return config
        raise RuntimeError(f"no {'positive' if positive else 'negative'} configuration of "
                           f"{self.task.describe()} in {MAX_DRAWS} draws")

    def _task_positions(self, positive: bool, rng: np.random.Generator,
                        near_miss: bool = False) -> np.ndarray | None:
        """World positions of the two task objects in the task's relation (positive), in
        another relation that clearly is not it, or (``near_miss``) in a near miss of the
        task's relation; None when a draw misses."""
        relation = self.task.relation
        radii = (self.radii[0], self.radii[1])
        if near_miss:
            u, v = sample_near_miss(relation, radii, rng)
        else:
            if not positive:
                others = [r for r in RELATIONS if r != relation]
                relation = others[int(rng.integers(len(others)))]
            u, v = sample_offset(relation, radii, rng)
        right, away = image_axes()
        offset = u * np.array(right) + v * np.array(away)
        middle = np.mean(REGION, axis=1) + rng.uniform(-PAIR_JITTER, PAIR_JITTER, 2)
        positions = np.stack([middle + offset / 2, middle - offset / 2])
        if not all(inside_region(p, r) for p, r in zip(positions, self.radii)):
            return None
        wanted = 1 if positive else 0
        return positions if label(self.task, positions) == wanted else None

    def _pusher_point(self, positions: np.ndarray,
                      rng: np.random.Generator) -> np.ndarray | None:
        """A table point for the rod clear of every object: beside a random one with
        probability ``PUSHER_BESIDE``, else anywhere in the region; None when a draw misses."""
        radii = np.array(self.radii[:len(positions)])
        if rng.random() < PUSHER_BESIDE:
            index = int(rng.integers(len(positions)))
            angle = rng.uniform(0, 2 * math.pi)
            reach = radii[index] + PUSHER_RADIUS + rng.uniform(PUSHER_CLEAR, PUSHER_NEAR)
            point = positions[index] + reach * np.array([math.cos(angle), math.sin(angle)])
        else:
            (x0, x1), (y0, y1) = REGION
            point = rng.uniform((x0, y0), (x1, y1))
        gaps = np.linalg.norm(positions - point, axis=1) - radii - PUSHER_RADIUS
        clear = gaps.min() >= PUSHER_CLEAR and inside_region(point, PUSHER_RADIUS)
        return point if clear else None

    def _add_clutter(self, positions: np.ndarray, count: int,
                     rng: np.random.Generator) -> np.ndarray:
        """``positions`` with up to ``count`` distractors placed clear of every object."""
        (x0, x1), (y0, y1) = REGION
        placed = list(positions)
        for slot in range(count):
            radius = self.radii[2 + slot]
            for _ in range(MAX_DRAWS):
                point = rng.uniform((x0, y0), (x1, y1))
                clear = all(np.linalg.norm(point - p) >= radius + r + CLUTTER_GAP
                            for p, r in zip(placed, self.radii))
                if clear and inside_region(point, radius):
                    placed.append(point)
                    break
        return np.stack(placed)
