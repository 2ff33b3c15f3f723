"""Network files: parsing, every load-time check, the library's networks/ folder and the CLI.

No Brian2 object is built here (the builder's tests build networks).
"""

import hashlib
import shutil
import warnings

import pytest
from brian2 import Hz, mV, ms, nS, second

import brianlab
from brianlab import ModelError, NetworkFile, UnreleasedModelWarning, load_network
from brianlab.__main__ import main
from brianlab.library import list_models, lock_problems, models_root, write_lock
from brianlab.networkfile import (KEY_DOCS, MAX_RATE_DT, Value, evaluate_expression,
                                  format_reference, parse_network_text, read_network_file)

COBA = models_root() / "networks" / "coba" / "1.toml"

# A small network exercising every table; each test changes one thing in it.
BASE = '''
name = "small"
version = 1
kind = "network"
summary = "a small E/I network for the tests"
dt = "0.1 ms"

[seeds]
connectivity = 1
drive = 2

[parameters]
we = { value = "6 nS", sets = ["E.g_max_e", "I.g_max_e"] }
g = { value = "4", sets = { "IE.w" = "-g*0.5" } }
nu = { value = "10 Hz", sets = ["ext.rate"] }

[populations.E]
model = "lif@2"
size = 80
receptors = { e = "ampa_exp@1", i = "gaba_exp@1" }
parameters = { E_L = "-60 mV", tau_ref = "5 ms" }
initial = { v = { uniform = ["-60 mV", "-50 mV"] } }

[populations.I]
model = "lif@2"
size = 20
receptors = { e = "ampa_exp@1", i = "gaba_exp@1" }

[projections.EE]
source = "E"
target = "E"
synapse = "static@1"
receptor = "e"
connector = { rule = "probability", p = 0.1 }
weight = { normal = ["1", "0.1"] }
delay = "1.5 ms"

[projections.IE]
source = "I"
target = "E"
synapse = "static@1"
receptor = "i"
connector = { rule = "fixed_indegree", k = 5 }
shared = ["w"]

[inputs.ext]
kind = "poisson_input"
target = "E"
receptor = "e"
count = 100
rate = "10 Hz"
weight = "0.5"

[monitors]
spikes = ["E", "I"]
rates = ["E"]
state = [{ population = "E", variables = ["v"], record = [0, 1], dt = "1 ms" }]

[protocol]
phases = [
  { name = "settle", duration = "50 ms", inputs_off = ["ext"] },
  { name = "run", duration = "200 ms", parameters = { we = "7 nS" } },
]
'''


def parse(text=BASE, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnreleasedModelWarning)
        return parse_network_text(text, path="net.toml", **kwargs)


def changed(old, new, text=BASE):
    assert text.count(old) == 1, old
    return text.replace(old, new)


def refused(text, match):
    with pytest.raises(ModelError, match=match) as info:
        parse(text)
    assert str(info.value).startswith("net.toml: ")
    assert "\n" not in str(info.value)
    return str(info.value)


# -- the coba file ------------------------------------------------------------------------
def test_coba_parses_with_the_published_values():
    """Brette et al. (2007) J Comput Neurosci 23:349, benchmark 1 (COBA): 4000 neurons,
    80 % E / 20 % I, p = 2 %, tau_m = 20 ms (C = 200 pF, g_L = 10 nS), E_L = -60 mV,
    threshold -50 mV, reset -60 mV, 5 ms refractory, conductance jumps 6 nS / 67 nS with
    decay 5 ms / 10 ms and reversal 0 mV / -80 mV."""
    net = load_network("coba")
    assert isinstance(net, NetworkFile) and net.ref == "coba@1"
    assert net.status == "released"
    assert net.sha256 == hashlib.sha256(COBA.read_bytes()).hexdigest()
    assert net.provenance == {"name": "coba", "version": 1, "sha256": net.sha256,
                              "status": "released"}
    assert {p: net.populations[p].size for p in net.populations} == {"E": 3200, "I": 800}
    for pop in net.populations.values():
        assert pop.model == "lif@2" and dict(pop.receptors) == {"e": "ampa_exp@1",
                                                                  "i": "gaba_exp@1"}
        par = pop.parameters
        assert float(par["C"] / par["g_L"]) == pytest.approx(0.020, rel=1e-12)
        assert (par["E_L"], par["V_th"], par["V_reset"]) == (-60 * mV, -50 * mV, -60 * mV)
        assert (par["tau_ref"], par["tau_e"], par["tau_i"]) == (5 * ms, 5 * ms, 10 * ms)
        assert (par["E_e"], par["E_i"]) == (0 * mV, -80 * mV)
        # the benchmark's Brian script (COBA.py): v = E_L + (5 randn - 5) mV,
        # g_e = (1.5 randn + 4) 10 nS, g_i = (12 randn + 20) 10 nS, as s = g / g_max
        assert pop.initial["v"] == Value("normal", (-65 * mV, 5 * mV))
        for var, g_max, mean, std in (("s_e", 6, 40, 15), ("s_i", 67, 200, 120)):
            value = pop.initial[var]
            assert value.kind == "normal"
            assert [float(q) for q in value.args] == pytest.approx([mean / g_max, std / g_max],
                                                                   rel=1e-12)
    assert list(net.projections) == ["EE", "EI", "IE", "II"]
    for proj in net.projections.values():
        assert proj.connector.rule == "probability" and proj.connector.p == 0.02
        assert proj.receptor == ("e" if proj.source == "E" else "i")
        assert proj.weight.quantity == 1 and not proj.autapses and not proj.multapses
    values = net.run_values()
    assert values == {"E.g_max_e": 6 * nS, "I.g_max_e": 6 * nS, "E.g_max_i": 67 * nS,
                      "I.g_max_i": 67 * nS}
    assert net.run_values(we="7 nS")["I.g_max_e"] == 7 * nS
    assert net.duration == 1 * second and net.dt == 0.1 * ms
    assert dict(net.seeds) == {"connectivity": 1, "drive": 2}


