"""Population measures (brianlab.analysis.population) against independent references:
Poisson, periodic and identical spike trains generated here with numpy, analytic values
of their statistics, dense (neurons x bins) count matrices, and scipy-free sums."""

import subprocess
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from brianlab import plot  # noqa: E402
from brianlab.analysis import population as pop  # noqa: E402
from brianlab.analysis.spikes import isi_cv, isi_cvs  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def poisson_trains(n, rate, duration, seed, t_start=0.0):
    """A homogeneous Poisson process per neuron: a Poisson count, then uniform times."""
    rng = np.random.default_rng(seed)
    counts = rng.poisson(rate * duration, n)
    indices = np.repeat(np.arange(n), counts)
    times = t_start + rng.uniform(0, duration, counts.sum())
    return indices, times


def dense_counts(indices, times, n, width, n_bins):
    """(neurons, bins) count matrix: the plain reference for the sparse computation."""
    counts, _, _ = np.histogram2d(indices, times, bins=[np.arange(n + 1) - 0.5,
                                                        np.arange(n_bins + 1) * width])
    return counts


# ---------------------------------------------------------------------------
# Poisson trains: CV 1, Fano 1, chi 1/sqrt(N)

N, RATE, T = 200, 20.0, 10.0


@pytest.fixture(scope="module")
def poisson():
    return poisson_trains(N, RATE, T, seed=0)


def test_poisson_trains_have_cv_one_and_fano_one(poisson):
    indices, times = poisson
    # each neuron has ~200 ISIs: the CV of one neuron has a standard error ~0.07, the
    # mean over 200 neurons ~0.005; the ddof=0 estimate is biased low by O(1/200).
    cvs, mean = pop.isi_cv_distribution(indices, times, N)
    assert len(cvs) == N
    assert mean == pytest.approx(1.0, abs=0.03)
    # Fano of Poisson counts is 1. Per neuron (1000 windows of 10 ms, ~0.2 spikes each):
    # a standard error ~sqrt(2/999) = 0.045 per neuron, 0.003 for the mean of 200.
    # Population: one ratio over 1000 windows, standard error ~0.045 (0.2 is 4.5 sigma).
    fano = pop.fano_factor(indices, times, N, T, 0.01)
    assert fano.neurons == pytest.approx(1.0, abs=0.02)
    assert fano.population == pytest.approx(1.0, abs=0.2)


def test_independent_trains_have_chi_one_over_sqrt_n(poisson):
    # independent trains: var(S) = sum_i var(c_i), so chi^2 = 1/N (Golomb 2007, the
    # asynchronous limit). 10,000 bins: chi * sqrt(N) has a standard error ~0.008.
    indices, times = poisson
    chi = pop.synchrony(indices, times, N, T, 1e-3)
    assert chi * np.sqrt(N) == pytest.approx(1.0, abs=0.04)


def test_counts_match_a_dense_count_matrix(poisson):
    """The sparse per-neuron variances equal numpy's on the full (neurons x bins) matrix."""
    indices, times = poisson
    for width, in [(0.01,), (0.05,)]:
        n_bins = int(round(T / width))
        counts = dense_counts(indices, times, N, width, n_bins)
        fired = counts.sum(axis=1) > 0
        population = counts.sum(axis=0)
        chi2 = population.var() / fired.sum() / counts[fired].var(axis=1).sum()
        assert pop.synchrony(indices, times, N, T, width) == pytest.approx(np.sqrt(chi2),
                                                                           rel=1e-10)
        fano = pop.fano_factor(indices, times, N, T, width)
        per_neuron = counts[fired].var(axis=1, ddof=1) / counts[fired].mean(axis=1)
        assert fano.neurons == pytest.approx(per_neuron.mean(), rel=1e-10)
        assert fano.population == pytest.approx(population.var(ddof=1) / population.mean(),
                                                rel=1e-10)


