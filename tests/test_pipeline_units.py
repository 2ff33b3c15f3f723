"""The pipeline's data and caches (brianlab.pipeline: plan, plans, builds, reductions, save),
pure Python: no Brian2, no build, seconds."""

import hashlib
import itertools
import json
import os
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import brianlab
from brianlab import cache, toolchain
from brianlab.errors import CacheError, PlanError, ResultsError
from brianlab.pipeline import builds, plan, plans, reductions, save
from brianlab.pipeline.plan import Axis, BuildSpec, NetworkRef, Plan, PointSpec, point_key
from brianlab.pipeline.reductions import PointContext, ReductionSpec
from brianlab.sweeps import BUILD_RECORD, SAFE_KEY, CompiledNetwork, _digest

SHA = "ab" * 32


def _network(**changes) -> NetworkRef:
    ref = NetworkRef("cuba@1", "12" * 32, "released", (("lif@1", "34" * 32),
                                                       ("exp_synapse@1", "56" * 32)))
    return replace(ref, **changes)


def _build(**changes) -> BuildSpec:
    spec = BuildSpec(_network(), (("populations.E.size", "800"),), None, "cpp_standalone", 2,
                     False, ("spikes_E", "spikes_I"))
    return replace(spec, **changes)


def _plan(axes=(("we", "uS", (0.01, 0.02)), ("wi", "uS", (0.1, 0.2, 0.3))), seeds=(0, 1),
          configuration=None) -> Plan:
    """A plan of the grid ``axes x seeds`` on one build, in grid order (axes, then seeds)."""
    points = []
    for index, combo in enumerate(itertools.product(*[a[2] for a in axes], seeds)):
        *values, seed = combo
        named = tuple((a[0], v * 1e-6) for a, v in zip(axes, values))
        display = [(a[0], f"{v} {a[1]}") for a, v in zip(axes, values)]
        key = point_key(display, seed, {"values": named, "seed": seed}, index=index)
        points.append(PointSpec(key, 0, named, tuple((f"E.{n}", v) for n, v in named), seed,
                                ", ".join(f"{n} {t}" for n, t in display) + f", seed {seed}",
                                (("window", [0.1, 0.2]),)))
    return Plan({"command": "sweep", "network": "cuba"}, (_build(),), tuple(points),
                configuration or save.configuration("sweep", _network(), (), (("E.v0", -0.06),),
                                                    ReductionSpec(), "cpp_standalone", 2,
                                                    False),
                ReductionSpec(), tuple(Axis(n, u, v) for n, u, v in axes),
                {"0": {"populations": {"E": 800, "I": 200}, "dt_s": 1e-4,
                       "phases": [["main", 0.0, 1.0]]}}, ("a warning",))


# -- one sources digest, CMSA keys unchanged ----------------------------------------------
def test_the_sources_digest_is_the_cmsa_one_and_the_cmsa_plan_key_is_unchanged(monkeypatch):
    """``cache.sources_digest`` computes exactly what ``cmsa.cached.sources_digest`` did
    (every ``brianlab/**/*.py`` in path order), and the CMSA plan key is today's formula."""
    from importlib import metadata

    from brianlab.cmsa import cached
    from brianlab.store import models_digest

    package = Path(brianlab.__file__).resolve().parent
    old = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        old.update(path.read_bytes())
    assert cache.sources_digest() == old.hexdigest()
    assert cached.sources_digest is cache.sources_digest
    monkeypatch.setenv("BRIANLAB_CACHE_NOTE", "x")
    arguments = {"command": "run", "rp": 7.0}
    parts = {"format": 1, "arguments": arguments, "sources": old.hexdigest(),
             "models": models_digest(), "brian2": metadata.version("brian2"),
             "python": sys.version, "executable": sys.executable,
             "environment": {k: v for k, v in sorted(os.environ.items())
                             if k.startswith("BRIANLAB_")}}
    expected = hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()
    assert cached.plan_key(arguments) == expected == plans.plan_key(arguments)
    assert plans.plan_key(arguments, network_file=SHA) != expected  # a path's bytes count


# -- plan JSON ------------------------------------------------------------------------------
def test_a_plan_survives_json_field_by_field():
    p = _plan()
    back = Plan.from_dict(json.loads(json.dumps(p.as_dict())))
    assert back == p
    assert back.points_of(0) == list(p.points) and back.points_of(1) == []
    assert isinstance(back.builds[0].network.models, tuple)
    assert back.builds[0].key() == p.builds[0].key()


