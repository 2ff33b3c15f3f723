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


#: A repeated command's figures while its background thread is still importing pyplot
#: (made slow here: the thread is inside ``matplotlib.pyplot`` when the figures start).
RACE = """
import importlib.abc, json, sys, time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

import matplotlib
from brianlab.cmsa import __main__ as cli
from brianlab.results import RunFolder


class Slow(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "matplotlib.figure":
            time.sleep(1.0)
        return None


sys.meta_path.insert(0, Slow())
folder = RunFolder(sys.argv[1])
side = 6
folder.save_arrays("points/p", frames=np.random.default_rng(0).random((3, side, side)),
                   e_t=np.array([1.0, 2.0]), e_i=np.array([side * (side // 2), 1]))
phi = {"phi": 0.1, "mean_patterns": 1.0, "mean_speed": 0.1}
settings = SimpleNamespace(phi="spikes", frame_times=lambda: np.array([8.0, 16.0, 24.0]))
cli._prefetch("matplotlib.pyplot")
time.sleep(0.3)
assert "matplotlib.pyplot" in sys.modules  # (half imported)
cli._snapshot_figures(folder, {"p": {"phi": phi}}, {"p": settings}, {"p": "bump (rp 5 ms)"},
                      SimpleNamespace(no_gif=True, size=side))
print(json.dumps(sorted(p.name for p in folder.path.glob("*.png"))))
"""


def test_figures_wait_for_the_background_import_of_pyplot(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}  # as users run it
    proc = subprocess.run([sys.executable, "-c", RACE, str(tmp_path / "out")], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.splitlines()[-1] == '["raster.png", "snapshots.png"]'