def test_values_become_brian2_expressions():
    assert Value("normal", (-55 * mV, 5 * mV)).brian2_expression() == \
        "-0.055*volt + (0.005*volt)*randn()"
    assert Value("uniform", (-60 * mV, -50 * mV)).brian2_expression() == \
        "-0.06*volt + (0.01*volt)*rand()"
    assert Value("constant", (6 * nS,)).brian2_expression() == f"{float(6 * nS)!r}*siemens"
    assert Value("constant", (brianlab.parse_quantity("0.5"),)).brian2_expression() == "0.5"


def test_the_small_network_parses_in_file_order():
    net = parse()
    assert list(net.populations) == ["E", "I"] and list(net.projections) == ["EE", "IE"]
    ee, ie = net.projections["EE"], net.projections["IE"]
    assert ee.weight == Value("normal", (brianlab.parse_quantity("1"),
                                         brianlab.parse_quantity("0.1")))
    assert ee.delay.quantity == 1.5 * ms and ie.weight is None and ie.shared == ("w",)
    assert ie.connector.k == 5
    ext = net.inputs["ext"]
    assert (ext.kind, ext.target, ext.receptor, ext["count"], ext["rate"]) == \
        ("poisson_input", "E", "e", 100, 10 * Hz)
    assert [p.name for p in net.protocol] == ["settle", "run"]
    assert net.protocol[0].inputs_off == ("ext",) and net.protocol[1].parameters["we"] == 7 * nS
    assert net.monitors.state[0].record == (0, 1) and net.monitors.state[0].dt == 1 * ms
    assert net.status == "file" and net.path == "net.toml"


def test_run_values_evaluate_expressions_and_check_changes():
    net = parse()
    assert net.run_values()["IE.w"] == -2
    values = net.run_values(g=6, nu="20 Hz")
    assert values["IE.w"] == -3 and values["ext.rate"] == 20 * Hz
    with pytest.raises(ModelError, match="parameters.we: expected a value in siemens"):
        net.run_values(we="7 mV")
    with pytest.raises(ModelError, match="has no parameter 'wx'; its parameters: we, g, nu"):
        net.run_values(wx="7 nS")


# -- keys, names, limits ---------------------------------------------------------------------
def test_unknown_key_lists_the_allowed_ones():
    message = refused(changed('synapse = "static@1"\nreceptor = "i"',
                              'synapse = "static@1"\nreceptor = "i"\nweigth = "1"'),
                      r"projections.IE: unknown key\(s\) weigth; allowed: source, target, "
                      "synapse, receptor")
    assert all(key in message for key in KEY_DOCS["projections.NAME"])
    refused(changed('dt = "0.1 ms"', 'dt = "0.1 ms"\ncolour = "red"'),
            r"unknown key\(s\) colour; allowed: name, version")


def test_missing_required_key():
    refused(changed("[seeds]\nconnectivity = 1\n", "[seeds]\n"),
            "seeds: missing required key 'connectivity'")


