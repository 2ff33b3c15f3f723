"""Fixed points and stability derived from the rate model files (sympy), against the source
tutorial's numbers and independent root finding."""

import numpy as np
import pytest
from scipy.optimize import brentq

from brianlab import load_model
from brianlab.analysis.dynamics import classify, eigenvalues, fixed_points, vector_field


def test_single_population_fixed_points_and_eigenvalues():
    """w = 5, I_ext = 0.5: fixed points 0.042, 0.447, 0.900 with eigenvalues -0.583, 0.498,
    -0.626 per ms (Neuromatch W2D4 tutorial 1)."""
    system = load_model("wilson_cowan_1d").ode_system(w=5, I_ext=0.5)
    assert system.states == ("r", "I_ou")
    points = fixed_points(system, [[0.0, 0.0], [0.4, 0.0], [0.9, 0.0]])
    np.testing.assert_allclose(points[:, 0], [0.042, 0.447, 0.900], atol=6e-4)
    np.testing.assert_allclose(points[:, 1], 0.0, atol=1e-12)  # the OU input rests at 0
    per_ms = [eigenvalues(system, p)[-1].real / 1000 for p in points]  # the r direction
    np.testing.assert_allclose(per_ms, [-0.583, 0.498, -0.626], atol=6e-4)
    assert [classify(eigenvalues(system, p)) for p in points] == ["stable", "saddle", "stable"]


def test_wilson_cowan_fixed_points_are_roots_of_the_written_out_equations():
    system = load_model("wilson_cowan").ode_system()
    grid = [[a, b] for a in np.linspace(0, 1, 6) for b in np.linspace(0, 1, 6)]
    points = fixed_points(system, grid)
    assert len(points) >= 2
    np.testing.assert_allclose(points[0], [0.0, 0.0], atol=1e-9)  # F(0) = 0

    def F(x, a, theta):
        return 1 / (1 + np.exp(-a * (x - theta))) - 1 / (1 + np.exp(a * theta))

    for rE, rI in points:
        assert F(9 * rE - 4 * rI, 1.2, 2.8) == pytest.approx(rE, abs=1e-8)
        assert F(13 * rE - 11 * rI, 1.0, 4.0) == pytest.approx(rI, abs=1e-8)


def test_nullclines_cross_at_the_fixed_points():
    system = load_model("wilson_cowan").ode_system()
    xs = ys = np.linspace(-0.01, 1.0, 202)
    dx, dy = vector_field(system, "r_E", "r_I", xs, ys)
    assert dx.shape == (202, 202)
    # along r_I = 0 the E nullcline has dr_E/dt = 0 at r_E = 0 (an independent bracket)
    row = np.argmin(np.abs(ys))
    r0 = brentq(lambda r: np.interp(r, xs, dx[row]), -0.005, 0.004)
    assert r0 == pytest.approx(0.0, abs=1e-3)


def test_unknown_override_is_refused():
    from brianlab import ModelError

    with pytest.raises(ModelError, match="not a parameter or input"):
        load_model("wilson_cowan_1d").ode_system(tau_m=1)
