"""Shared fixtures: headless rendering and one tiny real reach dataset for the learners."""
import os

os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")

import pytest  # noqa: E402

from sim.datagen import generate_reach  # noqa: E402

TINY_IMAGE = (32, 32)


@pytest.fixture(scope="session")
def tiny_reach(tmp_path_factory):
    """6 train colours x 2 expert demos at 32x32: enough to exercise meta-training."""
    root = tmp_path_factory.mktemp("reach") / "train"
    generate_reach(root, tasks=6, demos_per_task=2, split="train", seed=11,
                   image_size=TINY_IMAGE, progress=False)
    return root


def _tiny_paired(tmp_path_factory, family: str, tasks: int):
    """``tasks`` train tasks of ``family`` x 2 robot + 2 human demos at 32x32."""
    from sim.manipulation_datagen import DatagenConfig, generate

    root = tmp_path_factory.mktemp(family) / "train"
    generate(root, DatagenConfig(family, tasks=tasks, demos_per_task=2, seed=5,
                                 image_size=TINY_IMAGE), progress=False)
    return root


@pytest.fixture(scope="session")
def tiny_push(tmp_path_factory):
    """3 push tasks of paired demos: DAML's data on the PR2-like push twin."""
    return _tiny_paired(tmp_path_factory, "push", 3)


@pytest.fixture(scope="session")
def tiny_place(tmp_path_factory):
    """2 place tasks of paired demos: DAML's data on the Sawyer placing twin."""
    return _tiny_paired(tmp_path_factory, "place", 2)
