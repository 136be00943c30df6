"""MuJoCo twins with the Gymnasium API; importing this package registers their ids.

Offscreen rendering defaults to EGL (headless machines); set MUJOCO_GL before importing
to choose another backend.
"""

import os

from gymnasium.envs.registration import register, registry

os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")

REACH_ID = "OneShot/Reach-v0"
PUSH_ID = "OneShot/Push-v0"
SAWYER_PLACE_ID = "OneShot/SawyerPlace-v0"
SAWYER_PUSH_ID = "OneShot/SawyerPush-v0"
CHEETAH_JOINT_ID = "OneShot/CheetahJoint-v0"
ANT_LEG_ID = "OneShot/AntLeg-v0"
ARM_FORCE_ID = "OneShot/ArmForce-v0"

ENTRY_POINTS = {
    REACH_ID: "sim.reach:ReachEnv",
    PUSH_ID: "sim.push:PushEnv",
    SAWYER_PLACE_ID: "sim.sawyer:SawyerPlaceEnv",
    SAWYER_PUSH_ID: "sim.sawyer:SawyerPushEnv",
    CHEETAH_JOINT_ID: "sim.cheetah_joint:CheetahJointEnv",
    ANT_LEG_ID: "sim.ant_leg:AntLegEnv",
    ARM_FORCE_ID: "sim.arm_force:ArmForceEnv",
}

for env_id, entry_point in ENTRY_POINTS.items():
    if env_id not in registry:
        register(id=env_id, entry_point=entry_point)
