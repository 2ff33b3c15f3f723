"""Plot helpers draw the data they are given and return the Axes; spike-train measures."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from brianlab import plot  # noqa: E402
from brianlab.analysis.spikes import isi_rates, raster_data  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_traces_draws_each_trace_against_time():
    t = np.arange(5.0)
    ax = plot.traces(t, [t**2, -t], labels=["a", "b"], ylabel="v")
    assert [line.get_label() for line in ax.lines] == ["a", "b"]
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), t**2)
    assert ax.get_xlabel() == "time (ms)" and ax.get_ylabel() == "v"
    with pytest.raises(ValueError, match="2 labels for 1 traces"):
        plot.traces(t, t, labels=["a", "b"])


def test_fi_curve_with_analytic_line():
    _, ax = plt.subplots()
    out = plot.fi_curve([0.1, 0.2], [0.0, 10.0], ax, analytic=[0.0, 11.0])
    assert out is ax and len(ax.lines) == 2
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), [0.0, 11.0])


def test_phase_plane_marks_fixed_points_by_stability():
    xs = ys = np.linspace(-1, 1, 21)
    X, Y = np.meshgrid(xs, ys)
    ax = plot.phase_plane(xs, ys, -X, Y, points=[(0, 0), (0.5, 0.5)],
                          kinds=["saddle", "stable"], names=("r_E", "r_I"))
    markers = [line for line in ax.lines if line.get_marker() == "o"]
    assert [m.get_color() for m in markers] == ["w", "k"]      # open = not stable
    assert ax.get_xlabel() == "r_E" and "dr_E/dt = 0" in ax.get_title()
    assert len(ax.collections) >= 1                            # the vector field


def test_ring_activity_image_spans_time_and_positions():
    activity = np.random.default_rng(0).random((30, 8))
    ax = plot.ring_activity(np.linspace(0, 29, 30), activity, positions=np.linspace(-3, 3, 8))
    image = ax.images[0]
    assert image.get_array().shape == (8, 30)
    assert image.get_extent() == [0, 29, -3, 3]


def test_isi_rates_match_regular_trains_and_ignore_transients():
    # neuron 0: every 10 ms from 0 to 100 ms; neuron 1: every 4 ms after a 50 ms burst
    t0 = np.arange(0, 0.1001, 0.01)
    t1 = np.r_[np.arange(0, 0.05, 0.001), np.arange(0.05, 0.1001, 0.004)]
    indices = np.r_[np.zeros(len(t0), int), np.ones(len(t1), int)]
    times = np.r_[t0, t1]
    order = np.random.default_rng(1).permutation(len(times))  # order must not matter
    rates = isi_rates(indices[order], times[order], 3, t_start=0.05)
    assert rates == pytest.approx([100.0, 250.0, 0.0])


def test_raster_data_window_and_selection():
    i, t = raster_data([2, 0, 1, 2], [0.3, 0.1, 0.2, 0.05], t_start=0.06, neurons=[0, 2])
    assert i.tolist() == [0, 2] and t.tolist() == [0.1, 0.3]
