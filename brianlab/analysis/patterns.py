r"""Activity patterns on a torus: detection, centres, tracking and the order parameter Phi.

Pure numpy/scipy; works on saved arrays. A *frame* is a 2D array on a torus
(``rows x cols``): membrane potentials in mV, or spike counts. A *pattern* is a
connected region (8-neighbourhood, connected across the edges) of pixels above
``low`` that contains at least one pixel above ``high``.

The order parameter of the CMSA lab report measures how coherently the patterns
move: with ``v_k`` the displacement of tracked pattern ``k`` between two frames,

.. math:: \Phi = \frac{|\sum_k v_k|}{\sum_k |v_k|}

averaged over frame pairs: near 1 when all patterns travel the same way, near 0
when they move in opposite or random directions. Stationary bumps only jitter,
which makes their raw Phi large and noisy (four jittering bumps give about 0.4).
With a ``speed_floor`` f, a pattern slower than f counts as stationary: it adds
nothing to the sum of velocities but f to the denominator,

.. math:: \Phi = \frac{|\sum_\mathrm{moving} v_k|}{\sum_k \max(|v_k|, f)},

so a frame pair in which nothing moves has Phi = 0, one in which all patterns
move coherently well above f has Phi near 1, and f = 0 gives the original Phi.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

__all__ = ["find_patterns", "pattern_centres", "track", "displacements", "order_parameter",
           "PhiResult", "spike_count_frames", "smooth_frames"]

_EIGHT = np.ones((3, 3), dtype=bool)


def _edge_pairs(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Label pairs that touch across the torus edges (8-neighbourhood)."""
    firsts, seconds = [], []
    for a_line, b_line in ((labels[0, :], labels[-1, :]), (labels[:, 0], labels[:, -1])):
        for shift in (-1, 0, 1):
            b = np.roll(b_line, shift)
            both = (a_line > 0) & (b > 0)
            firsts.append(a_line[both])
            seconds.append(b[both])
    return np.concatenate(firsts), np.concatenate(seconds)


def find_patterns(frame: np.ndarray, low: float, high: float) -> tuple[np.ndarray, int]:
    """Label the patterns of one frame.

    Parameters
    ----------
    frame : ndarray, shape (rows, cols)
        Values on a torus (mV, or spike counts).
    low : float
        Pixels above ``low`` belong to a region.
    high : float
        A region is a pattern only if one of its pixels is above ``high``.

    Returns
    -------
    labels : ndarray of int32
        0 for background, 1..n for the patterns (regions joined across the edges).
    n : int
        Number of patterns.
    """
    frame = np.asarray(frame)
    if frame.ndim != 2:
        raise ValueError(f"a frame is a 2D array, got shape {frame.shape}")
    raw, n_raw = ndimage.label(frame > low, structure=_EIGHT)
    if n_raw == 0:
        return raw.astype(np.int32), 0
    a, b = _edge_pairs(raw)
    graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(n_raw + 1, n_raw + 1))
    _, component = connected_components(graph, directed=False)
    merged = component[raw]  # background keeps the component of label 0
    background = component[0]
    peak = ndimage.maximum(frame, merged, index=np.arange(component.max() + 1))
    keep = peak > high
    keep[background] = False
    new_ids = np.zeros(len(keep), dtype=np.int32)
    new_ids[keep] = np.arange(1, keep.sum() + 1)
    return new_ids[merged], int(keep.sum())


def _centres(labels: np.ndarray, n: int, weights: np.ndarray | None = None) -> np.ndarray:
    """Circular (optionally weighted) means of the (row, col) coordinates of each pattern."""
    if n == 0:
        return np.empty((0, 2))
    rows, cols = labels.shape
    index = np.arange(1, n + 1)
    w = np.ones(labels.shape) if weights is None else weights
    out = np.empty((n, 2))
    for axis, size in ((0, rows), (1, cols)):
        angle = 2 * np.pi * np.arange(size) / size
        shape = (size, 1) if axis == 0 else (1, size)
        s = ndimage.sum(w * np.sin(angle).reshape(shape), labels, index)
        c = ndimage.sum(w * np.cos(angle).reshape(shape), labels, index)
        out[:, axis] = (np.arctan2(s, c) * size / (2 * np.pi)) % size
    return out


def pattern_centres(frame: np.ndarray, low: float, high: float, *,
                    weighted: bool = True) -> np.ndarray:
    """Centres of the patterns of a frame.

    The circular mean of the pixel coordinates of each pattern (periodic, so a
    pattern across an edge has its centre near the edge), weighted by how far each
    pixel rises above ``low``; ``weighted=False`` gives every pixel the same weight,
    as the CMSA lab report does (its centres jump by fractions of a pixel whenever a
    pixel enters or leaves the region).

    Parameters
    ----------
    frame : ndarray, shape (rows, cols)
        Values on a torus.
    low, high : float
        Thresholds of :func:`find_patterns`.
    weighted : bool
        Weight pixels by their height above ``low``.

    Returns
    -------
    ndarray
        ``(n, 2)``: (row, col) of each pattern.
    """
    frame = np.asarray(frame, dtype=float)
    labels, n = find_patterns(frame, low, high)
    return _centres(labels, n, frame - low if weighted else None)


