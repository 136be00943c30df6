"""One demonstration on disk: a directory of ``meta.json`` plus one ``.npy`` file per array.

Layout of ``DIR/NAME/`` (format ``oneshot-episode``, version 1):

- ``meta.json``: ``{"format", "version", "length", "task", "demonstrator", "camera",
  "fps", "scene", "arrays": {name: {"shape", "dtype"}}}``
- ``frames.npy``: uint8 ``[T, H, W, 3]`` RGB images
- ``state.npy``: float32 ``[T, ds]`` robot (or tracked) state
- ``actions.npy``: float32 ``[T, da]``; present only when a robot demonstrated
- ``timestamps.npy``: float64 ``[T]`` seconds from the episode start

Plain ``.npy`` files are used so every array can be memory-mapped: a reader touches only
the bytes it indexes, which lets datasets larger than memory train.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

FORMAT_NAME = "oneshot-episode"
FORMAT_VERSION = 1
META_FILE = "meta.json"
DEMONSTRATORS = ("robot", "human")
REQUIRED_META_KEYS = (
    "format", "version", "length", "task", "demonstrator", "camera", "fps", "scene", "arrays",
)
ARRAY_DTYPES = {
    "frames": np.dtype(np.uint8),
    "state": np.dtype(np.float32),
    "actions": np.dtype(np.float32),
    "timestamps": np.dtype(np.float64),
}
ARRAY_NDIMS = {"frames": 4, "state": 2, "actions": 2, "timestamps": 1}


class EpisodeError(Exception):
    """An episode (or dataset) on disk or in memory is malformed; the message names the file."""


@dataclass
class Episode:
    """An in-memory episode, as given to :func:`write_episode` or returned by ``load()``.

    ``actions`` is None for a human demonstration (a video has no robot commands).
    ``fps`` None means "infer from the timestamps"; an empty ``camera`` is filled with the
    frame size and the name ``"camera"``.
    """

    frames: np.ndarray
    state: np.ndarray
    actions: np.ndarray | None
    timestamps: np.ndarray
    task: dict[str, Any]
    demonstrator: str = "robot"
    fps: float | None = None
    camera: dict[str, Any] = field(default_factory=dict)
    scene: dict[str, Any] = field(default_factory=dict)


def _checked_arrays(episode: Episode, where: Path) -> dict[str, np.ndarray]:
    """Return the episode's arrays in their on-disk dtypes, or raise naming what is wrong."""
    if episode.demonstrator not in DEMONSTRATORS:
        raise EpisodeError(f"{where}: demonstrator must be one of {DEMONSTRATORS}, "
                           f"got {episode.demonstrator!r}")
    if episode.demonstrator == "human" and episode.actions is not None:
        raise EpisodeError(f"{where}: a human demonstration has no actions; pass actions=None")
    if episode.demonstrator == "robot" and episode.actions is None:
        raise EpisodeError(f"{where}: a robot demonstration needs actions")
    frames = np.asarray(episode.frames)
    if frames.dtype != np.uint8:
        raise EpisodeError(f"{where}: frames must be uint8, got {frames.dtype}")
    raw = {"frames": frames, "state": episode.state, "timestamps": episode.timestamps}
    if episode.actions is not None:
        raw["actions"] = episode.actions
    arrays = {}
    for name, value in raw.items():
        value = np.asarray(value)
        if name != "frames" and not np.issubdtype(value.dtype, np.floating):
            raise EpisodeError(f"{where}: {name} must be floating point, got {value.dtype}")
        if value.ndim != ARRAY_NDIMS[name]:
            raise EpisodeError(f"{where}: {name} must have {ARRAY_NDIMS[name]} dimensions, "
                               f"got shape {value.shape}")
        if name != "frames" and not np.all(np.isfinite(value)):
            raise EpisodeError(f"{where}: {name} contains NaN or inf values; refusing to write")
        arrays[name] = np.ascontiguousarray(value, dtype=ARRAY_DTYPES[name])
    if frames.shape[-1] != 3:
        raise EpisodeError(f"{where}: frames must be RGB [T,H,W,3], got shape {frames.shape}")
    lengths = {name: len(value) for name, value in arrays.items()}
    if len(set(lengths.values())) != 1 or lengths["frames"] == 0:
        raise EpisodeError(f"{where}: arrays must share one non-zero length T, got {lengths}")
    if np.any(np.diff(arrays["timestamps"]) < 0):
        raise EpisodeError(f"{where}: timestamps must be non-decreasing")
    return arrays


