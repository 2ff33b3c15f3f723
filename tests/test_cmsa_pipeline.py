"""The CMSA sheet as a network file for the pipeline (issue 25, slice S7).

``cmsa_sheet@2`` with :func:`brianlab.cmsa.plan.sheet_structure` builds, through the
network builder, the sheet of :func:`brianlab.cmsa.protocol.build_network` (same spikes,
bit for bit, and the voltage Phi's frames); its ``cmsa_phi`` reduction is the CMSA
command's :func:`~brianlab.cmsa.reduce.reduce_point` on the builder's array names.
"""

import dataclasses
import json

import numpy as np
import pytest
from brian2 import ms

from brianlab.cmsa.params import CMSAParams
from brianlab.cmsa.plan import sheet_structure, sheet_values
from brianlab.cmsa.protocol import build_network as cmsa_network
from brianlab.cmsa.protocol import run_variables
from brianlab.cmsa.reduce import (ANALYSIS_DEFAULTS, PointSettings, cmsa_phi,
                                  reduce_point)
from brianlab.devices import cxx_compiler_works
from brianlab.library import load_network
from brianlab.networkfile import with_structure
from brianlab.networks.builder import build_network
from brianlab.pipeline import reductions
from brianlab.pipeline.reductions import PointContext

#: ``--size 30 --ke 50 --ki 50 --duration 60`` of the CMSA command (a short analysis).
SMALL = dict(e_side=30, i_side=15, k_e=50, k_i=50, duration=60 * ms, analysis=40 * ms,
             voltage_frames=20)
PRESETS = {
    "tuned": CMSAParams.preset("tuned", **SMALL),
    "lab-report": CMSAParams.preset("lab-report", **SMALL),
    "voltage": CMSAParams.preset("tuned", **{**SMALL, "phi": "voltage"}),
    "attention": CMSAParams.preset("tuned", **SMALL, stimulus_duration=20 * ms),
}


def _reference(p: CMSAParams) -> dict:
    sheet, network = cmsa_network(p)  # objects named cmsa_...
    network.run(p.total)
    out = {"variables": [name for name, _ in run_variables(sheet, p)],"e_i": np.array(sheet.spikes_e.i[:]), "e_t": np.array(sheet.spikes_e.t[:]),
           "i_i": np.array(sheet.spikes_i.i[:]), "i_t": np.array(sheet.spikes_i.t[:])}
    if sheet.voltage is not None:
        out["t_v"] = np.array(sheet.voltage.t[:])
        out["v"] = np.array(sheet.voltage.v[:])
    return out


def _ours(p: CMSAParams) -> dict:
    net = with_structure(load_network("cmsa_sheet@2"), *sheet_structure(p))
    with build_network(net, device="runtime", drive_seed=p.seed, name="cmsa",
                       **sheet_values(p)) as built:
        variables = built.compile_spec().variables
        built.run()
        e_i, e_t = built.spikes("E")
        i_i, i_t = built.spikes("I")
        out = {"e_i": np.array(e_i), "e_t": np.array(e_t), "i_i": np.array(i_i),
               "i_t": np.array(i_t), "variables": variables}
        if built.monitors["state"]:
            mon = built.monitors["state"][0]
            out["t_v"] = np.array(mon.t[:])
            out["v"] = np.array(mon.v[:])
    return out


