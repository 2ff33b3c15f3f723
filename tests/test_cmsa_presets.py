"""Presets (the lab report's and the course's configurations), the connection rule on the
command line, the lab report's voltage Phi, and the CMSA figures."""

import json

import numpy as np
import pytest
from brian2 import ms, nA, uS

from benchmarks.flood_fill_baseline import flood_fill_centres
from brianlab.cmsa import CMSAParams
from brianlab.cmsa.__main__ import main
from brianlab.cmsa.protocol import VOLTAGE_PHI, frame_times, state_name, voltage_phi
from test_cmsa import SMALL



def test_presets_carry_the_documents_values():
    lab = CMSAParams.preset("lab-report")
    assert (lab.s_c_e, lab.s_c_i) == (200.0, 200.0)
    assert lab.we == 0.028 * uS and lab.wi == 0.013 * uS and lab.dt == 0.5 * ms
    assert lab.drive_duration == 50 * ms and lab.drive == 5 * nA
    assert lab.duration == 300 * ms and lab.stimulus_amplitude == 5 * nA
    assert lab.sigma_e == pytest.approx(10.0) and lab.sigma_i == pytest.approx(20.0)
    course = CMSAParams.preset("course", rp=6.5 * ms)
    assert (course.s_c_e, course.s_c_i, course.rp) == (18.0, 400.0, 6.5 * ms)
    assert course.drive_duration == 30 * ms and course.duration == 200 * ms
    assert CMSAParams.preset("tuned") == CMSAParams()
    with pytest.raises(ValueError, match="unknown preset 'lab'"):
        CMSAParams.preset("lab")
    with pytest.raises(ValueError, match="phi must be one of spikes, voltage"):
        CMSAParams(phi="voltages")
    with pytest.raises(ValueError, match="voltage_frames"):
        CMSAParams(phi="voltage", voltage_frames=10_000)


def test_synapse_counts_per_rule_match_a_built_sheet():
    """The memory estimate counts the synapses each rule makes (kernel: every source
    within the Gaussian's cutoff; probability: the kernel sum), within 10 % of a sheet."""
    from brian2 import set_device

    from brianlab.cmsa.protocol import build_network

    set_device("runtime")
    for rule in ("kernel", "probability"):
        p = CMSAParams(e_side=40, i_side=20, k_e=100, k_i=150, rule=rule)
        sheet, _ = build_network(p, name=f"count_{rule}")
        built = sum(sheet.n_synapses.values())
        assert p.n_synapses == pytest.approx(built, rel=0.1), rule


def test_frame_times_and_state_names():
    p = CMSAParams()
    t = frame_times(p)
    assert len(t) == 100 and t[-1] == pytest.approx(430.0) and t[0] == pytest.approx(331.0)
    v = frame_times(CMSAParams.preset("lab-report", phi="voltage"))
    assert len(v) == 100 and v[-1] == pytest.approx(349.5) and np.diff(v) == pytest.approx(0.5)
    assert state_name({"phi": 0.1, "mean_patterns": 2.0}) == "bump"
    assert state_name({"phi": 0.9, "mean_patterns": 2.0}) == "wave"
    assert state_name({"phi": 0.5, "mean_patterns": 2.0}) == "mixed"
    assert state_name({"phi": 0.0, "mean_patterns": 0.0}) == "no patterns"


def _document_phi(frames, low, high, max_distance, margin):
    """The lab report's calcu_Phi, written from its description: flood-fill centres, each
    last centre paired with the nearest unused current one if within ``max_distance``
    and the second nearest at least ``margin`` farther; Phi = |sum v| / sum |v| per frame
    pair, averaged over pairs of frames with a match (0 when none moved)."""
    side = frames.shape[1]

    def wrap(d):
        return (d + side / 2) % side - side / 2

    phis = []
    last = flood_fill_centres(frames[0], low, high)
    for frame in frames[1:]:
        current = flood_fill_centres(frame, low, high)
        used, velocities = set(), []
        for a in last:
            options = sorted((float(np.hypot(*wrap(np.subtract(b, a)))), k)
                             for k, b in enumerate(current) if k not in used)
            if not options:
                continue
            best, k = options[0]
            second = options[1][0] if len(options) > 1 else np.inf
            if best <= max_distance and second - best >= margin:
                used.add(k)
                velocities.append(wrap(np.subtract(current[k], a)))
        if velocities:
            v = np.array(velocities)
            norm = np.linalg.norm(v, axis=1).sum()
            phis.append(np.linalg.norm(v.sum(axis=0)) / norm if norm > 0 else 0.0)
        last = current
    return float(np.mean(phis)) if phis else 0.0


