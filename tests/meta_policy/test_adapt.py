"""Test-time adaptation: refusing bad demos, and adapted policies on disk."""
import json
import shutil

import numpy as np
import pytest

from episodes import Dataset, EpisodeError
from metalearn.checkpoint import CheckpointError
from meta_policy.adapt import AdaptConfig, AdaptedPolicy, adapt, adapt_k_shot, load_mil
from meta_policy.config import MILConfig, TrainConfig
from meta_policy.data import DemoError
from meta_policy.train import train_mil
from sim.datagen import generate_reach


@pytest.fixture(scope="module")
def checkpoint(tiny_reach, tmp_path_factory):
    out = tmp_path_factory.mktemp("ckpt") / "mil"
    train_mil(tiny_reach, out, MILConfig(image_size=(32, 32)),
              TrainConfig(iterations=2, meta_batch=2, frames_per_demo=5), ["test"], progress=False)
    return out


@pytest.fixture
def demo_copy(tiny_reach, tmp_path):
    dataset = Dataset(tiny_reach)
    source = dataset.episodes_of(dataset.task_ids[0])[0].path
    return shutil.copytree(source, tmp_path / "demo")


def test_adapted_policy_round_trips_through_disk(checkpoint, demo_copy, tmp_path):
    policy = adapt(load_mil(checkpoint), demo_copy, version=3)
    policy.save(tmp_path / "adapted", ["test"])
    again = AdaptedPolicy.load(tmp_path / "adapted", expected=policy.cfg)
    image = np.full((32, 32, 3), 90, np.uint8)
    state = np.linspace(-1, 1, 6, dtype=np.float32)
    np.testing.assert_array_equal(policy.act(image, state), again.act(image, state))
    assert again.version == 3 and again.source["demo"] == str(demo_copy)


def test_test_time_steps_and_rate_scale_change_the_adaptation_and_are_recorded(
        checkpoint, demo_copy):
    model = load_mil(checkpoint)
    one = adapt(model, demo_copy, how=AdaptConfig(steps=1, rate_scale=1.0))
    more = adapt(model, demo_copy, how=AdaptConfig(steps=3, rate_scale=1.5))
    image = np.full((32, 32, 3), 90, np.uint8)
    state = np.linspace(-1, 1, 6, dtype=np.float32)
    assert not np.allclose(one.act(image, state), more.act(image, state))
    assert (more.source["adapt_steps"], more.source["rate_scale"]) == (3, 1.5)
    with pytest.raises(ValueError, match="steps >= 1"):
        AdaptConfig(steps=0)


def test_adapted_policy_for_another_network_is_refused(checkpoint, demo_copy, tmp_path):
    adapt(load_mil(checkpoint), demo_copy).save(tmp_path / "adapted", ["test"])
    with pytest.raises(CheckpointError, match="conv_channels"):
        AdaptedPolicy.load(tmp_path / "adapted", expected=MILConfig(image_size=(32, 32),
                                                                   conv_channels=(8, 8, 8)))


def test_demo_of_wrong_image_size_is_refused(tmp_path, demo_copy):
    model = checkpoint_for_size(tmp_path, (40, 24))
    with pytest.raises(DemoError, match="32x32x3, the policy expects 40x24x3"):
        adapt(model, demo_copy)


def checkpoint_for_size(tmp_path, size):
    """A one-iteration checkpoint built for another camera size (data at that size)."""
    generate_reach(tmp_path / "data", 2, 2, "train", seed=1, image_size=size, progress=False)
    train_mil(tmp_path / "data", tmp_path / "ckpt", MILConfig(image_size=size),
              TrainConfig(iterations=1, meta_batch=1, frames_per_demo=2), ["test"], progress=False)
    return load_mil(tmp_path / "ckpt")


def test_demo_with_nan_actions_is_refused(checkpoint, demo_copy):
    actions = np.load(demo_copy / "actions.npy")
    actions[10, 1] = np.nan
    np.save(demo_copy / "actions.npy", actions)
    with pytest.raises(DemoError, match="NaN"):
        adapt(load_mil(checkpoint), demo_copy)


def test_demo_with_no_frames_is_refused(checkpoint, demo_copy):
    meta = json.loads((demo_copy / "meta.json").read_text())
    meta["length"] = 0
    for name, spec in meta["arrays"].items():
        empty = np.zeros([0, *spec["shape"][1:]], dtype=spec["dtype"])
        np.save(demo_copy / f"{name}.npy", empty)
        spec["shape"] = list(empty.shape)
    (demo_copy / "meta.json").write_text(json.dumps(meta))
    with pytest.raises((DemoError, EpisodeError), match="frames|length"):
        adapt(load_mil(checkpoint), demo_copy)


def test_checkpoint_whose_config_does_not_match_its_weights_is_refused(checkpoint, tmp_path):
    broken = shutil.copytree(checkpoint, tmp_path / "broken")
    config = json.loads((broken / "config.json").read_text())
    config["policy"]["fc_hidden"] = [64, 64, 64]
    (broken / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="fc_in"):
        load_mil(broken)


@pytest.fixture(scope="module")
def push_checkpoint(tiny_push, tmp_path_factory):
    out = tmp_path_factory.mktemp("ckpt") / "mil-push"
    train_mil(tiny_push, out, MILConfig.for_push(image_size=(32, 32), fc_hidden=(40, 40, 40)),
              TrainConfig(iterations=2, meta_batch=2, frames_per_demo=5), ["test"], progress=False)
    return out


def push_demos(tiny_push, demonstrator):
    dataset = Dataset(tiny_push)
    return [e for t in dataset.task_ids for e in dataset.episodes_of(t)
            if e.demonstrator == demonstrator]


def push_observation():
    return np.full((32, 32, 3), 90, np.uint8), np.linspace(-1, 1, 21, dtype=np.float32)


def test_k_shot_on_two_copies_of_a_demo_is_one_shot_on_it(push_checkpoint, tiny_push):
    model = load_mil(push_checkpoint)
    first, second = push_demos(tiny_push, "robot")[:2]
    one = adapt(model, first.path)
    twice = adapt_k_shot(model, [first.path, first.path])
    pair = adapt_k_shot(model, [first, second])
    image, state = push_observation()
    np.testing.assert_allclose(twice.act(image, state), one.act(image, state), atol=1e-5)
    assert not np.allclose(pair.act(image, state), one.act(image, state), atol=1e-5)
    assert pair.source["demos"] == [str(first.path), str(second.path)]
    assert pair.act(image, state).shape == (7,)


def test_push_human_demo_is_refused_for_mil(push_checkpoint, tiny_push):
    model = load_mil(push_checkpoint)
    robot, human = push_demos(tiny_push, "robot")[0], push_demos(tiny_push, "human")[0]
    with pytest.raises(DemoError, match="no actions"):
        adapt_k_shot(model, [robot, human])


def test_adapted_policy_saved_before_the_two_head_fields_still_matches(checkpoint, demo_copy,
                                                                       tmp_path):
    adapt(load_mil(checkpoint), demo_copy).save(tmp_path / "adapted", ["test"])
    config_file = tmp_path / "adapted" / "config.json"
    config = json.loads(config_file.read_text())
    for key in ("two_head", "image_bias_transform"):
        del config["policy"][key]
    config_file.write_text(json.dumps(config))
    again = AdaptedPolicy.load(tmp_path / "adapted", expected=MILConfig(image_size=(32, 32)))
    assert not again.cfg.two_head
