"""Every tutorial runs in quick mode and its key numbers are what they should be."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
TUTORIALS = ROOT / "tutorials"


@pytest.fixture(scope="module")
def run_tutorial(tmp_path_factory):
    cache = {}

    def run(name):
        if name not in cache:
            out = tmp_path_factory.mktemp("tutorials")
            env = dict(os.environ, BRIANLAB_QUICK="1", BRIANLAB_OUT=str(out), MPLBACKEND="Agg")
            proc = subprocess.run([sys.executable, str(TUTORIALS / f"{name}.py")], cwd=out,
                                  env=env, capture_output=True, text=True, timeout=600)
            assert proc.returncode == 0, proc.stderr[-3000:]
            numbers = json.loads((out / name / "numbers.json").read_text())
            cache[name] = (numbers, out / name, proc.stdout)
        return cache[name]

    return run


def test_01_intro_neurons(run_tutorial):
    numbers, folder, stdout = run_tutorial("01_intro_neurons")
    assert numbers["units_error"] == "DimensionMismatchError"
    assert numbers["model_error_where"] == "equations: dv/dt"
    assert numbers["max_error_vs_analytic"] < 1e-12          # exact integration
    assert numbers["spike_times_ms"] == [16.0, 32.1, 48.2]     # as in the Brian2 tutorial
    # held at reset for 5 ms, then the same 16 ms climb: 16 + 5 + 16
    assert numbers["spike_times_refractory_ms"] == [16.0, 37.0]
    # without (unless refractory) v keeps rising, so it fires as soon as 15 ms have passed
    first = numbers["spike_times_without_unless_ms"][0]
    assert numbers["spike_times_without_unless_ms"] == [first, first + 15, first + 30]
    assert first == pytest.approx(5 * 1.6094, abs=0.1)         # tau ln 5 with tau = 5 ms
    # from rand() to 1 with drive 2: tau ln 2 = 6.9 ms per spike, 100 neurons, 50 ms
    assert 650 <= numbers["many_neurons_spikes"] <= 760
    assert numbers["fI_max_relative_error_above_1.1"] < 0.03
    assert numbers["fI_rate_at_v0_3_hz"] == pytest.approx(1 / (0.005 + 0.01 * 0.405465), rel=0.02)
    assert numbers["noisy_neurons_firing_below_v0_1"] > 0
    assert numbers["lif_rheobase_nA"] == pytest.approx(0.2)
    assert numbers["lif_fI_max_relative_error_above_1.1_rheobase"] < 0.03
    assert numbers["lif_model"] == "lif@1"
    for figure in ("analytic.png", "raster.png", "f_I.png", "lif_f_I.png"):
        assert (folder / figure).stat().st_size > 1000
    assert "spike_times_ms: [16.0, 32.1, 48.2]" in stdout


def test_04_hodgkin_huxley(run_tutorial):
    numbers, folder, stdout = run_tutorial("04_hodgkin_huxley")
    # the action potential (first spike as in the solve_ivp reference of test_neuron_models)
    assert numbers["first_spike_ms"] == pytest.approx(1.90, abs=0.1)
    assert 30 < numbers["peak_mV"] < 50 and -78 < numbers["undershoot_mV"] < -70
    # the source document's voltage-clamp table
    assert numbers["exercise_gK_inf"] == [0.24, 0.43, 0.52, 0.56]
    assert numbers["exercise_n_inf"] == [0.23, 0.27, 0.28, 0.29]
    # the clamped model: v held, n at n_inf of the written-out 1952 rate functions
    assert numbers["clamp_drift_mV"] < 1e-3
    np.testing.assert_allclose(numbers["clamp_n_inf_model"], numbers["clamp_n_inf_analytic"],
                               atol=1e-3)
    # type II: silent below onset, then an abrupt jump to tens of Hz, rising with current
    assert 0.5 <= numbers["fI_onset_current_nA"] <= 0.9
    assert numbers["fI_rate_at_onset_hz"] > 40
    assert numbers["fI_silent_below_onset"] and numbers["fI_monotonic_above_onset"]
    assert numbers["fI_rate_at_2nA_hz"] > numbers["fI_rate_at_onset_hz"]
    assert 0.5 <= numbers["pulse_threshold_nA"] <= 1.5
    assert numbers["pulse_all_above_threshold_spike"] and numbers["pulse_spikes_max"] == 1
    for figure in ("action_potential.png", "voltage_clamp.png", "f_I.png"):
        assert (folder / figure).stat().st_size > 1000


def test_05_rate_models(run_tutorial):
    numbers, folder, _ = run_tutorial("05_rate_models")
    assert numbers["F_at_0"] == pytest.approx(0.0, abs=1e-15)
    assert numbers["w0_max_error"] < 5e-4  # Euler at dt = 0.01 ms, tau = 1 ms
    # the source tutorial's numbers (Neuromatch W2D4 tutorial 1)
    assert numbers["fixed_points"] == [0.042, 0.447, 0.9]
    assert numbers["eigenvalues_per_ms"] == [-0.583, 0.498, -0.626]
    assert numbers["stability"] == ["stable", "unstable", "stable"]
    assert numbers["noise_switches"] >= 2  # noise carries r across the unstable point
    assert 0.05 < numbers["noise_time_high_fraction"] < 0.95
    (zero, middle, high) = numbers["wc_fixed_points"]
    assert zero == pytest.approx([0, 0], abs=1e-6) and high[0] > 0.9
    assert numbers["wc_stability"] == ["stable", "saddle", "stable"]
    for figure in ("f_I.png", "drdt.png", "noise_switches.png", "phase_plane.png"):
        assert (folder / figure).stat().st_size > 1000


def test_06_continuous_attractor(run_tutorial):
    numbers, folder, stdout = run_tutorial("06_continuous_attractor")
    assert numbers["J_max"] == pytest.approx(numbers["J_max_analytic"], rel=1e-3)
    # the analytic stationary bump (Wu et al. 2008): height and widths within 1 %
    assert numbers["bump_height"] == pytest.approx(numbers["bump_height_analytic"], rel=0.01)
    assert numbers["bump_width_u"] == pytest.approx(numbers["bump_width_u_analytic"], rel=0.01)
    assert numbers["bump_width_r"] == pytest.approx(numbers["bump_width_r_analytic"], rel=0.01)
    assert numbers["bump_decoded_position"] == pytest.approx(0.5, abs=0.01)
    # smooth tracking: decoding error below 0.05 rad (a small lag behind the input)
    assert numbers["tracking_mean_abs_error_rad"] < 0.05
    assert 0 < numbers["tracking_lag_rad"] < 0.05
    # adaptation shortens the lag (towards anticipative tracking) and makes bumps travel
    assert numbers["tracking_lag_with_adaptation_rad"] < numbers["tracking_lag_rad"]
    # the steady speed, as canns measures it (tests/test_cross_canns.py)
    assert numbers["travelling_speed_rad_per_ms"] == pytest.approx(0.0216, abs=2e-4)
    assert numbers["torus_decoded"] == pytest.approx([1.0, -2.0], abs=0.02)
    assert "resolution_conflict" not in stdout
    for figure in ("connection_profile.png", "tracking.png"):
        assert (folder / figure).stat().st_size > 1000


def test_07_hebbian_memory(run_tutorial):
    numbers, folder, _ = run_tutorial("07_hebbian_memory")
    f, g = np.array([0, 0, 0, 1, 1, 1]), np.array([1, 1, 0, 1, 0, 0])
    assert numbers["A"] == np.outer(g, f).tolist()            # the source document's answer
    assert numbers["G"] == [3, 3, 0, 3, 0, 0]                   # G = (f . f) g = 3 g
    assert numbers["G_over_g"] == [numbers["f_dot_f"]] == [3]
    assert numbers["orthogonal_recall_cosine"] == [1.0, 1.0, 1.0]
    # overlapping f: G_0 = 2 g_0 + 1 g_1, cosine with g_0 = 4 / sqrt(20)
    assert numbers["overlapping_recalled"][0] == [2, 1, 0, 2, 1, 0]
    assert numbers["overlapping_recall_cosine"][0] == pytest.approx(4 / np.sqrt(20), abs=1e-4)
    errors = numbers["capacity_bit_error"]
    assert errors[0] == 0.0 and errors[-1] > 0.02                # cross-talk grows with load
    assert all(b >= a for a, b in zip(errors, errors[1:]))
    assert (folder / "capacity.png").exists() and (folder / "recall.png").exists()


def test_analytic_lif_rate_with_reset_and_refractoriness():
    import numpy as np

    from brianlab.analysis.spikes import lif_rate

    # tau = 20 ms, v_inf = -70 + 30 = -40 mV; from reset -60 to threshold -50 mV
    rate = lif_rate([1.5e-9, 0.5e-9], C=1e-9, g_L=5e-8, E_L=-0.07, V_th=-0.05, V_reset=-0.06,
                    t_ref=0.002)
    assert rate[0] == pytest.approx(1 / (0.002 + 0.02 * np.log(20 / 10)))
    assert rate[1] == 0.0


def test_tutorials_open_as_notebooks():
    jupytext = pytest.importorskip("jupytext")
    for path in sorted(TUTORIALS.glob("[0-9][0-9]_*.py")):
        notebook = jupytext.read(path)
        kinds = {cell.cell_type for cell in notebook.cells}
        assert kinds == {"markdown", "code"}, path.name
        assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(p.stem for p in TUTORIALS.glob("[0-9][0-9]_*.py")))
def test_tutorial_runs_as_a_notebook_with_inline_figures(name, tmp_path, monkeypatch):
    """Each tutorial executed as a Jupyter notebook (jupytext -> nbclient, quick mode): no
    cell fails (a notebook has no __file__, and the inline backend must not be replaced by
    Agg) and figures appear inline, as PNG outputs, besides the files saved as before."""
    jupytext = pytest.importorskip("jupytext")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("BRIANLAB_QUICK", "1")
    monkeypatch.setenv("BRIANLAB_OUT", str(tmp_path))
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel chooses its inline backend
    notebook = jupytext.read(TUTORIALS / f"{name}.py")
    nbclient.NotebookClient(notebook, timeout=900, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    images = [output for cell in notebook.cells if cell.cell_type == "code"
              for output in cell.get("outputs", []) if "image/png" in output.get("data", {})]
    assert len(images) >= 1
    assert (tmp_path / name / "numbers.json").is_file()
    assert list((tmp_path / name).glob("*.png"))


def test_02_intro_synapses(run_tutorial):
    numbers, folder, _ = run_tutorial("02_intro_synapses")
    # neuron 0 fires every tau ln 2 = 6.93 ms: 7 spikes in 50 ms, each a jump of 0.2
    assert numbers["simplest_jumps"] == 7
    assert numbers["simplest_jump_size"] == pytest.approx(0.2, abs=1e-3)
    assert numbers["first_spike_ms"] == 7.0
    assert numbers["weights_first_jump"] == [0.2, 0.4, 0.6]       # w = 0.2 j
    assert numbers["arrival_after_spike_ms"] == [2.0, 4.0, 6.0]   # delay = 2 j ms
    # p = 0.2 over 90 pairs: 18 expected; binomial sd 3.8 (seeded: 16)
    assert 10 <= numbers["random_synapses"] <= 26
    assert numbers["random_self_connections"] == 0 and numbers["one_to_one_synapses"] == 10
    # 400 neurons x ~24 synapses each: sd of the mean ~0.25 (Poisson binomial)
    assert numbers["distance_mean_per_neuron"] == pytest.approx(
        numbers["distance_expected_per_neuron"], abs=1.0)
    assert numbers["distance_rms"] == pytest.approx(numbers["distance_rms_expected"], rel=0.05)
    assert numbers["fixed_indegree_per_target"] == [25]
    assert numbers["fixed_indegree_mean_distance"] == pytest.approx(
        numbers["fixed_indegree_mean_distance_expected"], rel=0.05)
    # the STDP window of stdp_pair@1: A_plus exp(-10/20) and -A_minus exp(-10/20)
    assert numbers["stdp_max_relative_error"] < 1e-6
    assert numbers["stdp_change_at_plus_10ms"] == pytest.approx(0.005 * np.exp(-0.5), abs=1e-6)
    assert numbers["stdp_change_at_minus_10ms"] == pytest.approx(-0.00525 * np.exp(-0.5),
                                                                 abs=1e-6)
    for figure in ("simplest.png", "weights_delays.png", "distance.png", "stdp_window.png"):
        assert (folder / figure).stat().st_size > 1000


def test_03_intro_simulations(run_tutorial):
    numbers, folder, _ = run_tutorial("03_intro_simulations")
    rates = numbers["rates_vs_tau_hz"]
    assert all(b > a for a, b in zip(rates, rates[1:]))          # longer tau, more output
    assert rates[0] < 10 and rates[-1] > 50
    # switched on at 20 ms: tau ln 2 = 6.93 ms per spike (Euler: 6.8-6.9 ms), none after off
    assert numbers["step_first_latency_ms"] == pytest.approx(10 * np.log(2), abs=0.2)
    assert numbers["step_spikes_after_off"] == 0 and len(numbers["step_spike_times_ms"]) == 4
    assert numbers["timed_equals_stepped"]
    # lif@1 at 0.5 nA from 20 ms: v_inf = -20 mV, tau 20 ms -> 20 ln(50/30) = 10.2 ms
    first = numbers["runtime_spike_times_ms"][0]
    assert first - 20 == pytest.approx(20 * np.log(50 / 30), abs=0.2)
    assert numbers["runtime_spike_counts"][0] > numbers["runtime_spike_counts"][-1]
    if numbers.get("standalone_runs") is not None:
        assert numbers["standalone_builds"] == 1 and numbers["standalone_runs"] == 3
        assert numbers["standalone_equals_runtime"]
    for figure in ("rate_vs_tau.png", "changing_input.png", "refractory_runs.png"):
        assert (folder / figure).stat().st_size > 1000


@pytest.mark.slow
def test_09_cmsa(run_tutorial):
    numbers, folder, _ = run_tutorial("09_cmsa")
    assert numbers["seeds"] == [2]
    # bumps stay put, waves travel together (seed 2 of the default sheet)
    assert numbers["phi_bump"][0] < 0.35
    assert numbers["phi_wave"][0] > 0.5
    assert 0 < numbers["rate_e_wave_hz"] < 50
    assert numbers["cross_area_share"] == pytest.approx(0.091, abs=0.005)
    # the cross gathers activity in the critical state: peak share >= 3x its area
    assert numbers["attention_critical_peak"] >= 3.0
    assert numbers["attention_critical_after"] > numbers["attention_critical_before"]
    for figure in ("states.png", "wave_raster.png", "attention.png"):
        assert (folder / figure).stat().st_size > 1000


@pytest.mark.slow
def test_08_stdp_pattern_detection(run_tutorial):
    numbers, folder, _ = run_tutorial("08_stdp_pattern_detection")
    # the input: ~64 Hz per afferent (Masquelier et al. 2008), the same inside the pattern
    assert numbers["mean_input_rate_hz"] == pytest.approx(64, abs=3)
    assert numbers["input_rate_in_pattern_hz"] == pytest.approx(
        numbers["input_rate_outside_hz"], rel=0.05)
    assert numbers["presentations"] == 150 and numbers["pattern_afferents"] == 1000
    # the nearest-spike neuron finds the pattern: pattern afferents end with more than
    # twice the mean weight of the others, it fires in (nearly) every presentation of
    # the last fifth and (almost) never outside, and fires earlier as it learns
    assert numbers["stdp_nearest_w_pattern"] > 2 * numbers["stdp_nearest_w_other"]
    assert numbers["stdp_nearest_hits"] >= 0.9
    assert numbers["stdp_nearest_false_alarms_hz"] < 1.0
    assert numbers["nearest_selective_from_s"] is not None
    assert numbers["nearest_false_alarms_hz_by_tenth"][0] > 10   # not selective at first
    assert numbers["nearest_latency_last_ms"] < numbers["nearest_latency_first_ms"]
    # the all-to-all rules stay far less selective on the same input
    for rule in ("stdp_pair", "stdp_triplet"):
        assert numbers[f"{rule}_false_alarms_hz"] > 5
        assert numbers[f"{rule}_w_pattern"] < 2 * numbers[f"{rule}_w_other"]
    for figure in ("input_raster.png", "learning.png"):
        assert (folder / figure).stat().st_size > 1000
