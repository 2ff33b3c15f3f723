"""Reading model files: every kind of bad input gives a ModelError naming file, key and problem."""

import pytest
from brian2 import mV, ms

from brianlab import ModelError, read_model_file
from brianlab.modelfile import parse_model_text
from conftest import MODEL_HEADER, neuron_text

GOOD = neuron_text("dv/dt = (E_L - v)/tau : volt (unless refractory)",
                   'tau = "10 ms"\nE_L = "-70 mV"\nV_th = "-50 mV"\n',
                   'threshold = "v > V_th"\nreset = "v = E_L"\nrefractory = "2 ms"\n')


def load_text(tmp_path, text, name="m.toml"):
    path = tmp_path / name
    path.write_text(text)
    return read_model_file(path)


def error_for(tmp_path, text) -> ModelError:
    with pytest.raises(ModelError) as info:
        load_text(tmp_path, text)
    return info.value


def test_good_file_loads(tmp_path):
    model = load_text(tmp_path, GOOD)
    assert model.ref == "x@1"
    assert model.parameters["tau"] == 10 * ms
    assert model.parameters["E_L"] == -70 * mV
    assert model.refractory == "2 ms"
    assert len(model.sha256) == 64
    assert "v" in model.equations


def test_malformed_toml_names_file_and_line(tmp_path):
    err = error_for(tmp_path, MODEL_HEADER + 'equations = "dv/dt = -v/tau : volt\n')
    assert "m.toml" in str(err) and "malformed TOML" in str(err) and "line 4" in str(err)


def test_parameter_without_unit(tmp_path):
    err = error_for(tmp_path, neuron_text("dv/dt = -v/tau : volt", 'tau = "10"\n'))
    assert err.where == "equations: dv/dt"
    assert "volt/second" in str(err) and "dimension" in str(err)


def test_unknown_unit(tmp_path):
    err = error_for(tmp_path, neuron_text("dv/dt = -v/tau : volt", 'tau = "10 fortnights"\n'))
    assert err.where == "parameters.tau" and "unknown unit 'fortnights'" in str(err)


def test_equation_sides_disagree(tmp_path):
    err = error_for(tmp_path, neuron_text("dv/dt = -v/tau + I : volt\nI : amp",
                                          'tau = "10 ms"\n'))
    assert err.path.endswith("m.toml") and "dv/dt" in err.where
    assert "inconsistent units" in str(err) or "disagree" in str(err)


def test_subexpression_with_wrong_unit(tmp_path):
    err = error_for(tmp_path, neuron_text("dv/dt = -v/tau : volt\nI = v/tau : amp",
                                          'tau = "10 ms"\n'))
    assert err.where == "equations: I" and "amp" in str(err) and "volt/second" in str(err)


def test_undeclared_name(tmp_path):
    err = error_for(tmp_path, neuron_text("dv/dt = (E_rest - v)/tau : volt", 'tau = "10 ms"\n'))
    assert "undeclared name 'E_rest'" in str(err)


def test_threshold_and_reset_are_checked(tmp_path):
    base = neuron_text("dv/dt = -v/tau : volt", 'tau = "10 ms"\n', "{}")
    err = error_for(tmp_path, base.format('threshold = "v > 5"'))
    assert err.where == "threshold"
    err = error_for(tmp_path, base.format('reset = "v = 3*ms"'))
    assert err.where == "reset" and "second" in str(err)
    err = error_for(tmp_path, base.format('reset = "w = 0*mV"'))
    assert "undeclared variable 'w'" in str(err)
    err = error_for(tmp_path, base.format('refractory = "5 mV"'))
    assert err.where == "refractory"


def test_initial_values_are_checked(tmp_path):
    err = error_for(tmp_path, neuron_text("dv/dt = -v/tau : volt", 'tau = "10 ms"\n',
                                          '[initial]\nv = "3 nA"\n'))
    assert err.where == "initial.v"
    err = error_for(tmp_path, neuron_text("dv/dt = -v/tau : volt", 'tau = "10 ms"\n',
                                          '[initial]\nu = "3 mV"\n'))
    assert "not a state variable" in str(err)


