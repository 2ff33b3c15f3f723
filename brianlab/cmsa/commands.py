"""The CMSA command's sub-commands on a plan miss: arguments -> plan -> run -> report.

Tier 2 (Brian2): each ``cmd_*`` reads the arguments into the sheet
(:class:`~brianlab.cmsa.params.CMSAParams`, :func:`sheet`), opens the results folder for its
configuration, plans its points (keys computed once, :func:`point_key`), runs those not
done (:func:`execute`: the pipeline, :mod:`brianlab.cmsa.execute`, on every device) and
reports
(:mod:`brianlab.cmsa.report`). ``run`` and ``phases`` save their plan when their build is
the cache's, so the same command line next time runs without this module
(:func:`brianlab.cmsa.execute.run_saved`).
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from brian2 import ms, nA, uS

from .. import __version__
from ..errors import ModelError
from ..inputs import stimulus_image
from ..library import load_network
from ..netformat import structure_paths
from ..networks.sheet import models_provenance
from ..pipeline.compile import compile_build
from ..pipeline.execute import check_cluster, cluster_wanted, load_done, portable, progress, say
from ..pipeline.grid import check_grid, parse_range
from ..pipeline.inprocess import run as run_in_process
from ..pipeline.planner import build_threads
from ..results import RunFolder, config_hash
from ..toolchain import default_device
from ..units import parse_quantity, quantity_text
from .arguments import GRID_PATHS, GRID_UNITS, plan_arguments, results_folder
from .cached import save_plan
from .execute import run_on_pipeline
from .experiment import SWEEPABLE
from .params import CMSAParams
from .plan import SHEET, make_plan, sheet_structure, sheet_values
from .presets import PHASES
from .reduce import PointSettings
from .report import report_attention, report_planned, report_sweep

__all__ = ["COMMANDS", "sheet", "warnings", "open_folder", "point_key", "execute",
           "grid_request", "cmd_run", "cmd_phases", "cmd_sweep", "cmd_attention"]


def sheet(args) -> CMSAParams:
    """The command's sheet (before its points' rp and seed): the preset with the values
    given, checked to fit in memory.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line (``preset``, ``size``, ``phi``, ``duration``, ``we``, ``wi``,
        ``ke``, ``ki``, ``rule`` and ``device``).

    Returns
    -------
    CMSAParams
        Its ``analysis`` at most its ``duration``.

    Raises
    ------
    ValueError
        For values the sheet refuses, or a sheet that would not fit in memory on the device
        (:meth:`~brianlab.cmsa.params.CMSAParams.check_memory`).
    """
    changes = {"e_side": args.size, "i_side": args.size // 2, "phi": args.phi}
    given = {"duration": (args.duration, ms), "we": (args.we, uS), "wi": (args.wi, uS),
             "k_e": (args.ke, 1), "k_i": (args.ki, 1), "rule": (args.rule, None)}
    for name, (value, unit) in given.items():
        if value is not None:
            changes[name] = value if unit is None else value * unit
    preset = CMSAParams.preset(args.preset)
    duration = changes.get("duration", preset.duration)
    p = preset.with_(**changes, analysis=min(preset.analysis, duration))
    p.check_memory(device=args.device or default_device())
    return p


def warnings(p: CMSAParams) -> list[str]:
    """What the command warns of before it runs.

    Parameters
    ----------
    p : CMSAParams
        The command's sheet.

    Returns
    -------
    list of str
        One line when the inhibitory kernel (4 ``sigma_i``) is wider than the E side, so
        inhibition reaches around the torus; else none.
    """
    if 4 * p.sigma_i > p.e_side:
        return [f"warning: the inhibitory kernel (sigma {p.sigma_i:.1f} E sites) is wider than "
                f"a quarter of the sheet ({p.e_side} sites): inhibition reaches around the "
                "torus and the states differ from the full-size sheet's (give a larger --size)"]
    return []


def _warned(p: CMSAParams) -> CMSAParams:
    """``p``, its :func:`warnings` printed (to stderr)."""
    for line in warnings(p):
        say(line, file=sys.stderr)
    return p


def open_folder(args, default: str, command: str, base: CMSAParams) -> RunFolder:
    """The results folder, checked to be writable and to hold only this configuration.

    The configuration is everything that changes a result except the values a sweep
    varies (rp, We, Wi, seed): all other parameters, the model files (name@version,
    sha256, status), the image file's content, device, threads (of a ``cpp_standalone``
    build only, :func:`brianlab.pipeline.planner.build_threads`) and brianlab's version.
    Each point's key adds a hash of its own parameters, so a point is only ever reused
    for the identical simulation.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line (``out``, ``device``, ``threads``, ``portable`` and the
        cluster options).
    default : str
        The folder's name under ``brianlab_out`` when ``--out`` is not given.
    command : str
        The command, as the configuration names it (``"run"``, ``"sweep rp"``).
    base : CMSAParams
        The command's sheet; its fields but the swept ones are the configuration's.

    Returns
    -------
    RunFolder
        Claimed for the configuration.

    Raises
    ------
    ResultsError
        If the folder cannot be written or holds another configuration.
    OSError
        If the stimulus's image file cannot be read.
    """
    params = {k: v for k, v in base.as_dict().items() if k not in SWEEPABLE}
    device = args.device or default_device()
    if base.stimulus_duration > 0 * base.dt and base.image != "cross":
        params["image_sha256"] = hashlib.sha256(Path(base.image).read_bytes()).hexdigest()
    configuration = {"command": command, "params": params, "models": models_provenance(),
                     "device": device, "threads": build_threads(device, args.threads),
                     "brianlab": __version__}
    if portable(args):  # another binary: its numbers may differ in the last bits
        configuration["portable"] = True
    return results_folder(args, default, configuration)


def point_key(p: CMSAParams, folder: RunFolder) -> str:
    """A point's key in ``folder``: its swept values (readable) and a hash of the folder's
    configuration and all of the point's parameters.

    Parameters
    ----------
    p : CMSAParams
        The point.
    folder : RunFolder
        The results folder, claimed for its configuration.

    Returns
    -------
    str
        ``rp<ms>_we<uS>_wi<uS>_seed<seed>_<hash>``, the hash's first 10 hexadecimal digits.
    """
    digest = config_hash({"folder": folder.config_hash, "point": p.as_dict()})[:10]
    return (f"rp{float(p.rp / ms):g}_we{float(p.we / uS):g}_wi{float(p.wi / uS):g}"
            f"_seed{p.seed}_{digest}")


def execute(points: list, args, folder: RunFolder, label: str, *, done=None):
    """Simulate ``points`` (skipping keys in ``done``), saving each as it completes.

    The pipeline runs them (:mod:`brianlab.cmsa.execute`): on ``cpp_standalone`` the
    builds of ``cmsa_sheet@2``, cached, each point the compiled binary with run-time
    values, in this process or on a Dask cluster (``--workers``, ``--scheduler``,
    ``--scheduler-file``); on ``cuda_standalone`` the same with brian2cuda's binary
    (its points run where a GPU is; elsewhere the build is made and not run); on
    ``runtime`` each point built and run in this process
    (:func:`brianlab.pipeline.inprocess.run`). ``--build-only`` finds or compiles the
    builds and runs nothing.

    Parameters
    ----------
    points : list of CMSAParams
        The command's points.
    args : argparse.Namespace
        The parsed command line (``device``, ``threads``, ``build_only`` and the cluster
        options).
    folder : RunFolder
        The results folder; each point is saved as ``points/<key>``.
    label : str
        What the progress bar names.
    done : dict, optional
        Point key -> record, of the points already saved
        (:func:`brianlab.pipeline.execute.load_done`).

    Returns
    -------
    results : dict
        Point key -> record, of this command's points that are done.
    info : dict
        ``device`` (the description of the builds and their use), ``plan`` (the
        pipeline plan) and ``not_run`` (why nothing ran, if so).

    Raises
    ------
    ValueError
        For the cluster options on a device other than ``cpp_standalone`` or with
        ``--build-only`` (:func:`brianlab.pipeline.execute.check_cluster`), and for
        ``--build-only`` on ``runtime`` (:func:`brianlab.pipeline.execute.run_builds`).
    """
    done = done or {}
    keys = [point_key(p, folder) for p in points]
    todo = [(p, key) for p, key in zip(points, keys) if key not in done]
    results = {key: done[key] for key in keys if key in done}  # this command's points only
    info = {"device": None}
    device = args.device or default_device()
    check_cluster(args, device)
    if not todo:
        return results, info
    tick, close = progress(len(todo), label)
    try:
        todo_keys = [key for _, key in todo]
        info["plan"] = make_plan([p for p, _ in todo], todo_keys, todo_keys,
                                 command=plan_arguments(args),
                                 configuration=folder.configuration, device=device,
                                 threads=args.threads, portable=portable(args))
        info["device"] = run_on_pipeline(info["plan"], todo_keys, args, folder, results, tick,
                                         compile_build=compile_build,
                                         run_in_process=run_in_process)
        if "not_run" in info["device"]:
            info["not_run"] = info["device"]["not_run"]
    finally:
        close()
    return results, info


def _planned(args, command: str, base: CMSAParams, points: list, summary: dict) -> int:
    """Run and report a ``run`` or ``phases`` command: ``points`` are ``(CMSAParams,
    title)`` pairs; the plan, in plain data (:mod:`brianlab.cmsa.cached`), is saved when
    its build is the cache's."""
    default = f"cmsa_{command}"
    folder = open_folder(args, default, command, base)
    plan = {"command": command, "default": default, "configuration": folder.configuration,
            "summary": summary, "warnings": warnings(base),
            "points": [{"key": point_key(p, folder), "title": title,
                        "settings": PointSettings.of(p)} for p, title in points]}
    for line in plan["warnings"]:
        say(line, file=sys.stderr)
    records, info = execute([p for p, _ in points], args, folder, command,
                            done=load_done(folder))
    if (info.get("device") or {}).get("manifest_key") and not cluster_wanted(args) \
            and "not_run" not in info:
        save_plan(plan_arguments(args), dict(plan, pipeline=info["plan"].as_dict()))
    return report_planned[command](plan, folder, records, info, args)


