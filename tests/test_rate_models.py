"""Rate models against analytic results: Wilson-Cowan (1 and 2 populations), CANN bumps."""

import numpy as np
import pytest
from brian2 import Network, StateMonitor, ms
from scipy.optimize import brentq, fsolve

from brianlab import load_model
from brianlab.analysis.decoding import population_vector
from brianlab.networks import build_cann


def F(x, a, theta):
    """The shifted sigmoid of the Wilson-Cowan files, written out independently."""
    return 1 / (1 + np.exp(-a * (x - theta))) - 1 / (1 + np.exp(a * theta))


def test_wilson_cowan_1d_with_w0_follows_the_analytic_solution():
    model = load_model("wilson_cowan_1d")
    G = model.neuron_group(1, I_ext=2.5, dt=0.002 * ms)
    mon = StateMonitor(G, "r", record=0)
    Network(G, mon).run(10 * ms)
    t = np.asarray(mon.t / ms)
    expected = F(2.5, 1.2, 2.8) + (0.2 - F(2.5, 1.2, 2.8)) * np.exp(-t / 1.0)
    np.testing.assert_allclose(mon.r[0], expected, atol=2e-4)


def test_wilson_cowan_1d_fixed_points_with_w5():
    """Three fixed points (about 0.042, 0.447, 0.900, the source tutorial's numbers): the outer
    two attract the simulation, the middle one is the boundary between them."""
    a, theta, w, I = 1.2, 2.8, 5.0, 0.5
    g = lambda r: -r + F(w * r + I, a, theta)  # noqa: E731
    fps = [brentq(g, lo, hi) for lo, hi in [(0, 0.2), (0.3, 0.6), (0.8, 1.0)]]
    np.testing.assert_allclose(fps, [0.042, 0.447, 0.900], atol=6e-4)
    model = load_model("wilson_cowan_1d")
    starts = [0.0, fps[1] - 0.01, fps[1] + 0.01, 1.0]
    G = model.neuron_group(len(starts), w=w, I_ext=I, dt=0.05 * ms)
    G.r = starts
    Network(G).run(30 * ms)
    np.testing.assert_allclose(G.r[:], [fps[0], fps[0], fps[2], fps[2]], atol=1e-4)


def test_wilson_cowan_ei_settles_on_a_fixed_point_of_the_equations():
    model = load_model("wilson_cowan")
    p = {k: float(v / ms) if v.dim == ms.dim else float(v) for k, v in model.parameters.items()}
    G = model.neuron_group(3, dt=0.01 * ms)
    G.r_E = [0.0, 0.32, 0.8]
    G.r_I = [0.0, 0.15, 0.8]
    Network(G).run(100 * ms)

    def residual(x):
        rE, rI = x
        return [-rE + F(p["w_EE"] * rE - p["w_EI"] * rI, p["a_E"], p["theta_E"]),
                -rI + F(p["w_IE"] * rE - p["w_II"] * rI, p["a_I"], p["theta_I"])]

    for k in range(3):
        end = [float(G.r_E[k]), float(G.r_I[k])]
        root = fsolve(residual, end, xtol=1e-12)
        np.testing.assert_allclose(end, root, atol=1e-5)
    assert float(G.r_E[0]) == pytest.approx(0.0, abs=1e-9)  # F(0) = 0: rest is a fixed point
    assert float(G.r_E[2]) > 0.4  # the high-activity state


def test_analytic_bump_by_hand():
    """The stationary-bump formula against numbers worked out by hand (default parameters:
    k = 8.1, a = 0.5, J0 = 4): 1D, 128 units: k_c = 32.51, u0 = 0.2600; 2D, 32 x 32:
    k_c = 16.51, u0 = 0.1347."""
    ring = build_cann("cann_1d", n=128, name="hand_1d").stationary_bump()
    assert ring["k_c"] == pytest.approx(32.51, abs=0.005)
    assert ring["height"] == pytest.approx(0.2600, abs=1e-4)
    torus = build_cann("cann_2d", n=32, name="hand_2d").stationary_bump()
    assert torus["k_c"] == pytest.approx(16.51, abs=0.005)
    assert torus["height"] == pytest.approx(0.1347, abs=1e-4)


def test_analytic_bump_uses_the_overrides():
    """stationary_bump and gaussian_input follow the values build_cann was given (they read
    the file's defaults before): k = 4, a = 0.4 on 128 units gives k_c = 40.64 and
    u0 = 0.6874 (by hand: rho = 128 / 2 pi, k_c = rho J0**2 / (8 sqrt(2 pi) a),
    u0 = (1 + sqrt(1 - k / k_c)) J0 / (4 sqrt(pi) a k)), FWHM of u 4 a sqrt(ln 2) = 1.332."""
    cann = build_cann("cann_1d", n=128, name="overrides", k=4, a=0.4)
    bump = cann.stationary_bump()
    assert bump["k_c"] == pytest.approx(40.636, abs=0.001)
    assert bump["height"] == pytest.approx(0.68743, abs=1e-5)
    assert bump["width_u"] == pytest.approx(1.33209, abs=1e-5)
    stimulus = cann.gaussian_input(0.0)
    x = cann.positions
    np.testing.assert_allclose(stimulus, 10 * np.exp(-x**2 / (4 * 0.4**2)), atol=1e-12)
    cann.group.k = 2  # changed after building: the group's value counts
    assert cann.stationary_bump()["height"] > bump["height"]


