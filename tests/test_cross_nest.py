"""brianlab's models against NEST 3.10, both simulators run inside each test.

Conventions that explain the remaining differences (each measured here, not assumed):

- Brian2 stamps a spike with the start of the time step in which the threshold is
  crossed, NEST with its end: spike times differ by exactly one step ``DT``.
- Brian2 counts the refractory period from the spike's stamp, NEST from the end of the
  spike's step: with a refractory period, Brian2's interspike intervals are NEST's minus
  exactly one step (with ``t_ref = 0`` they are equal).
- A spike arriving at ``t`` changes a NEST neuron's state during the step starting at
  ``t``; Brian2 applies it after that step's update: Brian2's PSP is NEST's delayed by
  one step.
- NEST's STDP synapses treat the synaptic delay as dendritic: the post spike is seen at
  the synapse ``delay`` later, so NEST is given post spikes ``delay`` earlier; weights are
  read after a last pre spike far from every post spike (NEST updates weights only when a
  pre spike arrives), and Brian2 gets the same last pre spike. Spikes reach plastic
  synapses through parrot neurons (port 1: the plastic input is not repeated).
- NEST's nearest-neighbour rules start with a phantom presynaptic spike at t = 0 (a first
  post spike before any pre spike pairs with it: +A_plus exp(-t_post/tau_plus)); every
  protocol therefore starts with a lone pre spike at 1 ms, seen by both simulators.

The STDP protocols of all rules run in one Brian2 network on cpp_standalone (one
compilation), so the long ones (60 pairings at 1 Hz) stay fast.
"""

import numpy as np
import pytest
from brian2 import (Network, NeuronGroup, SpikeGeneratorGroup, SpikeMonitor, StateMonitor,
                    Synapses, ms, nS, pA)

from brianlab import load_model, use_device
from conftest import require

nest = require("nest")

DT = 0.1  # ms, both simulators


def _reset(resolution=DT):
    nest.ResetKernel()
    nest.verbosity = nest.VerbosityLevel.ERROR
    nest.resolution = resolution


def plain_parameters(name):
    """A model's default parameters as floats (times in ms)."""
    params = load_model(name).parameters
    return {k: float(v / ms) if v.dim == ms.dim else float(v) for k, v in params.items()}


# -- neurons ---------------------------------------------------------------------------------
def nest_spikes(model, params, currents_pa, duration, resolution=DT):
    _reset(resolution)
    neurons = nest.Create(model, len(currents_pa), params=params)
    neurons.I_e = [float(c) for c in currents_pa]
    recorder = nest.Create("spike_recorder")
    nest.Connect(neurons, recorder)
    nest.Simulate(float(duration))
    events = recorder.events
    return [np.sort(events["times"][events["senders"] == gid]) for gid in neurons.global_id]


def brian_spikes(ref, currents_pa, duration, resolution=DT, **options):
    G = load_model(ref).neuron_group(len(currents_pa), I_ext=np.asarray(currents_pa) * pA,
                                     dt=resolution * ms, **options)
    monitor = SpikeMonitor(G)
    Network(G, monitor).run(duration * ms)
    trains = monitor.spike_trains()
    return [np.sort(np.asarray(trains[k] / ms)) for k in range(len(currents_pa))]


LIF_NEST = dict(C_m=200.0, E_L=-70.0, V_th=-50.0, V_reset=-70.0, V_m=-70.0)


@pytest.mark.compares(models=['lif@2'], reference='NEST iaf_psc_delta',
                      compared='spike times, 0.2-1.2 nA', tolerance="ISI = NEST's - 1 step, 1e-9 ms", measured='exact')
