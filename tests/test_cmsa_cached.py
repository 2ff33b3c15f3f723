"""Repeated commands (brianlab.cmsa.cached): the same ``run`` or ``phases`` again runs its
cached build without importing Brian2 and gives the same numbers; anything that could make
the saved plan wrong (another build, sources, model files, arguments) makes it unused."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from brianlab.cmsa import cached
from brianlab.cmsa.__main__ import main
from brianlab.cmsa.arguments import parser as _parser
from brianlab.cmsa.arguments import plan_arguments as _plan_arguments
from brianlab.cmsa.reduce import PointSettings
from brianlab.pipeline import builds

SMALL = ["--size", "40", "--duration", "40", "--ke", "100", "--ki", "150", "--no-gif",
         "--device", "cpp_standalone", "--threads", "1"]

#: Runs the command line in a fresh interpreter and says which heavy modules it imported.
CHILD = """
import json, sys
from brianlab.cmsa.__main__ import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "brian2": "brian2" in sys.modules,
                  "sympy": "sympy" in sys.modules}))
"""


def _child(argv, cache):
    env = dict(os.environ, BRIANLAB_CACHE=str(cache))
    proc = subprocess.run([sys.executable, "-c", CHILD, *argv], capture_output=True, text=True,
                          env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1]), proc.stdout


def _points(out: Path) -> tuple:
    keys = sorted(path.stem for path in (out / "points").glob("*.npz"))
    records = {key: json.loads((out / "points" / f"{key}.json").read_text()) for key in keys}
    arrays = {key: dict(np.load(out / "points" / f"{key}.npz")) for key in keys}
    return json.loads((out / "summary.json").read_text()), records, arrays


def _same_points(a: Path, b: Path):
    """Bit-identical arrays and records (but for where and how long each point ran)."""
    (sa, ra, xa), (sb, rb, xb) = _points(a), _points(b)
    assert list(xa) == list(xb) and xa
    for key in xa:
        assert all(np.array_equal(xa[key][n], xb[key][n]) for n in xa[key])
        assert {k: v for k, v in ra[key].items() if k not in ("timings", "sweep")} == \
               {k: v for k, v in rb[key].items() if k not in ("timings", "sweep")}
    return sa, sb


def test_repeated_run_needs_no_brian2_and_gives_the_same_numbers(tmp_path, monkeypatch, capsys):
    cache = tmp_path / "cache"
    monkeypatch.setenv("BRIANLAB_CACHE", str(cache))
    argv = ["run", "--rp", "7", *SMALL]
    assert main([*argv, "--out", str(tmp_path / "a")]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert len(list((cache / "cmsa-plans").glob("*.json"))) == 1
    # the same command (another results folder) in a fresh interpreter: no Brian2, no sympy
    child, printed = _child([*argv, "--out", str(tmp_path / "b")], cache)
    assert child == {"code": 0, "brian2": False, "sympy": False}
    assert first in printed.splitlines()  # "rp = 7 ms: <state>, spikes Phi = ..."
    sa, sb = _same_points(tmp_path / "a", tmp_path / "b")
    assert sb["device"]["cached"] is True and sb["params"] == sa["params"]
    assert all((tmp_path / "b" / name).is_file() for name in ("snapshots.png", "raster.png"))
    # the folder's configuration is the first run's: the same command resumes there
    assert json.loads((tmp_path / "a" / "configuration.json").read_text()) == \
           json.loads((tmp_path / "b" / "configuration.json").read_text())

    # a build that changed after the plan was saved is not run: the command builds again
    build = Path(sa["device"]["directory"])
    static = sorted((build / "static_arrays").iterdir())[0]
    static.write_bytes(static.read_bytes()[::-1])
    assert main([*argv, "--out", str(tmp_path / "c")]) == 0
    _, sc = _same_points(tmp_path / "a", tmp_path / "c")
    assert sc["device"]["cached"] is False and sc["device"]["timings"]["build_s"] > 0
    child, _ = _child([*argv, "--out", str(tmp_path / "d")], cache)
    assert child["brian2"] is False
    _same_points(tmp_path / "a", tmp_path / "d")


@pytest.mark.slow
def test_repeated_phases_needs_no_brian2(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("BRIANLAB_CACHE", str(cache))
    argv = ["phases", *SMALL, "--phi", "voltage"]
    assert main([*argv, "--out", str(tmp_path / "a")]) == 0
    child, printed = _child([*argv, "--out", str(tmp_path / "b")], cache)
    assert child["brian2"] is False and "wave" in printed
    sa, sb = _same_points(tmp_path / "a", tmp_path / "b")
    assert sa["phases"].keys() == sb["phases"].keys() == {"bump", "critical", "wave"}
    assert all(r["phi_variant"] == "voltage" for r in sb["phases"].values())
    assert [r["phi"] for r in sa["phases"].values()] == [r["phi"] for r in sb["phases"].values()]


def test_the_plan_key_follows_everything_that_defines_the_command(tmp_path, monkeypatch):
    args = _parser().parse_args(["run", "--rp", "7", *SMALL, "--out", str(tmp_path / "x")])
    other_out = _parser().parse_args(["run", "--rp=7.0", *SMALL, "--out", str(tmp_path / "y")])
    arguments = _plan_arguments(args)
    assert "out" not in arguments and arguments == _plan_arguments(other_out)
    key = cached.plan_key(arguments)
    assert cached.plan_key(_plan_arguments(_parser().parse_args(
        ["run", "--rp", "7.5", *SMALL]))) != key
    monkeypatch.setenv("BRIANLAB_CACHE_NOTE", "x")  # any BRIANLAB_* setting
    assert cached.plan_key(arguments) != key
    monkeypatch.delenv("BRIANLAB_CACHE_NOTE")
    models = tmp_path / "models"
    models.mkdir()
    monkeypatch.setenv("BRIANLAB_MODELS", str(models))
    with_folder = cached.plan_key(arguments)
    assert with_folder != key
    (models / "neurons" / "mine").mkdir(parents=True)
    (models / "neurons" / "mine" / "1.toml").write_text('name = "mine"\n')
    assert cached.plan_key(arguments) != with_folder  # a model file's bytes
    monkeypatch.delenv("BRIANLAB_MODELS")
    assert cached.plan_key(arguments) == key
    monkeypatch.setattr(cached, "sources_digest", lambda: "other sources")
    assert cached.plan_key(arguments) != key


def test_a_damaged_or_foreign_plan_is_not_used(tmp_path, monkeypatch):
    monkeypatch.setenv("BRIANLAB_CACHE", str(tmp_path))
    arguments = {"command": "run", "rp": 7.0}
    assert cached.load_plan(arguments) is None
    cached._plan_file(arguments).parent.mkdir(parents=True)
    cached._plan_file(arguments).write_text("{ not json")
    assert cached.load_plan(arguments) is None
    cached._plan_file(arguments).write_text(json.dumps({"arguments": {"command": "other"},
                                                        "points": []}))
    assert cached.load_plan(arguments) is None


def test_point_settings_survive_json_and_give_the_same_frame_times():
    from brian2 import ms

    from brianlab.cmsa import CMSAParams
    from brianlab.cmsa.protocol import command_line_for

    for p in (CMSAParams(rp=6.5 * ms, seed=3), CMSAParams.preset("course", phi="voltage"),
              CMSAParams(stimulus_duration=40 * ms, frame_dt=0.5 * ms, analysis=70 * ms)):
        s = PointSettings.of(p)
        back = PointSettings(**json.loads(json.dumps(s.as_dict())))
        assert back == s
        np.testing.assert_array_equal(back.frame_times(), s.frame_times())
        variables = [("cmsa_E.tau_ref", "rp"), ("cmsa_E.drive_seed", "seed")]
        # Brian2 writes the repr of the SI value: the binary gets exactly these numbers
        assert command_line_for(variables, p) == [f"cmsa_E.tau_ref={float(p.rp)!r}",
                                                  f"cmsa_E.drive_seed={float(p.seed)!r}"]


def test_the_command_line_choices_are_the_librarys():
    from brianlab import space
    from brianlab.cmsa import arguments as cli, params, presets
    from brianlab.devices import DEVICES
    from brianlab.networks.sheet import RULES

    # one definition each: the parser's choices are the library's objects, not copies
    assert cli.DEVICES == DEVICES and cli.RULES is RULES is space.SHEET_RULES
    assert params.PRESETS is presets.PRESETS is cli.PRESETS
    assert params.PHI_VARIANTS is presets.PHI_VARIANTS is cli.PHI_VARIANTS
    assert params.MAX_SEED == cli.MAX_SEED == 2**31 - 1


def test_importing_brianlab_imports_no_brian2_until_a_name_is_used():
    code = ("import sys, brianlab, brianlab.cmsa, brianlab.cmsa.__main__;"
            "assert 'brian2' not in sys.modules;"
            "assert set(brianlab.__all__) <= set(dir(brianlab));"
            "assert brianlab.load_model('lif').name == 'lif' and 'brian2' in sys.modules;"
            "from brianlab import compose, use_device; from brianlab.cmsa import CMSAParams;"
            "assert callable(compose) and CMSAParams().e_side == 150;"
            "assert brianlab.modelfile.Model is brianlab.Model and brianlab.cmsa.protocol.analyse;"
            "import pytest\n"
            "with pytest.raises(AttributeError): brianlab.nothing_here")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


# -- integrity of the cache ---------------------------------------------------------------
def _a_plan(tmp_path, device="cpp_standalone"):
    """Command-line arguments and a plan of them as ``__main__._plan`` makes it, with the
    pipeline's plan of its point (:func:`brianlab.cmsa.plan.make_plan`) on ``device``."""
    from brian2 import ms

    from brianlab.cmsa import CMSAParams
    from brianlab.cmsa.plan import make_plan

    arguments = {"command": "run", "rp": 5.0, "seed": 0}
    p = CMSAParams(e_side=40, i_side=20, rp=5 * ms)
    key = "rp5_we0.02_wi0.01_seed0_0123456789"
    pipeline = make_plan([p], [key], ["rp 5 ms"], command=arguments,
                         configuration={"command": "run"}, device=device)
    plan = {"command": "run", "default": "cmsa_run", "configuration": {"command": "run"},
            "summary": {"command": "run", "params": p.as_dict()}, "warnings": [],
            "points": [{"key": key, "title": "rp 5 ms", "settings": PointSettings.of(p)}],
            "pipeline": pipeline.as_dict()}
    return arguments, plan


