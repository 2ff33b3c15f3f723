"""Pattern detection, tracking and Phi on synthetic frames with known answers."""

import numpy as np
import pytest

from benchmarks.flood_fill_baseline import flood_fill_centres
from brianlab.analysis import (find_patterns, order_parameter, pattern_centres,
                               spike_count_frames, track)

SIDE = 100
REST, LOW, HIGH = -70.0, -65.0, -55.0


def blobs(centres, side=SIDE, width=2.5, amplitude=20.0):
    """A frame (mV) with Gaussian blobs at the given (row, col) centres on a torus."""
    grid = np.indices((side, side)).astype(float)
    frame = np.full((side, side), REST)
    for r, c in centres:
        dr = (grid[0] - r + side / 2) % side - side / 2
        dc = (grid[1] - c + side / 2) % side - side / 2
        frame = np.maximum(frame, REST + amplitude * np.exp(-(dr**2 + dc**2) / (2 * width**2)))
    return frame


def movie(starts, velocities, frames=20, side=SIDE):
    starts, velocities = np.asarray(starts, float), np.asarray(velocities, float)
    return np.array([blobs(starts + t * velocities, side) for t in range(frames)])


def sorted_rows(a):
    a = np.asarray(a)
    return a[np.lexsort(a.T[::-1])]


def test_centres_of_separate_blobs():
    true = [(20.0, 30.0), (70.3, 60.7), (50.0, 10.5)]
    found = pattern_centres(blobs(true), LOW, HIGH)
    np.testing.assert_allclose(sorted_rows(found), sorted_rows(true), atol=0.1)


def test_a_blob_across_the_corner_is_one_pattern_with_a_wrapped_centre():
    labels, n = find_patterns(blobs([(0.0, 99.5)]), LOW, HIGH)
    assert n == 1
    assert labels[0, 0] == labels[99, 99] == labels[1, 98] == 1
    centre = pattern_centres(blobs([(0.0, 99.5)]), LOW, HIGH)[0]
    assert min(centre[0], SIDE - centre[0]) < 0.1 and abs(centre[1] - 99.5) < 0.1


def test_regions_without_a_strong_pixel_are_not_patterns():
    frame = blobs([(20, 20)])
    frame[60:64, 60:64] = -60.0  # above low, never above high
    _, n = find_patterns(frame, LOW, HIGH)
    assert n == 1
    _, n_all = find_patterns(frame, LOW, LOW)
    assert n_all == 2


def test_thresholds_below_rest_make_everything_one_pattern():
    """The trap of the source document's -74 / -55 mV thresholds with rest at -70 mV."""
    _, n = find_patterns(blobs([(20, 20), (70, 70)]), -74.0, -55.0)
    assert n == 1


def test_same_as_the_pixel_by_pixel_flood_fill():
    rng = np.random.default_rng(2)
    frame = blobs(rng.uniform(0, SIDE, (12, 2)), width=2.0)
    ours = pattern_centres(frame, LOW, HIGH, weighted=False)
    baseline = flood_fill_centres(frame, LOW, HIGH)
    assert len(ours) == len(baseline)
    # same regions; circular and arithmetic means of a compact region differ by < 0.001 px
    np.testing.assert_allclose(sorted_rows(ours), sorted_rows(baseline), atol=1e-3)


def test_blobs_moving_together_give_phi_one():
    frames = movie([(10, 10), (50, 40), (80, 75)], [(1.0, 0.5)] * 3)
    result = order_parameter(frames, LOW, HIGH)
    assert result.phi == pytest.approx(1.0, abs=1e-3)
    assert result.pairs == 3 * 19
    assert result.mean_speed == pytest.approx(np.hypot(1.0, 0.5), rel=0.02)
    np.testing.assert_array_equal(result.patterns, 3)


def test_blobs_moving_apart_give_phi_zero():
    frames = movie([(25, 20), (75, 70)], [(0.0, 1.2), (0.0, -1.2)])
    assert order_parameter(frames, LOW, HIGH).phi == pytest.approx(0.0, abs=0.02)


