"""CUDA standalone builds of the CMSA sheet: a network on clocks of its own (no Brian2
``defaultclock``) that brian2cuda's synapses template cannot compile unaided."""

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from brianlab import devices
from brianlab.cmsa.__main__ import main

ROOT = Path(__file__).resolve().parent.parent
GPU_CHECK = ROOT / "benchmarks" / "gpu_check.py"

SMALL = ["--size", "30", "--ke", "50", "--ki", "50", "--duration", "100", "--no-gif"]

# the part of brian2cuda's synapses.cu (1.0b1) as it is generated for a pathway
PATHWAY = """\
    if (sheet_ee_pre_scalar_delay)
    {
        if (defaultclock.timestep[0] >= sheet_ee_pre_delay)
        {
            cudaMemcpy(&num_spiking_neurons, ...);
        }
    }
    if (num_blocks != 0) {
        for(int bid_offset = 0; bid_offset < num_loops; bid_offset++)
        {
            _run_kernel_sheet_ee_pre_codeobject<<<num_blocks, num_threads>>>(
                _N,
                bid_offset,
                CLOCK.timestep[0],
                num_threads_per_bundle,
"""


def _needs_nvcc():
    pytest.importorskip("brian2cuda")
    if devices.find_nvcc() is None:
        pytest.skip("nvcc is not installed on this machine")


def _undeclared_clocks(build):
    """Clocks whose time step a generated CUDA file reads but ``objects.h`` does not
    declare (nvcc: 'identifier ... is undefined'), as ``{file: {clock, ...}}``."""
    declared = set(re.findall(r"^extern (?:Event)?Clock (\w+);", (build / "objects.h")
                              .read_text(), re.MULTILINE))
    assert declared, "objects.h declares no clock: not brian2cuda's template any more?"
    found = {}
    for path in sorted((build / "code_objects").glob("*.cu")):
        used = set(re.findall(r"\b(\w+)\.timestep\[0\]", path.read_text())) - declared
        if used:
            found[path.name] = used
    return found


def test_pathway_delay_check_uses_the_pathway_clock():
    from brianlab.leanbuild import cuda_pathway_clock

    text = PATHWAY.replace("CLOCK", "sheet_clock")
    fixed = cuda_pathway_clock(text)
    assert fixed == text.replace("if (defaultclock.timestep[0] >= sheet_ee_pre_delay)",
                                 "if (sheet_clock.timestep[0] >= sheet_ee_pre_delay)")
    assert "defaultclock" not in fixed
    assert cuda_pathway_clock(fixed) == fixed  # nothing left to change
    # on the default clock the file is already right (and stays byte for byte the same)
    on_default = PATHWAY.replace("CLOCK", "defaultclock")
    assert cuda_pathway_clock(on_default) == on_default
    # another structure (no kernel clock found, or two of them) is left unchanged
    for other in (text.replace("bid_offset,\n", "offset,\n"),
                  text + text.replace("sheet_clock", "other_clock"),
                  text.replace(">= sheet_ee_pre_delay", ">= other_delay")):
        assert cuda_pathway_clock(other) == other


@pytest.mark.cuda
def test_cmsa_sheet_cuda_code_reads_only_declared_clocks(tmp_path, monkeypatch):
    """The generated code (not compiled: seconds) of every pathway reads its own clock."""
    _needs_nvcc()
    from brianlab.cmsa.experiment import NotRunError, simulate
    from brianlab.cmsa.params import CMSAParams

    monkeypatch.setattr(devices.DeviceSession, "_compile", lambda self, *args, **kwargs: None)
    build = tmp_path / "build"
    with pytest.raises(NotRunError):
        simulate([CMSAParams(e_side=30, i_side=15, k_e=50, k_i=50)],
                 device="cuda_standalone", build_only=True, directory=build, cache=False)
    pathways = sorted(build.glob("code_objects/cmsa_*_pre_codeobject*.cu"))
    assert len(pathways) >= 4  # ee, ei, ie, ii (one code object per run segment)
    for path in pathways:
        assert re.search(r"if \(cmsa_clock\.timestep\[0\] >= cmsa_\w\w_pre_delay\)",
                         path.read_text()), path.name
    assert _undeclared_clocks(build) == {}


@pytest.fixture(scope="module")
def cuda_cache(tmp_path_factory):
    """One CMSA build cache for this module's small-sheet commands: the sheet's CUDA build
    (minutes with nvcc) is made once and found by the later commands."""
    return tmp_path_factory.mktemp("cuda-cache")


