"""Population measures on recorded spikes (numpy and scipy only, no Brian2).

Times are plain numbers in seconds, as in :mod:`brianlab.analysis.spikes`; a Brian2
Quantity in seconds is accepted too (it is read in seconds; another dimension is a
``ValueError``). Every measure looks at the window ``[t_start, t_start + duration)``;
spikes outside it are ignored. Rates are in Hz, frequencies in Hz.

What a silent population gives is stated per function: a rate of 0, and NaN for the
ratios (Fano factor, synchrony, CV, spectral peak) that 0/0 would give; bad arguments
(a duration or bin that is not positive, a window longer than the recording, an index
outside the population) raise ``ValueError``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .spikes import isi_cvs

__all__ = ["population_rate", "rate_spectrum", "peak_frequency", "FanoFactors", "fano_factor",
           "synchrony", "voltage_synchrony", "isi_cv_distribution", "population_statistics"]

#: Slack, in bins, when a duration must be a whole number of bins (float rounding).
_WHOLE = 1e-6


def _seconds(value, name: str) -> float:
    """A time as a float in seconds: a number, or a Brian2 Quantity of dimension second."""
    dim = getattr(value, "dim", None)
    if dim is not None and str(dim) not in ("s", "1"):
        raise ValueError(f"{name} must be a time (seconds), got {value!r}")
    return float(np.asarray(value, dtype=float))


def _positive(value, name: str) -> float:
    value = _seconds(value, name)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive time in seconds, got {value!r}")
    return value


def _spikes(spike_indices, spike_times, n_neurons: int, t_start: float, duration: float):
    """Indices and times (s, relative to ``t_start``) of the spikes in the window."""
    if int(n_neurons) != n_neurons or n_neurons < 1:
        raise ValueError(f"n_neurons must be a positive integer, got {n_neurons!r}")
    dim = getattr(spike_times, "dim", None)
    if dim is not None and str(dim) != "s":
        raise ValueError(f"spike_times must be times (seconds), got a quantity in {dim}")
    times = np.asarray(spike_times, dtype=float).ravel() - t_start
    if not np.all(np.isfinite(times)):
        raise ValueError("spike_times must be finite (a NaN or inf time was given)")
    if spike_indices is None:
        indices = np.zeros(len(times), dtype=int)
    else:
        indices = np.asarray(spike_indices).ravel()
        if len(indices) != len(times):
            raise ValueError(f"{len(indices)} spike indices for {len(times)} spike times")
        if indices.dtype.kind not in "iu":
            if indices.dtype.kind not in "fb" or np.any(indices != np.round(indices)):
                raise ValueError(f"spike indices must be integers, got {indices.dtype} values")
        indices = indices.astype(int)
        if len(indices) and (indices.min() < 0 or indices.max() >= n_neurons):
            raise ValueError(f"spike indices must lie in [0, {n_neurons}) (n_neurons); got "
                             f"{indices.min()}..{indices.max()}")
    keep = (times >= 0) & (times < duration)
    return indices[keep], times[keep]


def _bins(duration: float, width: float, name: str) -> int:
    """The number of whole bins of ``width`` in ``duration``."""
    count = duration / width
    whole = int(np.floor(count + _WHOLE))
    if whole < 1:
        raise ValueError(f"{name} ({width} s) is longer than the duration ({duration} s)")
    return whole


def population_rate(spike_times, n_neurons: int, duration, bin=1e-3, smooth=None, *,
                    t_start=0.0):
    """Population firing rate: spikes per bin over all neurons, per neuron and second.

    ``rate[k] = (spikes in bin k) / (n_neurons * bin)``, optionally smoothed with a
    Gaussian kernel of standard deviation ``smooth`` (reflected at both ends, so a
    constant rate stays constant). Its mean over the bins is the mean firing rate.

    Parameters
    ----------
    spike_times : array-like
        Times of every spike of the population (s).
    n_neurons : int
        Number of neurons in the population (silent ones included).
    duration : float
        Length of the window analysed (s); a whole number of bins.
    bin : float
        Bin width (s).
    smooth : float, optional
        Standard deviation of the Gaussian kernel (s); None: no smoothing.
    t_start : float
        Start of the window (s).

    Returns
    -------
    times : ndarray
        Bin centres (s).
    rate : ndarray
        Rate in each bin (Hz); zeros if no neuron fired.

    Raises
    ------
    ValueError
        If ``duration``, ``bin`` or ``smooth`` is not positive, the duration is not a
        whole number of bins, or ``n_neurons`` is not a positive integer.
    """
    duration, width = _positive(duration, "duration"), _positive(bin, "bin")
    t_start = _seconds(t_start, "t_start")
    _, times = _spikes(None, spike_times, n_neurons, t_start, duration)
    count = duration / width
    n_bins = _bins(duration, width, "bin")
    if abs(count - n_bins) > _WHOLE * count:
        raise ValueError(f"duration ({duration} s) is not a whole number of bins of {width} s")
    edges = np.minimum((times / width).astype(int), n_bins - 1)
    rate = np.bincount(edges, minlength=n_bins) / (n_neurons * width)
    if smooth is not None:
        from scipy.ndimage import gaussian_filter1d

        rate = gaussian_filter1d(rate, _positive(smooth, "smooth") / width, mode="reflect")
    return t_start + (np.arange(n_bins) + 0.5) * width, rate


def rate_spectrum(rate, bin, *, nperseg: int | None = None):
    """Power spectral density of a population rate (Welch's method, mean removed).

    :func:`scipy.signal.welch` with a Hann window, 50 % overlap and the constant
    detrended from each segment, so a constant rate has zero power at every frequency.
    The frequency resolution is ``1 / (nperseg * bin)``.

    Parameters
    ----------
    rate : array-like
        The rate in consecutive bins (Hz), e.g. from :func:`population_rate`.
    bin : float
        Bin width (s); the sampling frequency is ``1 / bin``.
    nperseg : int, optional
        Samples per Welch segment; default ``min(len(rate), max(256, len(rate) // 4))``.

    Returns
    -------
    frequencies : ndarray
        From 0 to the Nyquist frequency ``1 / (2 bin)`` (Hz).
    power : ndarray
        Spectral density of the rate (Hz^2/Hz).

    Raises
    ------
    ValueError
        If there are fewer than 2 samples or ``bin`` is not positive.
    """
    from scipy.signal import welch

    rate = np.asarray(rate, dtype=float).ravel()
    width = _positive(bin, "bin")
    if len(rate) < 2:
        raise ValueError(f"rate_spectrum needs at least 2 samples of the rate, got {len(rate)}")
    if nperseg is None:
        nperseg = min(len(rate), max(256, len(rate) // 4))
    nperseg = min(int(nperseg), len(rate))
    return welch(rate - rate.mean(), fs=1.0 / width, nperseg=nperseg, detrend="constant")


def peak_frequency(frequencies, power, *, fmin: float = 0.0, fmax: float = np.inf) -> float:
    """Frequency (Hz) of the largest power above 0 Hz in ``[fmin, fmax]``.

    Parameters
    ----------
    frequencies, power : array-like
        A spectrum, as :func:`rate_spectrum` returns it.
    fmin, fmax : float
        Search band (Hz); 0 Hz itself is never a peak.

    Returns
    -------
    float
        NaN if every power in the band is zero (a constant or silent rate) or the
        band holds no frequency.
    """
    frequencies = np.asarray(frequencies, dtype=float)
    power = np.asarray(power, dtype=float)
    band = (frequencies > 0) & (frequencies >= fmin) & (frequencies <= fmax)
    if not band.any() or not np.any(power[band] > 0):
        return float("nan")
    return float(frequencies[band][np.argmax(power[band])])


def _counts(indices, times, n_neurons: int, n_bins: int, width: float):
    """Per-neuron mean and variance (ddof=0) of the counts in ``n_bins`` bins, and the
    population count per bin, without a (neurons x bins) matrix."""
    bins = (times / width).astype(int)
    keep = bins < n_bins
    indices, bins = indices[keep], bins[keep]
    population = np.bincount(bins, minlength=n_bins).astype(float)
    total = np.bincount(indices, minlength=n_neurons).astype(float)
    cells, per_cell = np.unique(indices.astype(np.int64) * n_bins + bins, return_counts=True)
    squares = np.bincount(cells // n_bins, weights=per_cell.astype(float) ** 2,
                          minlength=n_neurons)
    mean = total / n_bins
    var = np.maximum(squares / n_bins - mean ** 2, 0.0)
    return mean, var, population


class FanoFactors(NamedTuple):
    """The two Fano factors of :func:`fano_factor`.

    Parameters
    ----------
    neurons : float
        Mean over the neurons that fired of each neuron's count variance / count mean.
    population : float
        Count variance / count mean of the whole population's count per window.
    """

    neurons: float
    population: float


def fano_factor(spike_indices, spike_times, n_neurons: int, duration, window, *,
                t_start=0.0) -> FanoFactors:
    """Fano factors of spike counts in consecutive windows: per neuron and of the population.

    The window ``[t_start, t_start + duration)`` is cut into ``floor(duration / window)``
    whole windows (spikes after the last whole window are ignored) and spikes are
    counted in each. Two numbers are returned:

    - ``neurons``: for each neuron that fired in the whole windows, the sample
      variance (``ddof=1``) of its counts across windows over their mean; then the
      mean over those neurons. 1 for Poisson trains, 0 for periodic trains whose
      period divides the window.
    - ``population``: the same ratio for the population's total count per window.
      1 for independent Poisson trains; it grows with correlations between neurons
      (N for N identical Poisson trains), so it tells synchrony from irregularity.

    Parameters
    ----------
    spike_indices, spike_times : array-like
        Spikes: neuron indices and times (s).
    n_neurons : int
        Number of neurons.
    duration : float
        Length of the recording analysed (s).
    window : float
        Counting window (s); at least two must fit in ``duration``.
    t_start : float
        Start of the recording analysed (s).

    Returns
    -------
    FanoFactors
        ``(neurons, population)``; each NaN if no neuron fired.

    Raises
    ------
    ValueError
        If fewer than two windows fit in the duration, or a time or index is invalid.
    """
    duration, width = _positive(duration, "duration"), _positive(window, "window")
    indices, times = _spikes(spike_indices, spike_times, n_neurons, _seconds(t_start, "t_start"),
                             duration)
    n_windows = _bins(duration, width, "window")
    if n_windows < 2:
        raise ValueError(f"window ({width} s) must fit at least twice in the duration "
                         f"({duration} s) for a count variance")
    mean, var, population = _counts(indices, times, n_neurons, n_windows, width)
    unbiased = n_windows / (n_windows - 1)
    fired = mean > 0
    neurons = float(np.mean(var[fired] * unbiased / mean[fired])) if fired.any() else np.nan
    pop_mean = population.mean()
    pop = float(population.var(ddof=1) / pop_mean) if pop_mean > 0 else float("nan")
    return FanoFactors(neurons, pop)


def synchrony(spike_indices, spike_times, n_neurons: int, duration, bin=1e-3, *,
              t_start=0.0) -> float:
    """Golomb's synchrony measure chi, from spike counts in bins.

    Golomb (2007) "Neuronal synchrony measures", Scholarpedia 2(1):1347 (after Golomb
    & Rinzel 1993, 1994) defines, for signals ``x_i(t)`` of N neurons and their
    population mean ``X(t) = (1/N) sum_i x_i(t)``::

        chi^2 = var_t(X) / ((1/N) sum_i var_t(x_i))

    with the membrane potential as ``x_i``. Here ``x_i(t)`` is neuron i's spike count
    in consecutive bins of width ``bin`` (the spike-count form), i.e.
    ``chi^2 = var(S) / (N * sum_i var(c_i))`` with ``S`` the population count per bin.
    N counts the neurons that fired in the window (a silent neuron has no variance to
    normalise). chi is 1 for identical trains, about ``1/sqrt(N)`` for independent ones
    (``var(S) = sum_i var(c_i)`` then), and in between for partial synchrony. It
    depends on ``bin``: synchrony on a time scale shorter than the bin counts fully.

    Parameters
    ----------
    spike_indices, spike_times : array-like
        Spikes: neuron indices and times (s).
    n_neurons : int
        Number of neurons.
    duration : float
        Length of the recording analysed (s); spikes after its last whole bin are
        ignored.
    bin : float
        Bin width (s).
    t_start : float
        Start of the recording analysed (s).

    Returns
    -------
    float
        chi in [0, 1]; NaN if fewer than two neurons fired (one neuron is trivially
        "synchronous" with itself) or no neuron's count varies.

    Raises
    ------
    ValueError
        If fewer than two bins fit in the duration, or a time or index is invalid.
    """
    duration, width = _positive(duration, "duration"), _positive(bin, "bin")
    indices, times = _spikes(spike_indices, spike_times, n_neurons, _seconds(t_start, "t_start"),
                             duration)
    n_bins = _bins(duration, width, "bin")
    if n_bins < 2:
        raise ValueError(f"bin ({width} s) must fit at least twice in the duration ({duration} s)")
    mean, var, population = _counts(indices, times, n_neurons, n_bins, width)
    fired = mean > 0
    if fired.sum() < 2 or var[fired].sum() == 0:
        return float("nan")
    chi2 = population.var() / (fired.sum() * var[fired].sum())
    return float(np.sqrt(min(chi2, 1.0)))


def voltage_synchrony(traces) -> float:
    """Golomb's synchrony measure chi in its original form, from sampled traces.

    ``chi^2 = var_t(V) / ((1/N) sum_i var_t(V_i))`` with ``V(t) = (1/N) sum_i V_i(t)``
    (Golomb 2007, Scholarpedia 2(1):1347), for the membrane potentials (or any other
    variable) of N neurons recorded at the same times. chi is 1 for identical traces,
    about ``1/sqrt(N)`` for independent ones.

    Parameters
    ----------
    traces : array-like
        ``(neurons, times)``, as a Brian2 ``StateMonitor`` holds a variable (a
        Quantity is read in SI units; the unit cancels).

    Returns
    -------
    float
        chi in [0, 1]; NaN if no trace varies.

    Raises
    ------
    ValueError
        If there are fewer than two neurons or two samples, or a value is not finite.
    """
    traces = np.asarray(traces, dtype=float)
    if traces.ndim != 2 or traces.shape[0] < 2 or traces.shape[1] < 2:
        raise ValueError(f"traces must be (neurons, times) with at least 2 of each, got shape "
                         f"{traces.shape}")
    if not np.all(np.isfinite(traces)):
        raise ValueError("traces must be finite (a NaN or inf value was given)")
    single = traces.var(axis=1).mean()
    if single == 0:
        return float("nan")
    return float(np.sqrt(min(traces.mean(axis=0).var() / single, 1.0)))


def isi_cv_distribution(spike_indices, spike_times, n_neurons: int, *, min_isis: int = 5,
                        t_start=-np.inf, t_stop=np.inf):
    """CVs of the inter-spike intervals across neurons, and their mean.

    Each neuron's CV is :func:`brianlab.analysis.spikes.isi_cvs` (population standard
    deviation of its intervals over their mean); only neurons with at least
    ``min_isis`` intervals in ``[t_start, t_stop)`` count.

    Parameters
    ----------
    spike_indices, spike_times : array-like
        Spikes: neuron indices and times (s).
    n_neurons : int
        Number of neurons.
    min_isis : int
        Fewest intervals a neuron needs (at least 2; few intervals bias the CV low).
    t_start, t_stop : float
        Only spikes in this window count (s).

    Returns
    -------
    cvs : ndarray
        The CV of each neuron with enough intervals, in index order.
    mean : float
        Their mean; NaN if no neuron has enough intervals.

    Raises
    ------
    ValueError
        If ``min_isis`` is below 2 or an index is outside ``[0, n_neurons)``.
    """
    cv = isi_cvs(spike_indices, np.asarray(spike_times, dtype=float), n_neurons,
                 min_isis=min_isis, t_start=_seconds(t_start, "t_start"),
                 t_stop=_seconds(t_stop, "t_stop"))
    cvs = cv[np.isfinite(cv)]
    return cvs, (float(cvs.mean()) if len(cvs) else float("nan"))


def population_statistics(spike_indices, spike_times, n_neurons: int, duration, *,
                          t_start=0.0, bin=1e-3, window=0.05, min_isis: int = 5,
                          fmax: float = np.inf) -> dict:
    """The standard statistics of one population's activity, as one flat dict.

    What gallery pages and tests tabulate (plain floats, JSON-ready):

    - ``n_neurons``, ``duration`` (s), ``spikes``;
    - ``rate`` (Hz): spikes / (n_neurons * duration), silent neurons included;
    - ``active_fraction``: share of neurons that fired;
    - ``cv``: mean ISI CV (:func:`isi_cv_distribution`, neurons with at least
      ``min_isis`` intervals), ``cv_neurons``: how many neurons that is;
    - ``fano`` and ``fano_population``: :func:`fano_factor` with ``window``;
    - ``synchrony``: Golomb's chi (:func:`synchrony`) with ``bin``;
    - ``peak_frequency`` (Hz): :func:`peak_frequency` of :func:`rate_spectrum` of the
      population rate in bins of ``bin``, up to ``fmax``.

    Parameters
    ----------
    spike_indices, spike_times : array-like
        Spikes: neuron indices and times (s).
    n_neurons : int
        Number of neurons.
    duration : float
        Length of the recording analysed (s); a whole number of ``bin``.
    t_start : float
        Start of the recording analysed (s): leave out a transient with it.
    bin : float
        Bin of the population rate, its spectrum and the synchrony measure (s).
    window : float
        Counting window of the Fano factors (s).
    min_isis : int
        Fewest intervals for a neuron's CV to count.
    fmax : float
        Highest frequency searched for the spectral peak (Hz).

    Returns
    -------
    dict
        The keys above; NaN for a ratio that a silent population leaves undefined.

    Raises
    ------
    ValueError
        As the functions it calls (bad times, indices, bin or window).
    """
    duration, width = _positive(duration, "duration"), _positive(bin, "bin")
    t_start = _seconds(t_start, "t_start")
    indices, times = _spikes(spike_indices, spike_times, n_neurons, t_start, duration)
    times = times + t_start
    _, rate = population_rate(times, n_neurons, duration, width, t_start=t_start)
    frequencies, power = rate_spectrum(rate, width)
    cvs, cv = isi_cv_distribution(indices, times, n_neurons, min_isis=min_isis,
                                  t_start=t_start, t_stop=t_start + duration)
    fano = fano_factor(indices, times, n_neurons, duration, window, t_start=t_start)
    return {
        "n_neurons": int(n_neurons),
        "duration": duration,
        "spikes": int(len(times)),
        "rate": len(times) / (n_neurons * duration),
        "active_fraction": float(len(np.unique(indices)) / n_neurons),
        "cv": cv,
        "cv_neurons": int(len(cvs)),
        "fano": fano.neurons,
        "fano_population": fano.population,
        "synchrony": synchrony(indices, times, n_neurons, duration, width, t_start=t_start),
        "peak_frequency": peak_frequency(frequencies, power, fmax=fmax),
    }
