"""The compiled fixed in-degree draw (brianlab.networks.indegree): numpy's PCG64 and
SeedSequence in C++, and the synapses a cpp_standalone binary creates with it, against
brianlab.space.fixed_indegree (the reference: numpy's generator and searchsorted)."""

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from brianlab.networks.indegree import PCG64_CPP, reference_stream
from brianlab.space import Lattice, fixed_indegree, indegree_tables

HARNESS = """
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
%s
int main(int argc, char **argv) {
    brianlab_pcg::PCG64 g;
    g.seed(strtoull(argv[1], 0, 10));
    g.advance((brianlab_pcg::u128)strtoull(argv[2], 0, 10));
    for (long i = 0; i < atol(argv[3]); i++) printf("%%.17g\\n", g.random());
}
"""

#: Seeds across SeedSequence's cases: zero, one 32-bit word, the largest hash seed, two
#: words, the largest 64-bit value.
SEEDS = (0, 1, 12345, 2**31 - 1, 2**32, 2**64 - 1)


@pytest.fixture(scope="module")
def harness(tmp_path_factory):
    compiler = shutil.which("g++")
    if compiler is None:
        pytest.skip("no C++ compiler")
    folder = tmp_path_factory.mktemp("pcg")
    (folder / "h.cpp").write_text(HARNESS % PCG64_CPP)
    subprocess.run([compiler, "-O2", "-o", str(folder / "h"), str(folder / "h.cpp")],
                   check=True)
    return folder / "h"


def _draws(harness, seed: int, first: int, count: int) -> np.ndarray:
    out = subprocess.run([str(harness), str(seed), str(first), str(count)], check=True,
                         capture_output=True, text=True).stdout
    return np.array([float(x) for x in out.split()])


@pytest.mark.parametrize("seed", SEEDS)
def test_the_cpp_generator_is_numpys_default_rng(harness, seed):
    """Bit for bit (printed with 17 digits, read back exactly): the first numbers of
    ``default_rng(seed).random()``, and those after a jump of 10**9 + 7 (PCG64.advance)."""
    np.testing.assert_array_equal(_draws(harness, seed, 0, 50),
                                  np.random.default_rng(seed).random(50))
    np.testing.assert_array_equal(_draws(harness, seed, 10**9 + 7, 20),
                                  reference_stream(seed, 10**9 + 7, 20))


def test_tables_reproduce_fixed_indegree():
    """``IndegreeTables.sources`` with the seed's stream is ``fixed_indegree`` (the one
    definition both draws share)."""
    e, i = Lattice(40), Lattice(20, 40.0)
    tables = indegree_tables(i, e, 150, 4.5)
    conn = fixed_indegree(i, e, 150, 4.5, seed=9)
    draws = np.random.default_rng(9).random((e.n, 150))
    np.testing.assert_array_equal(tables.sources(np.arange(e.n), draws).ravel(), conn.i)
    assert tables.draws == e.n * 150


BUILD = """
import json, sys
import numpy as np
from brian2 import NeuronGroup, Network, Synapses, device, ms, set_device
from brianlab.networks.indegree import draw_function
from brianlab.space import Lattice, indegree_tables

set_device("cpp_standalone", directory=sys.argv[1], build_on_run=False)
e, i = Lattice(40), Lattice(20, 40.0)
E = NeuronGroup(e.n, "conn_seed : integer (constant, shared)", name="E")
I = NeuronGroup(i.n, "conn_seed : integer (constant, shared)", name="I")
ee = indegree_tables(e, e, 100, 3.0, allow_self=False)
ie = indegree_tables(i, e, 150, 4.5)
device.insert_code("main", "set_from_command_line(args);")  # the seed, before creation
synapses = []
for name, src, tgt, tables, first in (("ee", E, E, ee, 0), ("ie", I, E, ie, ee.draws)):
    f = draw_function(f"draw_{name}", tables, first)
    s = Synapses(src, tgt, name=name)
    s.connect(i=f"draw_{name}(j, k, conn_seed_post) for k in range({tables.k})",
              namespace={f"draw_{name}": f})
    synapses.append(s)
Network(E, I, *synapses).run(0 * ms)
device.build(run=False, directory=sys.argv[1])
out = {}
for seed in map(int, sys.argv[2:]):
    device.run(run_args={E.conn_seed: seed})
    out[seed] = {s.name: [s.i[:].tolist(), s.j[:].tolist()] for s in synapses}
print("RESULT " + json.dumps(out))
"""


