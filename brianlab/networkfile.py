"""Read one TOML network file into a checked, immutable :class:`NetworkFile`.

A network file declares populations (neuron or rate models from the library, their
sizes or lattices, receptors, parameter overrides and initial values), projections
(synapse model, connector, weights, delays), inputs, monitors, a protocol of named
phases, named run-time parameters and the seeds. Every value is unit-checked against
the models it refers to when the file is loaded; nothing in the file is ever evaluated
as Python (values go through :func:`brianlab.units.parse_quantity`, parameter
expressions through the small :mod:`ast` evaluator of this module). This module never
builds Brian2 objects: :meth:`NetworkFile.build` hands the file to
:func:`brianlab.networks.builder.build_network`.
"""

from __future__ import annotations

import ast
import hashlib
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
from brian2 import Equations, Hz, Quantity, second
from brian2.core.namespace import DEFAULT_UNITS
from brian2.equations.equations import PARAMETER, SUBEXPRESSION
from brian2.units.fundamentalunits import (DIMENSIONLESS, DimensionMismatchError, get_dimensions,
                                           have_same_dimensions)

from .compose import compose
from .modelfile import Model, describe_dimension
from .modelformat import RESERVED_NAMES, _check_sizes, decode_file, load_toml, read_model_bytes
from .netformat import (  # noqa: F401  (the format's names, importable from here as before)
                        _IDENT, _INPUT_RUNTIME, _NAME, _REQUIRED, _TABLE_TITLES, CONNECTOR_RULES,
                        INPUT_KINDS, KEY_DOCS, MAX_NEURONS, NORMALISATIONS, PUBLISHED_STATISTICS,
                        RawNetwork, _phases, _type, apply_structure, check_object_names,
                        check_table, format_reference, raw_network)
from .pipeline.reductions import REDUCTIONS, ReductionSpec
from .ranges import MAX_RATE_DT, check_range  # one rate*dt rule: ranges.VALIDITY's too
from .space import Lattice, expected_indegree
from .units import ModelError, parse_quantity, parse_unit, unit_string

__all__ = ["NetworkFile", "NetworkParameter", "Population", "Projection", "Connector",
           "Input", "Monitors", "StateMonitorSpec", "Phase", "Value", "KEY_DOCS",
           "format_reference", "read_network_file", "parse_network_bytes",
           "parse_network_text", "evaluate_expression", "MAX_NEURONS", "MAX_RATE_DT",
           "CONNECTOR_RULES", "INPUT_KINDS", "NORMALISATIONS", "Published",
           "PUBLISHED_STATISTICS", "read_network", "with_structure"]


class _FrozenDict(dict):
    """A read-only dict (the tables of a :class:`NetworkFile`); unlike a mappingproxy it
    pickles, so a parsed network can be sent to worker processes."""

    def _refuse(self, *args, **kwargs):
        raise TypeError("a network file's tables are read-only")

    __setitem__ = __delitem__ = __ior__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse

    def __reduce__(self):
        return (_FrozenDict, (dict(self),))

    def __repr__(self):
        return f"_FrozenDict({dict.__repr__(self)})"


def _freeze(d) -> _FrozenDict:
    return _FrozenDict(d)


def _brian2_text(q: Quantity) -> str:
    """A quantity as Brian2 expression text in SI base units (exact: ``repr`` of a float)."""
    value = repr(float(q))
    unit = unit_string(get_dimensions(q))
    return value if unit == "1" else f"{value}*{unit}"


# ---------------------------------------------------------------------------
# the data model
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Value:
    """A value of a network file: a constant quantity or a random distribution.

    Parameters
    ----------
    kind : str
        ``"constant"``, ``"uniform"`` (``args = (low, high)``) or ``"normal"``
        (``args = (mean, std)``).
    args : tuple of Quantity
        One quantity for a constant, two for a distribution (same dimension).
    """

    kind: str
    args: tuple

    @property
    def is_random(self) -> bool:
        """Whether the value is drawn at random (uses the connectivity seed)."""
        return self.kind != "constant"

    @property
    def quantity(self) -> Quantity | None:
        """The constant's quantity (None for a distribution)."""
        return self.args[0] if self.kind == "constant" else None

    @property
    def dim(self):
        """The Brian2 dimension of the value."""
        return get_dimensions(self.args[0])

    def brian2_expression(self) -> str:
        """Brian2 expression text that sets the value on every device.

        Returns
        -------
        str
            ``"-0.06*volt"`` for a constant, ``"low + (high - low)*rand()"`` or
            ``"mean + std*randn()"`` (numbers in SI base units) for a distribution.
        """
        if self.kind == "constant":
            return _brian2_text(self.args[0])
        if self.kind == "uniform":
            low, high = self.args
            width = Quantity(float(f"{float(high) - float(low):.15g}"), dim=self.dim)
            return f"{_brian2_text(low)} + ({_brian2_text(width)})*rand()"
        mean, std = self.args
        return f"{_brian2_text(mean)} + ({_brian2_text(std)})*randn()"

    def describe(self) -> str:
        """Short human-readable text (``"-55. mV"``, ``"normal(-55. mV, 5. mV)"``).

        Returns
        -------
        str
        """
        if self.kind == "constant":
            return str(self.args[0])
        return f"{self.kind}({', '.join(str(a) for a in self.args)})"


@dataclass(frozen=True)
class NetworkParameter:
    """A named run-time parameter: changing it needs no rebuild (a sweep compiles once).

    Parameters
    ----------
    name : str
        The parameter's name (an identifier).
    value : Quantity
        Its default value.
    sets : mapping of str to (str or None)
        Each target ``"object.variable"`` (a population, projection or input name and a
        run-time variable of it) with the expression of network parameters that gives its
        value, or None when the target takes this parameter's value itself.
    """

    name: str
    value: Quantity
    sets: _FrozenDict


@dataclass(frozen=True)
class Population:
    """A population: ``size`` neurons of one model (with receptors), or a lattice.

    Parameters
    ----------
    name : str
        The population's name (Brian2 objects built from it are named after it).
    model : str
        Neuron or rate model reference, pinned (``"lif@2"``).
    size : int
        Number of neurons (``side**2`` on a lattice).
    lattice : tuple of (int, float) or None
        ``(side, extent)`` of a square lattice on a torus (see
        :class:`brianlab.space.Lattice`; ``extent`` defaults to ``side``), or None.
    receptors : mapping of str to str
        Receptor label -> receptor model reference (as :func:`brianlab.compose`).
    parameters : mapping of str to Quantity
        Overrides of the composed model's parameters.
    initial : mapping of str to Value
        Initial values of state variables (constants or distributions).
    """

    name: str
    model: str
    size: int
    lattice: tuple | None = None
    receptors: _FrozenDict = field(default_factory=lambda: _freeze({}))
    parameters: _FrozenDict = field(default_factory=lambda: _freeze({}))
    initial: _FrozenDict = field(default_factory=lambda: _freeze({}))


@dataclass(frozen=True)
class Connector:
    """How a projection connects: a rule and its fields.

    Parameters
    ----------
    rule : str
        One of :data:`CONNECTOR_RULES`.
    p : float, optional
        Pairwise probability (``probability``).
    k : int, optional
        In- or out-degree (``fixed_indegree``, ``fixed_outdegree``,
        ``gaussian_fixed_indegree``).
    sigma : float, optional
        Gaussian width in spacings of the source lattice's torus unit (lattice rules).
    p_max : float, optional
        Peak probability (``gaussian_probability``).
    normalise : str
        Weight normalisation of the lattice rules (:data:`NORMALISATIONS`).
    """

    rule: str
    p: float | None = None
    k: int | None = None
    sigma: float | None = None
    p_max: float | None = None
    normalise: str = "none"

    @property
    def spatial(self) -> bool:
        """Whether the rule is one of the Gaussian lattice rules."""
        return self.rule.startswith("gaussian_")


@dataclass(frozen=True)
class Projection:
    """Synapses from one population to another.

    Parameters
    ----------
    name : str
        The projection's name.
    source, target : str
        Population names.
    synapse : str
        Synapse model reference.
    receptor : str or None
        Receptor label of the target whose input (``s_<label>``) the synapse drives.
    target_var : str or None
        Or the target variable driven directly (e.g. ``v`` for a delta synapse).
    connector : Connector
        The connection rule.
    weight : Value or None
        Initial ``w`` of every synapse (None: the synapse model's initial value).
    delay : Value or None
        Transmission delay (None: the model's, or none).
    shared : tuple of str
        Synapse variables held as one shared value (run-time targets ``name.var``).
    autapses, multapses : bool
        Whether a neuron may connect to itself, and a pair more than once.
    parameters : mapping of str to Quantity
        Overrides of the synapse model's parameters.
    """

    name: str
    source: str
    target: str
    synapse: str
    receptor: str | None
    target_var: str | None
    connector: Connector
    weight: Value | None = None
    delay: Value | None = None
    shared: tuple = ()
    autapses: bool = False
    multapses: bool = False
    parameters: _FrozenDict = field(default_factory=lambda: _freeze({}))


