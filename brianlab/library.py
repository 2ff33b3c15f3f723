"""The model library: a search path of model folders, versions, locks, loading.

Files live at ``<kind>s/<name>/<version>.toml`` inside a models folder (network files
at ``networks/<name>/<version>.toml``, kind ``network``). The library
is a search path: the user's folders (``$BRIANLAB_MODELS``, ``os.pathsep``-separated,
then those given to :func:`add_model_path`) first, the built-in folder (the
repository's top-level ``models/``, shipped inside the wheel as the package
``brianlab.models``) last. One ``name@version`` in two folders is an error.

Each folder has its own ``models.lock`` listing the sha256 of every released file in
``sha256sum`` format. A released file never changes: :func:`load_model` (and
:func:`load_network`) refuses a file
that differs from its lock entry, and loads a file that is not in its lock with an
:class:`UnreleasedModelWarning`; the model's provenance says which.
"""

from __future__ import annotations

import hashlib
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

from .modelfile import KINDS, Model, parse_model_bytes, read_model_bytes
from .results import atomic_write_text
from .units import ModelError

__all__ = ["load_model", "load_network", "check_file", "ref_kind", "LIBRARY_KINDS",
           "models_root", "model_paths", "add_model_path", "list_models",
           "ModelEntry", "lock_problems", "write_lock", "LOCK_NAME", "model_path",
           "UnreleasedModelWarning", "ENV_VAR", "unreleased_files"]

LOCK_NAME = "models.lock"
ENV_VAR = "BRIANLAB_MODELS"
_REF = re.compile(r"^(?P<name>[a-z][a-z0-9_]*)(?:@(?P<version>[1-9][0-9]*))?$")
_FILE = re.compile(r"^[1-9][0-9]*\.toml$")
#: The kinds of files in a models folder: the model kinds, and network files.
LIBRARY_KINDS = KINDS + ("network",)
_FOLDERS = {f"{kind}s": kind for kind in LIBRARY_KINDS}
_ADDED: list[Path] = []


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
    here = Path(__file__).resolve().parent
    for candidate in (here / "models", here.parent / "models"):
        if (candidate / LOCK_NAME).is_file():
            return candidate
    import importlib.util

    spec = importlib.util.find_spec("brianlab.models")
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            if (Path(location) / LOCK_NAME).is_file():
                return Path(location)
    raise ModelError("cannot find the built-in model library (no models/models.lock)")


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
    """Split ``"name"`` / ``"name@3"``; anything else (paths, ``..``) is refused."""
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
    path, root = _locate(ref, network=False)
    data, sha, status = _read_checked(path, root, allow_modified)
    key = (str(path), sha, status)
    if key not in _LOADED:
        model = parse_model_bytes(data, path=path, status=status)
        if model.name != path.parent.name or str(model.version) != path.stem or \
                f"{model.kind}s" != path.parent.parent.name:
            raise ModelError(f"file says {model.kind} {model.ref}, but lies at "
                             f"{path.parent.parent.name}/{path.parent.name}/{path.name}",
                             path=path)
        _LOADED[key] = model
    return _LOADED[key]


def _read_checked(path: Path, root: Path, allow_modified: bool) -> tuple[bytes, str, str]:
    """A library file's bytes, sha256 and release status, checked against its lock."""
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
    return data, sha, status


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
    from .networkfile import parse_network_bytes

    path, root = _locate(ref, network=True)
    data, _, status = _read_checked(path, root, allow_modified)
    network = parse_network_bytes(data, path=path, status=status)
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
    import tomllib

    from .modelfile import parse_model_bytes
    from .networkfile import parse_network_bytes

    data = read_model_bytes(path)
    try:
        kind = tomllib.loads(data.decode("utf-8")).get("kind")
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
        kind = None  # the parser names the problem
    if kind == "network":
        return parse_network_bytes(data, path=path)
    return parse_model_bytes(data, path=path)


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


def write_lock(root: Path | None = None) -> list[str]:
    """Add every unreleased file of a folder to its lock; never rewrite a released entry.

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
        check_file(root / rel)
    locked.update({rel: files[rel] for rel in new})
    text = "".join(f"{sha}  {rel}\n" for rel, sha in sorted(locked.items()))
    atomic_write_text(lock, text)  # replaces a link that appeared meanwhile, never its target
    return new
