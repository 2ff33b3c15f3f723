"""Stage 7 of the pipeline: the figures of a results folder (design of issue 25, 2.9).

Tier 1: drawn from what the folder holds (the points' saved arrays and records) and the
plan, without Brian2. :func:`draw` writes

- ``figures/<key>_raster.png`` per point (a ``run``: its point; a ``sweep``: the first
  point of each build): the spikes of at most :data:`MAX_RASTER_NEURONS` neurons of each
  population over the population rates;
- ``figures/<statistic>_<population>.png`` for a sweep, each statistic of
  :func:`brianlab.pipeline.save.table` against the axes: one axis, the mean over seeds
  with its range (:func:`brianlab.plot.statistic_curve`); two axes, a heat map of the mean
  (:func:`brianlab.plot.phase_diagram`); three or more, none (the table is in
  ``summary.json``, and a note says so);
- what the plan's reduction adds (:data:`REDUCTION_FIGURES`).

Matplotlib is imported when figures are drawn, not with this module (a ``--no-figures``
command never pays for it), after the command's background imports
(:func:`brianlab.pipeline.execute.prefetch`) are done, as the CMSA command does. Figures
are drawn on their own Agg canvases, not through pyplot: no backend is switched and no
figure is left open in a notebook that calls ``bl.run(..., figures=True)``.
"""

from __future__ import annotations

import importlib
import zipfile
from pathlib import Path

import numpy as np

from .. import plot
from .execute import prefetched
from .plan import Axis, Plan
from .reductions import BIN
from .save import table as statistics_table

__all__ = ["MAX_RASTER_NEURONS", "STATISTICS", "REDUCTION_FIGURES", "Drawn", "draw",
           "raster_neurons", "axis_label", "statistic_label", "canvas", "save",
           "saved_arrays", "shown_points"]

#: Neurons of each population a raster shows at most (spread evenly over the population).
MAX_RASTER_NEURONS = 200

#: The default reduction's statistics (:func:`brianlab.analysis.population.population_statistics`)
#: as the figures label them, with units; None: not drawn (the network's size and the
#: analysed length are given, not measured).
STATISTICS: dict[str, str | None] = {
    "rate": "mean rate (Hz)",
    "active_fraction": "fraction of neurons active (dimensionless)",
    "cv": "mean CV of inter-spike intervals (dimensionless)",
    "fano": "Fano factor of neurons (dimensionless)",
    "fano_population": "Fano factor of the population (dimensionless)",
    "synchrony": "synchrony chi (dimensionless)",
    "peak_frequency": "peak frequency of the rate (Hz)",
    "spikes": "spikes (count)",
    "cv_neurons": "neurons with a CV (count)",
    "n_neurons": None,
    "duration": None,
    # the cmsa_phi reduction's (brianlab.cmsa.reduce.sweep_statistics)
    "phi": "order parameter Phi (dimensionless)",
    "patterns": "patterns per frame (count)",
}

#: Figures a reduction adds: reduction name -> ``"module:function"``, imported when drawn;
#: the function is called as ``function(plan, folder, records)`` and returns the paths it
#: wrote. A module that is not there is skipped with a note. The cmsa_phi reduction's
#: numbers are statistics, drawn as every reduction's; it adds the sheet's last analysed
#: frame of each point that has a raster (:func:`brianlab.cmsa.figures.pattern_figures`).
REDUCTION_FIGURES: dict[str, str] = {"cmsa_phi": "brianlab.cmsa.figures:pattern_figures"}


class Drawn(list):
    """The figures :func:`draw` wrote (a list of paths), with :attr:`notes` on what it did
    not draw and why.

    Parameters
    ----------
    paths : iterable of Path
        The files written.
    notes : iterable of str
        One line each.
    """

    def __init__(self, paths=(), notes=()):
        super().__init__(paths)
        self.notes = list(notes)


def axis_label(axis: Axis) -> str:
    """An axis' label with its display unit: ``"we (uS)"``, ``"populations.E.size
    (dimensionless)"``.

    Parameters
    ----------
    axis : Axis

    Returns
    -------
    str
    """
    return f"{axis.name} ({axis.unit or 'dimensionless'})"


def statistic_label(statistic: str, population: str) -> str:
    """A statistic's label with its unit (:data:`STATISTICS`), for one population.

    Parameters
    ----------
    statistic : str
        A key of a record's ``statistics[population]``.
    population : str

    Returns
    -------
    str
        ``"E: mean rate (Hz)"``; a statistic :data:`STATISTICS` does not know is labelled
        ``"<name> (unit not recorded)"``.
    """
    return f"{population}: {STATISTICS.get(statistic) or f'{statistic} (unit not recorded)'}"


