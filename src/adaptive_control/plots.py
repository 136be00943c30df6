"""PNG figures of a GBAC suite, drawn with Pillow (no plotting library in the project).

* :func:`returns_chart`: each method's mean return over the seeds with a +-1 std whisker.
  The thesis normalises returns so the MB oracle scores 1 and low-data TRPO 0 (L2700-L2703);
  neither reference is trained here, so the chart shows returns normalised by the suite's
  own range: the worst method's mean at 0, the best's at 1.
* :func:`error_histogram`: pre- vs post-update K-step model error over every window of
  GBAC's episodes (thesis Fig. 21, L2736-L2745), on a shared log-scale axis.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

WIDTH, HEIGHT, MARGIN = 480, 320, 40
COLOURS = {"gbac": (200, 40, 40), "rbac": (40, 120, 200), "mb": (90, 90, 90),
           "mb_de": (230, 150, 30), "pre-update": (150, 150, 150), "post-update": (200, 40, 40)}


def _canvas(title: str) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    draw.text((MARGIN, 10), title, fill="black")
    draw.line([(MARGIN, HEIGHT - MARGIN), (WIDTH - 10, HEIGHT - MARGIN)], fill="black")
    return image, draw


def _y(value: float) -> float:
    """Pixel row of a value in [0, 1] (clipped a little beyond)."""
    return HEIGHT - MARGIN - (HEIGHT - 2 * MARGIN) * float(np.clip(value, -0.2, 1.2)) / 1.2


def returns_chart(path: Path, suite: str, methods: dict[str, dict]) -> Path:
    """Bars of normalised mean returns with std whiskers, one per method."""
    means = np.array([m["mean_return"] for m in methods.values()])
    low, span = means.min(), max(np.ptp(means), 1e-9)
    image, draw = _canvas(f"{suite}: return normalised to the suite's range "
                          f"[{low:.1f}, {low + span:.1f}]")
    width = (WIDTH - 2 * MARGIN) / max(len(methods), 1)
    for i, (name, figures) in enumerate(methods.items()):
        left = MARGIN + i * width + width * 0.2
        mean = (figures["mean_return"] - low) / span
        std = figures["std"] / span
        draw.rectangle([left, _y(mean), left + width * 0.6, _y(0)], fill=COLOURS.get(name, "grey"))
        centre = left + width * 0.3
        draw.line([(centre, _y(mean - std)), (centre, _y(mean + std))], fill="black", width=2)
        draw.text((left, HEIGHT - MARGIN + 6), name, fill="black")
    image.save(path)
    return path


def error_histogram(path: Path, pre: list[float], post: list[float], bins: int = 30) -> Path:
    """Overlaid histograms of pre- and post-update K-step errors on a log10 axis."""
    logs = {"pre-update": np.log10(pre), "post-update": np.log10(post)}
    edges = np.linspace(min(v.min() for v in logs.values()),
                        max(v.max() for v in logs.values()) + 1e-9, bins + 1)
    counts = {name: np.histogram(values, edges)[0] for name, values in logs.items()}
    top = max(c.max() for c in counts.values())
    image, draw = _canvas(f"K-step model error, log10 [{edges[0]:.2f}, {edges[-1]:.2f}]: "
                          "grey pre-update, red post-update")
    width = (WIDTH - 2 * MARGIN) / bins
    for name, count in counts.items():
        for i, c in enumerate(count):
            left = MARGIN + i * width
            draw.rectangle([left, _y(c / top), left + width - 1, _y(0)],
                           outline=COLOURS[name], width=2)
    image.save(path)
    return path


def suite_figures(result: dict, json_path: Path) -> list[Path]:
    """The suite's PNGs beside its JSON: ``NAME.returns.png`` and, when GBAC ran on windows,
    ``NAME.model-error.png``."""
    stem = json_path.with_suffix("")
    paths = [returns_chart(stem.with_name(stem.name + ".returns.png"), result["suite"],
                           result["methods"])]
    error = result.get("model_error", {})
    if error.get("windows"):
        paths.append(error_histogram(stem.with_name(stem.name + ".model-error.png"),
                                     error["pre_update"], error["post_update"]))
    return paths
