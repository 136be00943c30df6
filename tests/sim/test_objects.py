"""The procedural object, table and background catalogues and their splits."""

import mujoco
import numpy as np
import pytest

from sim.appearance import background_by_name, backgrounds, table_textures
from sim.colours import colour_hue, hue_bin, hue_bins
from sim.objects import (
    COMPOUNDS,
    PRIMITIVES,
    UnknownObjectError,
    add_object,
    catalogue,
    object_by_name,
)


def test_catalogue_sizes_and_splits_are_disjoint():
    train, heldout = catalogue("train"), catalogue("heldout")
    assert len(train) >= 100 and len(heldout) >= 20
    names = [obj.name for obj in train + heldout]
    assert len(set(names)) == len(names)
    assert {obj.family for obj in train} == set(PRIMITIVES + COMPOUNDS)
    for obj in heldout:      # held-out colours come from hues no training object has
        assert hue_bin(colour_hue(obj.colour)) in hue_bins("heldout")
    for obj in train:
        assert hue_bin(colour_hue(obj.colour)) in hue_bins("train")


def test_object_by_name_finds_and_names_near_misses():
    obj = catalogue("heldout")[3]
    assert object_by_name(obj.name) is obj
    with pytest.raises(UnknownObjectError, match=r"unknown object 'heldout-003'.*did you mean"):
        object_by_name("heldout-003")


@pytest.mark.parametrize("index", range(0, 120, 7))
def test_objects_compile_with_their_mass_and_fit_their_footprint(index):
    obj = catalogue("train")[index]
    spec = mujoco.MjSpec()
    body = spec.worldbody.add_body(name="thing")
    body.add_freejoint()
    add_object(spec, body, obj, prefix="thing", contype=1, conaffinity=1)
    model = spec.compile()
    assert model.body("thing").mass[0] == pytest.approx(obj.mass, rel=1e-6)
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    corners = []
    for geom in range(model.ngeom):    # every part's bounding box inside the footprint
        centre, half = data.geom_xpos[geom], model.geom_aabb[geom, 3:]
        corners.append(np.abs(centre[:2]) + half[:2] * 0.999)
    assert max(np.hypot(*c) for c in corners) <= obj.footprint_radius * np.sqrt(2) + 1e-9
    assert 0.0 < obj.half_height < 0.06


def test_texture_pixels_are_deterministic_and_two_coloured():
    obj = catalogue("train")[5]
    first, second = obj.texture.pixels(), obj.texture.pixels()
    assert first.shape == (32, 32, 3) and first.dtype == np.uint8
    np.testing.assert_array_equal(first, second)


def test_table_textures_and_backgrounds_split():
    assert (len(table_textures("train")), len(table_textures("heldout"))) == (12, 4)
    assert (len(backgrounds("train")), len(backgrounds("heldout"))) == (10, 2)
    assert background_by_name("heldout-bg01").split == "heldout"
    with pytest.raises(ValueError, match="unknown background 'heldout-bg07'"):
        background_by_name("heldout-bg07")
    with pytest.raises(ValueError, match="split must be one of"):
        backgrounds("validation")
