"""Matplotlib helpers: take data, draw on ``ax`` (a new one if None), return the Axes.

No Brian2 import: these work on saved arrays.
"""

from __future__ import annotations

import numpy as np

__all__ = ["raster", "sheet_snapshot", "phi_curve", "sheet_animation"]


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
    return ax


def raster(times_ms, indices, ax=None, *, color="k", markersize=1.0, **kwargs):
    """Spike raster: time (ms) against neuron index."""
    ax = _axes(ax)
    ax.plot(np.asarray(times_ms), np.asarray(indices), ".", color=color, markersize=markersize,
            rasterized=True, **kwargs)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("neuron index")
    return ax


def sheet_snapshot(frame, ax=None, *, title=None, cmap="gray_r", **kwargs):
    """One frame of a sheet (rows x cols) as an image."""
    ax = _axes(ax)
    ax.imshow(np.asarray(frame), cmap=cmap, origin="upper", interpolation="nearest", **kwargs)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title)
    return ax


def phi_curve(values, phis, ax=None, *, label=None, xlabel="rp (ms)", color="C0"):
    """Phi against a swept parameter: mean and spread across seeds.

    ``phis`` is (values x seeds), NaN where a point is missing.
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


def sheet_animation(frames, path, *, interval_ms=50, title=None):
    """Write an animated GIF of sheet frames (time, rows, cols) to ``path``."""
    import matplotlib.pyplot as plt
    from matplotlib.animation import FuncAnimation, PillowWriter

    frames = np.asarray(frames)
    fig, ax = plt.subplots(figsize=(3.2, 3.2))
    image = ax.imshow(frames[0], cmap="gray_r", vmin=0, vmax=max(float(frames.max()), 1e-9))
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title)

    def update(k):
        image.set_data(frames[k])
        return (image,)

    anim = FuncAnimation(fig, update, frames=len(frames), interval=interval_ms, blit=True)
    anim.save(str(path), writer=PillowWriter(fps=max(1, int(1000 / interval_ms))))
    plt.close(fig)
    return path
