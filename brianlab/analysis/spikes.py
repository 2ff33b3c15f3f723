"""Spike-train measures on recorded arrays (pure numpy)."""

from __future__ import annotations

import numpy as np

__all__ = ["spike_share", "lif_rate", "firing_rates", "isi_rates", "isi_cv", "isi_cvs",
           "raster_data"]


def spike_share(indices, times, mask, t_start: float, t_stop: float) -> float:
    """Fraction of the spikes in ``[t_start, t_stop)`` fired by neurons where ``mask`` is true.

    Compare with ``mask.mean()``, the share of neurons in the region: a ratio above 1
    means the region fires more than its size alone explains.

    Parameters
    ----------
    indices, times : array-like
        Spikes: neuron indices and times.
    mask : array-like of bool
        One value per neuron: the region.
    t_start, t_stop : float
        The window, in the unit of ``times``.

    Returns
    -------
    float
        NaN if there is no spike in the window.
    """
    indices, times = np.asarray(indices), np.asarray(times)
    mask = np.asarray(mask, dtype=bool).ravel()
    window = (times >= t_start) & (times < t_stop)
    if not window.any():
        return float("nan")
    return float(mask[indices[window]].mean())


def lif_rate(current, *, C: float, g_L: float, E_L: float, V_th: float, V_reset: float,
             t_ref: float = 0.0) -> np.ndarray:
    """Analytic firing rate (Hz) of a deterministic LIF neuron under constant current.

    ``C dv/dt = g_L (E_L - v) + I``; after a spike v is reset to ``V_reset`` and held
    for ``t_ref``. With ``v_inf = E_L + I/g_L`` and ``tau = C/g_L``, the rate is
    ``1 / (t_ref + tau ln((v_inf - V_reset) / (v_inf - V_th)))`` above rheobase
    (``v_inf > V_th``) and 0 below.

    Parameters
    ----------
    current : float or array-like
        Input current (A).
    C : float
        Capacitance (F).
    g_L : float
        Leak conductance (S).
    E_L, V_th, V_reset : float
        Resting, threshold and reset potentials (V).
    t_ref : float
        Refractory period (s).

    Returns
    -------
    ndarray
        Rates in Hz.
    """
    current = np.asarray(current, dtype=float)
    tau = C / g_L
    v_inf = E_L + current / g_L
    rate = np.zeros_like(current)
    above = v_inf > V_th
    rate[above] = 1.0 / (t_ref + tau * np.log((v_inf[above] - V_reset) / (v_inf[above] - V_th)))
    return rate


def firing_rates(indices, n: int, duration: float) -> np.ndarray:
    """Spikes per neuron divided by the duration: rates in Hz.

    Parameters
    ----------
    indices : array-like
        Neuron index of each spike.
    n : int
        Number of neurons.
    duration : float
        Seconds.

    Returns
    -------
    ndarray
        ``(n,)``.
    """
    return np.bincount(np.asarray(indices, dtype=int), minlength=n) / duration


def isi_rates(indices, times, n: int, t_start: float = 0.0) -> np.ndarray:
    """1 / mean inter-spike interval (Hz) per neuron, from spikes at or after ``t_start``.

    Free of the +-1 spike error of a count over a window, so an f-I curve from a
    short run matches the analytic rate closely.

    Parameters
    ----------
    indices, times : array-like
        Spikes: neuron indices and times (s).
    n : int
        Number of neurons.
    t_start : float
        Spikes before it (s) are ignored.

    Returns
    -------
    ndarray
        ``(n,)``; 0 for neurons with fewer than two spikes.
    """
    indices = np.asarray(indices, dtype=int)
    times = np.asarray(times, dtype=float)
    keep = times >= t_start
    indices, times = indices[keep], times[keep]
    order = np.lexsort((times, indices))
    indices, times = indices[order], times[order]
    counts = np.bincount(indices, minlength=n)
    ends = np.cumsum(counts)  # neuron k's spikes are times[ends[k] - counts[k]:ends[k]]
    rates = np.zeros(n)
    ok = counts >= 2
    rates[ok] = (counts[ok] - 1) / (times[ends[ok] - 1] - times[ends[ok] - counts[ok]])
    return rates