def test_lif_against_iaf_psc_delta():
    """f-I of lif@2 and NEST's iaf_psc_delta (both exact integration) from rheobase to
    ~170 Hz: first spikes one step apart (stamp convention), every interspike interval
    NEST's minus exactly one step (refractory convention), to 1e-9 ms; lif@1's forward
    Euler is measurably worse (the reason for version 2)."""
    currents = [205.0, 220.0, 300.0, 500.0, 800.0, 1200.0]
    nest_trains = nest_spikes("iaf_psc_delta", dict(LIF_NEST, tau_m=20.0, t_ref=2.0),
                              currents, 1000.0)
    ours = brian_spikes("lif@2", currents, 1000.0)
    for k, (a, b) in enumerate(zip(nest_trains, ours)):
        n = min(len(a), len(b))  # the shorter intervals add up: up to 3 spikes more in 1 s
        assert n >= (1 if k == 0 else 5) and 0 <= len(b) - len(a) <= 3
        assert a[0] - b[0] == pytest.approx(DT, abs=1e-9)
        np.testing.assert_allclose(np.diff(a[:n]) - np.diff(b[:n]), DT, atol=1e-9)
    euler = brian_spikes("lif@1", currents, 1000.0)
    errors = [abs(np.mean(np.diff(a)) - DT - np.mean(np.diff(b))) / np.mean(np.diff(a))
              for a, b in zip(nest_trains[1:], euler[1:])]
    assert max(errors) > 0.002  # forward Euler: ~0.4 % at 220 pA, dt = 0.1 ms


@pytest.mark.compares(models=['lif_adapt@1'], reference='NEST aeif_psc_delta (Delta_T = 0)',
                      compared='spike times over 1 s', tolerance='1 step, 1e-9 ms', measured='exact')
def test_lif_adapt_against_aeif_psc_delta():
    """lif_adapt (a = 2 nS, b = 100 pA, tau_w = 50 ms, exact integration) against NEST's
    aeif_psc_delta with Delta_T = 0 (the exponential term off, V_peak = V_th) and no
    refractory period: every spike one step apart over 1 s (NEST integrates with adaptive
    RKF45, whose error stays far below the step)."""
    currents = [300.0, 500.0, 800.0]
    nest_trains = nest_spikes("aeif_psc_delta", dict(
        LIF_NEST, g_L=10.0, V_peak=-50.0, Delta_T=0.0, t_ref=0.0, a=2.0, b=100.0, tau_w=50.0,
        w=0.0), currents, 1000.0)
    ours = brian_spikes("lif_adapt", currents, 1000.0, method="exact", tau_ref=0 * ms,
                        a=2 * nS, b=100 * pA, tau_w=50 * ms)
    for a, b in zip(nest_trains, ours):
        assert len(a) == len(b) >= 15
        np.testing.assert_allclose(a - b, DT, atol=1e-9)
        assert np.diff(b)[-1] > 1.3 * np.diff(b)[0]  # adaptation at work


@pytest.mark.compares(models=['hh@1'], reference='NEST hh_psc_alpha',
                      compared='onset, mean ISI 0.2-5 nA (RK4)', tolerance='2e-4', measured='2e-5')
@pytest.mark.slow
def test_hh_against_hh_psc_alpha():
    """hh@1 against NEST's hh_psc_alpha (same channels, 100 pF) from 0.2 to 5 nA at
    dt = 0.01 ms: the same onset (silent at 0.2 nA, one spike at 0.5 nA, tonic above), and
    with RK4 the same mean interspike interval within 0.02 % (NEST: adaptive RKF45). NEST
    stamps a spike at the voltage peak, brianlab at the upward 0 mV crossing: first spikes
    0.1-0.3 ms apart. The released default (exponential Euler) is 0.5 % slower at 0.01 ms."""
    currents = [200.0, 500.0, 1000.0, 2000.0, 5000.0]
    nest_trains = nest_spikes("hh_psc_alpha", {}, currents, 500.0, resolution=0.01)
    ours = brian_spikes("hh", currents, 500.0, resolution=0.01, method="rk4")
    assert len(nest_trains[0]) == len(ours[0]) == 0
    assert len(nest_trains[1]) == len(ours[1]) == 1
    for a, b in zip(nest_trains[2:], ours[2:]):
        assert abs(len(a) - len(b)) <= 1 and len(b) >= 30
        assert 0.1 <= a[0] - b[0] <= 0.3
        isi_a, isi_b = np.mean(np.diff(a[5:30])), np.mean(np.diff(b[5:30]))
        assert isi_b == pytest.approx(isi_a, rel=2e-4)
    default = brian_spikes("hh", currents[2:3], 500.0, resolution=0.01)
    slow = np.mean(np.diff(default[0][5:30])) / np.mean(np.diff(nest_trains[2][5:30])) - 1
    assert 0.002 < slow < 0.01