@dataclass(frozen=True)
class Input:
    """An input to a population.

    Parameters
    ----------
    name : str
        The input's name (phases switch inputs off by it).
    kind : str
        One of :data:`INPUT_KINDS`: ``poisson_input`` (``count`` independent Poisson
        sources per neuron at ``rate``, each spike adding ``weight`` to the target
        variable), ``current_step`` (``amplitude`` from ``start`` to ``stop``),
        ``current_ramp`` (linear from ``amplitude_start`` at ``start`` to
        ``amplitude_end`` at ``stop``), ``random_current`` (the sheet's hash drive: every
        ``interval`` a fresh uniform current in ``[0, amplitude]`` per neuron, until
        ``duration``), ``image`` (``amplitude`` times an image in [0, 1] on a lattice
        population, from ``start`` to ``stop``).
    target : str
        Population name.
    target_var : str or None
        The target's variable driven (currents: default ``I_ext``).
    receptor : str or None
        Or the receptor label whose input the input drives (``poisson_input``).
    fields : mapping
        The kind's fields: quantities (``rate``, ``weight``, ``amplitude``, ``start``,
        ...), ints (``count``, ``width``) or strings (``image``).
    """

    name: str
    kind: str
    target: str
    target_var: str | None
    receptor: str | None
    fields: _FrozenDict

    def __getitem__(self, key):
        return self.fields[key]

    def get(self, key, default=None):
        """A field's value, or ``default``.

        Parameters
        ----------
        key : str
            Field name.
        default : object, optional
            Returned when the field is absent.

        Returns
        -------
        object
        """
        return self.fields.get(key, default)


@dataclass(frozen=True)
class StateMonitorSpec:
    """A state monitor on a population.

    Parameters
    ----------
    population : str
        Population name.
    variables : tuple of str
        Variables recorded.
    record : tuple of int or True
        Neuron indices (True: all).
    dt : Quantity or None
        Sampling interval (None: the network's ``dt``).
    window : tuple of Quantity or None
        ``(start, stop)``: the monitor records only the steps from ``start`` to before
        ``stop`` (None: the whole run).
    """

    population: str
    variables: tuple
    record: tuple | bool = True
    dt: Quantity | None = None
    window: tuple | None = None


@dataclass(frozen=True)
class Monitors:
    """What is recorded.

    Parameters
    ----------
    spikes : tuple of str
        Populations with a SpikeMonitor.
    rates : tuple of str
        Populations with a PopulationRateMonitor.
    state : tuple of StateMonitorSpec
        State monitors.
    """

    spikes: tuple = ()
    rates: tuple = ()
    state: tuple = ()


@dataclass(frozen=True)
class Phase:
    """One phase of the protocol.

    Parameters
    ----------
    name : str
        The phase's name.
    duration : Quantity
        How long it runs (> 0).
    inputs_off : tuple of str
        Inputs switched off during the phase.
    parameters : mapping of str to Quantity
        Network parameters set for the phase's duration (run-time values).
    """

    name: str
    duration: Quantity
    inputs_off: tuple = ()
    parameters: _FrozenDict = field(default_factory=lambda: _freeze({}))


@dataclass(frozen=True)
class Published:
    """One published behaviour of a network: a statistic of a population within a range.

    Parameters
    ----------
    population : str
        The population measured.
    statistic : str
        A key of :func:`brianlab.analysis.population.population_statistics` (one of
        :data:`PUBLISHED_STATISTICS`).
    low, high : float
        The range, in the statistic's unit (Hz for rates and frequencies, else
        dimensionless); ``-inf`` / ``inf`` where the source gives one bound only.
    source : str
        Where it is published (paper, figure or table).
    parameters : mapping of str to Quantity
        Named network parameter values at which it holds (the file's defaults otherwise).
    t_start : Quantity
        Transient left out of the measurement (from the run's start).
    """

    population: str
    statistic: str
    low: float
    high: float
    source: str
    parameters: _FrozenDict = field(default_factory=lambda: _freeze({}))
    t_start: Quantity = field(default_factory=lambda: 0.0 * second)

    @property
    def unit(self) -> str:
        """The statistic's unit (``"Hz"`` or ``"1"``)."""
        return PUBLISHED_STATISTICS[self.statistic]

    def contains(self, value: float) -> bool:
        """Whether a measured value lies in the published range.

        Parameters
        ----------
        value : float
            The statistic measured, in :attr:`unit` (NaN never lies in the range).

        Returns
        -------
        bool
        """
        return bool(self.low <= value <= self.high)

    def range_text(self) -> str:
        """The range as text.

        Returns
        -------
        str
            ``"5-10 Hz"``, ``">= 0.8"`` or ``"<= 2 Hz"``.
        """
        unit = "" if self.unit == "1" else f" {self.unit}"
        if math.isinf(self.high):
            return f">= {self.low:g}{unit}"
        if math.isinf(self.low):
            return f"<= {self.high:g}{unit}"
        return f"{self.low:g}-{self.high:g}{unit}"


@dataclass(frozen=True, eq=False)
class NetworkFile:
    """A checked network file (see the network file guide for every key).

    Obtain it with :func:`brianlab.load_network` (from the library, lock-checked) or
    :func:`read_network_file` (any path). It is data only; :meth:`build` builds it.

    Parameters
    ----------
    name : str
        The network's name; ``ref`` is ``"name@version"``.
    version : int
        Its version.
    summary, notes : str
        One line, and free text.
    references : tuple of str
        The papers the network follows.
    dt : Quantity
        The network's time step.
    seeds : mapping of str to int
        ``connectivity`` (construction) and ``drive`` (run time).
    parameters : mapping of str to NetworkParameter
        Named run-time parameters.
    populations : mapping of str to Population
        In file order (the build order).
    projections : mapping of str to Projection
        In file order.
    inputs : mapping of str to Input
        In file order.
    monitors : Monitors
        What is recorded.
    protocol : tuple of Phase
        The phases, in order.
    published : tuple of Published
        The published behaviour the network must show (``[[published]]``).
    reduction : ReductionSpec or None
        The file's ``[reduction]``: its ``name`` (a key of
        :data:`brianlab.pipeline.reductions.REDUCTIONS`) and, where the file gives
        ``t_start``, the option ``("t_start_s", seconds)``; None without the table (the
        default reduction).
    sha256 : str
        Hash of the file's bytes.
    path : str or None
        The file read.
    status : str
        ``released``, ``unreleased``, ``modified`` or ``file`` (as models).
    raw : dict or None
        The file's TOML table as read (what :func:`with_structure` changes); None for a
        network made in code. Not part of equality.
    """

    name: str
    version: int
    summary: str
    references: tuple
    notes: str
    dt: Quantity
    seeds: _FrozenDict
    parameters: _FrozenDict
    populations: _FrozenDict
    projections: _FrozenDict
    inputs: _FrozenDict
    monitors: Monitors
    protocol: tuple
    published: tuple = ()
    reduction: ReductionSpec | None = None
    sha256: str = ""
    path: str | None = None
    status: str = "file"
    raw: dict | None = field(default=None, compare=False, repr=False)

    @property
    def ref(self) -> str:
        """``"name@version"``, as recorded in results."""
        return f"{self.name}@{self.version}"

    @property
    def provenance(self) -> dict:
        """``{"name", "version", "sha256", "status"}`` of the file (no path)."""
        return {"name": self.name, "version": self.version, "sha256": self.sha256,
                "status": self.status}

    @property
    def duration(self) -> Quantity:
        """Total duration of the protocol."""
        total = Quantity(0.0, dim=get_dimensions(self.dt))
        for phase in self.protocol:
            total = total + phase.duration
        return total

    def expected_synapses(self) -> int:
        """Synapses the network's projections make (expected, for random rules).

        ``all_to_all``: sources x targets; ``one_to_one``: targets; ``probability``: p x
        sources x targets; ``fixed_indegree`` and ``gaussian_fixed_indegree``: k x
        targets; ``fixed_outdegree``: k x sources; ``gaussian_probability``: p_max times
        the kernel's sum per target (:func:`brianlab.space.kernel_sum`); ``gaussian_kernel``:
        every source within the Gaussian's cutoff. An upper bound where autapses are left
        out.

        Returns
        -------
        int
        """
        return int(round(sum(self.expected_synapses_by_projection().values())))

    def expected_synapses_by_projection(self) -> dict:
        """:meth:`expected_synapses` of each projection.

        Returns
        -------
        dict
            Projection name -> expected synapses (float).
        """
        out = {}
        for name, proj in self.projections.items():
            src, tgt = self.populations[proj.source], self.populations[proj.target]
            conn = proj.connector
            if conn.rule == "all_to_all":
                out[name] = float(src.size * tgt.size)
            elif conn.rule == "one_to_one":
                out[name] = float(tgt.size)
            elif conn.rule == "probability":
                out[name] = conn.p * src.size * tgt.size
            elif conn.rule in ("fixed_indegree", "gaussian_fixed_indegree"):
                out[name] = float(conn.k * tgt.size)
            elif conn.rule == "fixed_outdegree":
                out[name] = float(conn.k * src.size)
            else:  # the Gaussian rules on lattices
                source, target = (Lattice(side, None if extent is None else float(extent))
                                  for side, extent in (src.lattice, tgt.lattice))
                out[name] = tgt.size * expected_indegree(
                    conn.rule.removeprefix("gaussian_"), source, target, conn.sigma,
                    conn.p_max or 1.0)
        return out

    def __repr__(self):
        return f"<NetworkFile {self.ref}: {self.summary}>"

    def parameter_values(self, **changes) -> dict:
        """The network parameters' values with ``changes`` applied.

        Parameters
        ----------
        **changes
            New values by parameter name (quantities or quantity strings).

        Returns
        -------
        dict
            Parameter name -> Quantity, for every parameter.

        Raises
        ------
        ModelError
            For an unknown parameter or a value in the wrong unit.
        """
        values = {name: par.value for name, par in self.parameters.items()}
        for name, value in changes.items():
            if name not in self.parameters:
                known = ", ".join(self.parameters) or "none"
                raise ModelError(f"{self.ref} has no parameter {name!r}; its parameters: "
                                 f"{known}")
            where = f"parameters.{name}"
            try:
                quantity = value if isinstance(value, Quantity) else parse_quantity(value)
            except ModelError as exc:
                raise ModelError(exc.reason, path=self.ref, where=where) from None
            if not have_same_dimensions(quantity, values[name]):
                raise ModelError(f"expected a value in {_dim_text(values[name])}, got "
                                 f"{quantity}", path=self.ref, where=where)
            values[name] = Quantity(quantity)
        return values

    def run_values(self, **changes) -> dict:
        """The value of every parameter target (``"object.variable"``), changes applied.

        Expressions of parameters (``sets = {"IE.w" = "-g*J"}``) are evaluated with the
        safe evaluator of this module.

        Parameters
        ----------
        **changes
            New values of network parameters by name (quantities or quantity strings).

        Returns
        -------
        dict
            ``"object.variable"`` -> Quantity, for every target of every parameter.

        Raises
        ------
        ModelError
            For an unknown parameter, a value in the wrong unit, or an expression that
            cannot be evaluated.
        """
        values = self.parameter_values(**changes)
        out = {}
        for name, par in self.parameters.items():
            for target, expression in par.sets.items():
                if expression is None:
                    out[target] = values[name]
                else:
                    out[target] = evaluate_expression(
                        expression, values, path=self.ref,
                        where=f"parameters.{name}.sets.{target}")
        return out

    def build(self, *, device=None, seed=None, drive_seed=None, **changes):
        """Build the network's Brian2 objects (see :func:`brianlab.networks.builder.build_network`).

        Parameters
        ----------
        device : str, optional
            ``runtime``, ``cpp_standalone`` or ``cuda_standalone``.
        seed : int, optional
            Connectivity seed (default: the file's ``seeds.connectivity``).
        drive_seed : int, optional
            Drive seed (default: the file's ``seeds.drive``).
        **changes
            Network parameter values.

        Returns
        -------
        BuiltNetwork
        """
        from .networks.builder import build_network

        return build_network(self, device=device, seed=seed, drive_seed=drive_seed, **changes)