def test_random_directions_give_small_phi():
    rng = np.random.default_rng(4)
    angles = rng.uniform(0, 2 * np.pi, 8)
    starts = np.column_stack([np.arange(8) * 12.0 + 5, rng.uniform(0, SIDE, 8)])
    frames = movie(starts, np.column_stack([np.sin(angles), np.cos(angles)]), frames=8)
    result = order_parameter(frames, LOW, HIGH)
    assert result.phi < 0.6
    # the analytic value for these 8 unit vectors
    expected = np.hypot(np.sin(angles).sum(), np.cos(angles).sum()) / 8
    assert result.phi == pytest.approx(expected, abs=0.05)


def test_a_blob_crossing_the_edges_keeps_its_speed():
    frames = movie([(97.0, 98.0)], [(1.5, 1.0)], frames=10)
    result = order_parameter(frames, LOW, HIGH)
    assert result.pairs == 9 and result.phi == pytest.approx(1.0)
    assert result.mean_speed == pytest.approx(np.hypot(1.5, 1.0), rel=0.02)


def test_splitting_and_merging_drop_ambiguous_matches():
    # one blob splits in two that move apart; later two blobs merge
    split = [blobs([(50, 50 - s), (50, 50 + s)]) for s in np.arange(0, 10, 1.0)]
    result = order_parameter(np.array(split), LOW, HIGH)
    assert result.patterns[0] == 1 and result.patterns[-1] == 2
    # while there are two halves they move apart: Phi = 0; the frame pair of the split
    # itself tracks one pattern only (Phi = 1 for a single displacement)
    two = result.patterns[1:] == 2
    np.testing.assert_allclose(result.series[two & (result.patterns[:-1] == 2)], 0.0, atol=0.05)
    assert result.phi < 0.2
    merge = order_parameter(np.array(split[::-1]), LOW, HIGH)
    assert merge.phi < 0.2 and merge.patterns[-1] == 1
    # an ambiguous match (two candidates at similar distance) is dropped
    pairs = track(np.array([[50.0, 50.0]]), np.array([[50.0, 47.0], [50.0, 53.5]]),
                  (SIDE, SIDE), max_distance=5, margin=2)
    assert len(pairs) == 0
    pairs = track(np.array([[50.0, 50.0]]), np.array([[50.0, 47.0], [50.0, 56.0]]),
                  (SIDE, SIDE), max_distance=5, margin=2)
    np.testing.assert_array_equal(pairs, [[0, 0]])


def test_speed_floor_makes_jittering_bumps_stationary():
    rng = np.random.default_rng(5)
    starts = np.array([(20.0, 20.0), (20.0, 70.0), (70.0, 20.0), (70.0, 70.0)])
    frames = np.array([blobs(starts + rng.normal(0, 0.1, starts.shape)) for _ in range(20)])
    raw = order_parameter(frames, LOW, HIGH)
    floored = order_parameter(frames, LOW, HIGH, speed_floor=0.5)
    assert raw.phi > 0.2  # jitter alone gives a sizeable Phi
    assert floored.phi < 0.05 and floored.moving_fraction < 0.05


def test_spike_count_frames_count_spikes_in_the_window():
    # neuron 5 (row 0, col 5 of a 4 x 10 sheet) spikes at 1.5 and 3.2 ms; neuron 12 at 0.1
    frames = spike_count_frames([5, 5, 12], [1.5, 3.2, 0.1], (4, 10), 0.0, 4.0, 1.0,
                                window=2.0)
    assert frames.shape == (4, 4, 10)
    np.testing.assert_array_equal(frames[:, 0, 5], [0, 1, 1, 1])
    np.testing.assert_array_equal(frames[:, 1, 2], [1, 1, 0, 0])
    assert frames.sum() == 5
    with pytest.raises(ValueError, match="multiple of frame_dt"):
        spike_count_frames([], [], (2, 2), 0, 1, 0.3, window=0.5)


def test_bad_frames():
    with pytest.raises(ValueError, match="2D"):
        find_patterns(np.zeros(5), 0, 1)
    with pytest.raises(ValueError, match="time, rows, cols"):
        order_parameter(np.zeros((4, 4)), 0, 1)
