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


# -- hh_traub@2: exprel replaced by exp with a guard at the removable points ----------------
#: The Traub & Miles rate functions as the COBAHH benchmark (Brette et al. 2007) wrote them,
#: x/(exp(x) - 1), unguarded: 0/0 at v = V_T + 13, 40 and 15 mV.
TRAUB_UNGUARDED = """
dv/dt = (g_L*(E_L - v) + g_Na*m**3*h*(E_Na - v) + g_K*n**4*(E_K - v))/C_m : volt
dm/dt = alpha_m*(1 - m) - beta_m*m : 1
dh/dt = alpha_h*(1 - h) - beta_h*h : 1
dn/dt = alpha_n*(1 - n) - beta_n*n : 1
alpha_m = 0.32*(mV**-1)*(13*mV - v + V_T)/(exp((13*mV - v + V_T)/(4*mV)) - 1)/ms : Hz
beta_m = 0.28*(mV**-1)*(v - V_T - 40*mV)/(exp((v - V_T - 40*mV)/(5*mV)) - 1)/ms : Hz
alpha_h = 0.128*exp((17*mV - v + V_T)/(18*mV))/ms : Hz
beta_h = 4/(1 + exp((40*mV - v + V_T)/(5*mV)))/ms : Hz
alpha_n = 0.032*(mV**-1)*(15*mV - v + V_T)/(exp((15*mV - v + V_T)/(5*mV)) - 1)/ms : Hz
beta_n = 0.5*exp((10*mV - v + V_T)/(40*mV))/ms : Hz
"""


def _next_to_removable_points():
    """Membrane potentials (V) at and next to v = V_T + 13, 40, 15 mV (V_T = -63 mV): every
    float within 1000 steps of each, and offsets from 1e-20 V to 1 mV on both sides."""
    out = []
    for v0 in (-0.050, -0.023, -0.048):
        out.append(v0 + np.arange(-1000, 1001) * np.spacing(v0))
        offsets = np.logspace(-20, -3, 50)
        out += [v0 - offsets, v0 + offsets]
    return np.concatenate(out)


@pytest.mark.parametrize("target", ["numpy", pytest.param("cython", marks=pytest.mark.slow)])
@pytest.mark.parametrize("method", ["exponential_euler", "rk4"])
def test_hh_traub2_has_no_singularity_at_the_removable_points(target, method):
    """hh_traub@2's rate functions x/(exp(x) - 1), guarded where |x| < 1e-7, next to the
    points where x = 0: one step of 0.01 ms from each of 6,303 potentials leaves every
    state finite and within 1e-8 (relative) of version 1's (exprel: exact there; measured
    7e-10 in m with exponential Euler, 1e-10 with RK4). The unguarded form of the benchmark's
    equations, on the same grid, gives NaN or an error above 1e-3 (or raises), so the grid
    does reach the removable points."""
    from brian2 import NeuronGroup, prefs, volt
    from brian2.core.base import BrianObjectException

    prefs.codegen.target = target
    v = _next_to_removable_points()

    def one_step(group):
        group.v = v * volt
        group.m, group.h, group.n = 0.5, 0.5, 0.5
        Network(group).run(0.01 * ms)
        return np.stack([group.m[:], group.h[:], group.n[:], group.v[:] / volt])

    ours = one_step(load_model("hh_traub@2").neuron_group(len(v), method=method, dt=0.01 * ms))
    exact = one_step(load_model("hh_traub@1").neuron_group(len(v), method=method, dt=0.01 * ms))
    assert np.isfinite(ours).all() and np.isfinite(exact).all()
    assert np.max(np.abs(ours - exact) / np.abs(exact)) < 1e-8
    params = {k: value for k, value in load_model("hh_traub@1").parameters.items()
              if k != "V_spike"}
    unguarded = NeuronGroup(len(v), TRAUB_UNGUARDED, method=method, namespace=params,
                            dt=0.01 * ms)
    try:
        with np.errstate(all="ignore"):  # numpy: 0/0 is the point
            theirs = one_step(unguarded)
    except BrianObjectException as error:  # Cython: ZeroDivisionError
        assert "ZeroDivisionError" in repr(error.__cause__)
    else:
        with np.errstate(invalid="ignore"):
            error = np.abs(theirs - exact) / np.abs(exact)
        assert not np.isfinite(theirs).all() or np.nanmax(error) > 1e-3


def test_hh_traub2_spikes_as_version_1():
    """hh_traub@2 and @1 (the same equations, exp against exprel) at the model's defaults
    (exponential Euler, dt 0.1 ms), 20 neurons at 0-1 nA for 300 ms: the same spikes, to
    1e-9 ms, and membrane potentials within 1e-9 mV (differences of rounding only)."""
    currents = np.linspace(0.0, 1.0, 20) * nA
    out = []
    for ref in ("hh_traub@1", "hh_traub@2"):
        G = load_model(ref).neuron_group(len(currents), I_ext=currents, dt=0.1 * ms)
        spikes, state = SpikeMonitor(G), StateMonitor(G, "v", record=True)
        Network(G, spikes, state).run(300 * ms)
        out.append((np.array(spikes.i[:]), np.array(spikes.t / ms), np.array(state.v / mV)))
    (i1, t1, v1), (i2, t2, v2) = out
    assert len(t1) >= 100 and len(np.unique(i1)) >= 10
    np.testing.assert_array_equal(i1, i2)
    np.testing.assert_allclose(t1, t2, atol=1e-9)
    np.testing.assert_allclose(v1, v2, atol=1e-9)
