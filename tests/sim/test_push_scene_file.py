"""Push scene files: a user stages new objects and layouts; bad files name the field."""

import re
from pathlib import Path

import numpy as np
import pytest

from oneshot.cli import main as cli_main
from sim.push import PushEnv
from sim.push_scene_file import PushScene, load_push_scene
from sim.scene import SceneError

EXAMPLE = Path(__file__).parents[2] / "src" / "sim" / "scenes" / "push_example.yaml"


def test_example_scene_pins_objects_positions_and_look():
    scene = load_push_scene(EXAMPLE)
    env = PushEnv(scene=scene)
    env.reset()
    np.testing.assert_allclose(env.goal_pos, scene.goal)
    np.testing.assert_allclose(env.object_pos("target"), scene.target_pos)
    np.testing.assert_allclose(env.object_pos("distractor"), scene.distractor_pos)
    assert env.look.distractor.family == "cylinder"          # the staged new object ...
    assert env.model.body("distractor").mass[0] == pytest.approx(0.2)   # ... with its mass
    assert env.look.target.name == "heldout-004-cross"
    twin = PushEnv(scene=scene)                               # the scene's seed: same view
    twin.reset()
    np.testing.assert_array_equal(env.render_view((64, 64)), twin.render_view((64, 64)))
    env.close(), twin.close()


@pytest.mark.parametrize("text,field", [
    ("target: heldout-004-cross\ndistractor: heldout-999-box\n", "distractor"),
    ("target: {shape: cone, size: [0.1]}\ndistractor: heldout-004-cross\n", "target.shape"),
    ("target: {shape: box, size: [0.03, 0.03]}\ndistractor: heldout-004-cross\n", "target.size"),
    ("target: {shape: sphere, size: [0.03], mass: 9}\ndistractor: heldout-004-cross\n",
     "target.mass"),
    ("target: heldout-004-cross\ndistractor: heldout-005-capsule\ntable: 40\n", "table"),
    ("target: heldout-004-cross\ndistractor: heldout-005-capsule\nbackground: moon\n", "background"),
    ("target: heldout-004-cross\ndistractor: heldout-005-capsule\ngoal: [3.0, 0.0]\n", "goal[0]"),
    ("target: heldout-004-cross\ndistractor: heldout-005-capsule\ncamera: {zoom: 2}\n", "camera"),
    ("target: heldout-004-cross\ndistractor: heldout-005-capsule\ncolour: red\n", "unknown field"),
    ("distractor: heldout-005-capsule\n", "'target' is required"),
])
def test_bad_scene_files_name_the_field(tmp_path, text, field):
    path = tmp_path / "scene.yaml"
    path.write_text(text)
    with pytest.raises(SceneError, match=re.escape(str(path)) + ".*" + re.escape(field)):
        load_push_scene(path)


def test_expert_evaluates_on_a_staged_scene_from_the_command_line(tmp_path, capsys):
    out = tmp_path / "expert.json"
    assert cli_main(["eval", "--suite", "push", "--expert", "--scene", str(EXAMPLE),
                     "--trials", "2", "--json", str(out)]) == 0
    assert '"scene"' in out.read_text()
    bad = tmp_path / "bad.yaml"
    bad.write_text("target: nothing\ndistractor: heldout-005-capsule\n")
    assert cli_main(["eval", "--suite", "push", "--expert", "--scene", str(bad),
                     "--trials", "2", "--json", str(out)]) == 2
    assert "field 'target'" in capsys.readouterr().err


def test_scene_objects_can_be_built_in_code():
    scene = PushScene(target={"shape": "capsule", "size": [0.02, 0.03]},
                      distractor={"shape": "box", "size": [0.03, 0.03, 0.03], "colour": [0, 0, 1]})
    assert scene.target.footprint_radius == pytest.approx(0.05)
    assert scene.distractor.colour == (0.0, 0.0, 1.0)


def test_objects_too_big_for_the_pusher_are_refused():
    with pytest.raises(SceneError, match=r"field 'target.size'.*at most 0.065"):
        PushScene(target={"shape": "box", "size": [0.08, 0.08, 0.05]}, distractor="heldout-004-cross")


def test_unpinned_positions_are_drawn_around_pinned_ones():
    scene = load_push_scene(EXAMPLE)
    scene.goal = scene.distractor_pos = None                 # only the target is pinned
    env = PushEnv(scene=scene)
    reach = scene.target.footprint_radius + scene.distractor.footprint_radius
    for seed in range(30):
        env.reset(seed=seed)
        np.testing.assert_allclose(env.object_pos("target"), scene.target_pos)
        assert np.linalg.norm(env.object_pos("distractor") - env.object_pos("target")) > reach
    scene.goal, scene.distractor_pos = (0.4, -0.04), scene.target_pos   # objects on top
    with pytest.raises(ValueError, match="no push layout"):
        PushEnv(scene=scene).reset(seed=0)
    env.close()


def test_human_demos_in_a_scene_get_a_background_unless_it_pins_one():
    scene = load_push_scene(EXAMPLE)
    scene.demonstrator, scene.background = "human", None
    env = PushEnv(scene=scene)
    seen = set()
    for seed in range(6):
        env.reset(seed=seed)
        seen.add(env.look.background.name)
    assert len(seen) > 1
    scene.background = "lab"
    lab = PushEnv(scene=scene)
    lab.reset(seed=0)
    assert lab.look.background is None
    env.close(), lab.close()
