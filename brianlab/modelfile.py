"""Read one TOML model file into a checked, immutable :class:`Model`.

A model file declares equations (Brian2 syntax), parameters with units, and, by
kind, threshold/reset/refractoriness (neurons), the input variable and the
current a receptor adds, or the pre/post-synaptic statements of a synapse. On
load every name is checked to be declared and every equation, statement and
initial value to be dimensionally consistent. Nothing in the file is executed:
values go through :func:`brianlab.units.parse_quantity`, expressions through
Brian2's parser, and equation unit strings are screened before Brian2 sees them.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from types import MappingProxyType

from brian2 import Equations, Quantity, second
from brian2.core.functions import DEFAULT_FUNCTIONS
from brian2.core.namespace import DEFAULT_CONSTANTS, DEFAULT_UNITS
from brian2.equations.equations import BOOLEAN, DIFFERENTIAL_EQUATION, INTEGER, SUBEXPRESSION
from brian2.parsing.expressions import parse_expression_dimensions
from brian2.parsing.sympytools import str_to_sympy
from brian2.stateupdaters.base import StateUpdateMethod
from brian2.units.fundamentalunits import (DIMENSIONLESS, DimensionMismatchError, get_dimensions,
                                           get_unit, have_same_dimensions)
from brian2.utils.stringtools import get_identifiers

from .modelformat import (  # noqa: F401  (the format's names, importable from here as before)
    _COMMON_KEYS, _IDENT, _KIND_KEYS, _NAME, _REQUIRED, KEY_DOCS, KINDS, MAX_DEPTH, MAX_FIELD,
    MAX_FILE_BYTES, MAX_LINE, RESERVED_NAMES, _check_sizes, _check_str, _err, _get_str,
    _read_table, check_structure, decode_file, format_reference, load_toml, read_model_bytes)
from .ranges import check_range
from .units import ModelError, parse_quantity, parse_unit, unit_string

__all__ = ["Model", "ModelError", "KINDS", "KEY_DOCS", "format_reference", "read_model_file", "read_model_bytes",
           "parse_model_bytes", "parse_model_text", "equations_text"]

_STATEMENT = re.compile(r"^\s*([A-Za-z_]\w*)\s*(\+=|-=|\*=|/=|=)\s*(.+?)\s*$")
# "<unit> (<flags>)" after the last ':' of an equation line
_EQ_UNIT = re.compile(r"(.*?)\s*(\(\s*[\w\s,-]*\))?", re.S)

def _freeze(d: dict) -> MappingProxyType:
    return MappingProxyType(dict(d))


@dataclass(frozen=True, eq=False)
class Model:
    """A checked model from a model file (or composed from several).

    A model is data: building Brian2 objects from it lives in :mod:`brianlab.compose`
    (:meth:`neuron_group` and :meth:`synapses` call it). Obtain models with
    :func:`brianlab.load_model` or :func:`read_model_file`; the fields are the keys of
    the file (see the format reference in the guide).

    Parameters
    ----------
    name : str
        The model's name; ``ref`` is ``"name@version"``.
    version : int
        Its version.
    kind : str
        ``neuron``, ``receptor``, ``synapse`` or ``rate``.
    sha256 : str
        Hash of the file's bytes (of the parts, for a composed model).
    equations_text : str
        The equations (the ``model`` of a synapse) as written.
    parameters : mapping of str to Quantity
        Default parameter values. They become constant shared variables of the
        group built from the model, so they can be changed between runs of a
        compiled standalone binary (``run_args``) without recompiling.
    initial : mapping of str to str
        Initial values: a quantity string or an expression of parameters.
    uses : mapping of str to Quantity
        Names taken from elsewhere (a receptor's ``v``; a synapse's ``v_post``)
        with a quantity of their unit.
    summary, notes : str
        One line, and free text.
    references : tuple of str
        Papers, books and simulators the model follows.
    threshold, reset, refractory, synaptic_current : str, optional
        Neuron keys.
    method : str, optional
        Integration method (None: Brian2 chooses).
    label, input, current : str, optional
        Receptor keys.
    on_pre, on_post, target, target_unit, delay : str, optional
        Synapse keys.
    path : str, optional
        The file read (None for a composed model).
    components : tuple
        ``(ref, sha256, status)`` of every file the model was made from.
    status : str
        Release status: ``released``, ``unreleased``, ``modified`` or ``file``.
    """

    name: str
    version: int
    kind: str
    summary: str
    references: tuple
    equations_text: str
    parameters: MappingProxyType
    initial: MappingProxyType = field(default_factory=lambda: _freeze({}))
    uses: MappingProxyType = field(default_factory=lambda: _freeze({}))
    threshold: str | None = None
    reset: str | None = None
    refractory: str | None = None
    method: str | None = None
    synaptic_current: str | None = None
    label: str | None = None
    input: str | None = None
    current: str | None = None
    on_pre: str | None = None
    on_post: str | None = None
    target: str | None = None
    target_unit: str = "1"
    delay: str | None = None
    notes: str = ""
    sha256: str = ""
    path: str | None = None
    #: ``(ref, sha256, status)`` of every file this model was made from (itself, or a neuron
    #: and its receptors)
    components: tuple = ()
    #: ``"released"`` (in its folder's lock, unchanged), ``"unreleased"`` (not in the lock),
    #: ``"modified"`` (differs from its lock entry; loaded only on request) or ``"file"``
    #: (read by path, outside the library)
    status: str = "file"

    # -- identity ---------------------------------------------------------
    @property
    def ref(self) -> str:
        """``"name@version"``, as recorded in results."""
        return f"{self.name}@{self.version}"

    @property
    def provenance(self) -> list[dict]:
        """One ``{"model", "sha256", "status"}`` record per model file this model came from."""
        parts = self.components or ((self.ref, self.sha256, self.status),)
        return [{"model": ref, "sha256": sha, "status": status} for ref, sha, status in parts]

    @cached_property
    def equations(self) -> Equations:
        """The equations as a :class:`brian2.Equations` (the synapse ``model``)."""
        return Equations(self.equations_text)

    def __repr__(self):
        return f"<Model {self.ref} ({self.kind}): {self.summary}>"

    def ode_system(self, **values) -> "OdeSystem":
        """The deterministic ODEs as sympy expressions, for analysis.

        Subexpressions are substituted, noise terms (``xi``) dropped. Parameters and
        non-differential variables (inputs such as ``I_ext``, default 0) become
        numbers in SI units; ``values`` overrides them (Quantities or numbers). The
        time derivatives are in SI units too (per second).

        Parameters
        ----------
        **values
            Parameter or input values, by name.

        Returns
        -------
        OdeSystem

        Raises
        ------
        ModelError
            For a name that is not a parameter or input of the model.
        """
        eqs = self.equations
        numbers = {k: float(v) for k, v in self.parameters.items()}
        for name, eq in eqs.items():
            if eq.type not in (DIFFERENTIAL_EQUATION, SUBEXPRESSION):
                numbers.setdefault(name, 0.0)
        for key, value in values.items():
            if key not in numbers:
                raise ModelError(f"{key!r} is not a parameter or input of {self.ref}")
            numbers[key] = float(value)
        substituted = dict(eqs.get_substituted_expressions())  # subexpressions inserted
        states = [n for n, eq in eqs.items() if eq.type == DIFFERENTIAL_EQUATION]
        rhs = {}
        for name in states:
            expr = str_to_sympy(substituted[name].code)
            noise = [sym for sym in expr.free_symbols if _XI.match(sym.name)]
            expr = expr.subs({sym: 0 for sym in noise})
            rhs[name] = expr.subs({sym: numbers[sym.name] for sym in expr.free_symbols
                                   if sym.name in numbers})
        return OdeSystem(states=tuple(states), rhs=rhs, model=self.ref, values=numbers)

    # -- building (implemented in brianlab.compose) -------------------------
    def neuron_group(self, n, receptors=(), name=None, *, method=None, dt=None,
                     initial=None, extra_equations="", **overrides):
        """Build a ready :class:`brian2.NeuronGroup` from this model.

        Parameters
        ----------
        n : int
            Number of neurons.
        receptors : sequence or dict, optional
            Receptor models added with :func:`brianlab.compose.compose`.
        name : str, optional
            Brian2 name of the group.
        method : str, optional
            Integration method.
        dt : Quantity, optional
            Time step of the group.
        initial : dict, optional
            Initial values that replace the model's.
        extra_equations : str
            Equations of a network builder's own variables.
        **overrides
            Parameter or initial values.

        Returns
        -------
        NeuronGroup

        See Also
        --------
        brianlab.compose.neuron_group : every argument in detail.
        """
        from .compose import neuron_group

        return neuron_group(self, n, receptors=receptors, name=name, method=method, dt=dt,
                            initial=initial, extra_equations=extra_equations, **overrides)

    def synapses(self, source, target, target_var=None, name=None, *, delay=None,
                 method=None, connect=None, shared=(), clock=None, **overrides):
        """Build :class:`brian2.Synapses` from this synapse model.

        Parameters
        ----------
        source, target : NeuronGroup
            Pre- and postsynaptic groups.
        target_var : str, optional
            The postsynaptic variable driven (default: the model's ``target``), e.g.
            ``"s_ampa"`` of a neuron with receptors.
        name : str, optional
            Brian2 name.
        delay : Quantity, optional
            Transmission delay.
        method : str, optional
            Integration method of continuous synaptic variables.
        connect : bool, str or dict, optional
            If given, the synapses are connected at once: ``True`` (all to all), a
            condition string (``"i != j"``) or a dict of keyword arguments of
            :meth:`brian2.Synapses.connect` (``{"p": 0.1}``, ``{"i": pre, "j": post}``).
            Without it the result is not connected: call its ``connect`` yourself. The
            model's values (and ``overrides``) are applied after the first ``connect``.
        shared : sequence of str
            Per-synapse parameters (``w``) to hold as one value for all synapses.
        clock : brian2.Clock, optional
            The synapses' clock.
        **overrides
            Parameter values, and initial values of per-synapse variables
            (``w="0.5"``, ``w="rand()*0.5"``, an array of one value per synapse);
            unit-checked.

        Returns
        -------
        ModelSynapses

        See Also
        --------
        brianlab.compose.synapses : every argument in detail.
        """
        from .compose import synapses

        return synapses(self, source, target, target_var=target_var, name=name, delay=delay,
                        method=method, connect=connect, shared=shared, clock=clock,
                        **overrides)


@dataclass(frozen=True)
class OdeSystem:
    """ODEs of a rate model as sympy expressions in SI units: ``d state/dt = rhs[state]``."""

    states: tuple
    rhs: dict
    model: str
    values: dict


# ---------------------------------------------------------------------------
# reading
# ---------------------------------------------------------------------------
def read_model_file(path) -> Model:
    """Read and check one model file.

    Parameters
    ----------
    path : str or Path
        The file.

    Returns
    -------
    Model
        With status ``file`` (not checked against a lock; :func:`brianlab.load_model`
        does that).

    Raises
    ------
    ModelError
        Naming the file, the key or equation at fault and what was expected.
    """
    return parse_model_bytes(read_model_bytes(path), path=path)


def parse_model_bytes(data: bytes, *, path=None, status: str = "file") -> Model:
    """Check the bytes of a model file (UTF-8 TOML).

    Parameters
    ----------
    data : bytes
        The file's content.
    path : str or Path, optional
        Where it came from (for messages and provenance).
    status : str
        Its release status, recorded in the provenance.

    Returns
    -------
    Model

    Raises
    ------
    ModelError
        For text that is not UTF-8 or not TOML, and every problem of the model.
    """
    text, sha256 = decode_file(data, path=path)
    return parse_model_text(text, path=path, sha256=sha256, status=status)


def parse_model_text(text: str, *, path=None, sha256: str | None = None,
                     status: str = "file") -> Model:
    """Parse and check the text of a model file (see :func:`read_model_file`).

    Parameters
    ----------
    text : str
        TOML text.
    path : str or Path, optional
        Where it came from (for messages and provenance).
    sha256 : str, optional
        Hash of the file's bytes (default: of the UTF-8 text).
    status : str
        Its release status, recorded in the provenance.

    Returns
    -------
    Model

    Raises
    ------
    ModelError
        For every problem of the model.
    """
    if sha256 is None:
        sha256 = hashlib.sha256(text.encode("utf-8")).hexdigest()
    raw = load_toml(text, path=path)
    return _build(raw, path=path, sha256=sha256, status=status)


def _build(raw: dict, *, path, sha256: str, status: str) -> Model:
    structure = check_structure(raw, path, sha256=sha256, status=status)
    kind, name, version = structure.kind, structure.name, structure.version
    references = raw.get("references", [])

    parameters = _read_table(raw, "parameters", path, parse_quantity)
    uses = _read_table(raw, "uses", path, lambda s: Quantity(1.0 * parse_unit(s)))
    initial = _read_table(raw, "initial", path, _check_str)

    eq_key = "model" if kind == "synapse" else "equations"
    eq_text = _get_str(raw, eq_key, path, required=True)
    equations = _parse_equations(eq_text, path, eq_key)

    fields = dict(
        name=name, version=version, kind=kind,
        summary=_get_str(raw, "summary", path, default="") or "",
        references=tuple(references), equations_text=eq_text,
        parameters=_freeze(parameters), initial=_freeze(initial), uses=_freeze(uses),
        method=_get_str(raw, "method", path), notes=_get_str(raw, "notes", path, default="") or "",
        sha256=sha256, path=None if path is None else str(path),
    )
    for key in _KIND_KEYS[kind] - {"equations", "model"}:
        fields[key] = _get_str(raw, key, path)
    if kind == "synapse" and fields["target_unit"] is None:
        fields["target_unit"] = "1"
    fields["components"] = ((f"{name}@{version}", sha256, status),)
    fields["status"] = status
    _check_method(fields["method"], path)
    _check_names(parameters, equations, path)
    model = Model(**fields)
    check_model(model, equations=equations, path=path)
    # cache the parsed equations on the frozen instance
    object.__setattr__(model, "equations", equations)
    return model


def _check_method(method, path):
    if method is None:
        return
    known = list(StateUpdateMethod.stateupdaters)
    if method not in known:
        raise _err(f"unknown integration method {method!r}; Brian2 knows "
                   f"{', '.join(known)}", path, "method")


def _check_names(parameters, equations, path):
    """Parameter and variable names that Brian2 reserves (t, dt, i, N, units, functions...)."""
    for where, names in (("parameters", parameters), ("equations", equations)):
        for name in names:
            problem = None
            if name in RESERVED_NAMES:
                problem = f"{name!r} is a name Brian2 gives its groups itself"
            else:
                try:
                    Equations.check_identifier(name)
                except (SyntaxError, ValueError) as exc:
                    problem = str(exc).rstrip(".")
            if problem:
                raise _err(f"{problem}; choose another name", path, f"{where}.{name}")


def _parse_equations(text: str, path, where: str) -> Equations:
    """Screen every unit string (Brian2 evaluates them), then parse with Brian2."""
    for lineno, line in enumerate(text.splitlines(), start=1):
        code = line.split("#", 1)[0].strip()
        if not code:
            continue
        if ":" not in code:
            raise _err(f"line {lineno}: expected '<equation> : <unit>', got {code!r}", path, where)
        match = _EQ_UNIT.fullmatch(code.rsplit(":", 1)[1].strip())
        unit = match.group(1) if match else ""
        if not unit:
            raise _err(f"line {lineno}: missing unit after ':' in {code!r}", path, where)
        if unit not in ("1", "boolean", "integer"):
            try:
                parse_unit(unit)
            except ModelError as exc:
                raise _err(f"line {lineno}: {exc.reason}", path, where) from None
    try:
        return Equations(text)
    except RecursionError:
        raise _err("an equation is nested too deeply", path, where) from None
    except Exception as exc:  # Brian2 raises several types for bad equations
        msg = " ".join(str(exc).split())
        raise _err(f"cannot parse the equations: {msg}", path, where) from None


def equations_text(eqs: Equations) -> str:
    """Write equations back as model-file text (units as Brian2 base-unit strings).

    Parameters
    ----------
    eqs : Equations
        Brian2 equations.

    Returns
    -------
    str
        One line per equation, flags kept.
    """
    lines = []
    for eq in eqs.values():
        unit = {BOOLEAN: "boolean", INTEGER: "integer"}.get(eq.var_type) or unit_string(eq.dim)
        flags = f" ({', '.join(eq.flags)})" if eq.flags else ""
        if eq.type == DIFFERENTIAL_EQUATION:
            lhs = f"d{eq.varname}/dt = {eq.expr}"
        elif eq.type == SUBEXPRESSION:
            lhs = f"{eq.varname} = {eq.expr}"
        else:
            lhs = eq.varname
        lines.append(f"{lhs} : {unit}{flags}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------
# checking
# ---------------------------------------------------------------------------
_XI = re.compile(r"^xi(_\w+)?$")


def _quantity_of(dim) -> Quantity:
    return Quantity(1.0, dim=dim)


def base_namespace() -> dict:
    """Names every model may use without declaring them (functions, constants, units, t, dt)."""
    names = dict(DEFAULT_UNITS)
    names.update(DEFAULT_CONSTANTS)
    names.update(DEFAULT_FUNCTIONS)
    names.update(t=1.0 * second, dt=1.0 * second, t_in_timestep=_quantity_of(DIMENSIONLESS),
                 i=_quantity_of(DIMENSIONLESS), N=_quantity_of(DIMENSIONLESS))
    return names


def _expression_dims(expr: str, variables: dict, path, where: str):
    for name in get_identifiers(expr):
        if _XI.match(name) and name not in variables:
            variables[name] = 1.0 * second**-0.5
    try:
        return get_dimensions(parse_expression_dimensions(expr, variables))
    except KeyError as exc:
        name = str(exc.args[0]).removeprefix("Unknown identifier ").strip("'\"")
        raise _err(f"undeclared name {name!r} in {expr!r}", path, where) from None
    except DimensionMismatchError as exc:
        raise _err(f"inconsistent units in {expr!r}: {exc}", path, where) from None
    except (SyntaxError, ValueError, TypeError, AttributeError) as exc:
        raise _err(f"cannot read the expression {expr!r}: {exc}", path, where) from None
    except RecursionError:
        raise _err(f"the expression is nested too deeply: {expr[:60]!r}...", path,
                   where) from None


def describe_dimension(dim) -> str:
    """``volt/second`` style text for a dimension (``1`` for dimensionless)."""
    dim = get_dimensions(dim)
    if dim is DIMENSIONLESS:
        return "1 (dimensionless)"
    for factor, suffix in ((1, ""), (second, "/second"), (1 / second, "*second")):
        text = repr(get_unit(dim * get_dimensions(factor))).replace(" ", "")
        if "**" not in text and "*" not in text.replace("/", "", 1)[1:]:
            return text + suffix
    return repr(get_unit(dim)).replace(" ", "")


def _expect(dim_got, dim_expected, what: str, path, where: str):
    if not have_same_dimensions(dim_got, dim_expected):
        raise _err(f"{what}: the two sides disagree in dimension: left side is "
                   f"{describe_dimension(dim_expected)}, right side is "
                   f"{describe_dimension(dim_got)}", path, where)


def _split_statements(code: str) -> list[str]:
    """The statements of ``on_pre``/``on_post``/``reset`` code (``;`` or newline apart)."""
    return [s for s in re.split(r"[;\n]", code or "") if s.strip()]


def assigned_variables(code: str) -> set[str]:
    """The variables that statements assign to (``v = ...``, ``w += ...``).

    Parameters
    ----------
    code : str
        Statements, separated by ``;`` or newlines (empty or None: none).

    Returns
    -------
    set of str
    """
    return {m.group(1) for s in _split_statements(code) if (m := _STATEMENT.match(s))}


def _check_statements(code: str, variables: dict, path, where: str):
    for statement in _split_statements(code):
        match = _STATEMENT.match(statement)
        if not match:
            raise _err(f"expected '<variable> = <expression>', got {statement.strip()!r}",
                       path, where)
        lhs, op, rhs = match.groups()
        if lhs not in variables:
            raise _err(f"assignment to the undeclared variable {lhs!r}", path, where)
        rhs_dim = _expression_dims(rhs, variables, path, where)
        lhs_dim = get_dimensions(variables[lhs])
        if op in ("*=", "/="):
            _expect(rhs_dim, DIMENSIONLESS, statement.strip(), path, where)
        else:
            _expect(rhs_dim, lhs_dim, statement.strip(), path, where)


def model_variables(model: Model, equations: Equations | None = None) -> dict:
    """Name -> quantity-of-its-unit for everything a model's code may refer to."""
    equations = model.equations if equations is None else equations
    variables = base_namespace()
    variables.update(model.parameters)
    for varname, eq in equations.items():
        variables[varname] = _quantity_of(eq.dim)
    variables.update(model.uses)
    if model.kind in ("neuron", "rate") and model.refractory:
        variables["not_refractory"] = _quantity_of(DIMENSIONLESS)
        variables["lastspike"] = 1.0 * second
    if model.kind == "synapse":
        target_dim = get_dimensions(parse_unit(model.target_unit))
        variables[f"{model.target}_post"] = _quantity_of(target_dim)
        variables["lastupdate"] = 1.0 * second
        for suffix in ("_pre", "_post"):
            variables[f"lastspike{suffix}"] = 1.0 * second
            variables[f"i{suffix}" if suffix == "_pre" else "j"] = _quantity_of(DIMENSIONLESS)
    return variables


def check_model(model: Model, *, equations: Equations | None = None, path=None):
    """Check names and dimensions of every equation, statement and value of ``model``.

    Raises
    ------
    ModelError
        On the first problem found.
    """
    equations = model.equations if equations is None else equations
    path = model.path if path is None else path
    eq_key = "model" if model.kind == "synapse" else "equations"
    clash = sorted(set(model.parameters) & set(equations))
    if clash:
        raise _err(f"{', '.join(clash)} declared both as parameter and as variable", path,
                   "parameters")
    for pname, value in model.parameters.items():
        check_range(pname, value, refractory=model.refractory, path=path,
                    where=f"parameters.{pname}")
    variables = model_variables(model, equations)

    for varname, eq in equations.items():
        if eq.type == DIFFERENTIAL_EQUATION:
            where = f"{eq_key}: d{varname}/dt"
            got = _expression_dims(str(eq.expr), variables, path, where)
            _expect(got, eq.dim / second.dim, f"d{varname}/dt = {eq.expr}", path, where)
        elif eq.type == SUBEXPRESSION:
            where = f"{eq_key}: {varname}"
            got = _expression_dims(str(eq.expr), variables, path, where)
            _expect(got, eq.dim, f"{varname} = {eq.expr}", path, where)

    if model.threshold:
        _expression_dims(model.threshold, variables, path, "threshold")
    for key in ("reset", "on_pre", "on_post"):
        code = getattr(model, key)
        if code:
            _check_statements(code, variables, path, key)
    if model.refractory:
        _check_refractory(model.refractory, variables, path)
    if model.delay:
        _expect(_value_or_expression(model.delay, variables, path, "delay"), second.dim,
                "delay", path, "delay")
    for var, value in model.initial.items():
        where = f"initial.{var}"
        if var not in equations or equations[var].type == SUBEXPRESSION:
            raise _err(f"{var!r} is not a state variable of the model", path, where)
        got = _value_or_expression(value, variables, path, where)
        _expect(got, equations[var].dim, f"{var} = {value}", path, where)

    if model.kind == "neuron" and model.synaptic_current:
        _need_variable(model.synaptic_current, equations, path, "synaptic_current")
    if model.kind == "receptor":
        _need_variable(model.input, equations, path, "input")
        _need_variable(model.current, equations, path, "current")
        if not _NAME.match(model.label):
            raise _err(f"invalid label {model.label!r}", path, "label")
    if model.kind == "synapse":
        reserved = sorted(n for n in list(equations) + list(model.parameters)
                          if n.endswith(("_pre", "_post")))
        if reserved:
            raise _err(f"{', '.join(reserved)}: names of synapse variables and parameters may "
                       "not end in _pre or _post (Brian2 uses these suffixes for the pre- and "
                       "post-synaptic groups)", path, eq_key)
        if not _IDENT.match(model.target):
            raise _err(f"invalid variable name {model.target!r}", path, "target")
        try:
            parse_unit(model.target_unit)
        except ModelError as exc:
            raise _err(exc.reason, path, "target_unit") from None


def _need_variable(name, equations, path, where):
    if name not in equations:
        raise _err(f"{name!r} is not a variable of the equations", path, where)


def _value_or_expression(value: str, variables, path, where):
    try:
        return get_dimensions(parse_quantity(value))
    except ModelError:
        return _expression_dims(value, variables, path, where)


def _check_refractory(value: str, variables, path):
    dim = _value_or_expression(value, variables, path, "refractory")
    if not (have_same_dimensions(dim, second.dim) or dim is DIMENSIONLESS):
        raise _err(f"expected a time or a condition, got {describe_dimension(dim)}", path,
                   "refractory")
