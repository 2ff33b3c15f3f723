"""The CMSA command line and protocol on small sheets (runtime device), plus one full-size run."""

import json

import numpy as np
import pytest

from brianlab.cmsa import CMSAParams
from brianlab.cmsa.__main__ import main, parse_range, parse_seeds

SMALL = ["--size", "40", "--duration", "40", "--ke", "100", "--ki", "150", "--device",
         "runtime", "--no-gif"]


def test_run_writes_summary_arrays_and_figures(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", "--rp", "5", *SMALL, "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["command"] == "run" and summary["device"]["device"] == "runtime"
    (key, point), = summary["points"].items()
    assert key == "rp5_we0.02_wi0.01_seed0"
    assert {m["model"] for m in point["models"]} == {"lif@1", "ampa_exp@1", "gaba_exp@1",
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
    (out / "points" / "rp9_we0.02_wi0.01_seed0.json").unlink()
    kept = (out / "points" / "rp5_we0.02_wi0.01_seed0.npz").stat().st_mtime
    capsys.readouterr()
    assert main(args) == 0
    assert "resuming: 1 of 2 points already done" in capsys.readouterr().err
    assert (out / "points" / "rp5_we0.02_wi0.01_seed0.npz").stat().st_mtime == kept
    assert (out / "points" / "rp9_we0.02_wi0.01_seed0.json").exists()


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
    """Built but not runnable here: exit 0 only with --build-only, else 3 with the reason."""
    import brianlab.cmsa.experiment as experiment

    class FakeSession:
        name, directory, build_only = "cuda_standalone", tmp_path / "build", False

        def describe(self):
            return {"device": self.name, "directory": str(self.directory)}

    def fake_simulate(points, **kwargs):
        session = FakeSession()
        session.build_only = kwargs["build_only"]
        raise experiment.NotRunError(session)

    monkeypatch.setattr(experiment, "simulate", fake_simulate)
    assert main(["run", "--device", "cuda_standalone", "--out", str(tmp_path / "a")]) == 3
    assert "built in" in capsys.readouterr().out and "no GPU is available" in \
        (tmp_path / "a" / "summary.json").read_text()
    assert main(["run", "--device", "cuda_standalone", "--build-only",
                 "--out", str(tmp_path / "b")]) == 0


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