# -- receptors -------------------------------------------------------------------------------
def nest_psp(model, params, weight, t_spike=10.0, delay=1.0, duration=60.0, resolution=DT):
    _reset(resolution)
    neuron = nest.Create(model, params=params)
    generator = nest.Create("spike_generator", params={"spike_times": [t_spike]})
    nest.Connect(generator, neuron, syn_spec={"weight": weight, "delay": delay})
    meter = nest.Create("multimeter", params={"record_from": ["V_m"], "interval": resolution})
    nest.Connect(meter, neuron)
    nest.Simulate(duration)
    return np.asarray(meter.events["times"]), np.asarray(meter.events["V_m"])


def brian_psp(receptor, target, t_spike=10.0, delay=1.0, duration=60.0, resolution=DT,
              **options):
    G = load_model("lif@2").neuron_group(1, receptors=[receptor], V_th="0 mV",
                                         dt=resolution * ms, **options)
    source = SpikeGeneratorGroup(1, [0], [t_spike] * ms, dt=resolution * ms)
    syn = load_model("static").synapses(source, G, target_var=target, connect=True,
                                        delay=delay * ms)
    monitor = StateMonitor(G, "v", record=0, dt=resolution * ms)
    Network(G, source, syn, monitor).run(duration * ms)
    return np.asarray(monitor.t / ms), np.asarray(monitor.v[0] / (1e-3))


@pytest.mark.parametrize("receptor, target, port", [("ampa_exp", "s_ampa", "ex"),
                                                    ("gaba_exp", "s_gaba", "in")])
@pytest.mark.compares(models=['ampa_exp@1', 'gaba_exp@1'], reference='NEST iaf_cond_exp',
                      compared='PSP (RK4)', tolerance='1e-6 mV', measured='4e-9 mV')
def test_conductance_psp_against_iaf_cond_exp(receptor, target, port):
    """lif@2 + ampa_exp / gaba_exp (5 nS, RK4) against NEST's iaf_cond_exp (adaptive RKF45):
    the whole PSP agrees within 1e-6 mV once Brian2's one-step delay is shifted out
    (measured: 4e-9 mV); the released default (Euler, 0.1 ms) misses the peak by ~0.5 %."""
    p = plain_parameters(receptor)
    params = dict(LIF_NEST, g_L=10.0, V_th=0.0, t_ref=2.0, E_ex=0.0, E_in=-80.0,
                  tau_syn_ex=p["tau"], tau_syn_in=p["tau"])
    params[f"E_{port}"] = float(load_model(receptor).parameters["E"] / (1e-3))
    t_nest, v_nest = nest_psp("iaf_cond_exp", params, 5.0 if port == "ex" else -5.0)
    label = receptor.split("_")[0]
    t_ours, v_ours = brian_psp(receptor, target, method="rk4", **{f"g_max_{label}": 5 * nS})
    np.testing.assert_allclose(np.interp(t_nest + DT, t_ours, v_ours), v_nest, atol=1e-6)
    peak = np.max(np.abs(v_nest + 70))
    assert peak > (4 if port == "ex" else 1)
    _, v_euler = brian_psp(receptor, target, **{f"g_max_{label}": 5 * nS})
    assert 0.002 < abs(np.max(np.abs(v_euler + 70)) / peak - 1) < 0.01


@pytest.mark.compares(models=['current_alpha@1'], reference='NEST iaf_psc_alpha',
                      compared='PSP', tolerance='1e-9 mV', measured='4e-13 mV')
def test_current_alpha_psp_against_iaf_psc_alpha():
    """lif@2 + current_alpha (I_max 100 pA, tau 2 ms; exact integration) against NEST's
    iaf_psc_alpha (exact integration, weight 100 pA): identical PSPs to 1e-9 mV after
    Brian2's one-step delay."""
    params = dict(LIF_NEST, tau_m=20.0, V_th=0.0, t_ref=2.0, tau_syn_ex=2.0, tau_syn_in=2.0)
    t_nest, v_nest = nest_psp("iaf_psc_alpha", params, 100.0)
    t_ours, v_ours = brian_psp("current_alpha", "s_alpha")
    np.testing.assert_allclose(np.interp(t_nest + DT, t_ours, v_ours), v_nest, atol=1e-9)
    assert np.max(v_nest) + 70 > 1.5


@pytest.mark.compares(models=['current_exp@1'], reference='NEST iaf_psc_exp',
                      compared='PSP', tolerance='1e-9 mV', measured='4e-13 mV')
