"""Turn models into Brian2 objects.

- :func:`compose`: a neuron model plus receptor models becomes one neuron model
  whose synaptic current (``I_syn``) is the sum of the receptor currents; every
  receptor variable and parameter gets the receptor's label as a suffix
  (``g`` of ``ampa_exp`` becomes ``g_ampa``).
- :func:`neuron_group` / :func:`synapses`: build ready Brian2 objects. Model
  parameters become ``(constant, shared)`` variables of the group, so they can be
  changed between runs of a compiled standalone binary with ``run_args``, and
  the group's namespace is empty (a model never picks up the caller's globals).
"""

from __future__ import annotations

import hashlib
import logging
import re
import sys
import types
import weakref
from dataclasses import replace
from types import MappingProxyType

import numpy as np
from brian2 import Equations, NeuronGroup, Quantity, Synapses, defaultclock, second, volt
from brian2.core.variables import ArrayVariable
from brian2.equations.equations import PARAMETER, SUBEXPRESSION, SingleEquation
from brian2.stateupdaters.base import StateUpdateMethod, UnsupportedEquationsException
from brian2.units.fundamentalunits import get_dimensions, have_same_dimensions
from brian2.utils.stringtools import word_substitute

from .modelfile import (Model, _expression_dims, assigned_variables, check_model,
                        describe_dimension, equations_text, model_variables)
from .ranges import VALIDITY, check_range, validity_problem
from .units import ModelError, parse_quantity, parse_unit, unit_string

__all__ = ["compose", "neuron_group", "synapses", "model_of", "parameter_values",
           "ModelSynapses", "MethodChoice"]

_logger = logging.getLogger(__name__)

_MODELS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
#: Brian2's own default: exact integration where the equations allow it.
DEFAULT_METHODS = ("exact", "euler", "heun")


class MethodChoice:
    """Brian2's automatic choice of an integration method, without its INFO line.

    Given a list of methods, Brian2 tries them in order when a run starts and logs
    "No numerical integration method specified ..." at INFO level on every run (its
    default console level). An instance of this class is a state updater in Brian2's
    sense (a callable of the equations and variables), so Brian2 only logs the method
    at DEBUG level; it tries the same methods in the same order, with Brian2's own
    :meth:`~brian2.stateupdaters.base.StateUpdateMethod.apply_stateupdater`, and the
    code it returns is the code Brian2's own choice gives. No logger or preference is
    changed.

    Parameters
    ----------
    methods : sequence of str
        Names of registered Brian2 methods, tried in order.
    group_name : str, optional
        For the DEBUG line.

    Attributes
    ----------
    chosen : str or None
        The method used (set when a run starts).
    """

    def __init__(self, methods=DEFAULT_METHODS, group_name: str | None = None):
        self.methods = tuple(methods)
        self.group_name = group_name
        self.chosen = None
        self.__name__ = "first applicable of " + ", ".join(self.methods)

    def __repr__(self):
        return f"MethodChoice({self.methods!r})"

    def __call__(self, equations, variables=None, method_options=None):
        """Integration code of the first method that can integrate ``equations``.

        Parameters
        ----------
        equations : brian2.Equations
            The equations.
        variables : dict, optional
            Brian2's variables of the group.
        method_options : dict, optional
            Ignored, as by Brian2 for a list of methods.

        Returns
        -------
        str
            Abstract code of the state update.
        """
        for method in self.methods:
            try:
                code = StateUpdateMethod.apply_stateupdater(equations, variables, method,
                                                            group_name=self.group_name)
            except UnsupportedEquationsException:
                continue
            self.chosen = method
            _logger.debug("group %s: integration method %r", self.group_name, method)
            return code
        raise UnsupportedEquationsException(
            f"none of the methods {', '.join(self.methods)} can integrate the equations of "
            f"{self.group_name}")


def model_of(obj) -> Model | None:
    """The :class:`Model` a group or synapses object was built from.

    Parameters
    ----------
    obj : NeuronGroup or Synapses
        An object built by :func:`neuron_group` or :func:`synapses`.

    Returns
    -------
    Model or None
        None for an object brianlab did not build.
    """
    return _MODELS.get(obj)


def _as_model(ref) -> Model:
    if isinstance(ref, Model):
        return ref
    from .library import load_model

    return load_model(ref)


