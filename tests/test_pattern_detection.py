"""Afferents with a hidden repeating pattern, and the STDP detector network."""

import numpy as np
import pytest
from brian2 import ms, second

from brianlab.inputs import pattern_input, varying_rate_spikes
from brianlab.networks import build_pattern_detector


def test_varying_rates_stay_in_range_with_a_maximum_gap():
    spikes = varying_rate_spikes(300, 5000, np.random.default_rng(0))
    # mean rate: the walk is clipped to [0, 90] Hz and starts at 54 Hz; the forced
    # spikes add a little (Masquelier et al. 2008 report 64 Hz with noise)
    rate = spikes.mean() / 1e-3
    assert 35 < rate < 65
    # no afferent is silent for 50 steps
    run = np.zeros(300, int)
    longest = np.zeros(300, int)
    for column in spikes.T:
        run = np.where(column, 0, run + 1)
        longest = np.maximum(longest, run)
    assert longest.max() < 50


def test_pattern_input_repeats_the_pattern_in_the_pattern_afferents():
    p = pattern_input(200, 4.0, seed=3, noise_rate=0.0)
    assert p.duration == pytest.approx(4.0) and len(p.onsets) == 20     # a quarter of 80
    assert np.all(np.diff(p.onsets) > p.segment + 1e-9)                 # never adjacent
    assert p.pattern_afferents.sum() == 100
    steps = np.round(p.times / 1e-3).astype(int)
    dense = np.zeros((200, 4000), bool)
    dense[p.indices, steps] = True
    cuts = [dense[:, int(round(o / 1e-3)):int(round(o / 1e-3)) + 50] for o in p.onsets]
    for cut in cuts[1:]:  # identical in the pattern afferents, not in the others
        assert np.array_equal(cut[p.pattern_afferents], cuts[0][p.pattern_afferents])
        assert not np.array_equal(cut[~p.pattern_afferents], cuts[0][~p.pattern_afferents])
    assert p.in_pattern(p.onsets + 0.01).all() and not p.in_pattern(p.onsets - 0.001).any()
    assert np.all(np.diff(p.times) >= 0)
    again = pattern_input(200, 4.0, seed=3, noise_rate=0.0)
    assert np.array_equal(again.indices, p.indices)


def test_pattern_input_adds_noise_and_rejects_bad_values():
    quiet = pattern_input(300, 2.0, seed=1, noise_rate=0.0)
    noisy = pattern_input(300, 2.0, seed=1, noise_rate=10.0)
    extra = (len(noisy.times) - len(quiet.times)) / (300 * 2.0)
    assert 6 < extra < 10   # 10 Hz, less the steps that already held a spike
    with pytest.raises(ValueError, match="fewer than 4 segments"):
        pattern_input(10, 0.1)
    with pytest.raises(ValueError, match="presentation_fraction"):
        pattern_input(10, 1.0, presentation_fraction=0.6)


def test_detector_drives_one_neuron_per_rule_from_the_same_afferents():
    from brian2 import prefs

    old, prefs.codegen.target = prefs.codegen.target, "numpy"
    try:
        p = pattern_input(100, 0.4, seed=0)
        det = build_pattern_detector(p, weight_dt=100 * ms, neuron_params={"I_max_alpha": "0 pA"})
        det.network.run(p.duration * second)
    finally:
        prefs.codegen.target = old
    weights = det.final_weights()
    assert set(weights) == {"stdp_nearest", "stdp_pair", "stdp_triplet"}
    # the neurons never fire (no current), so only pre-spike depression could act, and
    # with no post spike there is none: every weight stays at its initial value
    for w in weights.values():
        assert w.shape == (100,) and np.allclose(w, 0.475)
    assert all(len(t) == 0 for t in det.spike_times().values())
    assert det.weights["stdp_pair"].w.shape == (100, 4)


def test_selectivity_scores_known_spike_times():
    from brianlab.networks import selectivity

    p = pattern_input(50, 4.0, seed=3, noise_rate=0.0)   # 20 presentations of 50 ms
    on = p.onsets
    # a spike 5 ms into every other presentation, plus three spikes outside any pattern
    hits = on[::2] + 0.005
    outside = np.array([on[0] - 0.01, on[1] - 0.01, on[2] - 0.01])
    score = selectivity(np.r_[outside, hits], p)
    assert score["hits"] == pytest.approx(0.5)
    assert score["false_alarms_hz"] == pytest.approx(3 / p.duration)
    lat = score["latencies_ms"]
    np.testing.assert_allclose(lat[::2], 5.0, atol=1e-9)
    assert np.isnan(lat[1::2]).all()
    # a window: only the presentations that start and end inside it are scored
    part = selectivity(hits, p, t_start=on[10], t_stop=p.duration)
    assert len(part["onsets"]) == 10 and part["hits"] == pytest.approx(0.5)
    empty = selectivity([], p)
    assert empty["hits"] == 0 and empty["false_alarms_hz"] == 0
