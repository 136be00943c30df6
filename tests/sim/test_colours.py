"""Task colours: held-out hues never appear in training; distractors differ from targets."""

import numpy as np
import pytest

from sim.colours import (
    HUE_BINS,
    MIN_HUE_DISTANCE,
    NAMED_COLOURS,
    colour_hue,
    hue_bin,
    hue_bins,
    hue_distance,
    resolve_colour,
    sample_distractor_colours,
    task_colour,
)


def test_split_bins_partition_the_hue_circle():
    train, heldout = set(hue_bins("train")), set(hue_bins("heldout"))
    assert not train & heldout
    assert train | heldout == set(range(HUE_BINS))
    assert len(heldout) == HUE_BINS // 4


@pytest.mark.parametrize("split", ["train", "heldout"])
def test_sampled_and_indexed_colours_stay_in_their_split(split):
    rng = np.random.default_rng(0)
    colours = [task_colour(split, rng) for _ in range(500)]
    colours += [task_colour(split, index) for index in range(500)]
    bins = {hue_bin(colour_hue(colour)) for colour in colours}
    assert bins <= set(hue_bins(split))
    assert all(0.0 <= c <= 1.0 for colour in colours for c in colour)


def test_train_and_heldout_colours_never_coincide():
    rng = np.random.default_rng(1)
    train = np.array([colour_hue(task_colour("train", rng)) for _ in range(2000)])
    heldout = np.array([colour_hue(task_colour("heldout", rng)) for _ in range(2000)])
    gaps = np.abs(train[:, None] - heldout[None])
    assert np.minimum(gaps, 1 - gaps).min() > 0.005


def test_indexed_task_colours_are_fixed_and_distinct():
    first = [task_colour("heldout", index) for index in range(150)]
    assert first == [task_colour("heldout", index) for index in range(150)]
    assert len(set(first)) == 150


@pytest.mark.parametrize("split", ["train", "heldout"])
def test_distractors_are_far_in_hue_from_the_target_and_each_other(split):
    rng = np.random.default_rng(2)
    for _ in range(200):
        target = task_colour(split, rng)
        distractors = sample_distractor_colours(target, split, rng)
        hues = [colour_hue(c) for c in [target, *distractors]]
        assert len(distractors) == 2
        assert all(hue_distance(a, b) >= MIN_HUE_DISTANCE
                   for i, a in enumerate(hues) for b in hues[:i])
        assert {hue_bin(h) for h in hues[1:]} <= set(hue_bins(split))


def test_resolve_colour_accepts_names_and_triples_only():
    assert resolve_colour("red") == NAMED_COLOURS["red"]
    assert resolve_colour([0, 0.5, 1]) == (0.0, 0.5, 1.0)
    for bad in ("mauve", [1, 0], [1.5, 0, 0], ["a", 0, 0]):
        with pytest.raises(ValueError):
            resolve_colour(bad)


def test_hue_distance_wraps_around_the_circle():
    assert hue_distance(0.95, 0.05) == pytest.approx(0.1)