def cmd_run(args) -> int:
    """``run``: one point (``--rp``, ``--seed``).

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.

    Returns
    -------
    int
        The exit code (:func:`brianlab.cmsa.report.finish`): 0, or 3 when the points did
        not run but should have.
    """
    p = sheet(args).with_(rp=args.rp * ms, seed=args.seed)
    return _planned(args, "run", p, [(p, f"rp {args.rp:g} ms")],
                    {"command": "run", "params": p.as_dict()})


def cmd_phases(args) -> int:
    """``phases``: the bump, critical and wave points (:data:`~brianlab.cmsa.presets.PHASES`).

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.

    Returns
    -------
    int
        The exit code (:func:`brianlab.cmsa.report.finish`): 0, or 3 when the points did
        not run but should have.
    """
    base = sheet(args)
    points = [(base.with_(rp=rp * ms, seed=args.seed), f"{state} (rp {rp:g} ms)")
              for state, rp in PHASES]
    return _planned(args, "phases", base, points,
                    {"command": "phases", "params": base.as_dict(), "phases": {}})


def cmd_sweep(args) -> int:
    """``sweep --param rp|we``: Phi against one value over seeds (resumable).

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.

    Returns
    -------
    int
        The exit code (:func:`brianlab.cmsa.report.finish`): 0, or 3 when the points did
        not run but should have.
    """
    base = _warned(sheet(args))
    if args.param == "rp":
        values = args.values or parse_range("5:12.5:0.5")
        points = [base.with_(rp=v * ms, seed=s) for v in values for s in args.seeds]
        label = "rp (ms)"
    else:
        values = args.values or parse_range("0.01:0.03:0.0025")
        points = [base.with_(rp=args.rp * ms, we=v * uS, seed=s) for v in values
                  for s in args.seeds]
        label = "We (uS)"
    # (impossible values already failed in with_(), which validates, before any build)
    # the most spikes: the shortest rp; local workers run that many binaries at once
    min(points, key=lambda p: p.rp).check_memory(
        copies=min(args.workers or 1, len(points)), device=args.device or default_device())
    check_grid([(args.param, values)], len(args.seeds))
    folder = open_folder(args, f"cmsa_sweep_{args.param}", f"sweep {args.param}", base)
    keys = [point_key(p, folder) for p in points]
    done = load_done(folder, check_arrays=False)
    if done:
        say(f"resuming: {sum(key in done for key in keys)} of {len(points)} points already "
            "done", file=sys.stderr)
    records, info = execute(points, args, folder, f"sweep {args.param}", done=done)
    n = len(args.seeds)
    summary = {"command": "sweep", "param": args.param, "values": values, "seeds": args.seeds,
               "params": base.as_dict()}
    return report_sweep(folder, summary, [keys[a * n:(a + 1) * n] for a in range(len(values))],
                        records, info, args, label=label)


