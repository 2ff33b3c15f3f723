"""Defects found in the review of issue 24 (network files), each with the check that
caught it: a network file must build what it says, and no value may bypass the checks
that the same value gets elsewhere."""

import textwrap

import numpy as np
import pytest
from brian2 import StateMonitor, ms, nS, pA

from brianlab.networkfile import parse_network_text
from brianlab.units import ModelError

pytestmark = pytest.mark.filterwarnings("ignore::brianlab.library.UnreleasedModelWarning")

#: 100 LIF neurons on a 10 x 10 lattice, one Gaussian fixed in-degree projection onto
#: itself (k = 50 of 100 sources at sigma = 1 spacing: most draws repeat a source).
LATTICE = """
name = "lat"
version = 1
kind = "network"

[seeds]
connectivity = 1
drive = 2

[parameters]
we = { value = "3 nS", sets = ["E.g_max_e"] }

[populations.E]
model = "lif@2"
lattice = { side = 10 }
receptors = { e = "ampa_exp@1" }

[projections.EE]
source = "E"
target = "E"
synapse = "static@1"
receptor = "e"
connector = { rule = "gaussian_fixed_indegree", k = 50, sigma = 1.0 }
{extra}
[monitors]
spikes = ["E"]

[protocol]
phases = [{ name = "run", duration = "1 ms" }]
"""


def _lattice(extra=""):
    return parse_network_text(textwrap.dedent(LATTICE.replace("{extra}", extra)))


def test_gaussian_fixed_indegree_says_it_makes_multapses():
    """space.fixed_indegree draws with replacement; the file's multapses (default false)
    said a pair connects at most once while the build connected most pairs twice or more."""
    net = _lattice()
    assert net.projections["EE"].multapses is True
    assert _lattice("multapses = true").projections["EE"].multapses is True
    with pytest.raises(ModelError, match=r"projections\.EE\.multapses: the rule "
                                         r"'gaussian_fixed_indegree' draws sources with "
                                         r"replacement"):
        _lattice("multapses = false")
    with pytest.raises(ModelError, match=r"projections\.EE\.connector\.k: k = 101 is larger "
                                         r"than the source 'E' \(size 100\)"):
        parse_network_text(textwrap.dedent(LATTICE.replace("{extra}", "")
                                           .replace("k = 50", "k = 101")))
    with net.build(device="runtime") as built:
        syn = built.synapses["EE"]
        i, j = np.asarray(syn.i[:]), np.asarray(syn.j[:])
    assert len(i) == 100 * 50  # k per target
    assert np.all(np.bincount(j, minlength=100) == 50)
    pairs = np.unique(i.astype(np.int64) * 100 + j)
    assert len(pairs) < len(i)  # repeated pairs: what multapses = true says
    assert not np.any(i == j)  # no autapses (the default)


def test_run_time_values_of_model_parameters_are_range_checked():
    """A negative conductance is refused as a parameter override; through a run-time
    parameter (its default, a phase's value, a build change or run_args) it was taken."""
    text = textwrap.dedent(LATTICE.replace("{extra}", ""))
    override = text.replace('receptors = { e = "ampa_exp@1" }',
                            'receptors = { e = "ampa_exp@1" }\nparameters = { g_max_e = "-3 nS" }')
    with pytest.raises(ModelError, match="g_max_e = -3. nS: a conductance cannot be negative"):
        parse_network_text(override)
    with pytest.raises(ModelError, match=r"parameters\.we\.sets\.E\.g_max_e: g_max_e = -3\. nS: "
                                         "a conductance cannot be negative"):
        parse_network_text(text.replace('value = "3 nS"', 'value = "-3 nS"'))
    phase = text.replace('duration = "1 ms" }', 'duration = "1 ms", parameters = { we = "-1 nS" } }')
    with pytest.raises(ModelError, match=r"protocol\.phases\[0\]\.parameters: g_max_e = -1\. nS"):
        parse_network_text(phase)
    net = parse_network_text(text)
    with pytest.raises(ModelError, match=r"parameter target E\.g_max_e: g_max_e = -2\. nS"):
        net.build(device="runtime", we="-2 nS")
    with net.build(device="runtime", we="4 nS") as built:
        assert built.groups["E"].g_max_e[:] == 4 * nS
        with pytest.raises(ModelError, match=r"parameter target E\.g_max_e: g_max_e = -5\. nS"):
            built.run_args(we="-5 nS")
        assert {k.name: v for k, v in built.run_args(we="5 nS").items()} == {"g_max_e": 5 * nS}


