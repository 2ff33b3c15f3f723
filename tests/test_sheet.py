"""The E/I sheet builder: pathways, weight normalisation, the seedable drive."""

import numpy as np
import pytest
from brian2 import Network, ms, nA

from brianlab.networks import Pathway, build_ei_sheet
from brianlab.networks.sheet import HASH_UNIFORM
from brianlab.space import Lattice, kernel_sum, periodic_distance


def small_sheet(rule="fixed_indegree", **kwargs):
    return build_ei_sheet(20, 10, ee=Pathway(2.0, 30, 0.5), ei=Pathway(2.0, 30, 0.5),
                          ie=Pathway(4.0, 20, 0.5), ii=Pathway(4.0, 20, 0.5), rule=rule,
                          name=f"s_{rule}", **kwargs)


def test_fixed_indegree_pathways_and_weights():
    sheet = small_sheet()
    assert sheet.n_synapses == {"ee": 400 * 30, "ei": 100 * 30, "ie": 400 * 20, "ii": 100 * 20}
    e, i = Lattice(20), Lattice(10, 20.0)
    np.testing.assert_allclose(sheet.synapses["ee"].w[:],
                               kernel_sum(e, e, 2.0, allow_self=False) / 30)
    np.testing.assert_allclose(sheet.synapses["ie"].w[:], kernel_sum(i, e, 4.0) / 20)
    assert all(syn.variables["w"].scalar for syn in sheet.synapses.values())
    assert not np.any(sheet.synapses["ee"].i[:] == sheet.synapses["ee"].j[:])
    assert [m["model"] for m in sheet.provenance()] == ["lif@2", "ampa_exp@1", "gaba_exp@1",
                                                       "static@1"]


def test_cached_connectivity_is_the_drawn_connectivity(tmp_path, monkeypatch):
    """With cache=True the first build saves the index arrays, the second loads them:
    the same synapses as without the cache; another seed draws new ones. The delay is
    one shared value, not an array per synapse."""
    monkeypatch.setenv("BRIANLAB_CACHE", str(tmp_path))
    reference = small_sheet(seed=3)
    first = small_sheet(seed=3, cache=True)
    saved = sorted(p.name for p in (tmp_path / "arrays").iterdir())
    second = small_sheet(seed=3, cache=True, delay=1.5 * ms)
    assert len(saved) == 1 and sorted(p.name for p in (tmp_path / "arrays").iterdir()) == saved
    for label in ("ee", "ei", "ie", "ii"):
        for sheet in (first, second):
            np.testing.assert_array_equal(sheet.synapses[label].i[:],
                                          reference.synapses[label].i[:])
            np.testing.assert_array_equal(sheet.synapses[label].j[:],
                                          reference.synapses[label].j[:])
        pathway = second.synapses[label].pre
        assert pathway.variables["delay"].scalar  # one value, no per-synapse array
        # brian2 2.10 has no delay among the Synapses' variables; 2.11 refers to the
        # pathway's (as "delay" and "_pre_delay"): whichever there is must be that value
        assert all(var.scalar for name, var in second.synapses[label].variables.items()
                   if name.endswith("delay"))
        assert float(pathway.delay / ms) == pytest.approx(1.5)
    other = small_sheet(seed=4, cache=True)
    assert not np.array_equal(other.synapses["ee"].i[:], reference.synapses["ee"].i[:])
    assert len(list((tmp_path / "arrays").iterdir())) == 2


def test_kernel_rule_weights_are_the_gaussian_of_periodic_distance():
    """The weight expression (written for standalone devices) against numpy distances."""
    sheet = small_sheet("kernel")
    e, i = Lattice(20), Lattice(10, 20.0)
    for label, src, tgt, sigma in (("ee", e, e, 2.0), ("ie", i, e, 4.0), ("ei", e, i, 2.0)):
        syn = sheet.synapses[label]
        d = periodic_distance(src.positions()[syn.i[:]], tgt.positions()[syn.j[:]], 20.0)
        np.testing.assert_allclose(syn.w[:], np.exp(-d**2 / (2 * sigma**2)), rtol=1e-12)
    assert not sheet.synapses["ee"].variables["w"].scalar  # a weight per synapse
    total = np.bincount(sheet.synapses["ee"].j[:], weights=sheet.synapses["ee"].w[:])
    assert total.mean() == pytest.approx(kernel_sum(e, e, 2.0, allow_self=False))


def test_probability_rule_expected_total_weight():
    sheet = small_sheet("probability")
    e = Lattice(20)
    syn = sheet.synapses["ee"]
    assert syn.variables["w"].scalar  # one weight per pathway, not an array per synapse
    total = np.bincount(syn.j[:], minlength=400) * float(syn.w[:])
    assert total.mean() == pytest.approx(kernel_sum(e, e, 2.0, allow_self=False), rel=0.05)


def test_drive_is_uniform_uncorrelated_and_stops():
    sheet = small_sheet(drive_amplitude=5 * nA, drive_duration=2 * ms)
    net = Network(*sheet.objects)
    net.run(1 * ms)
    first = np.asarray(sheet.E.I_ext[:] / nA)
    net.run(0.5 * ms)
    second = np.asarray(sheet.E.I_ext[:] / nA)
    both = np.concatenate([first, second])
    assert 0 <= both.min() and both.max() < 5
    assert both.mean() == pytest.approx(2.5, abs=0.25)
    assert both.std() == pytest.approx(5 / np.sqrt(12), rel=0.1)
    assert abs(np.corrcoef(first, second)[0, 1]) < 0.15
    assert abs(np.corrcoef(first[:-1], first[1:])[0, 1]) < 0.15
    net.run(2 * ms)
    assert np.all(sheet.E.I_ext[:] == 0 * nA)


def test_hash_has_uniform_statistics():
    i = np.arange(22500)[None, :]
    t = np.arange(0, 30, 0.5)[:, None]
    code = HASH_UNIFORM.format(i="i").replace("t/ms", "t").replace("drive_seed", "seed")
    u = eval(code, {"sin": np.sin, "floor": np.floor, "i": i, "t": t, "seed": 3})  # test only
    hist = np.histogram(u, 10, range=(0, 1))[0] / u.size
    np.testing.assert_allclose(hist, 0.1, atol=0.002)
    assert abs(np.corrcoef(u[:, :-1].ravel(), u[:, 1:].ravel())[0, 1]) < 0.01


def test_impossible_sheets():
    with pytest.raises(ValueError, match="e_side must be an integer >= 2"):
        build_ei_sheet(0, 10, ee=Pathway(1), ei=Pathway(1), ie=Pathway(1), ii=Pathway(1))
    with pytest.raises(ValueError, match="larger than the source population"):
        build_ei_sheet(10, 5, ee=Pathway(1, 101), ei=Pathway(1), ie=Pathway(1), ii=Pathway(1))
    with pytest.raises(ValueError, match="sigma must be positive"):
        build_ei_sheet(10, 5, ee=Pathway(0), ei=Pathway(1), ie=Pathway(1, 10), ii=Pathway(1, 10))
    with pytest.raises(ValueError, match="unknown connectivity rule"):
        build_ei_sheet(10, 5, ee=Pathway(1), ei=Pathway(1), ie=Pathway(1, 10),
                       ii=Pathway(1, 10), rule="dense")
