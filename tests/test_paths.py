"""Paths, folders and streams at the edges: a relative or unusable cache, results folders
claimed by two commands at once, over-long paths, damaged lock files, closed pipes and
the background imports of a repeated command. Each ends in a clear one-line error or
in success, never a traceback, and nothing saved is lost."""

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from brianlab.__main__ import main as models_main
from brianlab.library import models_root


def _non_utf8_library(tmp_path: Path) -> Path:
    folder = tmp_path / "lib"
    (folder / "neurons" / "mine").mkdir(parents=True)
    text = (models_root() / "neurons" / "lif" / "1.toml").read_text()
    (folder / "neurons" / "mine" / "1.toml").write_text(text.replace('name = "lif"',
                                                                     'name = "mine"'))
    (folder / "models.lock").write_bytes(b"\xff\xfe not utf-8\n")
    return folder


@pytest.mark.parametrize("argv", [["show", "mine"], ["check"], ["lock"]])
def test_a_non_utf8_models_lock_is_one_clear_error(tmp_path, monkeypatch, capsys, argv):
    folder = _non_utf8_library(tmp_path)
    monkeypatch.setenv("BRIANLAB_MODELS", str(folder))
    assert models_main(["models", *argv]) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"error: {folder / 'models.lock'}: not UTF-8 text (byte 0); expected lines " \
                  "'<sha256>  <path>'"
    assert (folder / "models.lock").read_bytes() == b"\xff\xfe not utf-8\n"  # untouched


def test_load_model_names_a_non_utf8_lock(tmp_path, monkeypatch):
    from brianlab import ModelError, load_model

    folder = _non_utf8_library(tmp_path)
    monkeypatch.setenv("BRIANLAB_MODELS", str(folder))
    with pytest.raises(ModelError, match="models.lock: not UTF-8 text"):
        load_model("mine")


#: A repeated command's figures while its background thread is still importing pyplot
#: (made slow here: the thread is inside ``matplotlib.pyplot`` when the figures start).
RACE = """
import importlib.abc, json, sys, threading, time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

import matplotlib
from brianlab.cmsa.figures import snapshots
from brianlab.pipeline import execute
from brianlab.results import RunFolder


inside = threading.Event()  # the background thread is inside matplotlib.pyplot


class Slow(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "matplotlib.figure":
            inside.set()
            time.sleep(1.0)
        return None


sys.meta_path.insert(0, Slow())
folder = RunFolder(sys.argv[1])
side = 6
folder.save_arrays("points/p", frames=np.random.default_rng(0).random((3, side, side)),
                   e_t=np.array([1.0, 2.0]), e_i=np.array([side * (side // 2), 1]))
phi = {"phi": 0.1, "mean_patterns": 1.0, "mean_speed": 0.1}
settings = SimpleNamespace(phi="spikes", frame_times=lambda: np.array([8.0, 16.0, 24.0]))
execute.prefetch("matplotlib.pyplot")
assert inside.wait(120), "pyplot's import never reached matplotlib.figure"
assert "matplotlib.pyplot" in sys.modules  # (half imported)
snapshots(folder, {"p": {"phi": phi}}, {"p": settings}, {"p": "bump (rp 5 ms)"}, side=side,
          gif=False)
print(json.dumps(sorted(p.name for p in folder.path.glob("*.png"))))
"""


