"""Sawyer scene files: pin the objects and looks of the place and sawyer-push twins."""

import re
from pathlib import Path

import pytest

from episodes import Dataset
from sim.datagen_families import FAMILIES
from sim.manipulation_datagen import DatagenConfig, generate, plan_tasks
from sim.objects import catalogue
from sim.sawyer import SawyerPlaceEnv
from sim.sawyer_scene_file import load_sawyer_scene
from sim.scene import SceneError

EXAMPLE = Path(__file__).parents[2] / "src" / "sim" / "scenes" / "place_example.yaml"


def test_example_pins_the_place_task():
    scene = load_sawyer_scene(EXAMPLE)
    env = SawyerPlaceEnv(**scene.env_kwargs())
    env.reset(seed=0)
    assert env.task["object"] == "heldout-004-cross"
    assert env.task["table"] == 2 and env.task["background"] == "heldout-bg01"
    assert env.target_colour == pytest.approx(scene.colour)
    env.close()


@pytest.mark.parametrize("text,field", [
    ("family: stack\n", "family"),
    ("family: place\nobject: heldout-999-box\n", "object"),
    ("family: place\ndistractor: heldout-004-cross\n", "distractor"),
    ("family: sawyer-push\ncolour: red\n", "colour"),
    ("family: sawyer-push\nobject: heldout-004-cross\ndistractor: heldout-004-cross\n",
     "distractor"),
    ("family: place\ntable: 99\n", "table"),
    ("family: place\nbackground: moon\n", "background"),
    ("family: place\nimage_size: [64]\n", "image_size"),
    ("object: heldout-004-cross\n", "'family' is required"),
])
def test_bad_sawyer_scenes_name_the_field(tmp_path, text, field):
    path = tmp_path / "scene.yaml"
    path.write_text(text)
    with pytest.raises(SceneError, match=re.escape(str(path)) + ".*" + re.escape(field)):
        load_sawyer_scene(path)


def test_datagen_stages_the_scene_in_every_task(tmp_path):
    cfg = DatagenConfig("place", tasks=2, demos_per_task=1, split="heldout", seed=2,
                        image_size=(32, 32), scene=str(EXAMPLE))
    generate(tmp_path / "data", cfg, progress=False)
    for task in Dataset(tmp_path / "data").tasks:
        assert task["object"] == "heldout-004-cross" and task["table"] == 2
    with pytest.raises(SceneError, match="a place scene, not a sawyer-push one"):
        FAMILIES["sawyer-push"].scene_task(str(EXAMPLE))


def test_datagen_draws_around_pinned_fields_and_checks_the_split(tmp_path):
    scene = tmp_path / "push.yaml"
    scene.write_text(f"family: sawyer-push\ndistractor: {catalogue('train')[0].name}\n")
    tasks = plan_tasks(DatagenConfig("sawyer-push", tasks=300, scene=str(scene)))
    assert all(task["object"] != task["distractor"] for task in tasks)
    with pytest.raises(ValueError, match="pass --split train"):
        generate(tmp_path / "data", DatagenConfig("sawyer-push", split="heldout", scene=str(scene)),
                 progress=False)
