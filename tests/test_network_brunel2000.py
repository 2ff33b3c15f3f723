"""The network file brunel2000@1 (Brunel 2000, model A) built and run.

- the same spikes on the runtime device (Brian2's Cython target) and on cpp_standalone,
  at the paper's size, over a short run;
- the same spikes as the plain-Brian2 twin written from the paper (tests/twins.py, with
  the builder's documented re-seeding and the per-step Poisson count drive);
- the published states (Brunel 2000, Fig. 8): the file's ``[[published]]`` entries,
  measured with :func:`brianlab.analysis.population.population_statistics`.

Measured (cpp_standalone, full size, 1 s, E population after 0.1-0.2 s; this file's
seeds): SR rate 312 Hz, CV 0.001, chi 0.52; SI fast peak 180 Hz, CV 0.86, chi 0.25,
rate 60 Hz; AI rate 37 Hz, CV 0.40, chi 0.11; SI slow rate 5.2 Hz, peak 20 Hz, CV 0.49,
chi 0.15. Wall times (cpp_standalone, 1 s, build excluded): SR 103 s, SI fast 36 s,
SI slow 11 s; the runtime device (Cython) takes 45 s to build and 78 s per simulated
second at AI (cpp_standalone: ~25 s for build, compile and 1 s).
"""

import dataclasses
import time

import numpy as np
import pytest
from brian2 import mV, ms, second

import brianlab as bl
from brianlab.analysis.population import population_statistics
from brianlab.devices import cxx_compiler_works

import twins as T

pytestmark = [pytest.mark.filterwarnings("ignore::brianlab.library.UnreleasedModelWarning"),
              pytest.mark.skipif(not cxx_compiler_works(), reason="needs a C++ compiler")]


def _short(net, duration):
    """The network file with its protocol cut to one phase of ``duration``."""
    phase = dataclasses.replace(net.protocol[0], duration=duration)
    return dataclasses.replace(net, protocol=(phase,))


def _spikes(built):
    return {pop: tuple(np.array(a) for a in built.spikes(pop)) for pop in ("E", "I")}


def _run(net, device, **options):
    t0 = time.perf_counter()
    with net.build(device=device, device_options=options) as built:
        built.run()
        out = _spikes(built)
    return out, time.perf_counter() - t0


def _same(a, b):
    return all(np.array_equal(a[p][0], b[p][0]) and np.array_equal(a[p][1], b[p][1])
               for p in ("E", "I"))


SHORT = 50 * ms


@pytest.fixture(scope="module")
def cpp_short(state_runs):
    """brunel2000@1 at full size, first 50 ms of the state runs' cpp_standalone build at
    the file's values (the run is deterministic: a shorter run is the start of a longer
    one): spikes of E and I, and the wall time of build, compile and run."""
    _, _, first, wall = state_runs
    cut = float(SHORT / second) - 0.5e-4  # strictly before 50 ms (half a step of dt)
    return {pop: (i[t < cut], t[t < cut]) for pop, (i, t) in first.items()}, wall


def test_the_file_is_the_papers_model_a():
    """Section 2 of Brunel (2000): sizes, in-degrees C_E = 0.1 N_E and C_I = 0.1 N_I,
    J = 0.1 mV, D = 1.5 ms, tau 20 ms, theta 20 mV, V_r 10 mV, tau_rp 2 ms; the named
    parameters give -g J and nu_ext = (nu_ext/nu_thr) * theta / (J C_E tau)."""
    net = bl.load_network("brunel2000")
    assert net.populations["E"].size == 10000 and net.populations["I"].size == 2500
    assert [net.projections[p].connector.k for p in ("EE", "EI", "IE", "II")] == \
        [1000, 1000, 250, 250]
    for p in net.projections.values():
        assert p.delay.quantity == 1.5 * ms
    pars = net.populations["E"].parameters
    assert float(pars["C"] / pars["g_L"]) == pytest.approx(0.020)
    assert (pars["V_th"], pars["V_reset"], pars["tau_ref"]) == (20 * mV, 10 * mV, 2 * ms)
    values = net.run_values(g="6", nu_ext_over_nu_thr="4")
    assert float(values["IE.w"] / mV) == pytest.approx(-0.6)
    # nu_thr = 20 mV / (0.1 mV * 1000 * 20 ms) = 10 Hz
    assert float(values["E_ext.rate"]) == pytest.approx(40.0)
    assert float(values["I_ext.rate"]) == pytest.approx(40.0)