def _dim_text(q) -> str:
    return describe_dimension(get_dimensions(q))


# ---------------------------------------------------------------------------
# the safe expression evaluator
# ---------------------------------------------------------------------------
#: Longest parameter expression accepted (characters).
MAX_EXPRESSION = 200
_MAX_NODES = 100


def evaluate_expression(text: str, values: dict, *, path=None, where=None) -> Quantity:
    """Evaluate an arithmetic expression of network parameters and units, safely.

    Allowed: numbers, parameter names (``values``), Brian2 unit names, ``+ - * /``,
    ``**`` with a plain-number exponent, unary signs and parentheses. Calls, attribute
    access, subscripts and everything else are refused; nothing is passed to
    :func:`eval`.

    Parameters
    ----------
    text : str
        The expression (``"-g*J"``).
    values : dict
        Parameter name -> Quantity.
    path, where : str, optional
        File and key named in errors.

    Returns
    -------
    Quantity

    Raises
    ------
    ModelError
        For a refused construct, an unknown name or inconsistent units.
    """
    if not isinstance(text, str):
        raise ModelError(f"expected an expression string, got {type(text).__name__}",
                         path=path, where=where)
    if len(text) > MAX_EXPRESSION:
        raise ModelError(f"expression of {len(text)} characters; at most {MAX_EXPRESSION}",
                         path=path, where=where)
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        raise ModelError(f"cannot read the expression {text!r}", path=path,
                         where=where) from None
    if sum(1 for _ in ast.walk(tree)) > _MAX_NODES:
        raise ModelError(f"expression {text!r} is too complex", path=path, where=where)

    def fail(message):
        return ModelError(f"{message} in the expression {text!r} (allowed: numbers, "
                          "parameter names, units, + - * / **, parentheses)", path=path,
                          where=where)

    def value(node):
        if isinstance(node, ast.Constant):
            if type(node.value) in (int, float):
                return Quantity(float(node.value))
            raise fail(f"the constant {node.value!r} is not a number")
        if isinstance(node, ast.Name):
            if node.id in values:
                return Quantity(values[node.id])
            if node.id in DEFAULT_UNITS:
                return Quantity(1.0 * DEFAULT_UNITS[node.id])
            known = ", ".join(sorted(values)) or "none"
            raise fail(f"unknown name {node.id!r} (parameters: {known})")
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            operand = value(node.operand)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp):
            if isinstance(node.op, ast.Pow):
                exponent = node.right
                sign = 1
                if isinstance(exponent, ast.UnaryOp) and isinstance(exponent.op, ast.USub):
                    sign, exponent = -1, exponent.operand
                if not (isinstance(exponent, ast.Constant)
                        and type(exponent.value) in (int, float)
                        and abs(exponent.value) <= 12):
                    raise fail("an exponent must be a plain number of at most 12")
                return value(node.left) ** (sign * exponent.value)
            ops = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
                   ast.Mult: lambda a, b: a * b, ast.Div: lambda a, b: a / b}
            op = ops.get(type(node.op))
            if op is None:
                raise fail(f"the operator {type(node.op).__name__} is not allowed")
            return op(value(node.left), value(node.right))
        if isinstance(node, ast.Call):
            raise fail("calls are not allowed")
        if isinstance(node, ast.Attribute):
            raise fail("attribute access is not allowed")
        raise fail(f"{type(node).__name__} is not allowed")

    try:
        with np.errstate(all="ignore"):
            result = value(tree)
    except DimensionMismatchError as exc:
        raise ModelError(f"inconsistent units in {text!r}: {exc}", path=path,
                         where=where) from None
    except ZeroDivisionError:
        raise ModelError(f"division by zero in {text!r}", path=path, where=where) from None
    result = Quantity(result)
    if not math.isfinite(float(result)):
        raise ModelError(f"{text!r} is not finite", path=path, where=where)
    return result


# ---------------------------------------------------------------------------
# reading
# ---------------------------------------------------------------------------
_RAND_THRESHOLD = re.compile(r"rand\(\)\s*<\s*([A-Za-z_]\w*)\s*\*\s*dt\b")


#: Loads a model by reference (``"lif@2"``): :func:`brianlab.library.load_model`.
ModelLoader = Callable[[str], Model]


def _library_loader(ref: str) -> Model:
    """The default model loader of the public parse functions: the library's."""
    from .library import load_model  # library imports this module: the loader is passed in

    return load_model(ref)


def read_network_file(path, *, load_model: ModelLoader | None = None) -> NetworkFile:
    """Read and check one network file.

    Parameters
    ----------
    path : str or Path
        The file.
    load_model : callable, optional
        Loads the models it names (default: :func:`brianlab.library.load_model`).

    Returns
    -------
    NetworkFile
        With status ``file`` (not checked against a lock; :func:`brianlab.load_network`
        does that).

    Raises
    ------
    ModelError
        Naming the file, the key at fault and what was expected.
    """
    return parse_network_bytes(read_model_bytes(path), path=path, load_model=load_model)


def parse_network_bytes(data: bytes, *, path=None, status: str = "file",
                        load_model: ModelLoader | None = None) -> NetworkFile:
    """Check the bytes of a network file (UTF-8 TOML).

    Parameters
    ----------
    data : bytes
        The file's content.
    path : str or Path, optional
        Where it came from (for messages).
    status : str
        Its release status, recorded in the provenance.
    load_model : callable, optional
        Loads the models it names (default: :func:`brianlab.library.load_model`).

    Returns
    -------
    NetworkFile

    Raises
    ------
    ModelError
        For text that is not UTF-8 or not TOML, and every problem of the network.
    """
    text, sha256 = decode_file(data, path=path)
    return parse_network_text(text, path=path, sha256=sha256, status=status,
                              load_model=load_model)