def test_unknown_key_and_kind(tmp_path):
    typo = GOOD.replace("[parameters]", 'treshold = "v > V_th"\n[parameters]')
    assert "unknown key(s) treshold" in str(error_for(tmp_path, typo))
    err = error_for(tmp_path, GOOD.replace('kind = "neuron"', 'kind = "glia"'))
    assert err.where == "kind" and "neuron" in str(err)


def test_missing_required_keys(tmp_path):
    err = error_for(tmp_path, 'name = "x"\nversion = 1\nkind = "neuron"\n')
    assert "missing required key 'equations'" in str(err)
    err = error_for(tmp_path, GOOD.replace("version = 1\n", ""))
    assert "'version'" in str(err)


def test_bad_name_and_version(tmp_path):
    assert error_for(tmp_path, GOOD.replace('name = "x"', 'name = "../x"')).where == "name"
    assert error_for(tmp_path, GOOD.replace("version = 1", "version = 0")).where == "version"
    assert error_for(tmp_path, GOOD.replace("version = 1", 'version = "1"')).where == "version"


def test_value_that_tries_to_run_code_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    err = error_for(tmp_path, neuron_text(
        "dv/dt = -v/tau : volt", f"tau = \"__import__('os').system('touch {marker}')\"\n"))
    assert err.where == "parameters.tau"
    assert not marker.exists()


def test_equation_unit_that_tries_to_run_code_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    for unit in [f"__import__('os').system('touch {marker}')", "9**9**9**9**9",
                 "().__class__.__base__"]:
        err = error_for(tmp_path, neuron_text(f"dv/dt = -v/tau : {unit}", 'tau = "10 ms"\n'))
        assert err.where == "equations" and "line 1" in str(err)
    assert not marker.exists()


def test_expression_with_attribute_access_is_refused(tmp_path):
    err = error_for(tmp_path, neuron_text("dv/dt = -v/tau : volt", 'tau = "10 ms"\n',
                                          'threshold = "v.__class__ > 0*mV"'))
    assert err.where == "threshold"


def test_unparseable_equations(tmp_path):
    err = error_for(tmp_path, neuron_text("dv/dt = -v/tau", 'tau = "10 ms"\n'))
    assert err.where == "equations" and "expected '<equation> : <unit>'" in str(err)
    err = error_for(tmp_path, neuron_text("dv/dt = = -v/tau : volt", 'tau = "10 ms"\n'))
    assert err.where == "equations"


def test_parameter_that_shadows_a_variable(tmp_path):
    err = error_for(tmp_path, neuron_text("dv/dt = -v/tau : volt", 'tau = "10 ms"\nv = "1 mV"\n'))
    assert "both as parameter and as variable" in str(err)


def test_receptor_and_synapse_keys(tmp_path):
    receptor = ('name = "r"\nversion = 1\nkind = "receptor"\nlabel = "r"\ninput = "s"\n'
                'current = "J"\nequations = """\nds/dt = -s/tau : 1\nI = s*g*(E - v) : amp\n'
                '"""\n[uses]\nv = "volt"\n[parameters]\ntau = "5 ms"\nE = "0 mV"\ng = "1 nS"\n')
    assert "'J' is not a variable" in str(error_for(tmp_path, receptor))
    synapse = ('name = "syn"\nversion = 1\nkind = "synapse"\ntarget = "s"\nmodel = "w : 1"\n'
               'on_pre = "s_post += w*mV"\n')
    err = error_for(tmp_path, synapse)
    assert err.where == "on_pre" and "disagree" in str(err)


def test_not_utf8_and_missing_file(tmp_path):
    path = tmp_path / "bin.toml"
    path.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ModelError, match="UTF-8"):
        read_model_file(path)
    with pytest.raises(ModelError, match="does not exist"):
        read_model_file(tmp_path / "absent.toml")


def test_parse_model_text_hash_is_of_bytes():
    import hashlib

    model = parse_model_text(GOOD)
    assert model.sha256 == hashlib.sha256(GOOD.encode()).hexdigest()


def test_synapse_names_may_not_end_in_pre_or_post(tmp_path):
    synapse = ('name = "syn"\nversion = 1\nkind = "synapse"\ntarget = "s"\n'
               'model = """\nw : 1\ndx_pre/dt = -x_pre/tau : 1 (event-driven)\n"""\n'
               'on_pre = "s_post += w"\n[parameters]\ntau = "10 ms"\n')
    assert "x_pre: names of synapse variables" in str(error_for(tmp_path, synapse))


