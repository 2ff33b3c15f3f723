"""The network builder (brianlab.networks.builder): network files built into Brian2 objects.

Every number is checked against its definition (connector counts, distribution moments,
the discrete-time solution of a leaky membrane under Poisson jumps and current steps),
not against values read back from the builder alone.
"""

import hashlib
import textwrap

import numpy as np
import pytest
from brian2 import Hz, mV, ms, nS, pA, pF, second

from brianlab.devices import cxx_compiler_works
from brianlab.networkfile import read_network_file
from brianlab.units import ModelError

pytestmark = pytest.mark.filterwarnings("ignore::brianlab.library.UnreleasedModelWarning")

#: A small E/I network (250 LIF neurons, COBA receptors) driven by a Poisson input; every
#: non-lattice connector with a random part; 200 ms in two phases.
EI_NET = """
name = "tiny"
version = 1
kind = "network"
summary = "a small E/I test network"
dt = "0.1 ms"

[seeds]
connectivity = 1
drive = 2

[parameters]
rate = { value = "10 Hz", sets = ["ext.rate"] }
we = { value = "3 nS", sets = ["E.g_max_e", "I.g_max_e"] }
wi = { value = "{wi}", sets = ["E.g_max_i", "I.g_max_i"] }

[populations.E]
model = "lif@2"
size = 200
receptors = { e = "ampa_exp@1", i = "gaba_exp@1" }
parameters = { E_L = "-60 mV", V_reset = "-60 mV", tau_ref = "5 ms", tau_i = "10 ms", E_i = "-80 mV" }
initial = { v = { uniform = ["-70 mV", "-60 mV"] } }

[populations.I]
model = "lif@2"
size = 50
receptors = { e = "ampa_exp@1", i = "gaba_exp@1" }
parameters = { E_L = "-60 mV", V_reset = "-60 mV", tau_ref = "5 ms", tau_i = "10 ms", E_i = "-80 mV" }
initial = { v = { normal = ["-65 mV", "2 mV"] } }

[projections.EE]
source = "E"
target = "E"
synapse = "static@1"
receptor = "e"
connector = { rule = "probability", p = 0.05 }

[projections.EI]
source = "E"
target = "I"
synapse = "static@1"
receptor = "e"
connector = { rule = "fixed_indegree", k = 20 }
weight = { normal = ["1", "0.1"] }
delay = { uniform = ["0 ms", "2 ms"] }

[projections.IE]
source = "I"
target = "E"
synapse = "static@1"
receptor = "i"
connector = { rule = "fixed_outdegree", k = 30 }
delay = "1 ms"

[inputs.ext]
kind = "poisson_input"
target = "E"
receptor = "e"
count = 100
rate = "10 Hz"
weight = "1"

[monitors]
spikes = ["E", "I"]

[protocol]
phases = [{ name = "settle", duration = "20 ms", inputs_off = ["ext"] },
          { name = "run", duration = "180 ms" }]
"""


def _write(tmp_path, text, name="tiny"):
    folder = tmp_path / name
    folder.mkdir(exist_ok=True)
    path = folder / "1.toml"
    path.write_text(textwrap.dedent(text))
    return path


def _ei(tmp_path, wi="50 nS"):
    return read_network_file(_write(tmp_path, EI_NET.replace("{wi}", wi)))


def _run(netfile, device="runtime", **kwargs):
    with netfile.build(device=device, **kwargs) as built:
        built.run()
        out = {pop: tuple(np.asarray(a) for a in built.spikes(pop)) for pop in ("E", "I")}
        syn = {name: (np.array(s.i[:]), np.array(s.j[:]))
               for name, s in built.synapses.items()}
    return out, syn


def _same_spikes(a, b):
    return all(np.array_equal(a[p][0], b[p][0]) and np.array_equal(a[p][1], b[p][1])
               for p in a)


def test_seeds_select_the_network_and_the_drive(tmp_path):
    net = _ei(tmp_path)
    base, syn = _run(net)
    assert 200 < len(base["E"][0]) < 20_000  # active, not saturated
    again, syn_again = _run(net)
    assert _same_spikes(base, again)
    other_conn, syn_other = _run(net, seed=5)
    assert any(not np.array_equal(syn[k][0], syn_other[k][0]) for k in syn)
    other_drive, syn_drive = _run(net, drive_seed=7)
    assert all(np.array_equal(syn[k][0], syn_drive[k][0])
               and np.array_equal(syn[k][1], syn_drive[k][1]) for k in syn)
    assert not _same_spikes(base, other_drive)
    # the runtime device reruns from the stored initial state (drive seed included)
    with net.build(device="runtime") as built:
        built.run()
        built.rerun(rate="0 Hz")  # v starts below threshold and relaxes to E_L: silent
        assert len(built.spikes("E")[0]) == 0
        built.rerun()
        assert np.array_equal(np.asarray(built.spikes("E")[1]), base["E"][1])


