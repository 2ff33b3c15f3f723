"""Neuron models against independent references: HH vs scipy's solve_ivp, LIF vs its analytic rate."""

import numpy as np
import pytest
from brian2 import Hz, Network, SpikeMonitor, StateMonitor, mV, ms, nA, nS, pA
from scipy.integrate import solve_ivp

from brianlab import load_model
from brianlab.units import ModelError


def hh_reference_spikes(I_nA, t_end_ms=100.0):
    """Spike times (ms) of the 1952 HH model on a 100 pF patch, written out independently."""
    C, gNa, gK, gL = 100e-12, 12e-6, 3.6e-6, 30e-9
    ENa, EK, EL = 50e-3, -77e-3, -54.402e-3
    I = I_nA * 1e-9

    def rates(v):  # v in mV, rates in 1/ms
        am = 0.1 * (v + 40) / (1 - np.exp(-(v + 40) / 10))
        bm = 4 * np.exp(-(v + 65) / 18)
        ah = 0.07 * np.exp(-(v + 65) / 20)
        bh = 1 / (1 + np.exp(-(v + 35) / 10))
        an = 0.01 * (v + 55) / (1 - np.exp(-(v + 55) / 10))
        bn = 0.125 * np.exp(-(v + 65) / 80)
        return am, bm, ah, bh, an, bn

    def rhs(t, y):  # t in ms, v in mV
        v, m, h, n = y
        am, bm, ah, bh, an, bn = rates(v)
        vs = v * 1e-3
        dv = (gL * (EL - vs) + gNa * m**3 * h * (ENa - vs) + gK * n**4 * (EK - vs) + I) / C
        return [dv * 1e-3 * 1e3, am * (1 - m) - bm * m, ah * (1 - h) - bh * h,
                an * (1 - n) - bn * n]

    am, bm, ah, bh, an, bn = rates(-65.0)
    y0 = [-65.0, am / (am + bm), ah / (ah + bh), an / (an + bn)]

    def crossing(t, y):
        return y[0]

    crossing.direction = 1
    sol = solve_ivp(rhs, (0, t_end_ms), y0, method="LSODA", rtol=1e-9, atol=1e-9,
                    events=crossing, max_step=0.05)
    return sol.t_events[0]


def test_hh_spike_times_match_solve_ivp():
    """Same equations, independent integrator: spike times within 0.1 ms over 100 ms.

    RK4 at dt = 0.01 ms (measured: within 0.01 ms). The model's default,
    exponential Euler, is first order: at dt = 0.01 ms it drifts by about
    0.07 ms per spike (see the model's notes).
    """
    currents = [1.0, 2.0, 5.0]
    hh = load_model("hh")
    G = hh.neuron_group(len(currents), dt=0.01 * ms, method="rk4")
    G.I_ext = np.array(currents) * nA
    spikes = SpikeMonitor(G)
    Network(G, spikes).run(100 * ms)
    trains = spikes.spike_trains()
    for k, current in enumerate(currents):
        brian = np.asarray(trains[k] / ms)
        reference = hh_reference_spikes(current)
        assert len(reference) >= 5
        assert len(brian) == len(reference)
        assert np.max(np.abs(brian - reference)) < 0.1


def test_hh_is_silent_below_threshold_and_rests_at_minus_65():
    hh = load_model("hh")
    G = hh.neuron_group(1, I_ext=0 * nA, dt=0.01 * ms)
    spikes = SpikeMonitor(G)
    Network(G, spikes).run(50 * ms)
    assert spikes.num_spikes == 0
    assert float(G.v[0] / mV) == pytest.approx(-65.0, abs=0.05)


def lif_analytic_rate(I, C=200e-12, g_L=10e-9, E_L=-70e-3, V_th=-50e-3, V_reset=-70e-3,
                      t_ref=2e-3):
    """Rate (Hz) of the deterministic LIF under a constant current I (A)."""
    tau = C / g_L
    v_inf = E_L + I / g_L
    if v_inf <= V_th:
        return 0.0
    return 1.0 / (t_ref + tau * np.log((v_inf - V_reset) / (v_inf - V_th)))


def test_lif_rate_matches_analytic_f_i():
    lif = load_model("lif")
    currents = np.array([150, 210, 250, 300, 400, 600, 1000]) * 1e-12
    G = lif.neuron_group(len(currents), dt=0.01 * ms)
    G.I_ext = currents * 1e12 * pA
    spikes = SpikeMonitor(G)
    Network(G, spikes).run(1000 * ms)
    counts = np.bincount(spikes.i, minlength=len(currents))
    trains = spikes.spike_trains()
    for k, current in enumerate(currents):
        expected = lif_analytic_rate(current)
        if expected == 0:
            assert counts[k] == 0
            continue
        isi = np.diff(np.asarray(trains[k] / ms)).mean() * 1e-3
        # Euler at dt = 0.01 ms: ISI within 1 % (+ one step of threshold detection)
        assert 1 / isi == pytest.approx(expected, rel=0.01)


