"""Task sampling for meta-training: demo pairs and frame sampling."""
import numpy as np

from episodes import Dataset
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