@pytest.mark.cuda
@pytest.mark.slow
def test_cmsa_sheet_builds_on_cuda_standalone(tmp_path, monkeypatch, capsys, cuda_cache):
    """The README's command compiles the sheet with nvcc from a fresh cache (minutes),
    and ``phases`` builds the same network from that cache."""
    _needs_nvcc()
    monkeypatch.setenv("BRIANLAB_CACHE", str(cuda_cache))
    code = main(["run", "--device", "cuda_standalone", "--build-only", *SMALL,
                 "--out", str(tmp_path / "run")])
    out = capsys.readouterr()
    assert code == 0, out.out + out.err
    assert "compilation failed" not in out.out + out.err
    builds = list(cuda_cache.glob("build-cuda_standalone-*"))  # the pipeline's build
    assert len(builds) == 1
    build = builds[0]
    manifest = json.loads((build / "brianlab-build.json").read_text())
    assert manifest["key_parts"]["device"] == "cuda_standalone"
    assert manifest["key_parts"]["cuda"]["nvcc"] and not manifest["key_parts"]["lean"]
    # what a point run needs from the binary, read in its generated code (no GPU here):
    # every run-time value's variable set by name (and copied to the GPU) before the first
    # run, every array a point reads written into the results directory, the run time
    assert {"spikes_E_i", "spikes_E_t"} <= set(manifest["compiled"]["outputs"])
    objects, main_cu = (build / "objects.cu").read_text(), (build / "main.cu").read_text()
    names = [n for v in manifest["variables"].values() for n in ([v] if isinstance(v, str)
                                                                    else v)]
    assert "E.tau_ref" in manifest["variables"] and len(names) >= 7
    for name in names:
        block = objects.split(f'if (name == "{name}") {{', 1)
        assert len(block) == 2, name
        assert "cudaMemcpyHostToDevice" in block[1].split("return;", 1)[0], name
    for file_name, _ in [*manifest["compiled"]["outputs"].values(),
                         *manifest["compiled"]["checks"].values()]:
        assert f'results_dir + "{file_name}"' in objects, file_name
    first_run = main_cu.index("_network.run(")
    assert -1 < main_cu.find("set_from_command_line(args);") < first_run
    assert 'results_dir + "brianlab_run_s.txt"' in main_cu
    binary = build / "main"
    assert binary.is_file() and os.access(binary, os.X_OK)
    assert _undeclared_clocks(build) == {}
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert "--build-only was given" in summary["not_run"]
    built = binary.stat().st_mtime_ns
    code = main(["phases", "--device", "cuda_standalone", "--build-only", *SMALL,
                 "--out", str(tmp_path / "phases")])
    out = capsys.readouterr()
    assert code == 0, out.out + out.err
    assert list(cuda_cache.glob("build-cuda_standalone-*")) == [build]
    assert binary.is_file() and _undeclared_clocks(build) == {}
    assert binary.stat().st_mtime_ns == built  # the same network: nothing recompiled
    if not devices.gpu_available()[0]:  # the points need a GPU: built (found), not run
        code = main(["run", "--device", "cuda_standalone", *SMALL,
                     "--out", str(tmp_path / "nogpu")])
        out = capsys.readouterr()
        assert code == 3, out.out + out.err
        assert f"cuda_standalone: built in {build}" in out.out
        assert "(no GPU is available here)" in out.out
        assert binary.stat().st_mtime_ns == built
        return
    # on a GPU (benchmarks/gpu_check.py step 1): the point runs the binary found, with its
    # run-time values; its rates are cpp_standalone's within 10 % (float order on the GPU)
    rates = {}
    for device in ("cuda_standalone", "cpp_standalone"):
        out_dir = tmp_path / f"ran-{device}"
        code = main(["run", "--device", device, *SMALL, "--out", str(out_dir)])
        out = capsys.readouterr()
        assert code == 0, out.out + out.err
        (record,) = [json.loads(p.read_text()) for p in (out_dir / "points").glob("*.json")]
        assert record["sweep"]["run_s"] is not None and record["sweep"]["run_s"] > 0
        rates[device] = record["rate_e_hz"]
    assert binary.stat().st_mtime_ns == built
    assert rates["cuda_standalone"] == pytest.approx(rates["cpp_standalone"], rel=0.10)