def parse_network_text(text: str, *, path=None, sha256: str | None = None,
                       status: str = "file",
                       load_model: ModelLoader | None = None) -> NetworkFile:
    """Parse and check the text of a network file (see :func:`read_network_file`).

    Parameters
    ----------
    text : str
        TOML text.
    path : str or Path, optional
        Where it came from (for messages).
    sha256 : str, optional
        Hash of the file's bytes (default: of the UTF-8 text).
    status : str
        Its release status.
    load_model : callable, optional
        Loads the models it names (default: :func:`brianlab.library.load_model`).

    Returns
    -------
    NetworkFile

    Raises
    ------
    ModelError
        For every problem of the network.
    """
    if sha256 is None:
        sha256 = hashlib.sha256(text.encode("utf-8")).hexdigest()
    path = None if path is None else str(path)
    raw = load_toml(text, path=path)
    return read_network(raw_network(raw, path=path, sha256=sha256, status=status),
                        load_model=load_model)


def read_network(raw: RawNetwork, *, load_model: ModelLoader | None = None) -> NetworkFile:
    """Check a network file read without units (:func:`brianlab.netformat.read_raw_network`):
    its models, units, ranges and expressions.

    Parameters
    ----------
    raw : RawNetwork
        The file, its top level checked.
    load_model : callable, optional
        Loads a model by pinned reference; :func:`brianlab.library.load_network` passes
        :func:`brianlab.library.load_model` (the default).

    Returns
    -------
    NetworkFile

    Raises
    ------
    ModelError
        For every problem of the network, naming the file and the key.
    """
    return _Reader(raw.raw, raw.path, load_model or _library_loader).read(raw)


def with_structure(network: NetworkFile | RawNetwork, changes: Mapping[str, str],
                   additions: Mapping[str, object] | None = None, *,
                   load_model: ModelLoader | None = None) -> NetworkFile:
    """A network file with structure values changed, checked as a file is when loaded.

    :func:`brianlab.netformat.apply_structure` changes a copy of the file's TOML table;
    the copy goes through every check of a file (sizes of the TOML, then
    :func:`read_network`: models, units, ranges, Poisson ``rate*dt``, sizes up to
    :data:`MAX_NEURONS`), so an error names the original file and the key at fault.

    Parameters
    ----------
    network : NetworkFile or RawNetwork
        The file (a :class:`NetworkFile` as read from a file, which keeps its TOML table;
        one changed with :func:`dataclasses.replace` keeps the table of its file, so the
        changes apply to the file as read).
    changes : mapping of str to str
        Structure path -> value text (``{"populations.E.size": "400"}``).
    additions : mapping of str to object, optional
        Path -> TOML-ready value added for programmatic callers
        (:func:`brianlab.netformat.apply_structure`).
    load_model : callable, optional
        Loads the models it names (default: :func:`brianlab.library.load_model`).

    Returns
    -------
    NetworkFile
        Its ``path`` and ``status`` are the original file's. Its ``sha256`` is the
        original file's when nothing changes; otherwise the sha256 of the UTF-8 JSON text
        ``{"additions": [[path, value], ...], "file": <the file's sha256>, "structure":
        [[path, text], ...]}`` (lists sorted by path, keys sorted, separators ``","`` and
        ``":"``): the file's bytes plus the changes, never equal to a file's hash.

    Raises
    ------
    ModelError
        For a path not in the file (listing its structure paths) and for every load
        error of the changed file.
    """
    if isinstance(network, NetworkFile):
        if network.raw is None:
            raise ModelError(f"network {network.ref} was not read from a file; its "
                             "structure cannot be changed", path=network.path)
        source = RawNetwork(name=network.name, version=network.version, raw=network.raw,
                            sha256=network.sha256, path=network.path, status=network.status)
    else:
        source = network
    changed = apply_structure(source.raw, changes, additions)
    sha256 = source.sha256
    if changes or additions:
        key = {"file": source.sha256,
               "structure": sorted([str(k), str(v)] for k, v in changes.items()),
               "additions": sorted(([str(k), v] for k, v in (additions or {}).items()),
                                   key=lambda item: item[0])}
        text = json.dumps(key, sort_keys=True, separators=(",", ":"), default=str)
        sha256 = hashlib.sha256(text.encode("utf-8")).hexdigest()
    _check_sizes(changed, source.path)
    if changes or additions:
        changed = _fitting_published(changed)
    return read_network(raw_network(changed, path=source.path, sha256=sha256,
                                    status=source.status), load_model=load_model)


def _fitting_published(raw: dict) -> dict:
    """``raw`` without the ``[[published]]`` entries whose ``t_start`` is not shorter than
    its protocol (a changed structure's: :func:`with_structure`).

    A published entry describes the file's own protocol; a protocol a user shortened keeps
    the entries it still covers and drops the others instead of refusing the file. Every
    other check of an entry stays (a ``t_start`` that is not a time is still an error).
    """
    published = raw.get("published")
    if not isinstance(published, list) or not published:
        return raw
    try:
        total = sum(float(_seconds(phase["duration"])) for phase in _phases(raw).values())
        late = [isinstance(item, dict) and "t_start" in item and
                float(_seconds(item["t_start"])) >= total for item in published]
    except (ModelError, KeyError, TypeError):
        return raw  # the full read names the key at fault
    if not any(late):
        return raw
    return {**raw, "published": [item for item, out in zip(published, late) if not out]}


def _seconds(text) -> Quantity:
    q = parse_quantity(text)
    if not have_same_dimensions(q, second):
        raise ModelError(f"{text!r} is not a time")
    return q


