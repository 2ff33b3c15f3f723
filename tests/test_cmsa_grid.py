"""``cmsa sweep --grid``: the CMSA command's sheet and values as the pipeline's sweep of
``cmsa_sheet@2`` (issue 25: the rp x We phase diagram), checked against the command's own
one-axis sweep, which builds the sheet with ``build_ei_sheet``."""

import json

import pytest

from brianlab.cmsa.__main__ import main
from brianlab.cmsa.arguments import parser as _parser
from brianlab.cmsa.commands import grid_request
from brianlab.toolchain import cxx_compiler_works

SMALL = ["--size", "20", "--ke", "50", "--ki", "50", "--duration", "60"]


def _args(*argv):
    return _parser().parse_args(["sweep", *argv])


def test_the_default_sheet_is_the_file_itself():
    """No structure change for the default sheet: it shares the file's build with
    ``python -m brianlab sweep cmsa_sheet``."""
    argv = grid_request(_args("--grid", "rp=5:10:0.5", "--grid", "we=0.014:0.024:0.002",
                              "--seeds", "0-2"))
    assert argv == ["sweep", "cmsa_sheet@2", "--set", "wi=10 nS",
                    "--grid", "rp=5:10:0.5 ms", "--grid", "we=0.014:0.024:0.002 uS",
                    "--seeds", "0,1,2"]


def test_a_smaller_sheet_and_fixed_values_become_structure_and_run_values():
    argv = grid_request(_args(*SMALL, "--grid", "we=0.02,0.03", "--rp", "7", "--workers",
                              "2"))
    sets = [argv[i + 1] for i, a in enumerate(argv) if a == "--set"]
    assert "populations.E.lattice.side=20" in sets and "projections.ie.connector.k=50" in sets
    assert "protocol.spontaneous.duration=60 ms" in sets
    assert "rp=7 ms" in sets and "wi=10 nS" in sets and not any(s.startswith("we=")
                                                                   for s in sets)
    assert argv[-2:] == ["--workers", "2"]


@pytest.mark.parametrize("argv, message", [
    (["--grid", "rp=5,6", "--grid", "rp=7"], "each name once"),
    (["--grid", "rp=5,6", "--rule", "kernel"], "use --param/--values for --rule kernel"),
    (["--grid", "rp=5,6", "--phi", "voltage"], "--phi voltage"),
])
def test_sheets_the_file_cannot_express_are_refused(argv, message, capsys):
    assert main(["sweep", *argv]) == 2
    assert message in capsys.readouterr().err


def test_unknown_grid_names_are_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit):
        _parser().parse_args(["sweep", "--grid", "tau=5,6"])
    assert "NAME one of rp, we, wi, conn_seed" in capsys.readouterr().err


def test_a_grid_over_connectivity_seeds_is_one_build():
    """``--grid conn_seed=0,1,2``: the file's ``seeds.connectivity``, which the sheet's
    cpp_standalone build takes at run time (issue 26): rp x conn_seed is one build."""
    import argparse

    from brianlab.pipeline.cli import _request, add_commands
    from brianlab.pipeline.planner import make_plan

    argv = grid_request(_args(*SMALL, "--grid", "rp=5,10", "--grid", "conn_seed=0,1,2",
                              "--seeds", "0", "--device", "cpp_standalone"))
    assert argv[argv.index("--grid", argv.index("--grid") + 1) + 1] == \
        "seeds.connectivity=0,1,2"
    top = argparse.ArgumentParser()
    add_commands(top.add_subparsers(dest="command"))
    plan = make_plan(_request(top.parse_args(argv)))
    assert len(plan.builds) == 1 and len(plan.points) == 6
    assert sorted({dict(p.run_values)["conn_seed"] for p in plan.points}) == [0.0, 1.0, 2.0]


@pytest.mark.slow
@pytest.mark.skipif(not cxx_compiler_works(), reason="needs a C++ compiler")
def test_grid_points_are_the_one_axis_sweeps_points(tmp_path):
    """rp 5 and 10 ms at the default We, seeds 0 and 1: the pipeline's points (the network
    file) give the command's own sweep's Phi, pattern count and rates exactly."""
    assert main(["sweep", *SMALL, "--param", "rp", "--values", "5,10", "--seeds", "0,1",
                 "--no-gif", "--out", str(tmp_path / "old")]) == 0
    assert main(["sweep", *SMALL, "--grid", "rp=5,10", "--grid", "we=0.02", "--seeds", "0,1",
                 "--out", str(tmp_path / "new")]) == 0
    old = json.loads((tmp_path / "old" / "summary.json").read_text())["points"]
    new = json.loads((tmp_path / "new" / "summary.json").read_text())["points"]
    assert len(old) == len(new) == 4

    def numbers(records, rp_of, seed_of):
        return {(round(rp_of(r), 6), seed_of(r)): (r["phi"], r["rate_e_hz"], r["rate_i_hz"])
                for r in records.values()}

    a = numbers(old, lambda r: float(r["params"]["rp"].split()[0]),
                lambda r: r["params"]["seed"])
    b = numbers(new, lambda r: r["params"]["values"]["rp"] * 1e3, lambda r: r["params"]["seed"])
    assert a == b
    assert {k[0] for k in a} == {5.0, 10.0}
