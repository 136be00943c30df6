"""Manipulation datasets: paired robot/human push demos, Sawyer demos, determinism across
workers, resuming."""

import json
import shutil

import numpy as np
import pytest

from episodes import Dataset, read_episode
from sim.manipulation_datagen import DatagenConfig, generate, main

CFG = DatagenConfig("push", tasks=2, demos_per_task=1, split="heldout", seed=5, image_size=(32, 32))


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("push") / "data"
    generate(root, CFG, workers=1, progress=False)
    return root


def test_robot_and_human_demos_of_each_task(dataset):
    data = Dataset(dataset)
    assert (data.family, data.split, data.task_ids, len(data)) == ("push", "heldout", [0, 1], 4)
    for task in data.tasks:
        assert task["target"].startswith("heldout-") and task["distractor"].startswith("heldout-")
        robot, human = (read_episode(dataset / f"task_{task['task_id']:04d}/{kind}_000")
                        for kind in ("robot", "human"))
        assert robot.demonstrator == "robot" and human.demonstrator == "human"
        assert robot.task == human.task                       # same objects ...
        assert robot.meta["scene"]["target_pos"] != human.meta["scene"]["target_pos"]
        assert robot.frames.shape == (100, 32, 32, 3) and robot.actions.shape == (100, 7)
        assert human.actions is None and human.state.shape[1] == 7
        assert human.length < 100                             # ... another length


def test_same_seed_same_data_whatever_the_workers(dataset, tmp_path):
    other = tmp_path / "two-workers"
    generate(other, CFG, workers=2, progress=False)
    for episode in sorted(p.relative_to(dataset) for p in dataset.glob("task_*/*")):
        first, second = read_episode(dataset / episode), read_episode(other / episode)
        np.testing.assert_array_equal(first.frames, second.frames)
        np.testing.assert_array_equal(first.state, second.state)


def test_an_interrupted_run_resumes_without_redoing_or_corrupting(dataset, tmp_path):
    copy = tmp_path / "resumed"
    shutil.copytree(dataset, copy)
    (copy / "dataset.json").unlink()                 # as if killed before the end ...
    shutil.rmtree(copy / "task_0001/human_000")      # ... with one demo unwritten
    stray = copy / "task_0001/.human_000.abc.tmp"    # ... and one half-written
    stray.mkdir()
    (stray / "frames.npy").write_bytes(b"partial")
    kept = (copy / "task_0000/robot_000/meta.json").stat().st_mtime_ns
    _, speed = generate(copy, CFG, workers=1, progress=False)
    assert not stray.exists()
    assert (copy / "task_0000/robot_000/meta.json").stat().st_mtime_ns == kept
    assert speed["frames"] == read_episode(copy / "task_0001/human_000").length
    np.testing.assert_array_equal(read_episode(copy / "task_0001/human_000").frames,
                                  read_episode(dataset / "task_0001/human_000").frames)
    assert len(Dataset(copy)) == 4


def test_resuming_with_other_arguments_is_refused(dataset, tmp_path):
    copy = tmp_path / "other"
    shutil.copytree(dataset, copy)
    with pytest.raises(FileExistsError, match="other arguments"):
        generate(copy, DatagenConfig("push", tasks=3, demos_per_task=1,
                                          split="heldout", seed=5, image_size=(32, 32)), progress=False)
    assert json.loads((copy / "datagen.json").read_text())["tasks"] == 2


def test_command_line_refuses_a_foreign_directory(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert main("push", ["--out", str(tmp_path), "--tasks", "1", "--no-progress"]) == 2
    assert "not a datagen dataset" in capsys.readouterr().err


@pytest.mark.parametrize("family,task_keys", [("place", {"colour", "object", "table"}),
                                               ("sawyer-push", {"object", "distractor", "table"})])
def test_sawyer_families_make_paired_demos(tmp_path, family, task_keys):
    cfg = DatagenConfig(family, tasks=1, demos_per_task=1, split="heldout", seed=1,
                        image_size=(32, 32))
    generate(tmp_path / family, cfg, progress=False)
    data = Dataset(tmp_path / family)
    assert data.family == family and len(data) == 2
    robot, human = (read_episode(tmp_path / family / f"task_0000/{kind}_000")
                    for kind in ("robot", "human"))
    assert set(robot.task) == task_keys | {"family", "task_id", "split"}
    assert robot.task == human.task
    assert robot.demonstrator == "robot" and robot.actions.shape[1] == 4
    assert robot.state.shape == (robot.length, 18) and robot.frames.shape[1:] == (32, 32, 3)
    assert human.demonstrator == "human" and human.actions is None
    assert robot.meta["scene"]["family"] == human.meta["scene"]["family"] == family


def test_families_refuse_what_they_cannot_do(tmp_path):
    with pytest.raises(ValueError, match="x.yaml: cannot read scene"):
        generate(tmp_path / "a", DatagenConfig("place", scene=str(tmp_path / "x.yaml")),
                 progress=False)
    with pytest.raises(ValueError, match="place demos come from"):
        generate(tmp_path / "c", DatagenConfig("place", demonstrator="alien"), progress=False)
    with pytest.raises(ValueError, match="family must be one of"):
        generate(tmp_path / "b", DatagenConfig("stack"), progress=False)
