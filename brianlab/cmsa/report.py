"""The CMSA command's reports: the table it prints, its ``summary.json`` and its figures.

Tier 1 (no Brian2): a repeated ``run`` or ``phases`` command reports from its saved plan
and the records its points gave. Each ``report_*`` function takes what the command ran (the
points' keys and records, the device's description) and returns the command's exit code.
"""

from __future__ import annotations

import numpy as np

from ..pipeline.execute import say
from ..results import RunFolder
from .figures import phi_figure, snapshots
from .presets import PHASES
from .reduce import state_name

__all__ = ["finish", "report_planned", "report_run", "report_phases", "report_sweep",
           "report_attention"]


def finish(folder: RunFolder, summary: dict, info: dict, args) -> int:
    """Write ``summary.json`` (with the device's description and why nothing ran, if so)
    and return the exit code: 0, or 3 when the points did not run but should have.

    Parameters
    ----------
    folder : RunFolder
        The results folder.
    summary : dict
        The command's summary; ``device`` (and ``not_run``) are added to it.
    info : dict
        As :func:`brianlab.cmsa.commands.execute` returns it: ``device`` and, when nothing
        ran, ``not_run``.
    args : argparse.Namespace
        The parsed command line (``build_only``).

    Returns
    -------
    int
        0, or 3 when ``info`` says nothing ran and ``--build-only`` was not given.
    """
    summary["device"] = info.get("device")
    if "not_run" in info:
        summary["not_run"] = info["not_run"]
    path = folder.write_summary(summary)
    say(f"results: {path.parent}")
    if "not_run" in info:
        say(info["not_run"])
        return 0 if args.build_only else 3
    return 0


def _figures(plan: dict, folder: RunFolder, records: dict, args):
    points = plan["points"]
    snapshots(folder, records, {pt["key"]: pt["settings"] for pt in points},
              {pt["key"]: pt["title"] for pt in points}, side=args.size, gif=not args.no_gif)


def report_run(plan: dict, folder: RunFolder, records: dict, info: dict, args) -> int:
    """``run``: its point's state, Phi, patterns, speed and E rate, and its figures.

    Parameters
    ----------
    plan : dict
        The command's plan (``summary``, and ``points``: key, title and settings).
    folder : RunFolder
        The results folder.
    records : dict
        Point key -> record, of the points done.
    info : dict
        As :func:`finish`.
    args : argparse.Namespace
        The parsed command line (``rp``, ``size``, ``no_gif`` and ``build_only``).

    Returns
    -------
    int
        The exit code (:func:`finish`).
    """
    summary = dict(plan["summary"])
    point = plan["points"][0]
    key = point["key"]
    if records:
        summary.update(points={key: records[key]})
        _figures(plan, folder, records, args)
        r = records[key]
        also = ""
        if r.get("phi_spikes"):
            also = f" (spike-frame Phi {r['phi_spikes']['phi']:.3f})"
        say(f"rp = {args.rp:g} ms: {state_name(r['phi'])}, {point['settings'].phi} Phi = "
            f"{r['phi']['phi']:.3f}{also}, patterns {r['phi']['mean_patterns']:.1f}, speed "
            f"{r['phi']['mean_speed']:.2f} /ms, E rate {r['rate_e_hz']:.1f} Hz")
    return finish(folder, summary, info, args)


def report_phases(plan: dict, folder: RunFolder, records: dict, info: dict, args) -> int:
    """``phases``: a row per state (rp, Phi, patterns, speed, E rate, the state detected)
    and the figures, once every point has a record.

    Parameters
    ----------
    plan : dict
        The command's plan (``summary``, and ``points``: key, title and settings).
    folder : RunFolder
        The results folder.
    records : dict
        Point key -> record, of the points done.
    info : dict
        As :func:`finish`.
    args : argparse.Namespace
        The parsed command line (``size``, ``no_gif`` and ``build_only``).

    Returns
    -------
    int
        The exit code (:func:`finish`).
    """
    summary = dict(plan["summary"], phases={})
    points = plan["points"]
    if len(records) == len(points):
        say(f"{'state':10} {'rp (ms)':>8} {'Phi':>6} {'patterns':>9} {'speed':>7} {'E Hz':>6}"
            f"  detected")
        for (state, rp), point in zip(PHASES, points):
            r = records[point["key"]]
            summary["phases"][state] = {"rp_ms": rp, **r}
            say(f"{state:10} {rp:>8g} {r['phi']['phi']:>6.2f} "
                f"{r['phi']['mean_patterns']:>9.1f} {r['phi']['mean_speed']:>7.2f} "
                f"{r['rate_e_hz']:>6.1f}  {state_name(r['phi'])}")
        _figures(plan, folder, records, args)
    return finish(folder, summary, info, args)