def test_partly_shared_trains_give_the_analytic_chi():
    """Each neuron: its own Poisson train (rate a) plus one train common to all (rate c).
    Counts per bin: var(c_i) = (a + c) dt, var(S) = N a dt + N^2 c dt, so
    chi^2 = (a/N + c) / (a + c)."""
    n, a, c, duration = 100, 10.0, 10.0, 10.0
    own_i, own_t = poisson_trains(n, a, duration, seed=3)
    _, common = poisson_trains(1, c, duration, seed=4)
    indices = np.r_[own_i, np.repeat(np.arange(n), len(common))]
    times = np.r_[own_t, np.tile(common, n)]
    expected = np.sqrt((a / n + c) / (a + c))       # 0.7106
    # 10,000 bins of 1 ms: chi's standard error ~0.01
    assert pop.synchrony(indices, times, n, duration, 1e-3) == pytest.approx(expected, abs=0.04)


def test_voltage_chi_of_shared_and_private_noise_is_analytic():
    """Traces = a common Gaussian signal (variance c) + private ones (variance a):
    chi^2 = (a/N + c) / (a + c), Golomb's original (voltage) form."""
    rng = np.random.default_rng(14)
    n, samples, a, c = 50, 20000, 4.0, 1.0
    traces = np.sqrt(a) * rng.standard_normal((n, samples)) \
        + np.sqrt(c) * rng.standard_normal(samples)
    # 20,000 samples: chi's standard error ~0.005
    assert pop.voltage_synchrony(traces) == pytest.approx(np.sqrt((a / n + c) / (a + c)),
                                                          abs=0.02)
    independent = rng.standard_normal((n, samples))
    assert pop.voltage_synchrony(independent) * np.sqrt(n) == pytest.approx(1.0, abs=0.04)
    assert pop.voltage_synchrony(np.tile(traces[0], (n, 1))) == pytest.approx(1.0, rel=1e-12)
    assert np.isnan(pop.voltage_synchrony(np.ones((3, 10))))
    with pytest.raises(ValueError, match=r"at least 2 of each, got shape \(1, 10\)"):
        pop.voltage_synchrony(np.ones((1, 10)))


# ---------------------------------------------------------------------------
# periodic and identical trains


def test_periodic_trains_have_cv_zero_and_fano_zero():
    # every neuron fires every 10 ms at its own phase in [1, 9] ms: 5 spikes in every
    # 50 ms window, so every count variance is 0
    n, duration = 50, 1.0
    phases = np.random.default_rng(1).uniform(0.001, 0.009, n)
    times = (phases[:, None] + np.arange(100) * 0.01).ravel()
    indices = np.repeat(np.arange(n), 100)
    cvs, mean = pop.isi_cv_distribution(indices, times, n)
    assert len(cvs) == n and np.all(cvs < 1e-9) and mean < 1e-9
    fano = pop.fano_factor(indices, times, n, duration, 0.05)
    assert fano.neurons == pytest.approx(0.0, abs=1e-12)
    assert fano.population == pytest.approx(0.0, abs=1e-12)


def test_identical_trains_have_chi_one_and_population_fano_n():
    n, duration = 40, 2.0
    _, train = poisson_trains(1, 30.0, duration, seed=5)
    indices = np.repeat(np.arange(n), len(train))
    times = np.tile(train, n)
    assert pop.synchrony(indices, times, n, duration, 1e-3) == pytest.approx(1.0, rel=1e-12)
    assert pop.synchrony(indices, times, n, duration, 5e-3) == pytest.approx(1.0, rel=1e-12)
    # silent neurons have no variance to normalise: chi is over the neurons that fired
    assert pop.synchrony(indices, times, n + 10, duration, 1e-3) == pytest.approx(1.0, rel=1e-12)
    # S = n c_1 in every window: var(S)/mean(S) = n var(c_1)/mean(c_1)
    fano = pop.fano_factor(indices, times, n, duration, 0.05)
    assert fano.population == pytest.approx(n * fano.neurons, rel=1e-12)


# ---------------------------------------------------------------------------
# rate, spectrum


