"""Checkpoint I/O: round trip, atomic replace, and clear errors for every kind of damage."""

import json
import re

import pytest
import torch
from torch import nn

from metalearn.checkpoint import (
    CheckpointError,
    check_config,
    load_checkpoint,
    load_kind,
    load_state,
    make_manifest,
    save_checkpoint,
)
from metalearn.maml import InnerConfig, InnerLoop, params_of


def model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))


def test_round_trip(tmp_path):
    net = model()
    config = {"hidden": [4], "lr": 0.01, "name": "tiny"}
    command = ["oneshot", "train", "mil", "--out", "my ckpt"]
    manifest = make_manifest(command, seed=3, data={"tasks": 5})
    path = save_checkpoint(tmp_path / "ckpt", net.state_dict(), config, manifest)
    names = sorted(p.name for p in path.iterdir())
    assert names == ["config.json", "manifest.json", "model.safetensors"]

    tensors, config2, manifest2 = load_checkpoint(path)
    assert config2 == config and manifest2 == manifest
    other = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    load_state(other, tensors)
    for a, b in zip(net.state_dict().values(), other.state_dict().values()):
        torch.testing.assert_close(a, b)
    assert not any(p.suffix in (".pt", ".pth", ".pkl", ".bin") for p in tmp_path.rglob("*"))


def test_learned_inner_rates_round_trip(tmp_path):
    net = model()
    loop = InnerLoop(InnerConfig(steps=2, lr_mode="per_param"), params_of(net))
    with torch.no_grad():
        loop.param_rates["0__weight"].fill_(0.5)
    tensors = {f"model.{k}": v for k, v in net.state_dict().items()}
    tensors.update({f"inner.{k}": v for k, v in loop.state_dict().items()})
    save_checkpoint(tmp_path / "ckpt", tensors, {}, {})
    loaded, _, _ = load_checkpoint(tmp_path / "ckpt")
    fresh = InnerLoop(InnerConfig(steps=2, lr_mode="per_param"), params_of(net))
    load_state(fresh, {k[len("inner."):]: v for k, v in loaded.items() if k.startswith("inner.")})
    assert (fresh.param_rates["0__weight"] == 0.5).all()


def test_save_replaces_existing_checkpoint_and_leaves_no_temp_dirs(tmp_path):
    save_checkpoint(tmp_path / "ckpt", {"w": torch.zeros(2)}, {"v": 1}, {})
    save_checkpoint(tmp_path / "ckpt", {"w": torch.ones(3)}, {"v": 2}, {})
    tensors, config, _ = load_checkpoint(tmp_path / "ckpt")
    assert config == {"v": 2} and torch.equal(tensors["w"], torch.ones(3))
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt"]


def test_save_makes_views_contiguous(tmp_path):
    base = torch.arange(12.0).reshape(3, 4)
    save_checkpoint(tmp_path / "ckpt", {"t": base.T, "row": base[1]}, {}, {})
    tensors, _, _ = load_checkpoint(tmp_path / "ckpt")
    assert torch.equal(tensors["t"], base.T) and torch.equal(tensors["row"], base[1])


@pytest.mark.parametrize("name", ["model.safetensors", "config.json", "manifest.json"])
def test_missing_file_is_named(tmp_path, name):
    path = save_checkpoint(tmp_path / "ckpt", model().state_dict(), {}, {})
    (path / name).unlink()
    with pytest.raises(CheckpointError, match=re.escape(name)):
        load_checkpoint(path)


def test_missing_directory(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "nowhere")


def test_truncated_weights_are_reported(tmp_path):
    path = save_checkpoint(tmp_path / "ckpt", model().state_dict(), {}, {})
    weights = path / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-20])
    with pytest.raises(CheckpointError, match="model.safetensors.*corrupt"):
        load_checkpoint(path)


def test_corrupt_json_is_reported(tmp_path):
    path = save_checkpoint(tmp_path / "ckpt", model().state_dict(), {}, {})
    (path / "config.json").write_text('{"hidden": [4')
    with pytest.raises(CheckpointError, match="config.json.*corrupt"):
        load_checkpoint(path)


def test_load_state_lists_every_problem():
    net = model()
    tensors = dict(net.state_dict())
    tensors["0.weight"] = torch.zeros(5, 3)
    del tensors["2.bias"]
    tensors["extra"] = torch.zeros(1)
    with pytest.raises(CheckpointError) as err:
        load_state(net, tensors, source="ckpt/")
    message = str(err.value)
    assert "ckpt/" in message
    assert "missing keys: 2.bias" in message
    assert "unexpected keys: extra" in message
    assert "0.weight: expected [4, 3], found [5, 3]" in message


def test_load_state_is_all_or_nothing():
    net = model()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    tensors = {k: torch.zeros_like(v) for k, v in net.state_dict().items()}
    tensors["2.bias"] = torch.zeros(7)
    with pytest.raises(CheckpointError):
        load_state(net, tensors)
    for k, v in net.state_dict().items():
        assert torch.equal(v, before[k])


def test_check_config_names_every_difference():
    model_cfg = {"conv_channels": (32, 32), "alpha": 0.01, "bias_transform": 10}
    ckpt_cfg = {"conv_channels": [16, 16], "alpha": 0.01, "two_head": True}
    with pytest.raises(CheckpointError) as err:
        check_config(model_cfg, ckpt_cfg, source="ckpt/")
    message = str(err.value)
    assert message.startswith("config.json of ckpt/ does not match the model: ")
    assert "conv_channels: checkpoint [16, 16] vs model [32, 32]" in message
    assert "bias_transform: checkpoint <absent> vs model 10" in message
    assert "two_head: checkpoint true vs model <absent>" in message
    assert "alpha" not in message


def test_check_config_accepts_tuples_as_lists():
    check_config({"hidden": (40, 40)}, json.loads('{"hidden": [40, 40]}'), source="ckpt/")


def test_manifest_fields():
    manifest = make_manifest(["oneshot", "train", "--out", "a b"], seed=7, results={"mse": 0.1})
    assert manifest["command"] == "oneshot train --out 'a b'"
    assert manifest["seed"] == 7 and manifest["results"] == {"mse": 0.1} and manifest["data"] is None
    assert manifest["torch"] == torch.__version__
    assert manifest["code_version"] and manifest["code_version"] != "unknown"
    assert manifest["created"].endswith("+00:00")
    json.dumps(manifest)


def test_load_kind_refuses_another_kind_of_checkpoint(tmp_path):
    path = save_checkpoint(tmp_path / "ckpt", model().state_dict(), {"kind": "daml-adapted"},
                           make_manifest(["test"], seed=0))
    assert load_kind(path, "mil-adapted", "daml-adapted")[1]["kind"] == "daml-adapted"
    with pytest.raises(CheckpointError, match="kind is 'daml-adapted', expected 'daml'"):
        load_kind(path, "daml")
