"""The model files ship inside the wheel: build it, install it into a fresh venv, load a model."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_wheel_ships_the_models(tmp_path):
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is needed to make the fresh environment")
    source = tmp_path / "src"
    # a clean copy of the sources (no build leftovers), as a fresh clone would have
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".venv", ".git", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache"))
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(dist),
                    str(source)], check=True, capture_output=True, timeout=600)
    wheel = next(dist.glob("brianlab-*.whl"))
    import zipfile

    names = zipfile.ZipFile(wheel).namelist()
    assert "brianlab/models/models.lock" in names
    assert "brianlab/models/neurons/lif/1.toml" in names
    venv = tmp_path / "venv"
    subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(venv)], check=True,
                   timeout=300)
    python = venv / "bin" / "python"
    subprocess.run([uv, "pip", "install", "-q", "--python", str(python), str(wheel)],
                   check=True, timeout=900)
    script = ("import brianlab, pathlib; m = brianlab.load_model('lif@1'); "
              "print(m.ref, m.sha256, pathlib.Path(m.path).is_relative_to(pathlib.Path("
              "brianlab.__file__).parent)); from brianlab.library import lock_problems; "
              "print(lock_problems())")
    out = subprocess.run([str(python), "-c", script], cwd=tmp_path, capture_output=True,
                         text=True, timeout=300, env={"PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    from brianlab import load_model

    ref, sha, inside, problems = out.stdout.split(maxsplit=3)
    assert (ref, sha, inside) == ("lif@1", load_model("lif@1").sha256, "True")
    assert problems.strip() == "[]"
    cli = subprocess.run([str(python), "-m", "brianlab", "models", "check"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    assert cli.returncode == 0 and "model file(s) OK" in cli.stdout


def test_every_package_is_listed_in_setup_cfg():
    import configparser

    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    listed = set(cfg["options"]["packages"].split())
    found = {".".join(p.parent.relative_to(ROOT).parts)
             for p in (ROOT / "brianlab").rglob("__init__.py")}
    assert found | {"brianlab.models"} == listed
