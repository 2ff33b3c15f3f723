"""The network file ``coba`` (Brette et al. 2007, benchmark 1): devices, twin, paper.

- runtime (Cython target) and cpp_standalone give identical spikes for the same seeds;
- its statistics agree with the plain-Brian2 twin written from the paper
  (``tests/twins.py``, ``twins.coba``; same seeds, but the twin draws its connections
  without the builder's per-projection re-seeding, so the two are two realisations of the
  same random network and agree in statistics, with the tolerances stated);
- it shows the published behaviour its ``[[published]]`` entries state.
"""

import shutil

import numpy as np
import pytest
from brian2 import second

import twins as T
from network_checks import check_published, netfile, run_file, statistics

NAME = "coba"

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


@pytest.fixture(scope="module")
def full_run():
    """The file as released (1 s) on cpp_standalone."""
    net = netfile(NAME)
    spikes, wall = run_file(net, "cpp_standalone")
    print(f"{NAME}: cpp_standalone, 1 s, wall {wall:.1f} s (build, compile, run)")
    return net, spikes


@pytest.mark.slow
@needs_cxx
def test_coba_runtime_and_cpp_standalone_give_identical_spikes(cython_target, full_run):
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
def test_coba_shows_the_published_behaviour(full_run):
    """Every ``[[published]]`` entry of the file (sources in the file, next to the numbers)."""
    net, spikes = full_run
    assert check_published(net, spikes) == []


@pytest.mark.slow
@needs_cxx
def test_coba_agrees_with_the_plain_brian2_twin(full_run):
    """The twin (Brette et al. 2007's equations, written without brianlab) on
    cpp_standalone, same seeds and duration. Over 0.2-1 s: mean rates within 20 % (two
    realisations of the random network), mean ISI CV within 0.2 (a CV of bursty trains
    near 1.5 varies more between realisations), Golomb's chi within 0.05. Measured: E rate
    17.79 Hz (twin 19.34), I 18.99 (19.34); CV E 1.56 (1.61), I 1.55 (1.65); chi E 0.035
    (0.036), I 0.048 (0.044)."""
    net, spikes = full_run
    twin = T.coba(1 * second, device="cpp_standalone")
    for pop in ("E", "I"):
        ours = statistics(net, spikes, pop, 0.2)
        theirs = statistics(net, twin.spikes, pop, 0.2)
        print(pop, "brianlab", {k: round(ours[k], 3) for k in ("rate", "cv", "synchrony")},
              "twin", {k: round(theirs[k], 3) for k in ("rate", "cv", "synchrony")})
        assert ours["rate"] == pytest.approx(theirs["rate"], rel=0.2), pop
        assert ours["cv"] == pytest.approx(theirs["cv"], abs=0.2), pop
        assert ours["synchrony"] == pytest.approx(theirs["synchrony"], abs=0.05), pop