def raster_neurons(size: int, limit: int = MAX_RASTER_NEURONS) -> np.ndarray:
    """The neurons a raster shows of a population: all of them up to ``limit``, else
    ``limit`` indices spread evenly from the first to the last (the same ones every time).

    Parameters
    ----------
    size : int
        Neurons in the population.
    limit : int
        Most neurons shown.

    Returns
    -------
    ndarray
        Sorted distinct indices (int64), at most ``limit`` of them.
    """
    size, limit = max(int(size), 0), max(int(limit), 1)
    if size <= limit:
        return np.arange(size, dtype=np.int64)
    return np.unique(np.round(np.linspace(0, size - 1, limit)).astype(np.int64))


def canvas():
    """A function making a figure of a given size on its own Agg canvas (matplotlib is
    imported here, once the command's background imports are done).

    Returns
    -------
    callable
        ``figure(width, height, **kwargs)``: a :class:`matplotlib.figure.Figure` of that
        size (inches, constrained layout; ``kwargs`` passed to it) on an Agg canvas.
    """
    prefetched()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    def figure(width: float, height: float, **kwargs):
        fig = Figure(figsize=(width, height), layout="constrained", **kwargs)
        FigureCanvasAgg(fig)
        return fig

    return figure


def save(folder, fig, name: str) -> Path:
    """Save ``fig`` as ``name`` in the results folder (a RunFolder: atomically, rescued
    if the folder cannot be written; a plain path: directly).

    Parameters
    ----------
    folder : RunFolder or path
        The results folder.
    fig : matplotlib.figure.Figure
        The figure, saved at 100 dpi.
    name : str
        Its path in the folder (``figures/<key>_raster.png``); missing folders are made.

    Returns
    -------
    Path
        The file written.
    """
    if hasattr(folder, "save_figure"):
        return Path(folder.save_figure(fig, name, dpi=100))
    path = Path(folder) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    return path


def saved_arrays(path: Path) -> dict | None:
    """A point's saved arrays, None if the file is missing or cannot be read.

    Parameters
    ----------
    path : Path
        The point's ``.npz`` file.

    Returns
    -------
    dict or None
        Array name -> ndarray.
    """
    try:
        with np.load(path) as data:
            return {name: data[name] for name in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        return None


def _populations(arrays: dict, sizes: dict) -> list[str]:
    """The populations with saved spikes (``<pop>_i`` and ``<pop>_t``), in the plan's
    order; any such pair of arrays if the plan names no populations."""
    found = {name[:-2] for name in arrays if name.endswith("_i") and f"{name[:-2]}_t" in arrays}
    return [p for p in sizes if p in found] if sizes else sorted(found)


def _raster(figure, folder, plan: Plan, point, record: dict, arrays: dict):
    """The raster-over-rate figure of one point; None if it saved no spikes."""
    context = plan.context.get(str(point.build)) or {}
    sizes = dict(context.get("populations") or {})
    populations = _populations(arrays, sizes)
    if not populations:
        return None
    rates = [p for p in populations if f"{p}_rate" in arrays]
    fig = figure(7.5, 5.0 if rates else 3.6)
    if rates:
        top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [2, 1]})
    else:
        top, bottom = fig.subplots(1, 1), None
    offset, ticks = 0, []
    t_start = float(record.get("t_start_s", context.get("t_start_s", 0.0)) or 0.0)
    for n, pop in enumerate(populations):
        i = np.asarray(arrays[f"{pop}_i"], dtype=np.int64)
        t = np.asarray(arrays[f"{pop}_t"], dtype=float)
        size = int(sizes.get(pop, int(i.max()) + 1 if i.size else 0))
        shown = raster_neurons(size)
        keep = np.isin(i, shown)
        plot.raster(1e3 * t[keep], np.searchsorted(shown, i[keep]) + offset, ax=top,
                    color=f"C{n}")
        ticks.append((offset + 0.5 * len(shown), f"{pop}\n{len(shown)} of {size}"))
        offset += len(shown)
        if pop in rates:
            rate = np.asarray(arrays[f"{pop}_rate"], dtype=float)
            times = t_start + (np.arange(len(rate)) + 0.5) * BIN
            plot.population_rate(1e3 * times, rate, ax=bottom, color=f"C{n}", label=pop)
    top.set_yticks([y for y, _ in ticks], [text for _, text in ticks], fontsize=7)
    top.set_ylim(-0.5, max(offset, 1) - 0.5)
    top.set_ylabel("neurons shown (one row each)")
    top.set_title(f"{point.title}: at most {MAX_RASTER_NEURONS} neurons of each population",
                  fontsize=9)
    if bottom is not None:
        top.set_xlabel("")
        bottom.set_title(f"population rate ({BIN * 1e3:g} ms bins, analysed window)",
                         fontsize=9)
        bottom.legend(fontsize=7)
    return save(folder, fig, f"figures/{point.key}_raster.png")


