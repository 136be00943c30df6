"""Meta-training works: after a short CAML run on a small set of train tasks, goals
inferred from 5 positives of *held-out* tasks (unseen objects) rank that task's positives
above its negatives better than chance; and the pieces of the objective behave."""

import dataclasses

import numpy as np
import pytest
import torch

from goal_classifier.evaluate import FLOClassifyConfig, auroc, balanced_accuracy, evaluate_task
from goal_classifier.goal import MetaTrainedFLO
from goal_classifier.model import ClassifierConfig, GoalClassifier
from goal_classifier.train import FLOTrainConfig, FLOTrainer, load_tasks, split_task
from metalearn.maml import meta_step
from sim.arrange_data import ArrangeDatagenConfig, ArrangeDataset, generate

SMALL = ClassifierConfig(conv_channels=(8, 8, 8), fc_hidden=(32, 32))


@pytest.fixture(scope="module")
def splits(tmp_path_factory):
    root = tmp_path_factory.mktemp("flo-meta")
    train = generate(root / "train", ArrangeDatagenConfig(tasks=30, seed=0, positives=8,
                                                          negatives=8), progress=False)
    heldout = generate(root / "heldout", ArrangeDatagenConfig(
        tasks=6, split="heldout", seed=1, positives=12, negatives=12), progress=False)
    return load_tasks(ArrangeDataset(train)), load_tasks(ArrangeDataset(heldout))


def test_meta_training_beats_chance_on_heldout_tasks(splits):
    train_tasks, heldout = splits
    trainer = FLOTrainer(SMALL, FLOTrainConfig(meta_batch=4, query_positives=3,
                                               query_negatives=5), train_tasks)
    for _ in range(400):
        meta_step(trainer.optimizer, trainer.meta_loss(), trainer.train.meta_grad_clip)
    model = MetaTrainedFLO(trainer.net, trainer.inner, None)
    rng = np.random.default_rng(0)
    cfg = FLOClassifyConfig(scratch_steps=1)
    areas = [evaluate_task(model, task, 5, cfg, rng)["flo"][1] for task in heldout]
    assert np.mean(areas) > 0.6


def test_split_task_keeps_inner_positives_out_of_the_query(splits):
    task = splits[0][0]
    positives, query, labels = split_task(task, 5, 3, 5, np.random.default_rng(0))
    assert len(positives) == 5 and labels.tolist() == [1] * 3 + [0] * 5
    for image in positives:
        assert not any(torch.equal(image, q) for q in query)


def test_too_few_examples_are_refused(splits):
    with pytest.raises(ValueError, match="too few examples"):
        FLOTrainer(SMALL, FLOTrainConfig(query_negatives=50), splits[0][:4])


def test_both_feature_variants_give_two_logits():
    images = torch.rand(3, 3, 64, 64)
    for features in ("flatten", "soft_argmax"):
        assert GoalClassifier(ClassifierConfig(features=features))(images).shape == (3, 2)


def test_metrics():
    labels = np.array([1, 1, 0, 0, 0, 0])
    assert balanced_accuracy(np.array([0.9, 0.2, 0.1, 0.1, 0.1, 0.7]), labels) == 0.5 * (0.5 + 0.75)
    assert auroc(np.array([0.9, 0.8, 0.1, 0.2, 0.3, 0.4]), labels) == 1.0
    assert auroc(np.array([0.5, 0.5, 0.5, 0.5, 0.5, 0.5]), labels) == 0.5


def test_a_dataset_of_another_image_size_is_refused_by_name(tiny_arrange, tmp_path):
    from goal_classifier.train import train_flo

    cfg = dataclasses.replace(ClassifierConfig(), image_size=(32, 32))
    refusal = r"holds \(64, 64\) images; the classifier expects \(32, 32\)"
    with pytest.raises(ValueError, match=refusal):
        train_flo(tiny_arrange, tmp_path / "ckpt", cfg, FLOTrainConfig(iterations=1), ["pytest"],
                  progress=False)
    assert not (tmp_path / "ckpt").exists()
