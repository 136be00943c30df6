"""Reach scene files: the example loads, and every error names its field and file."""

from pathlib import Path

import pytest

import sim
from sim.scene import ReachScene, SceneError, load_scene

EXAMPLE = Path(sim.__file__).parent / "scenes" / "reach_example.yaml"


def test_example_scene_loads_and_resolves_names():
    scene = load_scene(EXAMPLE)
    assert scene.target_colour == (1.0, 0.0, 0.0)
    assert len(scene.distractor_colours) == 2 and len(scene.target_positions) == 3
    assert scene.image_size == (64, 64) and scene.seed == 0


@pytest.mark.parametrize("text, field", [
    ("target_colour: red\nlighting: dim\n", "lighting"),
    ("target_colour: mauve\n", "target_colour"),
    ("target_colour: [1, 0]\n", "target_colour"),
    ("target_colour: [2, 0, 0]\n", "target_colour"),
    ("target_colour: red\ndistractor_colours: [green]\n", "distractor_colours"),
    ("target_colour: red\ndistractor_colours: [green, [0, 0, 7]]\n", "distractor_colours[1]"),
    ("target_colour: red\ntarget_positions: [[0.1, 0.1], [0.0, 0.2]]\n", "target_positions"),
    ("target_colour: red\ntarget_positions: [[0.1, 0.1], [0.0, 0.2], [0.4, 0.0]]\n",
     "target_positions[2]"),
    ("target_colour: red\ntarget_positions: [[0.1, 0.1], [0.11, 0.1], [0.0, -0.2]]\n",
     "target_positions"),
    ("target_colour: red\nimage_size: [64]\n", "image_size"),
    ("target_colour: red\nseed: -1\n", "seed"),
    ("distractor_colours: [green, blue]\n", "target_colour"),
])
def test_bad_scene_errors_name_field_and_file(tmp_path, text, field):
    path = tmp_path / "scene.yaml"
    path.write_text(text)
    with pytest.raises(SceneError) as caught:
        load_scene(path)
    assert str(path) in str(caught.value)
    assert field in str(caught.value)


def test_unreachable_position_is_refused_in_code_too():
    with pytest.raises(SceneError, match="beyond the arm's reach"):
        ReachScene("red", target_positions=[[0.26, 0.26], [0.0, 0.2], [0.0, -0.2]])