@pytest.mark.slow
@pytest.mark.skipif(not cxx_compiler_works(), reason="needs a C++ compiler")
def test_cpp_standalone_gives_the_runtime_spikes_and_reruns_without_building(tmp_path):
    net = _ei(tmp_path)
    # Cython, Brian2's default runtime target, draws as a binary does (numpy's target,
    # the other tests' choice, draws connect numbers vectorised and its own Poisson)
    runtime, _ = _run(net, device_options={"target": "cython"})
    with net.build(device="cpp_standalone") as built:
        built.run()
        cpp = {pop: tuple(np.asarray(a) for a in built.spikes(pop)) for pop in ("E", "I")}
        binary = built.session.directory / "main"
        stamp = binary.stat().st_mtime_ns
        # no input: every v starts below threshold (-70..-60 mV, V_th -50 mV) and relaxes
        # to E_L = -60 mV, so no neuron can fire (analytic)
        built.rerun(rate="0 Hz")
        assert len(built.spikes("E")[0]) == 0 and len(built.spikes("I")[0]) == 0
        # twice the rate: more excitation, more E spikes
        built.rerun(rate="20 Hz")
        doubled = len(built.spikes("E")[0])
        built.rerun()  # the build's values again: the first run's spikes exactly
        assert np.array_equal(built.spikes("E")[0], cpp["E"][0])
        assert binary.stat().st_mtime_ns == stamp  # nothing was compiled again
        description = built.session.describe()
        assert description["provenance"] == built.provenance
    assert _same_spikes(runtime, cpp)
    assert len(cpp["E"][0]) > 200
    assert doubled > len(cpp["E"][0])  # (recurrent inhibition keeps it below twice)


CONNECTORS = """
name = "conn"
version = 1
kind = "network"
summary = "connector test"

[seeds]
connectivity = 3
drive = 4

[populations.A]
model = "lif@2"
size = 40

[populations.B]
model = "lif@2"
size = 30

[populations.C]
model = "lif@2"
size = 40

[projections.indeg]
source = "A"
target = "B"
synapse = "static@1"
target_var = "v"
connector = { rule = "fixed_indegree", k = 7 }
weight = "0 mV"

[projections.indeg_self]
source = "A"
target = "A"
synapse = "static@1"
target_var = "v"
connector = { rule = "fixed_indegree", k = 39 }
weight = "0 mV"

[projections.indeg_multi]
source = "B"
target = "A"
synapse = "static@1"
target_var = "v"
connector = { rule = "fixed_indegree", k = 50 }
multapses = true
autapses = true
weight = "0 mV"

[projections.outdeg]
source = "A"
target = "B"
synapse = "static@1"
target_var = "v"
connector = { rule = "fixed_outdegree", k = 4 }
weight = "0 mV"

[projections.outdeg_self]
source = "C"
target = "C"
synapse = "static@1"
target_var = "v"
connector = { rule = "fixed_outdegree", k = 6 }
weight = "0 mV"

[projections.one]
source = "A"
target = "C"
synapse = "static@1"
target_var = "v"
connector = { rule = "one_to_one" }
weight = "0 mV"

[projections.prob]
source = "A"
target = "A"
synapse = "static@1"
target_var = "v"
connector = { rule = "probability", p = 0.2 }
weight = "0 mV"

[projections.prob_self]
source = "C"
target = "C"
synapse = "static@1"
target_var = "v"
connector = { rule = "probability", p = 0.5 }
autapses = true
weight = "0 mV"

[projections.all]
source = "B"
target = "B"
synapse = "static@1"
target_var = "v"
connector = { rule = "all_to_all" }
weight = "0 mV"

[protocol]
phases = [{ name = "run", duration = "1 ms" }]
"""


def _delta_synapse_file(tmp_path):
    """A voltage-jump synapse in a user folder (the library's own may not exist yet)."""
    folder = tmp_path / "models" / "synapses" / "jump"
    folder.mkdir(parents=True)
    (folder / "1.toml").write_text(textwrap.dedent('''
        name = "jump"
        version = 1
        kind = "synapse"
        summary = "adds w to v"
        model = """
        w : volt
        """
        on_pre = "v_post += w"
        target = "v"
        target_unit = "volt"

        [initial]
        w = "0 mV"
        '''))
    return tmp_path / "models"


def test_every_connector_obeys_its_definition(tmp_path, monkeypatch):
    monkeypatch.setenv("BRIANLAB_MODELS", str(_delta_synapse_file(tmp_path)))
    net = read_network_file(_write(tmp_path, CONNECTORS.replace('"static@1"', '"jump@1"'),
                                   "conn"))
    with net.build(device="runtime") as built:
        s = {name: (np.array(x.i[:]), np.array(x.j[:]))
             for name, x in built.synapses.items()}
    # fixed in-degree: every target exactly k distinct sources
    i, j = s["indeg"]
    assert np.array_equal(np.bincount(j, minlength=30), np.full(30, 7))
    assert len(set(zip(i, j))) == len(i)
    # onto itself without autapses: k = N - 1 leaves exactly every other neuron
    i, j = s["indeg_self"]
    assert np.array_equal(np.bincount(j, minlength=40), np.full(40, 39))
    assert not np.any(i == j) and len(set(zip(i, j))) == len(i)
    # with multapses k may exceed the source (draws with replacement): duplicates certain
    i, j = s["indeg_multi"]
    assert np.array_equal(np.bincount(j, minlength=40), np.full(40, 50))
    assert len(set(zip(i, j))) < len(i) and i.max() < 30
    # fixed out-degree
    i, j = s["outdeg"]
    assert np.array_equal(np.bincount(i, minlength=40), np.full(40, 4))
    assert len(set(zip(i, j))) == len(i)
    i, j = s["outdeg_self"]
    assert np.array_equal(np.bincount(i, minlength=40), np.full(40, 6))
    assert not np.any(i == j)
    # one to one
    i, j = s["one"]
    assert np.array_equal(i, np.arange(40)) and np.array_equal(j, np.arange(40))
    # probability: binomial count within 4 sigma, no autapses unless allowed
    i, j = s["prob"]
    n = 40 * 39
    assert abs(len(i) - 0.2 * n) < 4 * np.sqrt(n * 0.2 * 0.8)
    assert not np.any(i == j)
    i, j = s["prob_self"]
    n = 40 * 40
    assert abs(len(i) - 0.5 * n) < 4 * np.sqrt(n * 0.25)
    assert np.any(i == j)  # 40 chances at p = 0.5: none would be 1e-12
    # all to all without autapses
    i, j = s["all"]
    assert len(i) == 30 * 29 and not np.any(i == j)
    assert len(set(zip(i, j))) == 30 * 29


