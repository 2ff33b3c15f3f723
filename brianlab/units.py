"""A small, safe parser for quantities and units written as text.

Model files give every value as a string such as ``"10 ms"``, ``"-54.402 mV"``,
``"0.05 uS"`` or ``"1e-4 cm**2"``. This module turns such strings into Brian2
quantities without ever calling :func:`eval`: the text is parsed with :mod:`ast`
and only numbers, known unit names, ``*``, ``/``, ``**`` (with a small numeric
exponent), unary signs and parentheses are accepted.
"""

from __future__ import annotations

import ast
import math
import re

import numpy as np
from brian2 import Quantity, Unit
from brian2.core.namespace import DEFAULT_UNITS
from brian2.units.fundamentalunits import DIMENSIONLESS, Dimension, get_unit

from .errors import ModelError

__all__ = ["ModelError", "parse_quantity", "parse_unit", "quantity_text", "unit_string",
           "MAX_TEXT"]

#: Longest value or unit string accepted (guards against pathological input).
MAX_TEXT = 200
#: Largest absolute exponent accepted in ``unit ** n``.
MAX_EXPONENT = 12

_NUMBER = re.compile(r"^\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*(.*?)\s*$", re.S)


def _unit_value(node: ast.AST, text: str):
    """Evaluate a whitelisted unit expression node to a Brian2 Unit/Quantity."""
    if isinstance(node, ast.Name):
        try:
            return DEFAULT_UNITS[node.id]
        except KeyError:
            raise ModelError(f"unknown unit {node.id!r} in {text!r}") from None
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        if node.value != 1:
            raise ModelError(f"a unit may not contain the number {node.value!r} (in {text!r})")
        return 1
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, ast.Pow):
            exponent = _exponent(node.right, text)
            return _unit_value(node.left, text) ** exponent
        left, right = _unit_value(node.left, text), _unit_value(node.right, text)
        if isinstance(node.op, ast.Mult):
            return left * right
        if isinstance(node.op, ast.Div):
            return left / right
    raise ModelError(f"not a unit expression: {text!r} (allowed: unit names, *, /, ** n)")


def _exponent(node: ast.AST, text: str) -> float:
    sign = 1
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        sign = -1 if isinstance(node.op, ast.USub) else 1
        node = node.operand
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        if abs(node.value) > MAX_EXPONENT:
            raise ModelError(f"exponent {node.value!r} too large in {text!r}")
        return sign * node.value
    raise ModelError(f"an exponent must be a plain number (in {text!r})")


def _parse_ast(text: str) -> ast.AST:
    if len(text) > MAX_TEXT:
        raise ModelError(f"value too long ({len(text)} characters, at most {MAX_TEXT})")
    try:
        return ast.parse(text, mode="eval").body
    except SyntaxError:
        raise ModelError(f"cannot read {text!r} as a unit") from None


def parse_unit(text: str):
    """Parse a unit expression such as ``"mV"``, ``"nS/um**2"`` or ``"1"``.

    Parameters
    ----------
    text : str
        The expression.

    Returns
    -------
    unit : Unit or int
        The unit (``1`` for dimensionless).

    Raises
    ------
    ModelError
        If the text is anything but a product/quotient/power of known units.
    """
    if not isinstance(text, str):
        raise ModelError(f"expected a unit string, got {type(text).__name__}")
    stripped = text.strip()
    if stripped in ("", "1"):
        return 1
    return _unit_value(_parse_ast(stripped), text)


def parse_quantity(text) -> Quantity:
    """Parse ``"<number> [unit expression]"`` into a Brian2 quantity.

    Examples: ``"10 ms"``, ``"-54.402 mV"``, ``"1e-4 cm**2"``, ``"2.8"``,
    ``"5*mV"``. Plain ints and floats from TOML are accepted as dimensionless.

    Parameters
    ----------
    text : str, int or float
        The value.

    Returns
    -------
    Quantity

    Raises
    ------
    ModelError
        For anything else; nothing in the text is ever executed.
    """
    if isinstance(text, bool):
        raise ModelError(f"expected a number with a unit, got the boolean {text!r}")
    if isinstance(text, (int, float)):
        return Quantity(float(text))
    if not isinstance(text, str):
        raise ModelError(f"expected a number with a unit as a string, got {type(text).__name__}")
    if len(text) > MAX_TEXT:
        raise ModelError(f"value too long ({len(text)} characters, at most {MAX_TEXT})")
    match = _NUMBER.match(text)
    if not match:
        raise ModelError(f"expected '<number> <unit>' such as '10 ms', got {text!r}")
    number, rest = float(match.group(1)), match.group(2)
    if not math.isfinite(number):
        raise ModelError(f"{text!r} is not a finite number")
    if rest.startswith("*"):
        rest = rest[1:].lstrip()
        if not rest:
            raise ModelError(f"missing unit after '*' in {text!r}")
    unit = parse_unit(rest) if rest else 1
    with np.errstate(over="ignore"):
        value = Quantity(number * unit)
    if not np.isfinite(float(value)):
        raise ModelError(f"{text!r} is not a finite number in SI units")
    return value


def quantity_text(value) -> str:
    """A scalar quantity as the text :func:`parse_quantity` reads: one form for one value.

    The number in Brian2's best unit for it, in the fewest digits that read back as the
    same float (``"3 nS"``, ``"1.62 mV"``, ``"-0.6 mV"``, ``"5"`` when dimensionless),
    whether the value was given as a quantity or as text; results record parameter values
    this way.

    Parameters
    ----------
    value : Quantity, str, int or float
        A scalar (text is parsed first).

    Returns
    -------
    str
    """
    q = value if isinstance(value, Quantity) else parse_quantity(value)
    if np.ndim(q) != 0:
        raise ModelError(f"expected a single value, got an array of shape {np.shape(q)}")
    if q.is_dimensionless:
        forms = [(float(q), "")]
    else:  # Brian2's best unit, else SI base units (a unit name the parser does not know)
        best = q.get_best_unit()
        forms = [(float(q / best), f" {best}"), (float(q), f" {unit_string(q.dim)}")]
    for number, unit in forms:
        for digits in (15, 16, 17):
            text = f"{number:.{digits}g}{unit}"
            try:
                if float(parse_quantity(text)) == float(q):
                    return text
            except ModelError:
                break
    return text


def unit_string(dim: Dimension) -> str:
    """Write a dimension as a base-unit string that Brian2's ``Equations`` accept.

    Parameters
    ----------
    dim : Dimension
        A Brian2 dimension.

    Returns
    -------
    str
        ``"1"``, a unit name (``"volt"``) or a product of SI base units with powers.
    """
    if dim is DIMENSIONLESS or dim == DIMENSIONLESS:
        return "1"
    unit = get_unit(dim)
    if isinstance(unit, Unit) and float(unit) == 1.0 and repr(unit) in DEFAULT_UNITS:
        return repr(unit)
    names = ["metre", "kilogram", "second", "amp", "kelvin", "mole", "candela"]
    parts = []
    for name, power in zip(names, dim._dims, strict=True):
        if power == 0:
            continue
        parts.append(name if power == 1 else f"{name}**{power:g}")
    return "*".join(parts)
