"""The CMSA command's points as a pipeline plan (issue 25, S8 part 1).

:func:`brianlab.cmsa.plan.make_plan` turns a command's ``CMSAParams`` points into a
:class:`~brianlab.pipeline.plan.Plan` of ``cmsa_sheet@2``: one build per structure
(paths and whole connector tables), run values, the drive seed and the point's
``PointSettings`` for the ``cmsa_phi`` reduction. Built by the pipeline
(:func:`~brianlab.pipeline.compile.compile_build`) and run by it
(:func:`brianlab.pipeline.execute.run`), its points give the files the command saves today
(``python -m brianlab.cmsa run|attention`` on cpp_standalone: every ``.npz`` member equal,
every record field equal but the timings and the host's run details, which the pipeline's
record extends by ``statistics``). This is the golden check the command's move onto the
pipeline (S8 part 2) keeps.
"""

import json

import numpy as np
import pytest
from brian2 import ms, nA

from brianlab.cmsa.__main__ import _base, _open_folder, _parser, _point_key, main
from brianlab.cmsa.plan import SHEET, make_plan
from brianlab.cmsa.presets import PHASES
from brianlab.devices import cxx_compiler_works
from brianlab.pipeline import builds, execute
from brianlab.pipeline.compile import compile_build

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not cxx_compiler_works(),
                                                   reason="needs a C++ compiler")]

SMALL = ["--size", "30", "--ke", "50", "--ki", "50", "--duration", "100", "--no-gif"]
#: Record fields that say how and where a point ran, not what it computed.
RUN_DETAILS = {"timings", "sweep"}


def _points(argv):
    """The command's points, keys and folder configuration, as ``main`` makes them."""
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
    return points, [_point_key(p, folder) for p in points], folder.configuration


def _run_plan(plan, out):
    (out / "points").mkdir(parents=True)
    for index, spec in enumerate(plan.builds):
        manifest = builds.find(spec) or compile_build(plan, spec)
        execute.run(manifest, plan.points_of(index), out, plan.reduction)


@pytest.mark.parametrize("extra", [[], ["--phi", "voltage"], ["--preset", "lab-report"],
                                   ["--rule", "probability"], ["--rule", "kernel"],
                                   ["attention"]],
                         ids=["default", "voltage", "lab-report", "probability", "kernel",
                              "attention"])
def test_the_plan_gives_the_commands_files(extra, tmp_path, monkeypatch):
    monkeypatch.setenv("BRIANLAB_CACHE", str(tmp_path / "cache"))
    command = ["attention", "--seeds", "0"] if extra == ["attention"] else ["run", *extra]
    argv = [*command, *SMALL, "--out", str(tmp_path / "command")]
    assert main(argv) == 0
    points, keys, configuration = _points(argv)
    plan = make_plan(points, keys, keys, command={"argv": argv}, configuration=configuration)
    assert len(plan.builds) == 1 and plan.builds[0].network.ref == SHEET
    assert plan.builds[0].additions  # the connectors, whole
    assert plan.reduction.name == "cmsa_phi"
    _run_plan(plan, tmp_path / "plan")
    for key in keys:
        with np.load(tmp_path / "command" / "points" / f"{key}.npz") as a, \
                np.load(tmp_path / "plan" / "points" / f"{key}.npz") as b:
            assert sorted(a.files) == sorted(b.files) == ["e_i", "e_t", "frames", "i_i", "i_t"]
            for name in a.files:
                assert np.array_equal(a[name], b[name]), (key, name)
        old, new = (json.loads((tmp_path / folder / "points" / f"{key}.json").read_text())
                    for folder in ("command", "plan"))
        assert set(new) - set(old) == {"statistics"}
        for field in set(old) - RUN_DETAILS:
            assert old[field] == new[field], (key, field)
        assert new["statistics"]["E"]["rate"] == old["rate_e_hz"]
    if extra == ["attention"]:
        assert all(json.loads((tmp_path / "plan" / "points" / f"{k}.json").read_text())
                   ["attention"] for k in keys)
