"""The model library: names, versions, caching, and the lock that keeps released files immutable."""

import shutil

import pytest

import brianlab
from brianlab import ModelError, load_model
from brianlab.library import list_models, lock_problems, models_root, write_lock

RELEASED = ["lif", "lif_adapt", "hh", "ampa_exp", "gaba_exp", "current_alpha", "static",
            "stdp_pair", "stdp_nearest",
            "stdp_triplet", "wilson_cowan_1d", "wilson_cowan", "cann_1d", "cann_2d"]


def test_every_released_model_is_in_the_library():
    names = {entry.name for entry in list_models()}
    assert set(RELEASED) <= names


def test_released_files_match_the_lock():
    """Fails if a released model file changed or a file is missing from models.lock."""
    assert lock_problems() == []


@pytest.mark.parametrize("name", RELEASED)
def test_model_exposes_its_fields(name):
    model = load_model(name)
    assert model.name == name and model.version >= 1 and model.ref == f"{name}@{model.version}"
    assert model.kind in ("neuron", "receptor", "synapse", "rate")
    assert len(model.sha256) == 64 and model.summary and model.references
    assert len(model.equations) >= 1
    for attr in ("parameters", "threshold", "reset", "refractory", "method", "initial"):
        getattr(model, attr)
    assert model.provenance == [{"model": model.ref, "sha256": model.sha256}]


def test_newest_and_pinned_versions_are_the_same_cached_object():
    assert load_model("lif") is load_model("lif@1")


@pytest.mark.parametrize("ref", ["../../x", "/etc/passwd", "neurons/lif", "lif@0", "LIF",
                                 "lif@1.0", "lif@", "", "lif@-1", "..", "lif@1/../../x"])
def test_invalid_names_are_refused(ref):
    with pytest.raises(ModelError, match="invalid model name"):
        load_model(ref)


def test_unknown_name_and_version():
    with pytest.raises(ModelError, match="unknown model 'nope'.*known models: .*lif"):
        load_model("nope")
    with pytest.raises(ModelError, match="no version 99; versions: 1"):
        load_model("lif@99")


@pytest.fixture
def library_copy(tmp_path, monkeypatch):
    root = tmp_path / "models"
    shutil.copytree(models_root(), root)
    monkeypatch.setenv("BRIANLAB_MODELS", str(root))
    return root


def test_a_changed_released_file_is_detected(library_copy):
    path = library_copy / "neurons" / "lif" / "1.toml"
    path.write_text(path.read_text().replace('tau_ref = "2 ms"', 'tau_ref = "3 ms"'))
    problems = lock_problems()
    assert len(problems) == 1 and "neurons/lif/1.toml: changed after release" in problems[0]
    with pytest.raises(ModelError, match="released file\\(s\\) changed"):
        write_lock()


def test_missing_and_unreleased_files_are_detected(library_copy):
    (library_copy / "neurons" / "hh" / "1.toml").unlink()
    new = library_copy / "neurons" / "lif" / "2.toml"
    new.write_text((library_copy / "neurons" / "lif" / "1.toml").read_text()
                   .replace("version = 1", "version = 2"))
    problems = lock_problems()
    assert any("neurons/hh/1.toml: in models.lock but the file is missing" in p for p in problems)
    assert any("neurons/lif/2.toml: not in models.lock" in p for p in problems)
    assert load_model("lif").version == 2 and load_model("lif@1").version == 1


def test_releasing_adds_new_files_only(library_copy):
    new = library_copy / "neurons" / "lif" / "2.toml"
    new.write_text((library_copy / "neurons" / "lif" / "1.toml").read_text()
                   .replace("version = 1", "version = 2"))
    before = (library_copy / "models.lock").read_text()
    assert write_lock() == ["neurons/lif/2.toml"]
    after = (library_copy / "models.lock").read_text()
    assert set(before.splitlines()) < set(after.splitlines())
    assert lock_problems() == []


def test_file_that_lies_about_its_place(library_copy):
    path = library_copy / "neurons" / "lif" / "2.toml"
    path.write_text((library_copy / "neurons" / "lif" / "1.toml").read_text())  # says version 1
    with pytest.raises(ModelError, match="lies at neurons/lif/2.toml"):
        load_model("lif@2")


def test_public_api():
    for name in ("load_model", "Model", "ModelError", "use_device", "compose", "read_model_file"):
        assert hasattr(brianlab, name)
