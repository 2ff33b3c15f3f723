"""The CMSA command's figures, drawn from a results folder's saved points.

Tier 1 (no Brian2): a repeated command draws them from its saved plan. ``snapshots.png``
(the last analysed frame of each point and the state detected), ``sheet_<state>.gif``
(the frames as an animation), ``raster.png`` (one lattice row of the first point) and
``phi_vs_<param>.png`` (a sweep's Phi over its seeds). The pipeline's commands
(``python -m brianlab run cmsa_sheet``) add the snapshots of their points through
:data:`brianlab.pipeline.figures.REDUCTION_FIGURES` (:func:`pattern_figures`).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from .. import plot
from ..pipeline.execute import prefetched
from ..results import ResultsError, RunFolder
from .reduce import state_name

__all__ = ["pyplot", "point_arrays", "snapshots", "phi_figure"]


def pyplot():
    """``matplotlib.pyplot`` on the Agg backend, once no other thread is importing it.

    Returns
    -------
    module
        ``matplotlib.pyplot``.
    """
    prefetched()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def point_arrays(folder: RunFolder, key: str) -> dict:
    """A saved point's arrays (a ResultsError naming the file if it cannot be read).

    Parameters
    ----------
    folder : RunFolder
        The results folder.
    key : str
        The point's key (``points/<key>.npz``).

    Returns
    -------
    dict
        Array name -> ndarray.

    Raises
    ------
    ResultsError
        If the file is missing or cannot be read (the message says to delete it and run
        the command again).
    """
    path = folder.path / "points" / f"{key}.npz"
    try:
        with np.load(path) as data:
            return {name: data[name] for name in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ResultsError(f"{path}: cannot read the point's arrays ({exc}); delete it and "
                           "run the same command to compute it again") from None


def snapshots(folder: RunFolder, records: dict, settings: dict, titles: dict, *, side: int,
              gif: bool = True):
    """``snapshots.png``: the last analysed frame of each point (colour bar, time, lattice
    axes, the state detected); ``sheet_<state>.gif``: their animations (``gif``); and
    ``raster.png``: the E spikes of one lattice row of the first point.

    Parameters
    ----------
    folder : RunFolder
        The results folder (``points/<key>.npz`` read, the figures written).
    records : dict
        Point key -> record (``phi``, ``frames_label``).
    settings : dict
        Point key -> :class:`~brianlab.cmsa.reduce.PointSettings`.
    titles : dict
        Point key -> title, in the figure's order.
    side : int
        The E lattice's side.
    gif : bool
        Whether to write the animations.
    """
    plt = pyplot()
    keys = list(titles)
    fig, axes = plt.subplots(1, len(keys), figsize=(4.2 * len(keys), 4.2), squeeze=False)
    for ax, key in zip(axes[0], keys):
        data = point_arrays(folder, key)
        phi, s = records[key]["phi"], settings[key]
        label = records[key].get("frames_label", "E spikes, smoothed")
        voltage = s.phi == "voltage"
        cmap = "viridis" if voltage else "gray_r"
        times = s.frame_times()
        detected = (f"{state_name(phi)}: Phi {phi['phi']:.2f}\n{phi['mean_patterns']:.1f} "
                    f"patterns, {phi['mean_speed']:.2f} sites/ms")
        plot.sheet_snapshot(data["frames"][-1], ax=ax, cmap=cmap, label=label,
                            time=f"{times[-1]:g} ms", title=f"{titles[key]}\n{detected}")
        if gif:
            every = 1 if voltage else 2
            plot.sheet_animation(data["frames"][::every],
                                 folder.path / f"sheet_{titles[key].split()[0]}.gif",
                                 title=f"{titles[key]}: {state_name(phi)}",
                                 times=[f"{t:g} ms" for t in times[::every]], label=label,
                                 cmap=cmap)
    fig.tight_layout()
    folder.save_figure(fig, "snapshots.png", dpi=100)
    plt.close(fig)
    first = point_arrays(folder, keys[0])
    fig, ax = plt.subplots(figsize=(7, 3.5))
    keep = first["e_i"] // side == side // 2  # one row of the sheet keeps the raster readable
    plot.raster(first["e_t"][keep], first["e_i"][keep], ax=ax)
    ax.set_title(f"E spikes, one lattice row ({titles[keys[0]]})")
    fig.tight_layout()
    folder.save_figure(fig, "raster.png", dpi=100)
    plt.close(fig)


def phi_figure(folder: RunFolder, values, phis, *, param: str, label: str):
    """``phi_vs_<param>.png``: Phi against a swept value, the mean over seeds with each
    seed's value (:func:`brianlab.plot.phi_curve`).

    Parameters
    ----------
    folder : RunFolder
    values : sequence of float
        The swept values, in the axis label's unit.
    phis : ndarray, shape (values, seeds)
        Phi of each point (NaN where a point has no result).
    param : str
        The swept parameter's name (the file name).
    label : str
        The axis label, with its unit.
    """
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.5))
    plot.phi_curve(values, phis, ax=ax, xlabel=label)
    ax.set_title(f"Phi, {phis.shape[1]} seeds")
    fig.tight_layout()
    folder.save_figure(fig, f"phi_vs_{param}.png", dpi=100)
    plt.close(fig)


def pattern_figures(plan, folder, records: dict) -> list:
    """The ``cmsa_phi`` reduction's figures in a pipeline command's folder
    (:data:`brianlab.pipeline.figures.REDUCTION_FIGURES`): ``figures/<key>_sheet.png``, the
    last analysed frame of each point drawn as a raster (a run's point, a sweep's first
    point of each build), with the state detected.

    Parameters
    ----------
    plan : brianlab.pipeline.plan.Plan
    folder : RunFolder or path
        The results folder.
    records : dict
        Point key -> record, of the points that ran.

    Returns
    -------
    list of Path
    """
    from ..pipeline.figures import canvas, save, saved_arrays, shown_points

    figure = canvas()
    root = Path(getattr(folder, "path", folder))
    paths = []
    for point in shown_points(plan, records):
        record = records[point.key] or {}
        arrays = saved_arrays(root / "points" / f"{point.key}.npz")
        if not record.get("phi") or arrays is None or "frames" not in arrays:
            continue
        phi = record["phi"]
        fig = figure(4.6, 4.4)
        ax = fig.subplots()
        voltage = record.get("phi_variant") == "voltage"
        plot.sheet_snapshot(arrays["frames"][-1], ax=ax, cmap="viridis" if voltage else "gray_r",
                            label=record.get("frames_label", "E spikes, smoothed"),
                            title=f"{point.title}: last analysed frame\n{state_name(phi)}: "
                                  f"Phi {phi['phi']:.2f}, {phi['mean_patterns']:.1f} patterns")
        paths.append(save(folder, fig, f"figures/{point.key}_sheet.png"))
    return paths