def test_population_rate_of_a_known_count():
    # 10 neurons, 10 bins of 1 ms: 3 spikes in bin 2, 1 in bin 7, one after the window
    times = np.array([0.0021, 0.0025, 0.0029, 0.0070, 0.0105])
    t, rate = pop.population_rate(times, 10, 0.010, 0.001)
    np.testing.assert_allclose(t, (np.arange(10) + 0.5) * 1e-3)
    expected = np.zeros(10)
    expected[2], expected[7] = 3 / (10 * 1e-3), 1 / (10 * 1e-3)       # 300 Hz, 100 Hz
    np.testing.assert_allclose(rate, expected)
    # a window that starts later: its own bins
    t, rate = pop.population_rate(times, 10, 0.005, 0.001, t_start=0.006)
    np.testing.assert_allclose(rate, [0, 100, 0, 0, 100])
    np.testing.assert_allclose(t, 0.006 + (np.arange(5) + 0.5) * 1e-3)


def test_smoothing_keeps_the_spikes_and_the_gaussian_shape():
    # one spike in the middle of 1 s: a Gaussian of sigma 5 ms (5 bins) whose peak is
    # rate / (sqrt(2 pi) sigma_bins) and whose sum is the spike's
    _, raw = pop.population_rate([0.5005], 4, 1.0, 1e-3)
    _, smooth = pop.population_rate([0.5005], 4, 1.0, 1e-3, smooth=5e-3)
    assert smooth.sum() == pytest.approx(raw.sum(), rel=1e-9)
    assert smooth.max() == pytest.approx(raw.max() / (np.sqrt(2 * np.pi) * 5), rel=0.01)
    assert np.argmax(smooth) == 500
    # a constant rate stays constant, edges included
    times = (np.arange(1000) + 0.5) * 1e-3
    _, flat = pop.population_rate(times, 1, 1.0, 1e-3, smooth=0.02)
    np.testing.assert_allclose(flat, 1000.0)


def test_rate_spectrum_has_the_signal_power_at_its_frequency():
    # a 40 Hz sinusoid of amplitude 10 Hz on a 1 ms grid: the density integrates to
    # the variance A^2/2 = 50 Hz^2 (Parseval), and the peak is at 40 Hz
    bin = 1e-3
    t = np.arange(4000) * bin
    rate = 20 + 10 * np.sin(2 * np.pi * 40 * t)
    f, power = pop.rate_spectrum(rate, bin, nperseg=1000)
    assert f[1] - f[0] == pytest.approx(1.0)
    assert pop.peak_frequency(f, power) == pytest.approx(40.0)
    assert power.sum() * (f[1] - f[0]) == pytest.approx(50.0, rel=0.02)
    assert power[0] == pytest.approx(0.0, abs=1e-9)                 # the mean removed


def test_spikes_modulated_at_40_hz_give_a_peak_at_40_hz():
    # inhomogeneous Poisson trains, rate 20 (1 + 0.5 sin(2 pi 40 t)) Hz, by thinning a
    # 30 Hz homogeneous process
    n, duration = 200, 2.0
    indices, times = poisson_trains(n, 30.0, duration, seed=7)
    rate = 20 * (1 + 0.5 * np.sin(2 * np.pi * 40 * times))
    keep = np.random.default_rng(8).uniform(0, 30, len(times)) < rate
    indices, times = indices[keep], times[keep]
    _, r = pop.population_rate(times, n, duration, 1e-3)
    f, power = pop.rate_spectrum(r, 1e-3)
    df = f[1] - f[0]
    assert abs(pop.peak_frequency(f, power) - 40.0) <= df
    stats = pop.population_statistics(indices, times, n, duration)
    assert abs(stats["peak_frequency"] - 40.0) <= df
    assert stats["rate"] == pytest.approx(20.0, rel=0.05)     # 8000 spikes: 1.1 % error
    # the band limit: nothing above 30 Hz searched, so not 40
    assert pop.peak_frequency(f, power, fmax=30.0) < 30.0


# ---------------------------------------------------------------------------
# the summary, CVs across neurons, units, edge cases


def test_population_statistics_tabulates_the_measures(poisson):
    indices, times = poisson
    stats = pop.population_statistics(indices, times, N, T, window=0.01)
    assert stats["rate"] == pytest.approx(len(times) / (N * T))
    assert stats["rate"] == pytest.approx(RATE, rel=0.02)      # 40,000 spikes: 0.5 %
    assert stats["active_fraction"] == 1.0 and stats["cv_neurons"] == N
    assert stats["cv"] == pytest.approx(pop.isi_cv_distribution(indices, times, N)[1])
    fano = pop.fano_factor(indices, times, N, T, 0.01)
    assert (stats["fano"], stats["fano_population"]) == (fano.neurons, fano.population)
    assert stats["synchrony"] == pop.synchrony(indices, times, N, T, 1e-3)
    assert set(stats) == {"n_neurons", "duration", "spikes", "rate", "active_fraction", "cv",
                          "cv_neurons", "fano", "fano_population", "synchrony",
                          "peak_frequency"}


