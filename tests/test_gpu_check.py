"""``benchmarks/gpu_check.py`` (issue 27): its comparison and event counts on synthetic
records and reports. Its build-only run on the smallest sheet is in ``tests/test_cuda.py``
(``test_gpu_check_builds_everything_without_a_gpu``), where it finds that module's CUDA build."""

import json
import os
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from benchmarks import gpu_check



def _record(rp, phi, patterns=2.0, rate_e=10.0, rate_i=20.0):
    return {"rp_ms": rp, "phi": {"phi": phi, "mean_patterns": patterns},
            "rate_e_hz": rate_e, "rate_i_hz": rate_i}


def _phases(*records):
    return dict(zip(("bump", "critical", "wave"), records))


def test_same_states_and_rates_within_ten_percent_pass():
    cpp = _phases(_record(5, 0.1), _record(6.5, 0.5), _record(10, 0.9, rate_e=40))
    cuda = _phases(_record(5, 0.12, rate_e=10.9), _record(6.5, 0.6, rate_i=18.5),
                   _record(10, 0.95, rate_e=37))
    rows = gpu_check.compare_phases(cuda, cpp)
    assert [r["rp_ms"] for r in rows] == [5.0, 6.5, 10.0]
    assert [r["cuda_state"] for r in rows] == ["bump", "mixed", "wave"]
    assert all(r["ok"] for r in rows)
    assert rows[2]["rate_e_diff"] == pytest.approx(3 / 40)


def test_another_state_or_a_rate_off_by_more_than_ten_percent_fails():
    cpp = _phases(_record(5, 0.1), _record(6.5, 0.5), _record(10, 0.9))
    cuda = _phases(_record(5, 0.4), _record(6.5, 0.5, rate_i=25.0), _record(10, 0.9,
                                                                            patterns=0))
    rows = gpu_check.compare_phases(cuda, cpp)
    assert [(r["same_state"], r["rates_close"]) for r in rows] == [
        (False, True), (True, False), (False, True)]
    assert rows[2]["cuda_state"] == "no patterns"
    assert not any(r["ok"] for r in rows)
    # a point missing on one side is never ok
    missing = gpu_check.compare_phases(_phases(_record(5, 0.1)), cpp)
    assert [r["ok"] for r in missing] == [True, False, False]
    assert missing[1]["cuda_state"] is None and missing[1]["rate_e_diff"] is None


def test_state_names_match_the_package():
    from brianlab.cmsa.reduce import STATE_PHI, state_name

    assert gpu_check.STATE_PHI == STATE_PHI
    for phi in (0.0, 0.2, 0.35, 0.5, 0.8, 0.81, 1.0):
        for patterns in (0, 1.5):
            record = {"phi": phi, "mean_patterns": patterns}
            assert gpu_check.state_name(record) == state_name(record)


def test_synaptic_events_and_npz_lengths(tmp_path):
    params = {"e_side": 10, "i_side": 5, "k_e": 20, "k_i": 40, "rule": "fixed_indegree"}
    # every target has k_e E and k_i I synapses: 20 * 125 from E, 40 * 125 from I
    assert gpu_check.synaptic_events(params, 100, 25) == pytest.approx(
        100 * 20 * 125 / 100 + 25 * 40 * 125 / 25)
    assert gpu_check.synaptic_events(dict(params, rule="kernel"), 1, 1) is None
    path = tmp_path / "p.npz"
    np.savez(path, e_i=np.arange(7, dtype=np.int32), i_i=np.zeros(0, np.int32),
             frames=np.zeros((3, 4, 4), np.float32))
    assert gpu_check.npz_lengths(path) == {"e_i": 7, "i_i": 0, "frames": 3}
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == ["e_i.npy", "frames.npy", "i_i.npy"]
    assert gpu_check.seconds("30. ms") == pytest.approx(0.03)
    assert gpu_check.seconds("100. us") == pytest.approx(1e-4)
    assert gpu_check.seconds("0. s") == 0


def test_the_report_is_rewritten_whole(tmp_path):
    check = gpu_check.Check(tmp_path, 100.0, True, "test")
    check.add({"step": 1, "name": "CUDA tests", "counts": {"collected": 3},
               "command": {"rc": 0, "wall_s": 1.0}})
    check.add({"step": 3, "name": "scaling", "skipped": "budget"})
    report = json.loads((tmp_path / "gpu_check.json").read_text())
    assert [s["step"] for s in report["steps"]] == [1, 3]
    assert all(s["note"] == gpu_check.BUILD_ONLY_NOTE for s in report["steps"])
    text = (tmp_path / "gpu_check.md").read_text()
    assert "## Step 1: CUDA tests (build-only: no GPU)" in text
    assert "skipped: budget" in text
    assert not list(tmp_path.glob(".*.tmp"))


def test_without_python_312_the_install_step_goes_on_with_this_python(tmp_path, monkeypatch):
    """``uv sync`` refused (no Python 3.12, ``UV_PYTHON_DOWNLOADS=never``) and no
    ``.venv``: the check goes on with the Python running it when that imports brianlab and
    brian2, and says so; with none that does, every later step is skipped."""
    uv = tmp_path / "bin" / "uv"
    uv.parent.mkdir()
    uv.write_text("#!/bin/sh\necho 'error: No interpreter found for Python 3.12' >&2\nexit 2\n")
    uv.chmod(0o755)
    monkeypatch.setenv("PATH", f"{uv.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(gpu_check, "ROOT", tmp_path)  # no .venv there
    args = gpu_check.parse([str(tmp_path / "out"), "--build-only"])
    check = gpu_check.Check(args.out, 300.0, True, "test")
    assert gpu_check.step_install(check, args)
    step = check.report["steps"][0]
    assert step["python"] == sys.executable and check.python == sys.executable
    sync = [c for c in step["commands"] if c["what"].startswith("uv sync")][0]
    assert sync["rc"] == 2 and "Python 3.12" in sync["stderr_tail"]
    assert "uv sync failed" in step["warning"]
    assert "uv sync failed" in (args.out / "gpu_check.md").read_text()

    monkeypatch.setattr(gpu_check.sys, "executable", "/nonexistent/python3")
    check = gpu_check.Check(tmp_path / "out2", 300.0, True, "test")
    assert not gpu_check.step_install(check, args)
    assert "later steps skipped" in check.report["steps"][0]["error"]
