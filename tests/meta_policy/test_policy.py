"""The MIL network: shapes, inputs, which parameters the inner loop adapts, the two-head
inner loss and K-shot gradient averaging."""
import json

import numpy as np
import pytest
import torch

from episodes import Dataset
from metalearn.maml import params_of
from meta_policy.config import MILConfig
from meta_policy.data import load_demo
from meta_policy.policy import MILPolicy
from meta_policy.train import adapt_on_demo, adapt_on_demos, bc_loss, inner_loss, make_inner_loop

CFG = MILConfig(image_size=(32, 32))


def first_demo(root):
    dataset = Dataset(root)
    return load_demo(dataset.episodes_of(dataset.task_ids[0])[0], CFG.image_size, 6, 2)


def test_forward_takes_raw_frames_and_state():
    policy = MILPolicy(CFG)
    frames = torch.randint(0, 256, (7, 32, 32, 3), dtype=torch.uint8)
    assert policy(frames, torch.zeros(7, 6)).shape == (7, 2)


def test_inner_step_adapts_every_parameter_including_bias_transform(tiny_reach):
    torch.manual_seed(0)
    policy = MILPolicy(MILConfig(image_size=(32, 32), adapt_prefixes=()))
    inner = make_inner_loop(policy)
    theta = params_of(policy)
    demo = first_demo(tiny_reach)
    phi = adapt_on_demo(policy, inner, theta, demo, create_graph=False)
    assert "fc_in.z" in phi
    changed = {name for name in theta if not torch.equal(theta[name], phi[name])}
    assert changed == set(theta)


def test_one_step_lowers_the_demo_loss(tiny_reach):
    torch.manual_seed(0)
    policy = MILPolicy(CFG)
    inner = make_inner_loop(policy)
    demo = first_demo(tiny_reach)
    theta = params_of(policy)
    before = bc_loss(policy, theta, demo).item()
    after = bc_loss(policy, adapt_on_demo(policy, inner, theta, demo, create_graph=False), demo)
    assert after.item() < before


def test_state_normalisation_is_saved_with_the_weights(tiny_reach):
    policy = MILPolicy(CFG)
    states = torch.from_numpy(np.random.default_rng(0).normal(3.0, 2.0, (500, 6)).astype("f4"))
    policy.state_norm.fit(states)
    assert {"state_norm.mean", "state_norm.std"} <= set(policy.state_dict())
    assert torch.allclose(policy.state_norm(states).mean(0), torch.zeros(6), atol=1e-4)


def test_adapt_prefixes_restrict_the_inner_step_to_perception(tiny_reach):
    torch.manual_seed(0)
    cfg = MILConfig(image_size=(32, 32), adapt_prefixes=("trunk.", "keypoints."))
    policy = MILPolicy(cfg)
    theta = params_of(policy)
    phi = adapt_on_demo(policy, make_inner_loop(policy), theta, first_demo(tiny_reach),
                        create_graph=False)
    changed = {name for name in theta if not torch.equal(theta[name], phi[name])}
    assert changed == {n for n in theta if n.startswith(("trunk.", "keypoints."))}
    assert "fc_in.z" not in changed and "keypoints.log_temperature" in changed


PUSH = MILConfig.for_push(image_size=(32, 32))


def push_demo(root, index=0):
    dataset = Dataset(root)
    robot = [e for e in dataset.episodes_of(dataset.task_ids[0]) if e.actions is not None]
    return load_demo(robot[index], PUSH.image_size, PUSH.state_dim, PUSH.action_dim)


def trunk_inner_gradient(policy, demo):
    theta = params_of(policy)
    loss = inner_loss(policy, theta, demo)
    return torch.autograd.grad(loss, [theta["trunk.layers.0.weight"], theta["fc_in.z"]])


def test_push_config_round_trips_through_json():
    cfg = MILConfig.for_push()
    again = MILConfig.from_json(json.loads(json.dumps(cfg.to_json())))
    assert again == cfg and again.two_head and again.image_bias_transform
    assert (again.state_dim, again.action_dim, again.image_size) == (21, 7, (64, 64))
    assert MILConfig.from_json({**MILConfig().to_json(), **cfg.to_json()}) == cfg  # the CLI's merge


