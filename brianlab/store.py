"""The model store: a search path of model folders, versions, locks, file bytes.

Files live at ``<kind>s/<name>/<version>.toml`` inside a models folder (network files
at ``networks/<name>/<version>.toml``, kind ``network``). The store is a search path:
the user's folders (``$BRIANLAB_MODELS``, ``os.pathsep``-separated, then those given to
:func:`add_model_path`) first, the built-in folder (the repository's top-level
``models/``, shipped inside the wheel as the package ``brianlab.models``) last. One
``name@version`` in two folders is an error.

Each folder has its own ``models.lock`` listing the sha256 of every released file in
``sha256sum`` format. A released file never changes: :func:`read_checked` refuses a file
that differs from its lock entry, and reads a file that is not in its lock with an
:class:`UnreleasedModelWarning`; the status it returns says which.

This module never imports Brian2 (tier 1, ``docs/architecture.md``): it finds, reads and
hashes files but parses none. :mod:`brianlab.library` (tier 2) parses what it reads
(:func:`~brianlab.library.load_model`, :func:`~brianlab.library.load_network`) and
re-exports the names defined here. :func:`models_digest` is the one digest of every file
the library may read (a CMSA plan's key).
"""

from __future__ import annotations

import hashlib
import os
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .errors import ModelError
from .modelformat import KINDS, MAX_FILE_BYTES, read_model_bytes  # the format's limits
from .results import atomic_write_text

__all__ = ["KINDS", "LIBRARY_KINDS", "MAX_FILE_BYTES", "LOCK_NAME", "ENV_VAR",
           "UnreleasedModelWarning", "models_root", "add_model_path", "model_paths",
           "ModelEntry", "list_models", "parse_ref", "ref_kind", "model_path",
           "read_model_bytes", "StoredFile", "read_checked", "unreleased_files",
           "lock_problems", "write_lock", "models_digest"]

LOCK_NAME = "models.lock"
ENV_VAR = "BRIANLAB_MODELS"
_REF = re.compile(r"^(?P<name>[a-z][a-z0-9_]*)(?:@(?P<version>[1-9][0-9]*))?$")
_FILE = re.compile(r"^[1-9][0-9]*\.toml$")
#: The kinds of files in a models folder: the model kinds, and network files.
LIBRARY_KINDS = KINDS + ("network",)
_FOLDERS = {f"{kind}s": kind for kind in LIBRARY_KINDS}
_ADDED: list[Path] = []
_HERE = Path(__file__).resolve().parent


class UnreleasedModelWarning(UserWarning):
    """A model file was loaded that is not (or no longer) what its folder's lock released."""


def models_root() -> Path:
    """The built-in model folder (the ``brianlab.models`` package).

    Returns
    -------
    Path
        The repository's ``models/`` folder in a source checkout or editable install, a
        copy inside the installed wheel otherwise.

    Raises
    ------
    ModelError
        If neither holds a ``models.lock``.
    """
    for candidate in _builtin_candidates():
        if (candidate / LOCK_NAME).is_file():
            return candidate
    import importlib.util

    spec = importlib.util.find_spec("brianlab.models")
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            if (Path(location) / LOCK_NAME).is_file():
                return Path(location)
    raise ModelError("cannot find the built-in model library (no models/models.lock)")


def _builtin_candidates() -> tuple[Path, Path]:
    """Where the built-in folder lies: inside the package (a wheel), or beside it (a
    source checkout or editable install)."""
    return _HERE / "models", _HERE.parent / "models"


def _user_folder(folder, origin: str) -> Path:
    path = Path(folder).expanduser()
    if not path.is_dir():
        what = "does not exist" if not path.exists() else "is not a folder"
        raise ModelError(f"the model folder {path} ({origin}) {what}")
    return path.resolve()


def add_model_path(folder) -> Path:
    """Add a folder of model files to the library, before the built-in one.

    Parameters
    ----------
    folder : str or Path
        A folder laid out as ``<kind>s/<name>/<version>.toml`` with its own
        ``models.lock`` (files not in it load as unreleased).

    Returns
    -------
    Path
        The resolved folder.

    Raises
    ------
    ModelError
        If the folder does not exist.
    """
    path = _user_folder(folder, "add_model_path")
    if path not in _ADDED:
        _ADDED.append(path)
    return path


