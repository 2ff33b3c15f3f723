"""The model library: loading model and network files from the model store.

The store (:mod:`brianlab.store`, which never imports Brian2) is the search path of model
folders, their versions and locks: files live at ``<kind>s/<name>/<version>.toml``
inside a models folder (network files at ``networks/<name>/<version>.toml``); the
user's folders (``$BRIANLAB_MODELS``, then those given to :func:`add_model_path`) come
first, the built-in folder last. This module parses what the store reads: Brian2's
equations and units check every file.

Each folder has its own ``models.lock`` listing the sha256 of every released file in
``sha256sum`` format. A released file never changes: :func:`load_model` (and
:func:`load_network`) refuses a file
that differs from its lock entry, and loads a file that is not in its lock with an
:class:`UnreleasedModelWarning`; the model's provenance says which.

The store's names (:func:`list_models`, :func:`model_paths`, :func:`lock_problems`, ...)
are importable from here as before.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from . import store
from .modelfile import Model, parse_model_bytes
from .networkfile import parse_network_bytes
from .store import (  # noqa: F401  (the store's names, importable from here as before)
    ENV_VAR,
    KINDS,
    LIBRARY_KINDS,
    LOCK_NAME,
    ModelEntry,
    UnreleasedModelWarning,
    add_model_path,
    list_models,
    lock_problems,
    model_path,
    model_paths,
    models_root,
    parse_ref,
    read_model_bytes,
    ref_kind,
    unreleased_files,
)
from .units import ModelError

__all__ = ["load_model", "load_network", "check_file", "ref_kind", "LIBRARY_KINDS",
           "models_root", "model_paths", "add_model_path", "list_models",
           "ModelEntry", "lock_problems", "write_lock", "LOCK_NAME", "model_path",
           "UnreleasedModelWarning", "ENV_VAR", "unreleased_files"]

_LOADED: dict[tuple, Model] = {}


def load_model(ref: str, *, allow_modified: bool = False) -> Model:
    """Load a model from the library by ``"name"`` (newest) or ``"name@version"``.

    The file is checked against its folder's ``models.lock`` on every load. The same
    unchanged file returns the same :class:`Model`.

    Parameters
    ----------
    ref : str
        ``"name"`` or ``"name@version"``.
    allow_modified : bool
        Load a released file that differs from its lock entry (its provenance then
        says ``"modified"``); by default that is an error.

    Returns
    -------
    Model

    Raises
    ------
    ModelError
        For an invalid or unknown name or version, a file that fails its checks, or a
        released file that changed (naming the file and both hashes).

    Warns
    -----
    UnreleasedModelWarning
        For a file that is not in its lock (provenance ``"unreleased"``) or a modified
        one loaded with ``allow_modified``.
    """
    stored = store.read_checked(ref, allow_modified=allow_modified, network=False)
    path = stored.path
    key = (str(path), stored.sha256, stored.status)
    if key not in _LOADED:
        model = parse_model_bytes(stored.data, path=path, status=stored.status)
        if model.name != path.parent.name or str(model.version) != path.stem or \
                f"{model.kind}s" != path.parent.parent.name:
            raise ModelError(f"file says {model.kind} {model.ref}, but lies at "
                             f"{path.parent.parent.name}/{path.parent.name}/{path.name}",
                             path=path)
        _LOADED[key] = model
    return _LOADED[key]


def load_network(ref: str, *, allow_modified: bool = False):
    """Load a network file from the library by ``"name"`` (newest) or ``"name@version"``.

    The file is checked against its folder's ``models.lock`` on every load, as model
    files are, and every model it refers to is loaded (and lock-checked) from the library.

    Parameters
    ----------
    ref : str
        ``"name"`` or ``"name@version"``.
    allow_modified : bool
        Load a released file that differs from its lock entry (its provenance then
        says ``"modified"``); by default that is an error.

    Returns
    -------
    NetworkFile

    Raises
    ------
    ModelError
        For an invalid or unknown name or version, a file that fails its checks, or a
        released file that changed (naming the file and both hashes).

    Warns
    -----
    UnreleasedModelWarning
        For a file that is not in its lock, or a modified one loaded with
        ``allow_modified``.
    """
    stored = store.read_checked(ref, allow_modified=allow_modified, network=True)
    path = stored.path
    network = parse_network_bytes(stored.data, path=path, status=stored.status,
                                  load_model=load_model)
    if network.name != path.parent.name or str(network.version) != path.stem:
        raise ModelError(f"file says network {network.ref}, but lies at "
                         f"{path.parent.parent.name}/{path.parent.name}/{path.name}", path=path)
    return network


def check_file(path):
    """Read and check one model or network file by path (``models check FILE``).

    Parameters
    ----------
    path : str or Path
        The file.

    Returns
    -------
    Model or NetworkFile
        As the file's ``kind`` says.

    Raises
    ------
    ModelError
        Naming the file, the key at fault and what was expected.
    """
    data = read_model_bytes(path)
    try:
        kind = tomllib.loads(data.decode("utf-8")).get("kind")
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
        kind = None  # the parser names the problem
    if kind == "network":
        return parse_network_bytes(data, path=path, load_model=load_model)
    return parse_model_bytes(data, path=path)


def write_lock(root: Path | None = None) -> list[str]:
    """Add every unreleased file of a folder to its lock; never rewrite a released entry.

    Each new file is checked (:func:`check_file`) before the lock is written
    (:func:`brianlab.store.write_lock` with that check).

    Parameters
    ----------
    root : Path, optional
        The folder (default: the first of :func:`model_paths`, i.e. the user's own
        folder when there is one, else the built-in library).

    Returns
    -------
    list of str
        The files newly released.

    Raises
    ------
    ModelError
        If a released file changed, a file fails its checks, or ``models.lock`` is a
        symbolic link (it is replaced atomically, never written through a link).
    """
    return store.write_lock(root, check=check_file)
