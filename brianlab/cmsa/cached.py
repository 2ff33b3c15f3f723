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
import math
import os
import re
import sys
import time
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

from ..cache import cache_root, sources_digest
from ..errors import PlanError
from ..results import atomic_write_text
from ..store import MAX_FILE_BYTES, models_digest
from .reduce import PointSettings, binary_arguments, reduce_point

__all__ = ["MANIFEST", "cached_manifest", "build_changed", "compiled_description", "shared_lock",
           "run_built", "run_cached", "sources_digest", "plan_key", "load_plan", "save_plan",
           "check_plan", "PlanError"]

#: File in a cached build directory that lets a later run skip building the network.
MANIFEST = "brianlab-cmsa.json"
#: Version of the plan files' layout (part of their key).
PLAN_FORMAT = 1

#: Largest model file the loader reads (the store's bound, under its old name here).
MODEL_FILE_BYTES = MAX_FILE_BYTES
#: Largest plan file read (a plan of three points is a few kB).
PLAN_BYTES = 1_000_000


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
    if not _unchanged(compiled):
        return None
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
        return not _unchanged(CompiledNetwork(**json.loads(manifest.read_text())["compiled"]))
    except (OSError, ValueError, TypeError, KeyError):
        return True


def _unchanged(compiled) -> bool:
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
             "models": models_digest(), "brian2": brian2, "python": sys.version,
             "executable": sys.executable,
             "environment": {k: v for k, v in sorted(os.environ.items())
                             if k.startswith("BRIANLAB_")}}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _plan_file(arguments: dict, key: str | None = None) -> Path:
    key = key or plan_key(arguments)
    return cache_root() / "cmsa-plans" / f"{key[:32]}.json"


