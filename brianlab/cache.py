"""The on-disk cache: build directories and arrays that are expensive to recompute.

Everything lives under ``$BRIANLAB_CACHE`` (default ``~/.cache/brianlab``) and can be
deleted at any time; it only saves time. Entries are keyed by a hash of everything
that determines their content, including the source of the code that computes them,
so a change of algorithm never returns stale arrays.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import zipfile
from pathlib import Path
from typing import Callable

import numpy as np

from .errors import CacheError

__all__ = ["CacheError", "cache_root", "cache_directory", "cached_arrays", "source_hash",
           "sources_digest"]

_PACKAGE = Path(__file__).resolve().parent


def cache_root() -> Path:
    """The cache folder, as an absolute path.

    Absolute because its paths are handed to programs that run elsewhere: a standalone
    binary runs in its build directory, where a relative results path would name another
    folder.

    Returns
    -------
    Path
        ``$BRIANLAB_CACHE`` (``~`` expanded, relative to the working directory when it is
        relative), or ``~/.cache/brianlab``. It need not exist yet.

    Raises
    ------
    CacheError
        If the path or one of its parents is a file, or the path is too long.
    """
    value = os.environ.get("BRIANLAB_CACHE")
    root = Path(os.path.abspath(Path(value).expanduser() if value else
                                Path.home() / ".cache" / "brianlab"))
    for folder in (root, *root.parents):  # the nearest one that exists must be a folder
        try:
            if folder.is_dir():
                break
            if not folder.exists():
                continue
        except OSError as exc:  # e.g. a name longer than the file system allows
            shown = f"{str(root)[:100]}...({len(str(root).encode())} bytes)" \
                if len(str(root)) > 300 else str(root)
            raise CacheError(f"BRIANLAB_CACHE={shown!r} cannot be a cache folder "
                             f"({exc.strerror or exc}); set it to another folder") from None
        raise CacheError(f"BRIANLAB_CACHE={str(root)!r} cannot be a cache folder: {folder} is a "
                         "file; set it to a folder (or unset it for ~/.cache/brianlab)")
    return root


def cache_directory(key: str) -> Path:
    """A stable directory for ``key`` in the cache (not created).

    Used as the build directory of standalone devices: Brian2 rewrites only generated
    files whose content changed, so rebuilding the same network there recompiles nothing.

    Parameters
    ----------
    key : str
        Names the directory (a hash of what is built).

    Returns
    -------
    Path
    """
    return cache_root() / re.sub(r"[^A-Za-z0-9_.-]", "_", key)


def sources_digest() -> str:
    """sha256 over brianlab's own source files, every ``brianlab/**/*.py`` in path order
    (a cached build or plan is only as current as the code that made it).

    The same value as the CMSA command's plan and build keys always used
    (``brianlab.cmsa.cached.sources_digest`` is this function), so existing caches stay
    valid.

    Returns
    -------
    str
        64 hexadecimal digits.
    """
    digest = hashlib.sha256()
    for path in sorted(_PACKAGE.rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def source_hash(*modules) -> str:
    """sha256 of the source files of ``modules`` (a cache key part that changes with the code).

    Parameters
    ----------
    *modules : module
        Python modules.

    Returns
    -------
    str
    """
    digest = hashlib.sha256()
    for module in modules:
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()


def cached_arrays(kind: str, key, compute: Callable[[], dict]) -> dict:
    """Arrays from the cache, or ``compute()``'s result, saved for next time.

    Parameters
    ----------
    kind : str
        A readable prefix of the file name (``"sheet-connectivity"``).
    key
        Anything whose ``repr`` determines the arrays (parameters, seeds,
        :func:`source_hash` of the computing code).
    compute : callable
        Returns a dict of numpy arrays.

    Returns
    -------
    dict
        Name to array. A damaged or unreadable entry is recomputed; a cache that
        cannot be written is skipped silently (it only saves time).
    """
    digest = hashlib.sha256(repr(key).encode()).hexdigest()[:24]
    path = cache_root() / "arrays" / f"{kind}-{digest}.npz"
    if path.is_file():
        try:
            with np.load(path) as data:
                return {name: data[name] for name in data.files}
        except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile):
            pass  # damaged (e.g. truncated by a full disk): recomputed and replaced below
    arrays = compute()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)  # atomic: a reader never sees half a file
    except OSError:
        pass
    return arrays