def _cann_reference(cann, inputs, steps, dt=0.1):
    """The CANN update map in numpy (Euler; r from the current u and its current sum)."""
    J = np.zeros((len(cann.positions),) * 2)
    J[cann.recurrent.i[:], cann.recurrent.j[:]] = cann.recurrent.J[:]
    k = float(cann.group.k[:])
    u = np.zeros(len(cann.positions))
    out = []
    for _ in range(steps):
        u_pos = np.clip(u, 0, None)
        r = u_pos**2 / (1 + k * np.sum(u_pos**2))
        u = u + dt * (-u + J.T @ r + inputs)
        out.append(u.copy())
    return np.array(out)


def test_normalisation_is_summed_before_the_recurrent_input():
    """The transient of a 2D bump (12 x 12, 60 steps) against the update map written in
    numpy: agreement to 1e-12. Brian2 orders summed variables by name, which computed the
    recurrent input from the previous step's normalisation sum (a ~1 % transient error in
    2D); build_cann orders the updaters."""
    cann = build_cann("cann_2d", n=12, name="order")
    stimulus = cann.gaussian_input([1.0, -2.0])
    cann.group.I_ext = stimulus
    monitor = StateMonitor(cann.group, "u", record=True, when="end")
    Network(*cann.objects, monitor).run(6 * ms)
    expected = _cann_reference(cann, stimulus, 60)
    np.testing.assert_allclose(np.asarray(monitor.u).T, expected, rtol=0, atol=1e-12)
    # with Brian2's name order the same transient is visibly off
    late = build_cann("cann_2d", n=12, name="order_late")
    late.recurrent.summed_updaters["u2_total_post"].order = \
        late.recurrent.summed_updaters["I_rec_post"].order
    late.group.I_ext = stimulus
    monitor = StateMonitor(late.group, "u", record=True, when="end")
    Network(*late.objects, monitor).run(6 * ms)
    error = np.max(np.abs(np.asarray(monitor.u).T - expected)) / np.max(np.abs(expected))
    assert error > 1e-3


def test_cann_1d_bump_persists_at_the_analytic_height():
    cann = build_cann("cann_1d", n=128)
    cann.group.I_ext = cann.gaussian_input(0.5)
    net = Network(*cann.objects)
    net.run(20 * ms)
    cann.group.I_ext = 0
    net.run(50 * ms)
    u = np.asarray(cann.group.u[:])
    r = np.asarray(cann.group.r[:])
    assert u.max() == pytest.approx(cann.stationary_bump()["height"], rel=0.01)
    assert population_vector(r, cann.positions) == pytest.approx(0.5, abs=0.01)
    # a Gaussian profile of width 2a in u
    x = (cann.positions - 0.5 + np.pi) % (2 * np.pi) - np.pi
    near = np.abs(x) < 1.0
    np.testing.assert_allclose(u[near], u.max() * np.exp(-x[near] ** 2 / (4 * 0.5**2)),
                               atol=0.01 * u.max())


@pytest.mark.slow
def test_cann_2d_bump_persists_at_the_analytic_height():
    cann = build_cann("cann_2d", n=32)
    cann.group.I_ext = cann.gaussian_input([1.0, -2.0])
    net = Network(*cann.objects)
    net.run(15 * ms)
    cann.group.I_ext = 0
    net.run(25 * ms)
    u = np.asarray(cann.group.u[:])
    assert u.max() == pytest.approx(cann.stationary_bump()["height"], rel=0.02)
    r = np.asarray(cann.group.r[:])
    assert population_vector(r, cann.positions[:, 0]) == pytest.approx(1.0, abs=0.02)
    assert population_vector(r, cann.positions[:, 1]) == pytest.approx(-2.0, abs=0.02)


def test_travelling_bump_reaches_a_steady_speed():
    """travel_speed waits for the steady state: 0.0216 rad/ms with m = 0.08 (the value the
    canns comparison reproduces); the first 50 ms after the kick move at 0.018 rad/ms
    (drift_after_kick's window, still in the transient)."""
    cann = build_cann("cann_1d", n=128, name="steady", m=0.08)
    assert cann.travel_speed(Network(*cann.objects)) == pytest.approx(0.02165, abs=1e-4)
    early = build_cann("cann_1d", n=128, name="early", m=0.08)
    drift = early.drift_after_kick(Network(*early.objects), kick=0.3, measure=50 * ms)
    assert abs(drift) / 50 == pytest.approx(0.0182, abs=5e-4)
    still = build_cann("cann_1d", n=128, name="still", m=0.0)
    assert abs(still.travel_speed(Network(*still.objects))) < 1e-5


def test_cann_1d_adaptation_makes_the_bump_travel():
    """After a brief off-centre kick, a bump with adaptation (m > tau/tau_v) keeps moving;
    without adaptation it stays where the kick left it."""
    moved = {}
    for m in (0.0, 0.08):
        cann = build_cann("cann_1d", n=128, name=f"cann_m{int(m * 100)}", m=m)
        moved[m] = abs(cann.drift_after_kick(Network(*cann.objects), kick=0.3))
        assert cann.group.u[:].max() > 0.2  # the bump is still there
    assert moved[0.0] < 0.01
    assert moved[0.08] > 0.5
    torus = build_cann("cann_2d", n=8, name="cann_torus_kick")
    with pytest.raises(ValueError, match="1D ring"):
        torus.drift_after_kick(Network(*torus.objects))


def test_build_cann_checks_its_arguments():
    """``n=0`` built the default size, ``"lif"`` failed with ``KeyError: 'J0'``."""
    from brianlab import ModelError

    with pytest.raises(ValueError, match="at least 4 units per dimension, got 0"):
        build_cann(n=0)
    for n in (8.0, "16", True):
        with pytest.raises(ValueError, match="must be an integer"):
            build_cann(n=n)
    with pytest.raises(ModelError, match=r"needs a CANN rate model .*got lif@\d+, a neuron "
                       "model without J0, a"):
        build_cann("lif")
    assert build_cann(n=np.int64(8), name="checked").n == 8
