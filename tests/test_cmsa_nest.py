"""The CMSA sheet in NEST (brianlab.cmsa.nest_sheet): the same drive, the same connection
statistics, and the same states as brianlab's sheet (a cross-simulator check)."""

import numpy as np
import pytest
from brian2 import ms, nS

from brianlab.cmsa import CMSAParams
from brianlab.cmsa.nest_sheet import build_nest_sheet, drive_values, simulate_nest
from brianlab.cmsa.protocol import analyse
from brianlab.networks.sheet import HASH_UNIFORM
from brianlab.space import Lattice, fixed_indegree, kernel_sum, periodic_distance
from conftest import require


def test_nest_drive_is_brianlabs_hash():
    """``drive_values`` against the expression brianlab compiles into the sheet, evaluated
    by numpy (the same formula text: 1e-12 for float order)."""
    i = np.arange(500)
    for offset, t_ms, seed in ((0, 0.0, 0), (0, 12.5, 3), (1_000_003, 29.5, 2**31 - 1)):
        expected = eval(HASH_UNIFORM.format(i=f"(i + {offset})"),
                        {"sin": np.sin, "floor": np.floor, "i": i, "t": t_ms * 1e-3,
                         "ms": 1e-3, "drive_seed": float(seed)})
        np.testing.assert_allclose(drive_values(500, offset, t_ms, seed), expected,
                                   rtol=0, atol=1e-9)


def _mean_squared_distance(i, j, source: Lattice, target: Lattice, extent: float) -> float:
    d = periodic_distance(source.positions()[i], target.positions()[j], extent)
    return float(np.mean(d**2))


def test_nest_connections_follow_brianlabs_rule():
    """On a 40 x 40 / 20 x 20 sheet: every NEST target has exactly k_e E and k_i I sources,
    their mean squared distance is brianlab's ``fixed_indegree`` draw's within 3 %
    (over 160 000 and 300 000 connections the sampling error is under 1 %; the rule,
    sigma or the lattice mapping wrong would be tens of %), no autapses, and the
    weights are g_max K / k."""
    require("nest")
    import nest

    p = CMSAParams(e_side=40, i_side=20, k_e=100, k_i=150)
    sheet = build_nest_sheet(p, threads=1, seed=5)
    e, i = Lattice(40), Lattice(20, 40.0)
    rng = np.random.default_rng(0)
    for label, src, tgt, s_lat, t_lat, sigma, k, g in (
            ("ee", "E", "E", e, e, p.sigma_e, p.k_e, p.we),
            ("ie", "I", "E", i, e, p.sigma_i, p.k_i, -p.wi),
            ("ii", "I", "I", i, i, p.sigma_i, p.k_i, -p.wi)):
        conns = nest.GetConnections(sheet[src], sheet[tgt]).get(["source", "target", "weight"])
        pre = np.asarray(conns["source"]) - sheet[src][0].global_id
        post = np.asarray(conns["target"]) - sheet[tgt][0].global_id
        assert np.all(np.bincount(post, minlength=t_lat.n) == k), label
        same = src == tgt
        if same:
            assert not np.any(pre == post)
        ours = fixed_indegree(s_lat, t_lat, k, sigma, seed=rng, allow_self=not same,
                              same_population=same)
        theirs = _mean_squared_distance(pre, post, s_lat, t_lat, 40.0)
        expected = _mean_squared_distance(ours.i, ours.j, s_lat, t_lat, 40.0)
        assert theirs == pytest.approx(expected, rel=0.03), label
        weight = float(g / nS) * kernel_sum(s_lat, t_lat, sigma, allow_self=not same,
                                            same_population=same) / k
        np.testing.assert_allclose(conns["weight"], weight, rtol=1e-12)


@pytest.mark.slow
@pytest.mark.parametrize("rp, state", [(5, "bump"), (10, "wave")])
def test_nest_sheet_shows_the_same_states(rp, state):
    """The default sheet in NEST, 2 drive and connectivity seeds: bumps at rp 5 ms (Phi <
    0.35 for each seed) and travelling waves at rp 10 ms (Phi > 0.8 for each seed; NEST
    gave 0.00 and 0.95 for seeds 0 and 1 in both, docs/guide/cmsa.md), the brianlab
    sheet's states at full size; NEST integrates with RKF45, has a one-step synaptic delay
    and draws its own connectivity, so states, not spikes, are compared. (Two seeds, not
    the benchmark's three: each NEST run takes a minute alone and two in CI.)"""
    require("nest")
    phis = []
    for seed in range(2):
        p = CMSAParams(rp=rp * ms, seed=seed)
        out = simulate_nest(p, threads=2, seed=seed + 1)
        run = analyse(p, out["e_i"], out["e_t"] * 1e3, out["i_i"], out["i_t"] * 1e3)
        assert 0.5 < run.rate_e < 20, (seed, run.rate_e)
        phis.append(run.phi.phi)
    if state == "bump":
        assert max(phis) < 0.35, phis
    else:
        assert min(phis) > 0.8, phis
