"""DAML's baselines (contextual, DA-LSTM): what each reads of the video, training, checkpoints
and the evaluation Method."""
import json
import shutil

import numpy as np
import pytest
import torch

from episodes import Dataset
from metalearn.checkpoint import CheckpointError
from metalearn.maml import meta_step
from meta_policy.daml_baselines import (VideoBaselineConfig, VideoBaselineMethod,
                                        VideoBaselineTrainer, baseline_loss, baseline_spec,
                                        end_anchored_indices, load_video_baseline,
                                        make_baseline_batch, make_video_baseline,
                                        train_video_baseline)
from meta_policy.daml_config import DAMLConfig, DAMLTrainConfig
from meta_policy.daml_data import PairSampler
from meta_policy.daml_policy import select_action

SMALL = dict(image_size=(32, 32), conv_channels=(4, 4), kernel_sizes=(3, 3), strides=(2, 2),
             fc_hidden=(16, 16), lstm_hidden=16)
QUICK = dict(meta_batch=3, video_frames=5, demo_frames=4, log_every=2, save_every=1000)
KINDS = ["contextual", "da-lstm"]


def network(kind, **overrides):
    torch.manual_seed(0)
    return make_video_baseline(VideoBaselineConfig(kind=kind, **{**SMALL, **overrides})).eval()