@pytest.mark.parametrize("old, new, match", [
    ("[populations.I]", "[populations.t]", "populations.t: 't' has a special meaning in "
                                           "equations .*; choose another name"),
    ("[populations.I]", "[populations.exp]", "populations.exp: 'exp' is the name of a function"),
    ("[projections.IE]", "[projections.E]", "projections.E: the name 'E' is already used by "
                                            "populations.E"),
    ("[inputs.ext]", "[inputs.2x]", "invalid input name '2x'"),
])
def test_names_are_identifiers_unique_and_not_reserved(old, new, match):
    refused(changed(old, new), match)


def test_a_huge_file_is_refused(tmp_path):
    path = tmp_path / "huge.toml"
    path.write_text(BASE + "\n" + "# " + "x" * 1_000_000 + "\n")
    with pytest.raises(ModelError, match="larger than 1000 kB"):
        read_network_file(path)


def test_deep_nesting_and_long_lines_are_refused():
    deep = "x = " + "[" * 12 + "]" * 12 + "\n"
    refused(changed('summary = "a small', deep + 'summary = "a small'), "nested deeper than 8")
    refused(changed('summary = "a small E/I', 'summary = "' + "a" * 2100), "a line of 21")


# -- units ------------------------------------------------------------------------------------
def test_parameter_override_in_the_wrong_unit():
    refused(changed('E_L = "-60 mV"', 'E_L = "-60 nS"'),
            r"populations.E.parameters.E_L: expected E_L in volt, got '-60 nS'")


def test_parameter_override_out_of_range_and_unknown():
    refused(changed('tau_ref = "5 ms"', 'tau_ref = "-5 ms"'),
            "populations.E.parameters.tau_ref: .*refractory period cannot be negative")
    refused(changed('tau_ref = "5 ms"', 'tau_rf = "5 ms"'),
            "populations.E.parameters.tau_rf: 'tau_rf' is not a parameter of lif.*tau_ref")


def test_initial_value_unit_and_variable():
    refused(changed('["-60 mV", "-50 mV"]', '["-60 mV", "-50 nA"]'),
            r"populations.E.initial.v.uniform: expected an initial value of v in volt")
    refused(changed("initial = { v =", "initial = { u ="),
            "populations.E.initial.u: 'u' is not a state variable of lif.*: v")
    refused(changed('["-60 mV", "-50 mV"]', '["-50 mV", "-60 mV"]'), "expected low <= high")
    refused(changed("{ uniform = [", "{ gamma = ["), r"populations.E.initial.v: unknown key")


def test_weight_in_the_synapse_unit():
    refused(changed('weight = "0.5"', 'weight = "0.5 mV"'),
            r"inputs.ext.weight: expected a value of E.s_e in 1 \(dimensionless\)")
    refused(changed('weight = { normal = ["1", "0.1"] }', 'weight = "1 nS"'),
            r"projections.EE.weight: expected a weight .* in 1 \(dimensionless\)")


def test_a_dimensionless_synapse_cannot_drive_a_voltage():
    refused(changed('receptor = "i"', 'target_var = "v"'),
            r"projections.IE.target_var: static@1 drives a variable in 1 \(dimensionless\), "
            "but E.v is in volt")
    refused(changed('receptor = "i"', 'receptor = "nmda"'),
            "projections.IE.receptor: population 'E' has no receptor 'nmda'; its receptors: "
            "e, i")


# -- references -------------------------------------------------------------------------------
def test_a_missing_model():
    refused(changed('model = "lif@2"\nsize = 20', 'model = "nope"\nsize = 20'),
            "populations.I.model: unknown model 'nope'")
    refused(changed('model = "lif@2"\nsize = 20', 'model = "lif@9"\nsize = 20'),
            "populations.I.model: model 'lif' has no version 9")


@pytest.mark.parametrize("old, new, match", [
    ('model = "lif@2"\nsize = 20', 'model = "static"\nsize = 20',
     "populations.I.model: 'static' is a synapse model; expected a neuron or rate model"),
    ('synapse = "static@1"\nreceptor = "i"', 'synapse = "lif"\nreceptor = "i"',
     "projections.IE.synapse: 'lif' is a neuron model; expected a synapse model"),
    ('size = 20\nreceptors = { e = "ampa_exp@1"', 'size = 20\nreceptors = { e = "static"',
     "populations.I.receptors.e: 'static' is a synapse model; expected a receptor model"),
    ('model = "lif@2"\nsize = 20', 'model = "coba"\nsize = 20',
     "populations.I.model: 'coba' is a network file, not a model"),
])
def test_a_model_of_the_wrong_kind(old, new, match):
    refused(changed(old, new), match)


