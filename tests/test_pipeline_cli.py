"""``python -m brianlab run|sweep`` (brianlab.pipeline: planner, compile, flow, cli): a user's
network file (cuba@1 at 160/40 neurons and 100 ms, with a hash drive) runs on a cached
build; the same command again needs no Brian2; run-time values reuse the build, structure
values make another; a sweep tabulates axes x seeds; wrong arguments exit 2 with one line;
a results folder holds one configuration.

Two small cpp_standalone builds in the module (the network, and the network with another
E size), shared through module-scoped fixtures.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from brianlab.__main__ import main
from brianlab.analysis.population import population_statistics
from brianlab.pipeline.reductions import BIN, FANO_WINDOW
from brianlab.toolchain import cxx_compiler_works

from small_networks import small_cuba_text

pytestmark = [pytest.mark.skipif(not cxx_compiler_works(), reason="needs a C++ compiler")]

#: Runs ``python -m brianlab`` in a fresh interpreter where importing Brian2 or sympy fails.
CHILD = """
import json, sys
class NoBrian2:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("brian2", "sympy"):
            raise ImportError("brian2 imported: " + name)
sys.meta_path.insert(0, NoBrian2())
from brianlab.__main__ import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "brian2": "brian2" in sys.modules}))
"""


def _network(folder: Path) -> Path:
    """cuba@1 with 160/40 neurons, 100 ms in two phases and a hash drive, in ``folder``."""
    text = small_cuba_text()
    path = folder / "mycuba.toml"
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """The network file, a cache of the module's own (BRIANLAB_CACHE) and a folder."""
    tmp = tmp_path_factory.mktemp("pipeline_cli")
    previous = os.environ.get("BRIANLAB_CACHE")
    os.environ["BRIANLAB_CACHE"] = str(tmp / "cache")
    yield {"net": str(_network(tmp)), "tmp": tmp}
    if previous is None:
        os.environ.pop("BRIANLAB_CACHE", None)
    else:
        os.environ["BRIANLAB_CACHE"] = previous


def _saved(out: Path) -> tuple[dict, dict, dict]:
    """summary.json, and each point's record and arrays."""
    keys = sorted(p.stem for p in (out / "points").glob("*.npz"))
    records = {k: json.loads((out / "points" / f"{k}.json").read_text()) for k in keys}
    arrays = {}
    for k in keys:
        with np.load(out / "points" / f"{k}.npz") as data:
            arrays[k] = {name: data[name] for name in data.files}
    return json.loads((out / "summary.json").read_text()), records, arrays


@pytest.fixture(scope="module")
def first(env):
    """The first ``run``: plans, builds and runs (build 1)."""
    out = env["tmp"] / "a"
    assert main(["run", env["net"], "--out", str(out), "--no-figures"]) == 0
    return out


@pytest.mark.slow
def test_first_run_builds_and_saves_its_point(first, env):
    summary, records, arrays = _saved(first)
    (key,) = records
    assert (first / "configuration.json").is_file()
    assert (first / "points" / f"{key}.json").is_file()
    assert summary["builds"][0]["cached"] is False and summary["builds"][0]["build_s"] > 0
    assert set(summary["points"]) == {key}
    assert {"E_i", "E_t", "I_i", "I_t", "E_rate", "I_rate"} <= set(arrays[key])
    assert len(arrays[key]["E_i"]) > 50 and arrays[key]["E_i"].dtype == np.int32
    assert len(list((Path(env["tmp"]) / "cache" / "plans").glob("*.json"))) == 1


@pytest.mark.slow
def test_the_records_rates_are_those_of_the_saved_spikes(first):
    _, records, arrays = _saved(first)
    (key,) = records
    record = records[key]
    for pop, n in (("E", 160), ("I", 40)):
        stats = population_statistics(arrays[key][f"{pop}_i"], arrays[key][f"{pop}_t"], n,
                                      record["length_s"], t_start=record["t_start_s"], bin=BIN,
                                      window=min(FANO_WINDOW, record["length_s"] / 2))
        assert record["statistics"][pop]["rate"] == stats["rate"] > 0
        assert record["statistics"][pop]["spikes"] == stats["spikes"]


@pytest.mark.slow
def test_a_repeated_run_needs_no_brian2_and_gives_the_same_arrays(first, env):
    out = env["tmp"] / "b"
    proc = subprocess.run([sys.executable, "-c", CHILD, "run", env["net"], "--out", str(out),
                           "--no-figures"], capture_output=True, text=True, timeout=300,
                          env=dict(os.environ))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == {"code": 0, "brian2": False}
    assert "E " in proc.stdout and str(out) in proc.stdout  # rates and the folder printed
    (sa, ra, xa), (sb, rb, xb) = _saved(first), _saved(out)
    assert list(xa) == list(xb)
    for key in xa:
        assert set(xa[key]) == set(xb[key])
        assert all(np.array_equal(xa[key][n], xb[key][n]) for n in xa[key])
        assert ra[key]["statistics"] == rb[key]["statistics"]
    assert sb["builds"][0]["cached"] is True
    assert sb["builds"][0]["directory"] == sa["builds"][0]["directory"]


