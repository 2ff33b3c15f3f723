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
    assert row.split()[1:3] == ["2", "neuron"] and "refractor" in row


def test_show_prints_equations_parameters_hash(capsys):
    from brianlab import load_model

    assert main(["models", "show", "hh@1"]) == 0
    out = capsys.readouterr().out
    assert "hh@1  (neuron, released)" in out and load_model("hh").sha256 in out
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


# -- issue 10: hostile files and pipes ---------------------------------------------------
def _user_model(folder, text, kind="neurons", name="evil", version=1):
    path = folder / kind / name / f"{version}.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


EVIL = ('name = "evil"\nversion = 1\nkind = "neuron"\n'
        'summary = "looks \\u001b[2J\\u001b[31mharmless\\u0007"\n'
        'notes = "line\\u001b]0;pwned\\u0007 end"\n'
        'equations = "dv/dt = -v/tau : volt"\n[parameters]\ntau = "10 ms"\n')


def test_show_strips_terminal_control_characters(tmp_path, monkeypatch, capsys):
    _user_model(tmp_path, EVIL)
    monkeypatch.setenv("BRIANLAB_MODELS", str(tmp_path))
    with pytest.warns(UserWarning, match="not in"):
        assert main(["models", "show", "evil"]) == 0
    out = capsys.readouterr().out
    assert "looks [2J[31mharmless" in out and "line]0;pwned end" in out
    assert not any(ord(c) < 32 and c not in "\n\t" or 127 <= ord(c) < 160 for c in out)
    assert "evil@1  (neuron, unreleased)" in out


def test_list_names_a_bad_file_and_lists_the_rest(tmp_path, monkeypatch, capsys):
    _user_model(tmp_path, 'name = "bad"\nversion = 1\nkind = "neuron"\nequations = "dv/dt"\n',
                name="bad")
    monkeypatch.setenv("BRIANLAB_MODELS", str(tmp_path))
    assert main(["models", "list"]) == 1
    captured = capsys.readouterr()
    assert "cannot list bad@1" in captured.err and "bad/1.toml" in captured.err
    assert "stdp_triplet" in captured.out and "lif " in captured.out


@pytest.mark.parametrize("make", ["dev_zero", "long_threshold", "deep_arrays"])
def test_check_resource_limits_exit_1(tmp_path, make, capsys):
    if make == "dev_zero":
        target = "/dev/zero"
    else:
        target = tmp_path / "m.toml"
        body = ('name = "x"\nversion = 1\nkind = "neuron"\n'
                'equations = "dv/dt = -v/tau : volt"\n')
        if make == "long_threshold":
            body += 'threshold = "v > ' + "0*mV + " * 15_000 + '0*mV"\n'
        else:
            body += "references = " + "[" * 10_000 + "]" * 10_000 + "\n"
        target.write_text(body + '[parameters]\ntau = "10 ms"\n')
    assert main(["models", "check", str(target)]) == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith(str(target))


def test_check_keeps_exit_1_into_a_broken_pipe(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("not [toml")
    cmd = f"{sys.executable} -m brianlab models check {bad} {bad} {bad} | true; " \
          "echo ${PIPESTATUS[0]}"
    out = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, timeout=300)
    assert out.stdout.strip() == "1", out.stderr
    assert "Traceback" not in out.stderr


def test_lock_a_user_folder(tmp_path, monkeypatch, capsys):
    good = EVIL.replace("evil", "mine")
    _user_model(tmp_path, good, name="mine")
    monkeypatch.setenv("BRIANLAB_MODELS", str(tmp_path))
    assert main(["models", "lock"]) == 0  # the first folder of the path: the user's
    assert "released: neurons/mine/1.toml" in capsys.readouterr().out
    assert (tmp_path / "models.lock").read_text().endswith("  neurons/mine/1.toml\n")
    from brianlab import load_model

    assert load_model("mine").status == "released"


def test_check_lists_unreleased_files_and_exits_0(tmp_path, monkeypatch, capsys):
    """A new, valid file is listed as unreleased (the own-models guide's step 2 ends
    with exit 0 before locking); after `models lock` it is no longer listed. A changed
    released file or a missing one exits 1."""
    good = EVIL.replace("evil", "mine")
    path = _user_model(tmp_path, good, name="mine")
    monkeypatch.setenv("BRIANLAB_MODELS", str(tmp_path))
    assert main(["models", "check"]) == 0
    out = capsys.readouterr().out
    assert f"unreleased: {path} (release it with 'python -m brianlab models lock " \
           f"{tmp_path}')" in out
    assert "of them unreleased" in out
    assert main(["models", "lock"]) == 0
    capsys.readouterr()
    assert main(["models", "check"]) == 0
    assert str(path) not in capsys.readouterr().out
    path.write_text(path.read_text().replace("10 ms", "11 ms"))
    assert main(["models", "check"]) == 1
    assert "changed after release" in capsys.readouterr().out
    path.unlink()
    assert main(["models", "check"]) == 1
    assert "in models.lock but the file is missing" in capsys.readouterr().out