def _receptor_list(receptors):
    """Normalise ``receptors`` to a list of ``(label, Model)``."""
    if isinstance(receptors, (str, Model)):
        receptors = (receptors,)
    if isinstance(receptors, dict):
        items = [(label, _as_model(ref)) for label, ref in receptors.items()]
    else:
        items = [(None, _as_model(ref)) for ref in receptors]
    out = []
    for label, model in items:
        if model.kind != "receptor":
            raise ModelError(f"{model.ref} is a {model.kind} model, not a receptor")
        label = label or model.label
        if not re.match(r"^[A-Za-z]\w*$", label):
            raise ModelError(f"invalid receptor label {label!r}")
        out.append((label, model))
    labels = [label for label, _ in out]
    if len(set(labels)) != len(labels):
        raise ModelError(f"two receptors share a label ({', '.join(labels)}); give distinct "
                         "labels with a dict, e.g. receptors={'ampa': 'ampa_exp', "
                         "'nmda': 'ampa_exp'}")
    return out


def compose(neuron: Model, receptors) -> Model:
    """Combine a neuron model with receptor models into one neuron model.

    Parameters
    ----------
    neuron : Model or str
        A neuron model that declares ``synaptic_current`` (e.g. ``I_syn``).
    receptors : sequence of Model/str, or dict of label -> Model/str
        Receptor models; their variables and parameters get the suffix
        ``_<label>`` (the receptor's own ``label`` unless a dict gives one).

    Returns
    -------
    Model
        A neuron model whose ``components`` list every file it was made from.
    """
    neuron = _as_model(neuron)
    items = _receptor_list(receptors)
    if not items:
        return neuron
    if neuron.kind != "neuron" or not neuron.synaptic_current:
        raise ModelError(f"{neuron.ref} declares no synaptic_current; receptors cannot be added")
    syn = neuron.synaptic_current
    syn_dim = neuron.equations[syn].dim

    lines = [line for line in neuron.equations_text.splitlines()
             if not re.match(rf"^\s*{re.escape(syn)}\s*[:=]", line)]
    parameters = dict(neuron.parameters)
    initial = dict(neuron.initial)
    currents = []
    for label, rec in items:
        for name, used in rec.uses.items():
            if name not in neuron.equations and name not in neuron.parameters:
                raise ModelError(f"receptor {rec.ref} uses {name!r}, which {neuron.ref} "
                                 "does not declare")
            have = neuron.equations[name].dim if name in neuron.equations else \
                get_dimensions(neuron.parameters[name])
            if not have_same_dimensions(have, used):
                raise ModelError(f"receptor {rec.ref} expects {name!r} in "
                                 f"{describe_dimension(used)}, {neuron.ref} has "
                                 f"{describe_dimension(have)}")
        own = [n for n in list(rec.equations) + list(rec.parameters) if n not in rec.uses]
        rename = {n: f"{n}_{label}" for n in own}
        clash = sorted(set(rename.values()) & (set(neuron.equations) | set(parameters)))
        if clash:
            raise ModelError(f"receptor {rec.ref} as {label!r} would redefine "
                             f"{', '.join(clash)}")
        lines.extend(equations_text(Equations(rec.equations_text, **rename)).splitlines())
        parameters.update({rename[k]: v for k, v in rec.parameters.items()})
        initial.update({rename[k]: word_substitute(v, rename) for k, v in rec.initial.items()})
        if not have_same_dimensions(rec.equations[rec.current].dim, syn_dim):
            raise ModelError(f"receptor {rec.ref} current {rec.current!r} is in "
                             f"{describe_dimension(rec.equations[rec.current].dim)}, "
                             f"{neuron.ref}'s {syn!r} in {describe_dimension(syn_dim)}")
        currents.append(rename[rec.current])
    lines.append(f"{syn} = {' + '.join(currents)} : {unit_string(syn_dim)}")

    components = tuple(neuron.components) + tuple(c for _, r in items for c in r.components)
    digest = hashlib.sha256("".join(c[1] for c in components).encode()).hexdigest()
    statuses = [c[2] for c in components]
    status = next((st for st in ("modified", "unreleased", "file") if st in statuses),
                  "released")
    composed = replace(
        neuron,
        name="+".join([neuron.name] + [label for label, _ in items]),
        summary=neuron.summary + " with " + ", ".join(f"{r.ref} as {label!r}"
                                                       for label, r in items),
        equations_text="\n".join(lines) + "\n",
        parameters=MappingProxyType(parameters),
        initial=MappingProxyType(initial),
        components=components,
        status=status,
        sha256=digest,
        path=None,
    )
    check_model(composed, path=f"{neuron.ref} + receptors")
    return composed


