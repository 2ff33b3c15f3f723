"""Fixed points, their stability, and nullclines of a rate model's ODEs.

Works on an ODE system of sympy expressions (``Model.ode_system()``), so nothing is
hand-copied from a model file: the Jacobian is differentiated symbolically, roots
are found numerically (scipy), eigenvalues come from numpy. Time derivatives are in
SI units (per second).
"""

from __future__ import annotations

import numpy as np
import sympy
from scipy.optimize import root

__all__ = ["fixed_points", "jacobian", "eigenvalues", "classify", "vector_field"]


def _symbols(system):
    by_name = {}
    for expr in system.rhs.values():
        for sym in expr.free_symbols:
            by_name.setdefault(sym.name, sym)
    return [by_name.get(name, sympy.Symbol(name)) for name in system.states]


def _functions(system):
    syms = _symbols(system)
    f = sympy.lambdify([syms], [system.rhs[s] for s in system.states], "numpy")
    jac = sympy.Matrix([system.rhs[s] for s in system.states]).jacobian(syms)
    j = sympy.lambdify([syms], jac, "numpy")
    return f, j


def jacobian(system, point) -> np.ndarray:
    """The Jacobian matrix of the ODEs at a point, differentiated symbolically.

    Parameters
    ----------
    system : OdeSystem
        From :meth:`Model.ode_system`.
    point : array-like
        Values of the states, ordered like ``system.states``.

    Returns
    -------
    ndarray
        ``(states, states)``, per second.
    """
    _, j = _functions(system)
    return np.asarray(j(np.asarray(point, dtype=float)), dtype=float)


def eigenvalues(system, point) -> np.ndarray:
    """Eigenvalues of the Jacobian at a point, sorted by real part.

    Parameters
    ----------
    system : OdeSystem
        From :meth:`Model.ode_system`.
    point : array-like
        Values of the states, ordered like ``system.states``.

    Returns
    -------
    ndarray
        Complex eigenvalues, per second.
    """
    values = np.linalg.eigvals(jacobian(system, point))
    return values[np.argsort(values.real)]


def classify(values, tol: float = 1e-9) -> str:
    """Stability of a fixed point from its eigenvalues.

    Parameters
    ----------
    values : array-like
        Eigenvalues.
    tol : float
        Real parts within ``tol`` of 0 count as 0.

    Returns
    -------
    str
        ``"stable"`` (all real parts < 0), ``"unstable"`` (all > 0), ``"saddle"`` or
        ``"marginal"``.
    """
    real = np.real(values)
    if np.all(real < -tol):
        return "stable"
    if np.all(real > tol):
        return "unstable"
    if np.any(real > tol) and np.any(real < -tol):
        return "saddle"
    return "marginal"


def fixed_points(system, guesses, *, tol: float = 1e-9) -> np.ndarray:
    """Distinct fixed points found from initial guesses (scipy's ``root``, with the Jacobian).

    Parameters
    ----------
    system : OdeSystem
        From :meth:`Model.ode_system`.
    guesses : array-like
        ``(n, states)``: one start per row.
    tol : float
        Kept for compatibility; roots are accepted where the rates of change vanish to
        ``1e-6`` of the guess's scale and merged within ``1e-6``.

    Returns
    -------
    ndarray
        ``(m, states)``, sorted by the first state variable.
    """
    f, j = _functions(system)
    found = []
    for guess in np.atleast_2d(np.asarray(guesses, dtype=float)):
        sol = root(lambda x: np.asarray(f(x), dtype=float), guess,
                   jac=lambda x: np.asarray(j(x), dtype=float), method="hybr", tol=1e-14)
        if not sol.success or np.max(np.abs(f(sol.x))) > 1e-6 * max(1.0, np.abs(guess).max()):
            continue
        if not any(np.allclose(sol.x, p, atol=1e-6) for p in found):
            found.append(sol.x)
    points = np.array(found).reshape(-1, len(system.states))
    return points[np.argsort(points[:, 0])] if len(points) else points


def vector_field(system, x: str, y: str, xs, ys, fixed: dict | None = None):
    """``d x/dt`` and ``d y/dt`` on the grid ``xs`` x ``ys``.

    Their zero contours are the nullclines: ``plt.contour(xs, ys, dx, [0])``.

    Parameters
    ----------
    system : OdeSystem
        From :meth:`Model.ode_system`.
    x, y : str
        The two states on the axes.
    xs, ys : array-like
        Grid axes.
    fixed : dict, optional
        Values of the other states (default 0).

    Returns
    -------
    dx, dy : ndarray
        ``(len(ys), len(xs))``, per second.
    """
    f, _ = _functions(system)
    fixed = fixed or {}
    X, Y = np.meshgrid(np.asarray(xs, float), np.asarray(ys, float))
    state = [X if s == x else Y if s == y else np.full_like(X, fixed.get(s, 0.0))
             for s in system.states]
    values = f(state)
    out = {s: np.broadcast_to(np.asarray(v, dtype=float), X.shape) for s, v in
           zip(system.states, values)}
    return out[x], out[y]