def raster_data(indices, times, t_start: float = -np.inf, t_stop: float = np.inf,
                neurons=None):
    """Spikes in ``[t_start, t_stop)`` (of ``neurons`` only, if given), sorted by time.

    Parameters
    ----------
    indices, times : array-like
        Spikes.
    t_start, t_stop : float
        The window, in the unit of ``times``.
    neurons : array-like of int, optional
        Keep only these neurons.

    Returns
    -------
    indices, times : ndarray
        Ready for :func:`brianlab.plot.raster`.
    """
    indices, times = np.asarray(indices), np.asarray(times, dtype=float)
    keep = (times >= t_start) & (times < t_stop)
    if neurons is not None:
        keep &= np.isin(indices, np.asarray(neurons))
    order = np.argsort(times[keep], kind="stable")
    return indices[keep][order], times[keep][order]


def isi_cv(times) -> float:
    """Coefficient of variation of the inter-spike intervals of one spike train.

    The same number as :func:`isi_cvs` gives for one neuron (population standard
    deviation of the intervals over their mean).

    Parameters
    ----------
    times : array-like
        Spike times of one neuron.

    Returns
    -------
    float
        NaN with fewer than three spikes.
    """
    times = np.asarray(times, dtype=float).ravel()
    return float(isi_cvs(np.zeros(len(times), dtype=int), times, 1)[0])


def isi_cvs(indices, times, n: int, *, min_isis: int = 2, t_start: float = -np.inf,
            t_stop: float = np.inf) -> np.ndarray:
    """Coefficient of variation of the inter-spike intervals of every neuron (vectorised).

    ``CV_i = std(ISI_i) / mean(ISI_i)`` with the population standard deviation
    (``ddof=0``) of neuron ``i``'s intervals between spikes in ``[t_start, t_stop)``.
    A Poisson train has CV 1, a periodic one 0. With few intervals the estimate is
    biased low (two intervals of a Poisson train give 0.5 on average), hence
    ``min_isis``.

    Parameters
    ----------
    indices, times : array-like
        Spikes: neuron indices and times.
    n : int
        Number of neurons.
    min_isis : int
        Neurons with fewer intervals than this (at least 2) get NaN.
    t_start, t_stop : float
        Only spikes in this window count, in the unit of ``times``.

    Returns
    -------
    ndarray
        ``(n,)``; NaN where a neuron has fewer than ``min_isis`` intervals or they
        are all zero.

    Raises
    ------
    ValueError
        If ``min_isis`` is below 2, or an index is outside ``[0, n)``.
    """
    if min_isis < 2:
        raise ValueError(f"min_isis must be at least 2 (a CV needs two intervals), got {min_isis}")
    indices = np.asarray(indices, dtype=int).ravel()
    times = np.asarray(times, dtype=float).ravel()
    if len(indices) and (indices.min() < 0 or indices.max() >= n):
        raise ValueError(f"spike indices must lie in [0, {n}); got "
                         f"{indices.min()}..{indices.max()}")
    keep = (times >= t_start) & (times < t_stop)
    indices, times = indices[keep], times[keep]
    order = np.lexsort((times, indices))
    indices, times = indices[order], times[order]
    same = indices[1:] == indices[:-1]          # an interval within one neuron's train
    owner, isi = indices[1:][same], np.diff(times)[same]
    count = np.bincount(owner, minlength=n)
    mean = np.bincount(owner, weights=isi, minlength=n) / np.maximum(count, 1)
    var = np.bincount(owner, weights=(isi - mean[owner]) ** 2, minlength=n) / np.maximum(count, 1)
    cv = np.full(n, np.nan)
    ok = (count >= min_isis) & (mean > 0)
    cv[ok] = np.sqrt(var[ok]) / mean[ok]
    return cv