def test_lif_refractoriness_holds_v_at_reset():
    lif = load_model("lif")
    G = lif.neuron_group(1, I_ext=1 * nA, tau_ref=5 * ms, dt=0.01 * ms)
    spikes = SpikeMonitor(G)
    Network(G, spikes).run(30 * ms)
    first = float(spikes.t[0] / ms)
    # with (unless refractory) the next spike comes no sooner than 5 ms later
    assert np.min(np.diff(np.asarray(spikes.t / ms))) >= 5.0
    assert first > 0


def test_lif_noise_sigma_is_the_free_membrane_std():
    lif = load_model("lif")
    G = lif.neuron_group(2000, sigma="4 mV", V_th="100 mV", dt=0.05 * ms)
    Network(G).run(200 * ms)
    v = np.asarray(G.v / mV)
    # stationary OU: mean E_L, standard deviation sigma (2000 samples: ~2 % error)
    assert v.mean() == pytest.approx(-70.0, abs=0.4)
    assert v.std() == pytest.approx(4.0, rel=0.06)


def test_lif_without_noise_draws_no_random_numbers_and_matches_sigma_zero():
    """noise=False removes the xi term: the same trajectory as sigma = 0 with noise, no
    stochastic variable left; a non-zero sigma is then refused. (lif@1 fixes Euler, so
    both groups use the same method.)"""
    lif = load_model("lif@1")
    traces = []
    for noise in (True, False):
        G = lif.neuron_group(3, I_ext=[0.15, 0.25, 0.4] * nA, noise=noise, dt=0.1 * ms)
        spikes = SpikeMonitor(G)
        Network(G, spikes).run(50 * ms)
        traces.append((np.asarray(G.v / mV), np.asarray(spikes.t / ms)))
        assert bool(G.equations.stochastic_variables) is noise
    # identical up to float rounding (the zero noise term changes the evaluation order)
    np.testing.assert_allclose(traces[0][0], traces[1][0], rtol=1e-12)
    np.testing.assert_array_equal(traces[0][1], traces[1][1])
    assert len(traces[1][1]) >= 4  # two of the three neurons fire
    with pytest.raises(ModelError, match="sigma = 1. mV sets the noise"):
        lif.neuron_group(1, sigma="1 mV", noise=False)


@pytest.mark.parametrize("ref", ["lif@1", "lif@2"])
def test_noise_is_dropped_automatically_at_zero_sigma(ref):
    """By default a zero sigma removes the noise terms and sigma itself: setting it after
    building fails loudly instead of silently doing nothing; sigma > 0 keeps the noise."""
    lif = load_model(ref)
    quiet = lif.neuron_group(1)
    assert not quiet.equations.stochastic_variables and "sigma" not in quiet.variables
    with pytest.raises(AttributeError, match="sigma"):
        quiet.sigma = 1 * mV
    noisy = lif.neuron_group(1, sigma="1 mV")
    assert noisy.equations.stochastic_variables == {"xi"} and noisy.sigma[:] == 1 * mV
    kept = lif.neuron_group(1, noise=True)
    assert "sigma" in kept.variables and kept.equations.stochastic_variables == {"xi"}


def test_lif2_integrates_exactly_without_noise():
    """lif@2 leaves the method to Brian2: the analytic LIF trajectory to rounding (lif@1's
    forward Euler is off by ~1e-2 mV at dt = 0.1 ms)."""
    C, g_L, E_L, I = 200e-12, 10e-9, -70e-3, 150e-12  # below rheobase: no spike
    t = np.arange(1, 301) * 0.1e-3
    exact = E_L + I / g_L * (1 - np.exp(-t * g_L / C))
    errors = {}
    for ref in ("lif@1", "lif@2"):
        G = load_model(ref).neuron_group(1, I_ext=I * 1e12 * pA, dt=0.1 * ms)
        M = StateMonitor(G, "v", record=0, when="end")
        Network(G, M).run(30 * ms)
        errors[ref] = np.max(np.abs(np.asarray(M.v[0]) - exact))
    assert errors["lif@2"] < 1e-12  # volts: float rounding
    assert errors["lif@1"] > 1e-5   # Euler: ~3e-5 V


