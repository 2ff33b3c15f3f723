"""Inputs: images on a lattice (a built-in cross, any 2D array, a PNG file), and spike
trains with a hidden repeating pattern.

Pure numpy/scipy/matplotlib; images become per-neuron values in [0, 1] for a
``side x side`` lattice, neuron ``k`` at row ``k // side``, column ``k % side``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import ndimage

__all__ = ["PatternInput", "cross_image", "image_on_lattice", "load_image", "pattern_input",
           "stimulus_image", "varying_rate_spikes"]


def cross_image(side: int, width: int | None = None) -> np.ndarray:
    """A centred cross as a 0/1 array.

    Parameters
    ----------
    side : int
        Side of the square image.
    width : int, optional
        Width of each bar in pixels (default ``side // 20``, at least 1).

    Returns
    -------
    ndarray
        ``(side, side)`` of 0.0 and 1.0.
    """
    if side < 3:
        raise ValueError(f"side must be at least 3, got {side}")
    width = max(1, side // 20) if width is None else int(width)
    if not 1 <= width <= side:
        raise ValueError(f"width must be between 1 and {side}, got {width}")
    image = np.zeros((side, side))
    lo = (side - width) // 2
    image[lo:lo + width, :] = 1.0
    image[:, lo:lo + width] = 1.0
    return image


#: Largest image file accepted, in pixels (refused from its header, before decoding).
MAX_IMAGE_PIXELS = 25_000_000
#: The stimulus region (values above 0.5) must cover at most this share of the sheet:
#: beyond it, "the share of spikes inside the region" says nothing.
MAX_REGION_SHARE = 0.5


def image_on_lattice(image, side: int) -> np.ndarray:
    """Resize a 2D array to ``side x side``, scaled to [0, 1].

    Parameters
    ----------
    image : array-like
        Grey values ``(rows, cols)``, or RGB(A) ``(rows, cols, channels)`` (averaged).
    side : int
        Side of the lattice.

    Returns
    -------
    ndarray
        ``(side, side)`` in [0, 1]; a uniform image maps to zeros.

    Raises
    ------
    ValueError
        For non-finite pixels.
    """
    image = np.asarray(image, dtype=float)
    if image.ndim == 3:
        image = image[..., :3].mean(axis=2)
    if image.ndim != 2 or min(image.shape) < 1:
        raise ValueError(f"an image is a 2D (or RGB) array, got shape {image.shape}")
    if not np.all(np.isfinite(image)):
        raise ValueError("the image contains non-finite values (NaN or infinity)")
    low, high = float(image.min()), float(image.max())  # of the pixels, not of the
    if high == low:                                       # resizing's rounding
        return np.zeros((side, side))
    if image.shape != (side, side):
        image = ndimage.zoom(image, (side / image.shape[0], side / image.shape[1]), order=1,
                             grid_mode=True, mode="nearest")
    return np.clip((image - low) / (high - low), 0.0, 1.0)


def _read_pixels(path) -> np.ndarray:
    """Grey values of an image file; the size is checked from the header before decoding."""
    from PIL import Image

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"image file {str(path)!r} does not exist")
    try:
        with Image.open(path) as handle:
            width, height = handle.size
            if width * height > MAX_IMAGE_PIXELS:
                raise ValueError(f"image file {str(path)!r} has {width} x {height} pixels; at "
                                 f"most {MAX_IMAGE_PIXELS:,} are accepted (the sheet has far "
                                 "fewer neurons): downsample it first")
            return np.asarray(handle.convert("F"), dtype=float)
    except ValueError:
        raise
    except Exception as exc:  # noqa: BLE001 - any reader error is reported with the name
        raise ValueError(f"cannot read image file {str(path)!r}: {exc}") from None


def _named(name: str, convert):
    try:
        return convert()
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


def load_image(path, side: int) -> np.ndarray:
    """Read a PNG (or any format Pillow reads) onto a ``side x side`` lattice.

    Bright pixels are the stimulus.

    Parameters
    ----------
    path : str or Path
        The image file.
    side : int
        Side of the lattice.

    Returns
    -------
    ndarray
        ``(side, side)`` in [0, 1].

    Raises
    ------
    ValueError
        Naming the file, when it is missing, unreadable, has non-finite pixels, or is
        larger than :data:`MAX_IMAGE_PIXELS` (checked from the header, before the pixels
        are decoded).
    """
    pixels = _read_pixels(path)
    return _named(f"image file {str(path)!r}", lambda: image_on_lattice(pixels, side))


def stimulus_image(spec, side: int) -> np.ndarray:
    """A stimulus on the lattice from a name, an image file or an array.

    Parameters
    ----------
    spec : str, Path or array-like
        ``"cross"``, a path to an image file, or a 2D array.
    side : int
        Side of the lattice.

    Returns
    -------
    ndarray
        ``(side, side)`` in [0, 1].

    Raises
    ------
    ValueError
        Naming the image, when the stimulus region (values above 0.5) is empty or covers
        more than :data:`MAX_REGION_SHARE` of the lattice, or the image is smaller than
        2 x 2 pixels, uniform (all black) or has NaN pixels.
    """
    if isinstance(spec, str) and spec == "cross":
        return cross_image(side)
    is_file = isinstance(spec, (str, Path))
    name = f"image file {str(spec)!r}" if is_file else "the image"
    pixels = _read_pixels(spec) if is_file else np.asarray(spec, dtype=float)
    shape = np.shape(pixels)
    if len(shape) >= 2 and min(shape[:2]) < 2:
        raise ValueError(f"{name} has {shape[0]} x {shape[1]} pixels; a stimulus needs at "
                         "least 2 x 2")
    lattice = _named(name, lambda: image_on_lattice(pixels, side))
    share = float(np.mean(lattice > 0.5))
    if share == 0:
        raise ValueError(f"{name} marks no stimulus region on the {side} x {side} sheet (it is "
                         "uniform, e.g. all black, or too fine to survive the resizing); bright "
                         "pixels are the stimulus")
    if share > MAX_REGION_SHARE:
        raise ValueError(f"{name} covers {share:.0%} of the sheet; the stimulus region (bright "
                         f"pixels) may cover at most {MAX_REGION_SHARE:.0%}")
    return lattice


# -- spike trains with a hidden repeating pattern (Masquelier et al. 2008) -----------------

@dataclass(frozen=True)
class PatternInput:
    """Afferent spike trains with a repeating pattern hidden in them.

    Parameters
    ----------
    indices, times : ndarray
        Spikes of all afferents, sorted by time (``times`` in seconds), ready for a
        :class:`brian2.SpikeGeneratorGroup`.
    n : int
        Number of afferents.
    duration, segment : float
        Total length and pattern length (seconds).
    pattern_afferents : ndarray of bool
        Which afferents take part in the pattern.
    onsets : ndarray
        Start times (s) of the pattern presentations, sorted.
    """

    indices: np.ndarray
    times: np.ndarray
    n: int
    duration: float
    segment: float
    pattern_afferents: np.ndarray
    onsets: np.ndarray

    def in_pattern(self, times) -> np.ndarray:
        """Whether each time falls inside a pattern presentation.

        Parameters
        ----------
        times : array-like
            Times in seconds.

        Returns
        -------
        ndarray of bool
        """
        times = np.asarray(times, dtype=float)
        k = np.searchsorted(self.onsets, times, side="right") - 1
        inside = k >= 0
        inside[inside] = times[inside] < self.onsets[k[inside]] + self.segment
        return inside


def varying_rate_spikes(n: int, steps: int, rng: np.random.Generator, *, dt: float = 1e-3,
                        rate_range=(0.0, 90.0), start_rate: float = 54.0,
                        max_acceleration: float = 360.0, max_slope: float = 1800.0,
                        max_gap: int = 50) -> np.ndarray:
    """Poisson spike trains whose rates wander slowly (Masquelier et al. 2008).

    Every ``dt`` each afferent's rate slope changes by a uniform draw in
    ``+-max_acceleration*dt`` (Hz/s per step), is clipped to ``+-max_slope`` Hz/s,
    and moves the rate, clipped to ``rate_range`` (Hz). At most one spike per step
    (probability ``rate*dt``), and an afferent silent for ``max_gap`` steps fires,
    so every afferent spikes at least once per ``max_gap`` steps.

    Parameters
    ----------
    n : int
        Number of afferents.
    steps : int
        Number of time steps.
    rng : numpy.random.Generator
        Source of the random draws.
    dt : float
        Time step (s).
    rate_range : (float, float)
        Lowest and highest rate (Hz).
    start_rate : float
        Rate of every afferent at the start (Hz).
    max_acceleration : float
        Largest change of the rate slope per second (Hz/s per s).
    max_slope : float
        Largest rate slope (Hz/s).
    max_gap : int
        Longest silence of an afferent, in steps.

    Returns
    -------
    ndarray of bool, shape (n, steps)
        ``spikes[i, t]``: afferent ``i`` fires in step ``t``.
    """
    low, high = rate_range
    spikes = np.zeros((n, steps), dtype=bool)
    rate = np.full(n, float(start_rate))
    slope = np.zeros(n)
    since = np.zeros(n, dtype=np.int64)
    block = 1000  # random numbers are drawn a block of steps at a time
    for first in range(0, steps, block):  # a loop over time; each step is vectorised
        m = min(block, steps - first)
        kicks = rng.uniform(-max_acceleration, max_acceleration, size=(m, n))
        draws = rng.random((m, n))
        for k in range(m):
            fire = draws[k] < rate * dt
            since = np.where(fire, 0, since + 1)
            forced = since >= max_gap
            fire |= forced
            since[forced] = 0
            spikes[:, first + k] = fire
            slope = np.clip(slope + kicks[k], -max_slope, max_slope)
            rate = np.clip(rate + slope * dt, low, high)
    return spikes


def pattern_input(n: int = 2000, duration: float = 10.0, *, seed: int = 0,
                  pattern_fraction: float = 0.5, presentation_fraction: float = 0.25,
                  segment: float = 0.05, noise_rate: float = 10.0, dt: float = 1e-3,
                  **rate_options) -> PatternInput:
    """Afferents with a repeating pattern, as in Masquelier, Guyonneau & Thorpe (2008).

    The trains (:func:`varying_rate_spikes`) are cut into segments of ``segment``
    seconds; one segment is chosen as the pattern, and in ``presentation_fraction``
    of the segments (chosen at random, never two in a row) its spikes replace
    those of the first ``pattern_fraction`` of the afferents. Then every afferent
    gets extra Poisson spikes at ``noise_rate`` Hz (one spike per step at most),
    so the pattern is never repeated exactly.

    Parameters
    ----------
    n : int
        Number of afferents.
    duration, segment, dt : float
        Seconds; ``duration`` is rounded down to whole segments.
    seed : int
        Seed of the numpy generator: the same seed gives the same spikes.
    pattern_fraction : float
        Share of the afferents that take part in the pattern.
    presentation_fraction : float
        Share of the segments in which the pattern is shown.
    noise_rate : float
        Rate (Hz) of the extra Poisson spikes of every afferent.
    **rate_options
        Passed to :func:`varying_rate_spikes`.

    Returns
    -------
    PatternInput
    """
    if n < 2:
        raise ValueError(f"n must be at least 2, got {n}")
    if not 0 < pattern_fraction <= 1 or not 0 < presentation_fraction < 0.5:
        raise ValueError("pattern_fraction must be in (0, 1] and presentation_fraction in "
                         "(0, 0.5)")
    per_segment = int(round(segment / dt))
    n_segments = int(duration / segment + 1e-9)
    if per_segment < 1 or n_segments < 4:
        raise ValueError(f"duration {duration} s holds fewer than 4 segments of {segment} s")
    rng = np.random.default_rng(seed)
    spikes = varying_rate_spikes(n, n_segments * per_segment, rng, dt=dt, **rate_options)
    spikes = spikes.reshape(n, n_segments, per_segment)
    pattern = spikes[:, rng.integers(n_segments), :].copy()
    # presentations: a random set of segments with no two adjacent (draw gaps, then place)
    count = int(round(presentation_fraction * n_segments))
    slots = np.sort(rng.choice(n_segments - count + 1, size=count, replace=False))
    chosen = slots + np.arange(count)
    members = np.zeros(n, dtype=bool)
    members[:int(round(pattern_fraction * n))] = True
    spikes[np.ix_(members, chosen)] = pattern[members][:, None, :]
    spikes = spikes.reshape(n, -1)
    spikes |= rng.random(spikes.shape) < noise_rate * dt
    indices, steps = np.nonzero(spikes)
    order = np.argsort(steps, kind="stable")
    return PatternInput(indices=indices[order].astype(np.int32), times=steps[order] * dt, n=n,
                        duration=n_segments * segment, segment=segment,
                        pattern_afferents=members, onsets=chosen * segment)
