"""The plain-Brian2 twins (tests/twins.py) show the published behaviour of their networks.

Each test runs a twin (scaled down where stated) on the runtime device (numpy target, see
conftest) and checks what the paper reports, with the source next to each number and the
tolerance stated. These are the independent reference that brianlab's network files are
compared with (issue 24).
"""

import numpy as np
import pytest
from brian2 import Hz, mV, ms, second

import twins as T


def stats(run, pop, t0, bin=1e-3):
    """Rate (Hz), mean CV of ISIs, population-rate CV and Golomb's chi after ``t0`` s."""
    i, t = run.spikes[pop]
    n, t1 = run.sizes[pop], run.duration
    return dict(rate=run.rate(pop, t0), cv=float(np.nanmean(T.isi_cv(i, t, n, t0))),
                rate_cv=T.rate_cv(t, n, t0, t1, bin),
                chi=T.chi_synchrony(i, t, n, t0, t1, bin),
                peak=T.spectrum_peak(t, n, t0, t1, bin / 2))


# ---------------------------------------------------------------- statistics helpers

def test_helpers_on_known_spike_trains():
    """The numpy helpers against analytic values: a regular train has CV 0 and its
    rate exactly; independent Poisson trains have CV 1 +- 0.05 and chi about
    1/sqrt(n); identical trains have chi 1."""
    rng = np.random.default_rng(0)
    n, T1 = 200, 20.0
    t = np.tile(np.arange(0.0, T1, 0.1), n)
    i = np.repeat(np.arange(n), int(round(T1 / 0.1)))
    assert T.mean_rate(t, n, 0, T1) == pytest.approx(10.0)
    assert np.allclose(T.isi_cv(i, t, n), 0, atol=1e-9)
    assert T.chi_synchrony(i, t, n, 0, T1, 2e-3) == pytest.approx(1.0)
    # Poisson trains at 20 Hz: CV of ISIs 1, chi ~ 1/sqrt(n)
    counts = rng.poisson(20 * T1, n)
    i = np.repeat(np.arange(n), counts)
    t = rng.uniform(0, T1, counts.sum())
    assert np.mean(T.isi_cv(i, t, n)) == pytest.approx(1.0, abs=0.05)
    assert T.chi_synchrony(i, t, n, 0, T1, 5e-3) == pytest.approx(1 / np.sqrt(n), rel=0.3)
    # population rate CV of Poisson trains: 1/sqrt(n * rate * bin)
    assert T.rate_cv(t, n, 0, T1, 1e-3) == pytest.approx(1 / np.sqrt(n * 20 * 1e-3), rel=0.05)
    # a 40 Hz modulated population rate: the spectrum peaks at 40 Hz
    tt = rng.uniform(0, T1, 200000)
    tt = tt[rng.uniform(0, 1, tt.size) < 0.5 * (1 + np.sin(2 * np.pi * 40 * tt))]
    assert T.spectrum_peak(tt, n, 0, T1) == pytest.approx(40.0, abs=0.1)


def test_same_seeds_same_spikes_other_seed_other_spikes():
    """A twin is reproducible: the same two seeds give identical spikes, another drive
    seed other ones (CUBA at N = 400 for 100 ms, p = 0.2 so that it stays active)."""
    a = T.cuba(100 * ms, N=400, p=0.2)
    b = T.cuba(100 * ms, N=400, p=0.2)
    c = T.cuba(100 * ms, N=400, p=0.2, connectivity_seed=7)
    for pop in "EI":
        assert np.array_equal(a.spikes[pop][0], b.spikes[pop][0])
        assert np.array_equal(a.spikes[pop][1], b.spikes[pop][1])
    assert a.spikes["E"][0].size > 100
    assert not np.array_equal(a.spikes["E"][1], c.spikes["E"][1])