def _content_digest(data: dict) -> str:
    """sha256 of a plan's content (all but its ``digest``)."""
    body = {k: v for k, v in data.items() if k != "digest"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


#: A plan's fields, and those of its points and its build.
PLAN_FIELDS = {"command", "default", "configuration", "summary", "warnings", "points", "build",
               "arguments", "key", "digest"}
_POINT_FIELDS = {"key", "title", "settings"}
_BUILD_FIELDS = {"directory", "manifest_key"}
#: Points of each planned command.
_PLANNED_POINTS = {"run": 1, "phases": 3}
_HEX64 = re.compile(r"[0-9a-f]{64}")


def _expect(ok: bool, what: str):
    if not ok:
        raise PlanError(what)


def _check_settings(settings) -> PointSettings:
    """:class:`PointSettings` from a plan's JSON, every field present and of its type."""
    from dataclasses import fields

    _expect(isinstance(settings, dict), "settings: expected an object")
    names = {f.name: f.type for f in fields(PointSettings)}
    _expect(set(settings) == set(names), "settings: fields differ from PointSettings' "
            f"(missing {sorted(set(names) - set(settings))}, unknown "
            f"{sorted(set(settings) - set(names))})")
    for name, kind in names.items():
        value = settings[name]
        if kind == "int":
            _expect(type(value) is int and 0 <= value <= 10**7, f"settings.{name}: expected "
                    f"an integer from 0 to 10**7, got {value!r}")
        elif kind == "float":
            _expect(type(value) in (int, float) and math.isfinite(value),
                    f"settings.{name}: expected a finite number, got {value!r}")
        elif kind == "str":
            _expect(isinstance(value, str), f"settings.{name}: expected a string")
        else:
            _expect(isinstance(value, dict), f"settings.{name}: expected an object")
    _expect(all(isinstance(k, str) and type(v) in (int, float) and math.isfinite(v)
                for k, v in settings["values"].items()),
            "settings.values: expected finite numbers")
    _expect(settings["phi"] in ("spikes", "voltage"), f"settings.phi: {settings['phi']!r}")
    _expect(settings["e_side"] >= 1 and settings["i_side"] >= 1, "settings: empty lattice")
    return PointSettings(**settings)


def _in_cache(directory: str) -> bool:
    """Whether ``directory`` is a folder directly in the cache (symbolic links resolved)."""
    try:
        return os.path.realpath(Path(directory).parent) == os.path.realpath(cache_root())
    except (OSError, ValueError):
        return False


def check_plan(data, arguments: dict, key: str) -> dict:
    """A saved plan, checked: its own digest (made when it was saved), its key and
    command line, every field and its type, point keys that are plain file names.

    Parameters
    ----------
    data : object
        The plan file's JSON.
    arguments : dict
        As :func:`plan_key`.
    key : str
        ``plan_key(arguments)``.

    Returns
    -------
    dict
        The plan, its points' settings as :class:`PointSettings`.

    Raises
    ------
    PlanError
        Saying what is wrong.
    """
    from ..sweeps import SAFE_KEY  # (what a point key may be: it names the point's files)

    _expect(isinstance(data, dict), "expected a JSON object")
    _expect(set(data) == PLAN_FIELDS, f"fields differ (missing {sorted(PLAN_FIELDS - set(data))}"
            f", unknown {sorted(set(data) - PLAN_FIELDS)})")
    _expect(data["digest"] == _content_digest(data), "its content does not match its digest "
            "(edited or damaged)")
    _expect(data["key"] == key, "saved for another key")
    _expect(data["arguments"] == arguments, "saved for another command line")
    command = data["command"]
    _expect(command in _PLANNED_POINTS and command == arguments.get("command"),
            f"command: {command!r}")
    _expect(data["default"] == f"cmsa_{command}", f"default: {data['default']!r}")
    for name in ("configuration", "summary"):
        _expect(isinstance(data[name], dict) and data[name].get("command") == command,
                f"{name}: expected an object of the {command!r} command")
    _expect(isinstance(data["warnings"], list) and all(isinstance(w, str)
                                                       for w in data["warnings"]), "warnings")
    build = data["build"]
    _expect(isinstance(build, dict) and set(build) == _BUILD_FIELDS, "build: expected "
            "directory and manifest_key")
    _expect(isinstance(build["manifest_key"], str) and _HEX64.fullmatch(build["manifest_key"])
            is not None, "build.manifest_key: expected a sha256")
    _expect(isinstance(build["directory"], str) and Path(build["directory"]).is_absolute() and
            re.fullmatch(r"cmsa-cpp_standalone-[0-9a-f]{16}", Path(build["directory"]).name)
            is not None and _in_cache(build["directory"]),
            f"build.directory: {build['directory']!r} is not a build in this cache")
    points = data["points"]
    _expect(isinstance(points, list) and len(points) == _PLANNED_POINTS[command],
            f"points: expected {_PLANNED_POINTS[command]}")
    checked = []
    for point in points:
        _expect(isinstance(point, dict) and set(point) == _POINT_FIELDS,
                "points: expected key, title and settings")
        _expect(isinstance(point["key"], str) and SAFE_KEY.fullmatch(point["key"]) is not None,
                f"point key {point['key']!r}: expected letters, digits and ._+- only")
        _expect(isinstance(point["title"], str), "point title: expected a string")
        checked.append(dict(point, settings=_check_settings(point["settings"])))
    _expect(len({p["key"] for p in checked}) == len(checked), "points: keys repeat")
    return dict(data, points=checked)


def load_plan(arguments: dict) -> dict | None:
    """The saved plan of this command, or None (none, or not usable: see :func:`check_plan`).

    Parameters
    ----------
    arguments : dict
        As :func:`plan_key`.

    Returns
    -------
    dict or None
        As saved by :func:`save_plan`, its points' settings as :class:`PointSettings`.
    """
    key = plan_key(arguments)
    try:
        with open(_plan_file(arguments, key), "rb") as handle:
            text = handle.read(PLAN_BYTES + 1)
        if len(text) > PLAN_BYTES:
            return None
        return check_plan(json.loads(text), arguments, key)
    except (OSError, ValueError, RecursionError):
        return None  # none, or damaged or edited (PlanError): the command plans again


def save_plan(arguments: dict, plan: dict) -> None:
    """Save a command's plan for next time (skipped silently if the cache is not writable).

    The file holds the sha256 of its own content, its key and the command line, so an
    edited, damaged or copied plan is never used (:func:`check_plan`).

    Parameters
    ----------
    arguments : dict
        As :func:`plan_key`.
    plan : dict
        JSON-ready but for the points' :class:`PointSettings`.
    """
    key = plan_key(arguments)
    data = dict(plan, arguments=arguments, key=key,
                points=[dict(point, settings=point["settings"].as_dict())
                        for point in plan["points"]])
    data.pop("digest", None)
    data = json.loads(json.dumps(data))  # (the digest is of what is read back)
    data["digest"] = _content_digest(data)
    path = _plan_file(arguments, key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps(data, indent=1) + "\n")
    except OSError:
        pass
