"""``benchmarks/gpu_check.py`` (issue 27): its comparison and event counts on synthetic
records and reports; the wheels it carries to the GPU machine (``--fetch-wheels``, step 0
from ``.whl/``) with ``subprocess`` replaced (no downloads, no builds). Its build-only run
on the smallest sheet is in ``tests/test_cuda.py``
(``test_gpu_check_builds_everything_without_a_gpu``), where it finds that module's CUDA build."""

import json
import os
import subprocess
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


# -- wheels for the GPU machine (no downloads, no builds: subprocess is replaced) -----------

def test_the_wheels_versions_are_the_locked_environments():
    from importlib.metadata import PackageNotFoundError, version

    assert gpu_check.WHEEL_PACKAGES == ("brian2", "brian2cuda")
    try:
        installed = {name: version(name) for name in gpu_check.WHEEL_PACKAGES}
    except PackageNotFoundError:
        # the Python 3.13 job installs the newest Brian2 without the lock and without brian2cuda
        pytest.skip("not the environment uv.lock describes (no brian2cuda)")
    assert gpu_check.lock_versions() == installed


def test_a_lock_with_two_versions_of_a_wheel_is_an_error(tmp_path):
    lock = tmp_path / "uv.lock"
    lock.write_text('version = 1\n[[package]]\nname = "brian2"\nversion = "2.10.1"\n'
                    '[[package]]\nname = "brian2"\nversion = "2.9.0"\n')
    with pytest.raises(KeyError, match="2 versions of brian2"):
        gpu_check.lock_versions(["brian2"], lock)


class _FakeRun:
    """Stands for ``subprocess.run``: records the argv; ``pip download`` / ``pip wheel``
    write a wheel of ``size`` bytes into their folder (or fail for ``fail``)."""

    def __init__(self, size=1000, fail=()):
        self.calls, self.size, self.fail = [], size, fail

    def __call__(self, argv, **kwargs):
        self.calls.append(argv)
        rc = 0
        if argv[:3] == [sys.executable, "-m", "pip"]:
            name, version = argv[-1].split("==")
            if argv[3] == "download" and name in self.fail:
                rc = 1
            else:
                folder = Path(argv[argv.index("-d" if argv[3] == "download" else "-w") + 1])
                tag = "cp312-cp312-manylinux_2_17_x86_64" if name == "brian2" else \
                    "py3-none-any"
                (folder / f"{name}-{version}-{tag}.whl").write_bytes(b"0" * self.size)
        return subprocess.CompletedProcess(argv, rc, "", "")


def test_fetch_downloads_the_locked_wheels_for_cpython_312_manylinux(tmp_path, monkeypatch,
                                                                        capsys):
    fake = _FakeRun(size=2**20, fail=("brian2cuda",))
    monkeypatch.setattr(gpu_check.subprocess, "run", fake)
    dest = tmp_path / ".whl"
    dest.mkdir()
    (dest / "brian2-2.9.0-cp312-cp312-manylinux_2_17_x86_64.whl").write_bytes(b"old")
    versions = gpu_check.lock_versions()
    assert gpu_check.fetch_wheels(dest) == 0
    pip = [c for c in fake.calls if c[0] == sys.executable]
    assert pip[0] == [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--python-version", "3.12", "--implementation", "cp",
        "--platform", "manylinux_2_28_x86_64", "--platform", "manylinux_2_27_x86_64",
        "--platform", "manylinux_2_17_x86_64", "--platform", "manylinux2014_x86_64",
        "--platform", "manylinux1_x86_64", "--disable-pip-version-check", "-d", str(dest),
        f"brian2=={versions['brian2']}"]
    assert pip[1][3] == "download" and pip[1][-1] == f"brian2cuda=={versions['brian2cuda']}"
    # no wheel on the index: built here, and said so
    assert pip[2] == [sys.executable, "-m", "pip", "wheel", "--no-deps",
                      "--disable-pip-version-check", "-w", str(dest),
                      f"brian2cuda=={versions['brian2cuda']}"]
    names = [p.name for p in gpu_check.wheel_files(dest)]
    assert names == [f"brian2-{versions['brian2']}-cp312-cp312-manylinux_2_17_x86_64.whl",
                     f"brian2cuda-{versions['brian2cuda']}-py3-none-any.whl"]  # 2.9.0 removed
    out = capsys.readouterr().out
    assert "building one here with pip wheel --no-deps" in out
    assert "total 2.00 MiB in 2 wheels" in out
    # git is asked whether .whl/ is ignored (it is: .gitignore), so info/exclude is kept
    assert ["git", "check-ignore", "-q", ".whl/"] in fake.calls