@pytest.mark.parametrize("edit, field", [
    (lambda d: d.pop("axes"), "missing ['axes']"),
    (lambda d: d.update(extra=1), "unknown ['extra']"),
    (lambda d: d["builds"][0].update(device="gpu"), "builds[0].device"),
    (lambda d: d["builds"][0].update(threads="2"), "builds[0].threads"),
    (lambda d: d["builds"][0].update(portable=1), "builds[0].portable"),
    (lambda d: d["builds"][0]["network"].update(sha256="x"), "builds[0].network.sha256"),
    (lambda d: d["builds"][0]["network"].update(status="mine"), "builds[0].network.status"),
    (lambda d: d["builds"][0]["network"]["models"][0].pop(), "builds[0].network.models[0]"),
    (lambda d: d["builds"][0]["structure"].append(["a", 1]), "builds[0].structure[1]"),
    (lambda d: d["points"][0].update(key="../../escape"), "points[0].key"),
    (lambda d: d["points"][0].update(key=".hidden"), "points[0].key"),
    (lambda d: d["points"][1].update(key=d["points"][0]["key"]), "keys repeat"),
    (lambda d: d["points"][0].update(build=1), "points[0].build"),
    (lambda d: d["points"][0].update(build=True), "points[0].build"),
    (lambda d: d["points"][0].update(seed=-1), "points[0].seed"),
    (lambda d: d["points"][0]["values"][0].__setitem__(1, None), "points[0].values[0]"),
    (lambda d: d["points"][0]["run_values"][0].__setitem__(1, "1"), "points[0].run_values[0]"),
    (lambda d: d["points"][0].pop("title"), "points[0]: fields differ"),
    (lambda d: d.update(points=[]), "no builds or no points"),
    (lambda d: d.update(points={}), "points: expected a list"),
    (lambda d: d["reduction"].update(name="mine"), "reduction.name"),
    (lambda d: d["axes"][0].update(values=[]), "axes[0].values"),
    (lambda d: d.update(context=[]), "context"),
    (lambda d: d.update(warnings=[1]), "warnings"),
])
def test_a_damaged_plan_fails_naming_the_field(edit, field):
    data = json.loads(json.dumps(_plan().as_dict()))
    edit(data)
    with pytest.raises(CacheError) as error:
        Plan.from_dict(data)
    assert field in str(error.value)


def _manifest(tmp_path, spec: BuildSpec | None = None) -> builds.Manifest:
    """A fake build of ``spec`` in the cache: ``main``, a static array, the digest record
    and the manifest (as the compiler writes them)."""
    spec = spec or _build()
    key = spec.key()
    folder = builds.directory(spec, key)
    (folder / "static_arrays").mkdir(parents=True)
    (folder / "main").write_bytes(b"\x7fELF a binary")
    (folder / "static_arrays" / "_static_array_x").write_bytes(b"\0" * 16)
    digest = _digest(folder)
    (folder / BUILD_RECORD).write_text(json.dumps({"digest": digest}))
    compiled = CompiledNetwork(str(folder.resolve()), {"spikes_E_i": ["_dynamic_i", "<i4"]},
                               {}, digest, {"OMP_NUM_THREADS": "2"}, {"device": spec.device})
    manifest = builds.Manifest(key, spec.key_parts(), compiled, {"E.g": "cuba_E.g"},
                               {"dt_s": 1e-4}, {"network": {}}, "2.10.1",
                               "2026-12-03T20:00:00Z", 1.5)
    (folder / builds.MANIFEST).write_text(manifest.to_json())
    return manifest