# -- caught at check time (issue 10): what used to fail only when a group was built ----------
def test_unknown_integration_method(tmp_path):
    err = error_for(tmp_path, GOOD.replace('threshold =', 'method = "eulr"\nthreshold ='))
    assert err.where == "method" and "unknown integration method 'eulr'" in str(err)
    assert "exact" in str(err)  # names what Brian2 knows


@pytest.mark.parametrize("name", ["t", "dt", "i", "N", "lastspike", "not_refractory", "xi",
                                  "mV", "exp", "pi", "lambda", "_hidden"])
def test_reserved_parameter_names(tmp_path, name):
    text = neuron_text("dv/dt = -v/tau : volt", f'tau = "10 ms"\n{name} = "1"\n')
    if name == "lambda":  # a Python keyword cannot even be an equation identifier
        text = neuron_text("dv/dt = -v/tau : volt", 'tau = "10 ms"\n"lambda" = "1"\n')
    err = error_for(tmp_path, text)
    assert err.where == f"parameters.{name}"
    assert "choose another name" in str(err) or "invalid name" in str(err)


@pytest.mark.parametrize("name", ["lastspike", "not_refractory", "N"])
def test_reserved_variable_names(tmp_path, name):
    err = error_for(tmp_path, neuron_text(f"dv/dt = -v/tau : volt\n{name} : 1",
                                          'tau = "10 ms"\n'))
    assert name in str(err) and err.path.endswith("m.toml")


@pytest.mark.parametrize("value", ["1e999 mV", "-1e999 mV", "nan mV", "inf mV", "1e400"])
def test_non_finite_values(tmp_path, value):
    err = error_for(tmp_path, neuron_text("dv/dt = (E_L - v)/tau : volt",
                                          f'tau = "10 ms"\nE_L = "{value}"\n'))
    assert err.where == "parameters.E_L"


@pytest.mark.parametrize("value, message", [("-10 ms", "must be positive"),
                                             ("0 ms", "must be positive")])
def test_impossible_default_time_constant(tmp_path, value, message):
    err = error_for(tmp_path, neuron_text("dv/dt = -v/tau : volt", f'tau = "{value}"\n'))
    assert err.where == "parameters.tau" and message in str(err)


# -- limits against resource exhaustion: one clear error, never a RecursionError ------------
def test_not_a_regular_file():
    with pytest.raises(ModelError, match="not a regular file"):
        read_model_file("/dev/zero")


def test_file_too_large(tmp_path):
    path = tmp_path / "big.toml"
    path.write_text(GOOD + "#" * 1_100_000 + "\n")
    with pytest.raises(ModelError, match="larger than 1000 kB"):
        read_model_file(path)


def test_deeply_nested_toml(tmp_path):
    err = error_for(tmp_path, GOOD + "references = " + "[" * 10_000 + "]" * 10_000 + "\n")
    assert "nested deeper than" in str(err)
    err = error_for(tmp_path, GOOD + "references = " + "[" * 20 + "]" * 20 + "\n")
    assert "nested deeper than" in str(err)


@pytest.mark.parametrize("key", ["threshold", "reset", "summary", "notes", "refractory"])
def test_very_long_text_in_any_field(tmp_path, key):
    long = "v > V_th" + " + 0*mV" * 15_000
    text = GOOD.replace(f"\n{key} =", f"\n_{key} =") if f"\n{key} =" in GOOD else GOOD
    text = text.replace("[parameters]", f'{key} = "{long}"\n[parameters]')
    err = error_for(tmp_path, text)
    assert err.where == key and "at most 20000" in str(err)


def test_long_line_in_equations(tmp_path):
    eq = "dv/dt = -v/tau" + " + 0*mV/ms" * 300 + " : volt"
    err = error_for(tmp_path, neuron_text(eq, 'tau = "10 ms"\n'))
    assert err.where == "equations" and "at most 2000" in str(err)


def test_deep_expression_is_a_model_error(tmp_path):
    deep = "(" * 900 + "v" + ")" * 900 + " > V_th"
    err = error_for(tmp_path, GOOD.replace('threshold = "v > V_th"', f'threshold = "{deep}"'))
    assert err.where == "threshold"
