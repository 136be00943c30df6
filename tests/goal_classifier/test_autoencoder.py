"""The autoencoder baseline: it learns to reconstruct the meta-training images, ships as
safetensors + JSON (no pickle) and loads back identically, refuses images of the wrong
size, and its cost is the latent distance to the closest goal image."""

import json

import numpy as np
import pytest
import torch

from goal_classifier.autoencoder import (
    AEConfig,
    AETrainConfig,
    ConvAutoencoder,
    all_images,
    load_autoencoder,
    target,
    train_autoencoder,
)
from goal_classifier.goal import GoalImageError
from goal_classifier.model import as_input
from goal_classifier.plan_costs import AECost
from goal_classifier.predictive import Prediction
from sim.arrange_data import ArrangeDataset

SMALL = AEConfig(conv_channels=(4, 4, 4), strides=(2, 2, 1), fc=(32, 16, 8), target_size=16)


def _error(net: ConvAutoencoder, images: np.ndarray) -> float:
    batch = as_input(images)
    with torch.no_grad():
        return float(torch.mean((net(batch) - target(batch, net.cfg.target_size)) ** 2))


@pytest.fixture(scope="module")
def trained(tiny_arrange, tmp_path_factory):
    out = tmp_path_factory.mktemp("ae") / "ae"
    train_autoencoder(tiny_arrange, out, SMALL, AETrainConfig(iterations=120, batch=16),
                      ["pytest"], progress=False)
    return out


def test_training_lowers_the_reconstruction_error_and_saves_without_pickle(tiny_arrange, trained):
    images = all_images(ArrangeDataset(tiny_arrange))
    torch.manual_seed(0)
    assert _error(load_autoencoder(trained), images) < 0.6 * _error(ConvAutoencoder(SMALL), images)
    assert sorted(p.name for p in trained.iterdir()) == ["config.json", "manifest.json",
                                                         "model.safetensors"]
    assert json.loads((trained / "config.json").read_text())["kind"] == "flo-ae"


def test_a_loaded_autoencoder_gives_the_same_latents(tiny_arrange, trained):
    images = all_images(ArrangeDataset(tiny_arrange))[:4]
    a, b = load_autoencoder(trained), load_autoencoder(trained)
    np.testing.assert_array_equal(a.latents(images), b.latents(images))
    assert a.latents(images).shape == (4, 8)


def test_images_of_the_wrong_size_or_type_are_refused(trained):
    net = load_autoencoder(trained)
    with pytest.raises(GoalImageError, match=r"uint8 \[N, 64, 64, 3\]"):
        net.latents(np.zeros((2, 32, 32, 3), np.uint8))
    with pytest.raises(GoalImageError, match="float32"):
        net.latents(np.zeros((2, 64, 64, 3), np.float32))


def test_the_cost_is_the_latent_distance_to_the_closest_goal_image(tiny_arrange, trained):
    net = load_autoencoder(trained)
    images = all_images(ArrangeDataset(tiny_arrange))
    goals, frames = images[:3], images[[1, 10, 20]]
    costs = AECost(net, goals)(Prediction(np.zeros((3, 2, 2)), np.zeros((3, 2)), frames))
    latents, goal_latents = net.latents(frames), net.latents(goals)
    expected = [min(np.linalg.norm(z - g) for g in goal_latents) for z in latents]
    np.testing.assert_allclose(costs, expected, rtol=1e-5)
    assert costs[0] == pytest.approx(0.0, abs=1e-5)             # a goal image itself
    with pytest.raises(GoalImageError, match="no goal images"):
        AECost(net, goals[:0])
