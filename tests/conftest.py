"""Shared test set-up: the numpy code-generation target (no compilation) for runtime tests."""

import os

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")
# OpenMP threads (NEST's, a cpp_standalone binary's with threads > 1) sleep at a barrier
# instead of spinning: with `pytest -n 2` on 2 cores a spinning thread takes the core its
# partner or the other worker's compiler needs (measured in CI: the NEST sheet tests took
# 3.7x their time alone). Results do not depend on it.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


@pytest.fixture(autouse=True)
def _numpy_target():
    """Run runtime-device tests with numpy code generation; restore preferences and the
    default clock's dt after."""
    from brian2 import prefs

    from brian2 import defaultclock, ms

    prefs._backup()
    prefs.codegen.target = "numpy"
    yield
    prefs._restore()
    defaultclock.dt = 0.1 * ms  # (a test that builds a sheet itself sets it)


MODEL_HEADER = 'name = "x"\nversion = 1\nkind = "neuron"\n'


def neuron_text(equations, parameters="", extra=""):
    """A minimal neuron model file as text."""
    return (MODEL_HEADER + f'equations = """\n{equations}\n"""\n{extra}\n[parameters]\n'
            + parameters)


def require(module: str):
    """Import a module of the ``validate`` extra (NEST, canns).

    Where ``$BRIANLAB_VALIDATE`` is ``required`` (CI sets it) a missing module is an error,
    so the cross-simulator tests can never be skipped silently; elsewhere they are skipped.
    """
    import importlib

    if os.environ.get("BRIANLAB_VALIDATE") == "required":
        return importlib.import_module(module)
    return pytest.importorskip(module)


@pytest.fixture
def wait_for_a_point():
    """``wait(proc, out, limit)``: block until the sweep run by ``proc`` has saved a point
    into ``out/points`` (failing with its output if it ends or ``limit`` s pass first)."""
    import time

    def wait(proc, out, limit=600):
        deadline = time.monotonic() + limit
        while not list(out.glob("points/*.json")):
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.05)

    return wait