DISTRIBUTIONS = """
name = "dist"
version = 1
kind = "network"
summary = "distributions"

[seeds]
connectivity = 11
drive = 12

[populations.Nrm]
model = "lif@2"
size = 4000
initial = { v = { normal = ["-55 mV", "5 mV"] } }

[populations.Uni]
model = "lif@2"
size = 4000
initial = { v = { uniform = ["-60 mV", "-50 mV"] } }

[projections.NU]
source = "Nrm"
target = "Uni"
synapse = "static@1"
receptor = "x"
connector = { rule = "fixed_indegree", k = 2 }
weight = { normal = ["0.5", "0.2"] }
delay = { uniform = ["1 ms", "3 ms"] }

[protocol]
phases = [{ name = "run", duration = "1 ms" }]
"""


def test_random_initial_values_weights_and_delays_have_their_moments(tmp_path):
    text = DISTRIBUTIONS.replace('size = 4000\ninitial = { v = { uniform',
                                 'size = 4000\nreceptors = { x = "ampa_exp@1" }\n'
                                 'initial = { v = { uniform')
    net = read_network_file(_write(tmp_path, text, "dist"))
    with net.build(device="runtime") as built:
        vn = np.array(built.groups["Nrm"].v[:]) / float(mV)
        vu = np.array(built.groups["Uni"].v[:]) / float(mV)
        w = np.array(built.synapses["NU"].w[:])
        d = np.array(built.synapses["NU"].delay[:]) / float(ms)
    n = len(vn)
    # normal(-55, 5): the mean within 4 standard errors, the std within 4 of its own
    # standard error (sigma / sqrt(2 n))
    assert abs(vn.mean() + 55) < 4 * 5 / np.sqrt(n)
    assert abs(vn.std(ddof=1) - 5) < 4 * 5 / np.sqrt(2 * n)
    # uniform[-60, -50): inside, mean -55 and std 10/sqrt(12) within 4 standard errors
    assert vu.min() >= -60 and vu.max() < -50
    assert abs(vu.mean() + 55) < 4 * (10 / np.sqrt(12)) / np.sqrt(n)
    assert abs(vu.std() - 10 / np.sqrt(12)) < 0.05
    m = len(w)
    assert m == 8000
    assert abs(w.mean() - 0.5) < 4 * 0.2 / np.sqrt(m)
    assert abs(w.std(ddof=1) - 0.2) < 4 * 0.2 / np.sqrt(2 * m)
    # delays: uniform[1, 3) ms, on the time grid of dt = 0.1 ms (Brian2 rounds to steps)
    assert d.min() >= 1 - 1e-9 and d.max() <= 3 + 1e-9
    assert abs(d.mean() - 2) < 4 * (2 / np.sqrt(12)) / np.sqrt(m) + 0.05


INPUTS = """
name = "inp"
version = 1
kind = "network"
summary = "inputs"

[seeds]
connectivity = 21
drive = 22

[parameters]
current = { value = "100 pA", sets = ["step.amplitude"] }

[populations.P]
model = "lif@2"
size = 2000
parameters = { E_L = "-70 mV", V_th = "0 mV" }

[populations.S]
model = "lif@2"
size = 1
parameters = { E_L = "-70 mV", V_th = "0 mV" }

[populations.R]
model = "lif@2"
size = 1
parameters = { E_L = "-70 mV", V_th = "0 mV" }

[inputs.ext]
kind = "poisson_input"
target = "P"
target_var = "v"
count = 10
rate = "100 Hz"
weight = "0.2 mV"

[inputs.step]
kind = "current_step"
target = "S"
amplitude = "100 pA"
start = "20 ms"
stop = "70 ms"

[inputs.ramp]
kind = "current_ramp"
target = "R"
amplitude_start = "0 pA"
amplitude_end = "200 pA"
start = "20 ms"
stop = "70 ms"

[monitors]
state = [{ population = "P", variables = ["v"] },
         { population = "S", variables = ["v"] },
         { population = "R", variables = ["v", "I_ext"] }]

[protocol]
phases = [{ name = "quiet", duration = "20 ms", inputs_off = ["ext"] },
          { name = "on", duration = "80 ms" }]
"""


