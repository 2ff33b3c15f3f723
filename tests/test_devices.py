"""Devices: the same network on runtime and cpp_standalone, reruns with run_args (CUDA builds: tests/test_cuda.py)."""

import fcntl
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from brian2 import Network, SpikeMonitor, get_device, ms, pA, prefs

import brianlab.devices as devices
from brianlab import DeviceError, leanbuild, load_model, use_device
from brianlab.devices import cxx_compiler_works

N = 60


def small_network(seed=1, drive_array=False):
    """LIF neurons with graded drive and fixed random AMPA/GABA recurrence (deterministic).

    ``drive_array``: the same drive given as an array right before the synapses are
    connected (in a standalone build a static array copied like their indices)."""
    rng = np.random.default_rng(seed)
    G = load_model("lif").neuron_group(N, receptors=("ampa_exp", "gaba_exp"),
                                       g_max_ampa="2 nS", g_max_gaba="2 nS")
    if not drive_array:
        G.I_ext = "190*pA + i*2*pA"
    pre, post = rng.integers(0, N, 600), rng.integers(0, N, 600)
    keep = pre != post
    if drive_array:
        G.I_ext = (190 + 2 * np.arange(N)) * pA
    exc = load_model("static").synapses(G, G, target_var="s_ampa",
                                        connect={"i": pre[keep][:300], "j": post[keep][:300]})
    inh = load_model("static").synapses(G, G, target_var="s_gaba",
                                        connect={"i": pre[keep][300:], "j": post[keep][300:]})
    exc.w = 1.0
    inh.w = 1.5
    spikes = SpikeMonitor(G)
    return Network(G, exc, inh, spikes), G, spikes


def counts(spikes):
    return np.bincount(np.asarray(spikes.i[:]), minlength=N)


@pytest.fixture(scope="module")
def runtime_counts():
    """Spike counts on the runtime device, at tau_ref 2 ms and (rerun) 6 ms."""
    with use_device("runtime", target="numpy") as dev:
        net, G, spikes = small_network()
        dev.run(net, 200 * ms)
        first = counts(spikes)
        dev.rerun({G.tau_ref: 6 * ms})
        second = counts(spikes)
    return first, second


@pytest.mark.slow
def test_cpp_standalone_matches_runtime_and_reruns_without_recompiling(runtime_counts, tmp_path):
    first_rt, second_rt = runtime_counts
    assert first_rt.sum() > 200 and second_rt.sum() < first_rt.sum()
    with use_device("cpp_standalone", directory=tmp_path / "cpp", threads=2, quiet=True) as dev:
        net, G, spikes = small_network()
        dev.run(net, 200 * ms)
        assert dev.built and dev.ran
        first = counts(spikes)
        binary = dev.directory / "main"
        mtime = binary.stat().st_mtime
        dev.rerun({G.tau_ref: 6 * ms})
        second = counts(spikes)
        assert binary.stat().st_mtime == mtime  # no recompilation
        assert dev.runs == 2
    # same network, two back ends: identical spike counts up to float rounding
    assert np.abs(first - first_rt).max() <= 1 and abs(int(first.sum() - first_rt.sum())) <= 2
    assert np.abs(second - second_rt).max() <= 1
    assert get_device().__class__.__name__ == "RuntimeDevice"


def test_the_makefile_precompiles_objects_h_only_where_it_has_brian2s_form():
    from brianlab.leanbuild import precompile_objects_header

    template = ("CXXFLAGS = -c $(OPTIMISATIONS) -I. -fopenmp\n\nclean:\n"
                "\trm $(OBJS) $(PROGRAM) $(DEPS)\n\n%.o : %.cpp makefile\n"
                "\t$(CXX) $(CXXFLAGS) $< -o $@\n")
    patched = precompile_objects_header(template)
    assert "objects.h.gch : objects.h $(H_SRCS) makefile\n" in patched
    assert "-x c++-header objects.h -o objects.h.gch" in patched
    assert "%.o : %.cpp makefile objects.h.gch\n\t$(CXX) $(CXXFLAGS) -include objects.h $<" \
        in patched
    assert "\trm -f $(OBJS) $(PROGRAM) $(DEPS) objects.h.gch" in patched
    assert precompile_objects_header(patched) == patched
    other = template.replace("%.o : %.cpp makefile", "%.o : %.cpp")
    assert precompile_objects_header(other) == other  # another template: left as it is


