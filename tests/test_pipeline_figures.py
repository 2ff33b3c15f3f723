"""The pipeline's figures (brianlab.pipeline.figures) and the plot helpers they use
(plot.statistic_curve, plot.phase_diagram), on synthetic plans, records and point files:
no Brian2, no build."""

import itertools
import sys
import types

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from brianlab import plot  # noqa: E402
from brianlab.pipeline import figures, save  # noqa: E402
from brianlab.pipeline.plan import (  # noqa: E402
    Axis, BuildSpec, NetworkRef, Plan, PointSpec, point_key)
from brianlab.pipeline.reductions import BIN, ReductionSpec  # noqa: E402
from brianlab.results import RunFolder  # noqa: E402

SIZES = {"E": 800, "I": 100}
STATS = ("rate", "cv", "synchrony", "n_neurons", "duration")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _network() -> NetworkRef:
    return NetworkRef("cuba@1", "12" * 32, "released", (("lif@1", "34" * 32),))


def _build(size: str = "800") -> BuildSpec:
    return BuildSpec(_network(), (("populations.E.size", size),), None, "cpp_standalone", None,
                     False, ("spikes_E", "spikes_I"))


def _plan(axes=(("we", "uS", (0.01, 0.02)), ("wi", "uS", (0.1, 0.2, 0.4))), seeds=(0, 1),
          command="sweep", builds_of=None) -> Plan:
    """A plan of the grid ``axes x seeds``; ``builds_of(values) -> build index`` (one build
    by default)."""
    points, builds = [], 1
    for index, combo in enumerate(itertools.product(*[a[2] for a in axes], seeds)):
        *values, seed = combo
        build = builds_of(values) if builds_of else 0
        builds = max(builds, build + 1)
        named = tuple((a[0], v) for a, v in zip(axes, values))
        display = [(a[0], f"{v} {a[1]}") for a, v in zip(axes, values)]
        key = point_key(display, seed, {"values": named, "seed": seed}, index=index)
        points.append(PointSpec(key, build, named, (), seed,
                                ", ".join(f"{n} {t}" for n, t in display) + f", seed {seed}"))
    configuration = save.configuration(command, _network(), (), (), ReductionSpec(),
                                       "cpp_standalone", None, False)
    context = {str(b): {"populations": dict(SIZES), "dt_s": 1e-4,
                        "phases": [["main", 0.0, 0.2]]} for b in range(builds)}
    return Plan({"command": command, "network": "cuba"},
                tuple(_build(str(800 + b)) for b in range(builds)), tuple(points),
                configuration, ReductionSpec(), tuple(Axis(n, u, v) for n, u, v in axes),
                context)


def _arrays(seed: int) -> dict:
    """Spikes of every neuron of each population (so a raster would show all of them)."""
    rng = np.random.default_rng(seed)
    out = {}
    for pop, n in SIZES.items():
        i = np.repeat(np.arange(n, dtype=np.int32), 2)
        t = rng.uniform(0.0, 0.2, len(i))
        out[f"{pop}_i"], out[f"{pop}_t"] = i, t
        out[f"{pop}_rate"] = rng.uniform(0, 20, int(round(0.15 / BIN))).astype(np.float32)
    out["other_i"], out["other_t"] = np.zeros(3, np.int32), np.zeros(3)  # not a population
    return out


def _record(point: PointSpec, value: float) -> dict:
    return {"values": dict(point.values), "seed": point.seed, "t_start_s": 0.05,
            "length_s": 0.15,
            "statistics": {pop: {"rate": value, "cv": 0.5 * value, "synchrony": None,
                                 "n_neurons": n, "duration": 0.15}
                           for pop, n in SIZES.items()}}