def _delta(a: np.ndarray, b: np.ndarray, shape) -> np.ndarray:
    size = np.asarray(shape, dtype=float)
    return (a - b + size / 2) % size - size / 2


def track(previous: np.ndarray, current: np.ndarray, shape, max_distance: float = 5.0,
          margin: float = 2.0) -> np.ndarray:
    """Match pattern centres of two consecutive frames.

    Each previous centre, in turn, takes its nearest still unmatched current centre
    if that lies within ``max_distance`` and the second nearest is at least
    ``margin`` farther (ambiguous matches, as at splits and merges, are dropped).

    Parameters
    ----------
    previous, current : ndarray
        Centres ``(n, 2)`` of the two frames.
    shape : (int, int)
        Rows and columns of the torus.
    max_distance : float
        Largest displacement matched (pixels).
    margin : float
        How much farther the second nearest centre must be (pixels).

    Returns
    -------
    pairs : ndarray of int, shape (m, 2)
        Rows ``(index in previous, index in current)``.
    """
    previous, current = np.asarray(previous, float), np.asarray(current, float)
    if len(previous) == 0 or len(current) == 0:
        return np.empty((0, 2), dtype=int)
    delta = _delta(previous[:, None, :], current[None, :, :], shape)
    dist = np.hypot(delta[..., 0], delta[..., 1])
    used = np.zeros(len(current), dtype=bool)
    pairs = []
    for p in range(len(previous)):  # loops over patterns (a few dozen), not pixels
        d = np.where(used, np.inf, dist[p])
        order = np.argsort(d)
        best = d[order[0]]
        second = d[order[1]] if len(d) > 1 else np.inf
        if best <= max_distance and second - best >= margin:
            pairs.append((p, order[0]))
            used[order[0]] = True
    return np.array(pairs, dtype=int).reshape(-1, 2)


def displacements(previous, current, pairs, shape) -> np.ndarray:
    """Displacement vectors of tracked pairs, the shortest way round the torus.

    Parameters
    ----------
    previous, current : ndarray
        Centres ``(n, 2)`` of the two frames.
    pairs : ndarray of int
        From :func:`track`.
    shape : (int, int)
        Rows and columns of the torus.

    Returns
    -------
    ndarray
        ``(m, 2)``: (row, col) displacement of each pair.
    """
    pairs = np.asarray(pairs, dtype=int).reshape(-1, 2)
    return _delta(np.asarray(current)[pairs[:, 1]], np.asarray(previous)[pairs[:, 0]], shape)


@dataclass
class PhiResult:
    """Outcome of :func:`order_parameter`.

    Parameters
    ----------
    phi : float
        Mean of ``series`` over frame pairs with at least one tracked pattern
        (0 if there is none).
    series : ndarray
        Phi of each consecutive frame pair (NaN where nothing was tracked).
    pairs : int
        Number of tracked pattern pairs in total.
    mean_speed : float
        Mean displacement per frame of tracked patterns (pixels/frame, or
        pixels per unit time when ``frame_dt`` was given).
    patterns : ndarray of int
        Number of patterns in each frame.
    moving_fraction : float
        Share of tracked displacements at or above the speed floor.
    """

    phi: float
    series: np.ndarray
    pairs: int
    mean_speed: float
    patterns: np.ndarray
    moving_fraction: float

    def as_dict(self) -> dict:
        """The result as a JSON-ready record.

        Returns
        -------
        dict
            ``phi``, ``pairs``, ``mean_speed``, ``mean_patterns`` (per frame) and
            ``moving_fraction``.
        """
        return {"phi": self.phi, "pairs": self.pairs, "mean_speed": self.mean_speed,
                "mean_patterns": float(np.mean(self.patterns)) if len(self.patterns) else 0.0,
                "moving_fraction": self.moving_fraction}