def test_inputs_follow_their_discrete_time_solutions(tmp_path):
    net = read_network_file(_write(tmp_path, INPUTS, "inp"))
    with net.build(device="runtime") as built:
        built.run()
        p_mon, s_mon, r_mon = built.monitors["state"]
        vp = np.array(p_mon.v[:]) / float(mV)  # (neurons, steps)
        vs = np.array(s_mon.v[0]) / float(mV)
        vr = np.array(r_mon.v[0]) / float(mV)
        ir = np.array(r_mon.I_ext[0]) / float(pA)
    dt, tau = 0.1e-3, 200e-12 / 10e-9  # lif@2: C = 200 pF, g_L = 10 nS
    a = np.exp(-dt / tau)
    # Poisson jumps: off in the first 200 steps (v stays at E_L exactly), then each step
    # v decays by a and gains 0.2 mV * Poisson(count*rate*dt); after K steps the mean
    # excursion is w*lam*(1 - a**K)/(1 - a), the variance w**2*lam*(1 - a**2K)/(1 - a**2)
    assert np.all(vp[:, :201] == -70)
    lam, w, k = 10 * 100 * dt, 0.2, 799
    x = vp[:, -1] + 70  # at t = 99.9 ms: 799 steps of input
    mean = w * lam * (1 - a**k) / (1 - a)
    var = w**2 * lam * (1 - a ** (2 * k)) / (1 - a**2)
    assert abs(x.mean() - mean) < 4 * np.sqrt(var / len(x))
    assert abs(x.var(ddof=1) / var - 1) < 4 * np.sqrt(2 / len(x))
    # a current step of 100 pA from 20 to 70 ms: v = E_L + R I (1 - exp(-(t - 20 ms)/tau))
    t = np.arange(len(vs)) * dt
    on = (t >= 0.02) & (t <= 0.07)
    expected = -70 + 1e-10 / 10e-9 * 1e3 * (1 - np.exp(-(t[on] - 0.02) / tau))
    np.testing.assert_allclose(vs[on], expected, atol=1e-9)
    np.testing.assert_allclose(vs[t < 0.02], -70, atol=1e-12)
    after = t > 0.07
    np.testing.assert_allclose(vs[after], -70 + (expected[-1] + 70)
                               * np.exp(-(t[after] - 0.07) / tau), atol=1e-9)
    # a ramp from 0 to 200 pA over [20, 70) ms, zero outside
    ramp = np.where((t >= 0.02 - 1e-12) & (t < 0.07 - 1e-12), 200 * (t - 0.02) / 0.05, 0)
    np.testing.assert_allclose(ir, ramp, atol=1e-6)
    assert vr[-1] > -70


