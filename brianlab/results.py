"""Run folders: ``summary.json`` (provenance), ``.npz`` arrays and figures, written atomically.

Pure Python/numpy (no Brian2 import): results can be read anywhere. Every write goes
to a temporary file in the same folder first and is then renamed into place, so an
interrupted run never leaves a half-written file, and nothing saved before is lost.

A folder holds one configuration: :class:`RunFolder` records the configuration's hash
in ``configuration.json`` and refuses a folder made with another one, so a resumed
command can never mix in points computed with other settings. A folder is checked to
be writable (a probe file) before anything is computed, and what cannot be saved
into it is saved under ``$BRIANLAB_CACHE/rescued`` instead, with an error naming both.
Two commands may share a folder: the claim is made under a lock (``FOLDER_LOCK``), and
each writer's temporary files carry its name (:func:`temporary_prefix`).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import platform
import tempfile
from contextlib import contextmanager
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import numpy as np

from .cache import CacheError, cache_root
from .errors import ResultsError

_UMASK = os.umask(0)
os.umask(_UMASK)

__all__ = ["RunFolder", "ResultsError", "versions", "atomic_write_text", "atomic_save_npz",
           "read_summary", "config_hash", "temporary_prefix", "shown_path"]

CONFIGURATION = "configuration.json"
#: Lock file of a results folder: held while a command claims the folder (reads or
#: writes its configuration), so two commands starting together claim it one by one.
FOLDER_LOCK = ".brianlab-folder.lock"
#: Start of the names of the files that probe a folder for writing.
PROBE = ".write-probe-"


def versions() -> dict:
    """Versions of brianlab, Brian2, brian2cuda, numpy, scipy and Python (for provenance).

    Returns
    -------
    dict
        Package name to version string; packages that are not installed are left out.
    """
    out = {"python": platform.python_version()}
    for name in ("brianlab", "brian2", "brian2cuda", "numpy", "scipy"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


def shown_path(path, limit: int = 300) -> str:
    """``path`` for a message: a path longer than ``limit`` characters is shortened in
    the middle (``...``), so an error about an over-long path stays readable.

    Parameters
    ----------
    path : str or Path
    limit : int

    Returns
    -------
    str
    """
    text = str(path)
    if len(text) <= limit:
        return text
    return f"{text[:limit // 2]}...{text[-(limit // 2 - 3):]} ({len(text.encode())} bytes)"


def temporary_prefix(name: str, writer: str | None = None) -> str:
    """The start of the temporary files' names of one writer's saves of ``name``.

    Parameters
    ----------
    name : str
        The file's final name.
    writer : str, optional
        Names the writer (default: this process's id). Each temporary file also gets
        random characters, so two writers never share one, and a clean-up that removes
        the files of its own prefix never touches another writer's file mid-write.

    Returns
    -------
    str
        ``.<name>.<writer>.``; the file adds random characters and ``.tmp``.
    """
    return f".{name}.{writer or os.getpid()}."


def _atomic(path: Path, write, writer: str | None = None):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=temporary_prefix(path.name, writer), suffix=".tmp",
                               dir=path.parent)
    try:
        try:
            os.fchmod(fd, 0o644 & ~_UMASK)  # mkstemp makes 0600; results are ordinary files
            handle = os.fdopen(fd, "wb")
        except BaseException:
            os.close(fd)
            raise
        with handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path, text: str):
    """Write ``text`` to ``path`` atomically (a temporary file, then a rename).

    Parameters
    ----------
    path : str or Path
        The file; its folder is created if needed.
    text : str
        Written as UTF-8.
    """
    _atomic(path, lambda handle: handle.write(text.encode("utf-8")))


def atomic_save_npz(path, **arrays):
    """``numpy.savez_compressed`` to ``path``, atomically.

    Parameters
    ----------
    path : str or Path
        The ``.npz`` file; its folder is created if needed.
    **arrays
        The arrays, by name.
    """
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


def _flat(config: dict, prefix: str = "") -> dict:
    """``{"params": {"duration": ...}}`` -> ``{"params.duration": ...}`` (for messages)."""
    out = {}
    for key, value in _jsonable(config).items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def config_hash(config: dict) -> str:
    """sha256 of a JSON-ready configuration (key order does not matter).

    Parameters
    ----------
    config : dict
        Values that :mod:`json` can write once Quantities and numpy values are converted.

    Returns
    -------
    str
        64 hexadecimal digits.
    """
    text = json.dumps(_jsonable(config), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def read_summary(folder) -> dict:
    """The ``summary.json`` of a results folder.

    Parameters
    ----------
    folder : str or Path
        A folder written by :class:`RunFolder`.

    Returns
    -------
    dict

    Raises
    ------
    ResultsError
        Naming the file, if it cannot be read or is not a JSON object.
    """
    path = Path(folder) / "summary.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # (UnicodeDecodeError is a ValueError)
        raise ResultsError(f"cannot read {path}: {exc}") from None
    if not isinstance(data, dict):
        raise ResultsError(f"{path} is not a JSON object")
    return data


class RunFolder:
    """One folder per command: ``summary.json``, arrays (``.npz``) and figures (``.png``).

    Parameters
    ----------
    path : str or Path
        The folder; created if needed.
    configuration : dict, optional
        Everything that determines the folder's results. Recorded on first use; a
        folder that holds another configuration (or results without a record) is
        refused with :class:`~brianlab.errors.ResultsError`.
    hint : str
        What the error messages suggest (e.g. ``"use another --out"``).
    writer : str, optional
        Names this writer's temporary files (:func:`temporary_prefix`; default: this
        process's id).

    Raises
    ------
    ResultsError
        If the folder cannot be created or written, or holds another configuration.

    Attributes
    ----------
    configuration : dict or None
        As given.
    """

    def __init__(self, path, configuration: dict | None = None, *,
                 hint: str = "choose another folder", writer: str | None = None):
        self.path = Path(path)
        self.hint = hint
        self.writer = writer
        self.configuration = configuration
        try:
            if self.path.exists() and not self.path.is_dir():
                raise ResultsError(f"{self.path} is a file, not a folder; {hint}")
            self.path.mkdir(parents=True, exist_ok=True)
            fd, probe = tempfile.mkstemp(prefix=PROBE, dir=self.path)
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:  # (also a name over 255 bytes or a path over 4096)
            raise ResultsError(f"cannot write results into {shown_path(self.path)} "
                               f"({exc.strerror or exc}); {hint}") from None
        self.config_hash = None
        if configuration is not None:
            with self._locked():
                self._claim(configuration)

    @contextmanager
    def _locked(self):
        """Hold the folder's lock (:data:`FOLDER_LOCK`), waiting for another command's."""
        lock = self.path / FOLDER_LOCK
        try:
            fd = os.open(lock, os.O_CREAT | os.O_RDWR | os.O_NOFOLLOW, 0o644 & ~_UMASK)
        except OSError as exc:
            raise ResultsError(f"cannot lock {lock} ({exc.strerror or exc}; expected a regular "
                               f"file); {self.hint}, or remove it") from None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
            except OSError as exc:  # a file system without locks (some NFS, FUSE mounts)
                raise ResultsError(f"cannot lock {lock} ({exc.strerror or exc}): a results "
                                   f"folder needs a file system with file locks; "
                                   f"{self.hint}") from None
            yield
        finally:
            os.close(fd)

    def _claim(self, configuration: dict):
        digest = config_hash(configuration)
        record = self.path / CONFIGURATION
        if record.is_file():
            try:
                stored = json.loads(record.read_text())
                same = stored["hash"] == digest
            except (OSError, ValueError, KeyError, TypeError):
                raise ResultsError(f"{record} is damaged; {self.hint}") from None
            if not same:
                old, new = _flat(stored.get("configuration", {})), _flat(configuration)
                differ = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
                raise ResultsError(f"{self.path} holds results of another configuration "
                                   f"(different: {', '.join(differ) or 'versions'}); "
                                   f"{self.hint}, or delete the folder")
        elif any(p.name != FOLDER_LOCK and not p.name.startswith(PROBE)
                 for p in self.path.iterdir()):
            raise ResultsError(f"{self.path} is not empty and has no {CONFIGURATION} (results "
                               f"of an older brianlab, or other files); {self.hint}")
        else:
            atomic_write_text(record, json.dumps(
                {"hash": digest, "configuration": _jsonable(configuration)}, indent=2) + "\n")
        self.config_hash = digest

    def _save(self, name: str, write) -> Path:
        target = self.path / name
        try:
            _atomic(target, write, self.writer)
        except OSError as exc:
            rescue = "the cache"
            try:
                rescue = cache_root() / "rescued" / datetime.now().strftime("%Y%m%d-%H%M%S")
                _atomic(rescue / name, write, self.writer)
            except (OSError, CacheError):
                raise ResultsError(f"cannot save {name} into {self.path} ({exc.strerror or exc})"
                                   f", nor into {rescue}") from None
            raise ResultsError(f"cannot save {name} into {self.path} ({exc.strerror or exc}); "
                               f"it was saved to {rescue / name} instead") from None
        return target

    def write_summary(self, summary: dict) -> Path:
        """Write ``summary.json`` (with the time, package versions and configuration hash added).

        Parameters
        ----------
        summary : dict
            The command's record.

        Returns
        -------
        Path
            The file written.
        """
        summary = dict(summary)
        summary.setdefault("written", datetime.now(timezone.utc).isoformat(timespec="seconds"))
        summary.setdefault("versions", versions())
        if self.config_hash:
            summary.setdefault("configuration_hash", self.config_hash)
        text = json.dumps(_jsonable(summary), indent=2) + "\n"
        return self._save("summary.json", lambda handle: handle.write(text.encode("utf-8")))

    def save_arrays(self, name: str, **arrays) -> Path:
        """Save arrays as ``<name>.npz``, atomically (or into the rescue folder, see the class).

        Parameters
        ----------
        name : str
            File name without the suffix.
        **arrays
            The arrays, by name.

        Returns
        -------
        Path
        """
        return self._save(f"{name}.npz", lambda handle: np.savez_compressed(handle, **arrays))

    def save_json(self, name: str, data: dict) -> Path:
        """Save a record as ``<name>.json``, atomically.

        Parameters
        ----------
        name : str
            File name without the suffix.
        data : dict
            The record.

        Returns
        -------
        Path
        """
        text = json.dumps(_jsonable(data), indent=2) + "\n"
        return self._save(f"{name}.json", lambda handle: handle.write(text.encode("utf-8")))

    def save_figure(self, fig, name: str, **kwargs) -> Path:
        """Save a Matplotlib figure under ``name`` (the suffix gives the format, default PNG).

        Parameters
        ----------
        fig : Figure
            The figure.
        name : str
            File name.
        **kwargs
            Passed to :meth:`matplotlib.figure.Figure.savefig`.

        Returns
        -------
        Path
        """
        suffix = Path(name).suffix.lstrip(".") or "png"
        return self._save(name, lambda handle: fig.savefig(handle, format=suffix, **kwargs))
