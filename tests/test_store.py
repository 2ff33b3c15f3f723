"""The model store (``brianlab.store``): search path, locating references, the lock, the
digest of the model files; all without Brian2."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import brianlab
from brianlab import store
from brianlab.errors import ModelError
from brianlab.store import UnreleasedModelWarning

_PACKAGE = Path(brianlab.__file__).resolve().parent


@pytest.fixture(autouse=True)
def _no_added_folders(monkeypatch):
    """Each test starts with no folders added by :func:`store.add_model_path`."""
    monkeypatch.setattr(store, "_ADDED", [])
    monkeypatch.delenv(store.ENV_VAR, raising=False)


def _new_version(folder: Path, name="lif", version=9, kind="neurons") -> Path:
    """A copy of a released file as another version in ``folder`` (bytes only: the store
    parses nothing)."""
    source = store.models_root() / kind / name / "1.toml"
    target = folder / kind / name / f"{version}.toml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(source.read_text().replace("version = 1", f"version = {version}"))
    return target


def _no_check(path):
    return None


# -- the search path ------------------------------------------------------------------------
def test_search_path_is_user_folders_then_added_then_the_library(tmp_path, monkeypatch):
    first, second, added = tmp_path / "first", tmp_path / "second", tmp_path / "added"
    for folder in (first, second, added):
        folder.mkdir()
    monkeypatch.setenv(store.ENV_VAR, os.pathsep.join([str(first), str(second)]))
    assert store.add_model_path(added) == added.resolve()
    assert store.add_model_path(added) == added.resolve()  # added once
    assert store.model_paths() == [first.resolve(), second.resolve(), added.resolve(),
                                   store.models_root().resolve()]
    monkeypatch.setenv(store.ENV_VAR, str(added))  # a folder named twice is searched once
    assert store.model_paths() == [added.resolve(), store.models_root().resolve()]


def test_a_missing_user_folder_is_an_error(tmp_path, monkeypatch):
    with pytest.raises(ModelError, match="does not exist"):
        store.add_model_path(tmp_path / "nope")
    monkeypatch.setenv(store.ENV_VAR, str(tmp_path / "nope"))
    with pytest.raises(ModelError, match=f"nope \\(from \\${store.ENV_VAR}\\) does not exist"):
        store.model_paths()


def test_the_library_root_has_its_lock():
    root = store.models_root()
    assert (root / store.LOCK_NAME).is_file()
    assert store.lock_problems() == []


# -- locating references --------------------------------------------------------------------
def test_name_finds_the_newest_version_and_name_at_version_pins_it(tmp_path, monkeypatch):
    newest = {e.name: e for e in store.list_models()}["lif"].newest
    lif1 = store.models_root() / "neurons" / "lif" / "1.toml"
    assert store.model_path("lif@1") == lif1
    assert store.model_path("lif") == lif1.with_name(f"{newest}.toml")
    user = tmp_path / "user"
    mine = _new_version(user, version=newest + 2)
    monkeypatch.setenv(store.ENV_VAR, str(user))
    assert store.model_path("lif") == mine.resolve()
    assert store.model_path("lif@1") == lif1
    assert store.model_path(f"lif@{newest + 2}", root=user) == mine
    entry = {e.name: e for e in store.list_models()}["lif"]
    assert entry.kind == "neuron" and entry.versions[0] == 1 and entry.newest == newest + 2
    assert entry.root(newest + 2) == user.resolve() and entry.path(1) == lif1
    assert store.ref_kind("lif@1") == "neuron" and store.parse_ref("lif@4") == ("lif", 4)
    networks = [e for e in store.list_models() if e.kind == "network"]
    assert networks and store.ref_kind(networks[0].name) == "network"
    with pytest.raises(ModelError, match="has no version 99"):
        store.model_path("lif@99")
    with pytest.raises(ModelError, match="unknown model 'nosuch'"):
        store.model_path("nosuch")
    with pytest.raises(ModelError, match="invalid model name"):
        store.model_path("../lif")


def test_one_version_in_two_folders_is_an_error(tmp_path, monkeypatch):
    user = tmp_path / "user"
    _new_version(user, version=1)
    monkeypatch.setenv(store.ENV_VAR, str(user))
    with pytest.raises(ModelError, match="lif@1 is defined twice"):
        store.list_models()


def test_read_checked_reads_a_released_file():
    stored = store.read_checked("lif@1", network=False)
    assert stored.path == store.models_root() / "neurons" / "lif" / "1.toml"
    assert stored.data == stored.path.read_bytes()
    assert stored.sha256 == hashlib.sha256(stored.data).hexdigest()
    assert stored.status == "released"
    with pytest.raises(ModelError, match="is a neuron model, not a network file"):
        store.read_checked("lif", network=True)


# -- the lock -------------------------------------------------------------------------------
def test_the_lock_is_written_and_read_back(tmp_path):
    user = tmp_path / "user"
    first = _new_version(user, version=2)
    second = _new_version(user, name="hh", version=2)
    assert store.unreleased_files(user) == [second, first]  # by relative path
    checked = []
    assert store.write_lock(user, check=checked.append) == ["neurons/hh/2.toml",
                                                             "neurons/lif/2.toml"]
    assert checked == [second, first]
    lock = (user / store.LOCK_NAME).read_text()
    assert lock == "".join(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  "
                           f"{p.relative_to(user).as_posix()}\n" for p in (second, first))
    assert store._read_lock(user) == {p.relative_to(user).as_posix():
                                      hashlib.sha256(p.read_bytes()).hexdigest()
                                      for p in (first, second)}
    assert store.unreleased_files(user) == [] and store.lock_problems(user) == []
    assert store.write_lock(user, check=checked.append) == [] and len(checked) == 2
    third = _new_version(user, version=3)
    assert store.lock_problems(user, unreleased=False) == []
    assert "not in models.lock" in store.lock_problems(user)[0]
    assert store.unreleased_files(user) == [third]


def test_a_file_that_fails_its_check_is_not_released(tmp_path):
    user = tmp_path / "user"
    _new_version(user)

    def refuse(path):
        raise ModelError("bad file", path=path)

    with pytest.raises(ModelError, match="bad file"):
        store.write_lock(user, check=refuse)
    assert not (user / store.LOCK_NAME).exists()


def test_a_released_file_changed_on_disk_is_refused(tmp_path, monkeypatch):
    user = tmp_path / "user"
    path = _new_version(user, version=93)
    monkeypatch.setenv(store.ENV_VAR, str(user))
    with pytest.warns(UnreleasedModelWarning, match="not in"):
        assert store.read_checked("lif@93").status == "unreleased"
    store.write_lock(user, check=_no_check)
    assert store.read_checked("lif@93").status == "released"
    path.write_text(path.read_text().replace('tau_ref = "2 ms"', 'tau_ref = "3 ms"'))
    with pytest.raises(ModelError, match="released file changed: its sha256 is") as info:
        store.read_checked("lif@93")
    assert str(path.resolve()) in str(info.value)
    with pytest.warns(UnreleasedModelWarning, match="differs from its lock entry"):
        stored = store.read_checked("lif@93", allow_modified=True)
    assert stored.status == "modified" and stored.data == path.read_bytes()
    assert "changed after release" in store.lock_problems(user)[0]
    with pytest.raises(ModelError, match="released file\\(s\\) changed"):
        store.write_lock(user, check=_no_check)


def test_a_file_over_the_size_limit_is_refused(tmp_path):
    big = tmp_path / "big.toml"
    big.write_bytes(b"#" * (store.MAX_FILE_BYTES + 1))
    with pytest.raises(ModelError, match="larger than 1000 kB"):
        store.read_model_bytes(big)
    with pytest.raises(ModelError, match="does not exist"):
        store.read_model_bytes(tmp_path / "nope.toml")


# -- the digest of the model files ----------------------------------------------------------
def _reference_models_digest() -> str:
    """``brianlab.cmsa.cached._models_digest`` (with ``_model_folders``, ``_model_files``,
    ``_bounded_bytes``) as it was before the digest moved to ``store.models_digest``,
    copied here as the reference: a CMSA plan's key contains the digest, so the moved
    function must give the same value, or every user's cached plans would stop matching.
    Only one line differs: the added folders, read from ``brianlab.library._ADDED``
    then, live in ``brianlab.store._ADDED`` now."""
    MODEL_FILE_BYTES = 1_000_000

    def _model_folders() -> list[Path]:
        folders = [Path(item).expanduser() for item in
                   os.environ.get("BRIANLAB_MODELS", "").split(os.pathsep) if item.strip()]
        library = sys.modules.get("brianlab.store")  # was: "brianlab.library"
        folders += list(getattr(library, "_ADDED", ()))
        folders += [_PACKAGE / "models", _PACKAGE.parent / "models"]
        return folders

    def _model_files(folder: Path) -> list[Path]:
        files = sorted(folder.glob("*/*/*.toml"))
        return [*files, folder / "models.lock"]

    def _bounded_bytes(path: Path) -> bytes:
        try:
            if not path.is_file():
                return b"missing" if not path.exists() else b"not a regular file"
            with open(path, "rb") as handle:
                data = handle.read(MODEL_FILE_BYTES + 1)
        except OSError as exc:
            return f"unreadable: {exc.strerror}".encode()
        if len(data) > MODEL_FILE_BYTES:
            st = path.stat()
            return f"too large: {st.st_size} {st.st_mtime_ns} {st.st_ctime_ns}".encode()
        return data

    digest = hashlib.sha256()
    for folder in _model_folders():
        folder = folder.resolve()
        digest.update(str(folder).encode() + b"\0")
        if folder.is_dir():
            for path in _model_files(folder):
                data = _bounded_bytes(path)
                digest.update(str(path.relative_to(folder)).encode() + b"\0")
                digest.update(hashlib.sha256(data).digest())
    return digest.hexdigest()


def test_models_digest_equals_the_digest_of_cmsa_plans_before(tmp_path, monkeypatch):
    """The same value as the old ``cmsa.cached._models_digest`` on the library alone and
    with user folders: a models folder from ``$BRIANLAB_MODELS`` with a new version, a
    lock, a file over the size limit, a folder named like a model file, a data file the
    digest ignores; a missing folder; an added folder."""
    assert store.MAX_FILE_BYTES == 1_000_000  # the bound the old digest read under
    assert store.models_digest() == _reference_models_digest()
    user = tmp_path / "user"
    _new_version(user, version=2)
    _new_version(user, name="hh", version=2)
    store.write_lock(user, check=_no_check)
    _new_version(user, version=3)
    big = user / "neurons" / "big" / "1.toml"
    big.parent.mkdir()
    big.write_bytes(b"#" * (store.MAX_FILE_BYTES + 1))
    (user / "neurons" / "odd" / "1.toml").mkdir(parents=True)
    (user / "recording.dat").write_bytes(b"\0" * 1000)
    monkeypatch.setenv(store.ENV_VAR, os.pathsep.join([str(user), str(tmp_path / "gone")]))
    assert store.models_digest() == _reference_models_digest()
    added = tmp_path / "added"
    _new_version(added, name="adex", version=5)
    store.add_model_path(added)
    assert store.models_digest() == _reference_models_digest()
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv(store.ENV_VAR, os.pathsep.join(["~/user", "~/gone"]))  # expanded
    assert store.models_digest() == _reference_models_digest()


def test_models_digest_is_stable_and_changes_with_any_model_file(tmp_path, monkeypatch):
    user = tmp_path / "user"
    path = _new_version(user, version=2)
    monkeypatch.setenv(store.ENV_VAR, str(user))
    digest = store.models_digest()
    assert store.models_digest() == digest and len(digest) == 64
    (user / "notes.txt").write_text("not a model file")
    assert store.models_digest() == digest
    path.write_text(path.read_text() + "\n")
    changed = store.models_digest()
    assert changed != digest
    store.write_lock(user, check=_no_check)
    assert store.models_digest() not in (digest, changed)
    monkeypatch.delenv(store.ENV_VAR)
    assert store.models_digest() not in (digest, changed)


# -- tier 1 ---------------------------------------------------------------------------------
def test_the_store_imports_no_brian2():
    """``import brianlab.store`` (and the package's names that it defines) in a fresh
    interpreter imports neither Brian2 nor sympy."""
    code = ("import json, sys, brianlab.store; from brianlab import list_models, "
            "model_paths, add_model_path, UnreleasedModelWarning; list_models(); "
            "brianlab.store.models_digest(); print(json.dumps(sorted(m for m in sys.modules "
            "if m.split('.')[0] in ('brian2', 'sympy'))))")
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == []


def test_the_library_and_the_package_give_the_stores_names():
    import brianlab.library as library

    for name in ("LOCK_NAME", "ENV_VAR", "LIBRARY_KINDS", "ModelEntry", "UnreleasedModelWarning",
                 "models_root", "add_model_path", "model_paths", "list_models", "parse_ref",
                 "ref_kind", "model_path", "unreleased_files", "lock_problems"):
        assert getattr(library, name) is getattr(store, name), name
    for name in ("add_model_path", "model_paths", "list_models", "UnreleasedModelWarning"):
        assert getattr(brianlab, name) is getattr(store, name), name
    assert library.write_lock is not store.write_lock  # library's checks each new file