def test_a_saved_plan_is_found_and_a_tampered_one_never_used(tmp_path, monkeypatch):
    """The generic plan cache: found by its arguments; an edit (with or without a digest
    made for it), another command line's file, a build outside the cache -> None."""
    monkeypatch.setenv("BRIANLAB_CACHE", str(tmp_path))
    p = _plan()
    arguments = p.request
    assert plans.load(arguments) is None
    plans.save(arguments, p, [_manifest(tmp_path)])
    assert plans.load(arguments) == p
    path = plans.plan_file(plans.plan_key(arguments))
    assert path.parent.name == "plans"
    good = path.read_text()

    def rewrite(change, digest):
        data = json.loads(good)
        change(data)
        if digest:
            data["digest"] = plans.content_digest(data)
        path.write_text(json.dumps(data))

    edits = {
        "a run value": (lambda d: d["plan"]["points"][0]["run_values"][0].__setitem__(1, 1.0),
                        False),
        "a mistyped value": (lambda d: d["plan"]["points"][0]["values"][0].__setitem__(1, "x"),
                             True),
        "a key outside the folder": (lambda d: d["plan"]["points"][0].update(key="../x"), True),
        "a build outside the cache": (lambda d: d["builds"][0].update(directory="/tmp"), True),
        "a build of another key": (lambda d: d["builds"][0].update(key="cd" * 32), True),
        "another key": (lambda d: d.update(key="0" * 64), True),
        "another request": (lambda d: d["plan"].update(request={"command": "run"}), True),
        "a missing field": (lambda d: d.pop("builds"), True),
    }
    for what, (change, digest) in edits.items():
        rewrite(change, digest)
        assert plans.load(arguments) is None, what
    for text in ("[]", "null", "{" * 100_000, ""):
        path.write_text(text)
        assert plans.load(arguments) is None, text[:10]
    other = dict(arguments, network="brunel2000")
    plans.plan_file(plans.plan_key(other)).write_text(good)
    assert plans.load(other) is None
    path.write_text(good)
    assert plans.load(arguments) == p
    monkeypatch.setattr(plans, "sources_digest", lambda: "other sources")
    assert plans.load(arguments) is None
    (tmp_path / "a file").write_text("")
    monkeypatch.setenv("BRIANLAB_CACHE", str(tmp_path / "a file" / "cache"))  # no cache
    assert plans.load(arguments) is None


# -- build keys -----------------------------------------------------------------------------
def test_the_build_key_changes_with_each_of_its_parts(monkeypatch):
    spec = _build()
    key = spec.key()
    assert len(key) == 64 and spec.key() == key
    others = {
        "network sha": replace(spec, network=_network(sha256="13" * 32)),
        "network status": replace(spec, network=_network(status="modified")),
        "a model sha": replace(spec, network=_network(models=(("lif@1", "35" * 32),
                                                               ("exp_synapse@1", "56" * 32)))),
        "structure": replace(spec, structure=(("populations.E.size", "801"),)),
        "connectivity seed": replace(spec, structure=(("populations.E.size", "800"),
                                                      ("seeds.connectivity", "2"))),
        "compiled seed": replace(spec, compiled_seed=3),
        "device": replace(spec, device="cuda_standalone"),
        "threads": replace(spec, threads=None),
        "portable": replace(spec, portable=True),
        "outputs": replace(spec, outputs=("spikes_E",)),
    }
    keys = {what: other.key() for what, other in others.items()}
    assert key not in keys.values() and len(set(keys.values())) == len(keys)
    for what, patch in {"sources": (cache, "sources_digest", lambda: "x"),
                        "brian2": (plan, "brian2_version", lambda: "9.9.9"),
                        "compiler": (toolchain, "compiler_identity", lambda: "/usr/bin/c++: 99"),
                        }.items():
        with monkeypatch.context() as m:
            m.setattr(*patch)
            assert spec.key() != key, what
    assert spec.key() == key
    parts = spec.key_parts()
    assert parts["lean"] is True and parts["format"] == plan.BUILD_FORMAT and "cuda" not in parts
    # a CUDA build also depends on nvcc, the compute capability and brian2cuda
    cuda = replace(spec, device="cuda_standalone")
    identity = {"nvcc": "/usr/local/cuda/bin/nvcc: Build cuda_13.0", "compute_capability": 9.0,
                "brian2cuda": "1.0b1", "curand": "/x/libcurand.so.10, nvidia-curand 10.4.5.25"}
    monkeypatch.setattr(toolchain, "cuda_identity", lambda: identity)
    cuda_key = cuda.key()
    assert cuda.key_parts()["cuda"] == identity and cuda.key_parts()["lean"] is False
    for what, value in {"nvcc": "/usr/local/cuda/bin/nvcc: Build cuda_12.4",
                        "compute_capability": 8.0, "brian2cuda": "1.0",
                        "curand": "/x/libcurand.so.10, nvidia-curand 10.4.6"}.items():
        monkeypatch.setattr(toolchain, "cuda_identity", lambda: {**identity, what: value})
        assert cuda.key() != cuda_key, what
    assert parts["compiler"] == toolchain.compiler_identity()