def test_the_binary_creates_fixed_indegrees_synapses_for_each_run_time_seed(tmp_path):
    """One cpp_standalone build (40 x 40 E, 20 x 20 I; E->E without autapses, I->E), run
    with connectivity seeds 3 and 2**31 - 1 given at run time: each run's synapses are
    ``fixed_indegree``'s for that seed, the pathways drawn one after the other from one
    ``default_rng(seed)`` as brianlab's sheet draws them (same sources, same order)."""
    import json
    import sys

    seeds = (3, 2**31 - 1)
    proc = subprocess.run([sys.executable, "-c", BUILD, str(tmp_path / "build"),
                           *map(str, seeds)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next(x for x in proc.stdout.splitlines() if x.startswith("RESULT "))
    result = json.loads(line[7:])
    e, i = Lattice(40), Lattice(20, 40.0)
    for seed in seeds:
        rng = np.random.default_rng(seed)
        expected = {"ee": fixed_indegree(e, e, 100, 3.0, seed=rng, allow_self=False),
                    "ie": fixed_indegree(i, e, 150, 4.5, seed=rng)}
        for name, conn in expected.items():
            got_i, got_j = map(np.asarray, result[str(seed)][name])
            np.testing.assert_array_equal(got_i, conn.i, err_msg=f"{name} seed {seed}")
            np.testing.assert_array_equal(got_j, conn.j, err_msg=f"{name} seed {seed}")
    assert not np.array_equal(result[str(seeds[0])]["ee"][0], result[str(seeds[1])]["ee"][0])


#: A small CMSA sheet as structure changes of the released file (30 x 30 E, 15 x 15 I,
#: narrower I kernels with k = 100, 100 ms of spontaneous activity).
SMALL_SHEET = {"populations.E.lattice.side": 30, "populations.I.lattice.side": 15,
               "populations.I.lattice.extent": 30, "protocol.spontaneous.duration": "100 ms",
               "projections.ie.connector.k": 100, "projections.ii.connector.k": 100,
               "projections.ie.connector.sigma": 8.0, "projections.ii.connector.sigma": 8.0}


def test_a_sweep_over_connectivity_seeds_compiles_once(tmp_path, monkeypatch):
    """``sweep cmsa_sheet --grid seeds.connectivity=3,5`` on cpp_standalone: one build, each
    point's conn_seed given at run time, and each point's spikes those of the runtime
    device (Python's draw) with that seed in the file: the same synapses, so bit-identical
    spikes. The two seeds give different spikes (the value reaches the draw)."""
    import brianlab as bl
    from brianlab.networks.builder import connectivity_at_run_time
    from brianlab.pipeline.planner import read_network_of

    monkeypatch.setenv("BRIANLAB_CACHE", str(tmp_path / "cache"))
    netfile, _ = read_network_of("cmsa_sheet")
    assert connectivity_at_run_time(netfile, "cpp_standalone")
    assert not connectivity_at_run_time(netfile, "runtime")
    bl.sweep("cmsa_sheet", {"seeds.connectivity": [3, 5]}, values=SMALL_SHEET, seeds=[0],
             device="cpp_standalone", out=tmp_path / "sweep", figures=False)
    summary = json.loads((tmp_path / "sweep" / "summary.json").read_text())
    assert len(summary["builds"]) == 1
    by_seed = {}
    for key in summary["points"]:
        with np.load(tmp_path / "sweep" / "points" / f"{key}.npz") as data:
            seed = int(key.split("_")[0].removeprefix("seeds.connectivity"))
            by_seed[seed] = (data["e_i"], data["e_t"])
    assert sorted(by_seed) == [3, 5]
    assert not np.array_equal(by_seed[3][1], by_seed[5][1])
    bl.run("cmsa_sheet", values={**SMALL_SHEET, "seeds.connectivity": 5}, seed=0,
           device="runtime", out=tmp_path / "runtime", figures=False)
    (saved,) = (tmp_path / "runtime" / "points").glob("*.npz")
    with np.load(saved) as data:
        np.testing.assert_array_equal(data["e_i"], by_seed[5][0])
        np.testing.assert_array_equal(data["e_t"], by_seed[5][1])


@pytest.mark.parametrize("case, builds", [
    ("cpp", 1),            # the binary draws every connection: the seed is a run value
    ("runtime", 2),        # Python draws: one build (network) per seed
    ("random initial", 2),  # Brian2's generator draws initial values from the seed
    ("seed over int32", 2),  # a seed the binary's variable cannot hold
])
def test_the_planner_makes_the_connectivity_seed_a_run_value_only_where_it_may(
        case, builds, tmp_path):
    """Planned without building: ``--grid seeds.connectivity=A,B`` is one build with the
    run value ``conn_seed`` where :func:`connectivity_at_run_time` says so, and a
    structure change (one build per seed) everywhere else."""
    from brianlab.pipeline.planner import make_plan, read_network_of
    from brianlab.pipeline.request import Request
    from brianlab.runargs import CONNECTIVITY_TARGET

    network = "cmsa_sheet"
    if case == "random initial":
        netfile, _ = read_network_of("cmsa_sheet")
        text = Path(netfile.path).read_text().replace(
            'lattice = { side = 150 }\n',
            'lattice = { side = 150 }\ninitial = { v = { uniform = ["-70 mV", "-50 mV"] } }\n')
        assert "uniform" in text
        network = str(tmp_path / "cmsa_sheet.toml")
        Path(network).write_text(text.replace('version = 2', 'version = 9'))
    seeds = "3,2147483648" if case == "seed over int32" else "3,5"
    plan = make_plan(Request(
        "sweep", network, sets=tuple((k, str(v)) for k, v in SMALL_SHEET.items()),
        grid=(("seeds.connectivity", seeds),), seeds=(0,),
        device="runtime" if case == "runtime" else "cpp_standalone"))
    assert len(plan.builds) == builds
    conn = [dict(p.run_values).get(CONNECTIVITY_TARGET) for p in plan.points]
    structures = [dict(plan.builds[p.build].structure).get("seeds.connectivity")
                  for p in plan.points]
    if builds == 1:
        assert conn == [3.0, 5.0] and structures == [None, None]
    elif case == "seed over int32":  # the first seed fits: a run value; the second not
        assert conn == [3.0, None] and structures == [None, "2147483648"]
    else:
        assert conn == [None, None] and structures == ["3", "5"]