@pytest.mark.slow
def test_a_run_time_value_reuses_the_build_and_changes_the_spikes(first, env, capsys):
    out = env["tmp"] / "we"
    assert main(["run", env["net"], "--set", "we=3 mV", "--out", str(out),
                 "--no-figures"]) == 0
    (sa, _, xa), (sw, rw, xw) = _saved(first), _saved(out)
    assert sw["builds"][0]["directory"] == sa["builds"][0]["directory"]
    assert sw["builds"][0]["cached"] is True
    (key,) = xw
    assert key.startswith("we3mV_seed2_")  # no --seed: the file's [seeds] drive (2)
    assert rw[key]["values"] == {"we": pytest.approx(3e-3)}
    (base,) = xa.values()
    assert not np.array_equal(xw[key]["E_t"], base["E_t"])


@pytest.mark.slow
def test_a_structure_value_makes_another_build(first, env):
    out = env["tmp"] / "size"
    assert main(["run", env["net"], "--set", "populations.E.size=120", "--out", str(out),
                 "--no-figures"]) == 0
    (sa, _, _), (ss, rs, xs) = _saved(first), _saved(out)
    assert ss["builds"][0]["directory"] != sa["builds"][0]["directory"]
    assert ss["builds"][0]["cached"] is False
    (record,) = rs.values()
    assert record["statistics"]["E"]["n_neurons"] == 120
    assert max(next(iter(xs.values()))["E_i"]) < 120


@pytest.mark.slow
def test_a_sweep_of_run_time_values_and_seeds_builds_once(first, env, capsys):
    # we, wi and the hash drive's seed are run-time values; lif's noise is off (sigma = 0),
    # so no seed is compiled in: the sweep runs on the first run's build
    out = env["tmp"] / "sweep"
    capsys.readouterr()
    assert main(["sweep", env["net"], "--grid", "we=1.5,3 mV", "--grid", "wi=-9,-5 mV",
                 "--seeds", "0,1", "--out", str(out), "--no-figures"]) == 0
    summary, records, _ = _saved(out)
    assert len(records) == 8 and len(summary["builds"]) == 1
    assert summary["builds"][0]["directory"] == _saved(first)[0]["builds"][0]["directory"]
    assert summary["builds"][0]["cached"] is True
    rates = np.array(summary["table"]["E.rate"], dtype=float)
    assert rates.shape == (2, 2, 2) and np.isfinite(rates).all()
    assert [a["name"] for a in summary["axes"]] == ["we", "wi"]
    assert not np.array_equal(rates[..., 0], rates[..., 1])  # the drive seed
    assert not np.array_equal(rates[0, 0], rates[1, 0])  # we
    captured = capsys.readouterr()
    assert "8 of 8 points saved in" in captured.out and "builds" not in captured.err
    # the same command again resumes: only a point whose arrays are missing runs again
    victim = sorted((out / "points").glob("*.npz"))[0]
    others = {p.name: p.stat().st_mtime_ns for p in (out / "points").iterdir()
              if p.stem != victim.stem}
    victim.unlink()
    assert main(["sweep", env["net"], "--grid", "we=1.5,3 mV", "--grid", "wi=-9,-5 mV",
                 "--seeds", "0,1", "--out", str(out), "--no-figures"]) == 0
    assert victim.is_file() and len(_saved(out)[1]) == 8
    assert {p.name: p.stat().st_mtime_ns for p in (out / "points").iterdir()
            if p.stem != victim.stem} == others


def test_a_seed_drawn_at_run_time_is_compiled_in_one_build_per_seed(env, tmp_path):
    from brianlab.pipeline.planner import make_plan
    from brianlab.pipeline.request import Request

    plan = make_plan(Request("sweep", env["net"], grid=(("we", "1,2 mV"),), seeds=(0, 1)))
    assert [b.compiled_seed for b in plan.builds] == [None] and not plan.warnings
    # lif's noise switched on in E (sigma > 0): Brian2's generator runs in the binary
    noisy = tmp_path / "noisy.toml"
    noisy.write_text(Path(env["net"]).read_text().replace(
        'tau_i = "10 ms" }', 'tau_i = "10 ms", sigma = "1 mV" }', 1))
    plan = make_plan(Request("sweep", str(noisy), grid=(("we", "1,2 mV"),), seeds=(0, 1)))
    assert [b.compiled_seed for b in plan.builds] == [0, 1]
    assert [p.build for p in plan.points] == [0, 1, 0, 1]
    assert "2 seeds are 2 builds" in plan.warnings[0]


