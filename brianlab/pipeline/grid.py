"""The values of a sweep as text: ``--grid NAME=VALUES``, seeds, and the limits of a sweep.

Tier 1 (never imports Brian2): a command checks its grid before anything is read. Values
are numbers; a unit, given once at the end (``"we=0.01:0.03:0.005 uS"``), is returned as
text and converted at plan time (tier 2, ``brianlab.units``), so a repeated command needs
no conversion.
"""

from __future__ import annotations

import argparse
import math
import re

import numpy as np

from ..seeds import MAX_SEED

__all__ = ["MAX_VALUES", "MAX_POINTS", "MAX_BUILDS", "MAX_AXES", "parse_values",
           "parse_assignment", "parse_range", "parse_seeds", "check_grid", "checked"]

#: Most values (or seeds) of one sweep axis.
MAX_VALUES = 10_000
#: Most points (values x seeds) of one sweep.
MAX_POINTS = 100_000
#: Most structures (builds) of one sweep.
MAX_BUILDS = 64
#: Most ``--grid`` axes of one sweep.
MAX_AXES = 4

_INTEGER = re.compile(r"[+-]?\d+")


class _Refused(ValueError):
    """Why a list of numbers is refused: ``"syntax"``, ``"too many"`` or ``"empty"``."""

    def __init__(self, why: str, count: float | None = None):
        super().__init__(why)
        self.why = why
        self.count = count


def _number(text: str) -> int | float:
    text = text.strip()
    return int(text) if _INTEGER.fullmatch(text) else float(text)


def _numbers(text: str) -> list[int] | list[float]:
    """``START:STOP:STEP`` (stop included) or ``V1,V2,...``: finite numbers, ints when
    every number is written as an integer; :class:`_Refused` says why not."""
    try:
        if ":" in text:
            start, stop, step = (_number(x) for x in text.split(":"))
            if not (step > 0 and all(math.isfinite(x) for x in (start, stop, step))):
                raise _Refused("syntax")
            count = (stop - start) / step + 1
            if count > MAX_VALUES:
                raise _Refused("too many", count)
            if all(isinstance(x, int) for x in (start, stop, step)):
                values = list(range(start, stop + 1, step))
            else:
                values = [float(v) for v in np.round(np.arange(start, stop + step / 2, step), 10)]
        else:
            values = [_number(x) for x in text.split(",") if x.strip()]
            if len(values) > MAX_VALUES or not all(math.isfinite(v) for v in values):
                raise _Refused("syntax")
            if not all(isinstance(v, int) for v in values):
                values = [float(v) for v in values]
    except _Refused:
        raise
    except (ValueError, OverflowError):
        raise _Refused("syntax") from None
    if not values:
        raise _Refused("empty")
    return values


def _split_unit(text: str) -> tuple[str, str | None]:
    """``"0.01:0.03:0.005 uS"`` -> ``("0.01:0.03:0.005", "uS")``: the last word is the
    unit when it starts with a letter and is not a number (``nan``, ``inf``)."""
    words = text.split()
    if len(words) < 2 or not (words[-1][0].isalpha() or words[-1][0] in "µμ"):
        return text, None
    try:
        float(words[-1])
    except ValueError:
        return " ".join(words[:-1]), words[-1]
    return text, None


def parse_values(text: str, *, what: str | None = None) -> tuple[list[float] | list[int],
                                                                 str | None]:
    """The values of one sweep axis, and their unit as given.

    Parameters
    ----------
    text : str
        ``START:STOP:STEP[ UNIT]`` (step > 0, stop included, values rounded to 10 decimals
        as ``np.round(np.arange(...), 10)``) or ``V1,V2,...[ UNIT]``; the unit, once at the
        end after a space, applies to every value.
    what : str, optional
        What the message of an error names (default: ``text``), e.g. ``"--grid we=..."``.

    Returns
    -------
    values : list of int or list of float
        At most :data:`MAX_VALUES` finite numbers; ints when every number of ``text`` is
        written as an integer (``400,800`` or ``400:1600:400``), else floats.
    unit : str or None
        The unit's text, not converted (tier 2 converts it at plan time).

    Raises
    ------
    ValueError
        ``"{what}: expected START:STOP:STEP (step > 0) or a comma list of at most 10000
        finite values"``; for a range of more values ``"{what}: N values; one axis has at
        most 10,000"``; for a range without values ``"{what}: no values (STOP is below
        START)"``.
    """
    what = text if what is None else what
    numbers, unit = _split_unit(text)
    try:
        return _numbers(numbers), unit
    except _Refused as refused:
        if refused.why == "too many":
            message = (f"{math.floor(refused.count + 1e-9):,} values; one axis has at most "
                       f"{MAX_VALUES:,}")
        elif refused.why == "empty" and ":" in numbers:
            message = "no values (STOP is below START)"
        else:
            message = (f"expected START:STOP:STEP (step > 0) or a comma list of at most "
                       f"{MAX_VALUES} finite values")
        raise ValueError(f"{what}: {message}") from None


