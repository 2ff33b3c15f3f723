"""Matplotlib helpers: take data, draw on ``ax`` (a new one if None), return the Axes.

No Brian2 import: these work on saved arrays.
"""

from __future__ import annotations

import numpy as np

__all__ = ["raster", "traces", "fi_curve", "phase_plane", "ring_activity", "sheet_snapshot",
           "phi_curve", "sheet_animation", "population_rate", "rate_spectrum", "isi_cv_histogram",
           "statistic_curve", "phase_diagram"]


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
    return ax


def raster(times_ms, indices, ax=None, *, color="k", markersize=1.0, **kwargs):
    """Spike raster: time against neuron index.

    Parameters
    ----------
    times_ms : array-like
        Spike times in ms.
    indices : array-like
        Neuron index of each spike.
    ax : Axes, optional
        Where to draw (a new figure's Axes if None).
    color : str
        Marker colour.
    markersize : float
        Marker size (points).
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.plot`.

    Returns
    -------
    Axes
    """
    ax = _axes(ax)
    ax.plot(np.asarray(times_ms), np.asarray(indices), ".", color=color, markersize=markersize,
            rasterized=True, **kwargs)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("neuron index")
    return ax


def traces(times_ms, values, ax=None, *, labels=None, ylabel=None, **kwargs):
    """State variables against time.

    Parameters
    ----------
    times_ms : array-like
        Times in ms.
    values : array-like
        One trace, or an array of traces ``(traces, time)``.
    ax : Axes, optional
        Where to draw (a new figure's Axes if None).
    labels : sequence of str, optional
        One legend label per trace.
    ylabel : str, optional
        Label of the y axis, with its unit.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.plot`.

    Returns
    -------
    Axes

    Raises
    ------
    ValueError
        If the number of labels differs from the number of traces.
    """
    ax = _axes(ax)
    values = np.atleast_2d(np.asarray(values, dtype=float))
    labels = [None] * len(values) if labels is None else list(labels)
    if len(labels) != len(values):
        raise ValueError(f"{len(labels)} labels for {len(values)} traces")
    for trace, label in zip(values, labels):
        ax.plot(np.asarray(times_ms), trace, label=label, **kwargs)
    ax.set_xlabel("time (ms)")
    if ylabel:
        ax.set_ylabel(ylabel)
    if any(label is not None for label in labels):
        ax.legend(fontsize=8)
    return ax


def fi_curve(currents, rates, ax=None, *, analytic=None, label="simulated",
             xlabel="input current (nA)", **kwargs):
    """Firing rate against input: simulated points, optionally an analytic line.

    Parameters
    ----------
    currents : array-like
        Inputs (in the unit that ``xlabel`` names).
    rates : array-like
        Rates in Hz.
    ax : Axes, optional
        Where to draw (a new figure's Axes if None).
    analytic : array-like, optional
        Reference rates at the same inputs, drawn as a line.
    label : str
        Legend label of the points.
    xlabel : str
        Label of the x axis.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.plot` for the points.

    Returns
    -------
    Axes
    """
    ax = _axes(ax)
    ax.plot(np.asarray(currents), np.asarray(rates), "o", label=label, **kwargs)
    if analytic is not None:
        ax.plot(np.asarray(currents), np.asarray(analytic), "k-", label="analytic")
        ax.legend(fontsize=8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("rate (Hz)")
    return ax


def phase_plane(xs, ys, dx, dy, ax=None, *, points=(), kinds=(), names=("x", "y"),
                arrows: int = 15):
    """Nullclines, a coarse vector field and fixed points of a two-variable system.

    Parameters
    ----------
    xs, ys : array-like
        The grid axes.
    dx, dy : array-like
        ``d x/dt`` and ``d y/dt`` on the grid, shape ``(len(ys), len(xs))``, from
        :func:`brianlab.analysis.dynamics.vector_field`; their zero contours are the
        nullclines.
    ax : Axes, optional
        Where to draw (a new figure's Axes if None).
    points : sequence of (x, y)
        Fixed points.
    kinds : sequence of str
        Stability of each point (:func:`brianlab.analysis.dynamics.classify`): filled
        markers for "stable", open otherwise.
    names : (str, str)
        Names of the two variables (axis labels).
    arrows : int
        About this many arrows per axis.

    Returns
    -------
    Axes
    """
    ax = _axes(ax)
    xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    dx, dy = np.asarray(dx, dtype=float), np.asarray(dy, dtype=float)
    step_x, step_y = max(1, len(xs) // arrows), max(1, len(ys) // arrows)
    ax.quiver(xs[::step_x], ys[::step_y], dx[::step_y, ::step_x], dy[::step_y, ::step_x],
              color="0.6", angles="xy")
    ax.contour(xs, ys, dx, [0], colors="C0")
    ax.contour(xs, ys, dy, [0], colors="C1")
    kinds = list(kinds) + ["stable"] * (len(points) - len(kinds))
    for point, kind in zip(points, kinds):
        ax.plot(point[0], point[1], "o", color="k" if kind == "stable" else "w", mec="k",
                zorder=3)
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])
    ax.set_title(f"nullclines: d{names[0]}/dt = 0 (blue), d{names[1]}/dt = 0 (orange)",
                 fontsize=8)
    return ax