#: The report of each planned command.
report_planned = {"run": report_run, "phases": report_phases}


def report_sweep(folder: RunFolder, summary: dict, keys: list, records: dict, info: dict,
                 args, *, label: str) -> int:
    """``sweep``: Phi of each point (values x seeds) in the summary, its mean, a figure and
    a row per value (mean, min and max over the seeds that ran).

    Parameters
    ----------
    folder : RunFolder
        The results folder.
    summary : dict
        The command's summary, with ``param``, ``values`` and ``seeds``.
    keys : list of list of str
        The point keys, values x seeds.
    records : dict
        Point key -> record, of the points done.
    info : dict
        As :func:`finish`.
    args : argparse.Namespace
        The parsed command line (``build_only``).
    label : str
        The swept parameter with its unit.

    Returns
    -------
    int
        The exit code (:func:`finish`).
    """
    values, seeds = summary["values"], summary["seeds"]
    phis = np.full((len(values), len(seeds)), np.nan)
    for a, row in enumerate(keys):
        for b, key in enumerate(row):
            if key in records:
                phis[a, b] = records[key]["phi"]["phi"]
    ran = bool(np.isfinite(phis).any())
    summary.update(phi=phis, phi_mean=np.nanmean(phis, axis=1) if ran else None,
                   points={k: records[k] for k in sorted(records)})
    if ran:
        phi_figure(folder, values, phis, param=summary["param"], label=label)
        say(f"{label:>10} {'mean Phi':>9} {'min':>6} {'max':>6}")
        for v, row in zip(values, phis):
            if np.isfinite(row).any():
                say(f"{v:>10g} {np.nanmean(row):>9.3f} {np.nanmin(row):>6.2f} "
                    f"{np.nanmax(row):>6.2f}")
    return finish(folder, summary, info, args)


def report_attention(folder: RunFolder, summary: dict, keys: dict, records: dict, info: dict,
                     args) -> int:
    """``attention``: a row per state and seed (Phi, the spike share in the image before,
    after and at its peak, each over the image's area share) and their means per state.

    Parameters
    ----------
    folder : RunFolder
        The results folder.
    summary : dict
        The command's summary.
    keys : dict
        State -> the point keys of its seeds (in ``args.seeds``' order).
    records : dict
        Point key -> record, of the points done.
    info : dict
        As :func:`finish`.
    args : argparse.Namespace
        The parsed command line (``seeds`` and ``build_only``).

    Returns
    -------
    int
        The exit code (:func:`finish`).
    """
    if records:
        say(f"{'state':10} {'seed':>4} {'Phi':>5} {'before':>7} {'after':>6} {'peak':>6}"
            "   (spike share in the image / its area share)")
    summary["states"] = {}
    for state, rp in PHASES:
        rows = []
        for s, key in zip(args.seeds, keys[state]):
            if key not in records or not records[key].get("attention"):
                continue
            a = records[key]["attention"]
            rows.append(a)
            say(f"{state:10} {s:>4} {records[key]['phi']['phi']:>5.2f} "
                f"{a['ratio_before']:>7.2f} {a['ratio_after']:>6.2f} {a['ratio_peak']:>6.2f}")
        if rows:
            summary["states"][state] = {"rp_ms": rp, **{
                f"mean_{name}": float(np.nanmean([a[name] for a in rows]))
                for name in ("ratio_before", "ratio_after", "ratio_peak")}}
    summary["points"] = records
    return finish(folder, summary, info, args)
