"""brianlab's continuous attractor networks against canns 1.5 (brainpy/JAX), both run here.

Conventions (measured): canns' ring grid ``linspace(-pi, pi, n)`` repeats the point +-pi,
so the comparison gives canns brianlab's grid (``endpoint=False``) and rebuilds its
kernel; canns normalises its 2D kernel like its 1D one (``J0 / (sqrt(2 pi) a)``), so
brianlab's 2D network gets ``J0 * sqrt(2 pi) * a`` for the same weights. JAX runs in
double precision (``jax_enable_x64``). canns squares u where brianlab squares max(u, 0),
and its adaptation variable is updated with the new u (brianlab's Euler uses the old one):
the two update maps coincide without adaptation and differ by O(dt) with it.
"""

import numpy as np
import pytest
from brian2 import Network, StateMonitor, TimedArray, ms

from brianlab.analysis.decoding import circular_error, population_vector
from brianlab.networks import build_cann
from conftest import require

jax = require("jax")
jax.config.update("jax_enable_x64", True)
canns_basic = require("canns.models.basic")
bm = require("brainpy.math")

DT = 0.1  # ms; canns' time unit is the ms (tau = 1)
PARAMS = dict(tau=1.0, k=8.1, a=0.5, A=10.0, J0=4.0)


def canns_model(cls, n, **params):
    bm.set_dt(DT)
    model = cls(n, **{**PARAMS, **params})
    model.x = bm.linspace(-bm.pi, bm.pi, n, endpoint=False)
    model.conn_mat = model.make_conn()
    model._setup_accl("normal")
    return model


def canns_run(model, inputs):
    """u after each step for a sequence of inputs (one per step)."""
    out = []
    for inp in inputs:
        model.update(inp)
        out.append(np.asarray(model.u.value).ravel())
    return np.array(out)


def brian_run(cann, inputs):
    """u after each step; step k's input is set at its start (as canns' update does)."""
    values = np.array([np.asarray(inp).ravel() for inp in inputs])
    stimulus = TimedArray(values, dt=DT * ms)
    cann.group.namespace["stimulus"] = stimulus
    setter = cann.group.run_regularly("I_ext = stimulus(t, i)", dt=DT * ms, when="start")
    monitor = StateMonitor(cann.group, "u", record=True, when="end")
    Network(*cann.objects, setter, monitor).run(len(values) * DT * ms)
    return np.asarray(monitor.u).T


@pytest.mark.compares(models=['cann_1d@1'], reference='canns CANN1D',
                      compared='u at every step', tolerance='1e-12', measured='5e-15')
def test_ring_bump_formation_matches_canns():
    """A bump forming under the canonical input (200 steps, 128 units): u agrees to 1e-12
    at every step (measured 5e-15: the same Euler map; this needs the normalisation sum
    computed before the recurrent input, see test_rate_models)."""
    model = canns_model(canns_basic.CANN1D, 128)
    cann = build_cann("cann_1d", n=128, name="vs_canns_ring")
    np.testing.assert_allclose(np.asarray(model.x), cann.positions, atol=1e-15)
    stimulus = np.asarray(model.get_stimulus_by_pos(0.5))
    np.testing.assert_allclose(stimulus, cann.gaussian_input(0.5), atol=1e-12)
    theirs = canns_run(model, [stimulus] * 200)
    ours = brian_run(cann, [stimulus] * 200)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12)
    assert theirs[-1].max() > 10  # a bump under the input


@pytest.mark.compares(models=['cann_1d@1'], reference='canns CANN1D',
                      compared='u at every step while tracking', tolerance='1e-12', measured='5e-15')
def test_ring_tracking_matches_canns():
    """A weak input (A = 1) moving at 0.01 rad/ms for 100 ms after a bump formed at -1:
    decoded positions agree to 1e-10 rad every ms."""
    model = canns_model(canns_basic.CANN1D, 128)
    cann = build_cann("cann_1d", n=128, name="vs_canns_track")
    start = [np.asarray(model.get_stimulus_by_pos(-1.0))] * 100
    moving = [np.asarray(model.get_stimulus_by_pos(-1.0 + 0.01 * DT * k)) / 10.0
              for k in range(1000)]
    theirs = canns_run(model, start + moving)
    ours = brian_run(cann, start + moving)

    def decode(u):
        r = np.clip(u, 0, None) ** 2
        return np.array([population_vector(row, cann.positions) for row in r[100::10]])

    np.testing.assert_allclose(decode(ours), decode(theirs), atol=1e-10)
    lag = circular_error(decode(ours)[-1], -1.0 + 0.01 * 100)
    assert abs(lag) < 0.2  # the bump follows the input


@pytest.mark.compares(models=['cann_2d@1'], reference='canns CANN2D',
                      compared='u at every step', tolerance='1e-12', measured='5e-15')
def test_torus_bump_matches_canns():
    """16 x 16 torus, 100 steps under a 2D input at (1, -2): u agrees to 1e-12 when brianlab's
    J0 is scaled to canns' 1D-style 2D normalisation."""
    n = 16
    model = canns_model(canns_basic.CANN2D, n)
    cann = build_cann("cann_2d", n=n, name="vs_canns_torus",
                      J0=PARAMS["J0"] * np.sqrt(2 * np.pi) * PARAMS["a"])
    stimulus = np.asarray(model.get_stimulus_by_pos(bm.asarray([1.0, -2.0])))
    np.testing.assert_allclose(stimulus.ravel(), cann.gaussian_input([1.0, -2.0]), atol=1e-12)
    theirs = canns_run(model, [stimulus] * 100)
    ours = brian_run(cann, [stimulus] * 100)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12)


@pytest.mark.compares(models=['cann_1d@1'], reference='canns CANN1D_SFA',
                      compared='steady travelling speed (m = 0.08)', tolerance='0.5 %', measured='0.18 %')
@pytest.mark.slow
def test_travelling_speed_with_adaptation_matches_canns():
    """m = 0.08, tau_v = 50 ms: after a kick both bumps travel at a steady 0.0216 rad/ms;
    the speeds agree within 0.5 % (measured 0.18 %: canns updates the adaptation with the
    new u and squares negative u, brianlab's Euler uses the old u and clips)."""
    model = canns_model(canns_basic.CANN1D_SFA, 128, m=0.08, tau_v=50.0)
    zero = np.zeros(128)
    canns_run(model, [np.asarray(model.get_stimulus_by_pos(0.0))] * 100 +
              [np.asarray(model.get_stimulus_by_pos(0.3))] * 10 + [zero] * 8000)
    x = np.asarray(model.x)
    before = population_vector(np.asarray(model.r.value), x)
    canns_run(model, [zero] * 1000)
    theirs = circular_error(population_vector(np.asarray(model.r.value), x), before) / 100.0
    cann = build_cann("cann_1d", n=128, name="vs_canns_sfa", m=0.08)
    ours = cann.travel_speed(Network(*cann.objects), kick=0.3)
    assert abs(theirs) > 0.02
    assert ours == pytest.approx(theirs, rel=0.005)
