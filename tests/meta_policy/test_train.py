"""MIL meta-training: the meta-objective goes down, and checkpoints are complete."""
import json
import time

import numpy as np
import torch

from episodes import Dataset
from metalearn.checkpoint import load_checkpoint
from metalearn.maml import meta_step
from meta_policy.config import MILConfig, TrainConfig
from meta_policy.daml_data import contact_step
from meta_policy.train import MILTrainer, metrics_path, outer_loop, train_mil


def held_fixed_meta_loss(trainer: MILTrainer, batches: int = 4) -> float:
    """Meta-objective over the same seeded meta-batches each time it is called."""
    trainer.sampler.rng = np.random.default_rng(123)
    return float(np.mean([trainer.meta_loss()[0].item() for _ in range(batches)]))


def test_meta_training_lowers_the_post_adaptation_loss(tiny_reach):
    trainer = MILTrainer(MILConfig(image_size=(32, 32)),
                         TrainConfig(meta_batch=3, frames_per_demo=10, seed=0), Dataset(tiny_reach))
    before = held_fixed_meta_loss(trainer)
    trainer.sampler.rng = np.random.default_rng(0)
    for _ in range(40):
        meta_step(trainer.optimizer, trainer.meta_loss()[0], 20.0)
    assert held_fixed_meta_loss(trainer) < 0.7 * before


def test_learned_inner_rate_is_meta_trained(tiny_reach):
    trainer = MILTrainer(MILConfig(image_size=(32, 32)),
                         TrainConfig(meta_batch=2, frames_per_demo=5), Dataset(tiny_reach))
    start = {k: v.detach().clone() for k, v in trainer.inner.state_dict().items()}
    assert start and all(k.startswith("param_rates.trunk") or k.startswith("param_rates.keypoints")
                         for k in start)
    for _ in range(3):
        meta_step(trainer.optimizer, trainer.meta_loss()[0], 20.0)
    assert all(not torch.equal(v, trainer.inner.state_dict()[k]) for k, v in start.items())


def test_train_mil_writes_checkpoint_manifest_and_log(tiny_reach, tmp_path):
    out = tmp_path / "mil"
    train_mil(tiny_reach, out, MILConfig(image_size=(32, 32)),
              TrainConfig(iterations=4, meta_batch=2, frames_per_demo=5, log_every=2, save_every=2),
              ["oneshot", "train", "mil"], progress=False)
    tensors, config, manifest = load_checkpoint(out)
    assert config["kind"] == "mil" and config["policy"]["image_size"] == [32, 32]
    assert "inner.param_rates.trunk__layers__0__weight" in tensors and "policy.fc_in.z" in tensors
    assert manifest["command"] == "oneshot train mil" and manifest["data"]["iterations"] == 4
    log = [json.loads(line) for line in metrics_path(out).read_text().splitlines()]
    assert [r["iteration"] for r in log] == [2, 4]
    assert all(np.isfinite(r["loss"]) and "unadapted_loss" in r for r in log)


def test_outer_loop_anneals_on_the_clock_and_stops_when_time_is_up(tmp_path):
    weight = torch.nn.Parameter(torch.ones(3))
    optimizer = torch.optim.Adam([weight], lr=1.0)
    saved = []
    train = TrainConfig(iterations=10_000, meta_lr=1e-2, meta_lr_final=1e-4, log_every=10_000,
                        max_minutes=0.5 / 60)

    def step_loss(logging):
        time.sleep(0.05)
        return (weight ** 2).sum(), {}

    outer_loop(step_loss, optimizer, train, tmp_path / "log.jsonl", saved.append, progress=False)
    assert 5 <= saved[-1] < 20 and len(saved) == 1  # ~10 iterations of 0.05 s in 0.5 s
    record = json.loads((tmp_path / "log.jsonl").read_text().splitlines()[-1])
    assert record["iteration"] == saved[-1]
    assert record["lr"] < 0.1 * train.meta_lr  # annealed by the clock, not by 10 of 10,000 steps


def tiny_push_config() -> MILConfig:
    """The push network at the fixture's 32x32, with narrower FC layers to stay quick."""
    return MILConfig.for_push(image_size=(32, 32), fc_hidden=(40, 40, 40))


def test_two_head_meta_training_learns_both_heads_and_adapts_neither(tiny_push):
    trainer = MILTrainer(tiny_push_config(), TrainConfig(meta_batch=2, frames_per_demo=6),
                         Dataset(tiny_push))
    last = f"head.{len(trainer.policy.head) - 1}."
    assert not any(k.startswith(("param_rates.pre_head", "param_rates." + last.replace(".", "__")))
                   for k in trainer.inner.state_dict())
    heads = {k: v.detach().clone() for k, v in trainer.policy.state_dict().items()
             if k.startswith(("pre_head.", last))}
    meta_step(trainer.optimizer, trainer.meta_loss()[0], 20.0)
    after = trainer.policy.state_dict()
    assert len(heads) == 4 and all(not torch.equal(v, after[k]) for k, v in heads.items())


def test_train_mil_on_paired_push_data_writes_a_loadable_checkpoint(tiny_push, tmp_path):
    out = tmp_path / "mil-push"
    train_mil(tiny_push, out, tiny_push_config(),
              TrainConfig(iterations=3, meta_batch=2, frames_per_demo=6, log_every=3),
              ["oneshot", "train", "mil"], progress=False)
    tensors, config, manifest = load_checkpoint(out)
    assert config["policy"]["two_head"] and config["policy"]["state_dim"] == 21
    assert {"policy.pre_head.weight", "policy.image_bias", "inner.param_rates.image_bias"} <= set(tensors)
    assert manifest["data"]["family"] == "push" and manifest["data"]["iterations"] == 3
    log = [json.loads(line) for line in metrics_path(out).read_text().splitlines()]
    assert [r["iteration"] for r in log] == [3] and np.isfinite(log[0]["loss"])


def test_push_meta_objective_supervises_the_contact_pose(tiny_push):
    trainer = MILTrainer(tiny_push_config(), TrainConfig(meta_batch=3, frames_per_demo=6),
                         Dataset(tiny_push))
    episode = trainer.sampler.robot_demos[trainer.sampler.task_ids[0]][0]
    step = contact_step(episode, 14)
    expected = torch.from_numpy(np.array(episode.state[step, 14:17]))
    assert torch.equal(trainer.pose_of(episode), expected)

    @torch.no_grad()
    def pose_error() -> float:
        demo = trainer.sample_frames(episode)
        _, pose = trainer.policy(demo.frames, demo.state, head="action_and_pose")
        return float((pose - trainer.pose_of(episode)).square().mean())

    trainer.sampler.rng = np.random.default_rng(0)
    before = pose_error()
    for _ in range(30):
        meta_step(trainer.optimizer, trainer.meta_loss(diagnose=False)[0], 20.0)
    assert pose_error() < 0.5 * before  # the outer loss teaches the head where contact is
