"""The model library: names, versions, caching, and the lock that keeps released files immutable."""

import hashlib
import os
import shutil

import pytest
from brian2 import ms

import brianlab
from brianlab import ModelError, UnreleasedModelWarning, add_model_path, compose, load_model
from brianlab.library import list_models, lock_problems, model_paths, models_root, write_lock

RELEASED = ["lif", "lif_adapt", "hh", "ampa_exp", "gaba_exp", "current_alpha", "static",
            "stdp_pair", "stdp_nearest",
            "stdp_triplet", "wilson_cowan_1d", "wilson_cowan", "cann_1d", "cann_2d",
            "adex", "izhikevich", "hh_traub", "mat2", "poisson", "current_exp", "ampa_alpha",
            "gaba_alpha", "nmda", "tsodyks_markram", "delta", "delta_gated", "istdp_vogels"]


def test_the_library_has_at_least_24_models():
    assert len(RELEASED) == len(set(RELEASED)) >= 24


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
    assert model.provenance == [{"model": model.ref, "sha256": model.sha256,
                                 "status": "released"}]


def test_newest_and_pinned_versions_are_the_same_cached_object():
    assert load_model("lif") is load_model("lif@2")


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
def user_folder(tmp_path, monkeypatch):
    """An empty user model folder on the search path (before the built-in library)."""
    root = tmp_path / "mymodels"
    root.mkdir()
    monkeypatch.setenv("BRIANLAB_MODELS", str(root))
    return root


@pytest.fixture
def library_copy(tmp_path):
    """A copy of the built-in library, checked as a folder of its own (not on the path)."""
    root = tmp_path / "models"
    shutil.copytree(models_root(), root)
    return root


def _new_version(folder, name="lif", version=9, kind="neurons", edit=lambda t: t):
    source = models_root() / kind / name / "1.toml"
    target = folder / kind / name / f"{version}.toml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(edit(source.read_text().replace("version = 1", f"version = {version}")))
    return target


def test_a_changed_released_file_is_detected(library_copy):
    path = library_copy / "neurons" / "lif" / "1.toml"
    path.write_text(path.read_text().replace('tau_ref = "2 ms"', 'tau_ref = "3 ms"'))
    problems = lock_problems(library_copy)
    assert len(problems) == 1 and "neurons/lif/1.toml: changed after release" in problems[0]
    with pytest.raises(ModelError, match="released file\\(s\\) changed"):
        write_lock(library_copy)


def test_missing_and_unreleased_files_are_detected(library_copy):
    (library_copy / "neurons" / "hh" / "1.toml").unlink()
    _new_version(library_copy)
    problems = lock_problems(library_copy)
    assert any("neurons/hh/1.toml: in models.lock but the file is missing" in p for p in problems)
    assert any("neurons/lif/9.toml: not in models.lock" in p for p in problems)


def test_releasing_adds_new_files_only(library_copy):
    _new_version(library_copy)
    before = (library_copy / "models.lock").read_text()
    assert write_lock(library_copy) == ["neurons/lif/9.toml"]
    after = (library_copy / "models.lock").read_text()
    assert set(before.splitlines()) < set(after.splitlines())
    assert lock_problems(library_copy) == []