@pytest.mark.parametrize("preset", list(PRESETS))
def test_sheet_file_matches_build_ei_sheet(preset):
    p = PRESETS[preset]
    reference, ours = _reference(p), _ours(p)
    assert len(reference["e_i"]) > 100  # the drive makes the sheet fire
    for name in ("e_i", "e_t", "i_i", "i_t"):
        assert np.array_equal(reference[name], ours[name]), name
    # built with name="cmsa": the binary's argument names are the CMSA sheet's, but the
    # stimulus amplitude's (the input's variable: stimulus_amplitude, not stim_amplitude)
    variables = ours["variables"]
    names = {variables[t] for t in ("E.tau_ref", "I.tau_ref", "E.g_max_ampa", "I.g_max_ampa",
                                    "E.g_max_gaba", "I.g_max_gaba")}
    names |= set(variables["drive_seed"])
    if p.stimulus_duration > 0 * ms:
        assert variables["stimulus.amplitude"] == "cmsa_E.stimulus_amplitude"
        assert reference["variables"][-1] == "cmsa_E.stim_amplitude"
        reference["variables"] = reference["variables"][:-1]
    assert names == set(reference["variables"])
    if p.phi == "voltage":  # the window: the last voltage_frames steps before the onset
        start = float(p.stimulus_onset - p.voltage_frames * p.dt)
        steps = (reference["t_v"] >= start - 1e-12) & \
            (reference["t_v"] < float(p.stimulus_onset) - 1e-12)
        assert steps.sum() == p.voltage_frames == len(ours["t_v"])
        assert np.array_equal(reference["t_v"][steps], ours["t_v"])
        assert np.array_equal(reference["v"][:, steps], ours["v"])


def test_analysis_defaults_are_cmsaparams_fields():
    p = CMSAParams()
    for name, value in ANALYSIS_DEFAULTS.items():
        field = getattr(p, name)
        assert (float(field / ms) if hasattr(field, "dim") and not field.is_dimensionless
                else field) == value, name


def _context(p: CMSAParams, options=None) -> PointContext:
    drive, onset = float(p.drive_duration), float(p.stimulus_onset)
    phases = [("drive", 0.0, drive), ("spontaneous", drive, onset)]
    if p.stimulus_duration > 0 * ms:
        phases.append(("stimulus", onset, float(p.total)))
    return PointContext("k", {"ref": "cmsa_sheet@2"}, {"rp": float(p.rp)}, p.seed,
                        {"E": p.e_side**2, "I": p.i_side**2},
                        {"E": [p.e_side, p.e_side], "I": [p.i_side, p.i_side]},
                        float(p.dt), tuple(phases), drive,
                        {"analysis": float(p.analysis / ms)} if options is None else options,
                        {"models": [{"name": "lif", "version": 2}]})


@pytest.mark.parametrize("preset", ["tuned", "voltage", "attention"])
def test_settings_from_the_context_are_the_settings_of_the_params(preset):
    p = PRESETS[preset]
    ours = PointSettings.from_context(
        _context(p), voltage_frames=p.voltage_frames if p.phi == "voltage" else None)
    theirs = PointSettings.of(p)
    for f in dataclasses.fields(PointSettings):
        if f.name in ("params", "values"):
            continue
        a, b = getattr(ours, f.name), getattr(theirs, f.name)
        if f.name == "voltage_frames" and p.phi != "voltage":
            continue
        assert a == (pytest.approx(b, rel=1e-12) if isinstance(b, float) else b), f.name


