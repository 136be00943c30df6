"""Hard negatives for the arrangement data: near misses of a task's own relation (just past
its margin, e.g. the neighbouring direction) replace the asked-for share of the negatives,
are still clearly not the relation, and are recorded in the dataset's index."""

import json

import numpy as np
import pytest

from sim.arrange import ArrangeTask, ArrangeTwin, pair_of
from sim.arrange_data import ArrangeDatagenConfig, ArrangeDataset, generate, main
from sim.objects import catalogue
from sim.relations import DIRECTIONS, NEGATIVE_ANGLE, angle_off, clearly_not


def _task(relation: str) -> ArrangeTask:
    names = [obj.name for obj in catalogue("train")[:4]]
    return ArrangeTask(first=names[0], second=names[1], relation=relation, table=0,
                       clutter=(names[2], names[3]), split="train")


def _near(relation: str, pair) -> bool:
    """Whether ``pair`` lies where :func:`sample_near_miss` puts a near miss of ``relation``."""
    if relation == "touching":
        return pair.gap <= 0.07 + 1e-6
    if relation == "apart":
        return pair.gap >= 0.08 - 1e-6
    return angle_off(relation, pair) <= 55.0 + 1e-6


def test_near_miss_negatives_sit_just_past_the_sector_edge_unlike_random_ones():
    task = _task("left_of")
    twin = ArrangeTwin(task)
    try:
        angles = {}
        for near_miss in (False, True):
            rng = np.random.default_rng(7)
            angles[near_miss] = np.array([
                angle_off(task.relation, pair_of(task, twin.sample_example(False, rng,
                                                                           near_miss).positions))
                for _ in range(40)])
    finally:
        twin.close()
    assert (angles[True] >= NEGATIVE_ANGLE).all() and (angles[True] <= 55.0 + 1e-6).all()
    # random other relations mostly stand far from the task's sector
    assert (angles[False] > 55.0).mean() > 0.5
    assert np.median(angles[True]) < np.median(angles[False]) - 30.0


@pytest.mark.parametrize("relation", ["touching", "apart", "front_right"])
def test_near_misses_of_every_kind_of_relation_are_clearly_not_it(relation):
    task = _task(relation)
    twin = ArrangeTwin(task)
    rng = np.random.default_rng(1)
    try:
        for _ in range(10):
            pair = pair_of(task, twin.sample_example(False, rng, near_miss=True).positions)
            assert clearly_not(relation, pair) and _near(relation, pair)
        with pytest.raises(ValueError, match="negatives only"):
            twin.sample_example(True, rng, near_miss=True)
    finally:
        twin.close()


@pytest.fixture(scope="module")
def hard(tmp_path_factory):
    root = tmp_path_factory.mktemp("arrange-hard") / "train"
    main(["--out", str(root), "--tasks", "4", "--split", "train", "--seed", "11",
          "--positives", "3", "--negatives", "8", "--near-miss-share", "0.5"])
    return ArrangeDataset(root)


def test_the_share_is_recorded_and_the_last_negatives_are_near_misses(hard):
    index = json.loads((hard.root / "dataset.json").read_text())
    assert index["near_miss_share"] == 0.5
    for i in range(len(hard)):
        data = hard.task(i)
        assert data.task["near_misses"] == 4 and data.task["negatives"] == 8
        task = ArrangeTask(**{**{k: data.task[k] for k in
                                 ("first", "second", "relation", "table", "split")},
                              "clutter": tuple(data.task["clutter"])})
        assert list(data.labels) == [1] * 3 + [0] * 8
        for positions in data.positions[-4:]:
            pair = pair_of(task, positions[:2].astype(float))
            assert clearly_not(task.relation, pair) and _near(task.relation, pair)


def test_a_full_share_makes_every_negative_of_a_direction_task_a_near_miss(tmp_path):
    root = generate(tmp_path / "all", ArrangeDatagenConfig(tasks=6, seed=2, positives=1,
                                                            negatives=5, near_miss_share=1.0),
                    progress=False)
    data = ArrangeDataset(root)
    directional = 0
    for i in range(len(data)):
        images = data.task(i)
        relation = images.task["relation"]
        if relation not in DIRECTIONS:
            continue
        directional += 1
        task = ArrangeTask(**{**{k: images.task[k] for k in
                                 ("first", "second", "relation", "table", "split")},
                              "clutter": tuple(images.task["clutter"])})
        offs = [angle_off(relation, pair_of(task, p[:2].astype(float)))
                for p in images.positions[1:]]
        assert max(offs) <= 55.0 + 1e-6
    assert directional >= 1


def test_the_default_keeps_random_negatives_and_records_no_near_misses(tmp_path):
    assert ArrangeDatagenConfig().near_miss_share == 0.0
    root = generate(tmp_path / "plain", ArrangeDatagenConfig(tasks=1, positives=1, negatives=2),
                    progress=False)
    index = json.loads((root / "dataset.json").read_text())
    assert index["near_miss_share"] == 0.0 and index["tasks"][0]["near_misses"] == 0
    with pytest.raises(ValueError, match="near_miss_share"):
        generate(tmp_path / "bad", ArrangeDatagenConfig(tasks=1, near_miss_share=1.5),
                 progress=False)
