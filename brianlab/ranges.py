"""Physical ranges of parameter values: what a value's dimension says it may be.

The rules are dimension-based, so they hold for every model file without new
model versions, and they apply both to a file's defaults (when it is loaded) and
to the overrides given when a group is built:

- every value is finite (``1e999 mV`` or ``nan`` is never a parameter);
- a time (a time constant, a delay) is positive; the parameter a neuron names as its
  ``refractory`` period may also be zero (no refractoriness), never negative;
- a capacitance (or a specific capacitance, per area) is positive;
- a conductance (or conductance density) whose name starts with ``g`` (``g_L``,
  ``g_max``, ``g_Na``) is not negative; other conductances (the subthreshold
  coupling ``a`` of an adaptive neuron) may take either sign.

Some models are valid only for some values *and* time steps: :data:`VALIDITY` holds
these limits by model name (``poisson``: ``rate*dt <= 0.1``), checked when a group is
built (:func:`validity_problem`), so they hold for released files without new versions.

Pure Brian2 units; no Brian2 objects are created here.
"""

from __future__ import annotations

import numpy as np
from brian2 import farad, metre, second, siemens
from brian2.units.fundamentalunits import get_dimensions, have_same_dimensions

from .modelformat import MAX_RATE_DT  # a limit of the format (tier 1)
from .units import ModelError

__all__ = ["range_problem", "check_range", "validity_problem", "VALIDITY", "MAX_RATE_DT"]

#: Limits of validity by model name: ``(variable, largest variable*dt, why)``; checked for
#: the values known when a group is built (:func:`validity_problem`).
VALIDITY = {
    "poisson": (("rate", MAX_RATE_DT,
                 "the model fires with probability rate*dt per time step, valid only while "
                 "rate*dt << 1 (at most one spike per step); lower the rate or dt"),),
}

_CAPACITANCE = (farad, farad / metre**2)
_CONDUCTANCE = (siemens, siemens / metre**2)


def range_problem(name: str, value, *, refractory: str | None = None) -> str | None:
    """What is physically wrong with ``name = value``, or ``None`` if nothing is.

    Parameters
    ----------
    name : str
        The parameter's name.
    value : Quantity or float
        Its value.
    refractory : str, optional
        The name of the model's refractory-period parameter (may be zero).

    Returns
    -------
    str or None
        A sentence naming the problem.
    """
    number = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(number)):
        return f"{name} = {value} is not a finite number"
    dim = get_dimensions(value)
    if have_same_dimensions(dim, second):
        if name == refractory:
            if np.any(number < 0):
                return f"{name} = {value}: a refractory period cannot be negative"
        elif np.any(number <= 0):
            return f"{name} = {value}: a time constant or delay must be positive"
    elif any(have_same_dimensions(dim, unit) for unit in _CAPACITANCE):
        if np.any(number <= 0):
            return f"{name} = {value}: a capacitance must be positive"
    elif name.startswith("g") and any(have_same_dimensions(dim, unit) for unit in _CONDUCTANCE):
        if np.any(number < 0):
            return f"{name} = {value}: a conductance cannot be negative"
    return None


def check_range(name: str, value, *, refractory: str | None = None, where=None, path=None):
    """Raise :class:`~brianlab.errors.ModelError` if ``name = value`` is physically impossible.

    Parameters
    ----------
    name : str
        The parameter's name.
    value : Quantity or float
        Its value.
    refractory : str, optional
        The name of the model's refractory-period parameter (may be zero).
    where : str, optional
        Where the value comes from (for the message).
    path : str or Path, optional
        The model file (for the message).

    Raises
    ------
    ModelError
        With the problem :func:`range_problem` finds.
    """
    problem = range_problem(name, value, refractory=refractory)
    if problem:
        raise ModelError(problem, path=path, where=where)


def validity_problem(model_name: str, values: dict, dt, *, label: str | None = None) -> str | None:
    """What breaks a model's limit of validity (:data:`VALIDITY`) at time step ``dt``.

    Parameters
    ----------
    model_name : str
        The model's name (``"poisson"``); every version shares the limits.
    values : dict
        Variable or parameter name to value (a Quantity, scalar or one per neuron);
        names the limits do not mention are ignored.
    dt : Quantity
        The time step of the group.
    label : str, optional
        How the message names the model (default: ``model_name``; e.g. ``"poisson@1"``).

    Returns
    -------
    str or None
        A sentence naming the model, the value, ``dt`` and the rule; ``None`` if all hold.
    """
    for name, limit, why in VALIDITY.get(model_name, ()):
        if name not in values:
            continue
        value = values[name]
        product = np.abs(np.asarray(value * dt, dtype=float))
        if product.size and float(product.max()) > limit:
            peak = value if np.ndim(value) == 0 else np.max(np.abs(value))
            step = f"{float(dt / second) * 1e3:g} ms"
            return (f"{label or model_name}: {name} = {peak} at dt = {step} gives {name}*dt = "
                    f"{float(product.max()):.3g}, above {limit}: {why}")
    return None