def test_figures_wait_for_the_background_import_of_pyplot(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}  # as users run it
    proc = subprocess.run([sys.executable, "-c", RACE, str(tmp_path / "out")], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.splitlines()[-1] == '["raster.png", "snapshots.png"]'


# -- the cache folder ----------------------------------------------------------------------
def test_a_relative_cache_is_made_absolute(tmp_path, monkeypatch):
    from brianlab.cache import cache_directory, cache_root

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BRIANLAB_CACHE", "relative/cache")
    assert cache_root() == tmp_path / "relative" / "cache"
    assert cache_directory("cmsa-x").is_absolute()  # (the binary runs in another folder)
    monkeypatch.setenv("BRIANLAB_CACHE", "~/somewhere")
    assert cache_root() == Path.home() / "somewhere"


@pytest.mark.parametrize("below", ["", "sub"])
def test_a_cache_that_is_a_file_is_one_clear_error(tmp_path, monkeypatch, capsys, below):
    from brianlab.cmsa.__main__ import main

    file = tmp_path / "file"
    file.write_text("not a folder\n")
    monkeypatch.setenv("BRIANLAB_CACHE", str(file / below) if below else str(file))
    assert main(["run", "--size", "30", "--ke", "50", "--ki", "50", "--duration", "100",
                 "--no-gif", "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: BRIANLAB_CACHE=") and f"{file} is a file" in err, err
    assert "\n" not in err and not (tmp_path / "out").exists()  # before any work
    assert file.read_text() == "not a folder\n"


def test_a_build_directory_whose_lock_is_a_folder_is_one_clear_error(tmp_path):
    from brianlab.devices import DeviceError, use_device

    (tmp_path / "build" / ".brianlab.lock").mkdir(parents=True)
    with pytest.raises(DeviceError, match=r"build/\.brianlab\.lock is a folder, not a lock "
                                          "file: remove it"):
        use_device("cpp_standalone", directory=tmp_path / "build")


# -- results folders -----------------------------------------------------------------------
@pytest.mark.parametrize("path", [["x" * 300], ["y" * 200] * 22], ids=["name", "path"])
def test_an_over_long_out_is_one_clear_error(tmp_path, monkeypatch, capsys, path):
    from brianlab.cmsa.__main__ import main

    monkeypatch.setenv("BRIANLAB_CACHE", str(tmp_path / "cache"))
    out = Path(tmp_path, *path)
    assert main(["run", "--size", "30", "--ke", "50", "--ki", "50", "--duration", "100",
                 "--no-gif", "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: cannot write results into ") and "\n" not in err
    assert err.endswith("(File name too long); give another --out") and len(err) < 500


#: Claims a results folder (the configuration as the CLI records it) and says so.
CLAIM = """
import sys
from brianlab.results import RunFolder
print("ready", flush=True)  # (imports done: the claim is next)
RunFolder(sys.argv[1], {"command": "run", "size": 30}, hint="give another --out")
print("claimed")
"""


def test_the_folder_claim_waits_for_another_commands_claim(tmp_path):
    import fcntl
    import json
    import select
    import time

    from brianlab.results import FOLDER_LOCK, config_hash

    out = tmp_path / "out"
    out.mkdir()
    configuration = {"command": "run", "size": 30}
    with open(out / FOLDER_LOCK, "w") as lock:  # the first command, mid-claim
        fcntl.flock(lock, fcntl.LOCK_EX)
        partial = out / f".configuration.json.{os.getpid()}.abc.tmp"
        partial.write_text("{")
        second = subprocess.Popen([sys.executable, "-c", CLAIM, str(out)], text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            assert select.select([second.stdout], [], [], 300)[0], "no 'ready' in 300 s"
            assert second.stdout.readline() == "ready\n", second.communicate()
            time.sleep(1)
            # it waits for the lock: still running, its "claimed" not printed
            assert second.poll() is None, second.communicate()
            assert not select.select([second.stdout], [], [], 0)[0]
        except BaseException:
            second.kill()
            raise
        (out / "configuration.json").write_text(json.dumps(
            {"hash": config_hash(configuration), "configuration": configuration}))
        partial.unlink()
    stdout, stderr = second.communicate(timeout=120)
    assert second.returncode == 0 and stdout.strip() == "claimed", stderr


def test_a_sweep_removes_only_its_own_temporary_files(tmp_path):
    """Another command saving the same point into the same folder keeps its file."""
    import json

    import numpy as np

    from brianlab.sweeps import BUILD_RECORD, CompiledNetwork, Point, run_points

    build = tmp_path / "build"
    build.mkdir()
    (build / "main").write_text('#!/bin/sh\nprintf "\\000\\000\\000\\000\\000\\000\\360\\077"'
                                ' > "${2}x"\n')  # $2: the results directory (ends in /)
    (build / "main").chmod(0o755)
    (build / BUILD_RECORD).write_text(json.dumps({"digest": "f" * 64}))
    compiled = CompiledNetwork(str(build), {"x": ("x", "float64")}, digest="f" * 64)
    out = tmp_path / "points"
    out.mkdir()
    other = out / f".k.npz.{os.getpid() + 1}.a1b2c3.tmp"  # another writer, mid-write
    other.write_bytes(b"PK")
    records = run_points(compiled, [Point("k", ())], save_to=out)
    assert records == {"k": {"sweep": records["k"]["sweep"]}}
    assert np.load(out / "k.npz")["x"].tolist() == [1.0]
    assert other.read_bytes() == b"PK"
    assert sorted(p.name for p in out.iterdir()) == [other.name, "k.json", "k.npz"]


# -- whole commands on a small cached build ------------------------------------------------
SMALL = ["--size", "30", "--ke", "50", "--ki", "50", "--duration", "100", "--no-gif",
         "--device", "cpp_standalone", "--threads", "1"]


def _command(argv) -> list:
    return [sys.executable, "-m", "brianlab.cmsa", *argv]


def _env(cache, **changes) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}  # as users run it
    return {**env, "BRIANLAB_CACHE": str(cache), **changes}


def _run(argv, cache, cwd=None, **changes) -> subprocess.CompletedProcess:
    return subprocess.run(_command(argv), env=_env(cache, **changes), cwd=cwd,
                          capture_output=True, text=True, timeout=600)


def _saved(out: Path) -> bool:
    return all((out / name).is_file() for name in ("summary.json", "snapshots.png",
                                                   "raster.png")) \
        and len(list(out.glob("points/*.npz"))) == 1


@pytest.fixture(scope="module")
def warm(tmp_path_factory):
    """A cache holding the small sheet's build and the plan of ``run SMALL``."""
    root = tmp_path_factory.mktemp("warm")
    proc = _run(["run", *SMALL, "--out", str(root / "first")], root / "cache")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return root


@pytest.mark.slow
def test_a_repeated_small_command_saves_its_summary_and_figures(warm):
    for attempt in range(3):  # (failed in ~19 of 21 attempts)
        out = warm / f"again{attempt}"
        proc = _run(["run", *SMALL, "--out", str(out)], warm / "cache")
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr[-3000:]
        assert _saved(out)


@pytest.mark.slow
def test_a_relative_cache_runs(warm):
    proc = _run(["run", *SMALL, "--seed", "1", "--out", "relative"], "cache", cwd=warm)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert _saved(warm / "relative")


@pytest.mark.slow
@pytest.mark.parametrize("command", [["run"], ["sweep", "--values", "5,6", "--seeds", "0"]])
def test_a_closed_pipe_loses_nothing(warm, command):
    out = warm / f"piped-{command[0]}"
    line = shlex.join(_command([*command, *SMALL, "--out", str(out)]))
    proc = subprocess.run(["bash", "-c", f"{line} | true; echo ${{PIPESTATUS[0]}}"],
                          env=_env(warm / "cache"), capture_output=True, text=True, timeout=600)
    assert proc.stdout.strip() == "0" and "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert (out / "summary.json").is_file()
    assert len(list(out.glob("*.png"))) == (2 if command == ["run"] else 1)


@pytest.mark.slow
def test_two_identical_commands_into_one_out_both_succeed(warm):
    for pair in range(2):  # (about half of the pairs failed)
        out = warm / f"shared{pair}"
        procs = [subprocess.Popen(_command(["run", *SMALL, "--out", str(out)]),
                                  env=_env(warm / "cache"), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(2)]
        for proc in procs:
            _, stderr = proc.communicate(timeout=600)
            assert proc.returncode == 0, stderr[-3000:]
        assert _saved(out) and not list(out.rglob("*.tmp"))


def _read_only(folder: Path, argv: list) -> list | None:
    """``argv`` run with ``folder`` mounted read-only (a mount namespace of its own), or
    None where this machine cannot make one."""
    unshare = ["unshare", "-m"] if os.geteuid() == 0 else ["unshare", "-rm"]
    script = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"'
    probe = [*unshare, "sh", "-c", script, str(folder), "sh", "-c",
             'touch "$0/.probe" 2>/dev/null && exit 3; exit 0', str(folder)]
    try:
        if subprocess.run(probe, capture_output=True, timeout=60).returncode != 0:
            return None
    except (OSError, subprocess.TimeoutExpired):
        return None
    return [*unshare, "sh", "-c", script, str(folder), *argv]


def _read_only_or_skip(folder: Path, argv: list) -> list:
    command = _read_only(folder, argv)
    if command is None:
        pytest.skip("no mount namespace here to make a read-only folder (the in-process "
                    "tests below cover the same paths)")
    return command


@pytest.mark.slow
def test_a_read_only_cache_runs_what_it_has(warm):
    cache = warm / "cache"
    for argv in (["run", *SMALL], ["run", *SMALL, "--seed", "2"]):  # planned, planned again
        out = warm / f"read-only-{len(argv)}"
        command = _read_only_or_skip(cache, _command([*argv, "--out", str(out)]))
        proc = subprocess.run(command, env=_env(cache), capture_output=True, text=True,
                              timeout=600)
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr[-3000:]
        assert _saved(out)
    empty = warm / "empty-cache"
    empty.mkdir()
    out = warm / "read-only-empty"
    command = _read_only_or_skip(empty, _command(["run", *SMALL, "--out", str(out)]))
    proc = subprocess.run(command, env=_env(empty), capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 1, proc.stderr[-3000:]
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: cannot build in {empty}/build-cpp_standalone-") and \
        "(Read-only file system)" in last and "Traceback" not in proc.stderr


# -- a read-only cache, in process (no mount namespace needed) -----------------------------
def _read_only_below(monkeypatch, folder: Path):
    """Make every creation below ``folder`` fail as on a read-only filesystem (a root
    user writes through chmod, so monkeypatched): ``os.open`` with ``O_CREAT`` or a write
    mode, ``os.mkdir`` and ``Path.mkdir``."""
    import errno

    folder = Path(os.path.realpath(folder))

    def below(path) -> bool:
        path = Path(os.path.abspath(os.fspath(path)))
        return path == folder or folder in path.parents

    def refuse(path):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fspath(path))

    real_open, real_mkdir, real_path_mkdir = os.open, os.mkdir, Path.mkdir
    writes = os.O_CREAT | os.O_WRONLY | os.O_RDWR | os.O_TRUNC | os.O_APPEND

    def fake_open(path, flags, *args, **kwargs):
        if flags & writes and below(path):
            refuse(path)
        return real_open(path, flags, *args, **kwargs)

    def fake_mkdir(path, *args, **kwargs):
        if below(path):
            refuse(path)
        return real_mkdir(path, *args, **kwargs)

    def fake_path_mkdir(self, mode=0o777, parents=False, exist_ok=False):
        if below(self) and not (exist_ok and self.is_dir()):
            refuse(self)
        return real_path_mkdir(self, mode, parents, exist_ok)

    monkeypatch.setattr(os, "open", fake_open)
    monkeypatch.setattr(os, "mkdir", fake_mkdir)
    monkeypatch.setattr(Path, "mkdir", fake_path_mkdir)


def test_a_read_only_build_is_held_shared_or_not_trusted(tmp_path, monkeypatch):
    """``shared_lock`` on a build whose lock file cannot be opened for writing: it opens
    it read-only and holds it shared (a rebuild cannot take it); without a lock file, or
    with a build holding it, the build is not trusted."""
    import fcntl

    from brianlab.cmsa.cached import shared_lock

    build, bare, busy = tmp_path / "build", tmp_path / "bare", tmp_path / "busy"
    for folder in (build, bare, busy):
        folder.mkdir()
    (build / ".brianlab.lock").touch()
    holder = os.open(busy / ".brianlab.lock", os.O_CREAT | os.O_RDWR)
    fcntl.flock(holder, fcntl.LOCK_EX)
    try:
        _read_only_below(monkeypatch, tmp_path)
        with pytest.raises(OSError, match="Read-only file system"):  # (the patch works)
            os.open(build / ".brianlab.lock", os.O_CREAT | os.O_RDWR)
        with shared_lock(build) as held:
            assert held is True
            other = os.open(build / ".brianlab.lock", os.O_RDONLY)
            try:
                with pytest.raises(BlockingIOError):  # held: no rebuild beside the run
                    fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(other, fcntl.LOCK_SH | fcntl.LOCK_NB)  # others may run it
            finally:
                os.close(other)
        with shared_lock(bare) as held:
            assert held is False
        assert not (bare / ".brianlab.lock").exists()
        with shared_lock(busy) as held:
            assert held is False
    finally:
        os.close(holder)


def test_a_read_only_cache_puts_the_binarys_results_in_the_temporary_folder(tmp_path,
                                                                            monkeypatch):
    from brianlab import sweeps
    from brianlab.sweeps import CompiledNetwork, SweepError

    cache, temporary = tmp_path / "cache", tmp_path / "tmp"
    cache.mkdir()
    temporary.mkdir()
    monkeypatch.setenv("BRIANLAB_CACHE", str(cache))
    monkeypatch.setattr("tempfile.tempdir", str(temporary))
    monkeypatch.setattr(sweeps, "_RESULTS_DIRECTORIES", {})
    monkeypatch.setattr(sweeps.atexit, "register", lambda function: function)
    _read_only_below(monkeypatch, cache)
    compiled = CompiledNetwork(str(tmp_path / "build"), {"x": ("x", "float64")},
                               digest="f" * 64)
    results = sweeps._results_directory(compiled)
    assert results.parent == temporary.resolve() / "brianlab-points" and results.is_dir()
    assert results.name.startswith("ffffffffffff-") and not list(cache.iterdir())
    (results / "x").write_bytes(b"old")  # a previous point's output: never read again
    assert sweeps._results_directory(compiled) == results and not (results / "x").exists()
    # neither writable: one clear error
    _read_only_below(monkeypatch, temporary)
    with pytest.raises(SweepError) as error:
        sweeps._results_directory(CompiledNetwork(str(tmp_path / "build"),
                                                  {"x": ("x", "float64")}, digest="e" * 64))
    assert str(error.value) == ("cannot make a results directory for the binary in "
                                f"{cache / 'brianlab-points'} (Read-only file system) nor in "
                                f"{temporary.resolve() / 'brianlab-points'}")


@pytest.mark.parametrize("made", [False, True], ids=["new", "existing"])
def test_an_unwritable_build_folder_is_one_clear_error(tmp_path, monkeypatch, made):
    from brianlab.devices import DeviceError, use_device

    build = tmp_path / "cache" / "cmsa-cpp_standalone-0123456789abcdef"
    if made:
        build.mkdir(parents=True)
    else:
        build.parent.mkdir()
    _read_only_below(monkeypatch, tmp_path / "cache")
    with pytest.raises(DeviceError) as error:
        use_device("cpp_standalone", directory=build)
    where = build / ".brianlab.lock" if made else build
    assert str(error.value) == (f"cannot build in {where} (Read-only file system): a build "
                                "needs a writable folder (the cache, $BRIANLAB_CACHE, or "
                                "$BRIANLAB_BUILD_DIR)")
    assert list(build.parent.iterdir()) == ([build] if made else [])