def test_random_currents_of_one_variable_need_one_interval():
    """The current inputs of a variable are one run_regularly on the random current's
    interval: a second random current with another interval was silently drawn on the
    first one's (here every 5 ms instead of every 1 ms)."""
    inputs = """
[inputs.a]
kind = "random_current"
target = "E"
amplitude = "1 nA"
interval = "1 ms"

[inputs.b]
kind = "random_current"
target = "E"
amplitude = "1 nA"
interval = "{interval}"
"""
    text = textwrap.dedent(LATTICE.replace("{extra}", inputs))
    with pytest.raises(ModelError, match=r"inputs\.b\.interval: 5\. ms, but the random_current "
                                         r"'a' on E\.I_ext has interval 1\. ms"):
        parse_network_text(text.replace("{interval}", "5 ms"))
    net = parse_network_text(text.replace("{interval}", "1 ms"))
    with net.build(device="runtime") as built:
        (op,) = [o for o in built.groups["E"].contained_objects if o.name.endswith("_inputs")]
        assert float(op.clock.dt) == pytest.approx(1e-3)


def test_provenance_after_a_rerun_gives_its_values_and_hash_seed():
    """rerun(we=...) ran other values than the build's, but built.provenance and the
    session's describe() (what results record) still gave the build's."""
    inputs = """
[inputs.a]
kind = "random_current"
target = "E"
amplitude = "1 nA"
interval = "1 ms"
"""
    net = parse_network_text(textwrap.dedent(LATTICE.replace("{extra}", inputs)))
    with net.build(device="runtime", we="4 nS") as built:
        built.run()
        assert built.provenance["parameters"] == {"we": "4 nS"}
        built.rerun(we="5 nS", drive_seed=7)
        assert built.groups["E"].g_max_e[:] == 5 * nS
        assert built.provenance["parameters"] == {"we": "5 nS"}
        assert built.provenance["seeds"] == {"connectivity": 1, "drive": 2, "hash_drive": 7}
        assert built.session.describe()["provenance"] == built.provenance
        built.rerun()  # the build's values again
        assert built.provenance["parameters"] == {"we": "4 nS"}
        assert built.provenance["seeds"] == {"connectivity": 1, "drive": 2}


def test_one_rate_times_dt_limit():
    """networkfile and ranges each defined MAX_RATE_DT = 0.1: one rule, one number."""
    from brianlab import networkfile, ranges
    from brianlab.networks import builder

    assert networkfile.MAX_RATE_DT is ranges.MAX_RATE_DT is builder.MAX_RATE_DT


