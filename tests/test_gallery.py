"""The network gallery (brianlab.gallery): pages generated from network files.

A tiny network file in a user models folder goes through :func:`write_gallery`; the
numbers on its page are checked against :func:`population_statistics` of the same spikes
and against spike counts computed here with numpy, and its ``[[published]]`` ranges
against those counts (pass, fail, not recorded, too short).
"""

import json
import time

import numpy as np
import pytest
from brian2 import Hz

from brianlab.analysis.population import population_statistics
from brianlab.gallery import _truncated, gallery_run, gallery_statistics, write_gallery
from brianlab.library import load_network

pytestmark = pytest.mark.filterwarnings("ignore::brianlab.library.UnreleasedModelWarning")

TINY = """
name = "tinygal"
version = 1
kind = "network"
summary = "a tiny E/I network for the gallery's tests"
references = ["nobody (2026), for the tests"]
notes = "Driven by Poisson input after a 20 ms settling phase."

[seeds]
connectivity = 3
drive = 4

[parameters]
nu = { value = "10 Hz", sets = ["ext.rate"] }

[populations.E]
model = "lif@2"
size = 80
receptors = { e = "ampa_exp@1", i = "gaba_exp@1" }
parameters = { E_L = "-60 mV", V_reset = "-60 mV", tau_ref = "5 ms" }
initial = { v = { uniform = ["-70 mV", "-60 mV"] } }

[populations.I]
model = "lif@2"
size = 20
receptors = { e = "ampa_exp@1", i = "gaba_exp@1" }
parameters = { E_L = "-60 mV", V_reset = "-60 mV", tau_ref = "5 ms" }
initial = { v = { uniform = ["-70 mV", "-60 mV"] } }

[projections.EI]
source = "E"
target = "I"
synapse = "static@1"
receptor = "e"
connector = { rule = "probability", p = 0.1 }

[inputs.ext]
kind = "poisson_input"
target = "E"
receptor = "e"
count = 100
rate = "10 Hz"
weight = "1"

[monitors]
spikes = ["E"]

[protocol]
phases = [{ name = "settle", duration = "20 ms", inputs_off = ["ext"] },
          { name = "run", duration = "180 ms" }]

[[published]]
population = "E"
statistic = "rate"
low = "0.5 Hz"
high = "1000 Hz"
source = "wide: passes"
t_start = "20 ms"

[[published]]
population = "E"
statistic = "rate"
low = "900 Hz"
source = "impossible: fails"

[[published]]
population = "I"
statistic = "cv"
low = 0.5
source = "I is not recorded"

[[published]]
population = "E"
statistic = "rate"
high = "0.01 Hz"
source = "no input: silent"
parameters = { nu = "0 Hz" }

[[published]]
population = "E"
statistic = "rate"
low = "0 Hz"
source = "after the gallery's cut"
t_start = "195 ms"
"""


@pytest.fixture
def user_root(tmp_path, monkeypatch):
    root = tmp_path / "mymodels"
    (root / "networks" / "tinygal").mkdir(parents=True)
    (root / "networks" / "tinygal" / "1.toml").write_text(TINY)
    monkeypatch.setenv("BRIANLAB_MODELS", str(root))
    return root


def test_the_protocol_is_cut_to_the_gallery_duration(user_root):
    net = load_network("tinygal")
    cut = _truncated(net, 0.15)
    assert [(p.name, round(float(p.duration), 9)) for p in cut.protocol] == [
        ("settle", 0.02), ("run", 0.13)]
    assert cut.protocol[0].inputs_off == ("ext",) and cut.sha256 == net.sha256
    assert [p.name for p in _truncated(net, 0.01).protocol] == ["settle"]
    assert float(_truncated(net, 5.0).duration) == pytest.approx(0.2)


def test_a_slow_run_is_stopped_by_the_wall_time_limit(user_root):
    net = load_network("tinygal")
    full = gallery_run(net, max_duration=0.15, max_wall=None)
    assert full["duration"] == pytest.approx(0.15) and not full["stopped"]
    short = gallery_run(net, max_duration=0.15, max_wall=0.0)  # stop as soon as allowed
    assert short["stopped"] and short["duration"] == pytest.approx(0.1)
    i, t = full["spikes"]["E"]
    keep = t < 0.1
    assert 0 < keep.sum() < len(t)
    # the guard draws nothing: the first 100 ms are the full run's, spike for spike
    assert np.array_equal(short["spikes"]["E"][0], i[keep])
    assert np.array_equal(short["spikes"]["E"][1], t[keep])