def test_t_start_leaves_out_a_transient():
    indices, times = poisson_trains(50, 10.0, 1.0, seed=9, t_start=0.2)
    burst_i, burst_t = np.arange(50), np.full(50, 0.1)          # all fire at 100 ms
    with_burst = pop.population_statistics(np.r_[burst_i, indices], np.r_[burst_t, times], 50,
                                           1.0, t_start=0.2)
    assert with_burst == pop.population_statistics(indices, times, 50, 1.0, t_start=0.2)


def test_isi_cvs_match_a_per_neuron_reference():
    rng = np.random.default_rng(10)
    trains = [np.sort(rng.uniform(0, 1, k)) for k in (0, 1, 2, 3, 8, 30)]
    indices = np.concatenate([np.full(len(tr), i) for i, tr in enumerate(trains)])
    times = np.concatenate(trains)
    order = rng.permutation(len(times))                        # any spike order
    cv = isi_cvs(indices[order], times[order], len(trains))
    expected = [np.diff(tr).std() / np.diff(tr).mean() if len(tr) >= 3 else np.nan
                for tr in trains]
    np.testing.assert_allclose(cv, expected, rtol=1e-12)
    assert isi_cv(trains[4]) == pytest.approx(expected[4], rel=1e-12)
    # min_isis=7: the neuron with 8 spikes (7 ISIs) still counts, the one with 3 not
    cvs, mean = pop.isi_cv_distribution(indices, times, len(trains), min_isis=7)
    np.testing.assert_allclose(cvs, expected[4:])
    assert mean == pytest.approx(np.mean(expected[4:]))


def test_cv_from_few_intervals_is_biased_as_the_guide_says():
    # the guide's numbers: a Poisson train's CV (ddof=0) from 10 intervals averages 0.88
    # (Monte Carlo with 10^5 trains: 0.877); 4000 trains of 11 spikes here, standard
    # error of the mean ~0.004
    rng = np.random.default_rng(13)
    n = 4000
    times = np.cumsum(rng.exponential(0.05, (n, 11)), axis=1).ravel()
    indices = np.repeat(np.arange(n), 11)
    cvs, mean = pop.isi_cv_distribution(indices, times, n, min_isis=10)
    assert len(cvs) == n
    assert mean == pytest.approx(0.877, abs=0.02)


def test_brian2_quantities_are_read_in_seconds():
    from brian2 import Hz, ms, second

    indices, times = poisson_trains(20, 20.0, 1.0, seed=11)
    plain = pop.population_statistics(indices, times, 20, 1.0, bin=1e-3, window=0.05)
    assert pop.population_statistics(indices, times * second, 20, 1 * second, bin=1 * ms,
                                      window=50 * ms) == plain
    with pytest.raises(ValueError, match="bin must be a time"):
        pop.population_rate(times, 20, 1.0, bin=5 * Hz)
    with pytest.raises(ValueError, match="spike_times must be times"):
        pop.population_rate(times * Hz, 20, 1.0)


def test_a_silent_population_gives_rate_zero_and_nan_ratios():
    empty = np.array([], dtype=float)
    t, rate = pop.population_rate(empty, 10, 0.5, 1e-3)
    assert len(t) == 500 and not rate.any()
    f, power = pop.rate_spectrum(rate, 1e-3)
    assert np.isnan(pop.peak_frequency(f, power))
    fano = pop.fano_factor(empty.astype(int), empty, 10, 0.5, 0.05)
    assert np.isnan(fano.neurons) and np.isnan(fano.population)
    assert np.isnan(pop.synchrony(empty.astype(int), empty, 10, 0.5))
    cvs, mean = pop.isi_cv_distribution(empty.astype(int), empty, 10)
    assert len(cvs) == 0 and np.isnan(mean)
    stats = pop.population_statistics(empty.astype(int), empty, 10, 0.5)
    assert stats["rate"] == 0.0 and stats["spikes"] == 0 and stats["active_fraction"] == 0.0
    for key in ("cv", "fano", "fano_population", "synchrony", "peak_frequency"):
        assert np.isnan(stats[key]), key


