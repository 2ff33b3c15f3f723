"""The CMSA command line and protocol on small sheets (runtime device), plus one full-size run."""

import json

import numpy as np
import pytest

from brianlab.cmsa import CMSAParams
from brianlab.cmsa.__main__ import main
from brianlab.pipeline.grid import parse_range, parse_seeds

SMALL = ["--size", "40", "--duration", "40", "--ke", "100", "--ki", "150", "--device",
         "runtime", "--no-gif"]


def test_run_writes_summary_arrays_and_figures(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", "--rp", "5", *SMALL, "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["command"] == "run" and summary["device"]["device"] == "runtime"
    (key, point), = summary["points"].items()
    assert key.startswith("rp5_we0.02_wi0.01_seed0_") and len(key) == 34  # + a 10-digit hash
    assert {m["model"] for m in point["models"]} == {"lif@2", "ampa_exp@1", "gaba_exp@1",
                                                     "static@1"}
    assert all(len(m["sha256"]) == 64 for m in point["models"])
    assert point["rate_e_hz"] > 0 and 0 <= point["phi"]["phi"] <= 1
    assert summary["versions"]["brian2"] and summary["params"]["rp"] == "5. ms"
    data = np.load(out / "points" / f"{key}.npz")
    assert data["frames"].dtype == np.float32 and data["frames"].shape[1:] == (40, 40)
    assert (out / "snapshots.png").stat().st_size > 1000 and (out / "raster.png").exists()
    assert "Phi =" in capsys.readouterr().out


def test_sweep_resumes_where_it_stopped(tmp_path, capsys):
    out = tmp_path / "sweep"
    args = ["sweep", "--param", "rp", "--values", "5,9", "--seeds", "0", *SMALL,
            "--out", str(out)]
    assert main(args) == 0
    first = json.loads((out / "summary.json").read_text())
    assert np.isfinite(np.array(first["phi"], dtype=float)).all()
    assert (out / "phi_vs_rp.png").exists()
    # lose one point (as if interrupted), keep the other: only the lost one is re-run
    (rp9,) = (out / "points").glob("rp9_we0.02_wi0.01_seed0_*.json")
    (rp5,) = (out / "points").glob("rp5_we0.02_wi0.01_seed0_*.npz")
    rp9.unlink()
    kept = rp5.stat().st_mtime
    capsys.readouterr()
    assert main(args) == 0
    assert "resuming: 1 of 2 points already done" in capsys.readouterr().err
    assert rp5.stat().st_mtime == kept and rp9.exists()


@pytest.mark.parametrize("argv, message", [
    (["run", "--size", "0"], "e_side must be an integer >= 4"),
    (["run", "--size", "41"], "must be a multiple of i_side"),
    (["run", "--rp", "0.05"], "below dt"),
    (["run", "--size", "20"], "exceed the source populations"),
    (["run", "--duration", "-5"], "duration must be positive"),
])
def test_impossible_parameters_fail_before_any_build(argv, message, capsys, tmp_path):
    assert main([*argv, "--out", str(tmp_path / "x")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x" / "summary.json").exists()


@pytest.mark.parametrize("rule", ["kernel", "probability"])
def test_rules_without_in_degree_accept_a_small_sheet(rule, tmp_path, capsys):
    """The default in-degrees (200/400) exceed a sheet of side 20, but the kernel and
    probability rules use no in-degree: the sheet is accepted and runs."""
    p = CMSAParams(e_side=20, i_side=10, rule=rule)
    assert p.k_i > p.i_side**2 and p.n_synapses > 0
    assert main(["run", "--rule", rule, "--size", "20", "--duration", "40", "--device",
                 "runtime", "--no-gif", "--out", str(tmp_path / rule)]) == 0
    assert (tmp_path / rule / "summary.json").exists()
    with pytest.raises(ValueError, match="exceed the source populations"):
        CMSAParams(e_side=20, i_side=10, rule="fixed_indegree")


def test_threads_and_workers_beyond_the_usable_cores_are_refused(tmp_path, capsys):
    from brianlab.resources import usable_cores

    cores = usable_cores()
    assert main(["run", "--threads", str(cores + 1), *SMALL, "--out", str(tmp_path / "t")]) == 2
    err = capsys.readouterr().err
    assert f"--threads {cores + 1}: expected 0 to {cores}, the cores this process may use" in err
    assert main(["sweep", "--workers", "100000", *SMALL, "--out", str(tmp_path / "w")]) == 2
    err = capsys.readouterr().err
    assert "--workers 100000: a local cluster" in err and f"give at most {cores}" in err
    assert not (tmp_path / "t").exists() and not (tmp_path / "w").exists()


def test_ranges_and_seeds():
    assert parse_range("5:6:0.5") == [5.0, 5.5, 6.0]
    assert parse_range("5,6.5") == [5.0, 6.5]
    assert parse_seeds("0-3") == [0, 1, 2, 3] and parse_seeds("2,5") == [2, 5]
    for bad in ("5:4:1", "a:b:c", "5:6:0", ""):
        with pytest.raises(Exception):
            parse_range(bad)
    with pytest.raises(SystemExit) as info:
        main(["sweep", "--values", "7:5:1"])
    assert info.value.code == 2


def test_not_run_exit_codes(monkeypatch, tmp_path, capsys):
    """Built but not runnable here: exit 0 only with --build-only, else 3 with the reason.
    The pipeline's compile step is replaced by one that records its builds (no nvcc), and
    this machine has no GPU (``gpu_available``), so the CUDA points are not run."""
    import brianlab.cmsa.commands as commands
    import brianlab.pipeline.execute as execute
    from brianlab.pipeline import builds
    from brianlab.sweeps import CompiledNetwork

    monkeypatch.setenv("BRIANLAB_CACHE", str(tmp_path / "cache"))
    compiled = []

    def fake_compile(plan, spec):
        compiled.append(spec.device)
        key = spec.key()
        return builds.Manifest(key, spec.key_parts(),
                               CompiledNetwork(str(builds.directory(spec, key)), {}), {})

    monkeypatch.setattr(commands, "compile_build", fake_compile)
    monkeypatch.setattr(execute, "gpu_available", lambda: (False, None))
    assert main(["run", "--device", "cuda_standalone", "--size", "30", "--ke", "50", "--ki",
                 "50", "--out", str(tmp_path / "a")]) == 3
    summary = json.loads((tmp_path / "a" / "summary.json").read_text())
    assert "built in" in capsys.readouterr().out
    assert summary["not_run"].startswith("cuda_standalone: built in ") and \
        summary["not_run"].endswith("but not run (no GPU is available here)")
    assert not list((tmp_path / "a").glob("points/*.json"))
    assert main(["run", "--device", "cuda_standalone", "--size", "30", "--ke", "50", "--ki",
                 "50", "--build-only", "--out", str(tmp_path / "b")]) == 0
    assert "(--build-only was given)" in capsys.readouterr().out
    assert compiled == ["cuda_standalone", "cuda_standalone"]
    # a run on cpp_standalone that only builds: its build is made, no point run
    assert main(["run", "--device", "cpp_standalone", "--size", "30", "--ke", "50", "--ki",
                 "50", "--build-only", "--out", str(tmp_path / "c")]) == 0
    assert compiled[-1] == "cpp_standalone"
    assert main(["run", "--device", "runtime", "--build-only", "--out",
                 str(tmp_path / "d")]) == 2
    assert "the runtime device has no build" in capsys.readouterr().err


def test_params_as_dict_and_sigmas():
    p = CMSAParams()
    assert p.sigma_e == pytest.approx(3.0) and p.sigma_i == pytest.approx(2 * np.sqrt(200))
    assert p.as_dict()["we"] == "20. nS"


@pytest.mark.slow
def test_full_size_bump_and_wave_states(tmp_path, capsys):
    """Default 150 x 150 sheet, cpp_standalone, one compilation for six runs.

    The network is chaotic (a realization depends on thread count and compiler), so the
    test asserts what holds across seeds: bumps are stationary (Phi 0), waves travel
    (about 1 lattice spacing per ms) and most seeds give coherent waves (Phi > 0.8;
    measured over seeds 0-4, 3 of 5 at rp = 10 ms; opposite waves pull single seeds down).
    """
    out = tmp_path / "sweep"
    assert main(["sweep", "--values", "5,10", "--seeds", "2-4", "--no-gif", "--out",
                 str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    phi = np.array(summary["phi"], dtype=float)
    speeds = {k: v["phi"]["mean_speed"] for k, v in summary["points"].items()}
    bump_speed = [v for k, v in speeds.items() if k.startswith("rp5_")]
    wave_speed = [v for k, v in speeds.items() if k.startswith("rp10_")]
    assert phi[0].max() < 0.35 and max(bump_speed) < 0.3
    assert np.median(phi[1]) > 0.8 and min(wave_speed) > 0.5


def test_attention_reports_spike_shares(tmp_path, capsys):
    out = tmp_path / "att"
    assert main(["attention", "--seeds", "0", *SMALL, "--stimulus-duration", "40",
                 "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["states"]) == {"bump", "critical", "wave"}
    point = next(iter(summary["points"].values()))
    att = point["attention"]
    assert att["area_share"] == pytest.approx((2 * 2 * 40 - 4) / 1600)  # cross of width 2
    assert len(att["ratio_course_20ms"]) == 2
    assert "spike share in the image" in capsys.readouterr().out


def test_attention_with_a_missing_image_names_the_file(tmp_path, capsys):
    assert main(["attention", *SMALL, "--image", str(tmp_path / "nope.png"),
                 "--out", str(tmp_path / "a")]) == 2
    assert "nope.png" in capsys.readouterr().err
    assert not (tmp_path / "a").exists()


# -- issue 10: a folder holds one configuration, and bad input fails before the simulation --
def test_a_folder_with_another_configuration_is_refused(tmp_path, capsys):
    out = tmp_path / "sweep"
    args = ["sweep", "--param", "rp", "--values", "5,9", "--seeds", "0", *SMALL,
            "--out", str(out)]
    assert main(args) == 0
    before = sorted(p.name for p in (out / "points").iterdir())
    longer = [a if a != "40" or args[i - 1] != "--duration" else "50"
              for i, a in enumerate(args)]
    capsys.readouterr()
    assert main(longer) == 1
    err = capsys.readouterr().err
    assert "holds results of another configuration" in err and "params.duration" in err
    assert "give another --out" in err
    assert sorted(p.name for p in (out / "points").iterdir()) == before  # nothing touched
    # other sweep values of the same configuration reuse the folder; the summary holds
    # only the points of the command that wrote it
    assert main([*args[:4], "5", *args[5:]]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert list(summary["points"]) == [k for k in summary["points"] if k.startswith("rp5_")]
    assert len(summary["points"]) == 1


def test_a_folder_without_a_configuration_record_is_refused(tmp_path, capsys):
    out = tmp_path / "old"
    (out / "points").mkdir(parents=True)
    (out / "points" / "rp5_we0.02_wi0.01_seed0.json").write_text("{}")
    assert main(["run", *SMALL, "--out", str(out)]) == 1
    assert "has no configuration.json" in capsys.readouterr().err


@pytest.mark.parametrize("where", ["file", "under_file", "proc"])
def test_out_must_be_a_writable_folder(tmp_path, where, capsys):
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    out = {"file": a_file, "under_file": a_file / "sub", "proc": "/proc/brianlab_out"}[where]
    assert main(["run", *SMALL, "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert str(out) in err and ("is a file" in err or "cannot write" in err)


@pytest.mark.parametrize("argv", [["run", "--rp", "inf"], ["run", "--rp", "nan"],
                                  ["run", "--we", "inf"], ["run", "--duration", "1e999"],
                                  ["run", "--seed", str(2**53)], ["run", "--seed", "-1"],
                                  ["sweep", "--seeds", "0-100000000000"],
                                  ["sweep", "--values", "0:1e9:1"]])
def test_non_finite_and_out_of_range_arguments(argv, tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main([*argv, "--out", str(tmp_path / "x")])
    assert info.value.code == 2
    assert not (tmp_path / "x").exists()


def test_a_sheet_too_large_for_the_machine_is_refused_with_an_estimate(tmp_path, capsys):
    assert main(["run", "--size", "100000", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "7,500,000,000,000 synapses" in err and "GiB of memory" in err
    assert not (tmp_path / "x").exists()


def test_memory_estimate_against_the_measured_sheets():
    """The estimate without its spikes reproduces the peaks measured in session 4 (tuned
    sheets, 3-9 Hz) within 10 %; the spikes add their bound (every neuron at 1 / rp)."""
    side600 = CMSAParams(e_side=600, i_side=300)
    side1000 = CMSAParams(e_side=1000, i_side=500, k_e=100, k_i=100)
    assert side600.n_synapses == 270_000_000 and side1000.n_synapses == 250_000_000
    for p, measured in ((side600, 12.4e9), (side1000, 11.2e9)):
        parts = p.memory_parts()
        assert parts["synapses"] + parts["base"] == pytest.approx(measured, rel=0.1)
        neurons = p.e_side**2 + p.i_side**2
        assert parts["spikes"] == pytest.approx(neurons * 200 * 0.43 * 24)  # 200 Hz, 430 ms
        assert p.memory_estimate() == pytest.approx(sum(parts.values()))


def test_an_all_black_image_is_refused_by_name(tmp_path, capsys):
    from PIL import Image

    black = tmp_path / "black.png"
    Image.new("L", (50, 50)).save(black)
    assert main(["attention", *SMALL, "--image", str(black), "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "black.png" in err and "marks no stimulus region" in err


def test_seed_limit_keeps_the_drive_random():
    """Why seeds stop at 2**31 - 1: the drive's sine hash (evaluated here in double precision,
    as in the generated code) stays uniform and uncorrelated in time up to there, and
    degenerates at 2**53, where the seed term swamps the time term."""
    from brianlab.cmsa.params import MAX_SEED

    i = np.arange(5000)[:, None]
    t = np.arange(0, 100, 0.5)[None, :]

    def drive(seed):
        x = np.sin(12.9898 * i + 78.233 * t + 37.719 * float(seed) + 0.1) * 43758.5453
        return x - np.floor(x)

    for seed in (0, MAX_SEED):
        u = drive(seed)
        lag = np.corrcoef(u[:, :-1].ravel(), u[:, 1:].ravel())[0, 1]
        assert abs(u.mean() - 0.5) < 0.01 and abs(u.std() - 12**-0.5) < 0.01 and abs(lag) < 0.02
    bad = drive(2**53 + 2)
    assert abs(np.corrcoef(bad[:, :-1].ravel(), bad[:, 1:].ravel())[0, 1]) > 0.2


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory):
    """One brianlab cache for the interruption tests: the small sheet is compiled once."""
    return tmp_path_factory.mktemp("cache")


@pytest.mark.slow
@pytest.mark.parametrize("signame, code", [("SIGINT", 130), ("SIGTERM", 143)])
def test_interrupted_sweep_saves_every_point_and_resumes(tmp_path, shared_cache, signame, code,
                                                         wait_for_a_point):
    """Ctrl-C (SIGINT to the whole process group, the standalone binary included) and SIGTERM
    end a sweep with the resume message and 130/143, no traceback; the rerun resumes."""
    import os
    import signal
    import subprocess
    import sys

    out = tmp_path / "sweep"
    cmd = [sys.executable, "-m", "brianlab.cmsa", "sweep", "--values", "5:12:0.25", "--seeds",
           "0", "--size", "40", "--duration", "300", "--ke", "100", "--ki", "150", "--device",
           "cpp_standalone", "--threads", "1", "--no-gif", "--out", str(out)]
    env = dict(os.environ, BRIANLAB_CACHE=str(shared_cache))
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, start_new_session=True)
    wait_for_a_point(proc, out, 400)
    os.killpg(proc.pid, getattr(signal, signame))
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == code, err
    assert "interrupted: every completed point is saved; run the same command to resume" in err
    assert "Traceback" not in err
    done = sorted(p.stem for p in out.glob("points/*.json"))
    assert 1 <= len(done) < 29
    assert sorted(p.stem for p in out.glob("points/*.npz")) == done  # no half-saved point
    assert not list(out.rglob("*.tmp"))
    stamps = {p: p.stat().st_mtime for p in out.glob("points/*.npz")}
    again = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert again.returncode == 0, again.stderr
    assert f"resuming: {len(done)} of 29 points already done" in again.stderr
    assert all(p.stat().st_mtime == t for p, t in stamps.items())  # not recomputed
    assert len(list(out.glob("points/*.npz"))) == 29