def test_fetch_refuses_wheels_over_the_size_limit(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(gpu_check.subprocess, "run", _FakeRun(size=31 * 2**20))
    assert gpu_check.fetch_wheels(tmp_path / ".whl") == 1  # 62 MiB > 60 MiB
    captured = capsys.readouterr()
    assert "total 62.00 MiB in 2 wheels" in captured.out
    assert "over the 60 MiB limit" in captured.err
    args = gpu_check.parse(["--fetch-wheels"])  # no OUT_DIR needed; without either: an error
    assert args.fetch_wheels and args.out is None
    with pytest.raises(SystemExit):
        gpu_check.parse([])


def test_fetch_adds_whl_to_info_exclude_when_git_does_not_ignore_it(tmp_path, monkeypatch):
    exclude = tmp_path / "gitdir" / "info" / "exclude"

    def run(argv, **kwargs):
        if argv[1] == "check-ignore":
            return subprocess.CompletedProcess(argv, 1, "", "")
        return subprocess.CompletedProcess(argv, 0, f"{exclude}\n", "")

    monkeypatch.setattr(gpu_check.subprocess, "run", run)
    assert gpu_check.ensure_excluded(tmp_path) == f"added /.whl/ to {exclude}"
    assert exclude.read_text() == "/.whl/\n"
    assert gpu_check.ensure_excluded(tmp_path) == f"/.whl/ already in {exclude}"
    assert exclude.read_text() == "/.whl/\n"


class _FakePopen:
    """Stands for ``subprocess.Popen`` in :meth:`gpu_check.Check.command`: records argv
    and env; ``python -c`` (the version probe) prints ``versions``."""

    calls: list = []
    versions: dict = {}

    def __init__(self, argv, **kwargs):
        self.argv, self.env, self.pid, self.returncode = argv, kwargs["env"], 0, 0
        _FakePopen.calls.append(self)

    def communicate(self, timeout=None):
        if self.argv[1:2] == ["-c"]:
            return json.dumps(_FakePopen.versions) + "\n", ""
        return "3 tests collected\n", ""


def test_with_wheels_the_install_step_uses_them_and_python3_with_pythonpath(tmp_path,
                                                                           monkeypatch):
    import shutil

    lock = gpu_check.lock_versions()
    shutil.copy(gpu_check.ROOT / "uv.lock", tmp_path / "uv.lock")
    (tmp_path / ".whl").mkdir()
    wheels = [tmp_path / ".whl" / f"brian2-{lock['brian2']}-cp312-cp312-x.whl",
              tmp_path / ".whl" / f"brian2cuda-{lock['brian2cuda']}-py3-none-any.whl"]
    for w in wheels:
        w.write_bytes(b"")
    monkeypatch.setattr(gpu_check, "ROOT", tmp_path)
    monkeypatch.setattr(gpu_check.subprocess, "Popen", _FakePopen)
    _FakePopen.calls = []
    _FakePopen.versions = dict(lock, brianlab=str(tmp_path / "brianlab" / "__init__.py"))
    args = gpu_check.parse([str(tmp_path / "out"), "--build-only"])
    check = gpu_check.Check(args.out, 300.0, True, "test")
    assert gpu_check.step_install(check, args)
    python3 = shutil.which("python3") or sys.executable
    assert _FakePopen.calls[0].argv == [
        "python3", "-m", "pip", "install", "-q", "--no-index", "--no-deps", "--no-compile",
        "--no-cache-dir", "--upgrade", "--target", "/tmp/site", *map(str, wheels)]
    assert [c.argv[1:3] for c in _FakePopen.calls[1:]] == [
        ["-c", _FakePopen.calls[1].argv[2]], ["-m", "brianlab.cmsa"], ["-m", "pytest"]]
    step = check.report["steps"][0]
    assert step["path"] == "wheels" and step["ok"] and check.python == python3
    assert step["versions"]["brian2"] == lock["brian2"]
    assert "Path: wheels" in (args.out / "gpu_check.md").read_text()
    # every later step: that Python, PYTHONPATH=/tmp/site:<repo root>
    gpu_check.step_tests(check, args)
    later = _FakePopen.calls[-1]
    assert later.argv[:3] == [python3, "-m", "pytest"]
    assert later.env["PYTHONPATH"] == f"/tmp/site{os.pathsep}{tmp_path}"
    assert all(c.env["PYTHONPATH"] == later.env["PYTHONPATH"] for c in _FakePopen.calls)

    # another brian2 than the lock's, or brianlab from elsewhere: later steps skipped
    _FakePopen.versions = dict(lock, brian2="2.9.0", brianlab="/usr/lib/brianlab/__init__.py")
    check = gpu_check.Check(tmp_path / "out2", 300.0, True, "test")
    assert not gpu_check.step_install(check, args)
    error = check.report["steps"][0]["error"]
    assert f"brian2 2.9.0 is not the lock's {lock['brian2']}" in error
    assert "not the working tree" in error


def test_test_outcomes_are_read_from_verbose_output_with_and_without_xdist():
    """Step 1 cut short by its timeout prints no summary: the tests that ended are read
    from ``pytest -v``'s lines (xdist's and plain)."""
    text = ("bringing up nodes...\n"
            "[gw1] [ 14%] PASSED tests/test_cuda.py::test_a_quiet_cuda_session\n"
            "[gw0] [ 28%] FAILED tests/test_devices.py::test_cuda_without_nvcc[x-1]\n"
            "[gw2] SKIPPED tests/test_cuda.py::test_b\n"
            "tests/test_cuda.py::test_c PASSED                         [100%]\n"
            "PASSED tests/test_cuda.py::test_a_quiet_cuda_session (said twice)\n")
    assert gpu_check.read_outcomes(text) == {
        "tests/test_cuda.py::test_a_quiet_cuda_session": "passed",
        "tests/test_devices.py::test_cuda_without_nvcc[x-1]": "failed",
        "tests/test_cuda.py::test_b": "skipped",
        "tests/test_cuda.py::test_c": "passed"}
    assert gpu_check.read_outcomes("3 passed in 2.0s\n...") == {}


STORED = sorted((Path(__file__).resolve().parent.parent / "docs" / "_data" / "gpu")
                .glob("h200-*.json"))


def test_the_docs_gpu_table_is_the_stored_reports_table():
    """docs/benchmarks.md's H200 table is ``--table`` of the reports the device calls
    brought back (docs/_data/gpu), and in them cuda_standalone gave cpp_standalone's
    spike counts and Phi at every side and the same state and rates in every phase."""
    from brianlab.cmsa.params import CMSAParams

    assert float(CMSAParams().dt) == gpu_check.SHEET_DT_S
    assert len(STORED) == 2
    reports = [json.loads(path.read_text()) for path in STORED]
    table = gpu_check.scaling_table(reports)
    docs = (Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md").read_text()
    assert table in docs
    rows = table.splitlines()[2:]
    assert [r.split(" | ")[0] for r in rows] == ["| 150", "| 300", "| 600"]
    assert all(r.endswith("| yes |") for r in rows)
    phases = [s for r in reports for s in r["steps"] if s["step"] == 2]
    assert len(phases) == 1 and len(phases[0]["comparison"]) == 3
    assert all(row["ok"] for row in phases[0]["comparison"])
    assert [row["cuda_state"] for row in phases[0]["comparison"]] == ["bump", "mixed", "wave"]


def test_table_option_prints_the_table(capsys):
    assert gpu_check.main(["--table", *map(str, STORED)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("| E side |") and len(out.splitlines()) == 5
