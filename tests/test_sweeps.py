"""Sweeps on Dask: the compiled binary per point on workers, against the in-process sweep.

Real components only: a LocalCluster, and a scheduler and workers started as separate
processes (``dask scheduler`` / ``dask worker``) with one of them killed in the middle.
The reference is brianlab's in-process sweep (one compiled network rerun with Brian2's
``run_args``): a worker runs the same binary with the same command-line values, so spike
trains and Phi must be identical (tolerance 0: the same program on the same input).
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("distributed")

from brianlab.cmsa.__main__ import main  # noqa: E402
from brianlab.sweeps import SweepError, connect  # noqa: E402

SMALL = ["--size", "40", "--ke", "100", "--ki", "150", "--device", "cpp_standalone",
         "--no-gif"]


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """One brianlab cache for the module: each small sheet is compiled once."""
    return tmp_path_factory.mktemp("cache")


def _points(folder: Path) -> dict:
    return {p.stem: json.loads(p.read_text()) for p in sorted((folder / "points").glob("*.json"))}


def _spikes(folder: Path, key: str) -> dict:
    with np.load(folder / "points" / f"{key}.npz") as data:
        return {name: data[name] for name in data.files}


@pytest.mark.slow
def test_local_cluster_equals_in_process_sweep(tmp_path, cache, monkeypatch, capsys):
    monkeypatch.setenv("BRIANLAB_CACHE", str(cache))
    args = ["sweep", "--values", "5,7,9", "--seeds", "0-1", "--duration", "100", *SMALL]
    assert main([*args, "--out", str(tmp_path / "here")]) == 0
    assert main([*args, "--out", str(tmp_path / "dask"), "--workers", "2"]) == 0
    here, dask = _points(tmp_path / "here"), _points(tmp_path / "dask")
    assert sorted(here) == sorted(dask) and len(here) == 6
    phis = []
    for key in here:
        assert dask[key]["phi"] == here[key]["phi"]  # every field: Phi, patterns, speed
        assert dask[key]["phi_series"] == here[key]["phi_series"]
        assert dask[key]["rate_e_hz"] == here[key]["rate_e_hz"]
        a, b = _spikes(tmp_path / "here", key), _spikes(tmp_path / "dask", key)
        assert a.keys() == b.keys() and all(np.array_equal(a[n], b[n]) for n in a)
        assert len(a["e_i"]) > 100  # the sheet is active: the comparison is not of nothing
        phis.append(here[key]["phi"]["phi"])
    assert min(phis) < 0.35 and max(phis) > 0.8  # both a bump and a wave among the points
    # each worker process had its own results directory (reused by its points, never
    # shared), inside its own folder
    used = [r["sweep"]["results_dir"] for r in dask.values()]
    pids = {r["sweep"]["pid"] for r in dask.values()}
    assert len(pids) == 2 and os.getpid() not in pids  # both workers ran points
    assert len(set(used)) == 2
    assert all(len({r["sweep"]["pid"] for r in dask.values()
                    if r["sweep"]["results_dir"] == d}) == 1 for d in used)
    for pid in pids:
        folders = {str(Path(r["sweep"]["results_dir"]).parent.parent)
                   for r in dask.values() if r["sweep"]["pid"] == pid}
        assert len(folders) == 1
    assert not any(Path(d).exists() for d in used)  # scratch results removed after reading
    summary = json.loads((tmp_path / "dask" / "summary.json").read_text())
    assert summary["device"]["cluster"]["workers"] == 2
    assert summary["phi"] == json.loads((tmp_path / "here" / "summary.json").read_text())["phi"]


def _start(cmd, log: Path):
    return subprocess.Popen(cmd, stdout=log.open("w"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def _stop(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


@pytest.mark.slow
def test_scheduler_and_workers_as_processes_survive_a_killed_worker(tmp_path, cache,
                                                                   wait_for_a_point):
    """``dask scheduler`` and two ``dask worker`` processes, each with its own directory;
    the build is shipped to them; one worker is killed (SIGKILL to it and its nanny) after
    the first saved point: the sweep finishes on the other, loses nothing, and a rerun
    computes nothing."""
    dask_cli = [sys.executable, "-m", "dask"]
    file = tmp_path / "scheduler.json"
    env = dict(os.environ, BRIANLAB_CACHE=str(cache))
    scheduler = _start([*dask_cli, "scheduler", "--host", "127.0.0.1", "--port", "0",
                        "--no-dashboard", "--scheduler-file", str(file)], tmp_path / "s.log")
    workers = []
    try:
        deadline = time.monotonic() + 60
        while not file.exists():
            assert scheduler.poll() is None and time.monotonic() < deadline, \
                (tmp_path / "s.log").read_text()
            time.sleep(0.1)
        for name in ("w1", "w2"):
            (tmp_path / name).mkdir()
            workers.append(_start([*dask_cli, "worker", "--scheduler-file", str(file),
                                   "--nworkers", "1", "--nthreads", "1", "--no-dashboard",
                                   "--local-directory", str(tmp_path / name), "--name", name],
                                  tmp_path / f"{name}.log"))
        out = tmp_path / "sweep"
        cmd = [sys.executable, "-m", "brianlab.cmsa", "sweep", "--values", "5:10:1", "--seeds",
               "0-1", "--duration", "1500", *SMALL, "--scheduler-file", str(file),
               "--ship-build", "--out", str(out)]
        driver = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, env=env)
        wait_for_a_point(driver, out, 600)
        _stop(workers[0])  # the nanny and its worker, in the middle of the sweep
        stdout, stderr = driver.communicate(timeout=600)
        assert driver.returncode == 0, stderr
        records = _points(out)
        assert len(records) == 12 and sorted(p.stem for p in out.glob("points/*.npz")) == \
            sorted(records)
        assert not list(out.rglob("*.tmp"))
        builds = {r["sweep"]["build"] for r in records.values()}
        # the shipped build, unpacked once per worker into the worker's own directory
        assert all(b.startswith(str(tmp_path / "w1")) or b.startswith(str(tmp_path / "w2"))
                   for b in builds)
        assert any(b.startswith(str(tmp_path / "w2")) for b in builds)
        used = [r["sweep"]["results_dir"] for r in records.values()]  # never shared:
        assert all(len({r["sweep"]["pid"] for r in records.values()  # one worker each
                        if r["sweep"]["results_dir"] == d}) == 1 for d in used)
        assert len(set(used)) <= 2 and all(d.startswith(str(tmp_path / "w")) for d in used)
        assert sum(r["sweep"]["build"].startswith(str(tmp_path / "w2"))
                   for r in records.values()) >= 6  # the survivor took over the killed one's
        configuration = json.loads((out / "configuration.json").read_text())
        assert configuration["configuration"]["portable"] is True  # remote: a portable build
        stamps = {p: p.stat().st_mtime_ns for p in out.glob("points/*")}
        again = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
        assert again.returncode == 0, again.stderr
        assert "resuming: 12 of 12 points already done" in again.stderr
        assert {p: p.stat().st_mtime_ns for p in out.glob("points/*")} == stamps
    finally:
        for proc in [*workers, scheduler]:
            _stop(proc)


@pytest.mark.slow
def test_ctrl_c_stops_a_local_cluster_sweep_cleanly(tmp_path, cache, wait_for_a_point):
    """SIGINT to the whole process group (a terminal's Ctrl-C reaches the workers and their
    binaries too): the driver ends with the resume message and 130, no worker prints a
    traceback, no binary is left running, only complete points are on disk, and the rerun
    resumes."""
    out = tmp_path / "sweep"
    cmd = [sys.executable, "-m", "brianlab.cmsa", "sweep", "--values", "5:12:0.5", "--seeds",
           "0", "--duration", "1500", *SMALL, "--workers", "2", "--out", str(out)]
    env = dict(os.environ, BRIANLAB_CACHE=str(cache))
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, start_new_session=True)
    wait_for_a_point(proc, out, 600)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted: every completed point is saved" in err and "Traceback" not in err
    time.sleep(1)
    left = subprocess.run(["pgrep", "-f", f"{cache}/.*/main --results_dir"], capture_output=True)
    assert left.stdout == b""  # no binary of the build left running
    done = sorted(p.stem for p in out.glob("points/*.json"))
    assert 1 <= len(done) < 15 and sorted(p.stem for p in out.glob("points/*.npz")) == done
    again = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert again.returncode == 0, again.stderr
    assert f"resuming: {len(done)} of 15 points already done" in again.stderr
    assert len(list(out.glob("points/*.json"))) == 15


def test_cluster_options_are_checked(tmp_path, capsys):
    assert main(["sweep", "--workers", "2", "--device", "runtime", "--size", "40",
                 "--out", str(tmp_path / "x")]) == 2
    assert "--workers/--scheduler run cpp_standalone binaries" in capsys.readouterr().err
    for bad in (["--workers", "0"], ["--workers", "2", "--scheduler", "tcp://127.0.0.1:1"]):
        with pytest.raises(SystemExit):
            main(["sweep", *bad])
    with pytest.raises(SweepError, match="exactly one of"):
        with connect():
            pass
    with pytest.raises(SweepError, match="cannot reach the Dask scheduler"):
        with connect(scheduler="tcp://127.0.0.1:9"):
            pass


def test_a_missing_or_bad_scheduler_file_is_an_error_naming_it(tmp_path, monkeypatch, capsys):
    """Dask's client waits forever for a missing scheduler file and fails on a bad one with
    an AssertionError; here: a bounded wait, then one line naming the file."""
    import distributed  # noqa: F401  (imported here: its first import is not the wait timed)

    import brianlab.sweeps as sweeps

    missing = tmp_path / "missing.json"
    start = time.monotonic()
    with pytest.raises(SweepError, match=f"the scheduler file {missing} did not appear "
                       r"within 0.3 s"):
        with connect(scheduler_file=missing, wait=0.3):
            pass
    assert time.monotonic() - start < 5
    for content in ("garbage", "[1, 2]", '{"address": 5}', '{"type": "Scheduler"}'):
        bad = tmp_path / "bad.json"
        bad.write_text(content)
        with pytest.raises(SweepError, match=f"the scheduler file {bad} is not a Dask "
                           "scheduler file"):
            with connect(scheduler_file=bad, wait=0.3):
                pass
    monkeypatch.setattr(sweeps, "SCHEDULER_FILE_WAIT", 0.2)
    assert main(["sweep", "--scheduler-file", str(missing), "--values", "5", "--seeds", "0",
                 *SMALL, "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert f"waiting up to 0.2 s for the scheduler file {missing}" in err
    assert f"error: the scheduler file {missing} did not appear within 0.2 s" in err
    assert "Traceback" not in err


def test_local_workers_are_bounded_by_the_usable_cores():
    from brianlab.resources import usable_cores

    with pytest.raises(SweepError, match=f"workers = 100000: .* may use {usable_cores()} cores"):
        with connect(workers=100_000):
            pass


@pytest.fixture(scope="module")
def growth(tmp_path_factory):
    """A compiled network with one parameter: ``dv/dt = (v0 - v)/tau`` reset at threshold,
    ten neurons of drive 1.5 ... 3 (in units of the threshold), and the same network rerun
    in-process by Brian2 (``DeviceSession.rerun``) as the reference of each point."""
    from brian2 import Network, NeuronGroup, SpikeMonitor, ms

    from brianlab import use_device
    from brianlab.sweeps import CompiledNetwork

    where = tmp_path_factory.mktemp("growth")
    reference = {}
    with use_device("cpp_standalone", directory=where / "build", quiet=True) as dev:
        G = NeuronGroup(10, "dv/dt = (v0 - v)/tau : 1\nv0 : 1\ntau : second (shared)",
                        threshold="v > 1", reset="v = 0", method="euler", name="g")
        G.v0 = "1.5 + 1.5*i/9"
        G.tau = 10 * ms
        spikes = SpikeMonitor(G, name="spikes")
        dev.run(Network(G, spikes), 100 * ms)
        compiled = CompiledNetwork.from_session(
            dev, {"i": spikes.variables["i"], "t": spikes.variables["t"]},
            {"g.v": G.variables["v"]})
        args = {}
        for tau in (5, 20):
            args[tau] = dev.command_line({G.tau: tau * ms})
            dev.rerun({G.tau: tau * ms})
            reference[tau] = (np.array(spikes.i[:]), np.array(spikes.t_[:]))
    return compiled, args, reference


def test_run_point_equals_brian2_rerun_and_saves_atomically(growth, tmp_path):
    from brianlab.sweeps import Point, run_point, run_points

    compiled, args, reference = growth
    assert args[5] == ["g.tau=0.005"]  # Brian2's own command-line form (repr of the value)
    points = [Point(f"tau{tau}", tuple(args[tau]), tau) for tau in (5, 20)]

    def count(arrays, tau):  # a reduction: keeps the spikes, records their number
        return arrays, {"tau_ms": tau, "spikes": int(len(arrays["i"]))}

    records = run_points(compiled, points, count, save_to=tmp_path)
    for tau in (5, 20):
        with np.load(tmp_path / f"tau{tau}.npz") as data:
            assert np.array_equal(data["i"], reference[tau][0])
            assert np.array_equal(data["t"], reference[tau][1])  # bitwise: the same program
        saved = json.loads((tmp_path / f"tau{tau}.json").read_text())
        assert saved["spikes"] == len(reference[tau][0]) == records[f"tau{tau}"]["spikes"]
    # analytic check that the numbers are meaningful: ISI of neuron 9 (v0 = 3) is
    # tau*ln(3/2) plus the Euler error (dt = 0.1 ms: within 2 steps)
    i, t = reference[20]
    isi = np.diff(t[i == 9]).mean()
    assert abs(isi - 0.020 * np.log(1.5)) < 2e-4
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".brianlab-sweep-token*"))
    # the archive: unpacked elsewhere (a machine without the build directory), same spikes
    out = run_point(compiled, points[0], archive=compiled.archive())
    assert out["record"]["sweep"]["build"] != compiled.directory
    # the network run's own time, as the binary measured it: part of the binary's time
    timing = out["record"]["sweep"]
    assert 0 < timing["run_s"] < timing["binary_s"], timing
    assert np.array_equal(out["arrays"]["t"], reference[5][1])


def test_a_worker_that_does_not_see_the_output_folder_returns_the_arrays(growth, tmp_path):
    """The folder's token file says whether a worker sees this sweep's folder (another
    machine may have a folder of the same name): without the token the point is not saved
    there; its arrays come back for the driver to save."""
    from brianlab.sweeps import Point, run_point

    compiled, args, reference = growth
    out = run_point(compiled, Point("tau5", tuple(args[5])), save_to=tmp_path, token="other")
    assert out["saved"] is False and not list(tmp_path.iterdir())
    assert np.array_equal(out["arrays"]["t"], reference[5][1])


def test_run_point_errors_name_the_point(growth, tmp_path):
    from dataclasses import replace

    from brianlab.sweeps import Point, run_point, run_points

    compiled, _, _ = growth
    with pytest.raises(SweepError, match=r"point bad: the binary exited with 1 .*\n"
                       r"Cannot set unknown variable 'nope.v'"):
        run_point(compiled, Point("bad", ("nope.v=1",)))
    # tau < 0 makes v grow without bound: a diverged run is an error, not a result
    with pytest.raises(SweepError, match=r"point neg: g.v is not finite after the run"):
        run_point(compiled, Point("neg", ("g.tau=-1e-05",)))
    elsewhere = replace(compiled, directory=str(tmp_path / "nothing"))
    with pytest.raises(SweepError, match="cannot see the build"):
        run_point(elsewhere, Point("x", ()))
    with pytest.raises(SweepError, match="unique"):
        run_points(compiled, [Point("a", ()), Point("a", ())])
    assert not list(tmp_path.glob("*.npz"))


def test_the_slurm_example_of_the_guide_makes_a_valid_job_script():
    """The SLURMCluster call of docs/guide/devices.md, as written there, gives dask-jobqueue's
    job script for one single-threaded worker per job (no SLURM here: only the script is
    made, nothing is submitted)."""
    import re

    SLURMCluster = pytest.importorskip("dask_jobqueue").SLURMCluster
    guide = (Path(__file__).parent.parent / "docs" / "guide" / "devices.md").read_text()
    call = re.search(r"SLURMCluster\((.*?)\n    \)", guide, re.S).group(1)
    cluster = eval(f"SLURMCluster({call}\n)", {"SLURMCluster": SLURMCluster})  # noqa: S307
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    assert "#SBATCH --cpus-per-task=1" in script and "#SBATCH --mem=2G" in script
    assert "#SBATCH -t 02:00:00" in script
    assert f"{sys.executable} -m distributed.cli.dask_worker" in script
    assert "--nthreads 1" in script and "--local-directory $TMPDIR" in script


@pytest.mark.slow
def test_a_cached_build_runs_without_building_and_never_stale(tmp_path, monkeypatch):
    """The CMSA command's compiled path (its points as a pipeline plan of ``cmsa_sheet@2``,
    :func:`brianlab.cmsa.plan.make_plan`) gives the numbers of Brian2's own rerun loop on
    the sheet ``build_ei_sheet`` builds (``simulate``); its build is found again in the
    cache without building anything. The command-line values made without Brian2 objects
    are Brian2's. A changed static array means a new build, never a stale run."""
    from brian2 import ms, nA, uS

    from brianlab import use_device
    from brianlab.cmsa import CMSAParams
    from brianlab.cmsa.experiment import simulate
    from brianlab.cmsa.plan import make_plan
    from brianlab.cmsa.protocol import (build_network, command_line_for, run_args_for,
                                        run_variables)
    from brianlab.pipeline import builds, execute
    from brianlab.pipeline.compile import compile_build

    monkeypatch.setenv("BRIANLAB_CACHE", str(tmp_path / "cache"))
    base = CMSAParams(e_side=40, i_side=20, k_e=100, k_i=150, duration=100 * ms,
                      analysis=100 * ms)
    points = [base.with_(rp=5 * ms, seed=3), base.with_(rp=9.5 * ms, we=0.021 * uS, seed=1)]
    keys = ["a", "b"]
    plan = make_plan(points, keys, keys, command={}, configuration={})
    (spec,) = plan.builds
    assert builds.find(spec) is None
    manifest = compile_build(plan, spec)
    assert manifest.build_s > 0 and builds.find(spec).key == manifest.key == spec.key()
    (tmp_path / "two" / "points").mkdir(parents=True)
    execute.run(builds.find(spec), plan.points, tmp_path / "two", plan.reduction)
    reference = {}
    simulate(points, device="cpp_standalone",
             on_result=lambda k, run, s: reference.__setitem__(keys[k], run))
    for key in keys:
        record = json.loads((tmp_path / "two" / "points" / f"{key}.json").read_text())
        assert record["phi"] == reference[key].phi.as_dict()
        with np.load(tmp_path / "two" / "points" / f"{key}.npz") as data:
            assert np.array_equal(data["e_i"], reference[key].e_i)
            assert np.array_equal(data["e_t"], reference[key].e_t.astype(np.float32))
    # Brian2's command-line form, with an image stimulus too
    stim = base.with_(stimulus_duration=20 * ms, stimulus_amplitude=1.7 * nA)
    with use_device("cpp_standalone", build_only=True, quiet=True) as dev:
        sheet, net = build_network(stim)
        dev.run(net, stim.total)
        for p in (stim, stim.with_(rp=6.5 * ms, seed=12, stimulus_amplitude=0.3 * nA)):
            assert command_line_for(run_variables(sheet, p), p) == \
                dev.command_line(run_args_for(sheet, p))
    # stale: a static array changed after the manifest was written
    static = sorted((Path(manifest.compiled.directory) / "static_arrays").iterdir())[0]
    static.write_bytes(static.read_bytes()[::-1])
    assert builds.find(spec) is None


