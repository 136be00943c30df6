"""The ``flo-cascade`` suite: two sub-goals in sequence (thesis L4712-L4728, L4824-L4827).

For each held-out pair, two goals are inferred, each from its own five positives: the
relation of the pair's task, then a second relation a few pushes from it
(:func:`second_relation`). The planner works on the first sub-goal until its classifier
fires (:class:`~goal_classifier.cascade.Cascade`: two consecutive frames above the
threshold), then on the second, within one budget of steps. Success: the first relation
truly held when the cascade moved on, and the second truly holds at the end. The oracle
(true positions for both the cost and the switch) shows how many cascades the planner can
finish at all.

Only the switches between sub-goals wait for a classifier; the last sub-goal stays the
planner's objective for the rest of the budget once it fires (``plan_past_last``), as
flo-plan plans all its steps: its classifier firing moves nothing on, and stopping there
ends an episode on whatever frame first fooled it. Success still asks every classifier to
have fired. With ``plan_past_last=False`` the episode ends when the last classifier fires
(the suite before this rule).
"""
from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass

import numpy as np
from tqdm import tqdm

from goal_classifier.cascade import Cascade
from goal_classifier.goal import Goal, MetaTrainedFLO, infer_goal
from goal_classifier.plan_costs import Cost, FLOLogitCost, OracleCost
from goal_classifier.plan_eval import FLOPlanConfig, Trial, goal_images, plan_task, wilson_interval
from goal_classifier.planner import plan
from sim.arrange import ArrangeTask, pair_of
from sim.relations import DIRECTIONS, holds

SUITE = "flo-cascade"
BEARINGS = {bearing: name for name, bearing in DIRECTIONS.items()}


@dataclass
class CascadeConfig(FLOPlanConfig):
    """The flo-plan suite's settings; ``steps`` is the budget for both sub-goals."""

    steps: int = 24
    plan_past_last: bool = True    # keep planning on the last sub-goal after it fires


def second_relation(first: str, rng: np.random.Generator) -> str:
    """A second sub-goal a few pushes from ``first``: a neighbouring direction (45 degrees
    on) after a direction; after "touching" or "apart", the other one."""
    if first in DIRECTIONS:
        turn = 45.0 * rng.choice((-1.0, 1.0))
        return BEARINGS[(DIRECTIONS[first] + turn) % 360.0]
    return "apart" if first == "touching" else "touching"


def run_cascade(trial: Trial, tasks: list[ArrangeTask], goals: list[Goal], costs: list[Cost],
                flo_switch: bool, cfg: CascadeConfig, rng: np.random.Generator) -> dict:
    """Plan for each sub-goal in turn from the trial's start. The switch is the goals'
    cascade (``flo_switch``) or the true relation (the oracle)."""
    trial.restart()
    cascade = Cascade([lambda f, g=g: float(g.score(f[None])[0]) for g in goals],
                      cfg.threshold)
    achieved = []

    def observe() -> None:
        phase = cascade.index
        positions = trial.model.positions(trial.model.state().physics[None])[0]
        truth = holds(tasks[phase].relation, pair_of(tasks[phase], positions))
        if flo_switch:
            cascade.step(trial.model.render(trial.model.state()))
        elif truth:
            cascade.index += 1
        if cascade.index > phase:
            achieved.append(truth)

    observe()
    steps = 0
    while steps < cfg.steps and not (cascade.done and not cfg.plan_past_last):
        cost = costs[min(cascade.index, len(costs) - 1)]
        sequence, _ = plan(trial.model, trial.model.state(), cost, cfg.cem, rng)
        trial.model.step(sequence[0])
        steps += 1
        if not cascade.done:
            observe()
    positions = trial.model.positions(trial.model.state().physics[None])[0]
    final = holds(tasks[-1].relation, pair_of(tasks[-1], positions))
    # every classifier fired, each switch to a next sub-goal on its true relation, and
    # the last relation truly holds at the end
    fired_last = len(achieved) == len(tasks)
    success = fired_last and all(achieved[:-1]) and final
    return {"success": bool(success), "steps": steps, "switched": len(achieved) > 0,
            "first_true": bool(achieved and achieved[0]), "last_fired": fired_last,
            "final_true": final}


def evaluate_flo_cascade(model: MetaTrainedFLO, cfg: CascadeConfig) -> dict:
    """The suite's JSON result: FLO's ``success_rate`` (and Wilson interval) at the top,
    FLO and oracle under ``methods``."""
    results: dict[str, list[dict]] = {"flo": [], "oracle": []}
    pairs = []
    for index in tqdm(range(cfg.tasks), desc=SUITE, unit="task"):
        task, rng = plan_task(cfg, index)
        tasks = [task, dataclasses.replace(task, relation=second_relation(task.relation, rng))]
        size = tuple(model.cfg.image_size)
        goals = [infer_goal(model, goal_images(t, model.cfg.k, rng, size)) for t in tasks]
        trial = Trial(task, goals[0], rng)
        try:
            for method, costs in (("flo", [FLOLogitCost(g) for g in goals]),
                                  ("oracle", [OracleCost(t) for t in tasks])):
                episode_rng = np.random.default_rng([cfg.seed, index, 1])
                results[method].append(run_cascade(trial, tasks, goals, costs,
                                                   method == "flo", cfg, episode_rng))
        finally:
            trial.close()
        pairs.append(f"{tasks[0].relation}->{tasks[1].relation}")
    methods = {}
    for method, rows in results.items():
        wins = sum(r["success"] for r in rows)
        methods[method] = {"success_rate": wins / len(rows), "successes": wins,
                           "trials": len(rows), "ci95": list(wilson_interval(wins, len(rows))),
                           "first_achieved": sum(r["first_true"] for r in rows),
                           "last_fired": sum(r["last_fired"] for r in rows),
                           "final_true": sum(r["final_true"] for r in rows),
                           "mean_steps": float(np.mean([r["steps"] for r in rows]))}
    return {"suite": SUITE, "checkpoint": str(model.path), "tasks": cfg.tasks,
            "success_rate": methods["flo"]["success_rate"], "ci95": methods["flo"]["ci95"],
            "methods": methods, "cascades": pairs,
            "config": {**asdict(dataclasses.replace(cfg, cem=None)), "cem": asdict(cfg.cem)}}