@pytest.mark.cuda
@pytest.mark.slow
def test_gpu_check_builds_everything_without_a_gpu(tmp_path, cuda_cache):
    """The whole check in build-only mode on the smallest sheet (tests/test_cuda.py's
    SMALL options) in this module's build cache: the CUDA build of
    ``test_cmsa_sheet_builds_on_cuda_standalone`` is found there, one cpp_standalone build
    is made, and steps 3 and 4 reuse both; nothing runs."""
    pytest.importorskip("brian2cuda")
    if devices.find_nvcc() is None:
        pytest.skip("nvcc is not installed on this machine")
    out = tmp_path / "check"
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, str(GPU_CHECK), str(out), "--build-only", "--skip-install",
         "--sides", "30", "--ke", "50", "--ki", "50", "--duration", "100",
         "--sweep-values", "5,10", "--budget", "1500"],
        capture_output=True, text=True, timeout=1600, cwd=ROOT,
        env={**os.environ, "BRIANLAB_CACHE": str(cuda_cache)})
    elapsed = time.monotonic() - start
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "[gpu_check " in proc.stdout and "step 3: side 30 cuda" in proc.stdout
    report = json.loads((out / "gpu_check.json").read_text())
    assert report["build_only"] and report["build_only_reason"] == "--build-only was given"
    steps = {s["step"]: s for s in report["steps"]}
    assert sorted(steps) == [0, 1, 2, 3, 4]
    for k in (1, 2, 3, 4):
        assert steps[k]["note"] == "build-only: no GPU" and steps[k]["ok"], steps[k]
    assert steps[1]["counts"]["collected"] >= 1
    for row in steps[3]["rows"]:
        assert "--build-only" in row["argv"] and row["points"] == []
        assert row["timings"]["build_s"] >= 0 if "build_s" in row["timings"] else True
    # one build per device: steps 3 and 4 found step 2's in the cache
    builds = sorted(p.name.split("-")[1] for p in cuda_cache.glob("build-*"))
    assert builds == ["cpp_standalone", "cuda_standalone"], builds
    text = (out / "gpu_check.md").read_text()
    assert text.count("(build-only: no GPU)") == 4
    assert "**build-only: no GPU**" in text
    print(f"gpu_check build-only: {elapsed:.0f} s")

@pytest.mark.cuda
def test_cuda_session_restores_the_preferences_brian2cuda_registers(tmp_path):
    """brian2cuda registers its preferences when first imported, inside the first session:
    closing it restores them too, so a second build in the process gets the same flags."""
    _needs_nvcc()
    script = f"""
import json
from brian2 import prefs
from brianlab import use_device
seen = []
for k in range(2):
    with use_device("cuda_standalone", directory=r"{tmp_path}/b" + str(k), quiet=True):
        seen.append({{key: repr(v) for key, v in prefs.prefs.items()}})
defaults = {{f"{{base}}.{{name}}": repr(d.default) for base, (defs, _) in
            prefs.pref_register.items() for name, d in defs.items()
            if base.startswith("devices.cuda_standalone")}}
print(json.dumps({{"same": seen[0] == seen[1],
                  "changed": sorted(k for k, v in defaults.items() if repr(prefs[k]) != v)}}))
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result == {"same": True, "changed": []}


def test_cuda_main_is_the_same_for_the_same_network():
    """brian2cuda writes a run's clock resets and random-number-buffer calls in the order of
    a Python set: sorted, a cached build's main.cu is unchanged (not recompiled)."""
    from brianlab.leanbuild import sort_cuda_main

    def main_cu(order):
        resets = "".join(f"        _array_{c}_timestep[0] = 0;\n        _array_{c}_t[0] = 0.0;\n"
                         for c in order)
        adds = "".join(f"        network.add(&{c}, _run_random_number_buffer);\n"
                       for c in order)
        return (f"    {{\n{resets}        network.clear();\n{adds}"
                "        network.add(&cmsa_clock, _run_cmsa_E_stateupdater_codeobject);\n"
                "        network.add(&a_clock, _run_a_codeobject);\n    }\n")

    one = main_cu(["cmsa_I_clock", "cmsa_clock", "cmsa_E_clock"])
    other = main_cu(["cmsa_clock", "cmsa_E_clock", "cmsa_I_clock"])
    assert one != other
    assert sort_cuda_main(one) == sort_cuda_main(other) == main_cu(
        ["cmsa_E_clock", "cmsa_I_clock", "cmsa_clock"])
    # the code objects keep their order (the schedule)
    assert sort_cuda_main(one).endswith("_run_cmsa_E_stateupdater_codeobject);\n"
                                         "        network.add(&a_clock, _run_a_codeobject);\n"
                                         "    }\n")