def _as_quantity(name, value, default, where):
    try:
        q = parse_quantity(value) if isinstance(value, str) else Quantity(value)
    except (ModelError, TypeError, ValueError) as exc:
        raise ModelError(f"cannot use {value!r} for parameter {name!r}: {exc}",
                         where=where) from None
    if not have_same_dimensions(q, default):
        raise ModelError(f"{name!r} needs a value in {describe_dimension(default)} "
                         f"(default {default!r}), got {value!r} in {describe_dimension(q)}",
                         where=where)
    if not np.all(np.isfinite(np.asarray(q, dtype=float))):
        raise ModelError(f"{name} = {value!r} is not a finite number", where=where)
    return q


def parameter_values(model: Model, overrides: dict) -> dict:
    """The model's parameters with ``overrides`` applied, unit-checked and range-checked.

    Parameters
    ----------
    model : Model
        Any model.
    overrides : dict
        Parameter name to value (a Quantity or a quantity string).

    Returns
    -------
    dict
        Every parameter of the model, name to Quantity.

    Raises
    ------
    ModelError
        For an unknown name, a wrong unit or a value out of physical range.
    """
    unknown = sorted(set(overrides) - set(model.parameters))
    if unknown:
        raise ModelError(f"unknown parameter(s) {', '.join(unknown)} for {model.ref}; "
                         f"parameters: {', '.join(sorted(model.parameters))}", where=model.ref)
    values = dict(model.parameters)
    for name, value in overrides.items():
        values[name] = _as_quantity(name, value, model.parameters[name], model.ref)
        check_range(name, values[name], refractory=model.refractory, where=model.ref)
    return values


def _is_quantity_text(value: str) -> bool:
    try:
        parse_quantity(value)
    except ModelError:
        return False
    return True


def _shared_declarations(values: dict) -> Equations:
    text = "\n".join(f"{name} : {unit_string(get_dimensions(v))} (constant, shared)"
                     for name, v in values.items())
    return Equations(text)


def _set_initial(group, initial: dict):
    for var, value in initial.items():
        try:
            value = parse_quantity(value)
        except ModelError:
            pass  # an expression, evaluated by Brian2 (on every device)
        setattr(group, var, value)


def _noise_parameters(eqs: Equations, values: dict) -> set:
    """The parameters that appear only in white-noise terms (``sigma`` of ``lif``)."""
    noise_names, other_names = set(), set()
    for eq in eqs.ordered:
        if eq.expr is None:
            continue
        deterministic, stochastic = eq.expr.split_stochastic()
        if deterministic is not None:
            other_names |= deterministic.identifiers
        for term in (stochastic or {}).values():
            noise_names |= term.identifiers
    return (noise_names - other_names) & set(values)


def _noise_wanted(noise, scales: set, values: dict, where: str) -> bool:
    """Whether the white-noise terms stay: ``noise`` if given, else unless they are zero.

    ``scales`` are the parameters that only scale the noise (:func:`_noise_parameters`).
    """
    nonzero = sorted(p for p in scales if values[p] != 0 * values[p])
    if noise is None:  # automatic: drop the terms exactly when every noise scale is zero
        return bool(nonzero) or not scales
    if not noise and nonzero:
        raise ModelError(f"{nonzero[0]} = {values[nonzero[0]]} sets the noise, but noise=False "
                         "removes the noise terms; leave it at 0 or pass noise=True",
                         where=where)
    return bool(noise)


def _without_noise(eqs: Equations, values: dict, scales: set) -> tuple[Equations, dict]:
    """``eqs`` with every white-noise term removed (``xi`` replaced by a zero of its unit),
    and ``values`` without the parameters that only scaled it: the group then has no such
    variable, so setting one later (``G.sigma = ...``, ``run_args``) fails loudly instead of
    doing nothing."""
    zeros = {xi: Quantity(0.0, dim=second**-0.5) for xi in eqs.stochastic_variables}
    zeros.update({name: 0 * values[name] for name in scales})
    return eqs.substitute(**zeros), {k: v for k, v in values.items() if k not in scales}


