"""What the builder tells a pipeline build (brianlab.networks.builder: ``compile_spec``,
``check_run_values``): a user's network file compiled lean on ``cpp_standalone`` from its
spec, run with the spec's run-time names, gives the spikes of ``run_args``'s command line;
the checks of run-time values work without a build; every released network's spec names
every monitor's arrays and every parameter target.
"""

import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from brian2 import second

from brianlab.devices import cxx_compiler_works
from brianlab.library import list_models, load_network
from brianlab.networkfile import read_network_file
from brianlab.networks.builder import (CompileSpec, build_network, check_run_values,
                                      connectivity_at_run_time)
from brianlab.sweeps import CompiledNetwork, Point, run_point
from brianlab.units import ModelError

from small_networks import KICK, small_cuba_text

pytestmark = pytest.mark.filterwarnings("ignore::brianlab.library.UnreleasedModelWarning")


def _user_network(tmp_path, extra=KICK):
    """cuba@1 with 160/40 neurons, 100 ms in two phases, as a user's file in tmp_path."""
    text = small_cuba_text(extra, state=True)
    folder = tmp_path / "networks" / "mycuba"
    folder.mkdir(parents=True)
    path = folder / "1.toml"
    path.write_text(text)
    return read_network_file(path)


def test_check_run_values_makes_run_args_checks_without_a_build(tmp_path):
    net = _user_network(tmp_path)
    values = check_run_values(net, {"we": "2 mV"})
    assert set(values) == {"E.I_max_e", "I.I_max_e", "E.I_max_i", "I.I_max_i"}
    assert float(values["E.I_max_e"]) == pytest.approx(2e-3 * 10e-9)  # we*10 nS
    with build_network(net, device="runtime") as built:
        expected = {t: float(v) for t, v in values.items()}
        assert {k.group_name.removeprefix("mycuba_") + "." + k.name: float(v)
                for k, v in built.run_args(we="2 mV").items()} == expected
        for changes in ({"nope": "1 mV"}, {"we": "2 nS"}):  # unknown name, wrong unit
            with pytest.raises(ModelError) as planned:
                check_run_values(net, changes)
            with pytest.raises(ModelError) as built_error:
                built.run_args(**changes)
            assert str(planned.value) == str(built_error.value)
    # a value out of a model parameter's physical range (lif's tau_ref below zero)
    text = (tmp_path / "networks" / "mycuba" / "1.toml").read_text().replace(
        "[parameters]", '[parameters]\nrp = { value = "5 ms", sets = ["E.tau_ref"] }'
    ).replace(' tau_ref = "5 ms",', "", 1)  # (E's: the parameter sets it)
    folder = tmp_path / "ranges"
    folder.mkdir()
    (folder / "1.toml").write_text(text)
    net = read_network_file(folder / "1.toml")
    with pytest.raises(ModelError, match="tau_ref") as planned:
        check_run_values(net, {"rp": "-1 ms"})
    with build_network(net, device="runtime") as built:
        with pytest.raises(ModelError) as built_error:
            built.run_args(rp="-1 ms")
    assert str(planned.value) == str(built_error.value)


def test_check_run_values_refuses_phase_set_parameters_and_fast_poisson_rates(tmp_path):
    extra = """
[inputs.ext]
kind = "poisson_input"
target = "E"
receptor = "e"
count = 10
rate = "10 Hz"
weight = "1"
"""
    net = _user_network(tmp_path, extra)
    path = Path(net.path)
    text = path.read_text().replace(
        "[parameters]", '[parameters]\nrate = { value = "10 Hz", sets = ["ext.rate"] }')
    text = text.replace('{ name = "settle", duration = "20 ms" }',
                        '{ name = "settle", duration = "20 ms", parameters = { we = "0 mV" } }')
    path.write_text(text)
    net = read_network_file(path)
    with build_network(net, device="runtime") as built:
        for changes in ({"we": "1 mV"}, {"rate": "2000 Hz"}):
            with pytest.raises(ModelError) as planned:
                check_run_values(net, changes)
            with pytest.raises(ModelError) as built_error:
                built.run_args(**changes)
            assert str(planned.value) == str(built_error.value)
            assert re.search("protocol phase|rate\\*dt", str(planned.value))
        assert set(check_run_values(net, {"rate": "20 Hz"})) >= {"ext.rate"}


def test_active_windows_of_a_timed_hash_drive_leave_the_spikes_unchanged(tmp_path):
    net = _user_network(tmp_path)
    with build_network(net, device="runtime") as built:
        built.run()
        plain = {pop: built.spikes(pop) for pop in ("E", "I")}
    with build_network(net, device="runtime") as built:
        spec = built.compile_spec()
        (op, windows), = spec.active.items()
        assert op.name == "mycuba_E_I_ext_inputs"
        assert [(float(a), float(b)) for a, b in windows] == [(0.0, pytest.approx(0.0305))], windows
        built.session.run(built.network, built.duration, active=spec.active, at=spec.at)
        for pop in ("E", "I"):
            i, t = built.spikes(pop)
            assert np.array_equal(i, plain[pop][0]) and np.array_equal(t, plain[pop][1])
    assert len(plain["E"][0]) > 100


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """The user network compiled lean (build only) from its spec, and its CompiledNetwork."""
    tmp = tmp_path_factory.mktemp("pipeline_build")
    net = _user_network(tmp)
    built = build_network(net, device="cpp_standalone", device_options={
        "directory": tmp / "build", "build_only": True})
    with built:  # (closed before the tests: Brian2 has one device at a time)
        spec = built.compile()
        outputs, checks = built.recorded_arrays(spec)
        network = CompiledNetwork.from_session(built.session, outputs, checks)
        # run_args of the build's objects (the Brian2 command line of the same values)
        argv = {"default": built.session.command_line(built.run_args()),
                "we": built.session.command_line(built.run_args(we="3 mV")),
                "seed": built.session.command_line(built.run_args(drive_seed=9))}
    return net, spec, network, argv