def test_one_neuron_has_no_synchrony_but_a_fano_factor():
    indices, times = poisson_trains(1, 50.0, 2.0, seed=12)
    assert np.isnan(pop.synchrony(indices, times, 1, 2.0))
    fano = pop.fano_factor(indices, times, 1, 2.0, 0.05)
    assert fano.neurons == pytest.approx(fano.population, rel=1e-12)  # one neuron: the population
    # with a silent neighbour: still one neuron that fired
    assert np.isnan(pop.synchrony(indices, times, 2, 2.0))


@pytest.mark.parametrize("call, message", [
    (lambda: pop.fano_factor([0], [0.1], 1, 1.0, 2.0), r"window \(2.0 s\) is longer than the "
                                                        r"duration \(1.0 s\)"),
    (lambda: pop.fano_factor([0], [0.1], 1, 1.0, 0.6), "must fit at least twice"),
    (lambda: pop.synchrony([0], [0.1], 2, 1.0, 1.0), "must fit at least twice"),
    (lambda: pop.population_rate([0.1], 1, 1.0, 2.0), "longer than the duration"),
    (lambda: pop.population_rate([0.1], 1, 1.0005, 1e-3), "not a whole number of bins"),
    (lambda: pop.population_rate([0.1], 1, 0.0), "duration must be a positive time"),
    (lambda: pop.population_rate([0.1], 1, 1.0, -1e-3), "bin must be a positive time"),
    (lambda: pop.population_rate([0.1], 0, 1.0), "n_neurons must be a positive integer"),
    (lambda: pop.fano_factor([0, 3], [0.1, 0.2], 3, 1.0, 0.1), r"indices must lie in \[0, 3\)"),
    (lambda: pop.synchrony([0, 1], [0.1], 3, 1.0), "2 spike indices for 1 spike times"),
    (lambda: pop.synchrony([0.5], [0.1], 3, 1.0), "spike indices must be integers"),
    (lambda: pop.population_rate([np.nan], 3, 1.0), "spike_times must be finite"),
    (lambda: pop.isi_cv_distribution([0], [0.1], 1, min_isis=1), "min_isis must be at least 2"),
    (lambda: pop.rate_spectrum([1.0], 1e-3), "at least 2 samples"),
])
def test_bad_arguments_are_clear_value_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_population_module_does_not_import_brian2():
    code = ("import sys, numpy as np; from brianlab.analysis import population as p; "
            "p.population_statistics([0, 1], [0.1, 0.2], 2, 1.0); "
            "import brianlab.plot; assert 'brian2' not in sys.modules, 'brian2 imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


# ---------------------------------------------------------------------------
# plots


def test_population_plots_draw_the_data_on_axes_labelled_with_units():
    t, rate = np.arange(5.0), np.array([0.0, 10.0, 5.0, 0.0, 2.0])
    ax = plot.population_rate(t, rate)
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), rate)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("time (ms)", "population rate (Hz)")

    f, power = np.arange(0.0, 50.0), np.exp(-np.arange(0.0, 50.0))
    _, ax = plt.subplots()
    out = plot.rate_spectrum(f, power, ax, peak=40.0, fmax=45.0)
    assert out is ax and ax.get_xlim() == (0.0, 45.0) and ax.get_yscale() == "log"
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), f[1:])       # 0 Hz left out on log
    assert ax.lines[1].get_xdata()[0] == 40.0                            # the peak's line
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("frequency (Hz)", "power (Hz²/Hz)")

    ax = plot.isi_cv_histogram([0.5, 1.0, np.nan, 1.5], bins=3)
    assert sum(patch.get_height() for patch in ax.patches) == 3          # NaN left out
    assert ax.lines[0].get_xdata()[0] == pytest.approx(1.0)              # the mean
    assert ax.get_xlabel() == "CV of inter-spike intervals (dimensionless)"
    assert ax.get_ylabel() == "neurons"
