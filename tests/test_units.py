"""The safe value parser: quantities from text, never eval."""

import math

import numpy as np

import pytest
from brian2 import Quantity, cm, mV, ms, nS, uS, volt
from hypothesis import given, settings
from hypothesis import strategies as st

from brianlab import ModelError, parse_quantity
from brianlab.units import parse_unit, quantity_text, unit_string


@pytest.mark.parametrize("text, expected", [
    ("10 ms", 10 * ms),
    ("-54.402 mV", -54.402 * mV),
    ("0.05 uS", 0.05 * uS),
    ("1e-4 cm**2", 1e-4 * cm**2),
    ("2.8", Quantity(2.8)),
    ("5*mV", 5 * mV),
    ("  3  nS ", 3 * nS),
    (".5 ms", 0.5 * ms),
    ("1 nS/mV", 1 * nS / mV),
    ("2 mV/ms**0.5", 2 * mV / ms**0.5),
    (7, Quantity(7.0)),
    (0.25, Quantity(0.25)),
])
def test_parses_numbers_with_units(text, expected):
    value = parse_quantity(text)
    assert value.dim == expected.dim
    assert float(value) == pytest.approx(float(expected), rel=1e-12)


@pytest.mark.parametrize("text", [
    "", "ms", "10 parsec", "10 mV mV", "10 mV +", "1 ms**x", "1 ms**9**9**9", "1 2 ms",
    "__import__('os').system('touch /tmp/brianlab_pwned')", "10 ms; import os", "10 (lambda: 1)",
    "1 ms.__class__", "1 [ms]", "1 'ms'", "1 ms**(1/2)", "x" * 300, True, None, [1],
])
def test_refuses_anything_else(text):
    with pytest.raises(ModelError):
        parse_quantity(text)


def test_code_in_a_value_is_never_run(tmp_path):
    marker = tmp_path / "pwned"
    for text in [f"__import__('os').system('touch {marker}')",
                 f"1 * __import__('pathlib').Path('{marker}').touch()",
                 f"1 mV**__import__('os').system('touch {marker}')"]:
        with pytest.raises(ModelError):
            parse_quantity(text)
    assert not marker.exists()


def test_unit_string_round_trips_through_brian():
    from brian2 import Equations

    for unit in [volt, volt / ms, nS / cm**2, ms**-0.5, Quantity(1.0)]:
        text = unit_string(Quantity(unit).dim)
        eqs = Equations(f"x : {text}")
        assert eqs["x"].dim == Quantity(unit).dim
    assert parse_unit("1") == 1


def assert_quantity_or_model_error(text):
    """The parser's contract: a Quantity or a ModelError, never anything else."""
    try:
        value = parse_quantity(text)
    except ModelError:
        return
    assert isinstance(value, Quantity)


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=60))
def test_fuzz_text_gives_quantity_or_model_error(text):
    assert_quantity_or_model_error(text)


_UNITS = ["ms", "mV", "nS", "uS", "pF", "nA", "Hz", "cm", "um", "Mohm", "second", "volt"]


@settings(max_examples=200, deadline=None)
@given(number=st.floats(allow_nan=False, allow_infinity=False, width=64),
       unit=st.sampled_from(_UNITS), power=st.sampled_from([1, 2, -1, 3]))
def test_fuzz_well_formed_values_parse_exactly(number, unit, power):
    from brian2.core.namespace import DEFAULT_UNITS

    text = f"{number!r} {unit}" + ("" if power == 1 else f"**{power}")
    with np.errstate(over="ignore"):
        expected = number * DEFAULT_UNITS[unit] ** power
    if not math.isfinite(float(expected)):  # overflows in SI units: never a parameter
        with pytest.raises(ModelError, match="not a finite number"):
            parse_quantity(text)
        return
    value = parse_quantity(text)
    assert value.dim == Quantity(expected).dim
    if math.isfinite(float(expected)) and expected != 0:
        assert float(value) == pytest.approx(float(expected), rel=1e-12)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789.eE+-*/() msVmnSuAF_", max_size=40))
def test_fuzz_unit_like_text(text):
    assert_quantity_or_model_error(text)


@pytest.mark.parametrize("value, text", [
    (3 * nS, "3 nS"), ("3 nS", "3 nS"), ("0.003 uS", "3e-09 siemens"), (-0.6 * mV, "-0.6 mV"),
    (5.0, "5"), ("5", "5"), (0.01, "0.01"), (60 * 0.27 / 10 * mV, "1.6200000000000003 mV"),
    (1e-300 * mV, "1.0000000000000001e-303 volt"), (2 * cm ** 2, "0.0002 metre2")])
def test_quantity_text_is_one_exact_form_per_value(value, text):
    """One text per value, whatever form it was given in (results compare them), that
    reads back as the same float: the shortest of 15-17 digits, in Brian2's best unit or,
    where no such text is exact (0.003 uS is not the float of 3 nS) or the unit has no
    name the parser knows, in SI units."""
    assert quantity_text(value) == text
    q = value if isinstance(value, Quantity) else parse_quantity(value)
    assert float(parse_quantity(text)) == float(q)
    with pytest.raises(ModelError, match="single value"):
        quantity_text(np.ones(2) * mV)