def order_parameter(frames: np.ndarray, low: float, high: float, *, max_distance: float = 5.0,
                    margin: float = 2.0, speed_floor: float = 0.0,
                    frame_dt: float | None = None, weighted: bool = True) -> PhiResult:
    """The order parameter Phi of the patterns in a sequence of frames.

    Parameters
    ----------
    frames : ndarray, shape (time, rows, cols)
        Frames on a torus (mV, or spike counts from :func:`spike_count_frames`).
    low, high : float
        Pattern thresholds (see :func:`find_patterns`). With voltages they must lie
        above the resting potential, or every resting pixel is part of a pattern.
    max_distance, margin : float
        Tracking radius and ambiguity margin, in pixels per frame (:func:`track`).
    speed_floor : float
        Patterns displaced less than this (pixels per frame) count as stationary
        (see the module docstring).
    frame_dt : float, optional
        Time between frames, for ``mean_speed`` per unit time.
    weighted : bool
        Weighted pattern centres (see :func:`pattern_centres`).

    Returns
    -------
    PhiResult
    """
    frames = np.asarray(frames)
    if frames.ndim != 3:
        raise ValueError(f"frames must be (time, rows, cols), got shape {frames.shape}")
    shape = frames.shape[1:]
    centres = [pattern_centres(f, low, high, weighted=weighted) for f in frames]
    series = np.full(max(len(frames) - 1, 0), np.nan)
    speeds = []
    total_pairs = 0
    for t in range(1, len(frames)):
        pairs = track(centres[t - 1], centres[t], shape, max_distance, margin)
        if len(pairs) == 0:
            continue
        v = displacements(centres[t - 1], centres[t], pairs, shape)
        length = np.hypot(v[:, 0], v[:, 1])
        speeds.append(length)
        total_pairs += len(pairs)
        v[length < speed_floor] = 0.0
        norm = np.maximum(length, speed_floor).sum()
        series[t - 1] = np.hypot(*v.sum(axis=0)) / norm if norm > 0 else 0.0
    all_speeds = np.concatenate(speeds) if speeds else np.empty(0)
    mean_speed = float(all_speeds.mean()) if len(all_speeds) else 0.0
    if frame_dt:
        mean_speed /= frame_dt
    valid = ~np.isnan(series)
    return PhiResult(
        phi=float(series[valid].mean()) if valid.any() else 0.0,
        series=series,
        pairs=int(total_pairs),
        mean_speed=mean_speed,
        patterns=np.array([len(c) for c in centres]),
        moving_fraction=float(np.mean(all_speeds >= speed_floor)) if len(all_speeds) else 0.0,
    )


def spike_count_frames(indices, times, shape, t_start: float, t_stop: float, frame_dt: float,
                       window: float | None = None) -> np.ndarray:
    """Spike-count frames: for sheets too large to record voltages.

    Frame ``f`` counts, per neuron, the spikes in ``(t_f - window, t_f]`` with
    ``t_f = t_start + (f + 1) * frame_dt``. Neuron ``k`` sits at row ``k // cols``,
    column ``k % cols``. Times and durations share one unit (e.g. ms).

    Parameters
    ----------
    indices, times : array-like
        Spikes.
    shape : (int, int)
        Rows and columns of the lattice.
    t_start, t_stop : float
        The frames cover this interval.
    frame_dt : float
        Time between frames.
    window : float, optional
        Spikes counted per frame over this window (default ``frame_dt``).

    Returns
    -------
    ndarray of float32, shape (frames, rows, cols)
        Use e.g. ``low = 0.5, high = 0.5`` (a neuron that spiked in the window).
    """
    rows, cols = shape
    window = frame_dt if window is None else window
    steps = int(round(window / frame_dt))
    if steps < 1 or abs(steps * frame_dt - window) > 1e-9 * max(window, 1.0):
        raise ValueError("window must be a positive multiple of frame_dt")
    n_frames = int(np.floor((t_stop - t_start) / frame_dt + 1e-9))
    indices, times = np.asarray(indices), np.asarray(times, dtype=float)
    # extend back by the window so the first frames see their full window
    first = -(steps - 1)
    b = np.ceil((times - t_start) / frame_dt - 1e-9).astype(np.int64) - 1
    ok = (b >= first) & (b < n_frames) & (indices >= 0) & (indices < rows * cols)
    counts = np.zeros((n_frames - first, rows * cols), dtype=np.float32)
    np.add.at(counts, (b[ok] - first, indices[ok]), 1.0)
    csum = np.cumsum(counts, axis=0)
    windowed = csum[steps - 1:].copy()
    windowed[1:] -= csum[:-steps][: len(windowed) - 1]
    return windowed.reshape(n_frames, rows, cols)


def smooth_frames(frames: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian-smooth each frame on the torus (time untouched).

    Spike-count frames of a bump are speckled (only some of its neurons spike
    within a short window); smoothing joins them into one solid pattern whose
    centre no longer jumps with the speckle.

    Parameters
    ----------
    frames : ndarray
        ``(frames, rows, cols)``.
    sigma : float
        Standard deviation in pixels (0: unchanged).

    Returns
    -------
    ndarray
        Same shape.
    """
    frames = np.asarray(frames, dtype=np.float32)
    if sigma <= 0:
        return frames
    return ndimage.gaussian_filter(frames, sigma=(0, sigma, sigma), mode="wrap")
