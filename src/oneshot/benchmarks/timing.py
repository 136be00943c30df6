"""Wall-clock timing shared by the benchmarks: warm up, then time each call."""
from __future__ import annotations

import time
from typing import Callable

import numpy as np


def samples_ms(fn: Callable[[], object], repeats: int, warmup: int = 3) -> list[float]:
    """Wall times of ``repeats`` calls of `fn` in milliseconds, after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(1000 * (time.perf_counter() - start))
    return samples


def timed(fn: Callable[[], object], repeats: int, warmup: int = 3) -> dict[str, float]:
    """Median and 90th percentile wall time of `fn` in milliseconds."""
    samples = samples_ms(fn, repeats, warmup)
    return {"median_ms": float(np.median(samples)), "p90_ms": float(np.percentile(samples, 90)),
            "repeats": repeats}