def shown_points(plan: Plan, records: dict) -> list:
    """The points drawn as rasters: a run's point; otherwise (a sweep) the first point
    with a record of each build.

    Parameters
    ----------
    plan : Plan
        The command's plan.
    records : dict
        Point key -> record, of the points that ran.

    Returns
    -------
    list of PointSpec
        A run's in the plan's order; a sweep's in the order of their builds.
    """
    if plan.request.get("command", plan.configuration.get("command")) == "run":
        return [p for p in plan.points if p.key in records]
    first = {}
    for p in plan.points:
        if p.key in records:
            first.setdefault(p.build, p)
    return [first[b] for b in sorted(first)]


def _sweep_figures(figure, folder, plan: Plan, records: dict, notes: list) -> list[Path]:
    """Each statistic of each population against the axes (one or two of them)."""
    axes = plan.axes
    if not axes:
        return []
    if len(axes) > 2:
        notes.append(f"no sweep figures: {len(axes)} axes ({', '.join(a.name for a in axes)}) "
                     "are more than a figure shows; the statistics are in summary.json's "
                     "\"table\" (axes x seeds)")
        return []
    paths, empty = [], []
    for name, values in statistics_table(plan, records).items():
        pop, _, stat = name.partition(".")
        if stat in STATISTICS and STATISTICS[stat] is None:
            continue
        if not np.isfinite(values).any():
            empty.append(name)
            continue
        fig = figure(5.5 if len(axes) == 2 else 5.0, 4.0)
        ax = fig.subplots()
        label = statistic_label(stat, pop)
        if len(axes) == 1:
            plot.statistic_curve(ax, axes[0].values, values, xlabel=axis_label(axes[0]),
                                 label=label)
        else:
            plot.phase_diagram(ax, axes[0].values, axes[1].values, values,
                               xlabel=axis_label(axes[0]), ylabel=axis_label(axes[1]),
                               label=label)
        seeds = values.shape[-1]
        ax.set_title(f"{pop}, {'mean over' if len(axes) == 2 else 'mean and range over'} "
                     f"{seeds} seed{'s' if seeds != 1 else ''}", fontsize=9)
        paths.append(save(folder, fig, f"figures/{stat}_{pop}.png"))
    if empty:
        notes.append(f"not drawn, no finite value at any point: {', '.join(empty)}")
    return paths


def _reduction_figures(plan: Plan, folder, records: dict, notes: list) -> list[Path]:
    """The figures the plan's reduction adds (:data:`REDUCTION_FIGURES`)."""
    target = REDUCTION_FIGURES.get(plan.reduction.name)
    if target is None:
        return []
    module, _, function = target.partition(":")
    try:
        draw_more = getattr(importlib.import_module(module), function)
    except ModuleNotFoundError as exc:
        if exc.name is None or not module.startswith(exc.name):
            raise
        notes.append(f"figures of the reduction {plan.reduction.name!r} skipped: {module} "
                     "is not there")
        return []
    except AttributeError:
        notes.append(f"figures of the reduction {plan.reduction.name!r} skipped: {module} "
                     f"has no {function}")
        return []
    return [Path(p) for p in (draw_more(plan, folder, records) or [])]


def draw(plan: Plan, folder, records: dict, *, say=None) -> Drawn:
    """Draw a command's figures into ``folder/figures`` (design 2.9).

    Parameters
    ----------
    plan : Plan
        The command's plan: its points (keys, titles, builds), axes (names and display
        units), per-build context (population sizes) and reduction.
    folder : RunFolder or path
        The results folder: ``points/<key>.npz`` are read from it and the figures written
        into it.
    records : dict
        Point key -> record (with ``statistics``, ``t_start_s``), of the points that ran.
    say : callable, optional
        Called with each note (a figure not drawn, and why) as well.

    Returns
    -------
    Drawn
        The paths written (``figures/<key>_raster.png``, ``figures/<statistic>_<pop>.png``
        and the reduction's), a list, with ``notes``.
    """
    figure = canvas()
    root = Path(getattr(folder, "path", folder))
    paths, notes = [], []
    for point in shown_points(plan, records):
        arrays = saved_arrays(root / "points" / f"{point.key}.npz")
        if arrays is None:
            notes.append(f"no raster of {point.key}: points/{point.key}.npz cannot be read")
            continue
        path = _raster(figure, folder, plan, point, records[point.key] or {}, arrays)
        if path is not None:
            paths.append(path)
    paths += _sweep_figures(figure, folder, plan, records, notes)
    paths += _reduction_figures(plan, folder, records, notes)
    for note in notes:
        if say is not None:
            say(note)
    return Drawn(paths, notes)