def _arguments(spec: CompileSpec, values: dict, seed=None) -> tuple:
    """The binary's arguments from the spec's names and SI values alone (no Brian2)."""
    out = [f"{spec.variables[t]}={float(v)!r}" for t, v in values.items()]
    if seed is not None:
        out += [f"{name}={float(seed)!r}" for name in spec.variables["drive_seed"]]
    return tuple(out)


def _run(network, arguments, key):
    return run_point(network, Point(key, tuple(arguments)))["arrays"]


def _assert_same(a, b):
    assert set(a) == set(b)
    for name in a:
        assert np.array_equal(a[name], b[name]), name


@pytest.mark.slow
@pytest.mark.skipif(not cxx_compiler_works(), reason="needs a C++ compiler")
def test_a_user_network_compiles_lean_from_its_spec_and_runs_with_its_names(compiled):
    net, spec, network, argv = compiled
    assert list(spec.outputs) == ["spikes_E_i", "spikes_E_t", "spikes_I_i", "spikes_I_t",
                                  "rate_E_t", "rate_E_rate", "rate_I_t", "rate_I_rate",
                                  "state_E_v"]
    assert spec.outputs["spikes_E_i"] == ("mycuba_spikes_E.i", "<i4")
    assert spec.checks == {f"mycuba_{p}.{v}": (f"mycuba_{p}.{v}", "<f8")
                           for p in ("E", "I") for v in ("s_e", "s_i", "v")}
    assert spec.variables == {"E.I_max_e": "mycuba_E.I_max_e", "I.I_max_e": "mycuba_I.I_max_e",
                              "E.I_max_i": "mycuba_E.I_max_i", "I.I_max_i": "mycuba_I.I_max_i",
                              "drive_seed": ["mycuba_E.drive_seed"]}
    assert set(network.outputs) == set(spec.outputs)
    base = _run(network, argv["default"], "default")
    assert len(base["spikes_E_i"]) > 100 and base["state_E_v"].size == 2 * 100
    assert base["spikes_E_t"].max() < 0.1
    # the spec's names with check_run_values' SI values: run_args's command line exactly
    for name, changes, seed in (("default", {}, None), ("we", {"we": "3 mV"}, None),
                                ("seed", {}, 9)):
        values = check_run_values(net, changes)
        mine = _arguments(spec, values, seed)
        assert sorted(mine) == sorted(argv[name]), name
        _assert_same(_run(network, mine, name), _run(network, argv[name], name + "_args"))
    stronger = _run(network, _arguments(spec, check_run_values(net, {"we": "3 mV"})), "w")
    reseeded = _run(network, _arguments(spec, check_run_values(net, {}), 9), "s")
    assert not np.array_equal(stronger["spikes_E_t"], base["spikes_E_t"])
    assert not np.array_equal(reseeded["spikes_E_t"], base["spikes_E_t"])
    assert [float(t) for t, _ in spec.at] == [0.0, pytest.approx(0.02)]


def _monitored(netfile) -> set:
    mon = netfile.monitors
    out = {f"spikes_{p}_{v}" for p in (mon.spikes or ()) for v in ("i", "t")}
    out |= {f"rate_{p}_{v}" for p in (mon.rates or ()) for v in ("t", "rate")}
    out |= {f"state_{st.population}_{v}" for st in (mon.state or ()) for v in st.variables}
    return out


@pytest.mark.parametrize("ref", sorted(e.name for e in list_models() if e.kind == "network"))
def test_every_released_network_names_its_outputs_and_run_time_targets(ref):
    net = load_network(ref)
    # built on cpp_standalone without running: objects only (nothing compiled or drawn)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        built = build_network(net, device="cpp_standalone", device_options={"build_only": True})
    with built:
        spec = built.compile_spec()
        assert set(spec.outputs) == _monitored(net) and spec.outputs
        for name, (brian2_name, dtype) in [*spec.outputs.items(), *spec.checks.items()]:
            variable = built.brian2_variable(brian2_name)
            assert np.dtype(variable.dtype).str == dtype, name
        targets = set(net.run_values())
        assert set(spec.variables) - {"drive_seed", "conn_seed"} == targets
        for target in targets:
            view = built._variable(target)
            assert spec.variables[target] == f"{view.group_name}.{view.name}"
        hash_drives = [n for n, i in (net.inputs or {}).items() if i.kind == "random_current"]
        assert ("drive_seed" in spec.variables) == bool(hash_drives)
        # the connectivity seed, where the binary draws the lattice projections
        assert ("conn_seed" in spec.variables) == connectivity_at_run_time(net, "cpp_standalone")
        # the phase switches, then any hash drive zeroed at one of them (its window ends there)
        starts = [float(t) for t, _ in spec.at[:len(net.protocol)]]
        assert len(starts) == len(net.protocol) and starts[0] == 0.0
        assert all(float(t) in starts[1:] for t, _ in spec.at[len(net.protocol):])
        assert float(sum((p.duration for p in net.protocol), 0 * second)) == \
            pytest.approx(float(built.duration))
        for op, windows in spec.active.items():
            assert windows[0][1] < built.duration