def test_the_compiler_identity_is_its_path_and_version_once_per_process():
    identity = toolchain.compiler_identity()
    if toolchain.cxx_compiler_works():
        path, _, version = identity.partition(": ")
        assert Path(path).is_file() and version
    assert toolchain.compiler_identity() is identity  # (cached)


# -- point keys -----------------------------------------------------------------------------
def test_point_keys_are_readable_safe_unique_and_short_forms_when_long():
    keys = _plan().points
    assert all(SAFE_KEY.fullmatch(p.key) for p in keys)
    assert len({p.key for p in keys}) == len(keys)
    assert keys[0].key.startswith("we0.01uS_wi0.1uS_seed0_")
    odd = point_key([("tau", "5 mV/ms"), ("E.size", "800"), ("x", "(1)")], 2, {"a": 1})
    assert SAFE_KEY.fullmatch(odd) and odd.startswith("tau5mV-ms_E.size800_x-1-_seed2_")
    assert point_key([], 0, {"a": 1}).startswith("seed0_")
    assert point_key([("we", "1 uS")], 0, {"a": 1}) != point_key([("we", "1 uS")], 0, {"a": 2})
    long = point_key([(f"name{k}", "0.123456789 uS") for k in range(20)], 0, {"a": 1}, index=7)
    assert long.startswith("p7_") and len(long) == 3 + 64 and SAFE_KEY.fullmatch(long)
    assert point_key([(".hidden", "1")], 0, {"a": 1}, index=3).startswith("p3_")


# -- builds ---------------------------------------------------------------------------------
def test_find_returns_only_a_current_unchanged_build(tmp_path, monkeypatch):
    monkeypatch.setenv("BRIANLAB_CACHE", str(tmp_path))
    spec = _build()
    assert builds.find(spec) is None  # no build
    manifest = _manifest(tmp_path, spec)
    folder = builds.directory(spec)
    assert folder.name == f"build-cpp_standalone-{spec.key()[:16]}" and folder.parent == tmp_path
    found = builds.find(spec)
    assert found == manifest
    assert builds.Manifest.from_json(manifest.to_json()) == manifest
    assert builds.find(replace(spec, threads=4)) is None  # another key, another folder
    good = (folder / builds.MANIFEST).read_text()
    # the manifest: missing, damaged, of another key, naming another directory
    (folder / builds.MANIFEST).unlink()
    assert builds.find(spec) is None
    for change in (lambda d: d.update(key="cd" * 32), lambda d: d.pop("variables"),
                   lambda d: d["compiled"].update(directory=str(tmp_path)),
                   lambda d: d["compiled"]["outputs"].update(x=["../../x", "<i4"]),
                   lambda d: d.update(format=2)):
        data = json.loads(good)
        change(data)
        (folder / builds.MANIFEST).write_text(json.dumps(data))
        assert builds.find(spec) is None
    (folder / builds.MANIFEST).write_text("{ damaged")
    assert builds.find(spec) is None
    (folder / builds.MANIFEST).write_text(good)
    assert builds.find(spec) == manifest
    # the binary or a static array edited: not current, and changed (rebuilt from clean)
    assert not builds.build_changed(folder)
    (folder / "main").write_bytes(b"\x7fELF another binary")
    assert builds.find(spec) is None and builds.build_changed(folder)
    assert builds.cached_manifest(folder, manifest.key) is None


