"""Shared test set-up: the numpy code-generation target (no compilation) for runtime tests."""

import os

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(autouse=True)
def _numpy_target():
    """Run runtime-device tests with numpy code generation; restore preferences after."""
    from brian2 import prefs

    prefs._backup()
    prefs.codegen.target = "numpy"
    yield
    prefs._restore()


MODEL_HEADER = 'name = "x"\nversion = 1\nkind = "neuron"\n'


def neuron_text(equations, parameters="", extra=""):
    """A minimal neuron model file as text."""
    return (MODEL_HEADER + f'equations = """\n{equations}\n"""\n{extra}\n[parameters]\n'
            + parameters)