def model_paths() -> list[Path]:
    """The library's folders in search order: ``$BRIANLAB_MODELS``, added folders, built-in.

    Returns
    -------
    list of Path

    Raises
    ------
    ModelError
        If a folder named in ``$BRIANLAB_MODELS`` does not exist.
    """
    paths = [_user_folder(item, f"from ${ENV_VAR}")
             for item in os.environ.get(ENV_VAR, "").split(os.pathsep) if item.strip()]
    paths += _ADDED
    paths.append(models_root().resolve())
    out = []
    for path in paths:  # a folder named twice is searched once
        if path not in out:
            out.append(path)
    return out


@dataclass(frozen=True)
class ModelEntry:
    """One model name in the library, with all its versions (possibly from several folders).

    Parameters
    ----------
    name : str
        The model's name.
    kind : str
        ``neuron``, ``receptor``, ``synapse``, ``rate`` or ``network``.
    versions : tuple of int
        Sorted.
    roots : tuple of Path
        The models folder of each version.
    """

    name: str
    kind: str
    versions: tuple[int, ...]
    roots: tuple[Path, ...]  # the folder of each version

    @property
    def newest(self) -> int:
        """The highest version number."""
        return self.versions[-1]

    def root(self, version: int) -> Path:
        """The models folder that holds ``version``.

        Parameters
        ----------
        version : int
            One of :attr:`versions`.

        Returns
        -------
        Path
        """
        return self.roots[self.versions.index(version)]

    def path(self, version: int) -> Path:
        """The file of ``version``.

        Parameters
        ----------
        version : int
            One of :attr:`versions`.

        Returns
        -------
        Path
            ``<root>/<kind>s/<name>/<version>.toml``.
        """
        return self.root(version) / f"{self.kind}s" / self.name / f"{version}.toml"


def _scan_folder(root: Path) -> dict[str, tuple[str, list[int]]]:
    found: dict[str, tuple[str, list[int]]] = {}
    for folder, kind in _FOLDERS.items():
        base = root / folder
        if not base.is_dir():
            continue
        for name_dir in sorted(base.iterdir()):
            if not name_dir.is_dir():
                continue
            versions = sorted(int(f.stem) for f in name_dir.iterdir() if _FILE.match(f.name))
            if not versions:
                continue
            name = name_dir.name
            if name in found:
                raise ModelError(f"model name {name!r} is used by two kinds "
                                 f"({found[name][0]} and {kind})", path=root)
            found[name] = (kind, versions)
    return found


def _scan(roots) -> dict[str, ModelEntry]:
    merged: dict[str, tuple[str, dict[int, Path]]] = {}
    for root in roots:
        for name, (kind, versions) in _scan_folder(root).items():
            have_kind, where = merged.setdefault(name, (kind, {}))
            if have_kind != kind:
                raise ModelError(f"model name {name!r} is a {have_kind} in "
                                 f"{where[min(where)]} and a {kind} in {root}")
            for version in versions:
                if version in where:
                    first = where[version] / f"{kind}s" / name / f"{version}.toml"
                    second = root / f"{kind}s" / name / f"{version}.toml"
                    raise ModelError(f"{name}@{version} is defined twice: {first} and {second}; "
                                     "give your model another name or version")
                where[version] = root
    return {name: ModelEntry(name, kind, tuple(sorted(where)),
                             tuple(where[v] for v in sorted(where)))
            for name, (kind, where) in merged.items()}


def _roots(root) -> list[Path]:
    return model_paths() if root is None else [Path(root)]


def list_models(root: Path | None = None) -> list[ModelEntry]:
    """All models and network files in the library (or in one folder), by kind then name.

    Parameters
    ----------
    root : Path, optional
        List only this models folder.

    Returns
    -------
    list of ModelEntry
    """
    return sorted(_scan(_roots(root)).values(),
                  key=lambda e: (LIBRARY_KINDS.index(e.kind), e.name))


