"""Population decoding on rings and tori: population vector, bump width (pure numpy)."""

from __future__ import annotations

import numpy as np

__all__ = ["population_vector", "decode_torus", "bump_width", "circular_error"]


def population_vector(activity, positions, period: float = 2 * np.pi) -> np.ndarray:
    """Decoded position on a ring: the activity-weighted circular mean of ``positions``.

    Parameters
    ----------
    activity : array-like
        ``(units,)`` or ``(time, units)``, not negative.
    positions : array-like
        Preferred position of each unit.
    period : float
        Circumference of the ring.

    Returns
    -------
    float or ndarray
        A scalar or ``(time,)``, in ``[-period/2, period/2)``.
    """
    activity = np.asarray(activity, dtype=float)
    angle = 2 * np.pi * np.asarray(positions, dtype=float) / period
    z = activity @ np.exp(1j * angle)
    return np.angle(z) * period / (2 * np.pi)


def decode_torus(activity, positions, period: float = 2 * np.pi) -> np.ndarray:
    """Decoded (x, y) on a torus: a population vector per axis.

    Parameters
    ----------
    activity : array-like
        ``(units,)`` or ``(time, units)``.
    positions : array-like
        ``(units, 2)``.
    period : float
        Side of the torus.

    Returns
    -------
    ndarray
        ``(2,)`` or ``(time, 2)``.
    """
    positions = np.asarray(positions, dtype=float)
    return np.stack([population_vector(activity, positions[:, d], period) for d in (0, 1)],
                    axis=-1)


def circular_error(decoded, true, period: float = 2 * np.pi) -> np.ndarray:
    """Signed shortest difference ``decoded - true`` on a ring.

    Parameters
    ----------
    decoded, true : float or array-like
        Positions.
    period : float
        Circumference of the ring.

    Returns
    -------
    ndarray
        In ``[-period/2, period/2)``.
    """
    return (np.asarray(decoded) - np.asarray(true) + period / 2) % period - period / 2


def bump_width(activity, positions, period: float = 2 * np.pi) -> float:
    """Full width at half maximum of a bump on a ring (linear interpolation at the edges).

    Parameters
    ----------
    activity : array-like
        ``(units,)``.
    positions : array-like
        Evenly spaced preferred positions.
    period : float
        Circumference of the ring.

    Returns
    -------
    float
        In the unit of ``positions``.
    """
    activity = np.asarray(activity, dtype=float)
    positions = np.asarray(positions, dtype=float)
    order = np.argsort(positions)
    a, x = activity[order], positions[order]
    peak = int(np.argmax(a))
    # roll so the peak sits in the middle: the bump never straddles the array ends
    shift = len(a) // 2 - peak
    a, x = np.roll(a, shift), np.roll(x, shift)
    x = np.unwrap(x * 2 * np.pi / period) * period / (2 * np.pi)
    half = a.max() / 2
    centre = len(a) // 2
    below = np.nonzero(a < half)[0]
    before, after = below[below < centre], below[below > centre]
    if len(before) == 0 or len(after) == 0:
        return float(period)  # no half-maximum crossing: the activity is not a bump
    left, right = before.max() + 1, after.min() - 1

    def crossing(i_in, i_out):
        return x[i_in] + (half - a[i_in]) * (x[i_out] - x[i_in]) / (a[i_out] - a[i_in])

    return float(crossing(right, right + 1) - crossing(left, left - 1))