def _folder(tmp_path, plan: Plan, *, skip=()) -> tuple:
    """A results folder with every point's arrays and records (but those in ``skip``)."""
    folder = RunFolder(tmp_path / "out", plan.configuration)
    (folder.path / "points").mkdir(parents=True, exist_ok=True)
    records = {}
    for k, point in enumerate(plan.points):
        if point.key in skip:
            continue
        np.savez(folder.path / "points" / f"{point.key}.npz", **_arrays(point.seed))
        records[point.key] = _record(point, 1.0 + k)
    return folder, records


def _names(paths) -> set:
    return {p.name for p in paths}


# -- plot helpers -----------------------------------------------------------------------------
def test_statistic_curve_draws_the_seed_mean_and_a_band_from_min_to_max_skipping_nan():
    values = np.array([3.0, 1.0, 2.0, 4.0])
    table = np.array([[1.0, 3.0], [np.nan, np.nan], [2.0, np.nan], [-1.0, 5.0]])
    _, ax = plt.subplots()
    assert plot.statistic_curve(ax, values, table, xlabel="we (uS)", label="rate (Hz)") is ax
    line = ax.lines[-1]
    # the value without results (1.0) is left out, not drawn as 0; the rest sorted
    np.testing.assert_array_equal(line.get_xdata(), [2.0, 3.0, 4.0])
    np.testing.assert_array_equal(line.get_ydata(), [2.0, 2.0, 2.0])
    band = ax.collections[0].get_paths()[0].vertices
    for x, low, high in [(2.0, 2.0, 2.0), (3.0, 1.0, 3.0), (4.0, -1.0, 5.0)]:
        ys = band[np.isclose(band[:, 0], x), 1]
        assert ys.min() == low and ys.max() == high
    assert not np.isclose(band[:, 0], 1.0).any()
    assert np.isfinite(band).all()
    assert ax.get_xlabel() == "we (uS)" and ax.get_ylabel() == "rate (Hz)"


def test_phase_diagram_has_labelled_axes_and_colour_bar_blank_nan_and_uneven_cells():
    x, y = [1.0, 2.0, 4.0], [0.5, 0.1]  # uneven, and y given in decreasing order
    table = np.arange(12, dtype=float).reshape(3, 2, 2)
    table[1, 0, :] = np.nan  # no result at x=2, y=0.5
    table[2, 1, 0] = np.nan  # one seed missing at x=4, y=0.1: the other seed's value
    fig, ax = plt.subplots()
    out = plot.phase_diagram(ax, x, y, table, xlabel="we (uS)", ylabel="rp (ms)",
                             label="E: mean rate (Hz)")
    assert out is ax
    mesh = ax.collections[-1]
    assert ax.get_xlabel() == "we (uS)" and ax.get_ylabel() == "rp (ms)"
    assert mesh.colorbar.ax.get_ylabel() == "E: mean rate (Hz)"
    coordinates = mesh.get_coordinates()
    np.testing.assert_allclose(coordinates[0, :, 0], [0.5, 1.5, 3.0, 5.0])
    np.testing.assert_allclose(coordinates[:, 0, 1], [-0.1, 0.3, 0.7])
    cells = mesh.get_array()  # rows: y sorted (0.1, 0.5); columns: x
    assert isinstance(cells, np.ma.MaskedArray)
    mask = np.ma.getmaskarray(cells).reshape(2, 3)
    assert mask.tolist() == [[False, False, False], [False, True, False]]
    data = np.ma.getdata(cells).reshape(2, 3)
    assert data[0, 2] == table[2, 1, 1]          # the other seed's value, not (v + 0) / 2
    assert data[1, 0] == table[0, 0].mean()
    # blank is not 0: the colour scale starts at the smallest finite mean
    assert mesh.norm.vmin == 0.5 and mesh.norm.vmax == table[2, 1, 1]


def test_phase_diagram_refuses_repeated_axis_values():
    _, ax = plt.subplots()
    with pytest.raises(ValueError, match="not distinct"):
        plot.phase_diagram(ax, [1.0, 1.0], [1.0], np.zeros((2, 1, 1)), xlabel="a (ms)",
                           ylabel="b (ms)", label="c (Hz)")