def neuron_group(model, n: int, receptors=(), name=None, *, method=None, dt=None,
                 clock=None, initial=None, extra_equations: str = "",
                 noise: bool | None = None, **overrides) -> NeuronGroup:
    """Build a ready :class:`brian2.NeuronGroup` from a neuron or rate model.

    Parameters
    ----------
    model : Model or str
        The neuron or rate model (or its name).
    n : int
        Number of neurons (a positive integer; ``2.5`` is refused, not rounded).
    receptors : sequence or dict, optional
        Receptor models added with :func:`compose`.
    name : str, optional
        Brian2 name of the group (default: the model's name, made unique).
    method : str, optional
        Integration method (default: the model's ``method``; without one, Brian2's
        choice: ``exact`` for linear noise-free equations, else ``euler``, then ``heun``,
        made by :class:`MethodChoice`, so Brian2 prints no INFO line about it).
    dt : Quantity, optional
        Time step of the group's clock.
    clock : brian2.Clock, optional
        The group's clock (one shared by a network's objects); not with ``dt``.
    initial : dict, optional
        Initial values that replace the model's (quantity strings, quantities or
        Brian2 expressions).
    extra_equations : str
        Equations appended for a network builder's own variables (e.g. a shared
        seed); they are not part of the model and not checked as model code.
    noise : bool or None
        Whether the white-noise terms (``xi``) stay. ``None`` (default): they stay
        unless every parameter that only scales them (``sigma`` of ``lif``) is zero, so
        a noise-free group draws no random number per neuron and step and can be
        integrated exactly. ``False`` removes them (a non-zero ``sigma`` is then an
        error), ``True`` keeps them (to set ``sigma`` after building). When the terms
        are removed, the parameters that only scaled them are not variables of the
        group: setting one later fails instead of silently doing nothing.
    **overrides
        Parameter values (Quantities or strings like ``"12 ms"``), or initial
        values of state variables (``I_ext="250 pA"``); a wrong unit or an
        unknown name raises :class:`~brianlab.errors.ModelError`.

    Returns
    -------
    NeuronGroup
        With parameters as ``(constant, shared)`` variables set to their values
        and initial values applied.

    Raises
    ------
    ModelError
        For an unknown name, a wrong unit, a value out of physical range, or a value
        outside the model's limits of validity at the group's ``dt``
        (:data:`brianlab.ranges.VALIDITY`: ``poisson`` with ``rate*dt > 0.1``).
    """
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"neuron_group needs a positive integer number of neurons n, got "
                         f"{n!r}")
    n = int(n)
    base = _as_model(model)
    if base.kind not in ("neuron", "rate"):
        raise ModelError(f"{base.ref} is a {base.kind} model; neuron_group needs a neuron or "
                         "rate model")
    m = compose(base, receptors) if receptors else base
    start = dict(m.initial)
    for var, value in {**(initial or {}), **{k: v for k, v in overrides.items()
                                             if k not in m.parameters}}.items():
        if var not in m.equations or m.equations[var].type == SUBEXPRESSION:
            if var in overrides:
                continue  # reported as an unknown parameter below
            raise ModelError(f"{var!r} is not a state variable of {m.ref}", where="initial")
        if not isinstance(value, str) or _is_quantity_text(value):
            _as_quantity(var, value, Quantity(1.0, dim=m.equations[var].dim), m.ref)
        start[var] = value
    values = parameter_values(m, {k: v for k, v in overrides.items()
                                  if k in m.parameters or k not in m.equations})
    eqs = m.equations
    if eqs.stochastic_variables:
        scales = _noise_parameters(eqs, values)
        if not _noise_wanted(noise, scales, values, m.ref):
            eqs, values = _without_noise(eqs, values, scales)
    eqs = eqs + _shared_declarations(values) if values else eqs
    if extra_equations.strip():
        eqs = eqs + Equations(extra_equations)
    refractory = False
    if m.refractory:
        try:
            refractory = parse_quantity(m.refractory)
        except ModelError:
            refractory = m.refractory
    kwargs = {k: v for k, v in (("dt", dt), ("clock", clock)) if v is not None}
    _check_validity(base, m, values, start, dt, clock)
    chosen = method or m.method or MethodChoice(DEFAULT_METHODS)
    group = NeuronGroup(int(n), eqs, threshold=m.threshold, reset=m.reset,
                        refractory=refractory, method=chosen,
                        name=name or f"{base.name}*", namespace={}, **kwargs)
    if isinstance(chosen, MethodChoice):
        chosen.group_name = group.name
    for pname, value in values.items():
        setattr(group, pname, value)
    _set_initial(group, start)
    _MODELS[group] = m
    return group


