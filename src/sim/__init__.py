"""MuJoCo twins with the Gymnasium API; importing this package registers their ids.

Offscreen rendering defaults to EGL (headless machines); set MUJOCO_GL before importing
to choose another backend.
"""

import os

from gymnasium.envs.registration import register, registry

os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")

REACH_ID = "OneShot/Reach-v0"
SAWYER_PLACE_ID = "OneShot/SawyerPlace-v0"
SAWYER_PUSH_ID = "OneShot/SawyerPush-v0"

if REACH_ID not in registry:
    register(id=REACH_ID, entry_point="sim.reach:ReachEnv")
if SAWYER_PLACE_ID not in registry:
    register(id=SAWYER_PLACE_ID, entry_point="sim.sawyer:SawyerPlaceEnv")
if SAWYER_PUSH_ID not in registry:
    register(id=SAWYER_PUSH_ID, entry_point="sim.sawyer:SawyerPushEnv")