@pytest.mark.slow
def test_the_precompiled_header_changes_no_spike_and_recompiles_nothing(tmp_path, monkeypatch):
    """The same network with and without the precompiled objects.h: identical spikes
    (tolerance 0: the code objects compile to the same machine code); built again in the
    same directory, nothing is recompiled (the patched makefile keeps its time stamp; the
    binary is linked anew, as every build's is)."""

    def build(directory):
        with use_device("cpp_standalone", directory=directory, threads=1, quiet=True) as dev:
            net, _, spikes = small_network()
            dev.run(net, 100 * ms)
            return counts(spikes), dev.directory / "main"

    with_pch, binary = build(tmp_path / "pch")
    assert (tmp_path / "pch" / "objects.h.gch").stat().st_size > 1e6
    stamps = {p: p.stat().st_mtime_ns for p in (tmp_path / "pch").rglob("*.o")}
    stamps[tmp_path / "pch" / "objects.h.gch"] = (tmp_path / "pch" / "objects.h.gch").stat(
    ).st_mtime_ns
    again, _ = build(tmp_path / "pch")
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps and len(stamps) > 5
    assert binary.is_file()
    monkeypatch.setattr(leanbuild, "precompile_objects_header", lambda text: text)
    without, _ = build(tmp_path / "plain")
    assert not (tmp_path / "plain" / "objects.h.gch").exists()
    assert with_pch.sum() > 50
    np.testing.assert_array_equal(with_pch, without)
    np.testing.assert_array_equal(with_pch, again)


@pytest.mark.slow
def test_a_damaged_cached_build_is_retried_from_clean(tmp_path, capsys):
    """An object file left damaged (e.g. by an interrupted build) used to fail every later
    build in that directory; now the build is retried once after ``make clean``."""
    directory = tmp_path / "cached"

    def build_and_count():
        with use_device("cpp_standalone", directory=directory, threads=1) as dev:
            net, _, spikes = small_network()
            dev.run(net, 50 * ms)
            return counts(spikes)

    first = build_and_count()
    objects = sorted(directory.rglob("*.o"), key=lambda p: p.stat().st_size)
    damaged = objects[-1]
    damaged.write_bytes(b"\x7fELF garbage")
    future = damaged.stat().st_mtime + 3600  # newer than its source: make will not rebuild it
    os.utime(damaged, (future, future))
    capsys.readouterr()
    again = build_and_count()
    assert "retrying from a clean build" in capsys.readouterr().out
    np.testing.assert_array_equal(again, first)


def test_sessions_restore_device_and_preferences():
    before = prefs.codegen.target
    with use_device("runtime", target="cython"):
        assert prefs.codegen.target == "cython"
    assert prefs.codegen.target == before
    with use_device("cpp_standalone", threads=3) as dev:
        assert prefs.devices.cpp_standalone.openmp_threads == 3
        assert get_device().__class__.__name__ == "CPPStandaloneDevice"
        assert dev.directory.is_dir()
    assert prefs.devices.cpp_standalone.openmp_threads == 0
    assert get_device().__class__.__name__ == "RuntimeDevice"


def test_a_bad_runtime_target_is_refused_where_it_enters():
    """``target="fortran"`` was accepted and broke later code in the process."""
    before = prefs.codegen.target
    with pytest.raises(DeviceError, match="unknown runtime target 'fortran'; expected one of "
                       "auto, cython, numpy"):
        use_device("runtime", target="fortran")
    assert prefs.codegen.target == before
    with pytest.raises(DeviceError, match="applies to the runtime device only"):
        use_device("cpp_standalone", target="numpy")
    with use_device("runtime", target="numpy"):  # no session was left open
        assert prefs.codegen.target == "numpy"
    assert prefs.codegen.target == before


def test_each_run_gets_its_own_directory_and_a_given_one_is_locked(tmp_path):
    with use_device("cpp_standalone") as a:
        first = a.directory
    with use_device("cpp_standalone") as b:
        assert b.directory != first
    shared = tmp_path / "shared"
    shared.mkdir()
    other_run = os.open(shared / ".brianlab.lock", os.O_CREAT | os.O_RDWR)  # as another process
    fcntl.flock(other_run, fcntl.LOCK_EX | fcntl.LOCK_NB)
    try:
        with pytest.raises(DeviceError, match="in use by another run"):
            use_device("cpp_standalone", directory=shared)
    finally:
        os.close(other_run)
    # released after close
    with use_device("cpp_standalone", directory=shared) as again:
        assert again.directory == shared.resolve()


