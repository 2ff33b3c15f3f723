"""The model library: find model files, pick versions, check the lock, load.

Files live at ``<kind>s/<name>/<version>.toml`` under the models folder: the
repository's top-level ``models/``, shipped inside the wheel as the package
``brianlab.models``. ``models.lock`` beside them lists the sha256 of every
released file in ``sha256sum`` format; a released file never changes.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .modelfile import KINDS, Model, read_model_file
from .units import ModelError

__all__ = ["load_model", "models_root", "list_models", "ModelEntry", "lock_problems",
           "write_lock", "LOCK_NAME", "model_path"]

LOCK_NAME = "models.lock"
_REF = re.compile(r"^(?P<name>[a-z][a-z0-9_]*)(?:@(?P<version>[1-9][0-9]*))?$")
_FILE = re.compile(r"^[1-9][0-9]*\.toml$")
_FOLDERS = {f"{kind}s": kind for kind in KINDS}


def models_root() -> Path:
    """The folder that holds the model files.

    ``$BRIANLAB_MODELS`` if set, else the ``brianlab.models`` package (the
    repository's ``models/`` folder in a source checkout or editable install,
    a copy inside the installed wheel otherwise).
    """
    env = os.environ.get("BRIANLAB_MODELS")
    if env:
        return Path(env)
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
    raise ModelError("cannot find the model library (no models/models.lock); "
                     "set BRIANLAB_MODELS to the models folder")


@dataclass(frozen=True)
class ModelEntry:
    """One model name in the library, with all its versions."""

    name: str
    kind: str
    versions: tuple[int, ...]
    root: Path

    @property
    def newest(self) -> int:
        return self.versions[-1]

    def path(self, version: int) -> Path:
        return self.root / f"{self.kind}s" / self.name / f"{version}.toml"


def _scan(root: Path) -> dict[str, ModelEntry]:
    entries: dict[str, ModelEntry] = {}
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
            if name in entries:
                raise ModelError(f"model name {name!r} is used by two kinds "
                                 f"({entries[name].kind} and {kind})", path=root)
            entries[name] = ModelEntry(name, kind, tuple(versions), root)
    return entries


def list_models(root: Path | None = None) -> list[ModelEntry]:
    """All models in the library, sorted by kind then name."""
    root = models_root() if root is None else Path(root)
    return sorted(_scan(root).values(), key=lambda e: (KINDS.index(e.kind), e.name))


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


def model_path(ref: str, root: Path | None = None) -> Path:
    """The file behind ``ref`` (newest version if none is given)."""
    root = models_root() if root is None else Path(root)
    name, version = parse_ref(ref)
    entries = _scan(root)
    if name not in entries:
        known = ", ".join(sorted(entries)) or "none"
        raise ModelError(f"unknown model {name!r}; known models: {known}")
    entry = entries[name]
    if version is None:
        version = entry.newest
    elif version not in entry.versions:
        have = ", ".join(str(v) for v in entry.versions)
        raise ModelError(f"model {name!r} has no version {version}; versions: {have}")
    return entry.path(version)


def load_model(ref: str) -> Model:
    """Load a model from the library by ``"name"`` (newest) or ``"name@version"``.

    Loading is cached: the same reference returns the same :class:`Model`.

    Raises
    ------
    ModelError
        For an invalid or unknown name or version, or a file that fails its checks.
    """
    path = model_path(ref)
    return _load_path(str(path))


@lru_cache(maxsize=None)
def _load_path(path: str) -> Model:
    model = read_model_file(path)
    p = Path(path)
    if model.name != p.parent.name or str(model.version) != p.stem or \
            f"{model.kind}s" != p.parent.parent.name:
        raise ModelError(f"file says {model.kind} {model.ref}, but lies at "
                         f"{p.parent.parent.name}/{p.parent.name}/{p.name}", path=path)
    return model


# ---------------------------------------------------------------------------
# the lock
# ---------------------------------------------------------------------------
def _read_lock(root: Path) -> dict[str, str]:
    lock = root / LOCK_NAME
    entries = {}
    if not lock.is_file():
        return entries
    for lineno, line in enumerate(lock.read_text().splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) != 2 or len(parts[0]) != 64:
            raise ModelError(f"line {lineno}: expected '<sha256>  <path>'", path=lock)
        entries[parts[1]] = parts[0]
    return entries


def _files(root: Path) -> dict[str, str]:
    out = {}
    for entry in _scan(root).values():
        for version in entry.versions:
            path = entry.path(version)
            rel = path.relative_to(root).as_posix()
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def lock_problems(root: Path | None = None) -> list[str]:
    """Differences between the model files and ``models.lock`` (empty when all is well)."""
    root = models_root() if root is None else Path(root)
    locked, files = _read_lock(root), _files(root)
    problems = []
    for rel, sha in sorted(files.items()):
        if rel not in locked:
            problems.append(f"{rel}: not in {LOCK_NAME} (unreleased; run "
                            "'python -m brianlab models lock' to release it)")
        elif locked[rel] != sha:
            problems.append(f"{rel}: changed after release (sha256 {sha[:12]}..., lock has "
                            f"{locked[rel][:12]}...); released files are immutable: add a new "
                            "version instead")
    for rel in sorted(set(locked) - set(files)):
        problems.append(f"{rel}: in {LOCK_NAME} but the file is missing")
    return problems


def write_lock(root: Path | None = None) -> list[str]:
    """Add every unreleased file to the lock; never rewrite a released entry.

    Returns the files newly released. Raises ModelError if a released file changed
    or a file fails its checks.
    """
    root = models_root() if root is None else Path(root)
    locked, files = _read_lock(root), _files(root)
    changed = [rel for rel, sha in files.items() if rel in locked and locked[rel] != sha]
    if changed:
        raise ModelError(f"released file(s) changed: {', '.join(sorted(changed))}")
    new = sorted(set(files) - set(locked))
    for rel in new:
        read_model_file(root / rel)
    locked.update({rel: files[rel] for rel in new})
    text = "".join(f"{sha}  {rel}\n" for rel, sha in sorted(locked.items()))
    (root / LOCK_NAME).write_text(text)
    return new