def test_unknown_population_and_input_references():
    refused(changed('source = "I"', 'source = "X"'),
            "projections.IE.source: unknown population 'X'; populations: E, I")
    refused(changed('inputs_off = ["ext"]', 'inputs_off = ["ex"]'),
            r"protocol.phases\[0\].inputs_off: unknown input 'ex'; inputs: ext")
    refused(changed('spikes = ["E", "I"]', 'spikes = ["E", "J"]'),
            "monitors.spikes: unknown population 'J'")
    refused(changed('variables = ["v"]', 'variables = ["w"]'),
            r"monitors.state\[0\].variables: 'w' is not a variable of 'E'")
    refused(changed("record = [0, 1]", "record = [0, 80]"), r"index 80 outside 0..79")


# -- ranges -----------------------------------------------------------------------------------
def test_probability_above_one():
    refused(changed("p = 0.1", "p = 1.5"),
            r"projections.EE.connector.p: expected a probability in \[0, 1\], got 1.5")


def test_negative_delay():
    refused(changed('delay = "1.5 ms"', 'delay = "-1 ms"'),
            "projections.EE.delay: expected a delay >= 0")
    refused(changed('delay = "1.5 ms"', 'delay = { normal = ["1 ms", "1 ms"] }'),
            "projections.EE.delay.normal: a normal distribution can be negative")


def test_fixed_indegree_larger_than_the_source_needs_multapses():
    """I has 20 neurons: k = 20 is the most without multapses (source != target), and
    E -> E without autapses offers 79."""
    assert parse(changed("k = 5", "k = 20")).projections["IE"].connector.k == 20
    refused(changed("k = 5", "k = 21"),
            r"projections.IE.connector.k: k = 21 is larger than the 20 neurons the source "
            r"'I' offers .*rule: k <= that number unless multapses = true")
    many = changed('rule = "fixed_indegree", k = 5 }', 'rule = "fixed_indegree", k = 21 }\n'
                   "multapses = true")
    assert parse(many).projections["IE"].multapses
    ee = changed('{ rule = "probability", p = 0.1 }', '{ rule = "fixed_outdegree", k = 80 }')
    refused(ee, "k = 80 is larger than the 79 neurons the target 'E' offers .*no autapses")
    refused(changed("k = 5", "k = 0"), r"projections.IE.connector.k: expected an integer >= 1")


def test_connector_fields_and_rules():
    refused(changed("k = 5", "k = 5, p = 0.1"),
            "projections.IE.connector: p not used by the rule 'fixed_indegree'")
    refused(changed('rule = "fixed_indegree", k = 5', 'rule = "fixed_indgree", k = 5'),
            "projections.IE.connector.rule: unknown rule 'fixed_indgree'; rules: all_to_all")
    refused(changed('rule = "fixed_indegree", k = 5', 'rule = "gaussian_kernel", sigma = 2'),
            "the rule 'gaussian_kernel' needs lattice populations; 'I' has a size")
    refused(changed('rule = "fixed_indegree", k = 5', 'rule = "one_to_one"'),
            "one_to_one needs equal sizes")


def test_lattices_and_gaussian_rules():
    text = changed("size = 80\n", "lattice = { side = 10 }\n")
    text = changed("size = 20\n", "lattice = { side = 5, extent = 10 }\n", text)
    text = changed('rule = "fixed_indegree", k = 5',
                   'rule = "gaussian_fixed_indegree", k = 20, sigma = 2.5, '
                   'normalise = "kernel_sum"', text)
    net = parse(text)
    assert net.populations["E"].size == 100 and net.populations["E"].lattice == (10, 10)
    assert net.populations["I"].lattice == (5, 10.0)
    conn = net.projections["IE"].connector
    assert (conn.rule, conn.k, conn.sigma, conn.normalise, conn.spatial) == \
        ("gaussian_fixed_indegree", 20, 2.5, "kernel_sum", True)
    refused(changed("size = 80\n", "size = 80\nlattice = { side = 10 }\n"),
            "populations.E: expected exactly one of 'size' and 'lattice'")
    refused(changed("size = 80\n", "size = 20_000_000\n"),
            "populations.E.size: expected an integer from 1 to 10,000,000")


def test_poisson_rate_times_dt_above_one_tenth():
    """rate*dt of one source must stay <= 0.1 (a per-step draw approximates a Poisson
    process only while rate*dt << 1); the message names the key, rate, dt and the rule."""
    assert MAX_RATE_DT == 0.1
    assert parse(changed('rate = "10 Hz"', 'rate = "1 kHz"')).inputs["ext"]["rate"] == 1000 * Hz
    message = refused(changed('rate = "10 Hz"', 'rate = "2 kHz"'),
                      r"inputs.ext.rate: rate\*dt = 2. kHz \* 100. us = 0.2 is above 0.1")
    assert "rule: rate*dt <= 0.1" in message
    refused(changed('rate = "10 Hz"', 'rate = "-1 Hz"'), "inputs.ext.rate: expected a rate >= 0")


