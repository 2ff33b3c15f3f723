"""Running a cached CMSA build, and repeating a command, without Brian2.

A lean build (:func:`~brianlab.cmsa.experiment.simulate_compiled`) keeps a *manifest*
in its directory: the result files, the run-time variables, the models' provenance and
a key of everything the build depends on. :func:`run_cached` runs points on such a
build: it needs numpy and the binary, not Brian2.

A *command plan* records what one ``python -m brianlab.cmsa`` command runs: its results
folder's configuration, the points (keys and :class:`~brianlab.cmsa.reduce.PointSettings`)
and the build they run on. It is saved after the command ran and found again by a key
of the parsed arguments (all but ``--out``), brianlab's sources, the model files (paths
and bytes), ``BRIANLAB_*`` settings, Brian2's version and the Python interpreter, so
the same command again imports neither Brian2 nor the network's models: Python's start
is most of a cached run's time (``benchmarks/cli_phases.py``). A change of any key part
finds no plan; a plan whose build is gone, rebuilt or changed is not used (the manifest
is checked as always), and the command plans again.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import sys
import time
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

from ..cache import cache_root
from ..results import atomic_write_text
from .reduce import PointSettings, binary_arguments, reduce_point

__all__ = ["MANIFEST", "cached_manifest", "build_changed", "compiled_description", "shared_lock", "run_built",
           "run_cached", "sources_digest", "plan_key", "load_plan", "save_plan"]

#: File in a cached build directory that lets a later run skip building the network.
MANIFEST = "brianlab-cmsa.json"
#: Version of the plan files' layout (part of their key).
PLAN_FORMAT = 1

_PACKAGE = Path(__file__).resolve().parent.parent


def sources_digest() -> str:
    """sha256 over brianlab's own source files (a cached build or plan is only as current
    as the code that made it).

    Returns
    -------
    str
    """
    digest = hashlib.sha256()
    for path in sorted(_PACKAGE.rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _model_folders() -> list[Path]:
    """The folders the model library may read: ``$BRIANLAB_MODELS``, folders added in
    this process, the built-in one (found as :func:`brianlab.library.models_root` finds
    it, without importing the library)."""
    folders = [Path(item).expanduser() for item in
               os.environ.get("BRIANLAB_MODELS", "").split(os.pathsep) if item.strip()]
    library = sys.modules.get("brianlab.library")
    folders += list(getattr(library, "_ADDED", ()))
    folders += [_PACKAGE / "models", _PACKAGE.parent / "models"]
    return folders


def _models_digest() -> str:
    digest = hashlib.sha256()
    for folder in _model_folders():
        folder = folder.resolve()
        digest.update(str(folder).encode() + b"\0")
        if folder.is_dir():
            for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                digest.update(str(path.relative_to(folder)).encode() + b"\0")
                digest.update(path.read_bytes())
    return digest.hexdigest()


def cached_manifest(directory: Path, key: str):
    """The manifest of a current build in ``directory``, or None (absent, stale, damaged).

    Parameters
    ----------
    directory : Path
        A lean build directory.
    key : str
        What the manifest must have been written for.

    Returns
    -------
    tuple or None
        ``(CompiledNetwork, variables, provenance)``.
    """
    from ..sweeps import CompiledNetwork

    try:
        data = json.loads((Path(directory) / MANIFEST).read_text())
        if data.get("key") != key:
            return None
        compiled = CompiledNetwork(**data["compiled"])
    except (OSError, ValueError, TypeError, KeyError):
        return None
    if not compiled.visible() or compiled.current_digest() != compiled.digest:
        return None  # the binary or its static arrays changed since the manifest was made
    return compiled, [tuple(v) for v in data["variables"]], data["provenance"]


def build_changed(directory: Path) -> bool:
    """Whether a build directory's files changed since its manifest was written: the
    binary or a static array differs from the recorded digest, or the manifest is
    damaged. Such a build is rebuilt from clean (nothing in it is trusted).

    Parameters
    ----------
    directory : Path
        A lean build directory.

    Returns
    -------
    bool
        False without a manifest (a first build, or one that was interrupted).
    """
    from ..sweeps import CompiledNetwork

    manifest = Path(directory) / MANIFEST
    if not manifest.is_file():
        return False
    try:
        compiled = CompiledNetwork(**json.loads(manifest.read_text())["compiled"])
        return not compiled.visible() or compiled.current_digest() != compiled.digest
    except (OSError, ValueError, TypeError, KeyError):
        return True


@contextmanager
def shared_lock(directory: Path):
    """Hold a build directory shared (others may run it, nobody rebuilds it); yields
    False when a build holds it.

    Parameters
    ----------
    directory : Path
    """
    fd = os.open(Path(directory) / ".brianlab.lock", os.O_CREAT | os.O_RDWR, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def compiled_description(threads, portable: bool, runs: int) -> dict:
    """How :func:`~brianlab.cmsa.experiment.simulate_compiled` describes its build and
    runs (filled in as it goes).

    Parameters
    ----------
    threads : int or None
    portable : bool
    runs : int
        Points run.

    Returns
    -------
    dict
    """
    return {"device": "cpp_standalone", "threads": threads, "portable": portable,
            "cached": False, "timings": {}, "runs": runs}


def run_built(compiled, variables: list, provenance: list, keys, settings, save_to, *,
              client=None, ship=None, on_record=None) -> float:
    """Run points on a built network, analyse and save each (``<key>.npz``, ``.json``).

    Parameters
    ----------
    compiled : CompiledNetwork
    variables : list of (str, str)
        The run-time variables (:func:`~brianlab.cmsa.protocol.run_variables`).
    provenance : list
        The models' records.
    keys : sequence of str
        The points' file names.
    settings : sequence of PointSettings
        The points.
    save_to : str or Path
        Folder of the points' files.
    client, ship, on_record
        As :func:`brianlab.sweeps.run_points`.

    Returns
    -------
    float
        Seconds the points took.
    """
    from ..sweeps import Point, run_points

    work = [Point(key, tuple(binary_arguments(variables, s.values)),
                  {"settings": s, "provenance": provenance})
            for key, s in zip(keys, settings, strict=True)]
    start = time.perf_counter()
    run_points(compiled, work, reduce_point, save_to=save_to, client=client, ship=ship,
               on_record=on_record)
    return time.perf_counter() - start


def run_cached(directory, key: str, keys, settings, save_to, description: dict, *,
               client=None, ship=None, on_record=None) -> dict | None:
    """Run points on the cached build in ``directory`` if its manifest is current.

    Parameters
    ----------
    directory : Path
        The lean build directory.
    key : str
        What its manifest must match (``experiment._manifest_key``).
    keys, settings, save_to, client, ship, on_record
        As :func:`run_built`.
    description : dict
        From :func:`compiled_description`; filled in (``directory``, ``cached``,
        ``manifest_key``, ``timings["sweep_s"]``) and returned.

    Returns
    -------
    dict or None
        ``description``; None (nothing run) when the build is absent, stale, damaged or
        being rebuilt.
    """
    directory = Path(directory)
    if not (directory / MANIFEST).is_file():
        return None
    with shared_lock(directory) as held:
        found = cached_manifest(directory, key) if held else None
        if found is None:
            return None
        description.update(directory=str(directory), cached=True, manifest_key=key)
        description["timings"]["sweep_s"] = run_built(
            *found, keys, settings, save_to, client=client, ship=ship, on_record=on_record)
    return description


def plan_key(arguments: dict) -> str:
    """The key of a command's plan (see the module's description).

    Parameters
    ----------
    arguments : dict
        The parsed command line without ``out`` (JSON-ready values).

    Returns
    -------
    str
    """
    try:
        brian2 = metadata.version("brian2")
    except metadata.PackageNotFoundError:  # pragma: no cover - a dependency
        brian2 = None
    parts = {"format": PLAN_FORMAT, "arguments": arguments, "sources": sources_digest(),
             "models": _models_digest(), "brian2": brian2, "python": sys.version,
             "executable": sys.executable,
             "environment": {k: v for k, v in sorted(os.environ.items())
                             if k.startswith("BRIANLAB_")}}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _plan_file(arguments: dict) -> Path:
    return cache_root() / "cmsa-plans" / f"{plan_key(arguments)[:32]}.json"


def load_plan(arguments: dict) -> dict | None:
    """The saved plan of this command, or None.

    Parameters
    ----------
    arguments : dict
        As :func:`plan_key`.

    Returns
    -------
    dict or None
        As saved by :func:`save_plan`, its points' settings as :class:`PointSettings`.
    """
    try:
        plan = json.loads(_plan_file(arguments).read_text())
        if plan.get("arguments") != arguments:
            return None
        plan["points"] = [dict(point, settings=PointSettings(**point["settings"]))
                          for point in plan["points"]]
    except (OSError, ValueError, TypeError, KeyError):
        return None  # none, or damaged: the command plans again
    return plan


def save_plan(arguments: dict, plan: dict) -> None:
    """Save a command's plan for next time (skipped silently if the cache is not writable).

    Parameters
    ----------
    arguments : dict
        As :func:`plan_key`.
    plan : dict
        JSON-ready but for the points' :class:`PointSettings`.
    """
    data = dict(plan, arguments=arguments,
                points=[dict(point, settings=point["settings"].as_dict())
                        for point in plan["points"]])
    path = _plan_file(arguments)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps(data, indent=1) + "\n")
    except OSError:
        pass