def test_the_build_digest_is_hashed_again_only_when_a_file_changed(tmp_path):
    """The digest stamp: equal to sha256 over the files; a file rewritten with other
    bytes of the same size changes the digest; an unchanged build reads the stamp."""
    import hashlib

    from brianlab.sweeps import DIGEST_STAMP, _digest

    (tmp_path / "static_arrays").mkdir()
    files = {"main": b"\x7fELF binary", "static_arrays/a": b"\x01\x02" * 1000,
             "static_arrays/b": b"\x03" * 10}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    expected = hashlib.sha256()
    for name, data in files.items():  # (sorted: main first, then the static arrays)
        expected.update(name.encode() + b"\0" + data)
    assert _digest(tmp_path) == expected.hexdigest()
    stamp = json.loads((tmp_path / DIGEST_STAMP).read_text())
    assert stamp["digest"] == expected.hexdigest() and len(stamp["stats"]) == 3
    # an unchanged build is not hashed again: the stamp's digest is what is returned
    (tmp_path / DIGEST_STAMP).write_text(json.dumps(dict(stamp, digest="from the stamp")))
    assert _digest(tmp_path) == "from the stamp"
    # other bytes, same size (written now: its status-change time moves): hashed again
    (tmp_path / "static_arrays" / "a").write_bytes(b"\x02\x01" * 1000)
    assert _digest(tmp_path) not in ("from the stamp", expected.hexdigest())
    os.utime(tmp_path / "static_arrays" / "a", ns=(0, 0))  # a forged modification time
    (tmp_path / DIGEST_STAMP).write_text("{ damaged")
    assert _digest(tmp_path) == _digest(tmp_path) != expected.hexdigest()