def _fps(episode: Episode, timestamps: np.ndarray, where: Path) -> float:
    """The declared fps, or the mean rate of the timestamps when none was given."""
    if episode.fps is not None:
        fps = float(episode.fps)
    elif len(timestamps) > 1 and timestamps[-1] > timestamps[0]:
        fps = (len(timestamps) - 1) / float(timestamps[-1] - timestamps[0])
    else:
        raise EpisodeError(f"{where}: fps not given and timestamps do not span any time")
    if not (math.isfinite(fps) and fps > 0):
        raise EpisodeError(f"{where}: fps must be a positive number, got {episode.fps!r}")
    return fps


def _meta(episode: Episode, arrays: dict[str, np.ndarray], where: Path) -> dict[str, Any]:
    """Build the ``meta.json`` content for validated arrays."""
    length, height, width = arrays["frames"].shape[:3]
    camera = {"name": "camera", "width": width, "height": height, **episode.camera}
    if (camera["width"], camera["height"]) != (width, height):
        raise EpisodeError(f"{where}: camera says {camera['width']}x{camera['height']} but "
                           f"frames are {width}x{height}")
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "length": length,
        "task": episode.task,
        "demonstrator": episode.demonstrator,
        "camera": camera,
        "fps": _fps(episode, arrays["timestamps"], where),
        "scene": episode.scene,
        "arrays": {name: {"shape": list(value.shape), "dtype": value.dtype.str}
                   for name, value in arrays.items()},
    }


