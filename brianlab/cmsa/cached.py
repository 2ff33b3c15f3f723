"""Repeating a CMSA command without Brian2: the command's saved plans.

A *command plan* records what one ``python -m brianlab.cmsa run`` or ``phases`` command
runs: its results folder's configuration, the points (keys and
:class:`~brianlab.cmsa.reduce.PointSettings`, for the report) and the pipeline's plan of
them (:func:`brianlab.cmsa.plan.make_plan`: the builds of ``cmsa_sheet@2`` and the points'
run values). It is saved after the command ran on builds kept in the cache and found again
by a key of the parsed arguments (all but ``--out``), brianlab's sources, the model files
(paths and bytes), ``BRIANLAB_*`` settings, Brian2's version and the Python interpreter, so
the same command again imports neither Brian2 nor the network's models
(:func:`brianlab.pipeline.builds.find` checks each build as always): Python's start is
most of a cached run's time (``benchmarks/cli_phases.py``). A change of any key part finds
no plan; a plan whose build is gone, rebuilt or changed is not used, and the command plans
again.
"""

from __future__ import annotations

import math
from pathlib import Path

from ..cache import sources_digest
from ..errors import CacheError, PlanError
from ..pipeline import plans
from ..pipeline.builds import shared_lock
from ..pipeline.plan import Plan
from ..store import MAX_FILE_BYTES
from ..toolchain import STANDALONE
from .presets import PHASES
from .reduce import PointSettings

__all__ = ["shared_lock", "sources_digest", "plan_key", "load_plan", "save_plan", "check_plan",
           "plan_matches", "PlanError"]

#: Version of the plan files' layout (part of their key).
PLAN_FORMAT = plans.PLAN_FORMAT

#: Largest model file the loader reads (the store's bound, under its old name here).
MODEL_FILE_BYTES = MAX_FILE_BYTES
#: Largest plan file read (a plan of three points is a few kB).
PLAN_BYTES = 1_000_000
#: Folder of the command's plans in the cache.
PLAN_FOLDER = "cmsa-plans"


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


#: A plan's fields, and those of its points.
PLAN_FIELDS = {"command", "default", "configuration", "summary", "warnings", "points",
               "pipeline", "arguments", "key", "digest"}
_POINT_FIELDS = {"key", "title", "settings"}
#: Points of each planned command.
_PLANNED_POINTS = {"run": 1, "phases": 3}


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
    try:
        pipeline = Plan.from_dict(data["pipeline"])
    except CacheError as exc:
        raise PlanError(f"pipeline: {exc}") from None
    _expect([p.key for p in pipeline.points] == [p["key"] for p in checked],
            "pipeline: its points are not the command's")
    for ours, point in zip(checked, pipeline.points):
        s = ours["settings"]
        _expect(dict(point.options) == s.as_dict(), f"pipeline: {point.key}'s settings are "
                "not the command's")
        _expect(point.seed == s.values.get("seed") and all(
            s.values.get(name) == value for name, value in point.values),
            f"pipeline: {point.key}'s values are not the command's")
    _expect(all(b.device in STANDALONE for b in pipeline.builds),
            f"pipeline: a build not on {' or '.join(STANDALONE)}")
    return dict(data, points=checked, pipeline=pipeline)


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


def plan_matches(plan: dict, args) -> bool:
    """Whether a saved plan's points are this command line's: the values each point's
    binary gets (rp, seed, the sizes and any value given) and the file names that name
    them (a plan is checked by its digest too, :func:`check_plan`).

    Parameters
    ----------
    plan : dict
        A saved plan, as :func:`load_plan` returns it.
    args : argparse.Namespace
        The parsed command line (``run`` or ``phases``).

    Returns
    -------
    bool
        False also when the plan's fields cannot be compared (missing or of another type).
    """
    try:
        return _values_match(plan, args)
    except (AttributeError, KeyError, TypeError, ValueError):
        return False


def _values_match(plan: dict, args) -> bool:
    rps = [args.rp] if plan["command"] == "run" else [rp for _, rp in PHASES]
    given = {"we": (args.we, 1e-6), "wi": (args.wi, 1e-6), "duration": (args.duration, 1e-3),
             "k_e": (args.ke, 1), "k_i": (args.ki, 1)}
    for point, rp in zip(plan["points"], rps, strict=True):
        s = point["settings"]
        values = s.values
        expected = {"rp": rp * 1e-3, "seed": args.seed, "e_side": args.size,
                    **{k: v * unit for k, (v, unit) in given.items() if v is not None}}
        if any(not isinstance(values.get(k), (int, float)) or
               not math.isclose(values[k], v, rel_tol=1e-9) for k, v in expected.items()):
            return False
        if s.e_side != args.size or s.phi != args.phi or s.values.get("i_side") != s.i_side:
            return False
        name = (f"rp{values['rp'] * 1e3:g}_we{values['we'] * 1e6:g}_wi{values['wi'] * 1e6:g}"
                f"_seed{int(values['seed'])}_")
        if not point["key"].startswith(name) or len(point["key"]) != len(name) + 10:
            return False
    return True