# -- draw -------------------------------------------------------------------------------------
def test_a_two_axis_sweep_writes_a_raster_per_build_and_a_phase_diagram_per_statistic(
        tmp_path, monkeypatch):
    plan = _plan(builds_of=lambda values: int(values[0] == 0.02))
    folder, records = _folder(tmp_path, plan)
    drawn = []
    original = plot.phase_diagram

    def spy(ax, x, y, table, **kwargs):
        out = original(ax, x, y, table, **kwargs)
        drawn.append((kwargs, out.collections[-1].colorbar.ax.get_ylabel(), table))
        return out

    monkeypatch.setattr(plot, "phase_diagram", spy)
    paths = figures.draw(plan, folder, records)
    first = [plan.points_of(b)[0].key for b in range(2)]
    assert _names(paths) == {f"{k}_raster.png" for k in first} | {
        f"{stat}_{pop}.png" for stat in ("rate", "cv") for pop in SIZES}
    assert all(p.exists() and p.parent == folder.path / "figures" for p in paths)
    assert sorted(p.name for p in (folder.path / "figures").iterdir()) == sorted(_names(paths))
    # synchrony is None at every point: noted, not drawn as zeros
    assert any("E.synchrony" in note for note in paths.notes)
    assert len(drawn) == 4
    for kwargs, colourbar, table in drawn:
        assert kwargs["xlabel"] == "we (uS)" and kwargs["ylabel"] == "wi (uS)"
        assert colourbar == kwargs["label"] and colourbar.endswith(("(Hz)", "(dimensionless)"))
        assert table.shape == (2, 3, 2)


def test_a_one_axis_sweep_draws_statistic_curves_with_units(tmp_path, monkeypatch):
    plan = _plan(axes=(("populations.E.size", "", (400.0, 800.0, 1600.0)),), seeds=(0, 1, 2))
    folder, records = _folder(tmp_path, plan, skip={plan.points[4].key})
    calls = []
    monkeypatch.setattr(plot, "statistic_curve",
                        lambda ax, values, table, **kw: calls.append((values, table, kw)) or ax)
    paths = figures.draw(plan, folder, records)
    assert {"rate_E.png", "rate_I.png", "cv_E.png", "cv_I.png"} <= _names(paths)
    values, table, kw = next(c for c in calls if c[2]["label"] == "E: mean rate (Hz)")
    assert values == (400.0, 800.0, 1600.0)
    assert kw["xlabel"] == "populations.E.size (dimensionless)"
    assert table.shape == (3, 3) and np.isnan(table[1, 1]) and table[0, 0] == 1.0


def test_a_raster_shows_at_most_200_neurons_per_population_the_same_ones_each_time(
        tmp_path, monkeypatch):
    plan = _plan(axes=(), seeds=(0,), command="run")
    folder, records = _folder(tmp_path, plan)
    shown = []
    original = plot.raster

    def spy(times_ms, indices, ax=None, **kwargs):
        shown.append(np.asarray(indices).copy())
        return original(times_ms, indices, ax, **kwargs)

    monkeypatch.setattr(plot, "raster", spy)
    paths = figures.draw(plan, folder, records)
    assert _names(paths) == {f"{plan.points[0].key}_raster.png"}
    rows_e, rows_i = shown  # the plan's populations only (not "other")
    assert len(np.unique(rows_e)) == figures.MAX_RASTER_NEURONS  # 800 neurons, all spiking
    assert np.unique(rows_i).tolist() == list(range(200, 300))  # 100: every one, below E's
    figures.draw(plan, folder, records)
    np.testing.assert_array_equal(shown[2], rows_e)
    chosen = figures.raster_neurons(800)
    assert len(chosen) == 200 and chosen[0] == 0 and chosen[-1] == 799
    assert np.all(np.diff(chosen) > 0)