class _Reader:
    """One pass over a parsed network file; every error names the file and the key."""

    def __init__(self, raw: dict, path, load_model: ModelLoader):
        self.raw = raw
        self.path = path
        self.load_model = load_model
        self.models = {}     # population name -> composed Model
        self.synapses = {}   # projection name -> synapse Model
        self.receptors = {}  # population name -> {label: receptor Model}
        self.names = {}      # object name -> where it was declared

    # -- helpers ------------------------------------------------------------
    def err(self, message, where=None):
        return ModelError(message, path=self.path, where=where)

    def table(self, value, where, table):
        return check_table(value, where, table, path=self.path)

    def string(self, value, where):
        if not isinstance(value, str):
            raise self.err(f"expected a string, got {_type(value)}", where)
        return value

    def boolean(self, value, where):
        if not isinstance(value, bool):
            raise self.err(f"expected true or false, got {_type(value)}", where)
        return value

    def integer(self, value, where, low=None, high=None, what="an integer"):
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.err(f"expected {what}, got {_type(value)}", where)
        if (low is not None and value < low) or (high is not None and value > high):
            raise self.err(f"expected {what}, got {value}", where)
        return value

    def number(self, value, where, what):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                not math.isfinite(value):
            raise self.err(f"expected {what}, got {_type(value)}", where)
        return float(value)

    def quantity(self, value, where, dim=None, what=None):
        try:
            q = parse_quantity(value)
        except ModelError as exc:
            raise self.err(exc.reason, where) from None
        if dim is not None and not have_same_dimensions(q, dim):
            raise self.err(f"expected {what or 'a value'} in {_describe(dim)}, got "
                           f"{value!r} ({_describe(get_dimensions(q))})", where)
        return q

    def string_list(self, value, where):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.err("expected a list of strings", where)
        return value

    def name(self, name, where, kind):
        if not _IDENT.match(name):
            raise self.err(f"invalid {kind} name {name!r}: expected an identifier (a letter, "
                           "then letters, digits, '_')", where)
        problem = None
        if name in RESERVED_NAMES:
            problem = f"{name!r} is a name Brian2 gives its objects itself"
        else:
            try:
                Equations.check_identifier(name)
            except (SyntaxError, ValueError) as exc:
                problem = str(exc).rstrip(".")
        if problem:
            raise self.err(f"{problem}; choose another name", where)
        if name in self.names:
            raise self.err(f"the name {name!r} is already used by {self.names[name]}; names "
                           "of populations, projections, inputs and parameters must be "
                           "unique", where)
        self.names[name] = where
        return name

    def model(self, ref, where, kinds):
        self.string(ref, where)
        try:
            model = self.load_model(ref)
        except ModelError as exc:
            raise self.err(str(exc), where) from None
        if model.kind not in kinds:
            raise self.err(f"{ref!r} is a {model.kind} model; expected a "
                           f"{' or '.join(kinds)} model", where)
        if "@" not in ref:  # "name" means the newest version: a later one would change the file
            raise self.err(f"unpinned model {ref!r}: a network file names every model as "
                           f"'name@version' (the newest is {model.ref}); write "
                           f"'{model.ref}'", where)
        return model

    def value(self, raw, where, dim, what, *, allow_normal=True):
        """A quantity string or a distribution table -> Value."""
        if isinstance(raw, dict):
            if len(raw) != 1:
                raise self.err("expected one of uniform = [low, high] or normal = [mean, std], "
                               f"got keys {', '.join(raw) or 'none'}", where)
            self.table(raw, where, "value")
            kind, args = next(iter(raw.items()))
            sub = f"{where}.{kind}"
            if kind == "normal" and not allow_normal:
                raise self.err("a normal distribution can be negative; use a uniform one",
                               sub)
            if not isinstance(args, list) or len(args) != 2:
                raise self.err("expected a list of two values", sub)
            a, b = (self.quantity(x, sub, dim, what) for x in args)
            if kind == "uniform" and float(a) > float(b):
                raise self.err(f"expected low <= high, got [{args[0]!r}, {args[1]!r}]", sub)
            if kind == "normal" and float(b) < 0:
                raise self.err(f"expected a standard deviation >= 0, got {args[1]!r}", sub)
            return Value(kind, (a, b))
        return Value("constant", (self.quantity(raw, where, dim, what),))

    # -- the file -------------------------------------------------------------
    def read(self, network: RawNetwork) -> NetworkFile:
        raw, name, version = network.raw, network.name, network.version  # top level checked
        sha256, status = network.sha256, network.status
        references = raw.get("references", [])
        self.string_list(references, "references")
        summary = self.string(raw.get("summary", ""), "summary")
        notes = self.string(raw.get("notes", ""), "notes")
        self.dt = self.quantity(raw.get("dt", "0.1 ms"), "dt", _SECOND, "a time")
        if float(self.dt) <= 0:
            raise self.err(f"expected a time step > 0, got {raw.get('dt')!r}", "dt")
        seeds = self.table(raw["seeds"], "seeds", "seeds")
        seeds = {key: self.integer(seeds[key], f"seeds.{key}", 0, 2**32 - 1,
                                   "an integer in [0, 2**32)") for key in ("connectivity",
                                                                           "drive")}
        populations = self.populations(raw["populations"])
        self.pops = populations
        projections = self.projections(raw.get("projections", {}))
        inputs = self.inputs(raw.get("inputs", {}))
        self.inps = inputs
        self.projs = projections
        parameters = self.parameters(raw.get("parameters", {}))
        monitors = self.monitors(raw.get("monitors", {}))
        self.check_object_names(name, populations, projections, inputs, monitors)
        protocol = self.protocol(raw["protocol"], parameters, inputs)
        published = self.published(raw.get("published", []), parameters, protocol)
        reduction = self.reduction(raw["reduction"], protocol) if "reduction" in raw else None
        return NetworkFile(
            name=name, version=version, summary=summary, references=tuple(references),
            notes=notes, dt=self.dt, seeds=_freeze(seeds), parameters=_freeze(parameters),
            populations=_freeze(populations), projections=_freeze(projections),
            inputs=_freeze(inputs), monitors=monitors, protocol=protocol,
            published=published, reduction=reduction, sha256=sha256,
            path=self.path, status=status, raw=raw)

    # -- populations ----------------------------------------------------------
    def populations(self, raw):
        if not isinstance(raw, dict) or not raw:
            raise self.err("expected a table of at least one population", "populations")
        out = {}
        for pname, table in raw.items():
            where = f"populations.{pname}"
            self.name(pname, where, "population")
            out[pname] = self.population(pname, self.table(table, where, "populations.NAME"),
                                         where)
        return out

    def population(self, pname, raw, where):
        neuron = self.model(raw["model"], f"{where}.model", ("neuron", "rate"))
        if ("size" in raw) == ("lattice" in raw):
            raise self.err("expected exactly one of 'size' and 'lattice'", where)
        lattice = None
        if "size" in raw:
            size = self.integer(raw["size"], f"{where}.size", 1, MAX_NEURONS,
                                f"an integer from 1 to {MAX_NEURONS:,}")
        else:
            lw = f"{where}.lattice"
            table = raw["lattice"]
            if not isinstance(table, dict) or set(table) - {"side", "extent"} or \
                    "side" not in table:
                raise self.err("expected { side = <int> } or { side = <int>, extent = "
                               "<number> }", lw)
            side = self.integer(table["side"], f"{lw}.side", 1, int(math.isqrt(MAX_NEURONS)),
                                f"an integer from 1 to {math.isqrt(MAX_NEURONS)}")
            extent = self.number(table.get("extent", side), f"{lw}.extent", "a number > 0")
            if extent <= 0:
                raise self.err(f"expected a number > 0, got {extent}", f"{lw}.extent")
            lattice, size = (side, extent), side * side
        receptors_raw = raw.get("receptors", {})
        rw = f"{where}.receptors"
        if not isinstance(receptors_raw, dict):
            raise self.err(f"expected a table of label = receptor model, got "
                           f"{_type(receptors_raw)}", rw)
        receptors = {}
        for label, ref in receptors_raw.items():
            if not _NAME.match(label):
                raise self.err(f"invalid receptor label {label!r}: lower-case letters, digits "
                               "and '_'", f"{rw}.{label}")
            receptors[label] = self.model(ref, f"{rw}.{label}", ("receptor",))
        try:
            model = compose(neuron, receptors) if receptors else neuron
        except ModelError as exc:
            raise self.err(exc.reason if exc.path else str(exc), rw) from None
        self.models[pname] = model
        self.receptors[pname] = receptors
        self.sizes = getattr(self, "sizes", {})
        self.sizes[pname] = size
        self.lattices = getattr(self, "lattices", {})
        self.lattices[pname] = lattice

        parameters = self.model_parameters(raw.get("parameters", {}), model,
                                           f"{where}.parameters")
        initial = {}
        iw = f"{where}.initial"
        table = raw.get("initial", {})
        if not isinstance(table, dict):
            raise self.err(f"expected a table, got {_type(table)}", iw)
        states = _state_variables(model)
        for var, value in table.items():
            if var not in states:
                raise self.err(f"{var!r} is not a state variable of {model.ref}; its state "
                               f"variables: {', '.join(states) or 'none'}", f"{iw}.{var}")
            initial[var] = self.value(value, f"{iw}.{var}", states[var],
                                      f"an initial value of {var}")
        self.check_rand_rate(model, parameters, initial, where)
        return Population(name=pname, model=raw["model"], size=size, lattice=lattice,
                          receptors=_freeze({k: raw["receptors"][k] for k in receptors}),
                          parameters=_freeze(parameters), initial=_freeze(initial))

    def model_parameters(self, table, model, where):
        if not isinstance(table, dict):
            raise self.err(f"expected a table, got {_type(table)}", where)
        out = {}
        for pname, value in table.items():
            pw = f"{where}.{pname}"
            if pname not in model.parameters:
                raise self.err(f"{pname!r} is not a parameter of {model.ref}; its parameters: "
                               f"{', '.join(model.parameters) or 'none'}", pw)
            q = self.quantity(value, pw, get_dimensions(model.parameters[pname]),
                              f"{pname}")
            check_range(pname, q, refractory=model.refractory, path=self.path, where=pw)
            out[pname] = q
        return out

    def check_rand_rate(self, model, parameters, initial, where):
        """A Poisson-spiking model (``rand() < rate*dt``): the rate*dt rule."""
        match = _RAND_THRESHOLD.search(model.threshold or "")
        if not match:
            return
        var = match.group(1)
        if var in initial:
            value, key = max(initial[var].args, key=float), f"{where}.initial.{var}"
            if initial[var].kind == "normal":
                raise self.err("a rate as a normal distribution can be negative and has no "
                               "upper bound (the rate*dt rule cannot hold); use a uniform one",
                               f"{key}.normal")
        elif var in parameters:
            value, key = parameters[var], f"{where}.parameters.{var}"
        elif var in model.parameters:
            value, key = model.parameters[var], f"{where}.model"
        else:
            try:
                value, key = parse_quantity(model.initial.get(var, "")), f"{where}.model"
            except ModelError:
                return
        self.check_rate_dt(value, key)

    def check_rate_dt(self, rate, where):
        rate_dt = float(rate * self.dt)
        if float(rate) < 0:
            raise self.err(f"expected a rate >= 0, got {rate}", where)
        if rate_dt > MAX_RATE_DT:
            raise self.err(f"rate*dt = {rate} * {self.dt} = {rate_dt:.3g} is above "
                           f"{MAX_RATE_DT}: a Poisson source draws at most one spike per time "
                           f"step, valid only for rate*dt << 1 (rule: rate*dt <= "
                           f"{MAX_RATE_DT}); lower the rate or dt, or use more sources", where)

    # -- projections ----------------------------------------------------------
    def projections(self, raw):
        if not isinstance(raw, dict):
            raise self.err(f"expected a table of projections, got {_type(raw)}", "projections")
        out = {}
        for pname, table in raw.items():
            where = f"projections.{pname}"
            self.name(pname, where, "projection")
            out[pname] = self.projection(pname, self.table(table, where, "projections.NAME"),
                                         where)
        return out

    def population_ref(self, value, where):
        self.string(value, where)
        if value not in self.models:
            raise self.err(f"unknown population {value!r}; populations: "
                           f"{', '.join(self.models)}", where)
        return value

    def projection(self, pname, raw, where):
        source = self.population_ref(raw["source"], f"{where}.source")
        target = self.population_ref(raw["target"], f"{where}.target")
        synapse = self.model(raw["synapse"], f"{where}.synapse", ("synapse",))
        self.synapses[pname] = synapse
        if ("receptor" in raw) == ("target_var" in raw):
            raise self.err("expected exactly one of 'receptor' (a receptor label of the target) "
                           "and 'target_var' (a variable of the target)", where)
        target_dim = get_dimensions(parse_unit(synapse.target_unit))
        receptor = target_var = None
        tmodel = self.models[target]
        if "receptor" in raw:
            receptor = self.string(raw["receptor"], f"{where}.receptor")
            labels = self.receptors[target]
            if receptor not in labels:
                raise self.err(f"population {target!r} has no receptor {receptor!r}; its "
                               f"receptors: {', '.join(labels) or 'none'}", f"{where}.receptor")
            var = f"{labels[receptor].input}_{receptor}"
            key = f"{where}.receptor"
        else:
            target_var = var = self.string(raw["target_var"], f"{where}.target_var")
            key = f"{where}.target_var"
            states = _variables(tmodel)
            if var not in states:
                raise self.err(f"{var!r} is not a variable of {tmodel.ref}; its variables: "
                               f"{', '.join(states)}", key)
        have = _variables(tmodel)[var]
        if not have_same_dimensions(have, target_dim):
            raise self.err(f"{synapse.ref} drives a variable in {_describe(target_dim)}, but "
                           f"{target}.{var} is in {_describe(have)}", key)
        syn_vars = _variables(synapse)
        weight = None
        if "weight" in raw:
            if "w" not in syn_vars:
                raise self.err(f"{synapse.ref} has no weight variable w", f"{where}.weight")
            weight = self.value(raw["weight"], f"{where}.weight", syn_vars["w"],
                                f"a weight (the unit of {synapse.ref}'s w)")
        delay = None
        if "delay" in raw:
            delay = self.value(raw["delay"], f"{where}.delay", _SECOND, "a delay",
                               allow_normal=False)
            if float(delay.args[0]) < 0:
                raise self.err(f"expected a delay >= 0, got {raw['delay']!r}", f"{where}.delay")
        shared = tuple(self.string_list(raw.get("shared", []), f"{where}.shared"))
        for var_name in shared:
            if var_name not in synapse.equations or \
                    synapse.equations[var_name].type != PARAMETER:
                params = [n for n, e in synapse.equations.items() if e.type == PARAMETER]
                raise self.err(f"{var_name!r} is not a per-synapse parameter of {synapse.ref} "
                               f"(those: {', '.join(params) or 'none'})", f"{where}.shared")
        if "w" in shared and weight is not None and weight.is_random:
            raise self.err("a shared weight is one value; got a distribution",
                           f"{where}.weight")
        autapses = self.boolean(raw.get("autapses", False), f"{where}.autapses")
        multapses = self.boolean(raw.get("multapses", False), f"{where}.multapses")
        connector = self.connector(raw["connector"], f"{where}.connector", source, target,
                                   autapses, multapses)
        if connector.rule == "gaussian_fixed_indegree":
            # brianlab.space.fixed_indegree draws with replacement: say what is built
            if "multapses" in raw and not multapses:
                raise self.err("the rule 'gaussian_fixed_indegree' draws sources with "
                               "replacement (a pair may connect more than once): set "
                               "multapses = true or leave it out", f"{where}.multapses")
            multapses = True
        parameters = self.model_parameters(raw.get("parameters", {}), synapse,
                                           f"{where}.parameters")
        return Projection(name=pname, source=source, target=target, synapse=raw["synapse"],
                          receptor=receptor, target_var=target_var, connector=connector,
                          weight=weight, delay=delay, shared=shared, autapses=autapses,
                          multapses=multapses, parameters=_freeze(parameters))

    def connector(self, raw, where, source, target, autapses, multapses):
        raw = self.table(raw, where, "connector")
        rule = self.string(raw["rule"], f"{where}.rule")
        if rule not in CONNECTOR_RULES:
            raise self.err(f"unknown rule {rule!r}; rules: {', '.join(CONNECTOR_RULES)}",
                           f"{where}.rule")
        required, optional = CONNECTOR_RULES[rule]
        extra = sorted(set(raw) - {"rule"} - set(required) - set(optional))
        if extra:
            raise self.err(f"{', '.join(extra)} not used by the rule {rule!r}; it takes "
                           f"{', '.join(required + optional) or 'no other keys'}", where)
        for key in required:
            if key not in raw:
                raise self.err(f"the rule {rule!r} needs '{key}'", where)
        fields = {}
        n_source, n_target = self.sizes[source], self.sizes[target]
        for key in ("p", "p_max"):
            if key in raw:
                p = self.number(raw[key], f"{where}.{key}", "a probability in [0, 1]")
                if not 0 <= p <= 1:
                    raise self.err(f"expected a probability in [0, 1], got {p}",
                                   f"{where}.{key}")
                fields[key] = p
        if "k" in raw:
            k = self.integer(raw["k"], f"{where}.k", 1, None, "an integer >= 1")
            pool, what = (n_target, f"target {target!r}") if rule == "fixed_outdegree" \
                else (n_source, f"source {source!r}")
            if rule == "gaussian_fixed_indegree" and k > n_source:
                raise self.err(f"k = {k} is larger than the source {source!r} (size "
                               f"{n_source}); rule: k <= the source size",
                               f"{where}.k")
            if rule != "gaussian_fixed_indegree" and not multapses:
                limit = pool - (1 if source == target and not autapses else 0)
                if k > limit:
                    raise self.err(f"k = {k} is larger than the {limit} neurons the "
                                   f"{what} offers each neuron (size {pool}"
                                   f"{', no autapses' if limit < pool else ''}); rule: k <= "
                                   "that number unless multapses = true", f"{where}.k")
            fields["k"] = k
        if "sigma" in raw:
            sigma = self.number(raw["sigma"], f"{where}.sigma", "a number > 0")
            if sigma <= 0:
                raise self.err(f"expected sigma > 0, got {sigma}", f"{where}.sigma")
            fields["sigma"] = sigma
        if "normalise" in raw:
            norm = self.string(raw["normalise"], f"{where}.normalise")
            if norm not in NORMALISATIONS:
                raise self.err(f"expected one of {', '.join(NORMALISATIONS)}, got {norm!r}",
                               f"{where}.normalise")
            fields["normalise"] = norm
        if rule == "one_to_one" and n_source != n_target:
            raise self.err(f"one_to_one needs equal sizes; {source!r} has {n_source}, "
                           f"{target!r} {n_target}", f"{where}.rule")
        if rule.startswith("gaussian_"):
            for pop in (source, target):
                if self.lattices[pop] is None:
                    raise self.err(f"the rule {rule!r} needs lattice populations; {pop!r} has "
                                   "a size, not a lattice", f"{where}.rule")
        return Connector(rule=rule, **fields)

    # -- inputs ---------------------------------------------------------------
    def inputs(self, raw):
        if not isinstance(raw, dict):
            raise self.err(f"expected a table of inputs, got {_type(raw)}", "inputs")
        out = {}
        for iname, table in raw.items():
            where = f"inputs.{iname}"
            self.name(iname, where, "input")
            out[iname] = self.input(iname, self.table(table, where, "inputs.NAME"), where)
        # the current inputs of one variable are summed by one operation, which runs on
        # the random currents' interval: two different intervals cannot both hold
        intervals = {}
        for iname, inp in out.items():
            var = inp.target_var or "I_ext"
            if inp.kind != "poisson_input" and var in self.pops[inp.target].initial:
                raise self.err(f"{inp.target}.{var} has an initial value "
                               f"(populations.{inp.target}.initial.{var}), but the current "
                               "inputs of a variable assign it every step, so it would be "
                               "lost: give a constant as a current_step without start and "
                               "stop", f"inputs.{iname}.target")
            if inp.kind == "random_current":
                key = (inp.target, inp.target_var or "I_ext")
                first = intervals.setdefault(key, (iname, inp.fields["interval"]))
                if float(first[1]) != float(inp.fields["interval"]):
                    raise self.err(f"{inp.fields['interval']}, but the random_current "
                                   f"{first[0]!r} on {key[0]}.{key[1]} has interval "
                                   f"{first[1]}: the random currents of one variable are "
                                   "drawn together and need one interval",
                                   f"inputs.{iname}.interval")
        # that one operation runs every interval: a ramp would be a staircase, a step's
        # edge would move to the next multiple of the interval
        for iname, inp in out.items():
            key = (inp.target, inp.target_var or "I_ext")
            if inp.kind in ("poisson_input", "random_current") or key not in intervals:
                continue
            rname, interval = intervals[key]
            if inp.kind == "current_ramp":
                raise self.err(f"a current_ramp on {key[0]}.{key[1]}, which the "
                               f"random_current {rname!r} also drives, would change only "
                               f"every {interval} (a staircase); rule: no current_ramp on a "
                               "variable with a random_current", f"inputs.{iname}.kind")
            for field in ("start", "stop"):
                if field not in inp.fields:
                    continue
                ratio = float(inp.fields[field]) / float(interval)
                if abs(ratio - round(ratio)) > 1e-9 * max(1.0, abs(ratio)):
                    raise self.err(f"{inp.fields[field]} is not a multiple of the interval "
                                   f"{interval} of the random_current {rname!r} on "
                                   f"{key[0]}.{key[1]}, whose inputs change only every "
                                   "interval; rule: a current_step's or image's start and "
                                   "stop are multiples of that interval",
                                   f"inputs.{iname}.{field}")
        return out

    def input(self, iname, raw, where):
        kind = self.string(raw["kind"], f"{where}.kind")
        if kind not in INPUT_KINDS:
            raise self.err(f"unknown input kind {kind!r}; kinds: {', '.join(INPUT_KINDS)}",
                           f"{where}.kind")
        required, optional = INPUT_KINDS[kind]
        routing = ("target_var", "receptor") if kind == "poisson_input" else ("target_var",)
        extra = sorted(set(raw) - {"kind", "target"} - set(required) - set(optional)
                       - set(routing))
        if extra:
            raise self.err(f"{', '.join(extra)} not used by a {kind} input; it takes "
                           f"{', '.join(('target',) + routing + required + optional)}", where)
        for key in required:
            if key not in raw:
                raise self.err(f"a {kind} input needs '{key}'", where)
        target = self.population_ref(raw["target"], f"{where}.target")
        model = self.models[target]
        receptor = target_var = None
        if kind == "poisson_input":
            if ("receptor" in raw) == ("target_var" in raw):
                raise self.err("expected exactly one of 'receptor' and 'target_var'", where)
        if "receptor" in raw:
            receptor = self.string(raw["receptor"], f"{where}.receptor")
            labels = self.receptors[target]
            if receptor not in labels:
                raise self.err(f"population {target!r} has no receptor {receptor!r}; its "
                               f"receptors: {', '.join(labels) or 'none'}", f"{where}.receptor")
            var = f"{labels[receptor].input}_{receptor}"
        else:
            target_var = var = self.string(raw.get("target_var", "I_ext"), f"{where}.target_var")
            if var not in _state_variables(model):
                raise self.err(f"{var!r} is not a state variable of {model.ref}; its state "
                               f"variables: {', '.join(_state_variables(model))}",
                               f"{where}.target_var")
        var_dim = _variables(model)[var]
        fields = {}
        for key in required + optional:
            if key not in raw:
                continue
            kw = f"{where}.{key}"
            value = raw[key]
            if key == "count":
                fields[key] = self.integer(value, kw, 1, 1_000_000,
                                           "an integer from 1 to 1,000,000")
            elif key == "width":
                fields[key] = self.integer(value, kw, 1, None, "an integer >= 1")
            elif key == "image":
                if value != "cross":
                    raise self.err(f"expected \"cross\", got {value!r}", kw)
                fields[key] = value
            elif key == "rate":
                fields[key] = self.quantity(value, kw, _SECOND ** -1, "a rate")
            elif key in ("weight", "amplitude", "amplitude_start", "amplitude_end"):
                fields[key] = self.quantity(value, kw, var_dim,
                                            f"a value of {target}.{var}")
            else:  # start, stop, interval, duration
                q = self.quantity(value, kw, _SECOND, "a time")
                if key == "start" and float(q) < 0:
                    raise self.err(f"expected a time >= 0, got {value!r}", kw)
                if key in ("interval", "duration") and float(q) <= 0:
                    raise self.err(f"expected a time > 0, got {value!r}", kw)
                fields[key] = q
        if "stop" in fields and float(fields["stop"]) <= float(fields.get("start", 0.0)):
            raise self.err("expected stop > start", f"{where}.stop")
        if kind == "poisson_input":
            self.check_rate_dt(fields["rate"], f"{where}.rate")
        if kind == "image" and self.lattices[target] is None:
            raise self.err(f"an image input needs a lattice population; {target!r} has a size",
                           f"{where}.target")
        return Input(name=iname, kind=kind, target=target, target_var=target_var,
                     receptor=receptor, fields=_freeze(fields))

    # -- parameters -----------------------------------------------------------
    def target_dim(self, target, where):
        """The dimension of a run-time target ``object.variable``."""
        if not isinstance(target, str) or target.count(".") != 1:
            raise self.err(f"expected a target 'object.variable', got {target!r}", where)
        obj, var = target.split(".")
        if obj in self.models:
            model = self.models[obj]
            if var not in model.parameters:
                raise self.err(f"{var!r} is not a parameter of population {obj!r} "
                               f"({model.ref}); its parameters: "
                               f"{', '.join(model.parameters)}", where)
            return get_dimensions(model.parameters[var])
        if obj in self.synapses:
            synapse, proj = self.synapses[obj], self.projs[obj]
            if var in proj.shared:
                return _variables(synapse)[var]
            if var in synapse.parameters:
                return get_dimensions(synapse.parameters[var])
            raise self.err(f"{var!r} is not a shared variable or parameter of projection "
                           f"{obj!r}; run-time targets: "
                           f"{', '.join(list(proj.shared) + list(synapse.parameters)) or 'none'}"
                           f" (hold a synapse variable as one value with shared = [...])",
                           where)
        if obj in self.inps:
            inp = self.inps[obj]
            runtime = _INPUT_RUNTIME.get(inp.kind, ())
            if var not in runtime or var not in inp.fields:
                raise self.err(f"{var!r} is not a run-time field of input {obj!r} "
                               f"({inp.kind}); those: {', '.join(runtime) or 'none'}", where)
            return get_dimensions(inp.fields[var])
        known = list(self.models) + list(self.synapses) + list(self.inps)
        raise self.err(f"unknown object {obj!r} in {target!r}; populations, projections and "
                       f"inputs: {', '.join(known)}", where)

    def check_target_range(self, target, value, where):
        """A run-time value of a model parameter in its physical range, as an override."""
        obj, var = target.split(".")
        model = self.models.get(obj, self.synapses.get(obj))
        if model is not None and var in model.parameters:
            check_range(var, value, refractory=model.refractory, path=self.path, where=where)

    def parameters(self, raw):
        if not isinstance(raw, dict):
            raise self.err(f"expected a table of parameters, got {_type(raw)}", "parameters")
        out, values, pending = {}, {}, []
        for pname, table in raw.items():
            where = f"parameters.{pname}"
            self.name(pname, where, "parameter")
            table = self.table(table, where, "parameters.NAME")
            values[pname] = self.quantity(table["value"], f"{where}.value")
            pending.append((pname, table["sets"], where))
        owner = {}
        for pname, sets, where in pending:
            sw = f"{where}.sets"
            if isinstance(sets, list):
                targets = self.string_list(sets, sw)
                for n, target in enumerate(targets):
                    if target in targets[:n]:
                        raise self.err(f"{target!r} is already set by parameter {pname!r}",
                                       f"{sw}.{target}")
                sets = {target: None for target in targets}
            elif not isinstance(sets, dict):
                raise self.err("expected a list of targets or a table of target = expression",
                               sw)
            if not sets:
                raise self.err("expected at least one target", sw)
            for target, expression in sets.items():
                tw = f"{sw}.{target}"
                dim = self.target_dim(target, tw)
                if target in owner:
                    raise self.err(f"{target!r} is already set by parameter {owner[target]!r}",
                                   tw)
                obj, var = target.split(".")
                table = self.pops[obj] if obj in self.pops else self.projs.get(obj)
                if table is not None and var in table.parameters:
                    kind = "populations" if obj in self.pops else "projections"
                    raise self.err(f"{target!r} is also set by {kind}.{obj}.parameters.{var}; "
                                   "the parameter would win: give the value once (drop the "
                                   "override, or set the parameter's value)", tw)
                owner[target] = pname
                if expression is None:
                    got = values[pname]
                else:
                    got = evaluate_expression(self.string(expression, tw), values,
                                              path=self.path, where=tw)
                if not have_same_dimensions(got, dim):
                    what = f"{pname} = {values[pname]}" if expression is None else \
                        f"{expression!r} = {got}"
                    raise self.err(f"{target} is in {_describe(dim)}, but {what} is in "
                                   f"{_describe(get_dimensions(got))}", tw)
                self.check_target_range(target, got, tw)
            out[pname] = NetworkParameter(name=pname, value=values[pname],
                                          sets=_freeze(sets))
        self.param_values = values
        return out

    def check_object_names(self, name, populations, projections, inputs, monitors):
        """The Brian2 objects the builder names ``<name>_...`` are unique."""
        check_object_names(
            name, populations, projections,
            {iname: (inp.kind, inp.target, inp.target_var) for iname, inp in inputs.items()},
            monitors.spikes, monitors.rates, len(monitors.state), path=self.path)

    # -- monitors and protocol --------------------------------------------------
    def monitors(self, raw):
        raw = self.table(raw, "monitors", "monitors")
        spikes = tuple(self.population_ref(p, "monitors.spikes")
                       for p in self.string_list(raw.get("spikes", []), "monitors.spikes"))
        rates = tuple(self.population_ref(p, "monitors.rates")
                      for p in self.string_list(raw.get("rates", []), "monitors.rates"))
        state = []
        items = raw.get("state", [])
        if not isinstance(items, list):
            raise self.err("expected a list of tables", "monitors.state")
        for n, item in enumerate(items):
            where = f"monitors.state[{n}]"
            item = self.table(item, where, "monitors.state")
            pop = self.population_ref(item["population"], f"{where}.population")
            variables = tuple(self.string_list(item["variables"], f"{where}.variables"))
            known = _variables(self.models[pop])
            for var in variables:
                if var not in known:
                    raise self.err(f"{var!r} is not a variable of {pop!r} "
                                   f"({self.models[pop].ref}); its variables: "
                                   f"{', '.join(known)}", f"{where}.variables")
            if not variables:
                raise self.err("expected at least one variable", f"{where}.variables")
            record = item.get("record", True)
            if record is not True:
                if not isinstance(record, list) or not all(
                        isinstance(i, int) and not isinstance(i, bool) for i in record):
                    raise self.err("expected a list of neuron indices or true",
                                   f"{where}.record")
                bad = [i for i in record if not 0 <= i < self.sizes[pop]]
                if bad:
                    raise self.err(f"index {bad[0]} outside 0..{self.sizes[pop] - 1}",
                                   f"{where}.record")
                record = tuple(record)
            dt = None
            if "dt" in item:
                dt = self.quantity(item["dt"], f"{where}.dt", _SECOND, "a time")
                if float(dt) <= 0:
                    raise self.err(f"expected a time > 0, got {item['dt']!r}", f"{where}.dt")
            window = None
            if "window" in item:
                window = self.window(item["window"], f"{where}.window")
            state.append(StateMonitorSpec(pop, variables, record, dt, window))
        return Monitors(spikes=spikes, rates=rates, state=tuple(state))

    def window(self, value, where):
        if not isinstance(value, list) or len(value) != 2:
            raise self.err("expected a list of two times [\"start\", \"stop\"]", where)
        start, stop = (self.quantity(v, where, _SECOND, "a time") for v in value)
        if not 0 <= float(start) < float(stop):
            raise self.err(f"expected 0 <= start < stop, got {value!r}", where)
        return (start, stop)

    def reduction(self, raw, protocol):
        raw = self.table(raw, "reduction", "reduction")
        name = self.string(raw["name"], "reduction.name")
        if name not in REDUCTIONS:
            raise self.err(f"unknown reduction {name!r}; registered: "
                           f"{', '.join(sorted(REDUCTIONS))}", "reduction.name")
        options = ()
        if "t_start" in raw:
            t_start = self.quantity(raw["t_start"], "reduction.t_start", _SECOND, "a time")
            total = sum(float(phase.duration) for phase in protocol)
            if not 0 <= float(t_start) < total:
                raise self.err(f"expected a time >= 0 and shorter than the protocol "
                               f"({total:g} s), got {raw['t_start']!r}", "reduction.t_start")
            options = (("t_start_s", float(t_start)),)
        return ReductionSpec(name=name, options=options)

    def protocol(self, raw, parameters, inputs):
        raw = self.table(raw, "protocol", "protocol")
        phases_raw = raw["phases"]
        if not isinstance(phases_raw, list) or not phases_raw:
            raise self.err("expected a list of at least one phase", "protocol.phases")
        phases, seen = [], set()
        for n, item in enumerate(phases_raw):
            where = f"protocol.phases[{n}]"
            item = self.table(item, where, "protocol.phases")
            name = self.string(item["name"], f"{where}.name")
            if not _IDENT.match(name) or name in seen:
                raise self.err(f"expected a unique identifier, got {name!r}", f"{where}.name")
            seen.add(name)
            duration = self.quantity(item["duration"], f"{where}.duration", _SECOND,
                                     "a duration")
            if float(duration) <= 0:
                raise self.err(f"expected a duration > 0, got {item['duration']!r}",
                               f"{where}.duration")
            off = tuple(self.string_list(item.get("inputs_off", []), f"{where}.inputs_off"))
            for iname in off:
                if iname not in inputs:
                    raise self.err(f"unknown input {iname!r}; inputs: "
                                   f"{', '.join(inputs) or 'none'}", f"{where}.inputs_off")
            values = {}
            table = item.get("parameters", {})
            if not isinstance(table, dict):
                raise self.err(f"expected a table, got {_type(table)}", f"{where}.parameters")
            for pname, value in table.items():
                pw = f"{where}.parameters.{pname}"
                if pname not in parameters:
                    raise self.err(f"unknown parameter {pname!r}; parameters: "
                                   f"{', '.join(parameters) or 'none'}", pw)
                values[pname] = self.quantity(value, pw, get_dimensions(
                    parameters[pname].value), f"a value of {pname}")
            if values:  # the targets' values during the phase, in their physical ranges
                during = {**self.param_values, **values}
                for par in parameters.values():
                    for target, expression in par.sets.items():
                        got = during[par.name] if expression is None else \
                            evaluate_expression(expression, during, path=self.path,
                                                where=f"{where}.parameters")
                        self.check_target_range(target, got, f"{where}.parameters")
            phases.append(Phase(name=name, duration=duration, inputs_off=off,
                                parameters=_freeze(values)))
        return tuple(phases)

    def published(self, raw, parameters, protocol):
        if not isinstance(raw, list):
            raise self.err("expected an array of tables [[published]]", "published")
        total = sum(float(phase.duration) for phase in protocol)
        out = []
        for n, item in enumerate(raw):
            where = f"published[{n}]"
            item = self.table(item, where, "published")
            pop = self.population_ref(item["population"], f"{where}.population")
            statistic = self.string(item["statistic"], f"{where}.statistic")
            if statistic not in PUBLISHED_STATISTICS:
                raise self.err(f"unknown statistic {statistic!r}; expected one of "
                               f"{', '.join(PUBLISHED_STATISTICS)}", f"{where}.statistic")
            unit = PUBLISHED_STATISTICS[statistic]
            dim = Hz.dim if unit == "Hz" else DIMENSIONLESS
            if "low" not in item and "high" not in item:
                raise self.err("expected 'low', 'high' or both", where)
            bounds = {}
            for key, default in (("low", -math.inf), ("high", math.inf)):
                if key not in item:
                    bounds[key] = default
                    continue
                q = self.quantity(item[key], f"{where}.{key}", dim, f"a {statistic}")
                if not math.isfinite(float(q)):
                    raise self.err(f"expected a finite value, got {item[key]!r}",
                                   f"{where}.{key}")
                bounds[key] = float(q)
            if bounds["low"] > bounds["high"]:
                raise self.err(f"expected low <= high, got low = {item['low']!r}, high = "
                               f"{item['high']!r}", where)
            source = self.string(item["source"], f"{where}.source")
            if not source.strip():
                raise self.err("expected the paper, figure or table it comes from",
                               f"{where}.source")
            values = {}
            table = item.get("parameters", {})
            if not isinstance(table, dict):
                raise self.err(f"expected a table, got {_type(table)}", f"{where}.parameters")
            for pname, value in table.items():
                pw = f"{where}.parameters.{pname}"
                if pname not in parameters:
                    raise self.err(f"unknown parameter {pname!r}; parameters: "
                                   f"{', '.join(parameters) or 'none'}", pw)
                values[pname] = self.quantity(value, pw, get_dimensions(
                    parameters[pname].value), f"a value of {pname}")
            t_start = 0.0 * second
            if "t_start" in item:
                t_start = self.quantity(item["t_start"], f"{where}.t_start", _SECOND, "a time")
            if not 0 <= float(t_start) < total:
                raise self.err(f"expected a time >= 0 and shorter than the protocol "
                               f"({total:g} s), got {item['t_start']!r}", f"{where}.t_start")
            out.append(Published(population=pop, statistic=statistic, low=bounds["low"],
                                 high=bounds["high"], source=source,
                                 parameters=_freeze(values), t_start=t_start))
        return tuple(out)


_SECOND = second.dim


def _describe(dim) -> str:
    return describe_dimension(dim)


def _variables(model) -> dict:
    """Every variable of a model's equations -> its dimension."""
    return {name: eq.dim for name, eq in model.equations.items()}


def _state_variables(model) -> dict:
    """Variables that take initial values (not subexpressions) -> dimension."""
    return {name: eq.dim for name, eq in model.equations.items()
            if eq.type != SUBEXPRESSION}
