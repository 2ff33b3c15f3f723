"""``brianlab.runargs``: the one encoding of run-time values for a standalone binary is
Brian2's own (``CPPStandaloneDevice._prepare_variableview_run_arg``), and a point's
command line follows its build's targets."""

from types import SimpleNamespace

import numpy as np
import pytest
from brian2 import NeuronGroup, ms

from brianlab import runargs
from brianlab.devices import DeviceSession
from brianlab.errors import DeviceError, ModelError
from brianlab.ranges import range_problem

#: (variable, values) the binary may be given: floats (with and without units), integers
#: and booleans, including the extremes of a double and negative zero
CASES = {
    "x": [0.01, 3, -2, 1e-300, 1e300, -0.0, 0.0, 5e-324, 0.1 + 0.2, 2.5e-9, True],
    "tau": [5 * ms, 0.1 * ms, 1e-300 * ms, -0.0 * ms],
    "n": [3, -7, 0, 2**31 - 1, 3.0, np.int64(12)],
    "b": [True, False, np.bool_(True), 1, 0],
}


@pytest.fixture(scope="module")
def brian2s():
    """Brian2's private function (it may move: the test is then skipped, saying so)."""
    from brian2.devices.device import all_devices

    prepare = getattr(all_devices.get("cpp_standalone"), "_prepare_variableview_run_arg", None)
    if prepare is None:
        pytest.skip("this Brian2 has no CPPStandaloneDevice._prepare_variableview_run_arg "
                    "(private; moved or renamed): compare runargs.encode with its successor")
    group = NeuronGroup(2, "x : 1\ntau : second\nn : integer\nb : boolean", name="rg")

    def brian2(variable, value):
        name, text, array_file, _ = prepare(getattr(group, variable), value)
        assert array_file is None
        return f"{name}={text}"
    return group, brian2


@pytest.mark.parametrize("variable", sorted(CASES))
def test_encode_writes_what_brian2_writes(brian2s, variable):
    group, brian2 = brian2s
    dtype = getattr(group, variable).dtype
    for value in CASES[variable]:
        expected = brian2(variable, value)
        si = np.asarray(value, dtype=dtype).item()  # the variable's type, as Brian2 does
        assert runargs.encode(f"rg.{variable}", si) == expected, value
        if dtype == np.float64:  # a run value: an SI float
            assert runargs.encode(f"rg.{variable}", float(value)) == expected, value
    # the device session's command line is this encoding (after brianlab's range checks:
    # a negative zero time constant is refused there)
    session = SimpleNamespace(standalone=True)
    for value in CASES[variable]:
        args = {getattr(group, variable): value}
        if range_problem(variable, value):
            with pytest.raises(ModelError):
                DeviceSession.command_line(session, args)
            continue
        assert DeviceSession.command_line(session, args) == [brian2(variable, value)]


def test_encode_keeps_the_value_type():
    assert runargs.encode("g.v", 0.01) == "g.v=0.01"
    assert runargs.encode("g.v", -0.0) == "g.v=-0.0"
    assert runargs.encode("g.v", 1e300) == "g.v=1e+300"
    assert runargs.encode("g.n", 3) == "g.n=3" and runargs.encode("g.n", np.int32(3)) == "g.n=3"
    assert runargs.encode("g.b", True) == "g.b=True"
    assert runargs.encode("g.b", np.bool_(False)) == "g.b=False"


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf"), np.nan, "0.1",
                                   None])
def test_encode_refuses_what_the_binary_cannot_read(value):
    with pytest.raises(DeviceError, match=r"^cmsa_E\.tau_ref: "):
        runargs.encode("cmsa_E.tau_ref", value)


def test_arguments_follow_the_builds_targets():
    variables = {"E.g_max_ampa": "cuba_E.g_max_ampa", "I.tau": "cuba_I.tau",
                 "drive_seed": ["sheet_E.drive_seed", "sheet_I.drive_seed"],
                 "E.v_th": "cuba_E.v_th"}
    values = {"E.v_th": -0.05, "E.g_max_ampa": 3e-8, "I.tau": 0.01}
    assert runargs.arguments(variables, values) == (
        "cuba_E.g_max_ampa=3e-08", "cuba_I.tau=0.01", "cuba_E.v_th=-0.05")
    # the seed sets every drive_seed name, as a float (the variable is one), in its place
    assert runargs.arguments(variables, values, seed=7) == (
        "cuba_E.g_max_ampa=3e-08", "cuba_I.tau=0.01", "sheet_E.drive_seed=7.0",
        "sheet_I.drive_seed=7.0", "cuba_E.v_th=-0.05")
    assert runargs.arguments(variables, {"drive_seed": 2, "I.tau": 0}, seed=0) == (
        "cuba_I.tau=0.0", "sheet_E.drive_seed=0.0", "sheet_I.drive_seed=0.0")
    assert runargs.arguments(variables, {}) == ()
    # the values' order does not matter, the build's does
    assert runargs.arguments(variables, dict(reversed(list(values.items())))) == \
        runargs.arguments(variables, values)


def test_arguments_refuse_unknown_targets_and_values():
    variables = {"E.tau": "g_E.tau", "I.tau": "g_I.tau"}
    with pytest.raises(DeviceError, match=r"'E\.taus'.*its targets are 'E\.tau', 'I\.tau'"):
        runargs.arguments(variables, {"E.taus": 0.01})
    with pytest.raises(DeviceError, match="'drive_seed'"):
        runargs.arguments(variables, {"E.tau": 0.01}, seed=3)
    with pytest.raises(DeviceError, match=r"^g_I\.tau: nan"):
        runargs.arguments(variables, {"E.tau": 0.01, "I.tau": float("nan")})
    with pytest.raises(DeviceError, match=r"^E\.tau: 'fast' is not a number"):
        runargs.arguments(variables, {"E.tau": "fast"})