def parse_ref(ref: str) -> tuple[str, int | None]:
    """Split ``"name"`` / ``"name@3"``; anything else (paths, ``..``) is refused.

    Parameters
    ----------
    ref : str
        ``"name"`` or ``"name@version"``.

    Returns
    -------
    tuple
        ``(name, version)``; the version is None when the reference names none.

    Raises
    ------
    ModelError
        If ``ref`` is not a string of that form.
    """
    if not isinstance(ref, str):
        raise ModelError(f"a model name must be a string, got {type(ref).__name__}")
    match = _REF.match(ref)
    if not match:
        raise ModelError(f"invalid model name {ref!r}: expected 'name' or 'name@version' "
                         "(lower-case letters, digits, '_'); to read a file by path use "
                         "brianlab.read_model_file")
    version = match.group("version")
    return match.group("name"), None if version is None else int(version)


def _locate(ref: str, root=None, *, network: bool | None = None) -> tuple[Path, Path]:
    name, version = parse_ref(ref)
    entries = _scan(_roots(root))
    if name not in entries:
        known = ", ".join(sorted(entries)) or "none"
        raise ModelError(f"unknown model {name!r}; known models: {known}")
    entry = entries[name]
    if network is True and entry.kind != "network":
        raise ModelError(f"{name!r} is a {entry.kind} model, not a network file; load it with "
                         "brianlab.load_model")
    if network is False and entry.kind == "network":
        raise ModelError(f"{name!r} is a network file, not a model; load it with "
                         "brianlab.load_network")
    if version is None:
        version = entry.newest
    elif version not in entry.versions:
        have = ", ".join(str(v) for v in entry.versions)
        raise ModelError(f"model {name!r} has no version {version}; versions: {have}")
    return entry.path(version), entry.root(version)


def ref_kind(ref: str) -> str:
    """The kind of the file behind a reference (``neuron``, ..., ``network``).

    Parameters
    ----------
    ref : str
        ``"name"`` or ``"name@version"``.

    Returns
    -------
    str

    Raises
    ------
    ModelError
        If no such model or network exists.
    """
    name, _ = parse_ref(ref)
    _locate(ref)
    return _scan(model_paths())[name].kind


def model_path(ref: str, root: Path | None = None) -> Path:
    """The file behind a model reference.

    Parameters
    ----------
    ref : str
        ``"name"`` (newest version) or ``"name@version"``.
    root : Path, optional
        Look only in this models folder.

    Returns
    -------
    Path

    Raises
    ------
    ModelError
        If no such model or version exists.
    """
    return _locate(ref, root)[0]


# ---------------------------------------------------------------------------
# reading a file
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class StoredFile:
    """A library file's bytes as read, checked against its folder's lock.

    Parameters
    ----------
    path : Path
        The file.
    data : bytes
        Its bytes (at most :data:`MAX_FILE_BYTES`).
    sha256 : str
        The sha256 of ``data``.
    status : str
        ``released`` (as its lock says), ``unreleased`` (not in its lock) or
        ``modified`` (differs from its lock entry; read with ``allow_modified``).
    """

    path: Path
    data: bytes
    sha256: str
    status: str