def test_current_exp_psp_against_iaf_psc_exp():
    """lif@2 + current_exp (100 pA, tau 2 ms; exact) against NEST's iaf_psc_exp (exact,
    weight 100 pA): identical PSPs to 1e-9 mV after Brian2's one-step delay (measured
    4e-13)."""
    params = dict(LIF_NEST, tau_m=20.0, V_th=0.0, t_ref=2.0, tau_syn_ex=2.0, tau_syn_in=2.0)
    t_nest, v_nest = nest_psp("iaf_psc_exp", params, 100.0)
    t_ours, v_ours = brian_psp("current_exp", "s_exp")
    np.testing.assert_allclose(np.interp(t_nest + DT, t_ours, v_ours), v_nest, atol=1e-9)
    assert np.max(v_nest) + 70 > 0.5


@pytest.mark.parametrize("receptor, target, weight", [("ampa_alpha", "s_ampa", 5.0),
                                                      ("gaba_alpha", "s_gaba", -5.0)])
@pytest.mark.compares(models=['ampa_alpha@1', 'gaba_alpha@1'], reference='NEST iaf_cond_alpha',
                      compared='PSP (RK4, 0.01 ms)', tolerance='1e-6 mV', measured='6e-8 mV')
def test_alpha_conductance_psp_against_iaf_cond_alpha(receptor, target, weight):
    """lif@2 + ampa_alpha / gaba_alpha (NEST's defaults: tau 0.2 / 2 ms, E 0 / -85 mV; 5 nS)
    against NEST's iaf_cond_alpha at dt = 0.01 ms (RK4 against adaptive RKF45): PSPs agree
    within 1e-6 mV after the one-step delay (measured 6e-8 for the 0.2 ms AMPA kernel,
    1e-11 for GABA)."""
    params = dict(LIF_NEST, g_L=10.0, V_th=0.0, t_ref=2.0)  # the synapses: NEST's defaults
    t_nest, v_nest = nest_psp("iaf_cond_alpha", params, weight, resolution=0.01)
    label = receptor.split("_")[0]
    t_ours, v_ours = brian_psp(receptor, target, method="rk4", resolution=0.01,
                               **{f"g_max_{label}": 5 * nS})
    np.testing.assert_allclose(np.interp(t_nest + 0.01, t_ours, v_ours), v_nest, atol=1e-6)
    assert np.max(np.abs(v_nest + 70)) > 0.5


@pytest.mark.compares(models=['adex@1'], reference='NEST aeif_cond_exp',
                      compared='spike counts, times (RK4, 0.01 ms)', tolerance='0.2 ms', measured='0.14 ms')
@pytest.mark.slow
def test_adex_against_aeif_cond_exp():
    """adex (NEST's defaults) against aeif_cond_exp from 0.5 to 1.5 nA over 500 ms: the same
    spike counts (0, 9, 37) and every spike within 0.2 ms with RK4 at 0.01 ms (measured
    0.14 ms: NEST's adaptive RKF45 resolves the upswing within a step, brianlab finds the
    crossing on the 0.01 ms grid, and the differences add up over 37 spikes)."""
    currents = [500.0, 800.0, 1500.0]
    nest_trains = nest_spikes("aeif_cond_exp", {}, currents, 500.0, resolution=0.01)
    ours = brian_spikes("adex", currents, 500.0, resolution=0.01, method="rk4")
    assert [len(t) for t in nest_trains] == [len(t) for t in ours] == [0, 9, 37]
    for a, b in zip(nest_trains[1:], ours[1:]):
        np.testing.assert_allclose(a, b, atol=0.2)
        assert np.diff(b)[-1] > np.diff(b)[0]  # adaptation


@pytest.mark.compares(models=['izhikevich@1'], reference='NEST izhikevich',
                      compared='spike times', tolerance='1 step, 1e-9 ms', measured='exact')
def test_izhikevich_against_nest():
    """izhikevich (regular spiking) against NEST's izhikevich (consistent Euler integration)
    at I = 5, 10, 20: the same number of spikes in 1 s and every spike exactly one step
    apart (Brian2's stamp convention), to 1e-9 ms: the same update map."""
    currents = [5.0, 10.0, 20.0]
    nest_trains = nest_spikes("izhikevich", {}, currents, 1000.0)
    ours = brian_spikes("izhikevich", currents, 1000.0)
    for a, b in zip(nest_trains, ours):
        assert len(a) == len(b) >= 10
        np.testing.assert_allclose(a - b, DT, atol=1e-9)


