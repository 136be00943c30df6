"""DAML meta-training: the task-batched objective, learning theta and psi, checkpoints."""
import json

import numpy as np
import pytest
import torch

from episodes import Dataset
from metalearn.maml import meta_step, params_of
from meta_policy.daml_adapt import AdaptedDAML, adapt, load_daml
from meta_policy.daml_config import DAMLConfig, DAMLTrainConfig
from meta_policy.daml_data import ClipSpec, DAMLBatch, PairSampler, make_batch
from meta_policy.daml_train import DAMLObjective, DAMLTrainer, train_daml
from meta_policy.video import VideoError

SMALL = dict(image_size=(32, 32), conv_channels=(8, 8, 8), kernel_sizes=(3, 3, 3),
             strides=(2, 2, 1), fc_hidden=(32, 32), points_loss_channels=(8, 8),
             hidden_loss_channels=(8, 8), loss_kernel=3, bias_transform_dim=4)
QUICK = dict(meta_batch=4, video_frames=6, demo_frames=6, log_every=2, save_every=1000)


def batch_of(dataset_root, tasks=3, seed=0):
    sampler = PairSampler(Dataset(dataset_root), "human", np.random.default_rng(seed))
    return make_batch(sampler, tasks, ClipSpec(video_frames=6, demo_frames=5))


def gradients(objective, loss):
    return torch.autograd.grad(loss, list(objective.parameters()), allow_unused=True)


@pytest.mark.parametrize("loss_kind", ["temporal", "linear"])
def test_task_batched_objective_equals_the_per_task_loop(tiny_push, loss_kind):
    torch.manual_seed(0)
    objective = DAMLObjective(DAMLConfig(**SMALL, loss_kind=loss_kind, inner_steps=2)).double()
    batch = batch_of(tiny_push)
    batch = DAMLBatch(*(t.double() for t in (batch.video, batch.frames, batch.state,
                                             batch.actions)), None, batch.pose.double())
    batched = objective(batch)
    looped = torch.stack([objective(batch.task(i)) for i in range(len(batch))]).mean()
    torch.testing.assert_close(batched, looped)
    for a, b in zip(gradients(objective, batched), gradients(objective, looped)):
        if a is None:
            assert b is None
        else:
            torch.testing.assert_close(a, b)


def test_meta_training_lowers_the_loss_and_trains_the_learned_loss(tiny_push):
    torch.manual_seed(0)
    objective = DAMLObjective(DAMLConfig(**SMALL))
    batch = batch_of(tiny_push, tasks=4)
    psi_before = [p.detach().clone() for p in objective.learned_loss.parameters()]
    optimizer = torch.optim.Adam(objective.parameters(), lr=1e-3)
    first = meta_step(optimizer, objective(batch), 20.0)
    for _ in range(40):
        last = meta_step(optimizer, objective(batch), 20.0)
    assert last < 0.5 * first
    moved = [not torch.equal(a, b) for a, b in zip(psi_before, objective.learned_loss.parameters())]
    assert all(moved)  # psi learns through the second-order inner step


def test_adaptation_changes_the_loss_on_the_robot_demo(tiny_push):
    torch.manual_seed(0)
    objective = DAMLObjective(DAMLConfig(**SMALL))
    batch = batch_of(tiny_push)
    assert float(objective(batch).detach()) != pytest.approx(objective.unadapted_loss(batch), rel=1e-6)


def test_train_adapt_and_act_round_trip(tiny_push, tmp_path):
    cfg = DAMLConfig(**SMALL)
    out = train_daml(tiny_push, tmp_path / "daml", cfg, DAMLTrainConfig(iterations=3, **QUICK),
                     ["test"], progress=False)
    log = [json.loads(line) for line in (tmp_path / "daml.metrics.jsonl").read_text().splitlines()]
    assert [r["iteration"] for r in log] == [2, 3] and all(np.isfinite(r["loss"]) for r in log)
    model = load_daml(out)
    assert model.clip_frames == 6 and model.manifest["data"]["iterations"] == 3
    human = next(e for t in Dataset(tiny_push).task_ids
                 for e in Dataset(tiny_push).episodes_of(t) if e.actions is None)
    policy = adapt(model, human.path)
    assert policy.source["adapt_steps"] == 1 and policy.source["video"] == str(human.path)
    theta = params_of(model.objective.policy)
    assert not torch.equal(policy.network.trunk.layers[0].weight, theta["trunk.layers.0.weight"])
    image, state = np.zeros((32, 32, 3), np.uint8), np.zeros(21, np.float32)
    action = policy.act(image, state)
    assert action.shape == (7,) and np.isfinite(action).all()
    reloaded = AdaptedDAML.load(policy.save(tmp_path / "adapted", ["test"]), expected=cfg)
    np.testing.assert_array_equal(reloaded.act(image, state), action)


def test_adapt_refuses_a_video_of_the_wrong_size(tiny_push, tmp_path):
    from sim.manipulation_datagen import DatagenConfig, generate

    cfg = DAMLConfig(**SMALL)
    out = train_daml(tiny_push, tmp_path / "daml", cfg, DAMLTrainConfig(iterations=1, **QUICK),
                     ["test"], progress=False)
    generate(tmp_path / "big", DatagenConfig("push", tasks=1, demos_per_task=1,
                                             demonstrator="human", image_size=(40, 40)),
             progress=False)
    with pytest.raises(VideoError, match="the policy expects 32x32"):
        adapt(load_daml(out), tmp_path / "big" / "task_0000" / "human_000")
