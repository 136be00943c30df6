"""Procedural textures: two-colour patterns drawn from a seed, uploaded to MuJoCo.

Objects, tables and walls all use them (thesis L3111: textures vary across tasks and
held-out textures are kept for evaluation); generating them keeps the project free of
image assets that it could not ship.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import mujoco
import numpy as np

from sim.colours import Colour

TEXTURE_KINDS = ("plain", "checker", "stripes", "dots", "noise", "gradient")
TEXTURE_SIDE = 32


@dataclass(frozen=True)
class Texture:
    """A procedural texture: a pattern of two colours drawn from ``seed``."""

    kind: str
    primary: Colour
    secondary: Colour
    seed: int

    def pixels(self, side: int = TEXTURE_SIDE) -> np.ndarray:
        """The texture image, uint8 [side, side, 3]."""
        rng = np.random.default_rng(self.seed)
        y, x = np.mgrid[0:side, 0:side] / side
        if self.kind == "checker":
            cells = int(rng.integers(2, 6))
            mask = ((x * cells).astype(int) + (y * cells).astype(int)) % 2 == 0
        elif self.kind == "stripes":
            angle = rng.uniform(0, math.pi)
            mask = np.sin((x * math.cos(angle) + y * math.sin(angle)) * 2 * math.pi
                          * rng.integers(2, 6)) > 0
        elif self.kind == "dots":
            centres = rng.random((int(rng.integers(3, 9)), 2))
            distance = np.min(np.hypot(x[..., None] - centres[:, 0], y[..., None] - centres[:, 1]),
                              axis=-1)
            mask = distance < rng.uniform(0.06, 0.14)
        elif self.kind == "noise":
            coarse = rng.random((4, 4))
            mask = np.kron(coarse, np.ones((side // 4, side // 4))) > 0.5
        elif self.kind == "gradient":
            blend = x[..., None]
            mixed = (1 - blend) * np.array(self.primary) + blend * np.array(self.secondary)
            return (255 * mixed).astype(np.uint8)
        else:
            mask = np.ones((side, side), bool)
        image = np.where(mask[..., None], np.array(self.primary), np.array(self.secondary))
        return (255 * image).astype(np.uint8)


def add_texture_material(spec: mujoco.MjSpec, name: str, texture: Texture, kind: mujoco.mjtTexture,
                         repeat: tuple[float, float] = (1.0, 1.0)) -> str:
    """Add ``texture`` to ``spec`` as a texture + material called ``name``; returns the
    material's name."""
    added = spec.add_texture(name=f"{name}_texture", type=kind, width=TEXTURE_SIDE,
                             height=TEXTURE_SIDE, nchannel=3)
    added.data = texture.pixels().tobytes()
    material = spec.add_material(name=f"{name}_material", texrepeat=list(repeat))
    material.textures[mujoco.mjtTextureRole.mjTEXROLE_RGB] = added.name
    return material.name