@pytest.mark.compares(models=['mat2@1'], reference='NEST mat2_psc_exp',
                      compared='spike times', tolerance='1 step, 1e-9 ms', measured='exact')
def test_mat2_against_mat2_psc_exp():
    """mat2 (NEST's defaults) against mat2_psc_exp at 0.2, 0.4, 0.8 nA over 1 s, both exact:
    silent at 0.2 nA, and every spike one step apart (stamp convention) to 1e-9 ms."""
    currents = [200.0, 400.0, 800.0]
    nest_trains = nest_spikes("mat2_psc_exp", {}, currents, 1000.0)
    ours = brian_spikes("mat2", currents, 1000.0)
    assert len(nest_trains[0]) == len(ours[0]) == 0
    for a, b in zip(nest_trains[1:], ours[1:]):
        assert len(a) == len(b) >= 5
        np.testing.assert_allclose(a - b, DT, atol=1e-9)


@pytest.mark.compares(models=['hh_traub@1'], reference='NEST hh_cond_exp_traub',
                      compared='mean ISI 0.1-1 nA (RK4)', tolerance='1e-4', measured='3e-5')
@pytest.mark.slow
def test_hh_traub_against_hh_cond_exp_traub():
    """hh_traub (NEST's defaults) against hh_cond_exp_traub at 0.1, 0.3, 1 nA, dt 0.01 ms,
    500 ms: the same spike counts and, with RK4, mean interspike intervals within 1e-4
    (measured 3e-5; NEST: adaptive RKF45). brianlab stamps the 0 mV crossing, NEST a later
    point of the upstroke: first spikes 0.05-0.2 ms apart."""
    _hh_traub_against_hh_cond_exp_traub("hh_traub@1")


def _hh_traub_against_hh_cond_exp_traub(ref):
    """The comparison of both versions of hh_traub with NEST (see the tests' docstrings)."""
    currents = [100.0, 300.0, 1000.0]
    nest_trains = nest_spikes("hh_cond_exp_traub", {}, currents, 500.0, resolution=0.01)
    ours = brian_spikes(ref, currents, 500.0, resolution=0.01, method="rk4")
    for a, b in zip(nest_trains, ours):
        assert len(a) == len(b) >= 10
        assert 0.05 <= a[0] - b[0] <= 0.2
        assert np.mean(np.diff(b[3:])) == pytest.approx(np.mean(np.diff(a[3:])), rel=1e-4)


@pytest.mark.compares(models=['hh_traub@2'], reference='NEST hh_cond_exp_traub',
                      compared='mean ISI 0.1-1 nA (RK4)', tolerance='1e-4', measured='3e-5')
@pytest.mark.slow
def test_hh_traub2_against_hh_cond_exp_traub():
    """hh_traub@2 (exp with a guard instead of exprel) passes version 1's comparison with
    hh_cond_exp_traub unchanged (same spike counts, first spikes 0.05-0.2 ms apart, mean
    interspike intervals within 1e-4; measured 3e-5, as version 1: here its spikes were
    version 1's to 1e-9 ms, which tests/test_neuron_models.py checks at the defaults)."""
    _hh_traub_against_hh_cond_exp_traub("hh_traub@2")


@pytest.mark.compares(models=['tsodyks_markram@1'], reference='NEST tsodyks2_synapse',
                      compared='transmitted w*u*x, 9 spikes', tolerance='1e-9', measured='2e-10')