def _check_validity(base: Model, m: Model, values: dict, start: dict, dt, clock):
    """The model's limits of validity (:func:`brianlab.ranges.validity_problem`) for the
    values known when the group is built (expressions are evaluated by Brian2 later and
    are not checked)."""
    if base.name not in VALIDITY:
        return
    known = dict(values)
    for var, value in start.items():
        try:
            known[var] = parse_quantity(value) if isinstance(value, str) else Quantity(value)
        except (ModelError, TypeError, ValueError):
            continue
    if dt is None:
        dt = clock.dt if clock is not None else defaultclock.dt
    problem = validity_problem(base.name, known, dt, label=m.ref)
    if problem:
        raise ModelError(problem)


def synapses(model, source, target, target_var=None, name=None, *, delay=None, method=None,
             connect=None, shared=(), clock=None, **overrides) -> "ModelSynapses":
    """Build :class:`brian2.Synapses` from a synapse model.

    Parameters
    ----------
    model : Model or str
        The synapse model (e.g. ``"stdp_pair"``).
    source, target : NeuronGroup
        Pre- and post-synaptic groups.
    target_var : str, optional
        The post-synaptic variable the synapse drives (default: the model's
        ``target``); must have the model's ``target_unit``. A neuron with receptors
        has one input per receptor (``s_ampa``, ``s_gaba``): name the one to drive.
    name : str, optional
        Brian2 name (default: the model's name, made unique).
    delay : Quantity, optional
        Transmission delay of the ``on_pre`` pathway (default: the model's).
    method : str, optional
        Integration method for continuous synaptic variables.
    connect : bool, str or dict, optional
        If given, call ``connect`` with it (a dict is passed as keyword
        arguments). Parameter and initial values are applied after the first
        ``connect`` call, whenever it happens (see :class:`ModelSynapses`).
    shared : sequence of str
        Per-synapse parameters of the model (e.g. ``w`` of ``static``) to hold as one
        value for all synapses instead: the same dynamics, without an array per synapse
        (17 M synapses: 136 MB less for a float64 weight). Only parameters that no
        equation, ``on_pre`` or ``on_post`` statement changes can be shared.
    clock : brian2.Clock, optional
        The synapses' clock (default: Brian2's ``defaultclock``); give the groups' own.
    **overrides
        Parameter values (Quantities or quantity strings), and initial values of the
        model's per-synapse variables (``w=...``): a quantity or quantity string, a
        Brian2 expression evaluated per synapse (``"rand()*0.5"``, ``"w_max*(i == j)"``,
        using the synapse's parameters, ``i``, ``j`` and the groups' variables with
        ``_pre``/``_post``), or an array of one value per synapse. All are unit-checked
        here and applied after ``connect``, replacing the model's initial values.

    Returns
    -------
    ModelSynapses
        Connected if ``connect`` was given.

    Raises
    ------
    ModelError
        For a name that is neither a parameter nor a variable of the model (the message
        lists both), a value in the wrong unit, a target variable the group lacks (the
        message lists those it could drive) or a variable the model reads from the
        groups that they lack (``not_refractory_post`` of ``delta_gated``).
    """
    m = _as_model(model)
    if m.kind != "synapse":
        raise ModelError(f"{m.ref} is a {m.kind} model, not a synapse model")
    target_var = target_var or m.target
    want = get_dimensions(parse_unit(m.target_unit))
    if target_var not in target.variables:
        raise ModelError(f"the target group {target.name!r} has no variable {target_var!r} "
                         f"for {m.ref} to drive; {_drivable_text(target, want, m.target)}")
    have = target.variables[target_var].dim
    if not have_same_dimensions(want, have):
        jump = ("; for a jump of a voltage use the synapse model 'delta' ('delta_gated' "
                "ignores spikes that arrive during refractoriness)"
                if have_same_dimensions(have, volt) else "")
        raise ModelError(f"{m.ref} drives a variable in {describe_dimension(want)}, "
                         f"but {target.name}.{target_var} is in {describe_dimension(have)}; "
                         f"{_drivable_text(target, want, m.target)}{jump}")
    _check_uses(m, source, target)
    states = _state_variables(m)
    unknown = sorted(set(overrides) - set(m.parameters) - set(states))
    if unknown:
        raise ModelError(f"unknown parameter(s) or variable(s) {', '.join(unknown)} for "
                         f"{m.ref}; parameters: {', '.join(sorted(m.parameters)) or 'none'}; "
                         f"per-synapse variables: {', '.join(sorted(states)) or 'none'}",
                         where=m.ref)
    rename = {f"{m.target}_post": f"{target_var}_post"}
    values = parameter_values(m, {k: v for k, v in overrides.items() if k in m.parameters})
    initial = dict(m.initial)
    for var in (k for k in overrides if k not in m.parameters):
        initial[var] = _synaptic_initial(m, var, overrides[var], states[var], source, target,
                                         var in set(shared))
    eqs = _share(Equations(word_substitute(m.equations_text, rename)), shared, m)
    if values:
        eqs = eqs + _shared_declarations(values)
    if delay is None and m.delay:
        delay = parse_quantity(m.delay)
    kwargs = {k: v for k, v in (("delay", delay), ("clock", clock)) if v is not None}
    on_post = word_substitute(m.on_post, rename) if m.on_post else None
    syn = ModelSynapses(source, target, model=eqs, on_pre=word_substitute(m.on_pre, rename),
                        on_post=on_post, method=method or m.method or "euler",
                        name=name or f"{m.name}*", namespace={}, **kwargs)
    syn._brianlab_pending = (values, initial)
    _MODELS[syn] = m
    if connect is not None:
        if isinstance(connect, dict):
            syn.connect(**connect)
        else:
            syn.connect(connect)
    return syn


