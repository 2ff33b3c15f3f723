"""Run folders: ``summary.json`` (provenance), ``.npz`` arrays and figures, written atomically.

Pure Python/numpy (no Brian2 import): results can be read anywhere. Every write goes
to a temporary file in the same folder first and is then renamed into place, so an
interrupted run never leaves a half-written file, and nothing saved before is lost.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import numpy as np

_UMASK = os.umask(0)
os.umask(_UMASK)

__all__ = ["RunFolder", "versions", "atomic_write_text", "atomic_save_npz", "read_summary"]


def versions() -> dict:
    """Versions of brianlab, Brian2, numpy, Python (for the provenance record)."""
    out = {"python": platform.python_version()}
    for name in ("brianlab", "brian2", "brian2cuda", "numpy", "scipy"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


def _atomic(path: Path, write):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.chmod(tmp, 0o644 & ~_UMASK)  # mkstemp makes 0600; results are ordinary files
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path, text: str):
    """Write ``text`` to ``path`` atomically."""
    _atomic(path, lambda handle: handle.write(text.encode("utf-8")))


def atomic_save_npz(path, **arrays):
    """``numpy.savez_compressed`` to ``path``, atomically."""
    _atomic(path, lambda handle: np.savez_compressed(handle, **arrays))


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def read_summary(folder) -> dict:
    return json.loads((Path(folder) / "summary.json").read_text())


class RunFolder:
    """One folder per command: ``summary.json``, arrays (``.npz``) and figures (``.png``)."""

    def __init__(self, path):
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)

    def write_summary(self, summary: dict) -> Path:
        summary = dict(summary)
        summary.setdefault("written", datetime.now(timezone.utc).isoformat(timespec="seconds"))
        summary.setdefault("versions", versions())
        target = self.path / "summary.json"
        atomic_write_text(target, json.dumps(_jsonable(summary), indent=2) + "\n")
        return target

    def save_arrays(self, name: str, **arrays) -> Path:
        target = self.path / f"{name}.npz"
        atomic_save_npz(target, **arrays)
        return target

    def save_json(self, name: str, data: dict) -> Path:
        target = self.path / f"{name}.json"
        atomic_write_text(target, json.dumps(_jsonable(data), indent=2) + "\n")
        return target

    def save_figure(self, fig, name: str, **kwargs) -> Path:
        target = self.path / name
        suffix = target.suffix.lstrip(".") or "png"
        _atomic(target, lambda handle: fig.savefig(handle, format=suffix, **kwargs))
        return target