def test_a_poisson_population_gets_the_rate_dt_rule_too():
    """poisson@1 fires with probability rate*dt per step (its threshold rand() < rate*dt)."""
    text = changed('model = "lif@2"\nsize = 20\n'
                   'receptors = { e = "ampa_exp@1", i = "gaba_exp@1" }',
                   'model = "poisson@1"\nsize = 20\ninitial = { rate = "20 kHz" }')
    text = changed('[projections.IE]\nsource = "I"', '[projections.IE]\nsource = "E"', text)
    text = text.replace('"I.g_max_e"', '"E.g_max_i"')
    refused(text, r"populations.I.initial.rate: rate\*dt = 20. kHz \* 100. us = 2 is above")
    assert parse(text.replace('"20 kHz"', '"50 Hz"')).populations["I"].size == 20


def test_seeds_dt_and_durations():
    refused(changed("drive = 2", "drive = -1"),
            r"seeds.drive: expected an integer in \[0, 2\*\*32\)")
    refused(changed("drive = 2", "drive = 4294967296"), "seeds.drive")
    refused(changed('dt = "0.1 ms"', 'dt = "0 ms"'), "dt: expected a time step > 0")
    refused(changed('duration = "50 ms"', 'duration = "0 ms"'),
            r"protocol.phases\[0\].duration: expected a duration > 0")
    refused(changed('duration = "50 ms"', 'duration = "50 mV"'),
            r"protocol.phases\[0\].duration: expected a duration in second")


# -- parameters and their expressions ----------------------------------------------------------
def test_a_bad_parameter_target():
    refused(changed('sets = ["E.g_max_e", "I.g_max_e"]', 'sets = ["E.g_max_x"]'),
            r"parameters.we.sets.E.g_max_x: 'g_max_x' is not a parameter of population 'E'")
    refused(changed('sets = ["E.g_max_e", "I.g_max_e"]', 'sets = ["X.g_max_e"]'),
            r"parameters.we.sets.X.g_max_e: unknown object 'X'")
    refused(changed('sets = ["E.g_max_e", "I.g_max_e"]', 'sets = ["EE.w"]'),
            "parameters.we.sets.EE.w: 'w' is not a shared variable or parameter of projection "
            "'EE'")
    refused(changed('sets = ["E.g_max_e", "I.g_max_e"]', 'sets = ["E.tau_e"]'),
            r"parameters.we.sets.E.tau_e: E.tau_e is in second, but we = 6. nS is in siemens")
    refused(changed('sets = ["E.g_max_e", "I.g_max_e"]', 'sets = ["E.g_max_e", "E.g_max_e"]'),
            r"parameters.we.sets.E.g_max_e: 'E.g_max_e' is already set by parameter 'we'")
    refused(changed('{ "IE.w" = "-g*0.5" }', '{ "IE.w" = "-g*0.5", "IE.w" = "g" }'),
            "malformed TOML")


@pytest.mark.parametrize("expression, match", [
    ("-h*0.5", r"unknown name 'h' \(parameters: g, nu, we\)"),
    ("abs(g)", "calls are not allowed"),
    ("g.real", "attribute access is not allowed"),
    ("g if g else 1", "IfExp is not allowed"),
    ("g*mV", r"IE.w is in 1 \(dimensionless\), but 'g\*mV' = 4. mV is in volt"),
    ("g**g", "an exponent must be a plain number"),
    ("__import__('os')", "calls are not allowed"),
])
def test_expressions_are_checked_and_never_executed(expression, match):
    refused(changed('"-g*0.5"', f'"{expression}"'),
            rf"parameters.g.sets.IE.w: .*{match}" if "IE.w is" not in match
            else f"parameters.g.sets.IE.w: {match}")


def test_the_evaluator_alone():
    values = {"g": 5 * brianlab.parse_quantity("1"), "J": 0.1 * mV}
    assert evaluate_expression("-g*J", values) == -0.5 * mV
    assert evaluate_expression("(g + 1)**2 / 4", values) == 9
    with pytest.raises(ModelError, match="is not finite"):
        evaluate_expression("J/(g - 5)", values)
    with pytest.raises(ModelError, match="inconsistent units"):
        evaluate_expression("g + J", values)


def test_phase_parameter_values_are_unit_checked():
    refused(changed('parameters = { we = "7 nS" }', 'parameters = { we = "7 mV" }'),
            r"protocol.phases\[1\].parameters.we: expected a value of we in siemens")
    refused(changed('parameters = { we = "7 nS" }', 'parameters = { wx = "7 nS" }'),
            r"protocol.phases\[1\].parameters.wx: unknown parameter 'wx'")