@pytest.mark.slow
def test_a_folder_holds_one_configuration(first, env, capsys):
    capsys.readouterr()
    assert main(["run", env["net"], "--set", "wi=-5 mV", "--out", str(first),
                 "--no-figures"]) == 1
    err = capsys.readouterr().err
    assert "error:" in err and str(first.name) in err


@pytest.mark.parametrize("argv, message", [
    (["run", "NET", "--set", "wee=1 mV"], "has no parameter 'wee'; its parameters: we, wi"),
    (["sweep", "NET", "--grid", "we=0.01:0.03:-1 mV"],
     "--grid we=0.01:0.03:-1 mV: expected START:STOP:STEP (step > 0)"),
    (["sweep", "NET", "--grid", "we=1:10000:1", "--grid", "wi=1:11:1"],
     "points (values x seeds); one sweep has at most 100,000"),
    (["run", "NET", "--set", "populations.E.sizes=100"],
     "'populations.E.sizes' is not a structure path of the network file"),
    (["run", "NET", "--set", "populations.E.size=0"], "populations.E.size=0: "),
])
def test_wrong_arguments_exit_2_with_one_line(env, capsys, argv, message):
    argv = [env["net"] if a == "NET" else a for a in argv]
    assert main([*argv, "--out", str(env["tmp"] / "never")]) == 2
    captured = capsys.readouterr()
    (line,) = captured.err.strip().splitlines()
    assert line.startswith("error: ") and message in line, line
    assert not (env["tmp"] / "never").exists()


@pytest.mark.slow
def test_bl_run_and_bl_sweep_use_the_cached_build(first, env):
    import brianlab as bl

    point = bl.run(env["net"], values={"we": "3 mV"})
    assert Path(point.folder).parent == Path(env["tmp"]) / "cache" / "runs"
    assert point.record["values"] == {"we": pytest.approx(3e-3)}
    assert point.arrays()["E_i"].dtype == np.int32 and len(point.arrays()["E_t"]) > 0
    result = bl.sweep(env["net"], {"we": "1.5,3 mV"}, values={"wi": "-5 mV"},
                      out=env["tmp"] / "api")
    assert result.table("rate", "E").shape == (2, 1) and len(result.records) == 2
    assert result.summary["builds"][0]["cached"] is True
    with pytest.raises(KeyError, match="E.rate"):
        result.table("nope", "E")


def test_the_runtime_device_runs_the_points_in_this_process(env, monkeypatch):
    from brianlab.pipeline import inprocess

    monkeypatch.setattr(inprocess, "TARGET", "numpy")
    out = env["tmp"] / "runtime"
    assert main(["run", env["net"], "--device", "runtime", "--set", "we=3 mV", "--out",
                 str(out), "--no-figures"]) == 0
    summary, records, arrays = _saved(out)
    (key,) = records
    assert summary["builds"] == [] and summary["device"] == "runtime"
    assert records[key]["inprocess"]["device"] == "runtime"
    assert records[key]["values"] == {"we": pytest.approx(3e-3)}
    stats = records[key]["statistics"]
    assert stats["E"]["n_neurons"] == 160 and stats["E"]["rate"] > 0
    assert arrays[key]["E_i"].dtype == np.int32 and arrays[key]["E_t"].max() < 0.1
    assert json.loads((out / "configuration.json").read_text())["configuration"]["device"] == \
        "runtime"


@pytest.mark.slow
def test_build_only_exits_3_with_the_build_folder(first, env, capsys):
    capsys.readouterr()
    assert main(["run", env["net"], "--build-only", "--out", str(env["tmp"] / "none")]) == 3
    printed = capsys.readouterr().out
    assert f"built in {_saved(first)[0]['builds'][0]['directory']}" in printed
    assert not (env["tmp"] / "none").exists()


def test_point_keys_show_structure_paths_without_their_table_only(env):
    """Two in-degrees of two projections show as two names in the key, not as two
    ``connector.k`` (the path without its table: ``populations.E.size`` -> ``E.size``)."""
    from brianlab.pipeline.planner import make_plan
    from brianlab.pipeline.request import Request

    plan = make_plan(Request("run", "brunel2000", sets=(
        ("populations.E.size", "800"), ("projections.EE.connector.k", "80"),
        ("projections.EI.connector.k", "70"), ("protocol.run.duration", "50 ms"))))
    (point,) = plan.points
    assert point.seed == 2  # no seed given: brunel2000's [seeds] drive
    assert point.key.startswith("E.size800_EE.connector.k80_EI.connector.k70_"
                                "run.duration50ms_seed2_"), point.key