@pytest.mark.parametrize("U, tau_rec, tau_fac", [(0.5, 800.0, 1.0), (0.1, 100.0, 1000.0)])
def test_tsodyks_markram_against_tsodyks2_synapse(U, tau_rec, tau_fac):
    """tsodyks_markram against NEST's tsodyks2_synapse, a depressing and a facilitating
    synapse, nine spikes at 5-790 ms intervals: every transmitted amount w*u*x agrees within
    1e-9 (measured 2e-10: NEST's target, an iaf_psc_delta with tau_m = 1e9 ms, still leaks
    that much between spikes)."""
    times = [50.0, 70.0, 90.0, 110.0, 130.0, 400.0, 405.0, 410.0, 1200.0]
    _reset()
    generator = nest.Create("spike_generator", params={"spike_times": times})
    parrot = nest.Create("parrot_neuron")
    target = nest.Create("iaf_psc_delta", params={"tau_m": 1e9, "V_th": 1e9, "E_L": 0.0,
                                                  "V_m": 0.0, "V_reset": 0.0, "C_m": 1.0})
    nest.Connect(generator, parrot, syn_spec={"delay": DT})
    nest.Connect(parrot, target, syn_spec={
        "synapse_model": "tsodyks2_synapse", "U": U, "u": U, "x": 1.0, "tau_rec": tau_rec,
        "tau_fac": tau_fac, "weight": 1.0, "delay": DT})
    meter = nest.Create("multimeter", params={"record_from": ["V_m"], "interval": DT})
    nest.Connect(meter, target)
    nest.Simulate(1300.0)
    steps = np.diff(np.asarray(meter.events["V_m"]))
    theirs = steps[steps > 1e-6]
    source = SpikeGeneratorGroup(1, [0] * len(times), np.array(times) * ms, dt=DT * ms)
    post = NeuronGroup(1, "s : 1", dt=DT * ms)
    syn = load_model("tsodyks_markram").synapses(source, post, target_var="s", connect=True,
                                                 U=U, tau_rec=tau_rec * ms,
                                                 tau_fac=tau_fac * ms)
    monitor = StateMonitor(post, "s", record=0, when="end")
    Network(source, post, syn, monitor).run(1300 * ms)
    steps = np.diff(np.r_[0.0, np.asarray(monitor.s[0])])
    ours = steps[steps > 1e-6]
    assert len(theirs) == len(ours) == len(times)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-9)
    assert theirs[0] == pytest.approx(U)  # the first spike finds the synapse recovered


# -- plasticity ------------------------------------------------------------------------------
def nest_plasticity(model, synapse, post_params, protocols, w0=0.5, delay=DT):
    """Weight change of one NEST synapse per ``(pre_times, post_times)`` protocol (ms)."""
    _reset()
    pairs = []
    for pre_times, post_times in protocols:
        pre_gen = nest.Create("spike_generator", params={"spike_times": list(pre_times)})
        post_gen = nest.Create("spike_generator", params={
            "spike_times": [round(t - delay, 10) for t in post_times]})  # dendritic delay
        pre = nest.Create("parrot_neuron")
        post = nest.Create("parrot_neuron", params=post_params)
        nest.Connect(pre_gen, pre, syn_spec={"delay": delay})
        nest.Connect(post_gen, post, syn_spec={"delay": delay})
        nest.Connect(pre, post, syn_spec={"synapse_model": model, "weight": w0, "delay": delay,
                                          "receptor_type": 1, **synapse})
        pairs.append((pre, post))
    end = max(max(max(a), max(b)) for a, b in protocols)
    nest.Simulate(end + 10.0)
    return np.array([nest.GetConnections(pre, post).weight for pre, post in pairs]) - w0


def brian_plasticity(jobs, w0=0.5):
    """Weight changes for ``{key: (model, overrides, protocols)}``, all in one network on
    cpp_standalone. Pre spikes come from a generator (delivered at their time + DT), post
    spikes are forced so that they are stamped at the given times."""
    shift = DT  # generator spikes arrive one step later than NEST's parrot spikes
    with use_device("cpp_standalone", quiet=True) as session:
        objects, synapses, end = [], {}, 0.0
        for key, (model, overrides, protocols) in jobs.items():
            n = len(protocols)
            pre_i = np.concatenate([[k] * len(p[0]) for k, p in enumerate(protocols)])
            pre_t = np.concatenate([np.asarray(p[0]) - shift for p in protocols])
            post_i = np.concatenate([[k] * len(p[1]) for k, p in enumerate(protocols)])
            post_t = np.concatenate([np.asarray(p[1]) - 2 * shift for p in protocols])
            pre = SpikeGeneratorGroup(n, pre_i, pre_t * ms, dt=DT * ms)
            post = NeuronGroup(n, "s : 1\nforce : 1", threshold="force > 0",
                               reset="force = 0", dt=DT * ms)
            driver = SpikeGeneratorGroup(n, post_i, post_t * ms, dt=DT * ms)
            kick = Synapses(driver, post, on_pre="force_post = 1", dt=DT * ms)
            kick.connect(j="i")
            syn = load_model(model).synapses(pre, post, target_var="s", connect={"j": "i"},
                                             **overrides)
            syn.w = w0
            objects += [pre, post, driver, kick, syn]
            synapses[key] = syn
            end = max(end, pre_t.max(), post_t.max())
        session.run(Network(*objects), (end + 10) * ms)
        return {key: np.asarray(syn.w[:]) - w0 for key, syn in synapses.items()}