def ring_activity(times_ms, activity, ax=None, *, positions=None, cmap="viridis", **kwargs):
    """Activity of a ring (or any 1D population) over time, as an image.

    Parameters
    ----------
    times_ms : array-like
        Times in ms.
    activity : array-like
        ``(time, units)``.
    ax : Axes, optional
        Where to draw (a new figure's Axes if None).
    positions : array-like, optional
        Preferred position of each unit (default: the unit index).
    cmap : str
        Colour map.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.imshow`.

    Returns
    -------
    Axes
    """
    ax = _axes(ax)
    activity = np.asarray(activity, dtype=float)
    times_ms = np.asarray(times_ms, dtype=float)
    if positions is None:
        positions = np.arange(activity.shape[1])
    positions = np.asarray(positions, dtype=float)
    ax.imshow(activity.T, aspect="auto", origin="lower", cmap=cmap, interpolation="nearest",
              extent=(times_ms[0], times_ms[-1], positions[0], positions[-1]), **kwargs)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("preferred position")
    return ax


def sheet_snapshot(frame, ax=None, *, title=None, cmap="gray_r", label=None, time=None,
                   **kwargs):
    """One frame of a sheet (rows x cols) as an image on lattice axes.

    Parameters
    ----------
    frame : array-like
        ``(rows, cols)``.
    ax : Axes, optional
        Where to draw (a new figure's Axes if None).
    title : str, optional
        Title of the Axes.
    cmap : str
        Colour map.
    label : str, optional
        What the values are (with unit): draws a colour bar with this label.
    time : Quantity or str, optional
        Time of the frame, written in the image's corner.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.imshow`.

    Returns
    -------
    Axes
    """
    ax = _axes(ax)
    image = ax.imshow(np.asarray(frame), cmap=cmap, origin="lower", interpolation="nearest",
                      **kwargs)
    ax.set_xlabel("lattice column")
    ax.set_ylabel("lattice row")
    if label:
        ax.figure.colorbar(image, ax=ax, label=label, shrink=0.8)
    if time is not None:
        ax.text(0.03, 0.97, f"t = {time}", transform=ax.transAxes, va="top", ha="left",
                fontsize="small", bbox={"facecolor": "white", "alpha": 0.7, "lw": 0})
    if title:
        ax.set_title(title)
    return ax