def test_lif_adapt_spike_times_match_solve_ivp():
    """A current step into lif_adapt (a = 2 nS, b = 0.1 nA, tau_w = 50 ms): spike times
    against an independent integration with the same reset rules; the interspike
    intervals lengthen as the adaptation current builds up."""
    C, g_L, E_L, V_th, V_reset, tau_ref = 200e-12, 10e-9, -70e-3, -50e-3, -70e-3, 2e-3
    a, b, tau_w, I = 2e-9, 0.1e-9, 50e-3, 0.5e-9

    def rhs(t, y):
        v, w = y
        return [(g_L * (E_L - v) - w + I) / C, (a * (v - E_L) - w) / tau_w]

    def crossing(t, y):
        return y[0] - V_th

    crossing.terminal, crossing.direction = True, 1
    t, y, expected = 0.0, [E_L, 0.0], []
    while t < 0.2:
        sol = solve_ivp(rhs, (t, 0.2), y, events=crossing, rtol=1e-10, atol=1e-13)
        if not sol.t_events[0].size:
            break
        t = sol.t_events[0][0]
        expected.append(t * 1e3)
        w = sol.y_events[0][0][1] + b
        # refractory: v held at V_reset, w keeps relaxing (towards a*(V_reset - E_L) = 0)
        w_after = w * np.exp(-tau_ref / tau_w)
        t, y = t + tau_ref, [V_reset, w_after]
    G = load_model("lif_adapt").neuron_group(1, I_ext=I * 1e9 * nA, a=2 * nS, b=0.1 * nA,
                                             tau_w=50 * ms, dt=0.005 * ms)
    spikes = SpikeMonitor(G)
    Network(G, spikes).run(200 * ms)
    got = np.asarray(spikes.t / ms)
    assert len(got) == len(expected) >= 5
    np.testing.assert_allclose(got, expected, atol=0.05)   # Euler, dt = 0.005 ms
    isi = np.diff(got)
    assert isi[-1] > 1.5 * isi[0]


@pytest.mark.compares(models=['poisson@1'], reference='Poisson statistics',
                      compared='mean count, Fano factor', tolerance='5 sigma', measured='passes')
def test_poisson_source_statistics():
    """poisson: 4000 neurons at 20 Hz for 1 s fire 20 spikes on average (the standard error
    of the mean is 0.07: within 0.35 is 5 sigma) with a Fano factor of 1 (within 0.12, 5
    sigma of its sampling error sqrt(2/4000) = 0.022, plus the (1 - rate*dt) Bernoulli
    correction of 0.002); a neuron set to 0 Hz stays silent."""
    G = load_model("poisson").neuron_group(4001, dt=0.1 * ms)
    G.rate = 20 * Hz
    G.rate[4000] = 0 * Hz
    spikes = SpikeMonitor(G)
    Network(G, spikes).run(1000 * ms)
    counts = np.bincount(np.asarray(spikes.i[:]), minlength=4001)
    assert counts[4000] == 0
    assert counts[:4000].mean() == pytest.approx(20.0, abs=0.35)
    assert counts[:4000].var() / counts[:4000].mean() == pytest.approx(1.0, abs=0.12)


def test_poisson_rate_times_dt_above_0_1_is_refused_at_build():
    """poisson@1 is valid only while rate*dt << 1 (its notes; it fires at most once per
    step): 20 kHz at 0.1 ms (rate*dt = 2) used to run silently at 10 kHz. Building it is a
    ModelError naming the model, the rate, dt and the rule; the limit holds for overrides,
    arrays (the largest value), the group's dt and the released file's default (10 Hz is
    fine); an expression is left to Brian2."""
    poisson = load_model("poisson@1")
    with pytest.raises(ModelError, match="poisson@1: rate = 20. kHz at dt = 0.1 ms gives "
                                         "rate\\*dt = 2, above 0.1: .*valid only while "
                                         "rate\\*dt << 1"):
        poisson.neuron_group(3, rate="20 kHz")
    with pytest.raises(ModelError, match="rate = 200. Hz at dt = 1 ms gives rate\\*dt = 0.2"):
        poisson.neuron_group(3, rate=np.array([5.0, 200.0, 10.0]) * Hz, dt=1 * ms)
    with pytest.raises(ModelError, match="rate\\*dt = 0.2"):
        poisson.neuron_group(3, initial={"rate": "2 kHz"})
    assert len(poisson.neuron_group(3, rate="1 kHz")) == 3          # rate*dt = 0.1: allowed
    assert len(poisson.neuron_group(3, dt=1 * ms)) == 3               # 10 Hz default
    assert len(poisson.neuron_group(3, rate="rand()*20*kHz")) == 3    # an expression


def test_poisson_rate_check_on_cpp_standalone(tmp_path):
    """The check runs before anything is built, so it holds on a standalone device too
    (where values cannot be read back before a run)."""
    from brianlab.devices import use_device

    with use_device("cpp_standalone", directory=tmp_path / "build"):
        with pytest.raises(ModelError, match="rate\\*dt = 2"):
            load_model("poisson").neuron_group(3, rate="20 kHz")