def read_checked(ref: str, *, allow_modified: bool = False,
                 network: bool | None = None) -> StoredFile:
    """Locate a reference and read its file, checked against its folder's ``models.lock``.

    Parameters
    ----------
    ref : str
        ``"name"`` (newest version) or ``"name@version"``.
    allow_modified : bool
        Read a released file that differs from its lock entry (status ``modified``);
        by default that is an error.
    network : bool, optional
        True: the reference must name a network file; False: it must name a model;
        None: either.

    Returns
    -------
    StoredFile

    Raises
    ------
    ModelError
        For an invalid or unknown name or version, a reference of the wrong kind, a file
        that cannot be read, or a released file that changed (naming the file and both
        hashes).

    Warns
    -----
    UnreleasedModelWarning
        For a file that is not in its lock, or a modified one read with
        ``allow_modified`` (the warning points at the caller's caller: the code that
        asked :func:`~brianlab.library.load_model` for the model).
    """
    path, root = _locate(ref, network=network)
    data = read_model_bytes(path)
    sha = hashlib.sha256(data).hexdigest()
    rel = path.relative_to(root).as_posix()
    locked = _read_lock(root).get(rel)
    if locked is None:
        status = "unreleased"
        warnings.warn(f"{path}: not in {root / LOCK_NAME}; results record it as unreleased "
                      "(release it with 'python -m brianlab models lock')",
                      UnreleasedModelWarning, stacklevel=3)
    elif locked != sha:
        if not allow_modified:
            raise ModelError(f"released file changed: its sha256 is {sha}, {LOCK_NAME} has "
                             f"{locked}; released files are immutable: restore the file and "
                             "put changes into a new version (or load it with "
                             "allow_modified=True, recorded as modified)", path=path)
        status = "modified"
        warnings.warn(f"{path}: differs from its lock entry; results record it as modified",
                      UnreleasedModelWarning, stacklevel=3)
    else:
        status = "released"
    return StoredFile(path, data, sha, status)


# ---------------------------------------------------------------------------
# the lock
# ---------------------------------------------------------------------------
def _read_lock(root: Path) -> dict[str, str]:
    lock = root / LOCK_NAME
    entries = {}
    if not lock.is_file():
        return entries
    try:
        text = lock.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ModelError(f"not UTF-8 text (byte {exc.start}); expected lines "
                         "'<sha256>  <path>'", path=lock) from None
    except OSError as exc:
        raise ModelError(f"cannot be read ({exc.strerror or exc})", path=lock) from None
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) != 2 or len(parts[0]) != 64:
            raise ModelError(f"line {lineno}: expected '<sha256>  <path>'", path=lock)
        entries[parts[1]] = parts[0]
    return entries


def _files(root: Path) -> dict[str, str]:
    out = {}
    for entry in _scan([root]).values():
        for version in entry.versions:
            path = entry.path(version)
            rel = path.relative_to(root).as_posix()
            out[rel] = hashlib.sha256(read_model_bytes(path)).hexdigest()
    return out


def unreleased_files(root: Path | None = None) -> list[Path]:
    """Model files not (yet) in their folder's ``models.lock``.

    Parameters
    ----------
    root : Path, optional
        Only this folder (default: every folder of the library).

    Returns
    -------
    list of Path
        The files ``python -m brianlab models lock`` would release.
    """
    out = []
    for folder in _roots(root):
        locked = _read_lock(folder)
        out.extend(folder / rel for rel in sorted(_files(folder)) if rel not in locked)
    return out


def lock_problems(root: Path | None = None, *, unreleased: bool = True) -> list[str]:
    """Differences between the model files and their folder's ``models.lock``.

    Parameters
    ----------
    root : Path, optional
        Check only this folder (default: every folder of the library).
    unreleased : bool
        Whether a file not in the lock counts (``models check`` lists such files as
        unreleased, not as problems: see :func:`unreleased_files`).

    Returns
    -------
    list of str
        One sentence per problem; empty when all is well.
    """
    problems = []
    for folder in _roots(root):
        locked, files = _read_lock(folder), _files(folder)
        for rel, sha in sorted(files.items()):
            if rel not in locked:
                if unreleased:
                    problems.append(f"{folder / rel}: not in {LOCK_NAME} (unreleased; run "
                                    "'python -m brianlab models lock' to release it)")
            elif locked[rel] != sha:
                problems.append(f"{folder / rel}: changed after release (sha256 {sha[:12]}..., "
                                f"lock has {locked[rel][:12]}...); released files are immutable: "
                                "add a new version instead")
        for rel in sorted(set(locked) - set(files)):
            problems.append(f"{folder / rel}: in {LOCK_NAME} but the file is missing")
    return problems