def phi_curve(values, phis, ax=None, *, label=None, xlabel="rp (ms)", color="C0"):
    """Phi against a swept parameter: each seed, the mean and the spread across seeds.

    Parameters
    ----------
    values : array-like
        The swept values.
    phis : array-like
        ``(values, seeds)``, NaN where a point is missing.
    ax : Axes, optional
        Where to draw (a new figure's Axes if None).
    label : str, optional
        Legend label of the mean.
    xlabel : str
        Label of the x axis.
    color : str
        Colour of points, mean and spread.

    Returns
    -------
    Axes
    """
    ax = _axes(ax)
    values = np.asarray(values, dtype=float)
    phis = np.atleast_2d(np.asarray(phis, dtype=float))
    mean = np.nanmean(phis, axis=1)
    low, high = np.nanmin(phis, axis=1), np.nanmax(phis, axis=1)
    ax.fill_between(values, low, high, color=color, alpha=0.2, linewidth=0)
    for column in phis.T:
        ax.plot(values, column, ".", color=color, alpha=0.5)
    ax.plot(values, mean, "-o", color=color, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("order parameter Phi")
    ax.set_ylim(-0.05, 1.05)
    return ax


def sheet_animation(frames, path, *, interval_ms=50, title=None, times=None, label=None,
                    cmap="gray_r"):
    """Write an animated GIF of sheet frames.

    Parameters
    ----------
    frames : array-like
        ``(time, rows, cols)``.
    path : str or Path
        The GIF file written.
    interval_ms : float
        Time between frames of the animation.
    title : str, optional
        Title above the frames.
    times : sequence, optional
        Simulated time of each frame (Quantities or strings), written on the frame.
    label : str, optional
        What the values are (with unit): a colour bar with this label.
    cmap : str
        Colour map.

    Returns
    -------
    str or Path
        ``path``.
    """
    import matplotlib.pyplot as plt
    from matplotlib.animation import FuncAnimation, PillowWriter

    frames = np.asarray(frames)
    fig, ax = plt.subplots(figsize=(3.8 if label else 3.2, 3.4))
    low, high = float(frames.min()), float(frames.max())
    image = ax.imshow(frames[0], cmap=cmap, origin="lower", vmin=min(low, 0.0),
                      vmax=max(high, low + 1e-9))
    ax.set_xlabel("lattice column")
    ax.set_ylabel("lattice row")
    if label:
        fig.colorbar(image, ax=ax, label=label, shrink=0.8)
    if title:
        ax.set_title(title)
    clock = ax.text(0.03, 0.97, "", transform=ax.transAxes, va="top", ha="left",
                    fontsize="small", bbox={"facecolor": "white", "alpha": 0.7, "lw": 0})
    fig.tight_layout()

    def update(k):
        image.set_data(frames[k])
        if times is not None:
            clock.set_text(f"t = {times[k]}")
        return image, clock

    anim = FuncAnimation(fig, update, frames=len(frames), interval=interval_ms, blit=True)
    anim.save(str(path), writer=PillowWriter(fps=max(1, int(1000 / interval_ms))))
    plt.close(fig)
    return path


def population_rate(times_ms, rate, ax=None, *, color="k", **kwargs):
    """Population rate against time.

    Parameters
    ----------
    times_ms : array-like
        Times in ms (e.g. 1000 times the bin centres of
        :func:`brianlab.analysis.population.population_rate`).
    rate : array-like
        Rate in Hz.
    ax : Axes, optional
        Where to draw (a new figure's Axes if None).
    color : str
        Line colour.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.plot`.

    Returns
    -------
    Axes
    """
    ax = _axes(ax)
    ax.plot(np.asarray(times_ms, dtype=float), np.asarray(rate, dtype=float), color=color,
            lw=0.8, **kwargs)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("population rate (Hz)")
    return ax


def rate_spectrum(frequencies, power, ax=None, *, peak=None, fmax=None, log=True, **kwargs):
    """Power spectral density of a population rate, optionally its peak marked.

    Parameters
    ----------
    frequencies : array-like
        Frequencies in Hz (:func:`brianlab.analysis.population.rate_spectrum`).
    power : array-like
        Spectral density in Hz^2/Hz.
    ax : Axes, optional
        Where to draw (a new figure's Axes if None).
    peak : float, optional
        A frequency (Hz) to mark with a dashed line, e.g. the spectral peak.
    fmax : float, optional
        Highest frequency shown (Hz).
    log : bool
        Logarithmic power axis (0 Hz, where the mean was removed, is then left out).
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.plot`.

    Returns
    -------
    Axes
    """
    ax = _axes(ax)
    frequencies = np.asarray(frequencies, dtype=float)
    power = np.asarray(power, dtype=float)
    show = frequencies > 0 if log else np.ones(len(frequencies), dtype=bool)
    ax.plot(frequencies[show], power[show], **kwargs)
    if log and np.any(power[show] > 0):
        ax.set_yscale("log")
    if peak is not None and np.isfinite(peak):
        ax.axvline(peak, color="0.5", ls="--", lw=0.8, label=f"peak {peak:.1f} Hz")
        ax.legend(fontsize=8)
    if fmax is not None:
        ax.set_xlim(0, fmax)
    ax.set_xlabel("frequency (Hz)")
    ax.set_ylabel("power (Hz²/Hz)")
    return ax


def isi_cv_histogram(cvs, ax=None, *, bins=20, **kwargs):
    """Histogram of the ISI CVs across neurons, the mean marked.

    Parameters
    ----------
    cvs : array-like
        One CV per neuron (:func:`brianlab.analysis.population.isi_cv_distribution`).
    ax : Axes, optional
        Where to draw (a new figure's Axes if None).
    bins : int or array-like
        Histogram bins.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.hist`.

    Returns
    -------
    Axes
    """
    ax = _axes(ax)
    cvs = np.asarray(cvs, dtype=float)
    cvs = cvs[np.isfinite(cvs)]
    ax.hist(cvs, bins=bins, color="0.6", **kwargs)
    if len(cvs):
        ax.axvline(cvs.mean(), color="k", ls="--", lw=0.8, label=f"mean {cvs.mean():.2f}")
        ax.legend(fontsize=8)
    ax.set_xlabel("CV of inter-spike intervals (dimensionless)")
    ax.set_ylabel("neurons")
    return ax


def _seed_summary(table, cells: tuple) -> tuple:
    """Mean, minimum and maximum over the last axis (the seeds) of ``table`` shaped
    ``cells + (seeds,)``, ignoring NaN; NaN where a cell has no finite value."""
    table = np.asarray(table, dtype=float)
    if table.ndim == len(cells):
        table = table[..., np.newaxis]
    if table.shape[:-1] != cells:
        raise ValueError(f"table of shape {table.shape} for axes of {cells} values "
                         "(expected the axes, then the seeds)")
    finite = np.isfinite(table)
    count = finite.sum(axis=-1)
    some = count > 0
    mean = np.where(some, np.where(finite, table, 0.0).sum(axis=-1) / np.maximum(count, 1),
                    np.nan)
    low = np.where(some, np.where(finite, table, np.inf).min(axis=-1), np.nan)
    high = np.where(some, np.where(finite, table, -np.inf).max(axis=-1), np.nan)
    return mean, low, high


def statistic_curve(ax, values, table, *, xlabel: str, label: str, color="C0"):
    """A statistic against one swept value: the mean over seeds as a line, the range
    (minimum to maximum) over seeds as a band.

    A value without any finite result (a point missing, or a statistic a silent
    population leaves undefined) is left out of the line and the band, not drawn as 0.

    Parameters
    ----------
    ax : Axes or None
        Where to draw (a new figure's Axes if None).
    values : array-like
        The swept values, in the unit ``xlabel`` names; any order (drawn sorted).
    table : array-like
        ``(values, seeds)`` (or ``(values,)`` for one seed), NaN where there is no result.
    xlabel : str
        Label of the x axis, with its unit (``"we (uS)"``).
    label : str
        What the statistic is, with its unit (``"rate (Hz)"``): the y axis' label.
    color : str
        Colour of the line and the band.

    Returns
    -------
    Axes

    Raises
    ------
    ValueError
        If ``table`` does not have one row per value.
    """
    ax = _axes(ax)
    values = np.asarray(values, dtype=float).reshape(-1)
    mean, low, high = _seed_summary(table, (len(values),))
    order = np.argsort(values, kind="stable")
    keep = order[np.isfinite(mean[order])]
    ax.fill_between(values[keep], low[keep], high[keep], color=color, alpha=0.25, linewidth=0,
                    label="range over seeds")
    ax.plot(values[keep], mean[keep], "-o", color=color, markersize=4, label="mean over seeds")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(label)
    return ax


#: Most values of a phase diagram's axis that get a tick each.
_MAX_TICKS = 8


def _edges(values) -> tuple:
    """Cell edges around sorted distinct centres: half way between neighbours, the outer
    edges as far out as the inner ones are; one value gets a cell of its own size
    (1 for 0). Returns (edges, order of the values)."""
    values = np.asarray(values, dtype=float).reshape(-1)
    order = np.argsort(values, kind="stable")
    centres = values[order]
    if len(centres) == 0 or not np.all(np.isfinite(centres)) or np.any(np.diff(centres) <= 0):
        raise ValueError(f"axis values {values.tolist()} are not distinct finite numbers")
    if len(centres) == 1:
        half = 0.5 * abs(centres[0]) or 0.5
        return np.array([centres[0] - half, centres[0] + half]), order
    middle = 0.5 * (centres[1:] + centres[:-1])
    return np.concatenate([[2 * centres[0] - middle[0]], middle,
                           [2 * centres[-1] - middle[-1]]]), order


def phase_diagram(ax, x, y, table, *, xlabel: str, ylabel: str, label: str,
                  cmap="viridis"):
    """A statistic over two swept values: a heat map of its mean over seeds, with a
    colour bar.

    Each value is the centre of its cell and cells meet half way between neighbouring
    values, so unevenly spaced values get cells of their own widths. A cell without any
    finite result is left blank (masked), not coloured as 0.

    Parameters
    ----------
    ax : Axes or None
        Where to draw (a new figure's Axes if None).
    x, y : array-like
        The two axes' values, in the units the labels name; distinct, any order.
    table : array-like
        ``(len(x), len(y), seeds)`` (or ``(len(x), len(y))``), NaN where there is no
        result.
    xlabel, ylabel : str
        Labels of the axes, with their units.
    label : str
        What the statistic is, with its unit: the colour bar's label.
    cmap : str or Colormap
        Colour map.

    Returns
    -------
    Axes
        The colour bar is ``ax.collections[-1].colorbar``.

    Raises
    ------
    ValueError
        If the values of an axis are not distinct finite numbers, or ``table`` does not
        have the axes' shape.
    """
    ax = _axes(ax)
    x_edges, x_order = _edges(x)
    y_edges, y_order = _edges(y)
    mean, _, _ = _seed_summary(table, (len(x_order), len(y_order)))
    cells = np.ma.masked_invalid(mean[np.ix_(x_order, y_order)].T)
    finite = cells.compressed()
    limits = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
    mesh = ax.pcolormesh(x_edges, y_edges, cells, cmap=cmap, vmin=limits[0], vmax=limits[1],
                         shading="flat")
    ax.figure.colorbar(mesh, ax=ax, label=label)
    for centres, order, ticks in ((x, x_order, ax.set_xticks), (y, y_order, ax.set_yticks)):
        centres = np.asarray(centres, dtype=float).reshape(-1)[order]
        if len(centres) <= _MAX_TICKS:  # a tick at each value, when they fit
            ticks(centres, [f"{v:g}" for v in centres])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return ax