def test_lock_is_never_written_through_a_symlink(library_copy, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    lock = library_copy / "models.lock"
    lock.unlink()
    lock.symlink_to(victim)
    _new_version(library_copy)
    with pytest.raises(ModelError, match="symbolic link"):
        write_lock(library_copy)
    assert victim.read_text() == "precious\n"


def test_file_that_lies_about_its_place(user_folder):
    path = user_folder / "neurons" / "lif" / "9.toml"
    path.parent.mkdir(parents=True)
    path.write_text((models_root() / "neurons" / "lif" / "1.toml").read_text())  # says version 1
    with pytest.warns(UnreleasedModelWarning), pytest.raises(ModelError,
                                                             match="lies at neurons/lif/9.toml"):
        load_model("lif@9")


# -- the lock is checked when a model is loaded -------------------------------------------
def test_a_modified_released_file_is_refused_at_load(user_folder):
    path = _new_version(user_folder, name="lif", version=3)
    write_lock(user_folder)
    released = load_model("lif@3")
    assert released.status == "released"
    path.write_text(path.read_text().replace('tau_ref = "2 ms"', 'tau_ref = "3 ms"'))
    with pytest.raises(ModelError) as info:
        load_model("lif@3")
    message = str(info.value)
    new_sha = hashlib.sha256(path.read_bytes()).hexdigest()
    assert str(path) in message and new_sha in message and released.sha256 in message
    with pytest.warns(UnreleasedModelWarning, match="modified"):
        modified = load_model("lif@3", allow_modified=True)
    assert modified.status == "modified" and modified.sha256 == new_sha
    assert modified.provenance == [{"model": "lif@3", "sha256": new_sha, "status": "modified"}]
    assert modified.parameters["tau_ref"] == 3 * ms


def test_an_unreleased_file_loads_with_a_warning(user_folder):
    _new_version(user_folder)
    with pytest.warns(UnreleasedModelWarning, match="not in .*models.lock"):
        model = load_model("lif")  # the newest version is the user's lif@9
    assert model.version == 9 and model.status == "unreleased"
    assert model.provenance[0]["status"] == "unreleased"
    assert load_model("lif@1").status == "released"  # the built-in one


def test_composed_provenance_keeps_each_status(user_folder):
    _new_version(user_folder)
    with pytest.warns(UnreleasedModelWarning):
        composed = compose("lif@9", ["ampa_exp"])
    assert composed.status == "unreleased"
    assert [p["status"] for p in composed.provenance] == ["unreleased", "released"]


# -- the search path --------------------------------------------------------------------
def test_user_folders_are_added_not_swapped(user_folder):
    names = {entry.name for entry in list_models()}
    assert set(RELEASED) <= names  # the built-in library is still there
    assert model_paths()[0] == user_folder.resolve() and model_paths()[-1] == \
        models_root().resolve()


def test_same_version_in_two_folders_is_an_error_naming_both(user_folder):
    _new_version(user_folder, version=1)
    with pytest.raises(ModelError) as info:
        load_model("hh")
    message = str(info.value)
    assert "lif@1 is defined twice" in message
    assert str(user_folder.resolve() / "neurons" / "lif" / "1.toml") in message
    assert str(models_root().resolve() / "neurons" / "lif" / "1.toml") in message


def test_several_folders_on_the_path(tmp_path, monkeypatch):
    first, second = tmp_path / "a", tmp_path / "b"
    _new_version(first)
    _new_version(second, name="hh", version=2)
    monkeypatch.setenv("BRIANLAB_MODELS", os.pathsep.join([str(first), str(second)]))
    with pytest.warns(UnreleasedModelWarning):
        assert load_model("lif").path.startswith(str(first.resolve()))
        assert load_model("hh").path.startswith(str(second.resolve()))
    # each folder has its own lock
    write_lock(second)
    assert load_model("hh@2").status == "released"


def test_a_missing_folder_is_reported(tmp_path, monkeypatch):
    monkeypatch.setenv("BRIANLAB_MODELS", str(tmp_path / "nope"))
    with pytest.raises(ModelError, match="nope .*does not exist"):
        load_model("lif")
    with pytest.raises(ModelError, match="does not exist"):
        add_model_path(tmp_path / "nope")


def test_add_model_path(tmp_path, monkeypatch):
    import brianlab.store as store

    monkeypatch.setattr(store, "_ADDED", [])  # the added folders live in the store
    folder = tmp_path / "added"
    _new_version(folder, version=5)
    assert brianlab.add_model_path(folder) == folder.resolve()
    assert folder.resolve() in model_paths()
    with pytest.warns(UnreleasedModelWarning):
        assert load_model("lif").version == 5


def test_public_api():
    for name in ("load_model", "Model", "ModelError", "use_device", "compose", "read_model_file",
                 "add_model_path", "model_paths"):
        assert hasattr(brianlab, name)


def test_import_brianlab_compose_gives_the_module():
    import types

    import brianlab.compose as module

    assert isinstance(module, types.ModuleType) and module.__name__ == "brianlab.compose"
    assert callable(module.neuron_group) and brianlab.compose is module
    assert brianlab.compose("lif", ["ampa_exp"]).name == "lif+ampa"  # still callable