def _state_variables(m: Model) -> dict:
    """Name -> dimension of the model's variables that take an initial value."""
    return {name: eq.dim for name, eq in m.equations.items() if eq.type != SUBEXPRESSION}


#: Variables of every Brian2 group that a synapse never drives.
_BRIAN_INTERNAL = frozenset({"t", "dt", "t_in_timestep", "lastspike", "N", "i"})


def _drivable(group, dim) -> list[str]:
    """The group's per-neuron floating-point variables in ``dim`` that statements may change."""
    out = []
    for name, var in group.variables.items():
        if (isinstance(var, ArrayVariable) and not name.startswith("_")
                and name not in _BRIAN_INTERNAL and not var.scalar and not var.constant
                and not var.read_only and np.issubdtype(var.dtype, np.floating)
                and have_same_dimensions(var.dim, dim)):
            out.append(name)
    return sorted(out)


def _drivable_text(group, dim, default: str) -> str:
    """What a synapse in ``dim`` could drive in ``group``, and how to choose it."""
    names = _drivable(group, dim)
    receptors = [n for n in names if n.startswith(f"{default}_")]
    if receptors:
        return (f"its receptor variables are {', '.join(receptors)}: choose one with "
                f"target_var={receptors[0]!r}")
    if names:
        return (f"its variables in {describe_dimension(dim)} are {', '.join(names)}: choose "
                f"one with target_var={names[0]!r}")
    hint = (" (add receptors with compose(), or use a synapse model in the target's unit, "
            "e.g. 'delta' for a voltage jump)")
    return f"it has no variable in {describe_dimension(dim)} to drive{hint}"


def _check_uses(m: Model, source, target):
    """The variables a synapse model reads from its groups (``[uses] not_refractory_post``)."""
    for name, used in m.uses.items():
        for suffix, group, side in (("_post", target, "target"), ("_pre", source, "source")):
            if not name.endswith(suffix):
                continue
            base = name[:-len(suffix)]
            if base not in group.variables:
                why = " (it has no refractory period)" if base == "not_refractory" else ""
                raise ModelError(f"{m.ref} reads {name}, but the {side} group "
                                 f"{group.name!r} has no variable {base!r}{why}")
            dim = group.variables[base].dim
            if not have_same_dimensions(dim, used):
                raise ModelError(f"{m.ref} reads {name} in {describe_dimension(used)}, but "
                                 f"{group.name}.{base} is in {describe_dimension(dim)}")