def test_a_parameter_of_a_projection_is_set_on_cpp_standalone():
    """g sets IE.w and II.w (shared synaptic variables): constructing the network on
    cpp_standalone applies them without asking the Synapses for their length (unknown
    before a standalone run; the builder failed here with NotImplementedError), and
    run_args maps g = 6 to -0.6 mV (= -g J, J = 0.1 mV) on both projections and keeps
    the external rate at 2 nu_thr = 20 Hz."""
    net = bl.load_network("brunel2000")
    with net.build(device="cpp_standalone", g=4.5) as built:
        args = built.run_args(g=6)
        targets = {(view.group_name, view.name): value for view, value in args.items()}
        for syn in ("brunel2000_IE", "brunel2000_II"):
            assert float(targets[(syn, "w")] / mV) == pytest.approx(-0.6)
        assert float(targets[("brunel2000_E", "E_ext_rate")]) == pytest.approx(20.0)


@pytest.mark.slow
def test_runtime_and_cpp_standalone_give_the_same_spikes(cpp_short):
    """Full size, 50 ms, the file's seeds: runtime (Cython target) and cpp_standalone
    give identical spike indices and times."""
    cpp, cpp_wall = cpp_short
    runtime, runtime_wall = _run(_short(bl.load_network("brunel2000"), SHORT), "runtime",
                                 target="cython")
    print("brunel2000 50 ms: runtime", runtime_wall, "s, cpp_standalone", cpp_wall, "s")
    assert len(cpp["E"][0]) > 10_000  # active (AI: ~37 Hz)
    assert _same(runtime, cpp)


@pytest.mark.slow
def test_the_plain_brian2_twin_gives_the_same_spikes(cpp_short):
    """tests/twins.py's brunel2000, written from the paper, with the builder's documented
    re-seeding (``reseed=True``) and the per-step Poisson count drive: identical spikes
    over 50 ms at full size on cpp_standalone."""
    cpp, _ = cpp_short
    twin = T.brunel2000(5, 2, SHORT, drive="count", device="cpp_standalone", reseed=True)
    print("brunel2000 twin wall", twin.wall_s, "s; spikes", len(twin.spikes["E"][0]),
          "brianlab", len(cpp["E"][0]))
    assert len(cpp["E"][0]) > 10_000
    for pop in ("E", "I"):
        assert np.array_equal(twin.spikes[pop][0], cpp[pop][0]), pop
        assert np.array_equal(twin.spikes[pop][1], cpp[pop][1]), pop


STATE_DURATION = 0.3 * second


@pytest.fixture(scope="module")
def state_runs():
    """One cpp_standalone build of brunel2000@1 (0.3 s): run at the file's values (the AI
    point), then rerun with each published state's named parameters (no recompilation).
    E spikes per state, the first run's spikes of E and I, and its wall time."""
    net = bl.load_network("brunel2000")
    states = {}
    for entry in net.published:
        states.setdefault(tuple(sorted((k, float(v)) for k, v in entry.parameters.items())),
                          dict(entry.parameters))
    out = {}
    with _short(net, STATE_DURATION).build(device="cpp_standalone") as built:
        t0 = time.perf_counter()
        built.run()  # build, compile and run at the file's values
        wall = time.perf_counter() - t0
        first = _spikes(built)
        print("brunel2000 state build", wall)
        for key, values in states.items():
            t0 = time.perf_counter()
            built.rerun(**values)
            out[key] = built.spikes("E")
            print("brunel2000 state", values, "wall", time.perf_counter() - t0)
    return net, out, first, wall


@pytest.mark.slow
def test_the_published_states(state_runs):
    """Every ``[[published]]`` entry of brunel2000@1 (Brunel 2000, Fig. 8; each entry's
    source names the panel): the statistic of the E population, from its ``t_start`` to
    the end of a 0.3 s run at the entry's parameters, lies in the entry's range."""
    net, runs, _, _ = state_runs
    failures = []
    for entry in net.published:
        key = tuple(sorted((k, float(v)) for k, v in entry.parameters.items()))
        i, t = runs[key]
        t0 = float(entry.t_start)
        stats = population_statistics(i, np.asarray(t / second), net.populations["E"].size,
                                      float(STATE_DURATION) - t0, t_start=t0)
        value = stats[entry.statistic]
        print(f"brunel2000 {dict(key)} {entry.statistic} = {value:.3f} "
              f"(published range {entry.low}..{entry.high})")
        if not entry.contains(value):
            failures.append((dict(key), entry.statistic, value, entry.low, entry.high))
    assert not failures, failures
