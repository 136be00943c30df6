"""The MIL network: shapes, inputs, and which parameters the inner loop adapts."""
import numpy as np
import torch

from episodes import Dataset
from metalearn.maml import params_of
from meta_policy.config import MILConfig
from meta_policy.data import load_demo
from meta_policy.policy import MILPolicy
from meta_policy.train import adapt_on_demo, bc_loss, make_inner_loop

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