def _synaptic_initial(m: Model, var: str, value, dim, source, target, shared: bool):
    """Check an initial value of a synaptic variable: its unit, and for an expression
    every name and the dimension of the result."""
    where = f"{m.ref}: {var}"
    if isinstance(value, str) and not _is_quantity_text(value):
        variables = model_variables(m)
        for group, suffix in ((source, "_pre"), (target, "_post")):
            variables.update({f"{n}{suffix}": Quantity(1.0, dim=v.dim)
                              for n, v in group.variables.items() if not n.startswith("_")})
        variables.update({n: Quantity(1.0) for n in ("i", "j", "N_incoming", "N_outgoing")})
        got = _expression_dims(value, variables, None, where)
        if not have_same_dimensions(got, dim):
            raise ModelError(f"{var} = {value!r} is in {describe_dimension(got)}; {var} is in "
                             f"{describe_dimension(dim)}", where=m.ref)
        return value
    try:
        q = parse_quantity(value) if isinstance(value, str) else Quantity(value)
    except (ModelError, TypeError, ValueError) as exc:
        raise ModelError(f"cannot use {value!r} as the initial value of {var!r}: {exc}",
                         where=m.ref) from None
    if not have_same_dimensions(q, Quantity(1.0, dim=dim)):
        raise ModelError(f"{var!r} needs values in {describe_dimension(dim)}, got {value!r} "
                         f"in {describe_dimension(get_dimensions(q))}", where=m.ref)
    if not np.all(np.isfinite(np.asarray(q, dtype=float))):
        raise ModelError(f"{var} = {value!r} is not finite", where=m.ref)
    if shared and np.size(q) != 1:
        raise ModelError(f"{var} is shared (one value for all synapses); got {np.size(q)} "
                         "values", where=m.ref)
    return value


def _share(eqs: Equations, names, model) -> Equations:
    """``eqs`` with the parameters ``names`` declared ``shared``."""
    names = set(names)
    if not names:
        return eqs
    written = assigned_variables(model.on_pre) | assigned_variables(model.on_post)
    out = []
    for eq in eqs.ordered:
        if eq.varname in names:
            if eq.type != PARAMETER or eq.varname in written:
                raise ModelError(f"{model.ref}: {eq.varname} changes during a run (an "
                                 "equation or a pathway statement sets it); only constant "
                                 "parameters can be shared")
            eq = SingleEquation(eq.type, eq.varname, eq.dim, eq.var_type, eq.expr,
                                set(eq.flags) | {"shared"})
        out.append(eq)
    unknown = names - {eq.varname for eq in eqs.ordered}
    if unknown:
        raise ModelError(f"{model.ref} has no parameter {', '.join(sorted(unknown))} to share")
    return Equations(out)


class ModelSynapses(Synapses):
    """:class:`brian2.Synapses` built from a model file.

    Brian2 can only set synaptic variables once synapses exist, so the model's
    parameter values and initial values are applied right after the first call
    of :meth:`connect`; synapses created by later calls keep Brian2's defaults
    (zero) for the initial values.

    Parameters
    ----------
    *args, **kwargs
        Those of :class:`brian2.Synapses`; build them with :func:`synapses`.
    """

    def connect(self, *args, level=0, **kwargs):
        """Create synapses as :meth:`brian2.Synapses.connect` does, then apply the model's
        parameter and initial values if this is the first call.

        Parameters
        ----------
        *args, **kwargs
            Those of :meth:`brian2.Synapses.connect`.
        level : int
            How many frames up Brian2 looks for names (Brian2's own argument).
        """
        super().connect(*args, level=level + 1, **kwargs)
        pending = getattr(self, "_brianlab_pending", None)
        if pending is not None:
            self._brianlab_pending = None
            values, initial = pending
            for var, value in initial.items():
                count = None if isinstance(value, str) else np.size(value)
                if count not in (None, 1) and not self.variables[var].scalar:
                    try:
                        n = len(self)
                    except NotImplementedError:  # standalone: the number is known at run time
                        continue
                    if count != n:
                        raise ModelError(f"{var}: {count} initial values for {n} synapses of "
                                         f"{self.name}; give one value per synapse, a single "
                                         "value or an expression", where=model_of(self).ref)
            for pname, value in values.items():
                setattr(self, pname, value)
            _set_initial(self, initial)


class _ComposeModule(types.ModuleType):
    """``brianlab.compose`` is this module, and calling it calls :func:`compose`.

    The package exports the function ``compose`` under the module's own name; a
    callable module keeps both ``import brianlab.compose`` (the module) and
    ``brianlab.compose(neuron, receptors)`` (the function) working.
    """

    def __call__(self, neuron, receptors):
        return compose(neuron, receptors)


sys.modules[__name__].__class__ = _ComposeModule