def parse_assignment(text: str, *, option: str = "--grid") -> tuple[str, list[float] | list[int],
                                                                    str | None]:
    """``NAME=VALUES`` of a ``--grid`` option.

    Parameters
    ----------
    text : str
        ``"we=0.01:0.03:0.005 uS"``, ``"populations.E.size=400,800,1600"``: a name (a
        run-time parameter or a structure path: letters, digits, ``_`` and dots), ``=``
        and values as :func:`parse_values` reads them.
    option : str
        The option the messages name.

    Returns
    -------
    name : str
    values : list of int or list of float
    unit : str or None

    Raises
    ------
    ValueError
        ``"--grid TEXT: expected NAME=VALUES ..."`` for a missing or malformed name, else
        as :func:`parse_values` (``"--grid we=0.01:0.03:-1: expected START:STOP:STEP
        (step > 0) or a comma list of at most 10000 finite values"``).
    """
    name, sep, values = text.partition("=")
    name = name.strip()
    if not sep or not re.fullmatch(r"[A-Za-z_][\w]*(\.[A-Za-z_\d][\w]*)*", name):
        raise ValueError(f"{option} {text}: expected NAME=VALUES (a parameter name or a "
                         f"structure path, '=', then START:STOP:STEP or a comma list)")
    numbers, unit = parse_values(values, what=f"{option} {text}")
    return name, numbers, unit


def check_grid(axes, n_seeds: int) -> int:
    """Refuse a sweep over too many axes or points, or a name given twice.

    Parameters
    ----------
    axes : sequence of tuple
        ``(name, values, ...)`` per axis, in axis order (as :func:`parse_assignment`
        returns them).
    n_seeds : int
        Seeds per point.

    Returns
    -------
    int
        The number of points (values x seeds).

    Raises
    ------
    ValueError
        ``"NAME is given twice: give each name once"``; ``"N axes; one sweep has at most
        4"``; ``"120,000 points (values x seeds); one sweep has at most 100,000: split it
        into several --out folders"``.
    """
    names = [axis[0] for axis in axes]
    for name in names:
        if names.count(name) > 1:
            raise ValueError(f"{name} is given twice: give each name once")
    if len(names) > MAX_AXES:
        raise ValueError(f"{len(names)} axes; one sweep has at most {MAX_AXES}")
    points = math.prod(len(axis[1]) for axis in axes) * n_seeds
    if points > MAX_POINTS:
        raise ValueError(f"{points:,} points (values x seeds); one sweep has at most "
                         f"{MAX_POINTS:,}: split it into several --out folders")
    return points


def parse_range(text: str) -> list[float]:
    """The argparse type of ``python -m brianlab.cmsa sweep --values``.

    Parameters
    ----------
    text : str
        ``"5:12.5:0.5"`` (start:stop:step, stop included) or ``"5,6.5,10"``; no unit.

    Returns
    -------
    list of float
        Finite values, as :func:`parse_values` reads them.

    Raises
    ------
    argparse.ArgumentTypeError
        ``"expected START:STOP:STEP or a comma list of at most 10000 finite numbers, got
        TEXT"``, ``"the range TEXT has more than 10000 values"`` or ``"the range TEXT is
        empty"``.
    """
    try:
        return [float(v) for v in _numbers(text)]
    except _Refused as refused:
        if refused.why == "too many":
            raise argparse.ArgumentTypeError(
                f"the range {text!r} has more than {MAX_VALUES} values") from None
        if refused.why == "empty":
            raise argparse.ArgumentTypeError(f"the range {text!r} is empty") from None
        raise argparse.ArgumentTypeError(f"expected START:STOP:STEP or a comma list of at most "
                                         f"{MAX_VALUES} finite numbers, got {text!r}") from None


def parse_seeds(text: str, maximum: int = MAX_SEED) -> list[int]:
    """Seeds: ``"0-9"`` or ``"0,3,7"``.

    Parameters
    ----------
    text : str
        ``FIRST-LAST`` (both included) or a comma list.
    maximum : int
        The largest seed allowed (default :data:`brianlab.seeds.MAX_SEED`; a hash drive's
        is :data:`brianlab.seeds.MAX_HASH_SEED`).

    Returns
    -------
    list of int
        At most :data:`MAX_VALUES` seeds from 0 to ``maximum``.

    Raises
    ------
    argparse.ArgumentTypeError
        ``"expected FIRST-LAST or a comma list, got TEXT"``, ``"the seed range TEXT has
        more than 10000 seeds"`` or ``"the seed range TEXT is empty, too long or outside
        0 ... MAXIMUM"``.
    """
    try:
        if "-" in text:
            a, b = (int(x) for x in text.split("-"))
            if b - a + 1 > MAX_VALUES:
                raise argparse.ArgumentTypeError(
                    f"the seed range {text!r} has more than {MAX_VALUES} seeds")
            seeds = list(range(a, b + 1))
        else:
            seeds = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected FIRST-LAST or a comma list, got {text!r}")
    if not seeds or min(seeds) < 0 or max(seeds) > maximum or len(seeds) > MAX_VALUES:
        raise argparse.ArgumentTypeError(f"the seed range {text!r} is empty, too long or "
                                         f"outside 0 ... {maximum}")
    return seeds


def checked(convert, ok, expected: str):
    """An argparse type: ``convert(text)``, refused with a message unless ``ok(value)``.

    Parameters
    ----------
    convert : callable
        ``str -> value``; a ``ValueError`` refuses the text.
    ok : callable
        ``value -> bool``.
    expected : str
        What the message says was expected (``"a finite number"``).

    Returns
    -------
    callable
        ``str -> value``, raising ``argparse.ArgumentTypeError("expected EXPECTED, got
        TEXT")``.
    """
    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or not ok(value):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value
    return parse
