"""Goal inference and scoring: checkpoints round-trip, adaptation moves the classifier
towards the positives, and images of the wrong size or count are refused by name."""

import json

import numpy as np
import pytest
from PIL import Image

from goal_classifier.goal import GoalImageError, infer_goal, load_flo, load_goal
from metalearn.checkpoint import CheckpointError
from oneshot.cli import main
from sim.arrange_data import ArrangeDataset


def _examples(root, index=0):
    data = ArrangeDataset(root).task(index)
    return data.images[data.labels == 1], data.images[data.labels == 0]


def test_adapting_to_positives_raises_their_probability(tiny_arrange, tiny_flo):
    model = load_flo(tiny_flo)
    positives, _ = _examples(tiny_arrange)
    before = infer_goal(model, positives[:5], steps=0).score(positives[:5])
    after = infer_goal(model, positives[:5]).score(positives[:5])
    assert after.mean() > before.mean()


def test_a_saved_goal_scores_as_the_inferred_one(tiny_arrange, tiny_flo, tmp_path):
    positives, negatives = _examples(tiny_arrange)
    goal = infer_goal(load_flo(tiny_flo), positives[:5])
    goal.save(tmp_path / "goal", ["pytest"])
    images = np.concatenate([positives[5:], negatives])
    np.testing.assert_allclose(load_goal(tmp_path / "goal").score(images), goal.score(images),
                               rtol=1e-5, atol=1e-6)


def test_wrong_count_and_size_are_refused(tiny_arrange, tiny_flo):
    model = load_flo(tiny_flo)
    positives, _ = _examples(tiny_arrange)
    with pytest.raises(GoalImageError, match="need exactly 5 .* got 3"):
        infer_goal(model, positives[:3])
    small = positives[:5, ::2, ::2]
    with pytest.raises(GoalImageError, match="32x32 pixels; this classifier takes 64x64"):
        infer_goal(model, small)
    goal = infer_goal(model, positives[:5])
    with pytest.raises(GoalImageError, match="32x32"):
        goal.score(small)


def test_a_goal_is_not_a_meta_trained_classifier(tiny_arrange, tiny_flo, tmp_path):
    positives, _ = _examples(tiny_arrange)
    infer_goal(load_flo(tiny_flo), positives[:5]).save(tmp_path / "goal", ["pytest"])
    with pytest.raises(CheckpointError, match="kind is 'flo-goal', expected 'flo'"):
        load_flo(tmp_path / "goal")


def _pngs(images, folder):
    folder.mkdir()
    paths = []
    for i, image in enumerate(images):
        paths.append(str(folder / f"{i}.png"))
        Image.fromarray(image).save(paths[-1])
    return paths


def test_cli_infers_a_goal_and_scores_images(tiny_arrange, tiny_flo, tmp_path, capsys):
    positives, negatives = _examples(tiny_arrange)
    shots = _pngs(positives[:5], tmp_path / "shots")
    others = _pngs(np.concatenate([positives[5:7], negatives[:2]]), tmp_path / "others")
    goal = tmp_path / "goal"
    assert main(["goal", "infer", "--checkpoint", str(tiny_flo), "--positives", *shots,
                 "--out", str(goal)]) == 0
    assert main(["goal", "score", "--goal", str(goal), *others,
                 "--json", str(tmp_path / "scores.json")]) == 0
    scores = json.loads((tmp_path / "scores.json").read_text())["scores"]
    expected = load_goal(goal).score(np.stack([np.asarray(Image.open(p)) for p in others]))
    np.testing.assert_allclose([scores[p] for p in others], expected, atol=1e-6)
    printed = capsys.readouterr().out
    assert all(p in printed for p in others)


def test_cli_refuses_wrong_count_and_size_with_one_line(tiny_arrange, tiny_flo, tmp_path,
                                                        capsys):
    positives, _ = _examples(tiny_arrange)
    few = _pngs(positives[:4], tmp_path / "few")
    assert main(["goal", "infer", "--checkpoint", str(tiny_flo), "--positives", *few,
                 "--out", str(tmp_path / "g")]) == 2
    assert "need exactly 5" in capsys.readouterr().err
    big = _pngs(np.repeat(np.repeat(positives[:5], 2, axis=1), 2, axis=2), tmp_path / "big")
    assert main(["goal", "infer", "--checkpoint", str(tiny_flo), "--positives", *big,
                 "--out", str(tmp_path / "g")]) == 2
    assert "128x128 pixels; this classifier takes 64x64" in capsys.readouterr().err
    assert not (tmp_path / "g").exists()