def _trains(lags, frequency, pairings, tail=2000.0, start=100.0):
    """Pre spikes every 1/frequency, post at pre + lag; a last pre spike ``tail`` ms later."""
    out = []
    for lag in lags:
        pre = [start + k * 1000.0 / frequency for k in range(pairings)]
        post = [t + lag for t in pre]
        out.append((pre + [max(pre + post) + tail], post))
    return out


def _poisson(rate_hz, duration, rng):
    times = np.cumsum(rng.exponential(1000.0 / rate_hz, size=int(3 * rate_hz * duration / 1000)))
    times = np.unique(np.round(times[times < duration] / DT) * DT) + 50.0
    return list(times)


WINDOW = [-60.0, -30.0, -10.0, -2.0, -0.5, 0.5, 2.0, 10.0, 30.0, 60.0]


@pytest.fixture(scope="module")
def plasticity():
    """Every protocol on both simulators: {name: (nest dw, brian dw)}."""
    rng = np.random.default_rng(7)
    random_trains = []
    for _ in range(6):
        pre, post = np.array(_poisson(20, 5000, rng)), np.array(_poisson(20, 5000, rng))
        # coincident pre and post spikes have no defined order across simulators: keep
        # every post spike at least two steps from every pre spike
        gap = np.min(np.abs(post[:, None] - pre[None, :]), axis=1)
        post = post[gap >= 2 * DT - 1e-9]
        random_trains.append((list(pre) + [max(pre.max(), post.max()) + 2000.0], list(post)))
    pair = plain_parameters("stdp_pair")
    triplet = plain_parameters("stdp_triplet")
    nearest = plain_parameters("stdp_nearest")
    unclipped = {"w_max": 100.0}  # no clipping: the rules' arithmetic is compared
    sjostrom = [-10.0, 10.0]
    frequencies = [1.0, 10.0, 20.0, 40.0, 50.0]
    jobs = {
        "pair_window": ("stdp_pair", {}, _trains(WINDOW, 1.0, 1)),
        "pair_1hz": ("stdp_pair", unclipped, _trains([-10.0, 10.0], 1.0, 60)),
        "pair_20hz": ("stdp_pair", unclipped, _trains([-10.0, 10.0], 20.0, 60)),
        "pair_random": ("stdp_pair", unclipped, random_trains),
        "triplet_sjostrom": ("stdp_triplet", unclipped,
                             [p for f in frequencies for p in _trains(sjostrom, f, 60)]),
        "triplet_random": ("stdp_triplet", unclipped, random_trains),
        "nearest_sjostrom": ("stdp_nearest", unclipped,
                             [p for f in frequencies for p in _trains(sjostrom, f, 60)]),
        "nearest_random": ("stdp_nearest", unclipped, random_trains),
    }
    jobs = {key: (model, overrides, [([1.0] + list(pre), post) for pre, post in protocols])
            for key, (model, overrides, protocols) in jobs.items()}
    ours = brian_plasticity(jobs)
    pair_syn = {"tau_plus": pair["tau_plus"], "lambda": pair["A_plus"] / pair["w_max"],
                "alpha": pair["A_minus"] / pair["A_plus"], "mu_plus": 0.0, "mu_minus": 0.0,
                "Wmax": pair["w_max"]}
    nearest_syn = {"tau_plus": nearest["tau_plus"], "lambda": nearest["A_plus"] / 100.0,
                   "alpha": nearest["A_minus"] / nearest["A_plus"], "mu_plus": 0.0,
                   "mu_minus": 0.0, "Wmax": 100.0}
    triplet_syn = {"tau_plus": triplet["tau_plus"], "tau_plus_triplet": triplet["tau_x"],
                   "Aplus": triplet["A2_plus"], "Aminus": triplet["A2_minus"],
                   "Aplus_triplet": triplet["A3_plus"], "Aminus_triplet": triplet["A3_minus"],
                   "Wmax": 100.0}
    triplet_post = {"tau_minus": triplet["tau_minus"], "tau_minus_triplet": triplet["tau_y"]}
    theirs = {}
    for key, (model, overrides, protocols) in jobs.items():
        if model == "stdp_pair":
            syn = dict(pair_syn)
            if overrides:
                syn.update({"Wmax": 100.0, "lambda": pair["A_plus"] / 100.0})
            theirs[key] = nest_plasticity("stdp_synapse", syn, {"tau_minus": pair["tau_minus"]},
                                          protocols)
        elif model == "stdp_triplet":
            theirs[key] = nest_plasticity("stdp_triplet_synapse", triplet_syn, triplet_post,
                                          protocols)
        else:
            for variant in ("stdp_nn_pre_centered_synapse", "stdp_nn_restr_synapse",
                            "stdp_nn_symm_synapse"):
                theirs[f"{key}:{variant}"] = nest_plasticity(
                    variant, nearest_syn, {"tau_minus": nearest["tau_minus"]}, protocols)
    return {key: (theirs[key], ours[key.split(":")[0]]) for key in theirs}