def test_sessions_do_not_nest():
    with use_device("cpp_standalone", quiet=True) as outer:
        with pytest.raises(DeviceError, match="another device session is open"):
            use_device("runtime")
        assert get_device().__class__.__name__ == "CPPStandaloneDevice"
    assert get_device().__class__.__name__ == "RuntimeDevice"
    with use_device("runtime"):  # the first one closed: a new one may open
        pass
    assert outer.directory is not None and not outer.directory.exists()


def test_plain_brian2_run_is_refused_in_a_standalone_session():
    """Brian2's magic run() used to record the run and silently do nothing."""
    from brian2 import NeuronGroup, run

    def standalone_run():
        with use_device("cpp_standalone", quiet=True):
            G = NeuronGroup(1, "dv/dt = -v/(10*ms) : 1")  # noqa: F841 (the magic network's)
            with pytest.raises(DeviceError, match=r"session.run\(network, duration\)"):
                run(1 * ms)

    standalone_run()
    # outside a session, and on the runtime device, plain run() works as in Brian2
    H = NeuronGroup(1, "dv/dt = (1 - v)/(10*ms) : 1")
    run(10 * ms)
    assert abs(H.v[0] - (1 - np.exp(-1))) < 1e-2  # forward Euler at dt 0.1 ms, 0.5 % error


