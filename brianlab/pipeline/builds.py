"""Stage 3 of the pipeline, without Brian2: find a current build (design of issue 25, 2.3).

A lean build's directory, ``$BRIANLAB_CACHE/build-<device>-<key[:16]>/``, holds Brian2's
generated tree, the digest of ``main`` and the static arrays
(:data:`brianlab.sweeps.BUILD_RECORD`, written by
:meth:`~brianlab.sweeps.CompiledNetwork.from_session`) and a manifest
(:data:`MANIFEST`, a :class:`Manifest`): the key it was built for, the result files,
the run-time variables, the network's context and provenance. :func:`find` returns the
manifest of a build that is current (key equal, binary and static arrays unchanged),
read under a shared lock (:func:`shared_lock`; a build holds the lock exclusively), and
None otherwise: the caller compiles (tier 2). The CMSA command's compiled points run on
these builds too (:func:`brianlab.cmsa.plan.make_plan`).
"""

from __future__ import annotations

import fcntl
import json
import math
import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ..cache import cache_directory
from ..errors import CacheError
from ..sweeps import CompiledNetwork
from .plan import BUILD_FORMAT, BuildSpec, check_fields, check_str

__all__ = ["MANIFEST", "MANIFEST_BYTES", "Manifest", "directory", "kept", "find", "cached_manifest",
           "build_changed", "shared_lock"]

#: The manifest of a pipeline build, in its directory.
MANIFEST = "brianlab-build.json"
#: Largest manifest read.
MANIFEST_BYTES = 10_000_000
_COMPILED = ("directory", "outputs", "checks", "digest", "environment", "description")


def _expect(ok: bool, what: str):
    if not ok:
        raise CacheError(what)


def _object(value, where: str) -> dict:
    _expect(isinstance(value, dict), f"{where}: expected an object")
    return value


def _arrays(value, where: str) -> dict:
    """Name -> ``[file name, dtype]`` (a :class:`CompiledNetwork`'s outputs or checks)."""
    for name, entry in _object(value, where).items():
        _expect(isinstance(entry, list) and len(entry) == 2 and
                all(isinstance(e, str) for e in entry),
                f"{where}.{name}: expected [file name, dtype]")
        _expect(Path(entry[0]).name == entry[0] and entry[0] not in ("", ".", ".."),
                f"{where}.{name}: {entry[0]!r:.80} is not a plain file name")
    return value


def _variables(value, where: str) -> dict:
    """Run-time target -> Brian2 variable name, or a list of them."""
    for name, entry in _object(value, where).items():
        _expect(isinstance(entry, str) or (isinstance(entry, list) and entry and
                                           all(isinstance(e, str) for e in entry)),
                f"{where}.{name}: expected a variable name or a list of them")
    return value


@dataclass(frozen=True)
class Manifest:
    """A build's manifest (``brianlab-build.json``).

    Parameters
    ----------
    key : str
        :meth:`BuildSpec.key` the build was made for.
    key_parts : dict
        :meth:`BuildSpec.key_parts` (readable: what the build depends on).
    compiled : CompiledNetwork
        The binary, its result files and its digest.
    variables : dict
        Run-time target (``"E.g_max_ampa"``) -> Brian2 variable (``"cuba_E.g_max_ampa"``),
        or a list of them (``"drive_seed"``).
    context : dict
        ``populations``, ``lattices``, ``dt_s``, ``phases``, ``monitors``.
    provenance : dict
        The network's, the models' and the seeds' records.
    brian2 : str
        Brian2's version that built it.
    built : str
        When (ISO 8601, UTC).
    build_s : float
        How long the build took (s).
    format : int
        :data:`~brianlab.pipeline.plan.BUILD_FORMAT`.
    """

    key: str
    key_parts: dict
    compiled: CompiledNetwork
    variables: dict
    context: dict = field(default_factory=dict)
    provenance: dict = field(default_factory=dict)
    brian2: str = ""
    built: str = ""
    build_s: float = 0.0
    format: int = BUILD_FORMAT

    def to_json(self) -> str:
        """The manifest file's text (:meth:`from_json` reads it back).

        Returns
        -------
        str
        """
        c = self.compiled
        compiled = {"directory": c.directory, "outputs": c.outputs, "checks": c.checks,
                    "digest": c.digest, "environment": c.environment,
                    "description": c.description}
        return json.dumps({"format": self.format, "key": self.key, "key_parts": self.key_parts,
                           "compiled": compiled, "variables": self.variables,
                           "context": self.context, "provenance": self.provenance,
                           "brian2": self.brian2, "built": self.built,
                           "build_s": self.build_s}, indent=1) + "\n"

    @classmethod
    def from_json(cls, text) -> "Manifest":
        """Read a manifest file's text, every field checked.

        Parameters
        ----------
        text : str or bytes

        Returns
        -------
        Manifest

        Raises
        ------
        CacheError
            Naming the field that is missing or wrong (also for text that is not JSON).
        """
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise CacheError(f"manifest: not JSON ({exc})") from None
        check_fields(data, ("format", "key", "key_parts", "compiled", "variables", "context",
                            "provenance", "brian2", "built", "build_s"), "manifest")
        _expect(data["format"] == BUILD_FORMAT, f"manifest.format: {data['format']!r} is not "
                f"{BUILD_FORMAT}")
        key = check_str(data["key"], "manifest.key")
        _expect(len(key) == 64 and all(ch in "0123456789abcdef" for ch in key),
                "manifest.key: expected a sha256")
        compiled = check_fields(data["compiled"], _COMPILED, "manifest.compiled")
        directory = check_str(compiled["directory"], "manifest.compiled.directory")
        _expect(Path(directory).is_absolute(), "manifest.compiled.directory: not absolute")
        build_s = data["build_s"]
        _expect(type(build_s) in (int, float) and math.isfinite(build_s) and build_s >= 0,
                "manifest.build_s: expected seconds")
        return cls(key, _object(data["key_parts"], "manifest.key_parts"),
                   CompiledNetwork(directory,
                                   _arrays(compiled["outputs"], "manifest.compiled.outputs"),
                                   _arrays(compiled["checks"], "manifest.compiled.checks"),
                                   check_str(compiled["digest"], "manifest.compiled.digest"),
                                   _object(compiled["environment"],
                                           "manifest.compiled.environment"),
                                   _object(compiled["description"],
                                           "manifest.compiled.description")),
                   _variables(data["variables"], "manifest.variables"),
                   _object(data["context"], "manifest.context"),
                   _object(data["provenance"], "manifest.provenance"),
                   check_str(data["brian2"], "manifest.brian2"),
                   check_str(data["built"], "manifest.built"), float(build_s))


