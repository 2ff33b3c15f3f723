"""Stage 6 of the pipeline: the results folder and the command's summary (design of issue
25, 2.8).

One configuration per folder: :func:`open_folder` claims ``<out>`` for the plan's
configuration (:class:`~brianlab.results.RunFolder` refuses a folder that holds another
one), the points are saved there as they finish (``points/<key>.npz`` and ``.json``,
:func:`brianlab.sweeps.save_point`), and :func:`summary` writes ``summary.json``
atomically: every point's record, the statistics tabulated over the axes and seeds (NaN
where a point is missing), the builds and the versions.
"""

from __future__ import annotations

import math

import numpy as np

from .. import __version__
from ..results import RunFolder
from .plan import NetworkRef, Plan
from .reductions import ReductionSpec

__all__ = ["configuration", "open_folder", "table", "summary"]


def configuration(command: str, network: NetworkRef, structure, sets, reduction: ReductionSpec,
                  device: str, threads: int | None, portable: bool) -> dict:
    """What a results folder holds (design 2.8): one configuration per folder; the swept
    names and the seeds are in the point keys, not here.

    Parameters
    ----------
    command : str
        ``"run"`` or ``"sweep"``.
    network : NetworkRef
    structure : sequence of (str, str)
        Structure paths set and not swept -> TOML value text.
    sets : sequence of (str, float)
        Run-time values set and not swept (SI).
    reduction : ReductionSpec
    device : str
    threads : int or None
    portable : bool

    Returns
    -------
    dict
        JSON-ready, with ``brianlab``'s version.
    """
    return {"command": command, "network": network.as_dict(),
            "structure": sorted([str(k), str(v)] for k, v in structure),
            "set": sorted([str(k), float(v)] for k, v in sets),
            "reduction": reduction.as_dict(), "device": device, "threads": threads,
            "portable": bool(portable), "brianlab": __version__}


def open_folder(plan: Plan, out) -> RunFolder:
    """The results folder of a plan, claimed for its configuration.

    Parameters
    ----------
    plan : Plan
    out : str or Path
        The folder (created if needed).

    Returns
    -------
    RunFolder

    Raises
    ------
    ResultsError
        If the folder cannot be written, or holds results of another configuration.
    """
    return RunFolder(out, plan.configuration, hint="use another --out")


def _seeds(plan: Plan) -> list[int]:
    """The plan's seeds, in first-appearance order."""
    return list(dict.fromkeys(p.seed for p in plan.points))


def _positions(plan: Plan) -> dict:
    """Point key -> its cell of the table: the rank of each of its axis values among that
    axis' values in plan order (the planner makes them in the axis' order), then the rank
    of its seed."""
    seeds = _seeds(plan)
    ranks = {a.name: list(dict.fromkeys(dict(p.values).get(a.name) for p in plan.points))
             for a in plan.axes}
    out = {}
    for p in plan.points:
        values = dict(p.values)
        if all(a.name in values for a in plan.axes):
            out[p.key] = (*[ranks[a.name].index(values[a.name]) for a in plan.axes],
                          seeds.index(p.seed))
    return out


def table(plan: Plan, records: dict) -> dict:
    """Each statistic of each population, as an array shaped ``axes x seeds``.

    A point's place is the rank of each of its axis values among that axis' values, and
    of its seed among the plan's seeds, in plan order (the planner makes the grid in
    each axis' order); a point without a record, or a record without the statistic (or
    with a value that is not a finite number), is NaN.

    Parameters
    ----------
    plan : Plan
    records : dict
        Point key -> record (with ``statistics``: population -> statistic -> value).

    Returns
    -------
    dict
        ``"<population>.<statistic>"`` -> nested lists (JSON: NaN as null via
        :class:`~brianlab.results.RunFolder`), shape ``[len(axis) for axis in axes] +
        [seeds]``.
    """
    seeds = _seeds(plan)
    shape = (*[len(a.values) for a in plan.axes], len(seeds))
    positions = {key: cell for key, cell in _positions(plan).items()
                 if all(i < n for i, n in zip(cell, shape))}
    names = sorted({f"{pop}.{stat}"
                    for record in records.values() if isinstance(record, dict)
                    for pop, stats in (record.get("statistics") or {}).items()
                    for stat, value in stats.items()
                    if value is None or isinstance(value, (int, float))})
    out = {}
    for name in names:
        pop, _, stat = name.partition(".")
        array = np.full(shape, np.nan)
        for key, cell in positions.items():
            value = ((records.get(key) or {}).get("statistics") or {}).get(pop, {}).get(stat)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and \
                    math.isfinite(value):
                array[cell] = value
        out[name] = array
    return out


def summary(plan: Plan, records: dict, manifests, folder: RunFolder, *,
            timings: dict | None = None, cached: dict | None = None,
            why_not_run: str | None = None) -> dict:
    """Write the command's ``summary.json`` (atomically) and return it.

    Parameters
    ----------
    plan : Plan
    records : dict
        Point key -> record, of the points that ran (or were done before).
    manifests : sequence of Manifest
        The builds used.
    folder : RunFolder
        From :func:`open_folder`.
    timings : dict, optional
        Seconds per stage.
    cached : dict, optional
        Manifest key -> whether that build was found (not compiled).
    why_not_run : str, optional
        Why builds were made but not run (:attr:`brianlab.pipeline.execute.BuildsRun.not_run`).

    Returns
    -------
    dict
        ``command``, ``network``, ``axes``, ``seeds``, ``points`` (key -> record),
        ``table`` (:func:`table`), ``builds`` (``key``, ``directory``, ``cached``,
        ``build_s``), ``device``, ``timings`` and, when points are missing, ``not_run``
        (their keys) and ``why_not_run`` (when given);
        the folder adds ``versions``, ``written`` and ``configuration_hash``.
    """
    cached = cached or {}
    data = {"command": plan.request.get("command", plan.configuration.get("command")),
            "network": plan.builds[0].network.as_dict(),
            "axes": [a.as_dict() for a in plan.axes], "seeds": _seeds(plan),
            "points": {p.key: records[p.key] for p in plan.points if p.key in records},
            "table": {k: v.tolist() for k, v in table(plan, records).items()},
            "builds": [{"key": m.key, "directory": m.compiled.directory,
                        "cached": bool(cached.get(m.key, False)), "build_s": m.build_s}
                       for m in manifests],
            "device": plan.builds[0].device, "timings": dict(timings or {})}
    missing = [p.key for p in plan.points if p.key not in records]
    if missing:
        data["not_run"] = missing
    if why_not_run:
        data["why_not_run"] = why_not_run
    folder.write_summary(data)
    return data
