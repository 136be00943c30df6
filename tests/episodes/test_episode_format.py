"""The episode and dataset on-disk format: round trips, laziness and refusals."""

import json
from pathlib import Path

import numpy as np
import pytest

from episodes import (
    Dataset,
    DatasetError,
    Episode,
    EpisodeError,
    read_episode,
    write_dataset_index,
    write_episode,
)


def make_episode(length: int = 5, demonstrator: str = "robot") -> Episode:
    rng = np.random.default_rng(0)
    return Episode(
        frames=rng.integers(0, 256, (length, 8, 6, 3), dtype=np.uint8),
        state=rng.normal(size=(length, 6)).astype(np.float32),
        actions=rng.normal(size=(length, 2)).astype(np.float32) if demonstrator == "robot"
        else None,
        timestamps=np.arange(length) * 0.02,
        task={"family": "reach", "colour": [1.0, 0.0, 0.0], "task_id": 3},
        demonstrator=demonstrator,
        scene={"targets": [[0.1, 0.0]]},
    )


def test_round_trip_preserves_arrays_and_metadata(tmp_path):
    episode = make_episode()
    path = write_episode(tmp_path / "ep", episode)
    reader = read_episode(path)
    loaded = reader.load()
    for name in ("frames", "state", "actions", "timestamps"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(episode, name))
    assert loaded.timestamps.dtype == np.float64 and loaded.state.dtype == np.float32
    assert reader.length == 5 and reader.task == episode.task
    assert reader.fps == pytest.approx(50.0)  # inferred from timestamps 0.02 s apart
    assert reader.meta["camera"] == {"name": "camera", "width": 6, "height": 8}
    assert loaded.scene == episode.scene


def test_human_episode_has_no_actions(tmp_path):
    reader = read_episode(write_episode(tmp_path / "ep", make_episode(demonstrator="human")))
    assert reader.actions is None
    assert not (tmp_path / "ep" / "actions.npy").exists()


def test_arrays_are_memory_mapped_not_loaded(tmp_path):
    reader = read_episode(write_episode(tmp_path / "ep", make_episode()))
    for array in (reader.frames, reader.state, reader.actions, reader.timestamps):
        assert isinstance(array, np.memmap)
        assert not array.flags.writeable


def test_truncated_frames_file_is_reported_by_name(tmp_path):
    path = write_episode(tmp_path / "ep", make_episode())
    frames_file = path / "frames.npy"
    frames_file.write_bytes(frames_file.read_bytes()[:-10])
    with pytest.raises(EpisodeError, match=str(frames_file)):
        read_episode(path)


def test_corrupt_header_is_reported_by_name(tmp_path):
    path = write_episode(tmp_path / "ep", make_episode())
    (path / "state.npy").write_bytes(b"not numpy")
    with pytest.raises(EpisodeError, match=str(path / "state.npy")):
        read_episode(path)


def edit_meta(path: Path, **changes) -> None:
    meta = json.loads((path / "meta.json").read_text())
    meta.update(changes)
    for key in [key for key, value in changes.items() if value is None]:
        del meta[key]
    (path / "meta.json").write_text(json.dumps(meta))


def test_wrong_version_is_refused(tmp_path):
    path = write_episode(tmp_path / "ep", make_episode())
    edit_meta(path, version=2)
    with pytest.raises(EpisodeError, match="unsupported version 2"):
        read_episode(path)


def test_missing_meta_key_is_named(tmp_path):
    path = write_episode(tmp_path / "ep", make_episode())
    edit_meta(path, fps=None)
    with pytest.raises(EpisodeError, match="meta.json.*'fps'"):
        read_episode(path)


def test_declared_shape_mismatch_is_refused(tmp_path):
    path = write_episode(tmp_path / "ep", make_episode())
    meta = json.loads((path / "meta.json").read_text())
    meta["arrays"]["state"]["shape"] = [5, 7]
    (path / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(EpisodeError, match="state.npy"):
        read_episode(path)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_actions_are_refused_and_nothing_is_written(tmp_path, bad):
    episode = make_episode()
    episode.actions[2, 1] = bad
    with pytest.raises(EpisodeError, match="actions contains NaN or inf"):
        write_episode(tmp_path / "ep", episode)
    assert list(tmp_path.iterdir()) == []


def test_mismatched_lengths_are_refused(tmp_path):
    episode = make_episode()
    episode.state = episode.state[:-1]
    with pytest.raises(EpisodeError, match="one non-zero length"):
        write_episode(tmp_path / "ep", episode)


def test_failed_write_leaves_no_half_episode(tmp_path, monkeypatch):
    def failing_save(file, *args, **kwargs):
        if Path(file).name == "state.npy":
            raise OSError("disk full")
        return original_save(file, *args, **kwargs)

    original_save = np.save
    monkeypatch.setattr(np, "save", failing_save)
    with pytest.raises(OSError, match="disk full"):
        write_episode(tmp_path / "ep", make_episode())
    assert list(tmp_path.iterdir()) == []


def test_existing_episode_is_not_overwritten(tmp_path):
    write_episode(tmp_path / "ep", make_episode())
    with pytest.raises(EpisodeError, match="already exists"):
        write_episode(tmp_path / "ep", make_episode())


def write_small_dataset(root: Path) -> None:
    for task_id in (0, 1):
        for demo in range(2):
            write_episode(root / f"task_{task_id}" / f"demo_{demo}", make_episode())
    write_dataset_index(
        root, family="reach", split="train", seed=7,
        tasks=[{"task_id": 0, "colour": [1, 0, 0]}, {"task_id": 1, "colour": [0, 1, 0]}],
        episodes=[{"path": f"task_{t}/demo_{d}", "task_id": t} for t in (0, 1) for d in (0, 1)],
    )


def test_dataset_groups_episodes_by_task_and_caches_readers(tmp_path):
    write_small_dataset(tmp_path)
    dataset = Dataset(tmp_path)
    assert (dataset.family, dataset.split, dataset.task_ids, len(dataset)) == (
        "reach", "train", [0, 1], 4)
    demos = dataset.episodes_of(1)
    assert [reader.path for reader in demos] == [tmp_path / "task_1" / "demo_0",
                                                 tmp_path / "task_1" / "demo_1"]
    assert dataset.episodes_of(1)[0] is demos[0]


def test_dataset_missing_episode_dir_is_named(tmp_path):
    write_small_dataset(tmp_path)
    for file in (tmp_path / "task_1" / "demo_1").iterdir():
        file.unlink()
    (tmp_path / "task_1" / "demo_1").rmdir()
    with pytest.raises(DatasetError, match="task_1/demo_1"):
        Dataset(tmp_path)


def test_dataset_index_refuses_unknown_task_and_escaping_path(tmp_path):
    with pytest.raises(DatasetError, match="not in tasks"):
        write_dataset_index(tmp_path, "reach", "train", 0, [{"task_id": 0}],
                            [{"path": "a", "task_id": 1}])
    with pytest.raises(DatasetError, match="inside the dataset"):
        write_dataset_index(tmp_path, "reach", "train", 0, [{"task_id": 0}],
                            [{"path": "../a", "task_id": 0}])
    assert not (tmp_path / "dataset.json").exists()