def directory(spec: BuildSpec, key: str | None = None) -> Path:
    """The cache directory of a build: ``build-<device>-<key[:16]>``.

    Parameters
    ----------
    spec : BuildSpec
    key : str, optional
        ``spec.key()`` if already computed.

    Returns
    -------
    Path
        Not created.
    """
    key = key or spec.key()
    return cache_directory(f"build-{spec.device}-{key[:16]}")


def kept(manifest: "Manifest", spec: BuildSpec) -> bool:
    """Whether a build is the cache's own directory of ``spec`` (one built in a fresh
    directory, because another process held the cache's, is not: no plan may name it).

    Parameters
    ----------
    manifest : Manifest
    spec : BuildSpec

    Returns
    -------
    bool
    """
    return Path(manifest.compiled.directory) == directory(spec, manifest.key).resolve()


def _unchanged(compiled: CompiledNetwork) -> bool:
    """Whether a build's binary and static arrays are those its manifest recorded."""
    return compiled.visible() and compiled.current_digest() == compiled.digest


@contextmanager
def shared_lock(directory: Path):
    """Hold a build directory shared (others may run it, nobody rebuilds it); yields
    False when a build holds it.

    Parameters
    ----------
    directory : Path
    """
    lock = Path(directory) / ".brianlab.lock"
    try:
        fd = os.open(lock, os.O_CREAT | os.O_RDWR, 0o644)
    except OSError:
        try:  # a read-only cache: its build runs (a shared lock needs no write access)
            fd = os.open(lock, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:  # none there, or not a file: the build cannot be trusted as is
            yield False
            return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def _read(path: Path) -> bytes:
    with open(path, "rb") as handle:
        text = handle.read(MANIFEST_BYTES + 1)
    if len(text) > MANIFEST_BYTES:
        raise CacheError(f"{path}: larger than {MANIFEST_BYTES} bytes")
    return text


def find(spec: BuildSpec) -> Manifest | None:
    """The manifest of the current build of ``spec``, or None (absent, another key, files
    changed, damaged, or being rebuilt): read under a shared lock.

    Parameters
    ----------
    spec : BuildSpec

    Returns
    -------
    Manifest or None
    """
    key = spec.key()
    folder = directory(spec, key)
    if not (folder / MANIFEST).is_file():
        return None
    with shared_lock(folder) as held:
        if not held:
            return None
        try:
            manifest = Manifest.from_json(_read(folder / MANIFEST))
        except (OSError, CacheError):
            return None
        if manifest.key != key or Path(manifest.compiled.directory) != folder.resolve():
            return None
        return manifest if _unchanged(manifest.compiled) else None


def cached_manifest(directory: Path, key: str, name: str = MANIFEST) -> dict | None:
    """The JSON of a current build's manifest in ``directory``, or None (absent, another
    key, damaged, binary or static arrays changed). Only its ``key`` and ``compiled`` are
    checked here (the CMSA manifests' layout; :func:`find` checks a :class:`Manifest`).

    Parameters
    ----------
    directory : Path
        A lean build directory.
    key : str
        What the manifest must have been written for.
    name : str
        The manifest's file name.

    Returns
    -------
    dict or None
        The manifest, its ``compiled`` a :class:`CompiledNetwork`.
    """
    try:
        data = json.loads((Path(directory) / name).read_text())
        if data.get("key") != key:
            return None
        compiled = CompiledNetwork(**data["compiled"])
    except (OSError, ValueError, TypeError, KeyError):
        return None
    if not _unchanged(compiled):
        return None
    return dict(data, compiled=compiled)


def build_changed(directory: Path, name: str = MANIFEST) -> bool:
    """Whether a build directory's files changed since its manifest was written: the
    binary or a static array differs from the recorded digest, or the manifest is
    damaged. Such a build is rebuilt from clean (nothing in it is trusted).

    Parameters
    ----------
    directory : Path
        A lean build directory.
    name : str
        The manifest's file name.

    Returns
    -------
    bool
        False without a manifest (a first build, or one that was interrupted).
    """
    manifest = Path(directory) / name
    if not manifest.is_file():
        return False
    try:
        return not _unchanged(CompiledNetwork(**json.loads(manifest.read_text())["compiled"]))
    except (OSError, ValueError, TypeError, KeyError):
        return True
