"""The network file ``cuba`` (Brette et al. 2007, benchmark 2): devices, twin, paper.

- runtime (Cython target) and cpp_standalone give identical spikes for the same seeds;
- its statistics agree with the plain-Brian2 twin written from the paper
  (``tests/twins.py``, ``twins.cuba``; same seeds, but the twin draws its connections
  without the builder's per-projection re-seeding, so the two are two realisations of the
  same random network and agree in statistics, with the tolerances stated);
- it shows the published behaviour its ``[[published]]`` entries state.
"""

import shutil

import numpy as np
import pytest
from brian2 import mV, ms, pA, second

import twins as T
from network_checks import check_published, netfile, run_file, statistics

NAME = "cuba"

needs_cxx = pytest.mark.skipif(
    not any(shutil.which(c) for c in ("c++", "g++", "clang++")),
    reason="no C++ compiler for cpp_standalone / Cython")


@pytest.fixture
def cython_target():
    """Brian2's Cython target for the runtime device (numpy's random draws of connect(p=)
    differ from C++'s); preferences restored after."""
    from brian2 import prefs

    prefs._backup()
    prefs.codegen.target = "cython"
    yield
    prefs._restore()


def test_cuba_holds_the_papers_values():
    """Brette et al. (2007), benchmark 2: tau_m = 20 ms, E_L = -49 mV, threshold -50 mV,
    reset -60 mV, refractory 5 ms, synaptic time constants 5 / 10 ms, jumps
    w_e = 60 * 0.27 / 10 mV = 1.62 mV and w_i = -20 * 4.5 / 10 mV = -9 mV (as currents
    I_max = w * g_L), p = 0.02, 3200 E / 800 I; initial v uniform in [reset, threshold]."""
    net = netfile(NAME)
    assert {p: net.populations[p].size for p in net.populations} == {"E": 3200, "I": 800}
    for pop in net.populations.values():
        par = pop.parameters
        assert float(par["C"] / par["g_L"]) == pytest.approx(0.020, rel=1e-12)
        assert (par["E_L"], par["V_th"], par["V_reset"]) == (-49 * mV, -50 * mV, -60 * mV)
        assert (par["tau_ref"], par["tau_e"], par["tau_i"]) == (5 * ms, 5 * ms, 10 * ms)
        assert pop.initial["v"].kind == "uniform"
        assert pop.initial["v"].args == (-60 * mV, -50 * mV)
    for proj in net.projections.values():
        assert proj.connector.rule == "probability" and proj.connector.p == 0.02
        assert proj.receptor == ("e" if proj.source == "E" else "i")
    values = net.run_values()
    g_l = net.populations["E"].parameters["g_L"]
    for pop in "EI":
        assert float(values[f"{pop}.I_max_e"] / g_l / mV) == pytest.approx(60 * 0.27 / 10)
        assert float(values[f"{pop}.I_max_i"] / g_l / mV) == pytest.approx(-20 * 4.5 / 10)
    assert float(net.run_values(we="2 mV")["I.I_max_e"] / pA) == pytest.approx(20.0)


@pytest.fixture(scope="module")
def full_run():
    """The file as released (1 s) on cpp_standalone."""
    net = netfile(NAME)
    spikes, wall = run_file(net, "cpp_standalone")
    print(f"{NAME}: cpp_standalone, 1 s, wall {wall:.1f} s (build, compile, run)")
    return net, spikes


@pytest.mark.slow
@needs_cxx
def test_cuba_runtime_and_cpp_standalone_give_identical_spikes(cython_target, full_run):
    """Same seeds: the runtime device (Cython) over the first 100 ms gives the spike
    indices and times of cpp_standalone's 1 s run up to then (the builder draws with
    Brian2's own generator, identical on Cython and C++; the run is deterministic, so a
    shorter run is the start of a longer one)."""
    net, standalone = full_run
    short = netfile(NAME, "100 ms")
    runtime, wall = run_file(short, "runtime")
    print(f"{NAME} 100 ms: runtime (cython) {wall:.1f} s")
    for pop in ("E", "I"):
        i, t = standalone[pop]
        first = t < 0.1 - 0.5 * float(net.dt)
        assert runtime[pop][0].size > 100, pop  # the initial state starts the activity
        assert np.array_equal(runtime[pop][0], i[first]), pop
        assert np.array_equal(runtime[pop][1], t[first]), pop


@pytest.mark.slow
@needs_cxx
def test_cuba_shows_the_published_behaviour(full_run):
    """Every ``[[published]]`` entry of the file (sources in the file, next to the numbers)."""
    net, spikes = full_run
    assert check_published(net, spikes) == []


@pytest.mark.slow
@needs_cxx
def test_cuba_agrees_with_the_plain_brian2_twin(full_run):
    """The twin (Brette et al. 2007's equations, written without brianlab) on
    cpp_standalone, same seeds and duration. Over 0.2-1 s: mean rates within 20 % (two
    realisations of the random network), mean ISI CV within 0.1, Golomb's chi within 0.05.
    Measured: E rate 5.48 Hz (twin 5.89), I 5.59 (5.61); CV 0.47 (0.50); chi E 0.034
    (0.027), I 0.050 (0.043)."""
    net, spikes = full_run
    twin = T.cuba(1 * second, device="cpp_standalone")
    for pop in ("E", "I"):
        ours = statistics(net, spikes, pop, 0.2)
        theirs = statistics(net, twin.spikes, pop, 0.2)
        print(pop, "brianlab", {k: round(ours[k], 3) for k in ("rate", "cv", "synchrony")},
              "twin", {k: round(theirs[k], 3) for k in ("rate", "cv", "synchrony")})
        assert ours["rate"] == pytest.approx(theirs["rate"], rel=0.2), pop
        assert ours["cv"] == pytest.approx(theirs["cv"], abs=0.1), pop
        assert ours["synchrony"] == pytest.approx(theirs["synchrony"], abs=0.05), pop
