"""The contact sheet: trays of catalogue objects and robot / human views, as a PNG."""

import numpy as np
from PIL import Image

from oneshot.cli import main as cli_main
from sim.contact_sheet import render_tray
from sim.objects import catalogue


def test_tray_shows_each_object_on_the_grey_tray():
    objects = catalogue("heldout")[:3]
    image = render_tray(objects, width=240)
    assert image.shape == (20, 240, 3)
    column = image.shape[1] // 12
    for i, obj in enumerate(objects):       # an object's colour family shows in its cell
        cell = image[:, i * column:(i + 1) * column].reshape(-1, 3).astype(int)
        saturated = (cell.max(axis=1) - cell.min(axis=1)) > 60
        assert saturated.sum() > 5, obj.name
    assert ((image.max(axis=2) - image.min(axis=2)) < 10)[:, 4 * column:].mean() > 0.9


def test_command_writes_the_sheet(tmp_path):
    out = tmp_path / "sheet.png"
    assert cli_main(["sim", "contact-sheet", "--out", str(out)]) == 0
    with Image.open(out) as sheet:
        assert sheet.width == 3 * 256 and sheet.height > 256
        pixels = np.asarray(sheet)
    assert pixels.std() > 20