def test_voltage_phi_is_the_documents_algorithm():
    """brianlab's voltage Phi against the document's algorithm written out pixel by pixel
    (benchmarks.flood_fill_baseline), on synthetic voltage frames: two moving blobs and a
    resting one on an inhibited background (-78 mV, below the -74 mV of a pattern, as
    the broad inhibition holds the active sheet): equal to 1e-9."""
    side, n = 40, 12
    y, x = np.mgrid[:side, :side]
    frames = np.full((n, side, side), -78.0)
    for t in range(n):
        for (cy, cx, vy, vx) in ((10, 5, 0.0, 1.5), (30, 30, 0.0, 0.0), (20, 35, 1.0, 0.5)):
            d2 = (((y - cy - vy * t) + side / 2) % side - side / 2) ** 2 + \
                (((x - cx - vx * t) + side / 2) % side - side / 2) ** 2
            frames[t] = np.maximum(frames[t], -78 + 28 * np.exp(-d2 / 8))
    p = CMSAParams(e_side=side, i_side=side // 2, phi="voltage", voltage_frames=n)
    ours = voltage_phi(p, frames).phi
    v = VOLTAGE_PHI
    reference = _document_phi(frames, v["low"], v["high"], v["max_distance"], v["margin"])
    assert 0.3 < reference < 1.0
    assert ours == pytest.approx(reference, abs=1e-9)


def test_cli_preset_rule_phi_and_readable_figures(tmp_path, capsys):
    """``--preset lab-report --phi voltage --rule probability`` on a small sheet: the
    summary records the preset's values, the rule and both Phi values; the snapshot
    names the state detected; a sheet narrower than the inhibitory kernel is warned of."""
    out = tmp_path / "run"
    assert main(["run", "--rp", "10", "--preset", "lab-report", "--phi", "voltage", "--rule",
                 "probability", *SMALL, "--duration", "60", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    from brian2 import defaultclock
    assert defaultclock.dt == 0.1 * ms  # the preset's 0.5 ms did not leak into Brian2
    assert "inhibitory kernel" in captured.err and "larger --size" in captured.err
    summary = json.loads((out / "summary.json").read_text())
    params = summary["params"]
    assert params["we"] == "28. nS" and params["dt"] == "0.5 ms" and params["s_c_e"] == 200.0
    assert params["rule"] == "probability" and params["phi"] == "voltage"
    (point,) = summary["points"].values()
    assert point["phi_variant"] == "voltage" and point["phi_spikes"] is not None
    assert point["frames_label"] == "E membrane potential (mV)"
    data = np.load(next((out / "points").glob("*.npz")))
    assert data["frames"].shape == (100, 40, 40) and data["frames"].max() < -40
    assert "voltage Phi" in captured.out
    assert (out / "snapshots.png").stat().st_size > 5000


def test_gif_frames_carry_their_time(tmp_path):
    """``sheet_animation(times=...)``: one GIF frame per sheet frame, and two frames with
    the same data but other times differ (the time is drawn on each)."""
    from PIL import Image

    from brianlab.plot import sheet_animation

    frames = np.zeros((3, 20, 20))
    frames[:, 5:8, 5:8] = 1.0
    path = sheet_animation(frames, tmp_path / "a.gif", times=["1 ms", "2 ms", "30 ms"],
                           label="spikes")
    with Image.open(path) as gif:
        assert gif.n_frames == 3
        pictures = []
        for k in range(3):
            gif.seek(k)
            pictures.append(np.asarray(gif.convert("L"), dtype=int))
    assert np.abs(pictures[0] - pictures[1]).sum() > 0