def test_find_finds_nothing_while_a_build_holds_the_lock(tmp_path, monkeypatch):
    import fcntl

    monkeypatch.setenv("BRIANLAB_CACHE", str(tmp_path))
    spec = _build()
    _manifest(tmp_path, spec)
    fd = os.open(builds.directory(spec) / ".brianlab.lock", os.O_CREAT | os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # a build in another process
        assert builds.find(spec) is None
    finally:
        os.close(fd)
    assert builds.find(spec) is not None


# -- reductions -----------------------------------------------------------------------------
def test_reductions_resolve_by_name():
    assert reductions.resolve("population_statistics") is reductions.population_statistics
    with pytest.raises(PlanError, match="registered: cmsa_phi, population_statistics"):
        reductions.resolve("phi")
    from brianlab.cmsa.reduce import cmsa_phi

    assert reductions.resolve("cmsa_phi") is cmsa_phi  # its PointContext adapter (S7)
    import pickle

    context = _context()
    assert pickle.loads(pickle.dumps(context)) == context


def _context(**changes) -> PointContext:
    context = PointContext("k", {"ref": "cuba@1"}, {"we": 3e-8}, 4, {"E": 10, "I": 4, "X": 5},
                           {}, 1e-4, (("warmup", 0.0, 0.5), ("main", 0.5, 1.0)), 0.5)
    return replace(context, **changes)


def test_population_statistics_on_synthetic_spikes():
    """E: 10 neurons firing every 100 ms (10 Hz; 5 spikes each after t_start); I: one of 4
    neurons firing every 50 ms (10 spikes after t_start: 5 Hz over the population); X not
    recorded."""
    regular = np.arange(0.005, 1.0, 0.1)
    e_t = np.tile(regular, 10)
    e_i = np.repeat(np.arange(10), len(regular))
    i_t = np.arange(0.0125, 1.0, 0.05)
    arrays = {"spikes_E_i": e_i.astype(np.int64), "spikes_E_t": e_t,
              "spikes_I_i": np.zeros(len(i_t), dtype=np.int32), "spikes_I_t": i_t}
    saved, record = reductions.population_statistics(arrays, _context())
    assert set(record["statistics"]) == {"E", "I"}
    e, i = record["statistics"]["E"], record["statistics"]["I"]
    assert e["spikes"] == 50 and e["duration"] == pytest.approx(0.5)
    assert e["rate"] == pytest.approx(10.0) and e["active_fraction"] == 1.0
    assert e["cv"] is None  # 4 intervals per neuron after t_start: fewer than min_isis
    assert i["spikes"] == 10 and i["rate"] == pytest.approx(5.0)
    assert i["active_fraction"] == 0.25
    assert record["values"] == {"we": 3e-8} and record["seed"] == 4
    assert record["t_start_s"] == 0.5 and record["length_s"] == pytest.approx(0.5)
    assert saved["E_i"].dtype == np.int32 and saved["E_t"].dtype == np.float64
    assert len(saved["E_t"]) == 100  # all spikes kept
    assert saved["E_rate"].dtype == np.float32 and len(saved["E_rate"]) == 500
    assert saved["E_rate"].mean() == pytest.approx(10.0)
    assert json.loads(json.dumps(record)) == record  # JSON-ready (NaN as null)
    assert reductions.BIN == 1e-3 and reductions.FANO_WINDOW == 0.05


# -- save -----------------------------------------------------------------------------------
def test_the_summary_tables_statistics_as_axes_by_seeds_with_nan_where_missing(tmp_path):
    p = _plan()
    folder = save.open_folder(p, tmp_path / "out")
    records = {pt.key: {"statistics": {"E": {"rate": 100 * k + 1.0, "cv": None}}}
               for k, pt in enumerate(p.points)}
    missing = p.points[5]  # we 0.01, wi 0.3, seed 1
    del records[missing.key]
    out = save.summary(p, records, [], folder)
    rate = np.array(out["table"]["E.rate"], dtype=float)
    assert rate.shape == (2, 3, 2)
    assert np.isnan(rate[0, 2, 1]) and np.isnan(out["table"]["E.cv"]).all()
    assert rate[0, 0, 0] == 1.0 and rate[1, 2, 1] == 1101.0 and rate[0, 1, 1] == 301.0
    assert out["not_run"] == [missing.key] and missing.key not in out["points"]
    written = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert written["table"]["E.rate"][0][2][1] is None and written["seeds"] == [0, 1]
    assert written["configuration_hash"] == folder.config_hash
    assert [a["name"] for a in written["axes"]] == ["we", "wi"]


def test_a_folder_holds_one_configuration(tmp_path):
    p = _plan()
    save.open_folder(p, tmp_path / "out")
    save.open_folder(p, tmp_path / "out")  # the same: resumed
    other = replace(p, configuration=dict(p.configuration, device="runtime"))
    with pytest.raises(ResultsError, match="another configuration.*device"):
        save.open_folder(other, tmp_path / "out")


def test_structure_additions_are_in_the_key_only_when_given():
    """Tables added whole (the CMSA sheet's connectors) are part of a build's key and read
    back from a plan; a build without them keeps the key it had before the field existed."""
    spec = _build()
    assert "additions" not in spec.key_parts()
    conn = {"rule": "gaussian_fixed_indegree", "sigma": 2.5, "k": 50, "normalise": "kernel_sum"}
    added = _build(additions=(("projections.ee.connector", plan.addition_text(conn)),))
    assert added.key_parts()["additions"] == [["projections.ee.connector",
                                                 '{"k":50,"normalise":"kernel_sum",'
                                                 '"rule":"gaussian_fixed_indegree","sigma":2.5}']]
    assert added.key() != spec.key()
    assert added.addition_values() == {"projections.ee.connector": conn}
    for s in (spec, added):
        assert BuildSpec.from_dict(json.loads(json.dumps(s.as_dict()))) == s
    other = _build(additions=(("projections.ee.connector", plan.addition_text(
        dict(conn, k=51))),))
    assert other.key() != added.key()
    data = added.as_dict()
    data["additions"] = [["projections.ee.connector", '{"sigma": 2.5}']]  # not canonical
    with pytest.raises(CacheError, match="not canonical JSON text"):
        BuildSpec.from_dict(data)
    for text in ("{sigma", '{"sigma":NaN}'):
        data["additions"] = [["projections.ee.connector", text]]
        with pytest.raises(CacheError, match="not JSON text"):
            BuildSpec.from_dict(data)
    del data["additions"]  # a plan written before the field: planned again
    with pytest.raises(CacheError, match="missing"):
        BuildSpec.from_dict(data)


# -- CUDA builds: their points run only where a GPU is --------------------------------------
@pytest.mark.parametrize("gpu", [True, False])
def test_cuda_builds_run_their_points_only_where_a_gpu_is(monkeypatch, tmp_path, gpu):
    """Two CUDA builds (two structures): with a GPU every build's points reach ``run``
    (nvidia-smi asked once) and nothing says not run; without one each build is still
    found or compiled, no point runs, and ``not_run`` names both build folders. A cpp
    build beside them runs either way; ``build_only`` runs nothing on any device."""
    from brianlab.pipeline import execute

    base = _plan(axes=(("we", "uS", (0.01, 0.02)),), seeds=(0,))
    cuda = [_build(device="cuda_standalone", threads=None),
            _build(device="cuda_standalone", threads=None,
                   structure=(("populations.E.size", "900"),)),
            _build()]
    points = tuple(replace(p, key=f"{p.key}-{b}", build=b) for b in range(3)
                   for p in base.points)
    the_plan = replace(base, builds=tuple(cuda), points=points)
    asked, ran, compiled = [], [], []
    monkeypatch.setattr(execute, "gpu_available", lambda: (asked.append(1), (gpu, None))[1])
    monkeypatch.setattr(builds, "find", lambda spec: None)

    def compile_build(plan_, spec):
        compiled.append(spec.device)
        return builds.Manifest(spec.key(), {}, CompiledNetwork(str(tmp_path / spec.key()[:8]),
                                                               {}), {})

    def run(manifest, pts, folder, reduction, **kwargs):
        ran.append((manifest.compiled.directory, [p.key for p in pts]))
        return {p.key: {"ok": True} for p in pts}

    monkeypatch.setattr(execute, "run", run)
    out = execute.run_builds(the_plan, tmp_path, compile_build=compile_build)
    assert compiled == ["cuda_standalone", "cuda_standalone", "cpp_standalone"]
    assert len(asked) == 1
    folders = [str(tmp_path / b.key()[:8]) for b in cuda]
    if gpu:
        assert out.not_run is None and "not_run" not in out.description()
        assert [d for d, _ in ran] == folders and len(out.records) == 6
    else:
        assert [d for d, _ in ran] == folders[2:] and len(out.records) == 2
        assert out.not_run == (f"cuda_standalone: built in {folders[0]}, {folders[1]} but not "
                               "run (no GPU is available here)")
        assert out.description()["not_run"] == out.not_run
    ran.clear()
    out = execute.run_builds(the_plan, None, compile_build=compile_build, build_only=True)
    assert ran == [] and out.records == {} and len(out.used) == 3
    assert out.not_run.startswith("cuda_standalone: built in ") and \
        "cpp_standalone: built in " in out.not_run and "(--build-only was given)" in out.not_run
    with pytest.raises(ValueError, match="the runtime device has no build"):
        execute.run_builds(replace(the_plan, builds=(_build(device="runtime"),) * 3), None,
                           build_only=True)