def write_episode(path: str | os.PathLike, episode: Episode) -> Path:
    """Validate ``episode`` and write it to the directory ``path``; return that path.

    The files are written into a sibling temporary directory which is then renamed, so a
    crash or a validation error never leaves a half-written episode behind.
    """
    path = Path(path)
    if path.exists():
        raise EpisodeError(f"{path}: already exists; refusing to overwrite an episode")
    arrays = _checked_arrays(episode, path)
    meta = _meta(episode, arrays, path)
    try:
        meta_text = json.dumps(meta, indent=1)
    except TypeError as error:
        raise EpisodeError(f"{path}: task/scene/camera must be JSON data: {error}") from error
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        for name, value in arrays.items():
            np.save(staging / f"{name}.npy", value, allow_pickle=False)
        (staging / META_FILE).write_text(meta_text)
        os.rename(staging, path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return path


def _npy_header(file: Path) -> tuple[tuple[int, ...], np.dtype]:
    """Read an ``.npy`` header and check the file holds all the data it declares."""
    try:
        with open(file, "rb") as handle:
            major, _ = np.lib.format.read_magic(handle)
            if major == 1:
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(handle)
            else:
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(handle)
            data_start = handle.tell()
    except (OSError, ValueError, EOFError) as error:
        raise EpisodeError(f"{file}: not a readable .npy file: {error}") from error
    if dtype.hasobject or fortran:
        raise EpisodeError(f"{file}: object or Fortran-ordered arrays are not allowed")
    expected = data_start + math.prod(shape) * dtype.itemsize
    if file.stat().st_size < expected:
        raise EpisodeError(f"{file}: truncated ({file.stat().st_size} bytes, "
                           f"header declares {expected})")
    return tuple(shape), dtype


def check_versioned(document: Any, where: Path, required: Sequence[str], name: str, version: int,
                    error: type[Exception]) -> None:
    """Raise ``error`` naming ``where`` unless ``document`` is a JSON object with the
    ``required`` keys, of format ``name`` at ``version`` (episodes and dataset indexes)."""
    if not isinstance(document, dict):
        raise error(f"{where}: must hold a JSON object")
    missing = [key for key in required if key not in document]
    if missing:
        raise error(f"{where}: missing required key(s) {missing}")
    if document["format"] != name:
        raise error(f"{where}: format is {document['format']!r}, not {name!r}")
    if document["version"] != version:
        raise error(f"{where}: unsupported version {document['version']!r} "
                    f"(this reader supports {version})")


def _read_meta(path: Path) -> dict[str, Any]:
    """Load and validate ``meta.json``: format, version, required keys and array list."""
    meta_file = path / META_FILE
    try:
        meta = json.loads(meta_file.read_text())
    except (OSError, ValueError) as error:
        raise EpisodeError(f"{meta_file}: cannot read episode metadata: {error}") from error
    check_versioned(meta, meta_file, REQUIRED_META_KEYS, FORMAT_NAME, FORMAT_VERSION, EpisodeError)
    if meta["demonstrator"] not in DEMONSTRATORS:
        raise EpisodeError(f"{meta_file}: demonstrator must be one of {DEMONSTRATORS}")
    expected = {"frames", "state", "timestamps"} | ({"actions"} if meta["demonstrator"] == "robot"
                                                    else set())
    if not isinstance(meta["arrays"], dict) or set(meta["arrays"]) != expected:
        raise EpisodeError(f"{meta_file}: arrays must be exactly {sorted(expected)}")
    return meta


class EpisodeReader:
    """A lazily loaded episode: metadata is read at once, arrays are memory-mapped on access.

    Construction validates ``meta.json`` and every array file's header (shape, dtype, and
    that the file is not truncated) without reading array data. Each access to ``frames``,
    ``state``, ``actions`` or ``timestamps`` returns a fresh read-only ``np.memmap``; none is
    kept open, so a dataset of many episodes does not exhaust the process's memory maps.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.meta = _read_meta(self.path)
        self.length: int = self.meta["length"]
        self.task: dict[str, Any] = self.meta["task"]
        self.demonstrator: str = self.meta["demonstrator"]
        self.fps: float = self.meta["fps"]
        for name, declared in self.meta["arrays"].items():
            self._check_array(name, declared)

    def _check_array(self, name: str, declared: dict[str, Any]) -> None:
        """Raise unless ``name.npy`` exists with the declared shape, dtype and length."""
        file = self.path / f"{name}.npy"
        if not file.is_file():
            raise EpisodeError(f"{file}: missing array file")
        shape, dtype = _npy_header(file)
        if list(shape) != list(declared["shape"]) or dtype != np.dtype(declared["dtype"]):
            raise EpisodeError(f"{file}: holds {dtype} {list(shape)}, meta.json declares "
                               f"{declared['dtype']} {declared['shape']}")
        if dtype != ARRAY_DTYPES[name] or len(shape) != ARRAY_NDIMS[name]:
            raise EpisodeError(f"{file}: must be {ARRAY_DTYPES[name]} with "
                               f"{ARRAY_NDIMS[name]} dimensions")
        if shape[0] != self.length:
            raise EpisodeError(f"{file}: length {shape[0]} != episode length {self.length}")

    def _map(self, name: str) -> np.ndarray:
        """A read-only memory map of ``name.npy`` (no data is read yet)."""
        return np.load(self.path / f"{name}.npy", mmap_mode="r", allow_pickle=False)

    @property
    def frames(self) -> np.ndarray:
        """uint8 [T, H, W, 3] RGB images, memory-mapped."""
        return self._map("frames")

    @property
    def state(self) -> np.ndarray:
        """float32 [T, ds] state, memory-mapped."""
        return self._map("state")

    @property
    def actions(self) -> np.ndarray | None:
        """float32 [T, da] actions, memory-mapped; None for a human demo."""
        return self._map("actions") if self.demonstrator == "robot" else None

    @property
    def timestamps(self) -> np.ndarray:
        """float64 [T] seconds from the start, memory-mapped."""
        return self._map("timestamps")

    def load(self) -> Episode:
        """Read every array into memory and return them as an :class:`Episode`."""
        actions = self.actions
        return Episode(
            frames=np.array(self.frames),
            state=np.array(self.state),
            actions=None if actions is None else np.array(actions),
            timestamps=np.array(self.timestamps),
            task=self.task,
            demonstrator=self.demonstrator,
            fps=self.fps,
            camera=self.meta["camera"],
            scene=self.meta["scene"],
        )

    def __repr__(self) -> str:
        return f"EpisodeReader({str(self.path)!r}, length={self.length})"


def read_episode(path: str | os.PathLike) -> EpisodeReader:
    """Open the episode directory ``path`` lazily (see :class:`EpisodeReader`)."""
    return EpisodeReader(path)
