"""The file formats without units (brianlab.modelformat, brianlab.netformat) and the
network file's structure paths (issue 25, slice S2).

That importing either format module leaves Brian2 unimported is tests/test_tiers.py's
``test_tier1_module_imports_no_brian2`` (both are in its TIER1).
"""

import copy
import tomllib

import pytest

from brianlab import ModelError, load_network, modelfile, modelformat, netformat, networkfile, \
    ranges, store
from brianlab.library import models_root
from brianlab.netformat import apply_structure, read_raw_network, structure_paths
from brianlab.networkfile import with_structure

NETWORKS = sorted(p.parent.name for p in (models_root() / "networks").glob("*/1.toml"))

#: Per released network file: paths its structure must list, with the file's values.
EXPECTED = {
    "brunel2000": {"dt": "0.1 ms", "seeds.connectivity": 1, "populations.E.size": 10000,
                   "populations.I.size": 2500, "projections.EE.connector.k": 1000,
                   "projections.IE.connector.k": 250, "protocol.run.duration": "1 second"},
    "cmsa_sheet": {"dt": "0.1 ms", "seeds.connectivity": 0,
                   "populations.E.lattice.side": 150, "populations.I.lattice.side": 75,
                   "populations.I.lattice.extent": 150, "projections.ee.connector.k": 200,
                   "projections.ee.connector.sigma": 3.0,
                   "projections.ee.connector.normalise": "kernel_sum",
                   "protocol.drive.duration": "30 ms",
                   "protocol.spontaneous.duration": "400 ms"},
    "coba": {"dt": "0.1 ms", "populations.E.size": 3200, "populations.I.size": 800,
             "projections.EE.connector.p": 0.02, "protocol.run.duration": "1 second"},
    "cobahh": {"dt": "0.1 ms", "populations.E.size": 3200, "populations.I.size": 800,
               "projections.II.connector.p": 0.02, "protocol.run.duration": "1 second"},
    "cuba": {"dt": "0.1 ms", "seeds.connectivity": 1, "populations.E.size": 3200,
             "populations.I.size": 800, "projections.EE.connector.rule": "probability",
             "projections.EE.connector.p": 0.02, "protocol.run.duration": "1 second"},
    "vogels2011": {"dt": "0.1 ms", "populations.E.size": 8000, "populations.I.size": 2000,
                   "projections.IE.connector.p": 0.02, "protocol.static.duration": "0.5 second",
                   "protocol.plastic.duration": "5.5 second"},
}


def _raw(name):
    return read_raw_network((models_root() / "networks" / name / "1.toml").read_bytes(),
                            status="released")


def test_every_released_network_is_covered():
    assert NETWORKS == sorted(EXPECTED)


def test_moved_names_are_one_definition():
    """The format's names live in the format modules; the old modules re-export them."""
    assert store.KINDS is modelfile.KINDS is modelformat.KINDS
    assert store.MAX_FILE_BYTES == modelformat.MAX_FILE_BYTES == 1_000_000
    assert store.read_model_bytes is modelfile.read_model_bytes is modelformat.read_model_bytes
    assert modelfile.KEY_DOCS is modelformat.KEY_DOCS
    assert modelfile.decode_file is modelformat.decode_file
    assert ranges.MAX_RATE_DT is modelformat.MAX_RATE_DT is networkfile.MAX_RATE_DT
    assert networkfile.KEY_DOCS is netformat.KEY_DOCS
    assert networkfile.MAX_NEURONS is netformat.MAX_NEURONS
    assert networkfile.format_reference is netformat.format_reference


