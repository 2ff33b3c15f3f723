"""Stage 5 of the pipeline: what a point's arrays become (its record and saved arrays).

A reduction runs where the point ran (a sweep worker), so it is named, not passed: a
plan records a :class:`ReductionSpec`, and the worker finds the function through
:data:`REDUCTIONS` (``name -> "module:function"``, imported there by :func:`resolve`).
Every reduction has the signature of :func:`brianlab.sweeps.run_point`'s ``reduce``:
``(arrays, context) -> (arrays to save, record)``, ``context`` a :class:`PointContext`.
"""

from __future__ import annotations

import importlib
import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..analysis.population import population_rate
from ..analysis.population import population_statistics as _statistics
from ..errors import PlanError

__all__ = ["REDUCTIONS", "BIN", "FANO_WINDOW", "ReductionSpec", "PointContext", "resolve",
           "population_statistics", "analysed_length"]

#: Bin of the population rates, spectra and synchrony (s): the gallery's and the default
#: reduction's.
BIN = 1e-3
#: Counting window of the Fano factors (s; half the window analysed where that is shorter).
FANO_WINDOW = 0.05

#: Reductions by name: ``"module:function"``, imported where the point is reduced.
REDUCTIONS: dict[str, str] = {
    "population_statistics": "brianlab.pipeline.reductions:population_statistics",
    "cmsa_phi": "brianlab.cmsa.reduce:cmsa_phi",
}
#: Registered names whose function does not take a :class:`PointContext` yet, and why.
_PENDING: dict[str, str] = {}


@dataclass(frozen=True)
class ReductionSpec:
    """The reduction of a plan's points.

    Parameters
    ----------
    name : str
        A key of :data:`REDUCTIONS`.
    options : tuple of (str, object)
        JSON values, passed on in :attr:`PointContext.options`.
    """

    name: str = "population_statistics"
    options: tuple[tuple[str, object], ...] = ()

    def as_dict(self) -> dict:
        """JSON-ready form (:func:`brianlab.pipeline.plan.reduction_from_dict` reads it back).

        Returns
        -------
        dict
        """
        return {"name": self.name, "options": [[k, v] for k, v in self.options]}


@dataclass(frozen=True)
class PointContext:
    """What a reduction may know of its point (picklable: it travels to a worker).

    Parameters
    ----------
    key : str
        The point's file name.
    network : dict
        The network's reference (``NetworkRef.as_dict()``).
    values : dict
        The point's grid and ``--set`` values (SI).
    seed : int
        The drive seed.
    populations : dict
        Population name -> size.
    lattices : dict
        Population name -> lattice sides (empty for populations without one).
    dt_s : float
        The time step (s).
    phases : tuple of (str, float, float)
        Protocol phases: name, start and stop (s).
    t_start_s : float
        Start of the analysed window (s).
    options : dict
        The reduction's options (JSON values).
    provenance : dict
        The models' and the network's records.
    """

    key: str
    network: dict
    values: dict
    seed: int
    populations: dict
    lattices: dict
    dt_s: float
    phases: tuple[tuple[str, float, float], ...]
    t_start_s: float
    options: dict = field(default_factory=dict)
    provenance: dict = field(default_factory=dict)

    @property
    def stop_s(self) -> float:
        """End of the recording (s): the last phase's stop, 0 without phases."""
        return max((float(stop) for _, _, stop in self.phases), default=0.0)


def resolve(name: str) -> Callable:
    """The reduction function registered as ``name`` (imported now).

    Parameters
    ----------
    name : str
        A key of :data:`REDUCTIONS`.

    Returns
    -------
    callable
        ``(arrays, context: PointContext) -> (arrays to save, record)``.

    Raises
    ------
    PlanError
        For an unknown name (the message lists the registered ones), or a registered one
        whose function does not take a :class:`PointContext` yet.
    """
    if name not in REDUCTIONS:
        raise PlanError(f"unknown reduction {name!r}; registered: {', '.join(sorted(REDUCTIONS))}")
    if name in _PENDING:
        raise PlanError(f"reduction {name!r} cannot run on the pipeline yet: {_PENDING[name]}")
    module, _, function = REDUCTIONS[name].partition(":")
    return getattr(importlib.import_module(module), function)


def analysed_length(stop: float, t_start: float) -> float:
    """Length analysed from ``t_start`` to ``stop``: a whole number of :data:`BIN`.

    Parameters
    ----------
    stop, t_start : float
        Seconds.

    Returns
    -------
    float
        Seconds (0 or more).
    """
    return max(0.0, float(np.floor((stop - t_start) / BIN + 1e-6) * BIN))


def population_statistics(arrays: dict, context: PointContext) -> tuple[dict, dict]:
    """The default reduction: each recorded population's statistics.

    For every population ``P`` with spikes in ``arrays`` (``spikes_P_i``, ``spikes_P_t``
    in s, as the builder names them):
    :func:`~brianlab.analysis.population.population_statistics` from
    ``context.t_start_s`` to the end of the last phase (bins of :data:`BIN`, Fano
    windows of :data:`FANO_WINDOW` or half the analysed length if that is shorter).

    Parameters
    ----------
    arrays : dict
        The point's arrays, by output name.
    context : PointContext
        The point.

    Returns
    -------
    arrays : dict
        To save: ``P_i`` (int32), ``P_t`` (float64, s) and ``P_rate`` (float32, Hz, the
        population rate in bins of :data:`BIN` over the analysed window).
    record : dict
        ``values``, ``seed``, ``statistics`` (population -> the statistics) and
        ``t_start_s``, ``length_s``.
    """
    start = float(context.t_start_s)
    length = analysed_length(context.stop_s, start)
    saved, statistics = {}, {}
    for pop in sorted(context.populations):
        if f"spikes_{pop}_i" not in arrays:
            continue
        i = np.asarray(arrays[f"spikes_{pop}_i"]).astype(np.int32, copy=False)
        t = np.asarray(arrays[f"spikes_{pop}_t"], dtype=np.float64)
        n = int(context.populations[pop])
        saved[f"{pop}_i"], saved[f"{pop}_t"] = i, t
        if length <= 0:
            continue
        statistics[pop] = _statistics(i, t, n, length, t_start=start, bin=BIN,
                                      window=min(FANO_WINDOW, length / 2))
        _, rate = population_rate(t[(t >= start) & (t < start + length)], n, length, BIN,
                                  t_start=start)
        saved[f"{pop}_rate"] = np.asarray(rate, dtype=np.float32)
    record = {"values": dict(context.values), "seed": int(context.seed),
              "statistics": {pop: {k: (None if isinstance(v, float) and not math.isfinite(v)
                                       else v) for k, v in s.items()}
                             for pop, s in statistics.items()},
              "t_start_s": start, "length_s": length}
    return saved, record
