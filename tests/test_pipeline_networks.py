"""Every released network file through the pipeline (issue 25: "the commands work for every
released network"): each shrunk to at most 1000 neurons and 50 ms by structure paths
(``--set populations.E.size=800``...), built on cpp_standalone, run, reduced and saved.

A shortened protocol keeps only the ``[[published]]`` entries its length still covers
(``networkfile._fitting_published``): brunel2000's start at 80-100 ms, so none is left at
50 ms, and the file is not refused.
"""

import math

import numpy as np
import pytest

import brianlab as bl
from brianlab.library import load_network
from brianlab.networkfile import with_structure
from brianlab.store import list_models
from brianlab.toolchain import cxx_compiler_works

#: Structure changes per network: sizes (in-degrees with them) and a 50 ms protocol.
SMALL = {
    "cuba": {"populations.E.size": 800, "populations.I.size": 200,
             "protocol.run.duration": "50 ms"},
    "coba": {"populations.E.size": 800, "populations.I.size": 200,
             "protocol.run.duration": "50 ms"},
    "cobahh": {"populations.E.size": 800, "populations.I.size": 200,
               "protocol.run.duration": "50 ms"},
    "brunel2000": {"populations.E.size": 800, "populations.I.size": 200,
                   "projections.EE.connector.k": 80, "projections.EI.connector.k": 80,
                   "projections.IE.connector.k": 20, "projections.II.connector.k": 20,
                   "protocol.run.duration": "50 ms"},
    "vogels2011": {"populations.E.size": 800, "populations.I.size": 200,
                   "protocol.static.duration": "20 ms", "protocol.plastic.duration": "30 ms"},
    "cmsa_sheet": {"populations.E.lattice.side": 28, "populations.I.lattice.side": 14,
                   "populations.I.lattice.extent": 28,
                   "projections.ee.connector.k": 50, "projections.ei.connector.k": 50,
                   "projections.ie.connector.k": 50, "projections.ii.connector.k": 50,
                   "protocol.spontaneous.duration": "20 ms"},
}


def test_every_released_network_has_a_small_version():
    released = {e.name for e in list_models() if e.kind == "network"}
    assert released == set(SMALL)


def test_a_shortened_protocol_keeps_the_published_entries_it_covers():
    full = load_network("brunel2000")
    starts = sorted({float(p.t_start) for p in full.published})
    assert starts == pytest.approx([0.08, 0.1])  # the file's entries: 80 ms and 100 ms
    assert len(with_structure(full, {"protocol.run.duration": "90 ms"}).published) == \
        sum(float(p.t_start) < 0.09 for p in full.published)
    assert with_structure(full, {"protocol.run.duration": "50 ms"}).published == ()
    # the unchanged file keeps them all; a wrong t_start is still an error on load
    assert len(with_structure(full, {}).published) == len(full.published)


@pytest.mark.slow
@pytest.mark.skipif(not cxx_compiler_works(), reason="needs a C++ compiler")
@pytest.mark.parametrize("name", sorted(SMALL))
def test_every_released_network_runs_through_the_pipeline(name, tmp_path):
    changes = SMALL[name]
    size = with_structure(load_network(name), {k: str(v) for k, v in changes.items()})
    neurons = sum(p.size for p in size.populations.values())
    assert neurons <= 1000
    result = bl.run(name, values=changes, device="cpp_standalone", out=tmp_path / name)
    record = result.record
    statistics = record["statistics"]
    assert set(statistics) >= {"E"}
    for pop, stats in statistics.items():
        assert math.isfinite(stats["rate"]) and stats["rate"] >= 0, (pop, stats)
    arrays = result.arrays()
    spikes = [a for n, a in arrays.items() if n.endswith("_t") or n.endswith("_E_t")]
    assert sum(len(a) for a in spikes) > 0, f"{name}: no spike in 50 ms"
    # seconds; the cmsa_phi reduction saves the CMSA command's arrays (times in ms)
    scale = 1e-3 if name == "cmsa_sheet" else 1.0
    assert all(np.all((a * scale >= 0) & (a * scale <= 0.0501)) for a in spikes)
    summary = (result.folder / "summary.json").read_text()
    assert f'"ref": "{name}@' in summary
