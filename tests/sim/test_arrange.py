"""The arrangement twin and its datasets: labels agree with where the objects stand, the
image shows the relation as a viewer reads it, splits keep their objects apart, and the
arm and distractors vary."""

import dataclasses
import json

import numpy as np
import pytest

from sim.arrange import PUSHER_CLEAR, ArrangeTask, ArrangeTwin, pair_of, sample_task
from sim.arrange_data import ArrangeDataset, main
from sim.arrange_scene import PUSHER_RADIUS
from sim.objects import catalogue, object_by_name
from sim.relations import clearly_not, holds


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("arrange") / "heldout"
    main(["--out", str(root), "--tasks", "3", "--split", "heldout", "--seed", "3",
          "--positives", "6", "--negatives", "9"])
    return ArrangeDataset(root)


def test_positives_hold_and_negatives_clearly_do_not_by_object_positions(dataset):
    for index in range(len(dataset)):
        data = dataset.task(index)
        task = ArrangeTask(**{**{k: data.task[k] for k in
                                 ("first", "second", "relation", "table", "split")},
                              "clutter": tuple(data.task["clutter"])})
        assert data.labels.sum() == 6 and len(data.labels) == 15
        for lab, positions in zip(data.labels, data.positions):
            pair = pair_of(task, positions[:2].astype(float))
            if lab:
                assert holds(task.relation, pair)
            else:
                assert clearly_not(task.relation, pair)


def test_files_and_index_follow_the_documented_format(dataset):
    index = json.loads((dataset.root / "dataset.json").read_text())
    assert index["format"] == "oneshot-arrange" and index["split"] == "heldout"
    data = dataset.task(0)
    assert data.images.shape == (15, 64, 64, 3) and data.images.dtype == np.uint8
    assert data.positions.shape == (15, 4, 2) and data.arm.shape == (15, 7)
    assert len({img.tobytes() for img in data.images}) == 15


def test_heldout_tasks_use_only_heldout_objects(dataset):
    heldout = {obj.name for obj in catalogue("heldout")}
    for entry in dataset.tasks:
        assert {entry["first"], entry["second"], *entry["clutter"]} <= heldout


def test_arm_poses_vary_and_distractors_appear_in_some_images(dataset):
    arms = np.concatenate([dataset.task(i).arm for i in range(len(dataset))])
    assert arms.std(axis=0).min() > 0.1
    positions = np.concatenate([dataset.task(i).positions for i in range(len(dataset))])
    with_clutter = (~np.isnan(positions[:, 2, 0])).mean()
    assert 0.1 < with_clutter < 0.6


def _centroid(twin: ArrangeTwin, body: str) -> np.ndarray:
    twin.renderer.enable_segmentation_rendering()
    twin.renderer.update_scene(twin.data, camera="view")
    ids = twin.renderer.render()[..., 0]
    twin.renderer.disable_segmentation_rendering()
    geoms = np.flatnonzero(twin.model.geom_bodyid == twin.model.body(body).id)
    rows, cols = np.nonzero(np.isin(ids, geoms))
    return np.array([cols.mean(), rows.mean()])


@pytest.mark.parametrize("relation,axis,sign", [("left_of", 0, -1), ("right_of", 0, 1),
                                                ("behind", 1, -1), ("in_front_of", 1, 1)])
def test_images_show_the_relation_as_a_viewer_reads_it(relation, axis, sign):
    rng = np.random.default_rng(4)
    task = ArrangeTask(**{**sample_task("train", rng).__dict__, "relation": relation})
    twin = ArrangeTwin(task)
    try:
        for _ in range(3):
            twin.sample_example(True, rng)
            first, second = _centroid(twin, "first"), _centroid(twin, "second")
            assert sign * (first[axis] - second[axis]) > 2   # pixels: column right, row down
    finally:
        twin.close()


def test_the_arm_neither_collides_nor_hides_the_task_objects():
    rng = np.random.default_rng(5)
    twin = ArrangeTwin(sample_task("train", rng))
    try:
        for positive in (True, False) * 5:
            twin.sample_example(positive, rng)
            assert not twin.arm_collides()
            shown, whole = twin.task_pixels(arm=True), twin.task_pixels(arm=False)
            assert min(whole) > 0 and all(s >= 0.6 * w for s, w in zip(shown, whole))
    finally:
        twin.close()


def test_a_non_dataset_is_refused(tmp_path):
    with pytest.raises(ValueError, match="dataset.json is missing"):
        ArrangeDataset(tmp_path)


def test_the_pusher_rod_stands_clear_of_the_objects_at_varied_places_and_is_drawn(dataset):
    for index in range(len(dataset)):
        data = dataset.task(index)
        radii = [object_by_name(data.task[k]).footprint_radius for k in ("first", "second")]
        for positions, rod in zip(data.positions, data.pusher):
            gaps = np.linalg.norm(positions[:2] - rod, axis=1) - radii - PUSHER_RADIUS
            assert gaps.min() >= PUSHER_CLEAR - 1e-6
    rods = np.concatenate([dataset.task(i).pusher for i in range(len(dataset))])
    assert rods.std(axis=0).min() > 0.03
    rng = np.random.default_rng(9)
    twin = ArrangeTwin(sample_task("train", rng))
    try:
        config = twin.sample_example(True, rng)
        with_rod = twin.render()
        twin.pose(dataclasses.replace(config, pusher=np.array([3.0, 3.0])))   # out of view
        assert (with_rod != twin.render()).any(axis=-1).sum() >= 4
    finally:
        twin.close()