def _torus_d2(i, j, side=10, extent=10.0):
    """Squared periodic distances of lattice indices on a side x side lattice."""
    spacing = extent / side
    d = [((a % side) - (b % side)) * spacing for a, b in ((i, j),)] + \
        [((a // side) - (b // side)) * spacing for a, b in ((i, j),)]
    return sum((x - extent * np.round(x / extent)) ** 2 for x in d)


def test_gaussian_kernel_weights_are_the_gaussian_and_kernel_sum_is_the_total():
    """gaussian_kernel without normalise gave every pair within the cutoff the same weight
    (a flat disc, not a Gaussian); now w = weight*exp(-d**2/(2 sigma**2)). kernel_sum
    makes each target's total weight the dense kernel's sum (the docs said 'divided by'
    it): for gaussian_fixed_indegree exactly weight*kernel_sum, k synapses of kernel_sum/k."""
    from brianlab.space import Lattice, kernel_sum

    kernel = parse_network_text(textwrap.dedent(LATTICE.replace("{extra}", "weight = \"0.5\"")
                                                .replace('"gaussian_fixed_indegree", k = 50, '
                                                         'sigma = 1.0', '"gaussian_kernel", '
                                                                        'sigma = 1.5')))
    with kernel.build(device="runtime") as built:
        syn = built.synapses["EE"]
        i, j, w = np.asarray(syn.i[:]), np.asarray(syn.j[:]), np.asarray(syn.w[:])
    np.testing.assert_allclose(w, 0.5 * np.exp(-_torus_d2(i, j) / (2 * 1.5**2)), rtol=1e-12)
    assert not np.any(i == j) and w.min() < 0.01 < 0.4 < w.max()

    indegree = parse_network_text(textwrap.dedent(
        LATTICE.replace("{extra}", "weight = \"0.5\"")
        .replace("sigma = 1.0", "sigma = 1.0, normalise = \"kernel_sum\"")))
    with indegree.build(device="runtime") as built:
        syn = built.synapses["EE"]
        j, w = np.asarray(syn.j[:]), np.asarray(syn.w[:])
    total = np.bincount(j, weights=w, minlength=100)
    dense = kernel_sum(Lattice(10), Lattice(10), 1.0, allow_self=False, same_population=True)
    np.testing.assert_allclose(total, 0.5 * dense, rtol=1e-12)
    assert dense == pytest.approx(2 * np.pi - 1, rel=0.01)  # the Gaussian's integral, less self


def test_an_initial_value_of_a_variable_that_current_inputs_assign_is_refused():
    """The current inputs of a variable assign it every step: an initial I_ext (a bias
    current) beside a current_step was replaced by the step's term, 0 outside its window,
    without a word."""
    bias = textwrap.dedent(LATTICE.replace("{extra}", """
[inputs.step]
kind = "current_step"
target = "E"
amplitude = "50 pA"
start = "5 ms"
""")).replace('receptors = { e = "ampa_exp@1" }',
              'receptors = { e = "ampa_exp@1" }\ninitial = { I_ext = "100 pA" }')
    with pytest.raises(ModelError, match=r"inputs\.step\.target: E\.I_ext has an initial value "
                                         r"\(populations\.E\.initial\.I_ext\)"):
        parse_network_text(bias)
    # a constant bias as an input: both terms add up
    both = bias.replace('initial = { I_ext = "100 pA" }', "").replace("[inputs.step]", """
[inputs.bias]
kind = "current_step"
target = "E"
amplitude = "100 pA"

[inputs.step]""")
    net = parse_network_text(both.replace('duration = "1 ms"', 'duration = "6 ms"'))
    with net.build(device="runtime") as built:
        mon = StateMonitor(built.groups["E"], "I_ext", record=[0], dt=1 * ms)
        built.network.add(mon)
        built.run()
        np.testing.assert_allclose(mon.I_ext[0] / pA, [100, 100, 100, 100, 100, 150], rtol=1e-12)


def test_an_omitted_weight_of_a_normalised_lattice_rule_is_the_models_initial_w():
    """'weight omitted: the model's initial w' (the format reference); with a lattice
    normalisation the builder gave w = the factor alone, dropping the model's initial w
    (0.5*w_max = 0.5 for stdp_pair@1)."""
    from brianlab.space import Lattice, kernel_sum

    text = textwrap.dedent(LATTICE.replace("{extra}", "")).replace(
        'synapse = "static@1"', 'synapse = "stdp_pair@1"').replace(
        "sigma = 1.0", "sigma = 1.0, normalise = \"kernel_sum\"")
    net = parse_network_text(text)
    with net.build(device="runtime") as built:
        w = np.asarray(built.synapses["EE"].w[:])
    dense = kernel_sum(Lattice(10), Lattice(10), 1.0, allow_self=False, same_population=True)
    np.testing.assert_allclose(w, 0.5 * dense / 50, rtol=1e-12)


@pytest.mark.parametrize("old, new, where", [
    ('receptors = { e = "ampa_exp@1" }', 'receptors = { e = "ampa_exp" }',
     "populations.E.receptors.e"),
    ('model = "lif@2"', 'model = "lif"', "populations.E.model"),
    ('synapse = "static@1"', 'synapse = "static"', "projections.EE.synapse"),
])
def test_model_references_must_be_pinned(old, new, where):
    """'ampa_exp' meant the newest version: the file would build another model once
    ampa_exp@2 exists (and the builder resolved the name again, after the checks)."""
    text = textwrap.dedent(LATTICE.replace("{extra}", ""))
    assert old in text
    pinned = new.split('"')[-2] + "@" + old.split("@")[-1].split('"')[0]
    with pytest.raises(ModelError, match=rf"{where}: unpinned model '{new.split(chr(34))[-2]}'"
                                         rf".*write '{pinned}'"):
        parse_network_text(text.replace(old, new))


CURRENTS = """
[inputs.drive]
kind = "random_current"
target = "E"
amplitude = "1 nA"
interval = "1 ms"

[inputs.stim]
target = "E"
{stim}
"""


def _currents(stim):
    return textwrap.dedent(LATTICE.replace("{extra}", CURRENTS.replace("{stim}", stim)))


def test_current_inputs_with_a_random_current_keep_their_shape():
    """A variable's current inputs are one operation on the random current's interval:
    a ramp became a staircase and a step's edge moved to the next multiple of 1 ms."""
    with pytest.raises(ModelError, match=r"inputs\.stim\.kind: a current_ramp on E\.I_ext, "
                                         r"which the random_current 'drive' also drives.*"
                                         r"rule: no current_ramp"):
        parse_network_text(_currents('kind = "current_ramp"\namplitude_start = "0 nA"\n'
                                     'amplitude_end = "1 nA"\nstart = "0 ms"\n'
                                     'stop = "2 ms"'))
    step = 'kind = "current_step"\namplitude = "1 nA"\nstart = "{start}"\nstop = "3 ms"'
    with pytest.raises(ModelError, match=r"inputs\.stim\.start: 0\.5 ms is not a multiple of "
                                         r"the interval 1\. ms of the random_current 'drive'"):
        parse_network_text(_currents(step.replace("{start}", "0.5 ms")))
    with pytest.raises(ModelError, match=r"inputs\.stim\.stop: .* not a multiple"):
        parse_network_text(_currents(step.replace("{start}", "1 ms").replace("3 ms",
                                                                            "2.3 ms")))
    net = parse_network_text(_currents(step.replace("{start}", "2 ms")))
    assert float(net.inputs["stim"].fields["start"]) == pytest.approx(2e-3)


def test_a_parameter_and_an_override_may_not_set_the_same_value():
    """'we' sets E.g_max_e; an override of g_max_e in the population was silently lost."""
    text = textwrap.dedent(LATTICE.replace("{extra}", "")).replace(
        'receptors = { e = "ampa_exp@1" }',
        'receptors = { e = "ampa_exp@1" }\nparameters = { g_max_e = "5 nS" }')
    with pytest.raises(ModelError, match=r"parameters\.we\.sets\.E\.g_max_e: 'E\.g_max_e' is "
                                         r"also set by populations\.E\.parameters\.g_max_e"):
        parse_network_text(text)


def test_a_rate_may_not_be_a_normal_distribution():
    """A normal rate can be negative; it was checked at mean + 3 sigma only."""
    text = textwrap.dedent(LATTICE.replace("{extra}", "")).replace("[projections.EE]", """
[populations.P]
model = "poisson@1"
size = 10
initial = { rate = { normal = ["5 Hz", "1 Hz"] } }

[projections.EE]""")
    with pytest.raises(ModelError, match=r"populations\.P\.initial\.rate\.normal: a rate as a "
                                         r"normal distribution"):
        parse_network_text(text)
    uniform = parse_network_text(text.replace('normal = ["5 Hz", "1 Hz"]',
                                              'uniform = ["4 Hz", "6 Hz"]'))
    assert uniform.populations["P"].initial["rate"].kind == "uniform"


def test_object_names_may_not_collide():
    """A population 'spikes_E' and the spike monitor of E were both 'lat_spikes_E'."""
    text = textwrap.dedent(LATTICE.replace("{extra}", "")).replace("[projections.EE]", """
[populations.spikes_E]
model = "lif@2"
size = 2

[projections.EE]""")
    with pytest.raises(ModelError, match=r"monitors\.spikes \(E\) and populations\.spikes_E "
                                         r"would both be the Brian2 object 'lat_spikes_E'"):
        parse_network_text(text)
    parse_network_text(text.replace("spikes_E]", "S]"))


def test_the_builder_refuses_an_unpinned_model():
    """A NetworkFile made in Python (not read) with 'lif' would build the newest lif at
    build time, which may differ from the model any check saw."""
    import dataclasses

    from brianlab.networkfile import _freeze

    net = _lattice()
    pop = dataclasses.replace(net.populations["E"], model="lif")
    unpinned = dataclasses.replace(net, populations=_freeze({"E": pop}))
    with pytest.raises(ModelError, match=r"lat@1: populations\.E\.model: unpinned model 'lif'"):
        unpinned.build(device="runtime")