def _rewrite(path: Path, change, digest=True):
    """Edit a saved plan; with ``digest``, give it the digest of its new content (as a
    plan made by buggy code would have: the field checks must still refuse it)."""
    data = json.loads(path.read_text())
    change(data)
    if digest and "digest" in data:
        data["digest"] = cached._content_digest(data)
    path.write_text(json.dumps(data))


def test_an_edited_damaged_or_copied_plan_is_never_used(tmp_path, monkeypatch):
    """A plan holds a digest of its own content, its key and command line; every field is
    checked (types, point keys that are plain file names, a build directory of the cache);
    anything wrong means None (the command plans again), never an exception."""
    monkeypatch.setenv("BRIANLAB_CACHE", str(tmp_path))
    arguments, plan = _a_plan(tmp_path)
    cached.save_plan(arguments, plan)
    path = cached._plan_file(arguments)
    good = path.read_text()
    loaded = cached.load_plan(arguments)
    assert loaded["points"][0]["settings"] == plan["points"][0]["settings"]
    assert loaded["pipeline"].as_dict() == plan["pipeline"]

    def rp(data):
        data["points"][0]["settings"]["values"]["rp"] = 0.01

    def other_build(data):
        data["pipeline"]["builds"][0]["threads"] = 2

    edits = {
        "rp 5 -> 10": (rp, False),
        "another build": (other_build, False),
        "another point key": (lambda d: d["points"][0].update(key="rp10_x"), False),
        "key outside the folder": (lambda d: d["points"][0].update(key="../../../escape"), True),
        "a hidden key": (lambda d: d["points"][0].update(key=".hidden"), True),
        "a build on another device": (lambda d: d["pipeline"]["builds"][0].update(
            device="runtime"), True),
        "a build of another device name": (lambda d: d["pipeline"]["builds"][0].update(
            device="/tmp"), True),
        "pipeline points not the command's": (lambda d: d["pipeline"]["points"][0].update(
            key="rp10_x"), True),
        "a pipeline point outside the folder": (lambda d: d["pipeline"]["points"][0].update(
            key="../escape"), True),
        "a pipeline run value": (lambda d: d["pipeline"]["points"][0]["values"][0]
                                 .__setitem__(1, 0.01), True),
        "a pipeline seed": (lambda d: d["pipeline"]["points"][0].update(seed=7), True),
        "pipeline settings": (lambda d: [pair.__setitem__(1, "voltage") for pair in
                                         d["pipeline"]["points"][0]["options"]
                                         if pair[0] == "phi"], True),
        "no points": (lambda d: d.update(points=[]), True),
        "a missing field": (lambda d: d.pop("pipeline"), True),
        "a missing setting": (lambda d: d["points"][0]["settings"].pop("e_side"), True),
        "a mistyped setting": (lambda d: d["points"][0]["settings"].update(e_side="40"), True),
        "a huge setting": (lambda d: d["points"][0]["settings"].update(
            voltage_frames=10**15), True),
        "a mistyped value": (lambda d: d["points"][0]["settings"]["values"].update(rp=None),
                             True),
        "points not a list": (lambda d: d.update(points={"a": 1}), True),
        "settings not an object": (lambda d: d["points"][0].update(settings=[1]), True),
        "another command": (lambda d: d.update(command="sweep"), True),
        "another key": (lambda d: d.update(key="0" * 64), True),
    }
    for what, (change, digest) in edits.items():
        path.write_text(good)
        _rewrite(path, change, digest)
        assert cached.load_plan(arguments) is None, what
    for text in ("[]", "null", '{"points": 1}', "{" * 100_000, ""):
        path.write_text(text)
        assert cached.load_plan(arguments) is None, text[:10]
    path.write_bytes(b" " * (cached.PLAN_BYTES + 1))
    assert cached.load_plan(arguments) is None
    # a valid plan copied to the file of another command line
    other = dict(arguments, rp=10.0)
    cached._plan_file(other).write_text(good)
    assert cached.load_plan(other) is None
    path.write_text(good)
    assert cached.load_plan(arguments) is not None


