"""Task sampling for meta-training: demo pairs and frame sampling."""
import json
from pathlib import Path

import numpy as np

from episodes import Dataset, EpisodeReader
from meta_policy.data import TaskSampler


def test_demo_pairs_are_two_different_demos_of_one_task(tiny_reach):
    sampler = TaskSampler(Dataset(tiny_reach), np.random.default_rng(0))
    for task_id in sampler.tasks(10):
        first, second = sampler.demo_pair(task_id)
        assert first.path != second.path
        assert first.task["task_id"] == second.task["task_id"] == task_id


def test_frames_oversample_the_start_of_the_demo(tiny_reach):
    dataset = Dataset(tiny_reach)
    episode = dataset.episodes_of(dataset.task_ids[0])[0]
    sampler = TaskSampler(dataset, np.random.default_rng(1))
    for _ in range(20):
        demo = sampler.frames(episode, 12, early=5, window=8)
        times = demo.state  # rows follow the sampled frames, so match them back to the episode
        index = [int(np.flatnonzero((np.asarray(episode.state) == row.numpy()).all(1))[0])
                 for row in times]
        assert len(set(index)) == 12 and index == sorted(index)
        assert sum(i < 8 for i in index) >= 5
        np.testing.assert_array_equal(demo.frames.numpy(), np.asarray(episode.frames)[index])


def test_sampler_draws_robot_demos_only_from_paired_push_data(tiny_push):
    dataset = Dataset(tiny_push)
    episodes = [e for t in dataset.task_ids for e in dataset.episodes_of(t)]
    assert any(e.actions is None for e in episodes)  # the data does hold human videos
    sampler = TaskSampler(dataset, np.random.default_rng(0))
    assert sampler.task_ids == dataset.task_ids
    for task_id in sampler.tasks(20):
        first, second = sampler.demo_pair(task_id)
        assert first.path != second.path
        assert first.demonstrator == second.demonstrator == "robot"
        assert sampler.frames(first, 6, early=2).actions.shape == (6, 7)


def test_task_with_one_robot_demo_is_left_out(tiny_push, tmp_path):
    """A task with one robot and two human demos has three demos but no pair to train on."""
    index = json.loads((tiny_push / "dataset.json").read_text())
    for folder in {Path(e["path"]).parts[0] for e in index["episodes"]}:
        (tmp_path / folder).symlink_to(tiny_push / folder)
    first = index["tasks"][0]["task_id"]
    robot = [e for e in index["episodes"] if e["task_id"] == first
             and EpisodeReader(tiny_push / e["path"]).demonstrator == "robot"]
    index["episodes"].remove(robot[0])
    (tmp_path / "dataset.json").write_text(json.dumps(index))
    dataset = Dataset(tmp_path)
    assert len(dataset.episodes_of(first)) >= 3
    sampler = TaskSampler(dataset, np.random.default_rng(0))
    assert first not in sampler.task_ids and len(sampler.task_ids) == len(dataset.task_ids) - 1