def _synthetic_arrays(p: CMSAParams, rng) -> dict:
    n = 3000
    arrays = {"spikes_E_i": rng.integers(0, p.e_side**2, n).astype(np.int32),
              "spikes_E_t": np.sort(rng.uniform(0, float(p.total), n)),
              "spikes_I_i": rng.integers(0, p.i_side**2, n // 4).astype(np.int32),
              "spikes_I_t": np.sort(rng.uniform(0, float(p.total), n // 4))}
    if p.phi == "voltage":
        arrays["state_E_v"] = rng.uniform(-0.08, -0.05, (p.voltage_frames, p.e_side**2))
    return arrays


def _json(record) -> str:
    return json.dumps(record, sort_keys=True, default=lambda x: np.asarray(x).tolist())


@pytest.mark.parametrize("preset", ["tuned", "voltage"])
def test_cmsa_phi_is_reduce_point_on_the_builders_names(preset):
    """With the CMSA command's settings in the options, the adapter gives what
    ``reduce_point`` gives on the command's array names: the same members, dtypes and
    record (timings aside)."""
    p = PRESETS[preset]
    arrays = _synthetic_arrays(p, np.random.default_rng(1))
    settings = PointSettings.of(p)
    assert reductions.resolve("cmsa_phi") is cmsa_phi
    saved, record = cmsa_phi(arrays, _context(p, settings.as_dict()))
    inner = {"e_i": arrays["spikes_E_i"], "e_t": arrays["spikes_E_t"],
             "i_i": arrays["spikes_I_i"], "i_t": arrays["spikes_I_t"]}
    if p.phi == "voltage":
        inner["v"] = arrays["state_E_v"]
    saved_ref, record_ref = reduce_point(inner, {"settings": settings,
                                                 "provenance": [{"name": "lif", "version": 2}]})
    assert set(saved) == set(saved_ref) == {"e_i", "e_t", "i_i", "i_t", "frames"}
    for name in saved:
        assert saved[name].dtype == saved_ref[name].dtype
        assert np.array_equal(saved[name], saved_ref[name]), name
    record.pop("timings"), record_ref.pop("timings")
    statistics = record.pop("statistics")
    assert _json(record) == _json(record_ref)
    # plus the numbers as per-population statistics (the sweep's table and heat maps)
    assert statistics == {"E": {"phi": record_ref["phi"]["phi"],
                                "patterns": record_ref["phi"]["mean_patterns"],
                                "rate": record_ref["rate_e_hz"]},
                          "I": {"rate": record_ref["rate_i_hz"]}}
    assert record_ref["phi"]["pairs"] > 0
    # without the command's settings: from the context (the voltage Phi from the array)
    saved, record = cmsa_phi(arrays, _context(p))
    assert record["phi_variant"] == p.phi
    assert record["phi"]["phi"] == pytest.approx(record_ref["phi"]["phi"], rel=1e-9)


def test_silence_has_no_phi_in_the_statistics():
    """A sheet with no pattern in two consecutive frames has Phi undefined (None, a blank
    heat-map cell) in the statistics, not 0 (the bump state's value); its record keeps
    the CMSA command's Phi = 0 and the rates stay numbers."""
    p = PRESETS["tuned"]
    arrays = _synthetic_arrays(p, np.random.default_rng(1))
    silent = {name: (value[:0] if name.startswith("spikes_") else value)
              for name, value in arrays.items()}
    _, record = cmsa_phi(silent, _context(p, PointSettings.of(p).as_dict()))
    assert record["phi"]["pairs"] == 0 and record["phi"]["phi"] == 0.0
    assert record["statistics"] == {"E": {"phi": None, "patterns": 0.0, "rate": 0.0},
                                    "I": {"rate": 0.0}}


@pytest.mark.slow
@pytest.mark.skipif(not cxx_compiler_works(), reason="needs a C++ compiler")
def test_sheet_file_on_cpp_standalone_gives_the_runtime_sheet(tmp_path):
    """One build: ``cmsa_sheet@2`` for the voltage Phi on ``cpp_standalone`` (its state
    monitor recording only its window, as a compiled point does) against
    ``build_ei_sheet`` on the runtime device (no random draws at run time: the hash drive):
    the same spikes, bit for bit."""
    p = PRESETS["voltage"]
    reference = _reference(p)
    net = with_structure(load_network("cmsa_sheet@2"), *sheet_structure(p))
    with build_network(net, device="cpp_standalone", drive_seed=p.seed, name="cmsa",
                       device_options={"directory": tmp_path / "build"},
                       **sheet_values(p)) as built:
        built.run()
        ours = {"e_i": built.spikes("E")[0], "e_t": built.spikes("E")[1],
                "i_i": built.spikes("I")[0], "i_t": built.spikes("I")[1]}
        ours = {k: np.array(v) for k, v in ours.items()}
        mon = built.monitors["state"][0]
        t_v, v = np.array(mon.t[:]), np.array(mon.v[:])
    for name in ("e_i", "e_t", "i_i", "i_t"):
        assert np.array_equal(reference[name], ours[name]), name
    steps = (reference["t_v"] >= float(p.stimulus_onset - p.voltage_frames * p.dt) - 1e-12) \
        & (reference["t_v"] < float(p.stimulus_onset) - 1e-12)
    assert len(t_v) == p.voltage_frames and np.array_equal(reference["t_v"][steps], t_v)
    # the voltages agree to rounding only: numpy's and the C++ library's exp() differ in
    # the last bits (bit-identical v on one device: the runtime tests above)
    np.testing.assert_allclose(v, reference["v"][:, steps], rtol=1e-9, atol=0)