def test_a_cuda_plan_is_saved_and_found_again(tmp_path, monkeypatch):
    """A command's plan on cuda_standalone (saved after its points ran on a GPU) is read
    back, so a repeated command runs its CUDA build without Brian2, as on cpp."""
    monkeypatch.setenv("BRIANLAB_CACHE", str(tmp_path))
    arguments, plan = _a_plan(tmp_path, device="cuda_standalone")
    assert plan["pipeline"]["builds"][0]["device"] == "cuda_standalone"
    cached.save_plan(arguments, plan)
    loaded = cached.load_plan(arguments)
    assert loaded is not None and loaded["pipeline"].as_dict() == plan["pipeline"]
    assert loaded["pipeline"].builds[0].device == "cuda_standalone"


def test_the_plan_key_reads_only_model_files_and_each_bounded(tmp_path, monkeypatch):
    """Only ``<kind>s/<name>/<N>.toml`` and ``models.lock`` count, each read as the loader
    reads it (regular files up to 1 MB): a large data file beside the models is not read."""
    import tracemalloc

    from brianlab import modelfile

    models = tmp_path / "models"
    (models / "neurons" / "mine").mkdir(parents=True)
    (models / "neurons" / "mine" / "1.toml").write_text('name = "mine"\n')
    monkeypatch.setenv("BRIANLAB_MODELS", str(models))
    arguments = {"command": "run"}
    key = cached.plan_key(arguments)
    data = models / "recording.dat"  # 300 MB (sparse) beside the models
    with open(data, "wb") as handle:
        handle.truncate(300_000_000)
    big = models / "neurons" / "big" / "1.toml"  # a "model" the loader refuses (> 1 MB)
    big.parent.mkdir()
    with open(big, "wb") as handle:
        handle.truncate(300_000_000)
    tracemalloc.start()
    try:
        with_big = cached.plan_key(arguments)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20_000_000
    big.unlink()
    assert cached.plan_key(arguments) == key  # the data file does not count
    with open(big, "wb") as handle:
        handle.truncate(300_000_001)
    assert cached.plan_key(arguments) not in (key, with_big)  # the big file's size does
    (models / "models.lock").write_text("")
    assert cached.plan_key(arguments) != key
    assert cached.MODEL_FILE_BYTES == modelfile.MAX_FILE_BYTES  # the loader's bound


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A cache with a run's build and plan, and that run's folder: (cache, argv, folder)."""
    cache = tmp_path_factory.mktemp("cache")
    argv = ["run", "--rp", "5", *SMALL]
    out = tmp_path_factory.mktemp("first") / "a"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BRIANLAB_CACHE", str(cache))
        assert main([*argv, "--out", str(out)]) == 0
    return cache, argv, out


@pytest.mark.slow
def test_a_damaged_point_is_computed_again_and_named(built, tmp_path, monkeypatch, capsys):
    """A truncated ``.npz`` (its record intact) or a truncated record is not a done point:
    the command says which file and computes the point again (the same numbers)."""
    import shutil

    cache, argv, first = built
    monkeypatch.setenv("BRIANLAB_CACHE", str(cache))
    out = tmp_path / "a"
    shutil.copytree(first, out)
    (npz,) = (out / "points").glob("*.npz")
    for damaged in (npz, npz.with_suffix(".json")):
        damaged.write_bytes(damaged.read_bytes()[: damaged.stat().st_size // 2])
        capsys.readouterr()
        assert main([*argv, "--out", str(out)]) == 0
        err = capsys.readouterr().err
        assert f"{damaged}: damaged" in err and "computed again" in err
        _same_points(first, out)
    # where the arrays are read again, an unreadable archive is an error naming it
    from brianlab.cmsa.figures import point_arrays as _point_arrays
    from brianlab.results import ResultsError, RunFolder

    npz.write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(ResultsError, match=str(npz)):
        _point_arrays(RunFolder(out), npz.stem)


@pytest.mark.slow
def test_a_plan_whose_values_differ_from_the_command_line_is_not_used(built, tmp_path,
                                                                      monkeypatch):
    """A plan with an edited run value (rp 5 -> 10) and a digest made for it (as a bug would
    write it), or with point keys outside the folder: the command plans again and records
    what it ran (rp 5), all files inside --out."""
    cache, argv, first = built
    monkeypatch.setenv("BRIANLAB_CACHE", str(cache))
    args = _parser().parse_args([*argv, "--out", str(tmp_path / "x")])
    path = cached._plan_file(_plan_arguments(args))
    good = path.read_text()

    def rp(data):
        data["points"][0]["settings"]["values"]["rp"] = 0.01

    def outside(data):
        data["points"][0]["key"] = "rp5_we0.02_wi0.01_seed0_..%2F..%2Fx"

    for k, change in enumerate((rp, outside)):
        path.write_text(good)
        _rewrite(path, change)
        out = tmp_path / "runs" / str(k)
        assert main([*argv, "--out", str(out)]) == 0
        _, summary = _same_points(first, out)
        assert summary["device"]["cached"] is True  # planned again, on the cached build
        assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == \
            [str(j) for j in range(k + 1)]


@pytest.mark.slow
def test_a_changed_binary_is_never_run_or_trusted(built, tmp_path, monkeypatch):
    """A replaced ``main`` (a script that leaves a marker) or one with a flipped byte: the
    digest check notices, and the build is made again from clean (the new binary linked
    here, never the changed one run or recorded); the numbers are the first run's. Then a
    build in a fresh process generates the same code (nothing recompiled)."""
    cache, argv, first = built
    monkeypatch.setenv("BRIANLAB_CACHE", str(cache))
    build = Path(json.loads((first / "summary.json").read_text())["device"]["directory"])
    marker = tmp_path / "marker"
    binary = build / "main"

    def script(path):
        path.write_text(f"#!/bin/sh\ntouch {marker}\nexit 0\n")
        path.chmod(0o755)

    def flip(path):
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))

    import hashlib

    for k, change in enumerate((script, flip)):
        change(binary)
        out = tmp_path / f"run{k}"
        assert main([*argv, "--out", str(out)]) == 0
        assert not marker.exists()
        _, summary = _same_points(first, out)
        assert summary["device"]["cached"] is False
        manifest = json.loads((build / builds.MANIFEST).read_text())
        files = [binary, *sorted(p for p in (build / "static_arrays").iterdir()
                                 if p.is_file() and not p.name.endswith(".lock"))]
        digest = hashlib.sha256()
        for path in files:
            digest.update(str(path.relative_to(build)).encode() + b"\0" + path.read_bytes())
        assert manifest["compiled"]["digest"] == digest.hexdigest()
    # the same network generated in another process: the same main.cpp, nothing recompiled
    objects = {p: p.stat().st_mtime_ns for p in build.rglob("*.o")}
    main_cpp = (build / "main.cpp").read_text()
    (build / builds.MANIFEST).unlink()
    child, _ = _child([*argv, "--out", str(tmp_path / "again")], cache)
    assert child["code"] == 0
    assert (build / "main.cpp").read_text() == main_cpp
    assert {p: p.stat().st_mtime_ns for p in build.rglob("*.o")} == objects
    _same_points(first, tmp_path / "again")


def _runs_make(root: int) -> bool:
    """Whether a ``make`` process runs below process ``root`` (from /proc)."""
    parents, makes = {}, []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path("/proc", entry, "stat").read_text()
        except OSError:  # (ended meanwhile)
            continue
        name, rest = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2:]
        parents[int(entry)] = int(rest.split()[1])
        if name == "make":
            makes.append(int(entry))
    for pid in makes:
        seen = set()
        while pid in parents and pid not in seen:
            seen.add(pid)
            pid = parents[pid]
            if pid == root:
                return True
    return False


@pytest.mark.slow
def test_ctrl_c_or_sigterm_during_compilation_stop_the_command(tmp_path):
    """SIGINT (a terminal's Ctrl-C: the whole process group) or SIGTERM while ``make``
    runs: the command stops with the resume message and 130 / 143 (no traceback, no
    build redone from clean), and the next run builds and succeeds."""
    import signal
    import time

    cache = tmp_path / "cache"
    cmd = [sys.executable, "-m", "brianlab.cmsa", "run", *SMALL, "--out", str(tmp_path / "a")]
    env = dict(os.environ, BRIANLAB_CACHE=str(cache))
    for signame, code in (("SIGINT", 130), ("SIGTERM", 143)):
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=env, start_new_session=True)
        deadline = time.monotonic() + 600
        # this command's own make (an artefact could be the previous round's): main()
        # installed its handlers long before
        while not _runs_make(proc.pid):
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.05)
        os.killpg(proc.pid, getattr(signal, signame))
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == code, err
        assert "interrupted: every completed point is saved; run the same command to resume" \
            in err
        assert "Traceback" not in err and "failed" not in err
        assert not list((tmp_path / "a").glob("points/*"))
        for path in cache.glob("build-cpp_standalone-*/**/*.o"):  # none half written
            assert path.read_bytes()[:4] == b"\x7fELF", path
    again = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
    assert again.returncode == 0, again.stderr
    assert "failed" not in again.stdout + again.stderr
    assert len(list((tmp_path / "a").glob("points/*.npz"))) == 1
