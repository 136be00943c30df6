"""Reach demonstration datasets: format, content and determinism per seed."""

import numpy as np
import pytest

from episodes import Dataset
from sim.colours import colour_hue, hue_bin, hue_bins
from sim.datagen import generate_reach, main
from sim.reach import EPISODE_STEPS


def arrays(dataset: Dataset) -> list[np.ndarray]:
    return [np.asarray(getattr(reader, name)) for task_id in dataset.task_ids
            for reader in dataset.episodes_of(task_id) for name in ("frames", "actions")]


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    root = tmp_path_factory.mktemp("data") / "reach"
    generate_reach(root, tasks=2, demos_per_task=2, split="heldout", seed=3,
                   image_size=(16, 12), progress=False)
    return Dataset(root)


def test_dataset_layout_and_episode_content(small):
    assert (small.family, small.split, small.seed, small.task_ids, len(small)) == (
        "reach", "heldout", 3, [0, 1], 4)
    for task in small.tasks:
        assert hue_bin(colour_hue(task["colour"])) in hue_bins("heldout")
        demos = small.episodes_of(task["task_id"])
        positions = [tuple(demo.meta["scene"]["target_pos"]) for demo in demos]
        assert len(set(positions)) == 2  # new layout per demo ...
        for demo in demos:
            assert demo.task == task     # ... same target colour
            assert demo.meta["scene"]["target_colour"] == task["colour"]
            assert demo.frames.shape == (EPISODE_STEPS, 12, 16, 3)
            assert demo.state.shape == (EPISODE_STEPS, 6)
            assert demo.actions.shape == (EPISODE_STEPS, 2)
            np.testing.assert_allclose(demo.timestamps, np.arange(EPISODE_STEPS) * 0.02)
            assert demo.fps == pytest.approx(50.0)
            assert demo.meta["camera"] == {"name": "overhead", "width": 16, "height": 12}
            np.testing.assert_allclose(demo.state[0, :2], 0.0, atol=0.1)  # before any action
            final = np.linalg.norm(demo.state[-1, 4:] - demo.meta["scene"]["target_pos"])
            assert final < 0.05  # only successful demos are kept


def test_same_seed_same_data_and_other_seed_differs(small, tmp_path):
    generate_reach(tmp_path / "same", 2, 2, "heldout", seed=3, image_size=(16, 12),
                   progress=False)
    generate_reach(tmp_path / "other", 2, 2, "heldout", seed=4, image_size=(16, 12),
                   progress=False)
    same, other = Dataset(tmp_path / "same"), Dataset(tmp_path / "other")
    for a, b in zip(arrays(small), arrays(same)):
        np.testing.assert_array_equal(a, b)
    assert not any(np.array_equal(a, b) for a, b in zip(arrays(small), arrays(other)))


def test_main_writes_a_dataset_and_refuses_a_used_directory(tmp_path, capsys):
    argv = ["--out", str(tmp_path / "d"), "--tasks", "1", "--demos-per-task", "1",
            "--split", "train", "--seed", "0", "--image-size", "8", "8", "--no-progress"]
    assert main(argv) == 0
    assert len(Dataset(tmp_path / "d")) == 1
    assert main(argv) == 2
    assert "not empty" in capsys.readouterr().err


def test_failed_rollouts_are_discarded_and_retried(tmp_path, monkeypatch):
    import sim.datagen as datagen

    real_rollout, calls = datagen.rollout_demo, []

    def first_attempt_fails(*args):
        episode, success = real_rollout(*args)
        calls.append(args[2])
        return episode, success and len(calls) > 1

    monkeypatch.setattr(datagen, "rollout_demo", first_attempt_fails)
    generate_reach(tmp_path / "d", 1, 2, "train", seed=0, image_size=(8, 8), progress=False)
    seeds = [demo.meta["scene"]["reset_seed"] for demo in Dataset(tmp_path / "d").episodes_of(0)]
    assert len(calls) == 3 and seeds == calls[1:]

    monkeypatch.setattr(datagen, "MAX_ATTEMPTS", 2)
    monkeypatch.setattr(datagen, "rollout_demo", lambda *args: (None, False))
    with pytest.raises(RuntimeError, match="failed 2 times"):
        generate_reach(tmp_path / "e", 1, 1, "train", seed=0, image_size=(8, 8), progress=False)