def test_the_format_reference_is_generated_from_the_key_sets():
    reference = format_reference()
    for table, keys in KEY_DOCS.items():
        for key in keys:
            assert f"| `{key}` |" in reference, (table, key)
    assert "| `connector` | yes |" in reference and "| `weight` |  |" in reference


# -- the library: a user folder, its lock, immutability ----------------------------------------
@pytest.fixture
def user_folder(tmp_path, monkeypatch):
    root = tmp_path / "mymodels"
    (root / "networks" / "small").mkdir(parents=True)
    (root / "networks" / "small" / "1.toml").write_text(BASE)
    monkeypatch.setenv("BRIANLAB_MODELS", str(root))
    return root


def test_a_user_network_is_locked_and_immutable(user_folder):
    path = user_folder / "networks" / "small" / "1.toml"
    with pytest.warns(UnreleasedModelWarning, match="not in"):
        assert load_network("small").status == "unreleased"
    assert any("small/1.toml: not in models.lock" in p for p in lock_problems(user_folder))
    assert write_lock(user_folder) == ["networks/small/1.toml"]
    assert lock_problems(user_folder) == []
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnreleasedModelWarning)
        net = load_network("small@1")
    assert net.status == "released" and net.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    entry = next(e for e in list_models() if e.name == "small")
    assert entry.kind == "network" and entry.versions == (1,)
    path.write_text(BASE.replace('"10 Hz"', '"11 Hz"'))
    with pytest.raises(ModelError, match="released file changed: its sha256 is"):
        load_network("small")
    with pytest.warns(UnreleasedModelWarning, match="modified"):
        assert load_network("small", allow_modified=True).status == "modified"
    with pytest.raises(ModelError, match=r"released file\(s\) changed: networks/small/1.toml"):
        write_lock(user_folder)


def test_a_network_that_fails_its_checks_is_not_released(user_folder):
    (user_folder / "networks" / "small" / "1.toml").write_text(BASE.replace("p = 0.1", "p = 2"))
    with pytest.raises(ModelError, match="connector.p: expected a probability"):
        write_lock(user_folder)
    assert not (user_folder / "models.lock").exists()


def test_name_and_folder_must_agree_and_duplicates_are_errors(user_folder, tmp_path,
                                                               monkeypatch):
    (user_folder / "networks" / "other").mkdir()
    (user_folder / "networks" / "other" / "1.toml").write_text(BASE)
    with pytest.warns(UnreleasedModelWarning):
        with pytest.raises(ModelError, match="file says network small@1, but lies at "
                                             "networks/other/1.toml"):
            load_network("other")
    second = tmp_path / "second"
    shutil.copytree(user_folder, second)
    monkeypatch.setenv("BRIANLAB_MODELS", f"{user_folder}:{second}")
    with pytest.raises(ModelError,
                       match=r"@1 is defined twice: .*mymodels/networks/.*second/networks/"):
        load_network("small")


def test_models_and_networks_are_not_confused():
    with pytest.raises(ModelError, match="'coba' is a network file, not a model; load it with "
                                         "brianlab.load_network"):
        brianlab.load_model("coba")
    with pytest.raises(ModelError, match="'lif' is a neuron model, not a network file"):
        load_network("lif")


# -- the CLI ---------------------------------------------------------------------------------
def test_cli_list_and_show_cover_networks(capsys):
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert any(line.split()[:3] == ["coba", "1", "network"] for line in out.splitlines())
    assert main(["models", "show", "coba"]) == 0
    out = capsys.readouterr().out
    assert "coba@1  (network, released)" in out
    assert hashlib.sha256(COBA.read_bytes()).hexdigest() in out
    for text in ("populations:", "E: lif@2, 3200 neurons, receptors e=ampa_exp@1, i=gaba_exp@1",
                 "projections:", "EE: E -> E (receptor e), static@1, probability (p=0.02)",
                 "parameters:", "we = 6. nS  (sets E.g_max_e, I.g_max_e)",
                 "seeds:  connectivity 1, drive 2", "initial v = normal(-65. mV, 5. mV)"):
        assert text in out, text


def test_cli_check_validates_a_network_file(tmp_path, capsys):
    good = tmp_path / "good.toml"
    good.write_text(BASE)
    assert main(["models", "check", str(good)]) == 0
    assert "1 model file(s) OK" in capsys.readouterr().out
    bad = tmp_path / "bad.toml"
    bad.write_text(BASE.replace("p = 0.1", "p = 1.5"))
    assert main(["models", "check", str(bad)]) == 1
    captured = capsys.readouterr()
    assert f"{bad}: projections.EE.connector.p: expected a probability in [0, 1], got 1.5" \
        in captured.out
    assert "Traceback" not in captured.out + captured.err
    assert main(["models", "show", "nonet"]) == 1
    assert "unknown model 'nonet'" in capsys.readouterr().err


