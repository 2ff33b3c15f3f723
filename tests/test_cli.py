"""`python -m brianlab models list|show|check`: output, exit codes, bad arguments."""

import subprocess
import sys

import pytest

from brianlab.__main__ import main


def test_list_shows_every_model(capsys):
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["name", "version", "kind", "summary"]
    row = next(line for line in lines if line.startswith("lif "))
    assert row.split()[1:3] == ["1", "neuron"] and "refractor" in row


def test_show_prints_equations_parameters_hash(capsys):
    from brianlab import load_model

    assert main(["models", "show", "hh@1"]) == 0
    out = capsys.readouterr().out
    assert "hh@1  (neuron)" in out and load_model("hh").sha256 in out
    assert "dm/dt = alpha_m*(1 - m) - beta_m*m : 1" in out
    assert "E_L" in out and "-54.402 mV" in out and "Hodgkin & Huxley (1952)" in out


def test_check_library_ok(capsys):
    assert main(["models", "check"]) == 0
    assert "model file(s) OK" in capsys.readouterr().out


def test_check_bad_files_one_line_each(tmp_path, capsys):
    bad1 = tmp_path / "a.toml"
    bad1.write_text('name = "a"\nversion = 1\nkind = "neuron"\nequations = "dv/dt = -v/tau : volt"\n'
                    '[parameters]\ntau = "10 mV"\n')
    bad2 = tmp_path / "b.toml"
    bad2.write_text("this is [not toml")
    assert main(["models", "check", str(bad1), str(bad2)]) == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 2
    assert out[0].startswith(str(bad1)) and "dv/dt" in out[0]
    assert out[1].startswith(str(bad2)) and "malformed TOML" in out[1]


def test_show_unknown_model_exits_1(capsys):
    assert main(["models", "show", "nope"]) == 1
    assert "unknown model 'nope'" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [[], ["models"], ["models", "frobnicate"], ["nope"],
                                  ["models", "show"], ["models", "list", "extra"]])
def test_bad_arguments_exit_2_with_usage(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_module_entry_point_runs():
    out = subprocess.run([sys.executable, "-m", "brianlab", "models", "list"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "stdp_triplet" in out.stdout
