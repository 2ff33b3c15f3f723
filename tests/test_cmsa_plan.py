"""The CMSA command on the pipeline (issue 25, S8).

``python -m brianlab.cmsa run|phases|sweep|attention`` on cpp_standalone runs its points
as a pipeline plan of ``cmsa_sheet@2`` (:func:`brianlab.cmsa.plan.make_plan`: one build
per structure, the connectors as whole tables, run values, the drive seed, the points'
``PointSettings`` for the ``cmsa_phi`` reduction), built by
:func:`~brianlab.pipeline.compile.compile_build` and run by
:func:`brianlab.pipeline.execute.run_builds`. The reference is the sheet the command built
before (:func:`brianlab.cmsa.protocol.build_network`, ``build_ei_sheet``) run by Brian2's
own rerun loop (:func:`brianlab.cmsa.experiment.simulate`): every saved array and every
record field equal, but timings, where the points ran and the pipeline's added
``statistics``. (Before the command moved, the same comparison against its old compiled
path held exactly: commit 33a9ac1.)
"""

import json

import numpy as np
import pytest
from brian2 import ms, nA

from brianlab.cmsa.__main__ import main
from brianlab.cmsa.arguments import parser as _parser
from brianlab.cmsa.commands import open_folder as _open_folder
from brianlab.cmsa.commands import point_key as _point_key
from brianlab.cmsa.commands import sheet as _base
from brianlab.cmsa.experiment import simulate
from brianlab.cmsa.plan import SHEET, make_plan, run_compiled
from brianlab.cmsa.presets import PHASES
from brianlab.cmsa.protocol import point_outputs
from brianlab.devices import cxx_compiler_works
from brianlab.results import _jsonable

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not cxx_compiler_works(),
                                                   reason="needs a C++ compiler")]

SMALL = ["--size", "30", "--ke", "50", "--ki", "50", "--duration", "100", "--no-gif"]
#: Record fields that say how and where a point ran, not what it computed.
RUN_DETAILS = {"timings", "sweep"}


def _points(argv):
    """The command's points and keys, as ``main`` makes them."""
    args = _parser().parse_args(argv)
    base = _base(args)
    if args.command == "run":
        points = [base.with_(rp=args.rp * ms, seed=args.seed)]
        folder = _open_folder(args, "cmsa_run", "run", points[0])
    else:
        base = base.with_(stimulus_duration=args.stimulus_duration * ms,
                          stimulus_amplitude=args.amplitude * nA, image=str(args.image))
        points = [base.with_(rp=rp * ms, seed=s) for _, rp in PHASES for s in args.seeds]
        folder = _open_folder(args, "cmsa_attention", "attention", base)
    return points, [_point_key(p, folder) for p in points]


# (the lab-report preset is checked bit for bit by tests/test_cmsa_pipeline.py and at full
# size by benchmarks/cmsa_golden.py: the note of session 16)
@pytest.mark.parametrize("extra", [[], ["--phi", "voltage"], ["--rule", "probability"],
                                   ["--rule", "kernel"], ["attention"]],
                         ids=["default", "voltage", "probability", "kernel", "attention"])
def test_the_command_gives_brian2s_rerun_loop_numbers(extra, tmp_path, monkeypatch):
    monkeypatch.setenv("BRIANLAB_CACHE", str(tmp_path / "cache"))
    command = ["attention", "--seeds", "0"] if extra == ["attention"] else ["run", *extra]
    out = tmp_path / "command"
    assert main([*command, *SMALL, "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["device"]["cached"] is False and summary["device"]["manifest_key"]
    points, keys = _points([*command, *SMALL, "--out", str(out)])
    plan = make_plan(points, keys, keys, command={}, configuration={})
    assert len(plan.builds) == 1 and plan.builds[0].network.ref == SHEET
    assert plan.builds[0].additions and plan.reduction.name == "cmsa_phi"
    assert plan.builds[0].key() == summary["device"]["manifest_key"]
    reference = {}
    simulate(points, device="cpp_standalone", on_result=lambda k, run, s: reference.
             __setitem__(keys[k], point_outputs(run)))
    for key in keys:
        arrays, old = reference[key]
        with np.load(out / "points" / f"{key}.npz") as saved:
            assert sorted(saved.files) == sorted(arrays) == ["e_i", "e_t", "frames", "i_i",
                                                              "i_t"]
            for name in saved.files:
                assert np.array_equal(saved[name], arrays[name]), (key, name)
        new = json.loads((out / "points" / f"{key}.json").read_text())
        old = json.loads(json.dumps(_jsonable(old)))
        assert set(new) - set(old) == {"statistics", "sweep"} and set(old) <= set(new)
        for field in set(old) - RUN_DETAILS:
            assert old[field] == new[field], (key, field)
    if extra == ["attention"]:
        assert all(json.loads((out / "points" / f"{k}.json").read_text())["attention"]
                   for k in keys)
    # the same points outside the command: its cached build, the same files
    ran = run_compiled(points, keys, tmp_path / "again")
    assert ran["cached"] is True and ran["manifest_key"] == summary["device"]["manifest_key"]
    for key in keys:
        with np.load(out / "points" / f"{key}.npz") as a, \
                np.load(tmp_path / "again" / "points" / f"{key}.npz") as b:
            assert all(np.array_equal(a[n], b[n]) for n in a.files)
