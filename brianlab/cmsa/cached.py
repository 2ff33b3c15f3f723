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

import math
import re
import time
from pathlib import Path

from .. import runargs
from ..cache import sources_digest
from ..errors import PlanError
from ..pipeline import builds, plans
from ..pipeline.builds import shared_lock
from ..store import MAX_FILE_BYTES
from .reduce import PointSettings, reduce_point

__all__ = ["MANIFEST", "cached_manifest", "build_changed", "compiled_description", "shared_lock",
           "run_built", "run_cached", "sources_digest", "plan_key", "load_plan", "save_plan",
           "check_plan", "PlanError"]

#: File in a cached build directory that lets a later run skip building the network.
MANIFEST = "brianlab-cmsa.json"
#: Version of the plan files' layout (part of their key).
PLAN_FORMAT = plans.PLAN_FORMAT

#: Largest model file the loader reads (the store's bound, under its old name here).
MODEL_FILE_BYTES = MAX_FILE_BYTES
#: Largest plan file read (a plan of three points is a few kB).
PLAN_BYTES = 1_000_000
#: Folder of the command's plans in the cache.
PLAN_FOLDER = "cmsa-plans"


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
    data = builds.cached_manifest(directory, key, MANIFEST)
    if data is None:
        return None
    return data["compiled"], [tuple(v) for v in data["variables"]], data["provenance"]


def build_changed(directory: Path) -> bool:
    """Whether a build directory's files changed since its manifest was written
    (:func:`brianlab.pipeline.builds.build_changed` of the CMSA manifest).

    Parameters
    ----------
    directory : Path
        A lean build directory.

    Returns
    -------
    bool
        False without a manifest (a first build, or one that was interrupted).
    """
    return builds.build_changed(directory, MANIFEST)


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

    # each Brian2 name is its own target (the manifest's order is the binary's argv order)
    targets = {name: name for name, _ in variables}
    work = [Point(key, runargs.arguments(targets, {name: s.values[field_name]
                                                   for name, field_name in variables}),
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
    """The key of a command's plan (see the module's description;
    :func:`brianlab.pipeline.plans.plan_key`).

    Parameters
    ----------
    arguments : dict
        The parsed command line without ``out`` (JSON-ready values).

    Returns
    -------
    str
    """
    return plans.plan_key(arguments, sources=sources_digest())


def _plan_file(arguments: dict, key: str | None = None) -> Path:
    return plans.plan_file(key or plan_key(arguments), PLAN_FOLDER)


_content_digest = plans.content_digest
_in_cache = plans.in_cache


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
    # none, or damaged or edited (PlanError): None, and the command plans again
    return plans.read(key, lambda data: check_plan(data, arguments, key), folder=PLAN_FOLDER,
                      limit=PLAN_BYTES)


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
    plans.write(_plan_file(arguments, key), dict(
        plan, arguments=arguments, key=key,
        points=[dict(point, settings=point["settings"].as_dict()) for point in plan["points"]]))