@pytest.mark.slow
def test_sigterm_ends_a_sweep_that_resumes_with_exactly_the_rest(first, env, tmp_path,
                                                                  wait_for_a_point):
    """SIGTERM during ``python -m brianlab sweep`` (a batch scheduler's stop): exit 143, the
    resume message, every finished point saved whole; the same command again computes
    the points left, each once, and leaves the saved ones untouched."""
    import signal

    out = tmp_path / "sweep"
    cmd = [sys.executable, "-m", "brianlab", "sweep", env["net"],
           "--set", "protocol.run.duration=1 second", "--grid", "we=1:3:0.125 mV",
           "--out", str(out), "--no-figures"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    wait_for_a_point(proc, out, 400)
    os.killpg(proc.pid, signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    assert "interrupted: every completed point is saved; run the same command to resume" in err
    assert "Traceback" not in err
    done = sorted(p.stem for p in out.glob("points/*.json"))
    assert 1 <= len(done) < 17
    assert sorted(p.stem for p in out.glob("points/*.npz")) == done  # no half-saved point
    assert not list(out.rglob("*.tmp"))
    stamps = {p: p.stat().st_mtime_ns for p in out.glob("points/*")}
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert f"{len(done)} of 17 points already done" in again.stderr
    assert all(p.stat().st_mtime_ns == t for p, t in stamps.items())  # not recomputed
    assert len(list(out.glob("points/*.npz"))) == 17


@pytest.mark.slow
def test_two_local_dask_workers_give_the_in_process_points(first, env, tmp_path):
    """``--workers 2``: the points run as the cached binary on a local Dask cluster and are
    reduced there; arrays and records equal the in-process sweep's (no new build)."""
    pytest.importorskip("dask.distributed")
    grid = ["--grid", "we=1.5,3 mV", "--seeds", "0,1", "--no-figures"]
    assert main(["sweep", env["net"], *grid, "--out", str(tmp_path / "here")]) == 0
    assert main(["sweep", env["net"], *grid, "--workers", "2",
                 "--out", str(tmp_path / "dask")]) == 0
    (sh, rh, xh), (sd, rd, xd) = _saved(tmp_path / "here"), _saved(tmp_path / "dask")
    assert sorted(xh) == sorted(xd) and len(xd) == 4
    for key in xh:
        assert all(np.array_equal(xh[key][n], xd[key][n]) for n in xh[key]), key
        assert rh[key]["statistics"] == rd[key]["statistics"]
    assert sd["builds"][0]["cached"] is True
    assert len({r["sweep"]["pid"] for r in rd.values()} - {os.getpid()}) >= 1  # on workers


def test_cuda_standalone_builds_and_without_a_gpu_does_not_run(env, monkeypatch, capsys):
    """``--device cuda_standalone``: the plan has one CUDA build (its key has nvcc's
    identity, and no threads), compiled as any build missing from the cache; without a
    GPU its points are not run (exit 3, the build's folder and the reason printed, the
    summary saying so), and ``bl.run`` raises. The compile step is replaced here (nvcc
    takes minutes: tests/test_cuda.py compiles the CMSA sheet for real and finds it again)."""
    from brianlab import toolchain
    from brianlab.pipeline import builds, execute, flow
    from brianlab.sweeps import CompiledNetwork

    specs = []

    def fake_compile(plan, spec):
        specs.append(spec)
        key = spec.key()
        return builds.Manifest(key, spec.key_parts(),
                               CompiledNetwork(str(builds.directory(spec, key)), {}), {})

    monkeypatch.setattr(flow, "_compile_build", fake_compile)
    monkeypatch.setattr(execute, "gpu_available", lambda: (False, None))
    out = env["tmp"] / "cuda"
    capsys.readouterr()
    assert main(["run", env["net"], "--device", "cuda_standalone", "--threads", "2",
                 "--out", str(out)]) == 3
    printed = capsys.readouterr().out
    (spec,) = specs
    assert spec.device == "cuda_standalone" and spec.threads is None
    assert spec.key_parts()["cuda"] == toolchain.cuda_identity()
    directory = str(builds.directory(spec))
    assert f"cuda_standalone: built in {directory} but not run (no GPU is available here)" \
        in printed
    summary = json.loads((out / "summary.json").read_text())
    assert summary["device"] == "cuda_standalone" and len(summary["not_run"]) == 1
    assert "no GPU is available here" in summary["why_not_run"]
    assert not list(out.glob("points/*.npz")) and not (out / "figures").exists()
    assert main(["run", env["net"], "--device", "cuda_standalone", "--build-only",
                 "--out", str(out)]) == 3
    assert "(--build-only was given)" in capsys.readouterr().out and len(specs) == 2
    import brianlab as bl
    from brianlab.errors import DeviceError

    with pytest.raises(DeviceError, match="no GPU is available here"):
        bl.run(env["net"], device="cuda_standalone", out=env["tmp"] / "cuda-api")