def test_cli_lock_releases_a_user_network(user_folder, capsys):
    assert main(["models", "lock", str(user_folder)]) == 0
    assert "released: networks/small/1.toml" in capsys.readouterr().out
    assert main(["models", "show", "small"]) == 0
    assert "small@1  (network, released)" in capsys.readouterr().out


def test_a_parsed_network_pickles_and_is_read_only():
    """Workers get parsed networks by pickle; the tables stay read-only."""
    import pickle

    net = parse()
    copy = pickle.loads(pickle.dumps(net))
    assert copy.run_values(g=6) == net.run_values(g=6)
    assert copy.populations["E"].initial["v"] == net.populations["E"].initial["v"]
    with pytest.raises(TypeError, match="read-only"):
        net.populations["X"] = net.populations["E"]
    with pytest.raises(TypeError, match="read-only"):
        net.parameters["g"].sets.update({"E.C": None})


def test_current_inputs_are_unit_checked():
    """Currents drive I_ext (amp) by default; their amplitudes and times are checked."""
    extra = '''
[inputs.step]
kind = "current_step"
target = "I"
amplitude = "250 pA"
start = "10 ms"
stop = "20 ms"

[inputs.ramp]
kind = "current_ramp"
target = "E"
amplitude_start = "0 pA"
amplitude_end = "300 pA"
start = "0 ms"
stop = "100 ms"

[inputs.drive]
kind = "random_current"
target = "I"
interval = "0.5 ms"
amplitude = "5 nA"
duration = "30 ms"
'''
    text = changed("\n[monitors]", extra + "\n[monitors]")
    net = parse(text)
    step = net.inputs["step"]
    assert (step.target_var, step["amplitude"], step["start"], step["stop"]) == \
        ("I_ext", brianlab.parse_quantity("0.25 nA"), 10 * ms, 20 * ms)
    assert net.inputs["ramp"]["amplitude_end"] == brianlab.parse_quantity("300 pA")
    assert net.inputs["drive"].get("interval") == 0.5 * ms
    refused(changed('amplitude = "250 pA"', 'amplitude = "250 mV"', text),
            r"inputs.step.amplitude: expected a value of I.I_ext in amp")
    refused(changed('stop = "20 ms"', 'stop = "5 ms"', text),
            "inputs.step.stop: expected stop > start")
    refused(changed('interval = "0.5 ms"', 'interval = "0 ms"', text),
            "inputs.drive.interval: expected a time > 0")
    refused(changed('kind = "current_step"', 'kind = "current_stp"', text),
            "inputs.step.kind: unknown input kind 'current_stp'; kinds: poisson_input")
    refused(changed('target = "I"\namplitude', 'target = "I"\ncount = 3\namplitude', text),
            "inputs.step: count not used by a current_step input")
    refused(changed('kind = "current_step"', 'kind = "image"\nimage = "cross"', text),
            "inputs.step.target: an image input needs a lattice population")


# -- [[published]]: the published behaviour a network must show --------------------------------
PUBLISHED = '''
[[published]]
population = "E"
statistic = "rate"
low = "2 Hz"
high = "30 Hz"
source = "Brette et al. (2007), Fig. 3"
parameters = { we = "6 nS" }
t_start = "50 ms"

[[published]]
population = "I"
statistic = "cv"
low = 0.8
source = "the paper, Table 1"
'''


def test_published_entries_are_parsed_with_their_units():
    net = parse(BASE + PUBLISHED)
    first, second_ = net.published
    assert (first.population, first.statistic, first.low, first.high) == ("E", "rate", 2.0,
                                                                          30.0)
    assert first.unit == "Hz" and first.range_text() == "2-30 Hz"
    assert first.parameters == {"we": 6 * nS} and first.t_start == 50 * ms
    assert first.source == "Brette et al. (2007), Fig. 3"
    assert first.contains(2.0) and first.contains(30.0) and not first.contains(30.01)
    assert not first.contains(float("nan"))
    assert second_.low == 0.8 and second_.high == float("inf") and second_.unit == "1"
    assert second_.range_text() == ">= 0.8" and second_.t_start == 0 * second
    assert second_.contains(3.0) and not second_.contains(0.79)
    assert parse().published == ()
    # every published statistic is a key of population_statistics
    from brianlab.analysis.population import population_statistics
    from brianlab.networkfile import PUBLISHED_STATISTICS
    keys = population_statistics([0, 1, 0], [0.01, 0.02, 0.03], 2, 0.1)
    assert set(PUBLISHED_STATISTICS) <= set(keys)