def inputs(b=2, t=5, n=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    video = torch.rand(b, t, 3, 32, 32, generator=g)
    frames = torch.rand(b, n, 3, 32, 32, generator=g)
    return video, frames, torch.randn(b, n, 21, generator=g)


def actions(model, video, frames, state):
    with torch.no_grad():
        return model(video, frames, state).actions


def human_episode(root):
    dataset = Dataset(root)
    return next(e for t in dataset.task_ids for e in dataset.episodes_of(t) if e.actions is None)


@pytest.mark.parametrize("kind", KINDS)
def test_output_shapes(kind):
    output = network(kind)(*inputs())
    assert output.actions.shape == (2, 3, 7) and output.pose.shape == (2, 3, 3)
    assert output.hidden.shape == (2, 3, 16) and output.mixture is None
    mdn = network(kind, action_kind="ee_velocity_gripper", action_dim=3, state_dim=21)(*inputs())
    assert mdn.mixture.means.shape == (2, 3, 20, 3) and mdn.gripper_logit.shape == (2, 3)
    assert select_action(mdn).shape == (2, 3, 4)


def test_contextual_reads_only_the_final_frame_of_the_video():
    model = network("contextual")
    video, frames, state = inputs()
    base = actions(model, video, frames, state)
    earlier = video.clone()
    earlier[:, :-1] = torch.rand_like(earlier[:, :-1])
    torch.testing.assert_close(actions(model, earlier, frames, state), base)
    final = video.clone()
    final[:, -1] = torch.rand_like(final[:, -1])
    assert (actions(model, final, frames, state) - base).abs().max() > 1e-4


def test_da_lstm_depends_on_the_order_of_the_video():
    model = network("da-lstm")
    video, frames, state = inputs()
    base = actions(model, video, frames, state)
    assert (actions(model, video.flip(1), frames, state) - base).abs().max() > 1e-4
    earlier = video.clone()
    earlier[:, 0] = torch.rand_like(earlier[:, 0])  # unlike the contextual model, reads it all
    assert (actions(model, earlier, frames, state) - base).abs().max() > 1e-4


def test_from_daml_shares_the_conv_layers_and_uses_its_own_fc():
    cfg = VideoBaselineConfig.from_daml(DAMLConfig(), "da-lstm")
    assert cfg.conv_channels == DAMLConfig().conv_channels and cfg.fc_hidden == (100, 100, 100)
    assert cfg.lstm_hidden == 512 and cfg.aux_pose_dim == DAMLConfig().aux_pose_dim
    with pytest.raises(ValueError, match="kind"):
        VideoBaselineConfig(kind="lstm")


def test_training_clips_end_on_the_final_frame(tiny_push):
    rng = np.random.default_rng(0)
    for count, length in [(50, 5), (3, 5), (7, 1)]:
        index = end_anchored_indices(count, length, rng)
        assert len(index) == length and index[-1] == count - 1 and np.all(np.diff(index) >= 0)
    cfg = VideoBaselineConfig(kind="contextual", **SMALL)
    spec = baseline_spec(cfg, DAMLTrainConfig(**QUICK), "push")
    sampler = PairSampler(Dataset(tiny_push), "human", np.random.default_rng(0))
    batch = make_baseline_batch(sampler, 2, spec)
    assert batch.video.shape[:2] == (2, 1) and batch.frames.shape[:2] == (2, 4)


@pytest.mark.parametrize("kind", KINDS)
def test_adam_on_one_batch_lowers_the_loss(tiny_push, kind):
    cfg = VideoBaselineConfig(kind=kind, **SMALL)
    trainer = VideoBaselineTrainer(cfg, DAMLTrainConfig(**QUICK), Dataset(tiny_push))
    batch = trainer.batch()
    optimizer = torch.optim.Adam(trainer.model.parameters(), lr=3e-3)
    first = meta_step(optimizer, baseline_loss(trainer.model, batch), None)
    for _ in range(40):
        last = meta_step(optimizer, baseline_loss(trainer.model, batch), None)
    assert last < 0.5 * first


@pytest.mark.parametrize("kind", KINDS)
def test_save_load_round_trip_gives_identical_actions(tiny_push, tmp_path, kind):
    cfg = VideoBaselineConfig(kind=kind, **SMALL)
    trainer = VideoBaselineTrainer(cfg, DAMLTrainConfig(**QUICK), Dataset(tiny_push))
    for _ in range(2):
        meta_step(trainer.optimizer, trainer.step_loss()[0], None)
    batch = trainer.batch()
    loaded = load_video_baseline(trainer.save(tmp_path / kind, ["test"], 2))
    assert loaded.cfg == cfg and loaded.clip_frames == 5
    trainer.model.eval()
    torch.testing.assert_close(actions(loaded.network, batch.video, batch.frames, batch.state),
                               actions(trainer.model, batch.video, batch.frames, batch.state),
                               rtol=0, atol=0)


@pytest.mark.parametrize("kind", KINDS)
def test_train_then_condition_on_a_human_video(tiny_push, tmp_path, kind, monkeypatch):
    cfg = VideoBaselineConfig(kind=kind, **SMALL)
    out = train_video_baseline(tiny_push, tmp_path / kind, cfg,
                               DAMLTrainConfig(iterations=2, **QUICK), ["test"], progress=False)
    lines = (tmp_path / f"{kind}.metrics.jsonl").read_text().splitlines()
    log = [json.loads(line) for line in lines]
    assert [r["iteration"] for r in log] == [2] and np.isfinite(log[0]["loss"])
    method = VideoBaselineMethod(out)
    assert method.name == kind and method.image_size == (32, 32)
    human = human_episode(tiny_push)
    actor = method.condition(human)
    monkeypatch.setattr(method.model.network, "encode", lambda video: pytest.fail("re-encoded"))
    for t in (0, human.length - 1):
        action = actor.act(np.array(human.frames[t]), np.zeros(21, np.float32))
        assert action.shape == (7,) and np.all(np.isfinite(action))


def test_checkpoint_of_another_kind_is_refused(tiny_push, tmp_path):
    cfg = VideoBaselineConfig(kind="contextual", **SMALL)
    trainer = VideoBaselineTrainer(cfg, DAMLTrainConfig(**QUICK), Dataset(tiny_push))
    path = trainer.save(tmp_path / "contextual", ["test"], 0)
    config_file = path / "config.json"
    config = json.loads(config_file.read_text())
    for kind in ("daml", "daml-da-lstm"):  # another method; a kind its weights do not match
        bad = tmp_path / kind
        shutil.copytree(path, bad)
        (bad / "config.json").write_text(json.dumps({**config, "kind": kind}))
        with pytest.raises(CheckpointError, match="kind"):
            load_video_baseline(bad)
