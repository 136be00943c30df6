"""The changing-dynamics twins by name, as the CLI and the trainer see them."""

from __future__ import annotations

from types import ModuleType

from sim import ant_leg, arm_force, cheetah_joint
from sim.changing_dynamics import ChangingDynamicsEnv

TWINS: dict[str, ModuleType] = {"cheetah": cheetah_joint, "ant": ant_leg, "arm": arm_force}


def make_twin(env: str, variant: str = "train", **kwargs) -> ChangingDynamicsEnv:
    """The ``env`` twin (cheetah, ant, arm) in a test condition of its module's VARIANTS."""
    if env not in TWINS:
        raise ValueError(f"unknown twin {env!r}; one of {sorted(TWINS)}")
    if variant not in TWINS[env].VARIANTS:
        raise ValueError(f"twin {env!r} has no variant {variant!r}; "
                         f"one of {sorted(TWINS[env].VARIANTS)}")
    return TWINS[env].make(variant, **kwargs)


def model_input_dims(twin: ChangingDynamicsEnv) -> list[int]:
    """Observation entries a dynamics model reads (all but the physics-invariant ones)."""
    size = twin.observation_space.shape[0]
    return [i for i in range(size) if i not in twin.dynamics_invariant_dims]