def test_check_structure_without_units():
    raw = tomllib.loads('name = "x"\nversion = 2\nkind = "neuron"\nequations = "v : volt"\n')
    model = modelformat.check_structure(raw, "x.toml", sha256="ab")
    assert (model.name, model.version, model.kind, model.sha256) == ("x", 2, "neuron", "ab")
    with pytest.raises(ModelError, match="unknown key.*bogus"):
        modelformat.check_structure({**raw, "bogus": 1}, "x.toml")
    with pytest.raises(ModelError, match="version: expected a positive integer"):
        modelformat.check_structure({**raw, "version": 0}, "x.toml")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_structure_paths_of_released_networks(name):
    raw = _raw(name)
    assert raw.name == name and raw.version == 1
    assert all("@" in ref for ref in raw.model_refs) and raw.model_refs
    paths = structure_paths(raw.raw)
    for path, value in EXPECTED[name].items():
        assert paths.get(path) == value, path
    assert not [p for p in paths if p.split(".")[0] in ("parameters", "published", "notes",
                                                        "name", "summary")]
    assert not [p for p in paths if p.startswith("protocol.phases")]
    # every population's size or lattice side is there
    for pname, table in raw.raw["populations"].items():
        assert f"populations.{pname}.size" in paths or \
            f"populations.{pname}.lattice.side" in paths


def test_apply_structure_replaces_values_and_keeps_the_original():
    raw = _raw("vogels2011").raw
    before = copy.deepcopy(raw)
    new = apply_structure(raw, {"populations.E.size": "800", "dt": "0.05 ms",
                                "protocol.plastic.duration": '"2 second"',
                                "projections.EE.connector.p": "0.1"})
    assert raw == before  # not mutated
    assert new["populations"]["E"]["size"] == 800
    assert new["dt"] == "0.05 ms"
    assert new["protocol"]["phases"][1] == {"name": "plastic", "duration": "2 second"}
    assert new["projections"]["EE"]["connector"]["p"] == 0.1
    added = apply_structure(raw, {}, additions={"inputs.kick.kind": "current_step",
                                                "protocol.static.inputs_off": ["kick"]})
    assert added["inputs"]["kick"] == {"kind": "current_step"}
    assert added["protocol"]["phases"][0]["inputs_off"] == ["kick"]
    assert raw == before


def test_an_unknown_path_lists_the_paths():
    raw = _raw("cuba").raw
    with pytest.raises(ModelError) as info:
        apply_structure(raw, {"populations.X.size": "3"})
    message = str(info.value)
    assert "'populations.X.size'" in message and "populations.E.size" in message
    assert "python -m brianlab models show cuba" in message
    assert message.count(", ") <= 20 and "more)" in message
    with pytest.raises(ModelError, match="not a structure path"):
        apply_structure(raw, {"parameters.we.value": "1 nS"})  # run-time: not structure
    with pytest.raises(ModelError, match="one TOML value"):
        apply_structure(raw, {"populations.E.size": "1\nkind = 'x'"})


def test_with_structure_checks_the_changed_file():
    cuba = load_network("cuba@1")
    small = with_structure(cuba, {"populations.E.size": "400"})
    assert small.populations["E"].size == 400 and cuba.populations["E"].size == 3200
    assert small.populations["I"].size == 800
    assert small.path == cuba.path and small.status == cuba.status
    assert small.sha256 != cuba.sha256
    assert with_structure(cuba, {"populations.E.size": "400"}).sha256 == small.sha256
    assert with_structure(cuba, {}).sha256 == cuba.sha256
    assert cuba.raw["populations"]["E"]["size"] == 3200
    assert small.run_values().keys() == cuba.run_values().keys()
    # a RawNetwork works too
    assert with_structure(_raw("cuba"), {"dt": "0.05 ms"}).dt == cuba.dt / 2


@pytest.mark.parametrize("changes, match", [
    ({"populations.E.size": "0"}, r"cuba/1.toml: populations.E.size: expected an integer "
                                  r"from 1 to 10,000,000, got 0"),
    ({"populations.E.size": "20000000"}, r"populations.E.size: expected an integer"),
    ({"dt": "abc"}, r"cuba/1.toml: dt: .*'abc'"),
    ({"dt": "800"}, r"cuba/1.toml: dt: "),
    ({"projections.EE.connector.p": "2"}, r"projections.EE.connector.p"),
])
def test_with_structure_bad_values_give_the_load_error(changes, match):
    with pytest.raises(ModelError, match=match):
        with_structure(load_network("cuba@1"), changes)