def test_provenance_names_the_file_models_seeds_and_values(tmp_path):
    path = _write(tmp_path, EI_NET.replace("{wi}", "50 nS"))
    net = read_network_file(path)
    with net.build(device="runtime", seed=9, we="4 nS") as built:
        prov = built.provenance
        assert built.groups["E"].g_max_e[:] == 4 * nS  # the change reached the group
        assert built.session.describe()["provenance"] == prov
    assert prov["network"] == {"name": "tiny", "version": 1, "status": "file",
                               "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    assert prov["seeds"] == {"connectivity": 9, "drive": 2}
    assert prov["parameters"] == {"rate": "10 Hz", "we": "4 nS", "wi": "50 nS"}
    with net.build(device="runtime", seed=9, we=4 * nS) as other:  # one form per value
        assert other.provenance == prov
    assert {m["model"] for m in prov["models"]} == {"lif@2", "ampa_exp@1", "gaba_exp@1",
                                                     "static@1"}
    assert all(len(m["sha256"]) == 64 for m in prov["models"])


def test_poisson_rate_times_dt_above_the_limit_is_an_error(tmp_path):
    net = _ei(tmp_path)
    # 2 kHz at dt = 0.1 ms: rate*dt = 0.2 > 0.1
    with pytest.raises(ModelError, match=r"inputs\.ext\.rate.*rate\*dt = 0\.2"):
        net.build(device="runtime", rate="2 kHz")
    from brianlab.devices import _ACTIVE  # the failed build closed its session
    assert _ACTIVE is None
    with net.build(device="runtime") as built:
        with pytest.raises(ModelError, match=r"rate\*dt = 0\.2"):
            built.run_args(rate="2 kHz")
        args = built.run_args(rate="1 kHz")
        assert {k.name: v for k, v in args.items()}["ext_rate"] == 1000 * Hz
    with pytest.raises(ModelError, match="no parameter 'nope'"):
        net.build(device="runtime", nope="1 nS")
    with pytest.raises(ModelError, match=r"connectivity seed must be an integer in \[0, 2"):
        net.build(seed=-1)


def test_a_phase_parameter_is_set_for_its_phase_only(tmp_path):
    text = INPUTS.replace(
        '{ name = "on", duration = "80 ms" }',
        '{ name = "on", duration = "40 ms", parameters = { current = "300 pA" } }, '
        '{ name = "after", duration = "40 ms" }')
    net = read_network_file(_write(tmp_path, text, "inp"))
    with net.build(device="runtime") as built:
        mon = built.monitors["state"][1]
        built.run()
        v = np.array(mon.v[0]) / float(mV)
        with pytest.raises(ModelError, match="set by a protocol phase"):
            built.run_args(current="200 pA")
    dt, tau = 0.1e-3, 0.02
    t = np.arange(len(v)) * dt
    # 300 pA from 20 to 60 ms, then 100 pA until 70 ms: the exact solution step by step
    current = np.where((t >= 0.02 - 1e-12) & (t < 0.06 - 1e-12), 300e-12,
                       np.where((t >= 0.06 - 1e-12) & (t < 0.07 - 1e-12), 100e-12, 0))
    expected = [-70.0]
    for c in current[:-1]:
        inf = -70 + c / 10e-9 * 1e3
        expected.append(inf + (expected[-1] - inf) * np.exp(-dt / tau))
    np.testing.assert_allclose(v, expected, atol=1e-8)


def _cmsa_sheet_text(e_side=150, i_side=75, k_e=200, k_i=400, sigma_i=28.284271247461902,
                     spontaneous="400 ms"):
    from brianlab.library import models_root

    text = (models_root() / "networks" / "cmsa_sheet" / "1.toml").read_text()
    for old, new in (("side = 150 }", f"side = {e_side} }}"),
                     ("side = 75, extent = 150", f"side = {i_side}, extent = {e_side}"),
                     ("k = 200,", f"k = {k_e},"), ("k = 400,", f"k = {k_i},"),
                     ("sigma = 28.284271247461902", f"sigma = {sigma_i!r}"),
                     ('duration = "400 ms"', f'duration = "{spontaneous}"')):
        assert old in text
        text = text.replace(old, new)
    return text


def test_the_cmsa_sheet_file_is_the_default_cmsa_network():
    from brianlab.cmsa.params import CMSAParams
    from brianlab.library import models_root

    p = CMSAParams()
    net = read_network_file(models_root() / "networks" / "cmsa_sheet" / "1.toml")
    assert net.populations["E"].lattice[0] == p.e_side
    assert net.populations["I"].lattice == (p.i_side, float(p.e_side))
    set_by = {"g_max_ampa": net.parameters["we"].value, "g_max_gaba": net.parameters["wi"].value}
    for pop in net.populations.values():  # the receptors' g_max are the parameters we, wi
        assert {**pop.parameters, **set_by} == p.neuron_params()
    k = {"ee": p.k_e, "ei": p.k_e, "ie": p.k_i, "ii": p.k_i}
    sigma = {"ee": p.sigma_e, "ei": p.sigma_e, "ie": p.sigma_i, "ii": p.sigma_i}
    for name, proj in net.projections.items():
        assert proj.connector.rule == "gaussian_fixed_indegree" and p.rule == "fixed_indegree"
        assert proj.connector.k == k[name] and proj.connector.sigma == sigma[name]
    for inp in net.inputs.values():
        assert inp["amplitude"] == p.drive and inp["interval"] == p.drive_interval
        assert inp["duration"] == p.drive_duration
    assert net.duration == p.total and net.dt == p.dt
    assert dict(net.seeds) == {"connectivity": p.network_seed, "drive": p.seed}
    assert net.run_values() == {"E.g_max_ampa": p.we, "I.g_max_ampa": p.we,
                                "E.g_max_gaba": p.wi, "I.g_max_gaba": p.wi}


def test_the_cmsa_sheet_file_gives_build_ei_sheet_spikes_bit_for_bit(tmp_path):
    from brian2 import Network

    from brianlab.cmsa.params import CMSAParams
    from brianlab.cmsa.protocol import build_network as cmsa_network

    # a small sheet (20 x 20 E, 10 x 10 I), 30 ms of drive and 20 ms spontaneous
    p = CMSAParams(e_side=20, i_side=10, k_e=30, k_i=40, duration=20 * ms,
                   analysis=10 * ms, voltage_frames=10)
    sheet, network = cmsa_network(p, name="sheet")
    network.run(p.total)
    reference = {"E": (np.array(sheet.spikes_e.i[:]), np.array(sheet.spikes_e.t[:])),
                 "I": (np.array(sheet.spikes_i.i[:]), np.array(sheet.spikes_i.t[:]))}
    ref_syn = {k: (np.array(s.i[:]), np.array(s.j[:]), np.array(s.w[:]))
               for k, s in sheet.synapses.items()}
    del sheet, network
    text = _cmsa_sheet_text(20, 10, 30, 40, p.sigma_i, "20 ms")
    net = read_network_file(_write(tmp_path, text, "cmsa_sheet"))
    with net.build(device="runtime") as built:
        built.run()
        ours = {pop: tuple(np.array(a) for a in built.spikes(pop)) for pop in ("E", "I")}
        syn = {k: (np.array(s.i[:]), np.array(s.j[:]), np.array(s.w[:]))
               for k, s in built.synapses.items()}
    for name in ref_syn:
        for a, b in zip(ref_syn[name], syn[name]):
            assert np.array_equal(a, b), name
    assert len(reference["E"][0]) > 100  # the drive makes the sheet fire
    for pop in ("E", "I"):
        assert np.array_equal(reference[pop][0], ours[pop][0])
        assert np.array_equal(reference[pop][1], ours[pop][1])


LATTICE = """
name = "lat"
version = 1
kind = "network"
summary = "lattice rules, a Poisson group, an image and a random current"

[seeds]
connectivity = 5
drive = 6

[populations.A]
model = "lif@2"
lattice = { side = 12 }
receptors = { e = "ampa_exp@1" }

[populations.B]
model = "lif@2"
lattice = { side = 6, extent = 12 }
receptors = { e = "ampa_exp@1" }

[populations.src]
model = "poisson@1"
size = 1000
initial = { rate = "50 Hz" }

[projections.kern]
source = "A"
target = "B"
synapse = "static@1"
receptor = "e"
connector = { rule = "gaussian_kernel", sigma = 1.5, normalise = "kernel_sum" }

[projections.prob]
source = "A"
target = "A"
synapse = "static@1"
receptor = "e"
connector = { rule = "gaussian_probability", p_max = 0.5, sigma = 2.0, normalise = "kernel_sum" }

[projections.drive]
source = "src"
target = "B"
synapse = "static@1"
receptor = "e"
connector = { rule = "fixed_indegree", k = 3 }
weight = "0"

[inputs.img]
kind = "image"
target = "A"
image = "cross"
amplitude = "1 nA"
start = "10 ms"

[inputs.noise]
kind = "random_current"
target = "B"
amplitude = "2 nA"
interval = "1 ms"
duration = "50 ms"

[monitors]
spikes = ["src"]
rates = ["src"]
state = [{ population = "A", variables = ["I_ext"], dt = "1 ms" },
         { population = "B", variables = ["I_ext"], dt = "1 ms" }]

[protocol]
phases = [{ name = "run", duration = "200 ms" }]
"""


def _periodic_d2(src_side, tgt_side, extent, i, j):
    """Squared torus distances between source i and target j (independent of brianlab)."""
    def xy(k, side):
        spacing = extent / side
        return (k % side) * spacing, (k // side) * spacing

    (xi, yi), (xj, yj) = xy(i, src_side), xy(j, tgt_side)
    dx = np.abs(xi - xj) % extent
    dy = np.abs(yi - yj) % extent
    dx, dy = np.minimum(dx, extent - dx), np.minimum(dy, extent - dy)
    return dx**2 + dy**2


def test_lattice_rules_poisson_groups_images_and_random_currents(tmp_path):
    from brian2 import nA

    from brianlab.inputs import cross_image

    net = read_network_file(_write(tmp_path, LATTICE, "lat"))
    with net.build(device="runtime") as built:
        kern, prob = built.synapses["kern"], built.synapses["prob"]
        ki, kj, kw = np.array(kern.i[:]), np.array(kern.j[:]), np.array(kern.w[:])
        pi, pj, pw = np.array(prob.i[:]), np.array(prob.j[:]), np.array(prob.w[:])
        built.run()
        n_spikes = len(built.spikes("src")[0])
        t_rate, rate = built.rates("src")
        a_mon, b_mon = built.monitors["state"]
        ia = np.array(a_mon.I_ext[:]) / float(nA)  # (neurons, frames at 0, 1, ... ms)
        ib = np.array(b_mon.I_ext[:]) / float(nA)
    # gaussian_kernel with kernel_sum normalisation: every pair within the cutoff (kernel
    # value 1e-6), weighted exp(-d**2/(2 sigma**2)) on the torus
    d2 = _periodic_d2(12, 6, 12.0, ki, kj)
    np.testing.assert_allclose(kw, np.exp(-d2 / (2 * 1.5**2)), rtol=1e-12)
    all_i, all_j = np.meshgrid(np.arange(144), np.arange(36), indexing="ij")
    kernel = np.exp(-_periodic_d2(12, 6, 12.0, all_i.ravel(), all_j.ravel()) / (2 * 1.5**2))
    assert len(ki) == np.count_nonzero(kernel >= 1e-6)
    # gaussian_probability: pairs drawn with p_max*kernel (no autapses), weight 1/p_max
    all_i, all_j = np.meshgrid(np.arange(144), np.arange(144), indexing="ij")
    keep = all_i != all_j
    p = 0.5 * np.exp(-_periodic_d2(12, 12, 12.0, all_i[keep], all_j[keep]) / (2 * 2.0**2))
    assert abs(len(pi) - p.sum()) < 4 * np.sqrt((p * (1 - p)).sum())
    assert not np.any(pi == pj) and np.all(pw == 2.0)
    # a Poisson group: 1000 sources at 50 Hz for 200 ms, 10,000 spikes expected
    assert abs(n_spikes - 10_000) < 4 * np.sqrt(10_000)
    assert len(t_rate) == 2000  # one value per step; their sum is spikes / (N dt)
    assert abs(float(np.sum(rate)) * 1e-4 * 1000 - n_spikes) < 1e-6 * n_spikes
    # the image: a cross of 1 nA on A from 10 ms on (frames every 1 ms)
    cross = cross_image(12).ravel()
    np.testing.assert_allclose(ia[:, 5], 0)
    np.testing.assert_allclose(ia[:, 50], cross, atol=1e-12)
    # the random current: uniform in [0, 2 nA) until 50 ms, then zero
    during = ib[:, 1:50].ravel()
    assert during.min() >= 0 and during.max() < 2
    assert abs(during.mean() - 1) < 4 * (2 / np.sqrt(12)) / np.sqrt(during.size)
    np.testing.assert_allclose(ib[:, 60:], 0)


TWIN_NET = """
name = "twin"
version = 1
kind = "network"
summary = "a small COBA-like network and its plain-Brian2 twin"

[seeds]
connectivity = 7
drive = 8

[populations.E]
model = "lif@2"
size = 80
receptors = { e = "ampa_exp@1", i = "gaba_exp@1" }
parameters = { E_L = "-60 mV", V_reset = "-60 mV", tau_ref = "5 ms", tau_i = "10 ms", E_i = "-80 mV", g_max_e = "6 nS", g_max_i = "67 nS" }
initial = { v = { normal = ["-55 mV", "5 mV"] }, I_ext = "220 pA" }

[populations.I]
model = "lif@2"
size = 20
receptors = { e = "ampa_exp@1", i = "gaba_exp@1" }
parameters = { E_L = "-60 mV", V_reset = "-60 mV", tau_ref = "5 ms", tau_i = "10 ms", E_i = "-80 mV", g_max_e = "6 nS", g_max_i = "67 nS" }
initial = { v = { uniform = ["-60 mV", "-50 mV"] }, I_ext = "210 pA" }

[projections.EE]
source = "E"
target = "E"
synapse = "static@1"
receptor = "e"
connector = { rule = "probability", p = 0.1 }

[projections.EI]
source = "E"
target = "I"
synapse = "static@1"
receptor = "e"
connector = { rule = "fixed_indegree", k = 10 }
delay = { uniform = ["0 ms", "2 ms"] }

[projections.IE]
source = "I"
target = "E"
synapse = "static@1"
receptor = "i"
connector = { rule = "fixed_outdegree", k = 20 }
weight = { normal = ["1", "0.2"] }

[projections.II]
source = "I"
target = "I"
synapse = "static@1"
receptor = "i"
connector = { rule = "all_to_all" }
weight = "0.5"

[monitors]
spikes = ["E", "I"]

[protocol]
phases = [{ name = "run", duration = "200 ms" }]
"""


def test_a_plain_brian2_twin_making_the_documented_calls_gives_the_same_spikes(tmp_path):
    """The twin is written from the model definitions (lif@2 with ampa_exp/gaba_exp as
    labels e/i, static synapses) and the documented seed calls, not from the builder."""
    from brian2 import (Clock, Network, NeuronGroup, SpikeMonitor, Synapses, amp, farad,
                        seed, siemens, volt)

    net = read_network_file(_write(tmp_path, TWIN_NET, "twin"))
    with net.build(device="runtime") as built:
        built.run()
        ours = {pop: tuple(np.array(a) for a in built.spikes(pop)) for pop in ("E", "I")}

    eqs = """
    dv/dt = (g_L*(E_L - v) + I_ext + I_syn)/C : volt (unless refractory)
    I_ext : amp
    ds_e/dt = -s_e/tau_e : 1
    I_e = g_max_e*s_e*(E_e - v) : amp
    ds_i/dt = -s_i/tau_i : 1
    I_i = g_max_i*s_i*(E_i - v) : amp
    I_syn = I_e + I_i : amp
    C : farad (constant, shared)
    g_L : siemens (constant, shared)
    E_L : volt (constant, shared)
    V_th : volt (constant, shared)
    V_reset : volt (constant, shared)
    tau_ref : second (constant, shared)
    tau_e : second (constant, shared)
    E_e : volt (constant, shared)
    g_max_e : siemens (constant, shared)
    tau_i : second (constant, shared)
    E_i : volt (constant, shared)
    g_max_i : siemens (constant, shared)
    """
    clock = Clock(0.1 * ms, name="twin_twin_clock")
    seed(7)  # seeds.connectivity, before the populations
    groups = {}
    for name, n, v0, i_ext in (("E", 80, "-0.055*volt + (0.005*volt)*randn()", 220 * pA),
                               ("I", 20, "-0.06*volt + (0.01*volt)*rand()", 210 * pA)):
        g = NeuronGroup(n, eqs, threshold="v > V_th", reset="v = V_reset",
                        refractory="tau_ref", method="euler", clock=clock, namespace={},
                        name=f"twin_twin_{name}")
        g.C, g.g_L, g.E_L = 200 * pF, 10 * nS, -60 * mV
        g.V_th, g.V_reset, g.tau_ref = -50 * mV, -60 * mV, 5 * ms
        g.tau_e, g.E_e, g.g_max_e = 5 * ms, 0 * mV, 6 * nS
        g.tau_i, g.E_i, g.g_max_i = 10 * ms, -80 * mV, 67 * nS
        g.v = v0
        g.I_ext = i_ext
        groups[name] = g
    E, I = groups["E"], groups["I"]

    def syn(name, src, tgt, var):
        return Synapses(src, tgt, "w : 1", on_pre=f"{var}_post += w", clock=clock,
                        namespace={}, name=f"twin_twin_{name}")

    # projection n: seed(connectivity + 2n - 1) before connect, + 2n before its values
    seed(8)
    ee = syn("EE", E, E, "s_e")
    ee.connect(p=0.1, condition="i != j")
    seed(9)
    ee.w = 1
    seed(10)
    ei = syn("EI", E, I, "s_e")
    ei.connect(i="_k for _k in sample(N_pre, size=10)")
    seed(11)
    ei.w = 1
    ei.delay = "0.0*second + (0.002*second)*rand()"
    seed(12)
    ie = syn("IE", I, E, "s_i")
    ie.connect(j="_k for _k in sample(N_post, size=20)")
    seed(13)
    ie.w = 1
    ie.w = "1.0 + (0.2)*randn()"
    seed(14)
    ii = syn("II", I, I, "s_i")
    ii.connect(condition="i != j")
    seed(15)
    ii.w = 1
    ii.w = 0.5
    mons = {"E": SpikeMonitor(E), "I": SpikeMonitor(I)}
    network = Network(E, I, ee, ei, ie, ii, *mons.values())
    seed(8)  # seeds.drive, immediately before the first run
    network.run(200 * ms)
    twin = {pop: (np.array(m.i[:]), np.array(m.t[:])) for pop, m in mons.items()}
    assert len(twin["E"][0]) > 100 and len(twin["I"][0]) > 20
    for pop in ("E", "I"):
        assert np.array_equal(twin[pop][0], ours[pop][0])
        assert np.array_equal(twin[pop][1], ours[pop][1])


def test_the_hash_drive_seed_is_a_run_time_value(tmp_path):
    from brian2 import nA

    net = read_network_file(_write(tmp_path, LATTICE, "lat"))

    def currents(built):
        return np.array(built.monitors["state"][1].I_ext[:]) / float(nA)

    with net.build(device="runtime", drive_seed=6) as built:
        built.run()
        first = currents(built)
        built.rerun(drive_seed=9)
        rerun = currents(built)
        with pytest.raises(ModelError, match="drive_seed must be an integer"):
            built.run_args(drive_seed=-3)
    with net.build(device="runtime", drive_seed=9) as built:
        built.run()
        fresh = currents(built)
    assert np.array_equal(rerun, fresh)  # the run-time seed is the build-time one
    assert not np.array_equal(first[:, 1:50], rerun[:, 1:50])


def test_save_writes_the_provenance_spikes_and_rates_into_a_run_folder(tmp_path):
    import json

    from brianlab.results import ResultsError, read_summary

    path = _write(tmp_path, EI_NET.replace("{wi}", "50 nS").replace(
        'spikes = ["E", "I"]', 'spikes = ["E", "I"]\nrates = ["I"]'))
    net = read_network_file(path)
    out = tmp_path / "out"
    with net.build(device="runtime", seed=9, we="4 nS") as built:
        with pytest.raises(ModelError, match="tiny@1: nothing to save: run"):
            built.save(out)
        built.run()
        built.save(out)
        built.save(out)  # the same run configuration: the folder is reused
        spikes = {pop: built.spikes(pop) for pop in ("E", "I")}
        t_rate, rate = built.rates("I")
        description = built.session.describe()
    summary = read_summary(out)
    prov = summary["provenance"]
    assert prov["network"] == {"name": "tiny", "version": 1, "status": "file",
                               "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    assert prov["seeds"] == {"connectivity": 9, "drive": 2}
    assert prov["parameters"]["we"] == "4 nS"
    assert {m["model"] for m in prov["models"]} == {"lif@2", "ampa_exp@1", "gaba_exp@1",
                                                     "static@1"}
    assert summary["network"] == "tiny@1" and summary["device"]["device"] == "runtime"
    assert summary["device"]["provenance"] == prov
    assert summary["device"]["timings"] == json.loads(json.dumps(description["timings"]))
    assert summary["wall_times"]["run_s"] > 0 and summary["wall_times"]["construct_s"] > 0
    assert summary["duration_s"] == pytest.approx(0.2) and summary["dt_s"] == 1e-4
    assert summary["populations"] == {"E": 200, "I": 50}
    assert [p["name"] for p in summary["protocol"]] == ["settle", "run"]
    with np.load(out / "spikes.npz") as saved:
        for pop in ("E", "I"):
            assert np.array_equal(saved[f"{pop}_i"], spikes[pop][0])
            assert np.array_equal(saved[f"{pop}_t"], np.asarray(spikes[pop][1] / second))
            assert summary["spike_counts"][pop] == len(spikes[pop][0]) > 0
    with np.load(out / "rates.npz") as saved:
        assert np.array_equal(saved["I_rate"], np.asarray(rate / Hz))
        assert np.array_equal(saved["I_t"], np.asarray(t_rate / second))
        # the rate's integral is the spike count per neuron (independent of the monitor)
        assert saved["I_rate"].sum() * 1e-4 * 50 == pytest.approx(len(spikes["I"][0]))
    # another run configuration is refused, naming what differs
    with net.build(device="runtime", seed=10, we="4 nS") as built:
        built.run()
        with pytest.raises(ResultsError, match="seeds.connectivity"):
            built.save(out)


def test_a_state_monitor_window_records_only_its_steps_and_leaves_the_spikes(tmp_path):
    state = '[monitors]\nspikes = ["E", "I"]\nstate = [{ population = "E", variables = ["v"], ' \
            'record = [0, 1, 2]{window} }]\n'
    results = {}
    for label, window in (("all", ""), ("window", ', window = ["15 ms", "25 ms"]')):
        text = EI_NET.replace("{wi}", "50 nS").replace('[monitors]\nspikes = ["E", "I"]\n',
                                                       state.replace("{window}", window))
        (tmp_path / label).mkdir()
        net = read_network_file(_write(tmp_path / label, text))
        with net.build(device="runtime") as built:
            spec = built.compile_spec()
            mon = built.monitors["state"][0]
            assert (mon in spec.active) == (label == "window")
            built.run()
            spikes = {pop: tuple(np.array(a) for a in built.spikes(pop)) for pop in "EI"}
            results[label] = (spikes, np.array(mon.t[:]), np.array(mon.v[:]))
    assert len(results["all"][0]["E"][0]) > 0
    assert _same_spikes(results["all"][0], results["window"][0])
    t_all, v_all = results["all"][1:]
    t_win, v_win = results["window"][1:]
    steps = (t_all >= 15 * 1e-3 - 1e-12) & (t_all < 25 * 1e-3 - 1e-12)
    assert len(t_win) == 100 == steps.sum()  # 10 ms at dt 0.1 ms: the window's samples only
    assert np.array_equal(t_win, t_all[steps]) and np.array_equal(v_win, v_all[:, steps])
    assert dict(spec.active)[mon] == [(15 * ms, 25 * ms)]


def test_an_object_name_prefix_must_be_a_lower_case_identifier(tmp_path):
    from brianlab.networks.builder import build_network

    for bad in ("Cmsa", "2x", "a-b", ""):
        with pytest.raises(ModelError, match="invalid object name prefix"):
            build_network(_ei(tmp_path), name=bad)