def test_a_three_axis_sweep_draws_no_sweep_figure_and_says_where_the_table_is(tmp_path):
    plan = _plan(axes=(("we", "uS", (0.01, 0.02)), ("wi", "uS", (0.1,)), ("rp", "ms", (5.0,))),
                 seeds=(0,))
    folder, records = _folder(tmp_path, plan)
    said = []
    paths = figures.draw(plan, folder, records, say=said.append)
    assert _names(paths) == {f"{plan.points[0].key}_raster.png"}
    assert any("3 axes" in note and "summary.json" in note for note in paths.notes)
    assert said == paths.notes


def test_a_point_whose_arrays_cannot_be_read_is_noted_not_fatal(tmp_path):
    plan = _plan(axes=(), seeds=(0,), command="run")
    folder, records = _folder(tmp_path, plan)
    (folder.path / "points" / f"{plan.points[0].key}.npz").write_bytes(b"not a zip")
    paths = figures.draw(plan, folder, records)
    assert list(paths) == [] and "cannot be read" in paths.notes[0]


def test_reduction_figures_are_resolved_when_drawn_and_a_missing_module_is_skipped(
        tmp_path, monkeypatch):
    plan = _plan(axes=(), seeds=(0,), command="run")
    folder, records = _folder(tmp_path, plan)
    monkeypatch.setitem(figures.REDUCTION_FIGURES, "population_statistics",
                        "brianlab_no_such_module.figures:draw")
    paths = figures.draw(plan, folder, records)
    assert len(paths) == 1 and any("skipped" in note for note in paths.notes)
    extra = types.ModuleType("brianlab_test_figures")
    extra.draw = lambda plan_, folder_, records_: [folder_.path / "figures" / "extra.png"]
    monkeypatch.setitem(sys.modules, "brianlab_test_figures", extra)
    monkeypatch.setitem(figures.REDUCTION_FIGURES, "population_statistics",
                        "brianlab_test_figures:draw")
    paths = figures.draw(plan, folder, records)
    assert paths[-1] == folder.path / "figures" / "extra.png" and not paths.notes


def test_the_cmsa_reduction_adds_the_last_frame_of_each_shown_point(tmp_path, monkeypatch):
    """``cmsa_phi`` (REDUCTION_FIGURES): ``figures/<key>_sheet.png`` of each point with a
    raster, drawn from that point's last saved frame, titled with the state detected
    (Phi 0.9: a wave, brianlab.cmsa.reduce.state_name); a point without frames or Phi (a
    reduction that saved none) gets none."""
    from dataclasses import replace

    from brianlab.cmsa import figures as cmsa_figures

    plan = replace(_plan(axes=(), seeds=(0,), command="run"),
                   reduction=ReductionSpec("cmsa_phi"))
    folder, records = _folder(tmp_path, plan)
    key = plan.points[0].key
    frames = np.random.default_rng(3).random((4, 6, 6)).astype(np.float32)
    np.savez(folder.path / "points" / f"{key}.npz", frames=frames, **_arrays(0))
    records[key] |= {"phi": {"phi": 0.9, "mean_patterns": 1.5, "mean_speed": 0.2},
                     "frames_label": "E spikes per 8 ms window, smoothed"}
    drawn = []
    original = plot.sheet_snapshot
    monkeypatch.setattr(plot, "sheet_snapshot", lambda frame, **kw: (
        drawn.append((frame, kw)), original(frame, **kw))[1])
    paths = figures.draw(plan, folder, records)
    assert _names(paths) == {f"{key}_raster.png", f"{key}_sheet.png"} and not paths.notes
    assert (folder.path / "figures" / f"{key}_sheet.png").stat().st_size > 1000
    (frame, kw), = drawn
    np.testing.assert_array_equal(frame, frames[-1])
    assert "wave: Phi 0.90" in kw["title"] and kw["label"] == records[key]["frames_label"]
    del records[key]["phi"]
    assert cmsa_figures.pattern_figures(plan, folder, records) == []