@pytest.mark.compares(models=['stdp_pair@1'], reference='NEST stdp_synapse',
                      compared='window, 60 pairings at 1 and 20 Hz, Poisson trains', tolerance='1e-12', measured='1.5e-14')
@pytest.mark.slow
@pytest.mark.parametrize("key", ["pair_window", "pair_1hz", "pair_20hz", "pair_random"])
def test_stdp_pair_against_stdp_synapse(plasticity, key):
    """stdp_pair against NEST's stdp_synapse (additive: mu_plus = mu_minus = 0, lambda =
    A_plus / w_max, alpha = A_minus / A_plus): the window, 60 pairings at +-10 ms at 1 and
    20 Hz, and two 5 s Poisson trains at 20 Hz agree to float rounding (1e-12; measured
    ~1e-13: both evaluate the same exponential traces at the same spike times)."""
    nest_dw, our_dw = plasticity[key]
    np.testing.assert_allclose(our_dw, nest_dw, rtol=0, atol=1e-12)
    assert np.max(np.abs(nest_dw)) > 1e-3


@pytest.mark.compares(models=['stdp_triplet@1'], reference='NEST stdp_triplet_synapse',
                      compared='Sjostrom protocol 1-50 Hz, Poisson trains', tolerance='1e-12', measured='1.3e-14')
@pytest.mark.slow
@pytest.mark.parametrize("key", ["triplet_sjostrom", "triplet_random"])
def test_stdp_triplet_against_stdp_triplet_synapse(plasticity, key):
    """stdp_triplet (all-to-all, Pfister & Gerstner's visual-cortex values) against NEST's
    stdp_triplet_synapse: Sjostrom's frequency protocol (60 pairings at +-10 ms, 1-50 Hz)
    and Poisson trains agree to rounding; the protocol shows the rule's signature,
    depression for post-pre at low and potentiation at high frequency."""
    nest_dw, our_dw = plasticity[key]
    np.testing.assert_allclose(our_dw, nest_dw, rtol=0, atol=1e-12)
    if key == "triplet_sjostrom":
        post_pre = our_dw[0::2]  # lag -10 ms at 1, 10, 20, 40, 50 Hz
        assert post_pre[0] < 0 < post_pre[-1]


@pytest.mark.compares(models=['stdp_nearest@1'], reference='NEST stdp_nn_restr_synapse',
                      compared='Sjostrom protocol, Poisson trains', tolerance='1e-12', measured='7e-15')
@pytest.mark.slow
def test_stdp_nearest_is_nests_restricted_rule(plasticity):
    """stdp_nearest against NEST's three nearest-neighbour rules: it agrees to rounding with
    stdp_nn_restr_synapse (only immediately adjacent pre-post and post-pre pairs count),
    as its file says, on the frequency protocol and on Poisson trains (measured 7e-15); the
    presynaptic-centred and symmetric rules differ by 0.2 on the Poisson trains (the
    regular protocol cannot tell the symmetric rule apart: it agrees there too)."""
    for protocol in ("nearest_sjostrom", "nearest_random"):
        nest_dw, our_dw = plasticity[f"{protocol}:stdp_nn_restr_synapse"]
        np.testing.assert_allclose(our_dw, nest_dw, rtol=0, atol=1e-12)
    for variant in ("stdp_nn_pre_centered_synapse", "stdp_nn_symm_synapse"):
        nest_dw, our_dw = plasticity[f"nearest_random:{variant}"]
        assert np.max(np.abs(nest_dw - our_dw)) > 1e-2
