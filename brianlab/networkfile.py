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
import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from brian2 import Quantity
from brian2.units.fundamentalunits import (DIMENSIONLESS, get_dimensions,
                                           have_same_dimensions)

from .units import ModelError, parse_quantity, unit_string

__all__ = ["NetworkFile", "NetworkParameter", "Population", "Projection", "Connector",
           "Input", "Monitors", "StateMonitorSpec", "Phase", "Value", "evaluate_expression",
           "MAX_NEURONS", "MAX_RATE_DT"]

#: Largest population accepted (neurons).
MAX_NEURONS = 10_000_000
#: Largest ``rate * dt`` of one Poisson source: above it the per-step Bernoulli/Poisson
#: draw no longer approximates a Poisson process.
MAX_RATE_DT = 0.1


def _freeze(d) -> MappingProxyType:
    return MappingProxyType(dict(d))


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
    sets: MappingProxyType


@dataclass(frozen=True)
class Population:
    """A population: ``size`` neurons of one model (with receptors), or a lattice.

    Parameters
    ----------
    name : str
        The population's name (Brian2 objects built from it are named after it).
    model : str
        Neuron or rate model reference (``"lif"`` or ``"lif@2"``).
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
    receptors: MappingProxyType = field(default_factory=lambda: _freeze({}))
    parameters: MappingProxyType = field(default_factory=lambda: _freeze({}))
    initial: MappingProxyType = field(default_factory=lambda: _freeze({}))


#: Connector rules and the fields each needs (required, optional).
CONNECTOR_RULES = {
    "all_to_all": ((), ()),
    "one_to_one": ((), ()),
    "probability": (("p",), ()),
    "fixed_indegree": (("k",), ()),
    "fixed_outdegree": (("k",), ()),
    "gaussian_fixed_indegree": (("k", "sigma"), ("normalise",)),
    "gaussian_probability": (("p_max", "sigma"), ("normalise",)),
    "gaussian_kernel": (("sigma",), ("normalise",)),
}
#: Weight normalisations of the lattice rules (as ``build_ei_sheet``): ``none``, or
#: ``kernel_sum`` (weights divided by the sum of the Gaussian kernel over the source
#: lattice, so a pathway's total input does not depend on sigma or the lattice sizes).
NORMALISATIONS = ("none", "kernel_sum")


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
    parameters: MappingProxyType = field(default_factory=lambda: _freeze({}))


#: Input kinds and their fields (required, optional); ``target`` is always required,
#: ``target_var``/``receptor`` as the kind says.
INPUT_KINDS = {
    "poisson_input": (("count", "rate", "weight"), ()),
    "current_step": (("amplitude",), ("start", "stop")),
    "current_ramp": (("amplitude_start", "amplitude_end", "start", "stop"), ()),
    "random_current": (("amplitude", "interval"), ("duration",)),
    "image": (("image", "amplitude"), ("start", "stop", "width")),
}


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
    fields: MappingProxyType

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
    """

    population: str
    variables: tuple
    record: tuple | bool = True
    dt: Quantity | None = None


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
    parameters: MappingProxyType = field(default_factory=lambda: _freeze({}))


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
    sha256 : str
        Hash of the file's bytes.
    path : str or None
        The file read.
    status : str
        ``released``, ``unreleased``, ``modified`` or ``file`` (as models).
    """

    name: str
    version: int
    summary: str
    references: tuple
    notes: str
    dt: Quantity
    seeds: MappingProxyType
    parameters: MappingProxyType
    populations: MappingProxyType
    projections: MappingProxyType
    inputs: MappingProxyType
    monitors: Monitors
    protocol: tuple
    sha256: str = ""
    path: str | None = None
    status: str = "file"

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
    from .modelfile import describe_dimension

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
    from brian2.core.namespace import DEFAULT_UNITS
    from brian2.units.fundamentalunits import DimensionMismatchError

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
