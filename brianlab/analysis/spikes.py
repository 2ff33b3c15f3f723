"""Spike-train measures on recorded arrays (pure numpy)."""

from __future__ import annotations

import numpy as np

__all__ = ["spike_share"]


def spike_share(indices, times, mask, t_start: float, t_stop: float) -> float:
    """Fraction of the spikes in ``[t_start, t_stop)`` fired by neurons where ``mask`` is true.

    Compare with ``mask.mean()``, the share of neurons in the region: a ratio above 1
    means the region fires more than its size alone explains. NaN if there is no spike.
    """
    indices, times = np.asarray(indices), np.asarray(times)
    mask = np.asarray(mask, dtype=bool).ravel()
    window = (times >= t_start) & (times < t_stop)
    if not window.any():
        return float("nan")
    return float(mask[indices[window]].mean())
