"""The one encoding of run-time values for a standalone binary: ``group.var=value``.

A compiled Brian2 network (``cpp_standalone``) takes new values of its variables on its
command line, one ``group.variable=value`` argument each; Brian2 writes a single value as
the ``repr`` of the number in SI units, converted to the variable's type first
(``CPPStandaloneDevice._prepare_variableview_run_arg``). :func:`encode` writes that form
(:meth:`DeviceSession.command_line <brianlab.devices.DeviceSession.command_line>` uses it
for Brian2's own variables), :func:`arguments` the whole command line of a point from
plain SI values, without Brian2 (a cached build, a Dask worker). Tested equal to Brian2's
private function.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence

import numpy as np

from .errors import DeviceError

__all__ = ["encode", "arguments", "SEED_TARGET", "CONNECTIVITY_TARGET"]

#: The target whose Brian2 names take a point's drive seed (the hash drive's shared
#: ``drive_seed`` variable of every group that has one).
SEED_TARGET = "drive_seed"
#: The target whose Brian2 names take a point's connectivity seed (the shared ``conn_seed``
#: of every group whose synapses the binary draws: :mod:`brianlab.networks.indegree`; an
#: integer variable, which the binary reads from the float's text as ``atoi`` does).
CONNECTIVITY_TARGET = "conn_seed"


def encode(name: str, si_value: float) -> str:
    """One command-line argument of a standalone binary, as Brian2 writes it.

    Brian2 converts the value to the variable's dtype and writes the ``repr`` of the
    Python number that gives: a float variable gets ``repr(float)`` (``0.01``,
    ``1e-300``, ``-0.0``), an integer variable ``repr(int)`` (``3``), a boolean one
    ``True``/``False`` (the binary reads both spellings). Here the value's own type stands
    for the variable's: a ``bool`` (Python or NumPy) is written as a bool, any other
    integer as an int, everything else as a float; pass the value converted to the
    variable's dtype (``np.asarray(value, dtype).item()``) to get exactly Brian2's text.

    Parameters
    ----------
    name : str
        The Brian2 variable, ``"group.variable"``.
    si_value : float
        The value in SI units (no unit attached).

    Returns
    -------
    str
        ``"group.variable=value"``.

    Raises
    ------
    DeviceError
        If the value is NaN or infinite (the binary would read ``nan``/``inf`` as the
        name of a file of values), or not a number.
    """
    if isinstance(si_value, (bool, np.bool_)):
        return f"{name}={bool(si_value)!r}"
    if isinstance(si_value, numbers.Integral):
        return f"{name}={int(si_value)!r}"
    try:
        if isinstance(si_value, (str, bytes)):
            raise TypeError("text")
        value = float(si_value)
    except (TypeError, ValueError) as exc:
        raise DeviceError(f"{name}: {si_value!r} is not a number (give one value in SI "
                          "units)") from exc
    if not math.isfinite(value):
        raise DeviceError(f"{name}: {value!r} cannot be a run-time value (give a finite "
                          "number in SI units)")
    return f"{name}={value!r}"


def arguments(variables: Mapping[str, str | Sequence[str]], run_values: Mapping[str, float],
              seed: int | None = None) -> tuple[str, ...]:
    """A point's command line: every run-time target's value, encoded once.

    Parameters
    ----------
    variables : Mapping of str to str or sequence of str
        Target -> the Brian2 name (``"group.variable"``) or names it sets, in the order
        the binary receives them (a build's manifest).
    run_values : Mapping of str to float
        Target -> value in SI units; targets not in ``variables`` are an error, targets of
        ``variables`` without a value are left at the build's value.
    seed : int, optional
        The drive seed: sets every Brian2 name listed under :data:`SEED_TARGET`
        (``"drive_seed"``), overriding a value of that target in ``run_values``. The
        variable is a float, so it is written as one (``3.0``, as Brian2 writes it).

    Returns
    -------
    tuple of str
        ``"group.variable=value"`` per Brian2 name, targets in ``variables``' order.

    Raises
    ------
    DeviceError
        If a value's target is not in ``variables`` (naming the known ones), the seed is
        given for a build without a ``drive_seed`` target, or a value is not finite.
    """
    unknown = [target for target in run_values if target not in variables]
    if seed is not None and SEED_TARGET not in variables:
        unknown.append(SEED_TARGET)
    if unknown:
        raise DeviceError(f"no run-time target {', '.join(map(repr, unknown))} in this build; "
                          f"its targets are {', '.join(map(repr, variables)) or 'none'}")
    out = []
    for target, names in variables.items():
        if seed is not None and target == SEED_TARGET:
            value = float(seed)
        elif target in run_values:
            value = run_values[target]
        else:
            continue
        try:
            if isinstance(value, (str, bytes)):
                raise TypeError("text")
            value = float(value)  # run values are SI floats, whatever type they came in
        except (TypeError, ValueError) as exc:
            raise DeviceError(f"{target}: {value!r} is not a number (give one value in SI "
                              "units)") from exc
        for name in ((names,) if isinstance(names, str) else names):
            out.append(encode(name, value))
    return tuple(out)