@pytest.mark.cuda
@pytest.mark.slow
def test_a_network_file_builds_on_cuda_standalone(tmp_path, monkeypatch, capsys):
    """``brunel2000`` as released on cuda_standalone: brian2cuda generates its fixed
    in-degree projections (Brian2's ``sample(N, size=K)`` generator, run on the device) and
    its Poisson input (``poisson()``), and nvcc compiles them; the session's description
    carries the file's provenance. Without a GPU, ``make`` builds only the objects this
    test is about (a projection's synapse creation and an external input: ~1 min, not the
    ~5 min of the whole binary, which the CMSA sheet's test above compiles anyway) and the
    session says it was built but not run. On a machine with a GPU the whole binary is built
    and run, and the file's ``[[published]]`` entries are checked (cuRAND's draws, not the
    CPU's: statistics, not spikes)."""
    from brian2 import get_device
    from network_checks import check_published

    from brianlab.library import load_network

    _needs_nvcc()
    net = load_network("brunel2000@1")
    wanted = ["code_objects/brunel2000_EE_synapses_create_generator_codeobject.o",
              "code_objects/brunel2000_E_ext_codeobject.o"]
    has_gpu = devices.gpu_available()[0]
    if not has_gpu:
        def make_wanted(self, clean):
            done = subprocess.run(["make", *wanted], cwd=self.directory, capture_output=True,
                                  text=True)
            if done.returncode != 0:
                raise RuntimeError(done.stdout[-2000:] + done.stderr[-2000:])

        monkeypatch.setattr(devices.DeviceSession, "_make", make_wanted)
    options = dict(directory=tmp_path / "cuda", quiet=False)
    with net.build(device="cuda_standalone", device_options=options) as built:
        built.run()
        dev = built.session
        build = dev.directory
        assert dev.built and dev.has_gpu == has_gpu
        makefile = (build / "makefile").read_text()
        assert "-std=c++17" in makefile and "-std=c++11" not in makefile
        assert "-arch=sm_" in makefile
        for proj in net.projections:
            generator = build / "code_objects" / (
                f"brunel2000_{proj}_synapses_create_generator_codeobject.cu")
            k = net.projections[proj].connector.k
            assert f"const int32_t _iter_size = {k};" in generator.read_text(), generator.name
        assert "poisson" in (build / "code_objects" / "brunel2000_E_ext_codeobject.cu").read_text()
        for obj in wanted:
            assert (build / obj).stat().st_size > 1000, obj
        record = dev.describe()["provenance"]["network"]
        assert (record["name"], record["version"], record["status"]) == (
            "brunel2000", 1, "released")
        assert record["sha256"] == net.sha256
        if not has_gpu:
            assert not dev.ran
            out = capsys.readouterr().out
            assert "built in" in out and "but not run (no GPU is available)" in out
        else:  # on a GPU machine: the published behaviour
            assert (build / "main").is_file() and os.access(build / "main", os.X_OK)
            spikes = {}
            for pop in net.monitors.spikes:
                i, t = built.spikes(pop)
                spikes[pop] = (np.asarray(i, dtype=np.int64), np.asarray(t, dtype=float))
            assert check_published(net, spikes) == []
    assert get_device().__class__.__name__ == "RuntimeDevice"
    assert build.is_dir()


@pytest.mark.cuda
def test_a_quiet_cuda_session_hides_brian2cudas_info_lines(tmp_path):
    """brian2cuda logs its preferences and the GPU it compiles for at INFO on every build
    (25 lines); a quiet session (the network builder's default) leaves them to Brian2's
    debug log, keeps warnings, and gives the console back when it closes."""
    _needs_nvcc()
    import io

    from brian2.utils.logger import BrianLogger, get_logger

    from brianlab import use_device

    log = get_logger("brian2cuda.device")
    console = io.StringIO()  # what Brian2's console handler writes (it holds sys.stderr)
    old = BrianLogger.console_handler.setStream(console)
    try:
        with use_device("cuda_standalone", directory=tmp_path / "b", quiet=True):
            log.info("a preference line")
            log.warn("a warning line")
        log.info("an info line after the session")
    finally:
        BrianLogger.console_handler.setStream(old)
    text = console.getvalue()
    assert "a preference line" not in text
    assert "a warning line" in text and "an info line after the session" in text