def test_gallery_page_tables_and_published_checks(user_root, tmp_path):
    out, cache = tmp_path / "gallery", tmp_path / "cache"
    counts = write_gallery(out, cache_dir=cache, root=user_root, max_duration=0.15,
                           progress=lambda line: None)
    assert counts["computed"] == 1 and counts["cached"] == 0
    page = (out / "tinygal.md").read_text()
    figure = out / "figures" / "tinygal-1.png"
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and figure.stat().st_size > 10_000
    assert "[tinygal](network-tinygal)" in (out / "index.md").read_text()
    assert "a tiny E/I network" in page and "nobody (2026)" in page
    assert 'name = "tinygal"' in page  # the file itself
    assert "0.15 s (the protocol cut to that length)" in page

    # the same run again, independently analysed: the same spikes give the same table
    run = gallery_run(load_network("tinygal"), max_duration=0.15)
    i, t = run["spikes"]["E"]
    assert run["duration"] == pytest.approx(0.15) and 100 < len(i)
    assert set(run["spikes"]) == {"E"} and run["sizes"] == {"E": 80, "I": 20}
    record = json.loads(next(cache.glob("tinygal-1-*.json")).read_text())
    default, silent = record["runs"]
    assert default["t_start"] == pytest.approx(0.02)  # the published transient
    expected = population_statistics(i, t, 80, 0.13, t_start=0.02, bin=1e-3)
    for key in ("rate", "cv", "fano", "synchrony", "peak_frequency", "active_fraction"):
        assert default["table"]["E"][key] == pytest.approx(expected[key], rel=1e-12,
                                                           nan_ok=True), key
    # and the rate is the spike count (numpy) per neuron and second
    rate = np.count_nonzero(t >= 0.02) / (80 * 0.13)
    assert default["table"]["E"]["rate"] == pytest.approx(rate, rel=1e-12)
    row = next(line for line in page.splitlines() if line.startswith("| E | 80 | "))
    assert row.split(" | ")[2] == f"{rate:.3g}"

    # published ranges: measured from the spikes here, verdicts as the ranges say
    checks = {c["entry"]: c for c in default["checks"]}
    assert checks[0]["measured"] == pytest.approx(rate) and checks[0]["passed"] is True
    rate_all = len(t) / (80 * 0.15)
    assert checks[1]["measured"] == pytest.approx(rate_all) and checks[1]["passed"] is False
    assert checks[2]["passed"] is None and checks[2]["problem"] == "spikes not recorded"
    assert checks[4]["passed"] is None and "too short" in checks[4]["problem"]
    # the entry at nu = 0 Hz has a run of its own: v starts below threshold and relaxes
    # to E_L without input, so no neuron fires (analytic), and the range holds
    assert silent["changes"] == {"nu": "0 Hz"}  # units.quantity_text: one form per value
    assert [c["entry"] for c in silent["checks"]] == [3]
    assert silent["checks"][0]["measured"] == 0.0 and silent["checks"][0]["passed"] is True
    lines = [line for line in page.splitlines() if line.startswith("| E | rate | ")]
    assert len(lines) == 4
    assert f"| 0.5-1000 Hz | {rate:.3g} Hz | pass |" in lines[0]
    assert f"| >= 900 Hz | {rate_all:.3g} Hz | **fail** |" in lines[1]
    assert "| I | cv | >= 0.5 | spikes not recorded | – |" in page

    # the statistics helper gives the same checks from a run
    table, direct = gallery_statistics(run, load_network("tinygal").published[:2],
                                       t_start=0.02)
    assert table["E"]["rate"] == default["table"]["E"]["rate"]
    assert [c["passed"] for c in direct] == [True, False]

    # a second build takes everything from the cache, at once
    start = time.perf_counter()
    again = write_gallery(out, cache_dir=cache, root=user_root, max_duration=0.15,
                          progress=lambda line: None)
    assert again["computed"] == 0 and again["cached"] == 1
    assert time.perf_counter() - start < 5
    assert (out / "tinygal.md").read_text() == page

    # a network that leaves the library leaves the gallery
    (user_root / "networks" / "tinygal" / "1.toml").unlink()
    (user_root / "networks" / "tinygal").rmdir()
    write_gallery(out, cache_dir=cache, root=user_root, progress=lambda line: None)
    assert not (out / "tinygal.md").exists()
