"""A tiny arrangement dataset and a briefly meta-trained FLO checkpoint, shared by the
goal classifier tests."""

import pytest

from goal_classifier.model import ClassifierConfig
from goal_classifier.train import FLOTrainConfig, train_flo
from sim.arrange_data import ArrangeDatagenConfig, generate

SMALL = ClassifierConfig(conv_channels=(8, 8, 8), fc_hidden=(16,), inner_steps=1)


@pytest.fixture(scope="session")
def tiny_arrange(tmp_path_factory):
    """4 train tasks x (8 positives + 8 negatives) at 64x64."""
    root = tmp_path_factory.mktemp("arrange") / "train"
    return generate(root, ArrangeDatagenConfig(tasks=4, seed=2, positives=8, negatives=8),
                    progress=False)


@pytest.fixture(scope="session")
def tiny_flo(tiny_arrange, tmp_path_factory):
    """A small FLO classifier meta-trained for a few iterations on ``tiny_arrange``."""
    out = tmp_path_factory.mktemp("flo") / "ckpt"
    train = FLOTrainConfig(iterations=3, meta_batch=2, query_positives=2, query_negatives=4)
    return train_flo(tiny_arrange, out, SMALL, train, ["pytest"], progress=False)
