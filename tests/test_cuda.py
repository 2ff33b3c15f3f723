"""CUDA standalone builds of the CMSA sheet: a network on clocks of its own (no Brian2
``defaultclock``) that brian2cuda's synapses template cannot compile unaided."""

import json
import os
import re

import pytest

from brianlab import devices
from brianlab.cmsa.__main__ import main

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
    from brianlab.devices import _cuda_pathway_clock

    text = PATHWAY.replace("CLOCK", "sheet_clock")
    fixed = _cuda_pathway_clock(text)
    assert fixed == text.replace("if (defaultclock.timestep[0] >= sheet_ee_pre_delay)",
                                 "if (sheet_clock.timestep[0] >= sheet_ee_pre_delay)")
    assert "defaultclock" not in fixed
    assert _cuda_pathway_clock(fixed) == fixed  # nothing left to change
    # on the default clock the file is already right (and stays byte for byte the same)
    on_default = PATHWAY.replace("CLOCK", "defaultclock")
    assert _cuda_pathway_clock(on_default) == on_default
    # another structure (no kernel clock found, or two of them) is left unchanged
    for other in (text.replace("bid_offset,\n", "offset,\n"),
                  text + text.replace("sheet_clock", "other_clock"),
                  text.replace(">= sheet_ee_pre_delay", ">= other_delay")):
        assert _cuda_pathway_clock(other) == other


def test_cmsa_sheet_cuda_code_reads_only_declared_clocks(tmp_path, monkeypatch):
    """The generated code (not compiled: seconds) of every pathway reads its own clock."""
    _needs_nvcc()
    from brianlab.cmsa.experiment import NotRunError, simulate
    from brianlab.cmsa.params import CMSAParams

    monkeypatch.setattr(devices.DeviceSession, "_compile", lambda self: None)
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


@pytest.mark.slow
def test_cmsa_sheet_builds_on_cuda_standalone(tmp_path, monkeypatch, capsys):
    """The README's command compiles the sheet with nvcc from a fresh cache (minutes),
    and ``phases`` builds the same network from that cache."""
    _needs_nvcc()
    monkeypatch.setenv("BRIANLAB_CACHE", str(tmp_path / "cache"))
    code = main(["run", "--device", "cuda_standalone", "--build-only", *SMALL,
                 "--out", str(tmp_path / "run")])
    out = capsys.readouterr()
    assert code == 0, out.out + out.err
    assert "compilation failed" not in out.out + out.err
    builds = list((tmp_path / "cache").glob("cmsa-cuda_standalone-*"))
    assert len(builds) == 1
    build = builds[0]
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
    assert list((tmp_path / "cache").glob("cmsa-cuda_standalone-*")) == [build]
    assert binary.is_file() and _undeclared_clocks(build) == {}
    assert binary.stat().st_mtime_ns == built  # the same network: nothing recompiled