def test_two_head_inner_loss_is_the_pre_update_heads_regression(tiny_push):
    torch.manual_seed(0)
    policy = MILPolicy(PUSH)
    demo = push_demo(tiny_push)
    hidden, _ = policy.last_hidden(demo.frames, demo.state)
    expected = (policy.pre_head(hidden) - demo.actions).square().mean()
    assert torch.allclose(inner_loss(policy, params_of(policy), demo), expected)
    assert torch.allclose(policy(demo.frames, demo.state), policy.head[-1](hidden))


def test_two_head_inner_gradient_ignores_the_action_head(tiny_push):
    """Eq. 20: the pre-update head (W, b) defines the inner loss; the post-update head
    does not enter it, so changing it leaves the adaptation of the trunk unchanged."""
    torch.manual_seed(0)
    policy = MILPolicy(PUSH)
    demo = push_demo(tiny_push)
    before = trunk_inner_gradient(policy, demo)
    with torch.no_grad():
        policy.head[-1].weight.mul_(-3.0).add_(0.5)
    assert all(torch.equal(a, b) for a, b in zip(before, trunk_inner_gradient(policy, demo)))
    with torch.no_grad():
        policy.pre_head.weight.mul_(-3.0)
    assert not torch.allclose(before[0], trunk_inner_gradient(policy, demo)[0])


def test_two_head_inner_step_adapts_all_but_the_heads(tiny_push):
    torch.manual_seed(0)
    policy = MILPolicy(PUSH)
    theta = params_of(policy)
    phi = adapt_on_demo(policy, make_inner_loop(policy), theta, push_demo(tiny_push),
                        create_graph=False)
    changed = {name for name in theta if not torch.equal(theta[name], phi[name])}
    last = f"head.{len(policy.head) - 1}."
    heads = {n for n in theta if n.startswith(("pre_head.", last))}
    assert heads and changed == set(theta) - heads
    assert {"image_bias", "fc_in.z"} <= changed
    assert policy.trunk.layers[0].in_channels == 4


def test_k_demos_average_their_inner_gradients(tiny_push):
    """One fixed-rate step on K demos moves theta by the mean of the one-demo steps."""
    torch.manual_seed(0)
    policy = MILPolicy(MILConfig.for_push(image_size=(32, 32), inner_lr_mode="fixed",
                                          inner_grad_clip=None))
    inner, theta = make_inner_loop(policy), params_of(policy)
    a, b = push_demo(tiny_push, 0), push_demo(tiny_push, 1)

    def step(demos):
        phi = adapt_on_demos(policy, inner, theta, demos, create_graph=False)
        return {n: phi[n] - theta[n] for n in theta}

    both, only_a, only_b = step([a, b]), step([a]), step([b])
    for name in theta:
        assert torch.allclose(both[name], (only_a[name] + only_b[name]) / 2, atol=1e-6)
    assert not torch.allclose(only_a["fc_in.z"], only_b["fc_in.z"])


def test_single_head_policy_has_no_pre_update_head():
    policy = MILPolicy(CFG)
    frames = torch.randint(0, 256, (2, 32, 32, 3), dtype=torch.uint8)
    with pytest.raises(ValueError, match="pre_update"):
        policy(frames, torch.zeros(2, 6), head="pre_update")
    assert policy.meta_only_prefixes() == () and policy.pre_head is None


def test_auxiliary_pose_feeds_the_action_head_and_is_adapted(tiny_push):
    torch.manual_seed(0)
    policy = MILPolicy(PUSH)
    demo = push_demo(tiny_push)
    actions, pose = policy(demo.frames, demo.state, head="action_and_pose")
    assert pose.shape == (len(demo), 3) and torch.allclose(actions, policy(demo.frames, demo.state))
    with torch.no_grad():
        policy.pose_head.bias.add_(1.0)  # a different predicted pose must change the actions
    assert not torch.allclose(actions, policy(demo.frames, demo.state))
    adapted = adapt_on_demo(policy, make_inner_loop(policy), params_of(policy), demo)
    assert not torch.allclose(adapted["pose_head.weight"], policy.pose_head.weight)


def test_policy_without_auxiliary_head_refuses_to_predict_a_pose():
    policy = MILPolicy(CFG)
    frames = torch.randint(0, 256, (2, 32, 32, 3), dtype=torch.uint8)
    with pytest.raises(ValueError, match="aux_pose_dim=0"):
        policy(frames, torch.zeros(2, 6), head="action_and_pose")
    assert policy.pose_head is None