@pytest.mark.parametrize("old, new, match", [
    ('statistic = "rate"', 'statistic = "speed"',
     r"published\[0\].statistic: unknown statistic 'speed'; expected one of rate, "),
    ('low = "2 Hz"', 'low = "2 mV"', r"published\[0\].low: expected a rate in hertz"),
    ('low = 0.8', 'low = "0.8 Hz"', r"published\[1\].low: expected a cv in 1 \(dimensionless\), got '0.8 Hz'"),
    ('low = "2 Hz"', 'low = "40 Hz"', r"published\[0\]: expected low <= high, got low = "
                                      "'40 Hz', high = '30 Hz'"),
    ('population = "I"', 'population = "X"', r"published\[1\].population: unknown "
                                             "population 'X'"),
    ('parameters = { we = "6 nS" }', 'parameters = { wx = "6 nS" }',
     r"published\[0\].parameters.wx: unknown parameter 'wx'"),
    ('parameters = { we = "6 nS" }', 'parameters = { we = "6 mV" }',
     r"published\[0\].parameters.we: expected a value of we in siemens"),
    ('t_start = "50 ms"', 't_start = "250 ms"', r"published\[0\].t_start: expected a time "
                                                r">= 0 and shorter than the protocol \(0.25 s"),
    ('t_start = "50 ms"', 't_start = "5 mV"', r"published\[0\].t_start: expected a time"),
    ('low = 0.8\n', '', r"published\[1\]: expected 'low', 'high' or both"),
    ('source = "the paper, Table 1"', 'source = " "', r"published\[1\].source: expected the "
                                                      "paper"),
    ('source = "the paper, Table 1"\n', '', r"published\[1\]: missing required key 'source'"),
    ('source = "the paper, Table 1"', 'source = "x"\nfig = 3',
     r"published\[1\]: unknown key\(s\) fig; allowed: population, statistic, low, high"),
])
def test_published_entries_are_checked(old, new, match):
    refused(changed(old, new, BASE + PUBLISHED), match)


# -- [reduction] and state-monitor windows (issue 25, S7) ----------------------------------
def test_the_reduction_table_names_a_registered_reduction():
    from brianlab.pipeline.reductions import REDUCTIONS, ReductionSpec

    assert parse().reduction is None  # no table: the default reduction
    net = parse(BASE + '\n[reduction]\nname = "population_statistics"\n')
    assert net.reduction == ReductionSpec("population_statistics")
    net = parse(BASE + '\n[reduction]\nname = "cmsa_phi"\nt_start = "30 ms"\n')
    assert net.reduction.name == "cmsa_phi"
    assert dict(net.reduction.options) == {"t_start_s": pytest.approx(0.03, abs=1e-15)}
    message = refused(BASE + '\n[reduction]\nname = "phi"\n', "unknown reduction 'phi'")
    assert all(name in message for name in REDUCTIONS)
    refused(BASE + '\n[reduction]\nname = "cmsa_phi"\nt_start = "250 ms"\n',
            "shorter than the protocol")
    refused(BASE + '\n[reduction]\nt_start = "1 ms"\n', "missing required key 'name'")
    refused(BASE + '\n[reduction]\nname = "cmsa_phi"\nbin = 2\n', "unknown key")
    assert "reduction" in KEY_DOCS and "| `t_start` |" in format_reference()


def test_a_state_monitor_window_is_two_times_in_order():
    old = 'record = [0, 1], dt = "1 ms" }'
    net = parse(changed(old, 'record = [0, 1], dt = "1 ms", window = ["20 ms", "60 ms"] }'))
    assert net.monitors.state[0].window == (20 * ms, 60 * ms)
    assert parse().monitors.state[0].window is None
    for window, match in (('["60 ms", "20 ms"]', "0 <= start < stop"),
                          ('["20 ms"]', "two times"), ('["20 ms", "6 mV"]', "a time")):
        refused(changed(old, f'record = [0, 1], window = {window} }}'), match)


def test_released_files_load_without_a_reduction_table_but_cmsa_sheet_2():
    nets = {f"{e.name}@{v}": load_network(f"{e.name}@{v}") for e in list_models()
            if e.kind == "network" for v in e.versions}
    assert nets["cmsa_sheet@2"].reduction.name == "cmsa_phi"
    assert all(n.reduction is None for ref, n in nets.items() if ref != "cmsa_sheet@2")
