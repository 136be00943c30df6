"""Checkpoint I/O: a directory with ``model.safetensors``, ``config.json`` and
``manifest.json``.

A checkpoint is data, not code: weights go through safetensors and everything else through
JSON, never pickle, so loading a checkpoint cannot execute anything. Every failure to read
or match one raises :class:`CheckpointError` with a message that names the file or keys.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import tempfile
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn

WEIGHTS = "model.safetensors"
CONFIG = "config.json"
MANIFEST = "manifest.json"


class CheckpointError(Exception):
    """A checkpoint is missing, unreadable, corrupt or does not fit the model."""


def _write_json(path: Path, data: dict) -> None:
    """Write ``data`` as indented JSON and flush it to disk."""
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2, sort_keys=True)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())


def _write_files(
    directory: Path, tensors: dict[str, torch.Tensor], config: dict, manifest: dict
) -> None:
    """Write the three checkpoint files into ``directory``."""
    # clone: safetensors refuses tensors that share storage (tied or sliced weights)
    plain = {k: v.detach().to("cpu").contiguous().clone() for k, v in tensors.items()}
    save_file(plain, str(directory / WEIGHTS))
    _write_json(directory / CONFIG, config)
    _write_json(directory / MANIFEST, manifest)


def save_checkpoint(
    path: str | Path, tensors: dict[str, torch.Tensor], config: dict, manifest: dict
) -> Path:
    """Write a checkpoint directory atomically and return its path.

    Files are written into a sibling temporary directory that is then renamed into place,
    so a reader never sees a half-written checkpoint; an existing checkpoint at ``path`` is
    moved aside first and removed only once the new one is in place.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise CheckpointError(f"cannot write checkpoint {path}: a file of that name exists")
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=path.parent))
    try:
        _write_files(staging, tensors, config, manifest)
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.old-", dir=path.parent))
            os.replace(path, old / path.name)
            os.replace(staging, path)
            shutil.rmtree(old)
        else:
            os.replace(staging, path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return path


def _read_json(path: Path) -> dict:
    """Read a JSON object from ``path`` or raise CheckpointError naming the file."""
    if not path.is_file():
        raise CheckpointError(f"checkpoint file {path} is missing")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(f"checkpoint file {path} is unreadable or corrupt: {e}") from e
    if not isinstance(data, dict):
        raise CheckpointError(f"checkpoint file {path} must hold a JSON object")
    return data


def _read_tensors(path: Path) -> dict[str, torch.Tensor]:
    """Read safetensors weights from ``path`` or raise CheckpointError naming the file."""
    if not path.is_file():
        raise CheckpointError(f"checkpoint file {path} is missing")
    try:
        return load_file(str(path))
    except Exception as e:  # safetensors raises its own error types for corrupt files
        raise CheckpointError(f"checkpoint file {path} is unreadable or corrupt: {e}") from e


def load_checkpoint(path: str | Path) -> tuple[dict[str, torch.Tensor], dict, dict]:
    """Read a checkpoint directory: (tensors, config, manifest)."""
    path = Path(path)
    if not path.is_dir():
        raise CheckpointError(f"checkpoint directory {path} does not exist")
    return _read_tensors(path / WEIGHTS), _read_json(path / CONFIG), _read_json(path / MANIFEST)


def load_kind(path: str | Path, *kinds: str) -> tuple[dict[str, torch.Tensor], dict, dict]:
    """:func:`load_checkpoint`, refusing a checkpoint whose ``kind`` is none of ``kinds``
    (say, an adapted policy where a meta-trained one is needed)."""
    path = Path(path)
    tensors, config, manifest = load_checkpoint(path)
    if config.get("kind") not in kinds:
        expected = " or ".join(repr(kind) for kind in kinds)
        raise CheckpointError(f"{path / CONFIG}: kind is {config.get('kind')!r}, expected {expected}")
    return tensors, config, manifest


def record_results(path: str | Path, name: str, results: dict) -> None:
    """Add evaluation ``results`` under ``name`` to a checkpoint's manifest, atomically.

    Evaluations of a shipped checkpoint live next to the command that trained it."""
    path = Path(path)
    manifest = _read_json(path / MANIFEST)
    manifest["results"] = {**(manifest.get("results") or {}), name: results}
    staging = path / f".{MANIFEST}.tmp"
    _write_json(staging, manifest)
    os.replace(staging, path / MANIFEST)


def load_state(
    module: nn.Module, tensors: dict[str, torch.Tensor], *, source: str = "checkpoint"
) -> None:
    """Load ``tensors`` into ``module`` strictly, reporting every key and shape problem."""
    expected = module.state_dict()
    problems = []
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    if missing:
        problems.append("missing keys: " + ", ".join(missing))
    if unexpected:
        problems.append("unexpected keys: " + ", ".join(unexpected))
    for name in sorted(set(expected) & set(tensors)):
        want, found = tuple(expected[name].shape), tuple(tensors[name].shape)
        if want != found:
            problems.append(
                f"shape mismatch for {name}: expected {list(want)}, found {list(found)}"
            )
    if problems:
        raise CheckpointError(f"weights of {source} do not fit the model: " + "; ".join(problems))
    module.load_state_dict(tensors, strict=True)


_ABSENT = object()


def _as_json(value: object) -> object:
    """``value`` as it reads back from JSON (tuples become lists), for comparison."""
    return json.loads(json.dumps(value))


def _show(value: object) -> str:
    """A config value for an error message."""
    return "<absent>" if value is _ABSENT else json.dumps(value)


def check_config(expected: dict, found: dict, *, source: str) -> None:
    """Raise CheckpointError naming every key where the checkpoint's config differs."""
    expected, found = _as_json(expected), _as_json(found)
    diffs = []
    for key in sorted(set(expected) | set(found)):
        want, have = expected.get(key, _ABSENT), found.get(key, _ABSENT)
        if want != have:
            diffs.append(f"{key}: checkpoint {_show(have)} vs model {_show(want)}")
    if diffs:
        raise CheckpointError(
            f"config.json of {source} does not match the model: " + "; ".join(diffs)
        )


def _code_version() -> str:
    """git describe of the repository holding this file, else the package version."""
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--tags"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=10,
        )
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        return f"oneshot=={metadata.version('oneshot')}"
    except metadata.PackageNotFoundError:
        return "unknown"


def make_manifest(
    command: list[str], seed: int | None, data: dict | None = None, results: dict | None = None
) -> dict:
    """The provenance record of a checkpoint: what made it, from which code, seed and data."""
    return {
        "command": shlex.join(command),
        "code_version": _code_version(),
        "seed": seed,
        "data": data,
        "results": results,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "torch": torch.__version__,
    }