def cmd_attention(args) -> int:
    """``attention``: the image stimulus after the spontaneous phase, per state and seed.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.

    Returns
    -------
    int
        The exit code (:func:`brianlab.cmsa.report.finish`): 0, or 3 when the points did
        not run but should have.
    """
    given = _warned(sheet(args))
    stimulus_image(args.image, args.size)  # a missing or unreadable file fails here, by name
    base = given.with_(stimulus_duration=args.stimulus_duration * ms,
                       stimulus_amplitude=args.amplitude * nA, image=str(args.image))
    points = {state: [base.with_(rp=rp * ms, seed=s) for s in args.seeds]
              for state, rp in PHASES}
    folder = open_folder(args, "cmsa_attention", "attention", base)
    records, info = execute([p for row in points.values() for p in row], args, folder,
                            "attention", done=load_done(folder, check_arrays=False))
    keys = {state: [point_key(p, folder) for p in row] for state, row in points.items()}
    return report_attention(folder, {"command": "attention", "params": base.as_dict()}, keys,
                            records, info, args)


#: The sub-commands.
COMMANDS = {"run": cmd_run, "phases": cmd_phases, "sweep": cmd_sweep,
            "attention": cmd_attention}


def grid_request(args) -> list[str]:
    """The ``python -m brianlab sweep`` arguments of ``cmsa sweep --grid``.

    The command's sheet (preset, ``--size``, ``--ke``, ...) as structure changes of
    ``cmsa_sheet@2`` (:func:`brianlab.cmsa.plan.sheet_structure`; only those that differ
    from the file, so the default sheet is the file itself and shares its build), the
    values not swept (``--rp``, ``--we``, ``--wi``) as ``--set``, the axes in the
    command's units (``conn_seed`` as the file's ``seeds.connectivity``), the seeds and
    the device and cluster options.

    Parameters
    ----------
    args : argparse.Namespace
        ``sweep`` with ``grid``.

    Returns
    -------
    list of str

    Raises
    ------
    ValueError
        For a name given twice, and for sheets the network file cannot express by
        structure changes (rules other than ``fixed_indegree``, the voltage Phi).
    """
    names = [name for name, _ in args.grid]
    if len(set(names)) < len(names):
        raise ValueError(f"--grid: each name once, got {', '.join(names)}")
    base = sheet(args)
    if base.rule != "fixed_indegree" or base.phi != "spikes":
        raise ValueError("--grid runs the cmsa_sheet network file, whose sheet has fixed "
                         "in-degrees and the spike-frame Phi; use --param/--values for "
                         f"--rule {base.rule} or --phi {base.phi}")
    changes, additions = sheet_structure(base)
    for path, conn in additions.items():  # the connectors, as the file writes them
        name = path.split(".")[1]
        changes[f"projections.{name}.connector.k"] = str(conn["k"])
        changes[f"projections.{name}.connector.sigma"] = repr(conn["sigma"])
    file = structure_paths(load_network(SHEET).raw)

    def same(path, text):
        value = file.get(path)
        if value is None or str(value) == text:
            return value is not None
        try:
            return float(parse_quantity(str(value))) == float(parse_quantity(text))
        except (ModelError, TypeError, ValueError):
            return False

    argv = ["sweep", SHEET]
    for path, text in changes.items():
        if not same(path, text):
            argv += ["--set", f"{path}={text}"]
    values = sheet_values(base.with_(rp=args.rp * ms))
    for name, unit in GRID_UNITS.items():
        if name not in names:
            argv += ["--set", f"{name}={quantity_text(values[name])}"]
    for name, text in args.grid:
        argv += ["--grid", f"{GRID_PATHS[name]}={text}" if name in GRID_PATHS
                 else f"{name}={text} {GRID_UNITS[name]}"]
    argv += ["--seeds", ",".join(str(s) for s in args.seeds)]
    for option in ("device", "threads", "out", "workers", "scheduler", "scheduler_file"):
        value = getattr(args, option, None)
        if value is not None:
            argv += [f"--{option.replace('_', '-')}", str(value)]
    for flag in ("portable", "ship_build", "build_only"):
        if getattr(args, flag, False):
            argv.append(f"--{flag.replace('_', '-')}")
    return argv