def write_lock(root: Path | None = None, *, check: Callable[[Path], object]) -> list[str]:
    """Add every unreleased file of a folder to its lock; never rewrite a released entry.

    :func:`brianlab.library.write_lock` (what ``python -m brianlab models lock`` calls)
    is this function with ``check`` set to :func:`brianlab.library.check_file`.

    Parameters
    ----------
    root : Path, optional
        The folder (default: the first of :func:`model_paths`, i.e. the user's own
        folder when there is one, else the built-in library).
    check : callable
        Called with each file about to be released, before the lock is written; raises
        :class:`ModelError` for a file that fails its checks (parsing is tier 2's job).

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
    root = model_paths()[0] if root is None else Path(root)
    lock = root / LOCK_NAME
    if lock.is_symlink():
        raise ModelError(f"{LOCK_NAME} is a symbolic link; refusing to write through it "
                         "(replace it by a regular file)", path=lock)
    locked, files = _read_lock(root), _files(root)
    changed = [rel for rel, sha in files.items() if rel in locked and locked[rel] != sha]
    if changed:
        raise ModelError(f"released file(s) changed: {', '.join(sorted(changed))}", path=root)
    new = sorted(set(files) - set(locked))
    for rel in new:
        check(root / rel)
    locked.update({rel: files[rel] for rel in new})
    text = "".join(f"{sha}  {rel}\n" for rel, sha in sorted(locked.items()))
    atomic_write_text(lock, text)  # replaces a link that appeared meanwhile, never its target
    return new


# ---------------------------------------------------------------------------
# the digest of every file the library may read
# ---------------------------------------------------------------------------
def _digest_folders() -> list[Path]:
    """The folders :func:`models_digest` covers: ``$BRIANLAB_MODELS`` (as written, not
    checked: a missing folder counts by its name), the added folders, and both places
    the built-in folder may lie (:func:`_builtin_candidates`)."""
    folders = [Path(item).expanduser() for item in
               os.environ.get(ENV_VAR, "").split(os.pathsep) if item.strip()]
    folders += list(_ADDED)
    folders += list(_builtin_candidates())
    return folders


def _digest_files(folder: Path) -> list[Path]:
    """The files of a models folder the library reads: ``<kind>s/<name>/<N>.toml`` and
    ``models.lock`` (nothing else there changes a model)."""
    files = sorted(folder.glob("*/*/*.toml"))
    return [*files, folder / LOCK_NAME]


def _digest_bytes(path: Path) -> bytes:
    """A model file's bytes as :func:`read_model_bytes` reads them (regular files up to
    :data:`MAX_FILE_BYTES`); for anything else, what it is (the loader refuses it, and a
    change of it still changes the digest)."""
    try:
        if not path.is_file():
            return b"missing" if not path.exists() else b"not a regular file"
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        return f"unreadable: {exc.strerror}".encode()
    if len(data) > MAX_FILE_BYTES:
        st = path.stat()
        return f"too large: {st.st_size} {st.st_mtime_ns} {st.st_ctime_ns}".encode()
    return data


def models_digest() -> str:
    """sha256 over every file the model library may read, without parsing any.

    Each folder of the search path counts by its resolved path, and each of its files
    (``<kind>s/<name>/<N>.toml`` and ``models.lock``) by its relative path and the sha256
    of its bytes, read under :data:`MAX_FILE_BYTES` (a file the loader refuses counts by
    what it is: missing, not a regular file, too large with its size and times). A CMSA
    command plan is keyed by it. The digest is the one ``brianlab.cmsa.cached`` computed
    before it moved here (the same folders, files, order and bytes), so plans saved
    before stay valid; ``tests/test_store.py`` keeps the two equal.

    Returns
    -------
    str
        Hex sha256.
    """
    digest = hashlib.sha256()
    for folder in _digest_folders():
        folder = folder.resolve()
        digest.update(str(folder).encode() + b"\0")
        if folder.is_dir():
            for path in _digest_files(folder):
                data = _digest_bytes(path)
                digest.update(str(path.relative_to(folder)).encode() + b"\0")
                digest.update(hashlib.sha256(data).digest())
    return digest.hexdigest()
