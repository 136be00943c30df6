"""Relations of two objects: sampled offsets satisfy their relation, directions exclude
one another, and negatives keep a margin from the relation."""

import numpy as np
import pytest

from sim.relations import (
    DIRECTIONS,
    RELATIONS,
    Pair,
    clearly_not,
    holds,
    sample_near_miss,
    sample_offset,
    violation,
)

RADII = (0.04, 0.05)


@pytest.mark.parametrize("relation", RELATIONS)
def test_sampled_offsets_hold_their_relation(relation):
    rng = np.random.default_rng(0)
    for _ in range(200):
        pair = Pair(sample_offset(relation, RADII, rng), RADII)
        assert holds(relation, pair)
        assert not clearly_not(relation, pair)


def test_a_pair_is_in_exactly_one_direction_and_clearly_not_in_the_opposite():
    rng = np.random.default_rng(1)
    opposite = {"left_of": "right_of", "behind": "in_front_of",
                "behind_left": "front_right", "front_left": "behind_right"}
    opposite.update({b: a for a, b in opposite.items()})
    for relation in DIRECTIONS:
        pair = Pair(sample_offset(relation, RADII, rng), RADII)
        assert [r for r in DIRECTIONS if holds(r, pair)] == [relation]
        assert clearly_not(opposite[relation], pair)


def test_reading_of_directions_and_distances():
    left = Pair((-0.2, 0.0), RADII)      # first object 20 cm to the image's left
    assert holds("left_of", left) and clearly_not("right_of", left)
    assert clearly_not("behind", left) and not holds("touching", left)
    behind = Pair((0.0, 0.15), RADII)    # farther from the camera
    assert holds("behind", behind) and clearly_not("in_front_of", behind)
    touching = Pair((0.095, 0.0), RADII)
    assert holds("touching", touching) and clearly_not("apart", touching)
    far = Pair((0.0, -0.35), RADII)
    assert holds("apart", far) and holds("in_front_of", far) and clearly_not("touching", far)


def test_between_the_margins_a_configuration_labels_nothing():
    edge = Pair((np.cos(np.radians(30)), np.sin(np.radians(30))), RADII)  # 30 deg off right
    assert not holds("right_of", edge) and not clearly_not("right_of", edge)


def test_unknown_relation_is_refused():
    with pytest.raises(ValueError, match="unknown relation 'under'"):
        holds("under", Pair((0.1, 0.0), RADII))


@pytest.mark.parametrize("relation", RELATIONS)
def test_violation_is_zero_exactly_where_the_relation_holds(relation):
    rng = np.random.default_rng(2)
    for _ in range(300):
        pair = Pair(tuple(rng.uniform(-0.4, 0.4, 2)), RADII)
        assert (violation(relation, pair) == 0.0) == holds(relation, pair)
        assert violation(relation, pair) >= 0.0


def test_violation_measures_what_is_left_to_move():
    assert violation("touching", Pair((0.14, 0.0), RADII)) == pytest.approx(0.04)
    assert violation("apart", Pair((0.19, 0.0), RADII)) == pytest.approx(0.08)
    # 20 cm straight behind swings 67.5 degrees to reach the right_of sector
    assert violation("right_of", Pair((0.0, 0.2), RADII)) == pytest.approx(
        np.radians(67.5) * 0.2)


@pytest.mark.parametrize("relation", RELATIONS)
def test_near_misses_clearly_miss_but_are_a_few_pushes_away(relation):
    rng = np.random.default_rng(7)
    for _ in range(50):
        pair = Pair(sample_near_miss(relation, (0.025, 0.03), rng), (0.025, 0.03))
        assert clearly_not(relation, pair)
        assert 0.0 < violation(relation, pair) < 0.1
