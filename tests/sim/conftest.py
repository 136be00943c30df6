"""Headless rendering for the sim tests, chosen before any test module imports mujoco."""

import os

os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