def test_an_unclosed_session_is_closed_at_exit(tmp_path):
    script = ("import brianlab as bl\n"
              "s = bl.use_device('cpp_standalone', quiet=True)\n"
              "print(s.directory, flush=True)\n")
    env = dict(os.environ, BRIANLAB_BUILD_DIR=str(tmp_path))
    out = subprocess.run([sys.executable, "-W", "always::ResourceWarning", "-c", script],
                         capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr
    directory = Path(out.stdout.strip())
    assert directory.parent == tmp_path and not directory.exists()
    assert "ResourceWarning" in out.stderr and "was never closed" in out.stderr


def test_bad_requests_are_clear_errors():
    with pytest.raises(DeviceError, match="unknown device 'gpu'"):
        use_device("gpu")
    with pytest.raises(DeviceError, match="build_only needs a standalone device"):
        use_device("runtime", build_only=True)
    with pytest.raises(DeviceError, match="threads must be"):
        use_device("cpp_standalone", threads=-1)
    with use_device("runtime") as dev:
        with pytest.raises(DeviceError, match="needs a first run"):
            dev.rerun({})
        with pytest.raises(TypeError, match="explicit brian2.Network"):
            dev.run([], 1 * ms)


@pytest.mark.cuda
def test_cuda_without_nvcc_stops_with_a_clear_error(monkeypatch, tmp_path):
    pytest.importorskip("brian2cuda")
    monkeypatch.setattr(devices, "find_nvcc", lambda: None)
    monkeypatch.setenv("BRIANLAB_BUILD_DIR", str(tmp_path / "builds"))
    with pytest.raises(DeviceError, match="needs the CUDA compiler nvcc, which was not found"):
        use_device("cuda_standalone")
    assert get_device().__class__.__name__ == "RuntimeDevice"
    assert prefs.codegen.target == "numpy"
    assert list((tmp_path / "builds").iterdir()) == []  # no empty build directory left
    given = tmp_path / "given"
    with pytest.raises(DeviceError):
        use_device("cuda_standalone", directory=given)
    with use_device("cpp_standalone", directory=given, quiet=True):  # the lock was released
        pass


def test_finished_runs_leave_no_results_behind(tmp_path):
    """Reruns overwrite one results folder; a fresh directory goes when the session ends,
    a given one keeps its code but not its results."""
    with use_device("cpp_standalone", quiet=True) as dev:
        net, G, spikes = small_network()
        dev.run(net, 20 * ms)
        dev.rerun({G.tau_ref: 4 * ms})
        fresh = dev.directory
        assert sorted(p.name for p in fresh.glob("results*")) == ["results"]
    assert not fresh.exists()
    given = tmp_path / "given"
    with use_device("cpp_standalone", directory=given, quiet=True) as dev:
        net, G, spikes = small_network()
        dev.run(net, 20 * ms)
    assert (given / "main").is_file() and not (given / "results").exists()
    with use_device("cpp_standalone", directory=tmp_path / "kept", quiet=True, keep=True) as dev:
        net, G, spikes = small_network()
        dev.run(net, 20 * ms)
    assert (tmp_path / "kept" / "results").is_dir()


MAIN = """int main()
{
        _array_defaultclock_dt[0] = 0.0001;
        {resets}
        network.run(0.1);
}
"""


def test_clock_resets_are_sorted_and_an_equivalent_main_keeps_its_time_stamp(tmp_path):
    """Brian2 writes the clock resets of a run in a set's order, which changes between
    processes; brianlab sorts them so a cached build does not recompile main.cpp."""
    resets = [("cmsa_E_run_regularly_clock", "0", "0.0"), ("defaultclock", "0", "0.0"),
              ("cmsa_I_run_regularly_clock", "0", "0.0")]

    def text(order):
        lines = []
        for name, step, t in (resets[k] for k in order):
            lines += [f"_array_{name}_timestep[0] = {step};", f"_array_{name}_t[0] = {t};"]
        return MAIN.replace("{resets}", "\n        ".join(lines))

    a = leanbuild.sort_clock_resets(text([0, 1, 2]))
    b = leanbuild.sort_clock_resets(text([2, 1, 0]))
    assert a == b == text([0, 2, 1])  # by clock name; timestep before t kept
    assert leanbuild.sort_clock_resets(MAIN) == MAIN
    main = tmp_path / "main.cpp"
    main.write_text(a)
    os.utime(main, ns=(10**18, 10**18))
    previous = (main.read_text(), main.stat())
    main.write_text(text([1, 2, 0]))  # what Brian2 writes in the next process
    leanbuild.keep_if_equivalent(main, previous, leanbuild.sort_clock_resets)
    assert main.read_text() == a and main.stat().st_mtime_ns == 10**18
    main.write_text(text([1, 0]))  # a real change: new content, new time stamp
    leanbuild.keep_if_equivalent(main, previous, leanbuild.sort_clock_resets)
    assert main.read_text() == text([0, 1]) and main.stat().st_mtime_ns != 10**18


def test_the_idle_clocks_of_a_run_are_sorted():
    """Brian2 adds the clocks of a run without a code object in it (``network.add(&clock,
    NULL)``: the drive's after the drive) in a set's order too; sorted, ``main.cpp`` is
    the same in every process. Code objects keep their order (it is the schedule)."""
    run = ["network.clear();", "network.add(&cmsa_clock, _run_b);",
           "network.add(&cmsa_clock, _run_a);"]
    idle = ["network.add(&cmsa_I_run_regularly_clock, NULL);",
            "network.add(&cmsa_E_run_regularly_clock, NULL);"]
    resets = ["_array_zclock_t[0] = 0.0;", "_array_aclock_t[0] = 0.0;"]

    def text(lines):
        return MAIN.replace("{resets}", "\n        ".join(lines))

    got = leanbuild.sort_clock_resets(text(run + idle + resets))
    assert got == text(run + idle[::-1] + resets[::-1])
    assert leanbuild.sort_clock_resets(text(run + idle[::-1] + resets)) == got


def test_a_refused_session_changes_no_preference():
    before = prefs.core.stop_on_keyboard_interrupt
    with pytest.raises(DeviceError):
        use_device("runtime", build_only=True)
    assert prefs.core.stop_on_keyboard_interrupt == before
    with use_device("runtime"):
        assert prefs.core.stop_on_keyboard_interrupt is False  # Ctrl-C raises in a session
    assert prefs.core.stop_on_keyboard_interrupt == before


@pytest.mark.skipif(not cxx_compiler_works(), reason="needs a C++ compiler")
def test_portable_build_drops_native_flags_and_restores_them(tmp_path):
    """``portable=True``: the generated makefile has no ``-march=native`` (a binary for any
    CPU of the architecture, as clusters need); the preference is restored on close."""
    from brian2 import Network, NeuronGroup, ms, prefs

    native = list(prefs.codegen.cpp.extra_compile_args_gcc)
    with use_device("cpp_standalone", directory=tmp_path / "p", build_only=True, quiet=True,
                    portable=True) as dev:
        G = NeuronGroup(2, "dv/dt = -v/(10*ms) : 1")
        dev.run(Network(G), 1 * ms)
        assert dev.describe()["portable"] is True
    makefile = (tmp_path / "p" / "makefile").read_text()
    assert "-O3" in makefile and "-march=native" not in makefile
    assert prefs.codegen.cpp.extra_compile_args_gcc == native


def _build_regular(directory) -> str:
    """Build a group with a run_regularly operation (it gets its own clock) and forget it."""
    from brian2 import NeuronGroup

    with use_device("cpp_standalone", directory=directory, build_only=True, quiet=True) as dev:
        G = NeuronGroup(2, "dv/dt = -v/(10*ms) : 1", name="g")
        G.run_regularly("v = 1", dt=1 * ms)
        dev.run(Network(G), 2 * ms)
    return (Path(directory) / "objects.cpp").read_text()


@pytest.mark.skipif(not cxx_compiler_works(), reason="needs a C++ compiler")
def test_the_same_network_built_twice_in_one_process_is_the_same_code(tmp_path):
    """Brian2 names objects uniquely among those alive; the last build's objects (held in
    reference cycles) would make the second build's clock ``g_run_regularly_clock_1``:
    other code, and a full recompilation of a cached build."""
    first = _build_regular(tmp_path / "b")
    assert "g_run_regularly_clock" in first
    assert _build_regular(tmp_path / "b") == first


@pytest.mark.parametrize("name", ["runtime", "cpp_standalone"])
def test_an_object_active_in_a_window_records_only_there(name, tmp_path):
    """``run(active={monitor: (start, stop)})``: the monitor records the steps of its
    window only (t = 6.0 ... 7.9 ms at dt 0.1 ms), on every device, and the neurons'
    spikes are those of one uninterrupted run (splitting the run changes nothing)."""
    from brian2 import StateMonitor

    if name == "cpp_standalone" and not cxx_compiler_works():
        pytest.skip("needs a C++ compiler")
    results = {}
    for split in (False, True):
        options = {"directory": tmp_path / f"{name}{split}", "quiet": True}
        with use_device(name, **(options if name != "runtime" else {})) as dev:
            net, G, spikes = small_network()
            monitor = StateMonitor(G, "v", record=[0, 5])
            net.add(monitor)
            dev.run(net, 60 * ms, active={monitor: (40 * ms, 42 * ms)} if split else None)
            results[split] = (np.array(monitor.t / ms), np.array(spikes.i[:]),
                              np.array(spikes.t / ms))  # copies: the network goes
    t_window, i_split, t_split = results[True]
    np.testing.assert_allclose(t_window, 40.0 + 0.1 * np.arange(20), atol=1e-9)
    t_full, i_full, t_spikes = results[False]
    assert len(t_full) == 600 and len(i_full) > 20
    np.testing.assert_array_equal(i_split, i_full)
    np.testing.assert_allclose(t_split, t_spikes, atol=1e-12)


def test_make_runs_brian2s_command_line_as_a_shell_does(tmp_path):
    """``make_cmd_unix`` is a shell command line for Brian2 (``os.system``), so it may set
    variables; brianlab's own ``make`` step keeps that, and a failed ``make`` is a
    RuntimeError with the end of its output (retried from clean by the caller)."""
    from types import SimpleNamespace

    from brian2 import prefs

    from brianlab.devices import DeviceSession

    (tmp_path / "makefile").write_text("all:\n\techo $(GREETING) > made\n"
                                       "clean:\n\trm -f made\n"
                                       "broken:\n\t@echo the compiler said no; false\n")
    session = SimpleNamespace(directory=tmp_path, _lock_fd=None)
    prefs.devices.cpp_standalone.make_cmd_unix = "GREETING=hello make"
    prefs.devices.cpp_standalone.extra_make_args_unix = ["-j"]
    DeviceSession._make(session, clean=False)
    assert (tmp_path / "made").read_text() == "hello\n"
    DeviceSession._make(session, clean=True)  # make clean, then make
    assert (tmp_path / "made").read_text() == "hello\n"
    prefs.devices.cpp_standalone.extra_make_args_unix = ["broken"]
    with pytest.raises(RuntimeError, match=r"(?s)make exited with 2.*the compiler said no"):
        DeviceSession._make(session, clean=False)
    prefs.devices.cpp_standalone.make_cmd_unix = "no-such-make-program"
    with pytest.raises(RuntimeError, match="exited with 127"):
        DeviceSession._make(session, clean=False)
