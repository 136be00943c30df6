"""`oneshot sim contact-sheet`: one picture of what the manipulation twins contain.

Top: the meta-train and held-out object catalogues, each drawn as one tray of objects
seen from above. Bottom: one push task as the robot's camera sees it and as the human
demonstrator's camera sees it, on a training background and on a held-out one (thesis
Table 7's seen / novel backgrounds).
"""
from __future__ import annotations

import math
from pathlib import Path

import mujoco
import numpy as np
from PIL import Image, ImageDraw

from sim.appearance import backgrounds
from sim.objects import ObjectSpec, add_object, catalogue
from sim.push import PushEnv, sample_task
from sim.push_expert import ArmPushExpert, HandPushExpert

TRAY_COLUMNS = 12
TRAY_PITCH = 0.14          # m between object centres on a tray
VIEW = (256, 256)
DEMO_STEPS = 30
LABEL_HEIGHT = 22


def render_tray(objects: tuple[ObjectSpec, ...], width: int) -> np.ndarray:
    """The objects on a grey tray in rows of TRAY_COLUMNS, seen from straight above."""
    spec = mujoco.MjSpec()
    spec.visual.headlight.ambient = [0.5] * 3
    spec.visual.headlight.diffuse = [0.5] * 3
    rows = math.ceil(len(objects) / TRAY_COLUMNS)
    half_w, half_h = TRAY_COLUMNS * TRAY_PITCH / 2, rows * TRAY_PITCH / 2
    spec.worldbody.add_geom(type=mujoco.mjtGeom.mjGEOM_PLANE, size=[half_w, half_h, 0.1],
                            rgba=[0.55, 0.55, 0.55, 1])
    for i, obj in enumerate(objects):
        row, column = divmod(i, TRAY_COLUMNS)
        body = spec.worldbody.add_body(pos=[(column + 0.5) * TRAY_PITCH - half_w,
                                            half_h - (row + 0.5) * TRAY_PITCH, obj.half_height])
        add_object(spec, body, obj, prefix=f"object{i}", contype=0, conaffinity=0)
    spec.worldbody.add_camera(name="above", pos=[0, 0, 3.0], fovy=2 * math.degrees(
        math.atan(half_h / 3.0)) * 1.05)
    model = spec.compile()
    height = max(1, round(width * half_h / half_w))
    model.vis.global_.offwidth, model.vis.global_.offheight = width, height
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    renderer = mujoco.Renderer(model, height=height, width=width)
    try:
        renderer.update_scene(data, camera="above")
        return renderer.render()
    finally:
        renderer.close()


def render_views(seed: int) -> list[tuple[str, np.ndarray]]:
    """One held-out push task seen by the robot and by the human demonstrator."""
    task = sample_task("heldout", np.random.default_rng(seed))
    views = []
    for label, demonstrator, background in (
            ("robot camera", "robot", None),
            ("human, seen background", "human", backgrounds("train")[0]),
            ("human, novel background", "human", backgrounds("heldout")[0])):
        env = PushEnv(split="heldout", demonstrator=demonstrator, task=task, background=background)
        try:
            env.reset(seed=seed)
            expert = (ArmPushExpert if demonstrator == "robot" else HandPushExpert)(seed=seed)
            for _ in range(DEMO_STEPS):          # mid-demonstration: the pusher is at work
                env.step(expert.act(env))
            views.append((label, env.render_view(VIEW)))
        finally:
            env.close()
    return views


def _labelled(label: str, image: np.ndarray) -> Image.Image:
    canvas = Image.new("RGB", (image.shape[1], image.shape[0] + LABEL_HEIGHT), "white")
    canvas.paste(Image.fromarray(image), (0, LABEL_HEIGHT))
    ImageDraw.Draw(canvas).text((4, 4), label, fill="black")
    return canvas


def contact_sheet(out: Path, seed: int = 0) -> Path:
    """Draw the sheet to ``out`` (PNG)."""
    views = [_labelled(label, image) for label, image in render_views(seed)]
    width = sum(view.width for view in views)
    trays = [_labelled(f"{split} objects ({len(catalogue(split))})", render_tray(catalogue(split), width))
             for split in ("train", "heldout")]
    height = sum(tray.height for tray in trays) + views[0].height
    sheet = Image.new("RGB", (width, height), "white")
    y = 0
    for tray in trays:
        sheet.paste(tray, (0, y))
        y += tray.height
    x = 0
    for view in views:
        sheet.paste(view, (x, y))
        x += view.width
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out)
    return out
