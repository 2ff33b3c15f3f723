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
import importlib.abc, json, sys, time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

import matplotlib
from brianlab.cmsa import __main__ as cli
from brianlab.results import RunFolder


class Slow(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "matplotlib.figure":
            time.sleep(1.0)
        return None


sys.meta_path.insert(0, Slow())
folder = RunFolder(sys.argv[1])
side = 6
folder.save_arrays("points/p", frames=np.random.default_rng(0).random((3, side, side)),
                   e_t=np.array([1.0, 2.0]), e_i=np.array([side * (side // 2), 1]))
phi = {"phi": 0.1, "mean_patterns": 1.0, "mean_speed": 0.1}
settings = SimpleNamespace(phi="spikes", frame_times=lambda: np.array([8.0, 16.0, 24.0]))
cli._prefetch("matplotlib.pyplot")
time.sleep(0.3)
assert "matplotlib.pyplot" in sys.modules  # (half imported)
cli._snapshot_figures(folder, {"p": {"phi": phi}}, {"p": settings}, {"p": "bump (rp 5 ms)"},
                      SimpleNamespace(no_gif=True, size=side))
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
RunFolder(sys.argv[1], {"command": "run", "size": 30}, hint="give another --out")
print("claimed")
"""


def test_the_folder_claim_waits_for_another_commands_claim(tmp_path):
    import fcntl
    import json
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
        time.sleep(2)
        assert second.poll() is None, second.communicate()  # it waits for the lock
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
    except OSError:
        return None
    return [*unshare, "sh", "-c", script, str(folder), *argv]


@pytest.mark.slow
def test_a_read_only_cache_runs_what_it_has(warm):
    cache = warm / "cache"
    for argv in (["run", *SMALL], ["run", *SMALL, "--seed", "2"]):  # planned, planned again
        out = warm / f"read-only-{len(argv)}"
        command = _read_only(cache, _command([*argv, "--out", str(out)]))
        if command is None:
            pytest.skip("no mount namespace here to make a read-only folder")
        proc = subprocess.run(command, env=_env(cache), capture_output=True, text=True,
                              timeout=600)
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr[-3000:]
        assert _saved(out)
    empty = warm / "empty-cache"
    empty.mkdir()
    out = warm / "read-only-empty"
    proc = subprocess.run(_read_only(empty, _command(["run", *SMALL, "--out", str(out)])),
                          env=_env(empty), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 1, proc.stderr[-3000:]
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: cannot build in {empty}/cmsa-cpp_standalone-") and \
        "(Read-only file system)" in last and "Traceback" not in proc.stderr
