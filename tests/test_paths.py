"""Paths, folders and streams at the edges: a relative or unusable cache, results folders
claimed by two commands at once, over-long paths, damaged lock files, closed pipes and
the background imports of a repeated command. Each ends in a clear one-line error or
in success, never a traceback, and nothing saved is lost."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from brianlab.__main__ import main as models_main
from brianlab.library import models_root


def _non_utf8_library(tmp_path: Path) -> Path:
    folder = tmp_path / "lib"
    (folder / "neurons" / "mine").mkdir(parents=True)
    text = (models_root() / "neurons" / "lif" / "1.toml").read_text()
    (folder / "neurons" / "mine" / "1.toml").write_text(text.replace('name = "lif"',
                                                                     'name = "mine"'))
    (folder / "models.lock").write_bytes(b"\xff\xfe not utf-8\n")
    return folder


@pytest.mark.parametrize("argv", [["show", "mine"], ["check"], ["lock"]])
def test_a_non_utf8_models_lock_is_one_clear_error(tmp_path, monkeypatch, capsys, argv):
    folder = _non_utf8_library(tmp_path)
    monkeypatch.setenv("BRIANLAB_MODELS", str(folder))
    assert models_main(["models", *argv]) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"error: {folder / 'models.lock'}: not UTF-8 text (byte 0); expected lines " \
                  "'<sha256>  <path>'"
    assert (folder / "models.lock").read_bytes() == b"\xff\xfe not utf-8\n"  # untouched


def test_load_model_names_a_non_utf8_lock(tmp_path, monkeypatch):
    from brianlab import ModelError, load_model

    folder = _non_utf8_library(tmp_path)
    monkeypatch.setenv("BRIANLAB_MODELS", str(folder))
    with pytest.raises(ModelError, match="models.lock: not UTF-8 text"):
        load_model("mine")