def test_a_point_key_that_is_not_a_plain_file_name_is_refused(tmp_path):
    """A key names the point's files: one with a path separator, a leading dot or other
    characters would write outside ``save_to``; refused before anything runs."""
    from brianlab.sweeps import CompiledNetwork, Point, run_points

    compiled = CompiledNetwork(str(tmp_path / "build"), {})
    for key in ("../../escape", "a/b", ".hidden", "", "rp5 x", "x" * 201):
        with pytest.raises(SweepError, match="point key"):
            run_points(compiled, [Point(key, ())], save_to=tmp_path / "out")
    assert not (tmp_path / "escape").exists() and not (tmp_path / "build").exists()


def test_save_point_refuses_a_key_that_is_not_a_plain_file_name(tmp_path):
    """``save_point`` is public: its key is checked as ``run_points`` checks it."""
    from brianlab.sweeps import save_point

    out = tmp_path / "out"
    for key in ("../escape", ".hidden", "a/b"):
        with pytest.raises(SweepError, match="point key"):
            save_point(out, key, {}, {})
    assert not (tmp_path / "escape.json").exists() and not (tmp_path / "escape.npz").exists()


def test_a_dead_writers_old_temporary_files_are_removed(tmp_path):
    """A command killed while saving leaves a temporary file under its own writer name;
    the next sweep of that point removes it once nobody touched it for an hour, and keeps
    another writer's fresh file (it may be mid-write)."""
    from brianlab import sweeps

    out = tmp_path / "points"
    out.mkdir()
    fresh = out / ".k.npz.4242.abc.tmp"
    old = out / ".k.json.sweep1234.def.tmp"
    other_point = out / ".j.npz.4242.ghi.tmp"
    for path in (fresh, old, other_point):
        path.write_bytes(b"PK")
    hour_ago = time.time() - sweeps.STALE_TEMPORARY_S - 10
    os.utime(old, (hour_ago, hour_ago))
    os.utime(other_point, (hour_ago, hour_ago))
    sweeps._remove_temporaries(out, ["k"], "sweepmine")
    assert fresh.exists() and not old.exists() and other_point.exists()
    own = out / ".k.npz.sweepmine.xyz.tmp"
    own.write_bytes(b"PK")
    sweeps._remove_temporaries(out, ["k"], "sweepmine")
    assert not own.exists() and fresh.exists()
