"""``python -m brianlab.cmsa``: the CMSA experiment from the command line.

Sub-commands: ``run`` (one simulation), ``phases`` (bump, critical and wave side by
side; the default), ``sweep`` (Phi against rp or We over seeds; compiled once,
resumable), ``attention`` (an image stimulus after the spontaneous phase). Results go
to one folder per command (``--out``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from .. import plot
from ..cache import CacheError, cache_root
from ..errors import DeviceError, ModelError, Terminated
from ..netformat import structure_paths
from ..pipeline.cli import main as pipeline_main
from ..pipeline.execute import (BuildMissing, check_cluster, cluster, cluster_wanted,
                                interrupted, load_done, portable, prefetch, prefetched,
                                progress, run_builds, say, signals, stop_if_signalled)
from ..pipeline.grid import check_grid, checked, parse_range, parse_seeds
from ..pipeline.request import check_resources
from ..results import ResultsError, RunFolder
from ..seeds import MAX_HASH_SEED as MAX_SEED
from ..space import SHEET_RULES as RULES
from ..sweeps import SweepError
from ..toolchain import DEVICES, default_device
from .presets import PHASES, PHI_VARIANTS, PRESETS

# (Brian2 and the modules that need it are imported where they are used: a repeated
# ``run`` or ``phases`` runs its cached build without them, see brianlab.cmsa.cached.)

#: Commands whose plans are saved (:mod:`brianlab.cmsa.cached`): repeated, they run
#: their cached build without importing Brian2.
PLANNED = ("run", "phases")


#: A finite number (``inf`` and ``nan`` are refused when the arguments are read).
finite_float = checked(float, np.isfinite, "a finite number")
#: One seed from 0 to 2**31 - 1.
seed_value = checked(int, lambda v: 0 <= v <= MAX_SEED, f"a seed from 0 to {MAX_SEED}")


def _seeds(text: str) -> list[int]:
    """``--seeds``: seeds of the sheet's hash drive, 0 to ``MAX_SEED`` (2**31 - 1)."""
    return parse_seeds(text, MAX_SEED)


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--device", choices=DEVICES, default=None,
                        help="back end (default: cpp_standalone when a C++ compiler works)")
    common.add_argument("--threads", type=int, default=None,
                        help="OpenMP threads (C++); at most the cores this process may use")
    common.add_argument("--build-only", action="store_true",
                        help="generate and compile only (standalone devices)")
    common.add_argument("--out", type=Path, default=None, help="results folder")
    common.add_argument("--size", type=int, default=150,
                        help="E lattice side (I side is half of it); default 150")
    common.add_argument("--preset", choices=PRESETS, default="tuned",
                        help="the parameters to start from: 'tuned' (brianlab's defaults), "
                        "'lab-report' (the CMSA lab report's settings) or 'course' (the "
                        "course starter's); options below change single values")
    common.add_argument("--rule", choices=RULES, default=None,
                        help="connectivity of every pathway (default fixed_indegree; kernel "
                        "is the dense Gaussian: all pairs, much more memory)")
    common.add_argument("--phi", choices=PHI_VARIANTS, default="spikes",
                        help="Phi from smoothed spike-count frames (default) or, as the lab "
                        "report, from the E voltages of the last 100 time steps")
    common.add_argument("--duration", type=finite_float, default=None,
                        help="spontaneous activity after the drive (ms; default: the "
                        "preset's, 400 when tuned)")
    common.add_argument("--we", type=finite_float, default=None,
                        help="AMPA g_max (uS; default: the preset's, 0.02 when tuned)")
    common.add_argument("--wi", type=finite_float, default=None,
                        help="GABA g_max (uS; default: the preset's, 0.01 when tuned)")
    common.add_argument("--ke", type=int, default=None, help="in-degree from E (default 200)")
    common.add_argument("--ki", type=int, default=None, help="in-degree from I (default 400)")
    common.add_argument("--no-gif", action="store_true", help="skip the animated GIFs")

    parser = argparse.ArgumentParser(prog="python -m brianlab.cmsa", description=__doc__.split(
        "\n\n")[0], parents=[common])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    run = sub.add_parser("run", parents=[common], help="one simulation")
    run.add_argument("--rp", type=finite_float, default=5.0, help="refractory period (ms)")
    run.add_argument("--seed", type=seed_value, default=0, help="seed of the random drive")
    phases = sub.add_parser("phases", parents=[common],
                            help="bump (rp 5), critical (6.5) and wave (10) side by side")
    phases.add_argument("--seed", type=seed_value, default=0)
    sweep = sub.add_parser("sweep", parents=[common], help="Phi against rp or We over seeds")
    sweep.add_argument("--grid", type=_grid_axis, action="append", default=[],
                       metavar="NAME=VALUES",
                       help="an axis of rp (ms), we or wi (uS): START:STOP:STEP or a comma "
                       "list; repeatable (two axes: the phase diagram). Runs the pipeline's "
                       "sweep of the cmsa_sheet network file (python -m brianlab sweep) "
                       "instead of --param/--values")
    sweep.add_argument("--param", choices=("rp", "we"), default="rp")
    sweep.add_argument("--values", type=parse_range, default=None,
                       help="START:STOP:STEP or a comma list (default rp 5:12.5:0.5)")
    sweep.add_argument("--seeds", type=_seeds, default=[0, 1, 2, 3, 4],
                       help="FIRST-LAST or a comma list (default 0-4)")
    sweep.add_argument("--rp", type=finite_float, default=6.5, help="fixed rp for a We sweep (ms)")
    cluster = sweep.add_argument_group(
        "Dask cluster", "run the points as the compiled binary on Dask workers (needs the "
        "'dask' extra); by default the points run one after the other in this process")
    where = cluster.add_mutually_exclusive_group()
    where.add_argument("--workers", type=checked(int, lambda v: v >= 1, "a positive integer"),
                       default=None, metavar="N",
                       help="start a local cluster of N single-threaded worker processes (at "
                       "most the cores this process may use)")
    where.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="connect to a running scheduler (tcp://host:8786); implies "
                       "--portable")
    where.add_argument("--scheduler-file", type=Path, default=None, metavar="FILE",
                       help="connect to the scheduler that wrote FILE (dask scheduler "
                       "--scheduler-file); implies --portable")
    cluster.add_argument("--portable", action="store_true",
                         help="compile without -march=native (workers with other CPUs)")
    cluster.add_argument("--ship-build", action="store_true",
                         help="send the build to every worker as an archive (default: only "
                         "to workers that do not see the build directory)")
    attention = sub.add_parser("attention", parents=[common],
                               help="an image stimulus after the spontaneous phase, per state")
    attention.add_argument("--seeds", type=_seeds, default=[0, 1, 2])
    attention.add_argument("--image", default="cross",
                           help="'cross' (built in) or the path of an image file (PNG)")
    attention.add_argument("--amplitude", type=finite_float, default=5.0,
                           help="stimulus current at full image intensity (nA; default 5, the lab "
                           "report's input_amp; the rheobase is 1 nA)")
    attention.add_argument("--stimulus-duration", type=finite_float, default=100.0, help="(ms)")
    return parser


#: ``sweep --grid`` names and the units the command gives them in.
GRID_UNITS = {"rp": "ms", "we": "uS", "wi": "uS"}


def _grid_axis(text: str) -> tuple[str, str]:
    """``--grid NAME=VALUES``: a name of :data:`GRID_UNITS` and values ``parse_range``
    reads (checked here, passed on as text)."""
    name, sep, values = text.partition("=")
    if not sep or name.strip() not in GRID_UNITS:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUES with NAME one of "
                                         f"{', '.join(GRID_UNITS)}, got {text!r}")
    parse_range(values)
    return name.strip(), values.strip()


def grid_request(args) -> list[str]:
    """The ``python -m brianlab sweep`` arguments of ``cmsa sweep --grid``.

    The command's sheet (preset, ``--size``, ``--ke``, ...) as structure changes of
    ``cmsa_sheet@2`` (:func:`brianlab.cmsa.plan.sheet_structure`; only those that differ
    from the file, so the default sheet is the file itself and shares its build), the
    values not swept (``--rp``, ``--we``, ``--wi``) as ``--set``, the axes in the
    command's units, the seeds and the device and cluster options.

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
    from brian2 import ms

    from ..library import load_network
    from ..units import parse_quantity, quantity_text
    from .plan import SHEET, sheet_structure, sheet_values

    names = [name for name, _ in args.grid]
    if len(set(names)) < len(names):
        raise ValueError(f"--grid: each name once, got {', '.join(names)}")
    base = _base(args)
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
        argv += ["--grid", f"{name}={text} {GRID_UNITS[name]}"]
    argv += ["--seeds", ",".join(str(s) for s in args.seeds)]
    for option in ("device", "threads", "out", "workers", "scheduler", "scheduler_file"):
        value = getattr(args, option, None)
        if value is not None:
            argv += [f"--{option.replace('_', '-')}", str(value)]
    for flag in ("portable", "ship_build", "build_only"):
        if getattr(args, flag, False):
            argv.append(f"--{flag.replace('_', '-')}")
    return argv


def _base(args):
    """The command's CMSAParams (before the points' rp and seed)."""
    from brian2 import ms, uS

    from .params import CMSAParams

    changes = {"e_side": args.size, "i_side": args.size // 2, "phi": args.phi}
    given = {"duration": (args.duration, ms), "we": (args.we, uS), "wi": (args.wi, uS),
             "k_e": (args.ke, 1), "k_i": (args.ki, 1), "rule": (args.rule, None)}
    for name, (value, unit) in given.items():
        if value is not None:
            changes[name] = value if unit is None else value * unit
    preset = CMSAParams.preset(args.preset)
    duration = changes.get("duration", preset.duration)
    p = preset.with_(**changes, analysis=min(preset.analysis, duration))
    p.check_memory()
    return p


def _warnings(p) -> list[str]:
    """What the command warns of before it runs."""
    if 4 * p.sigma_i > p.e_side:
        return [f"warning: the inhibitory kernel (sigma {p.sigma_i:.1f} E sites) is wider than "
                f"a quarter of the sheet ({p.e_side} sites): inhibition reaches around the "
                "torus and the states differ from the full-size sheet's (give a larger --size)"]
    return []


def _open_folder(args, default: str, command: str, base) -> RunFolder:
    """The results folder, checked to be writable and to hold only this configuration.

    The configuration is everything that changes a result except the values a sweep
    varies (rp, We, Wi, seed): all other parameters, the model files (name@version,
    sha256, status), the image file's content, device, threads and brianlab's version.
    Each point's key adds a hash of its own parameters, so a point is only ever reused
    for the identical simulation.
    """
    import hashlib

    from .. import __version__
    from ..networks.sheet import models_provenance
    from .experiment import SWEEPABLE

    params = {k: v for k, v in base.as_dict().items() if k not in SWEEPABLE}
    if base.stimulus_duration > 0 * base.dt and base.image != "cross":
        params["image_sha256"] = hashlib.sha256(Path(base.image).read_bytes()).hexdigest()
    configuration = {"command": command, "params": params, "models": models_provenance(),
                     "device": args.device or default_device(), "threads": args.threads,
                     "brianlab": __version__}
    if portable(args):  # another binary: its numbers may differ in the last bits
        configuration["portable"] = True
    return _folder(args, default, configuration)


def _folder(args, default: str, configuration: dict) -> RunFolder:
    return RunFolder(args.out or Path("brianlab_out") / default, configuration,
                     hint="give another --out")


def _point_key(p, folder: RunFolder) -> str:
    from brian2 import ms, uS

    from ..results import config_hash

    digest = config_hash({"folder": folder.config_hash, "point": p.as_dict()})[:10]
    return (f"rp{float(p.rp / ms):g}_we{float(p.we / uS):g}_wi{float(p.wi / uS):g}"
            f"_seed{p.seed}_{digest}")


def execute(points, args, folder: RunFolder, label: str, *, done=None):
    """Simulate ``points`` (skipping keys in ``done``), saving each as it completes.

    On ``cpp_standalone`` the pipeline runs them (:func:`_execute_compiled`: the builds of
    ``cmsa_sheet@2``, cached, each point the compiled binary with run-time values), in this
    process or on a Dask cluster (``--workers``, ``--scheduler``, ``--scheduler-file``);
    other devices rerun the network through Brian2.
    """
    from .experiment import NotRunError, simulate
    from .protocol import point_outputs

    done = done or {}
    keys = [_point_key(p, folder) for p in points]
    todo = [(p, key) for p, key in zip(points, keys) if key not in done]
    results = {key: done[key] for key in keys if key in done}  # this command's points only
    info = {"device": None}
    device = args.device or default_device()
    compiled = device == "cpp_standalone" and not args.build_only
    check_cluster(args, device)
    if not todo:
        return results, info
    tick, close = progress(len(todo), label)
    if compiled:
        try:
            info["device"], info["plan"] = _execute_compiled(todo, args, folder, results, tick)
        finally:
            close()
        return results, info

    def save(k, run, session):
        key = _point_key(run.params, folder)
        arrays, record = point_outputs(run)
        folder.save_arrays(f"points/{key}", **arrays)
        folder.save_json(f"points/{key}", record)
        results[key] = record
        stop_if_signalled()

    try:
        session = simulate([p for p, _ in todo], device=device, threads=args.threads,
                           build_only=args.build_only,
                           directory=None, on_result=save, progress=tick)
        info["device"] = session.describe()
    except NotRunError as exc:
        info["device"] = exc.session.describe()
        info["not_run"] = str(exc)
    finally:
        close()
    return results, info


def _execute_compiled(todo, args, folder: RunFolder, results: dict, tick,
                      planned=None) -> tuple[dict, object]:
    """Run ``todo`` (``(CMSAParams, key)`` pairs) on the pipeline: the points as a plan of
    ``cmsa_sheet@2`` (:func:`brianlab.cmsa.plan.make_plan`), each build found in the cache
    or compiled, its points run as the binary here or on Dask, reduced by ``cmsa_phi``
    where they ran. With a saved plan's pipeline plan (``planned``), ``todo`` holds
    ``(PointSettings, key)`` pairs and only cached builds run, without Brian2
    (:class:`~brianlab.pipeline.execute.BuildMissing` when one is no longer current).

    Returns
    -------
    description : dict
        The build and its use (``summary["device"]``): device, threads, portable, whether
        every build was found in the cache, timings (``construct_s``, ``build_s``,
        ``sweep_s``), runs, the build's directory and, when every build is the cache's,
        ``manifest_key`` (the build key).
    plan : brianlab.pipeline.plan.Plan
        The pipeline plan run (saved with the command's plan when its builds are cached).
    """
    count = [0]
    tick(0)

    def on_record(key, record):
        results[key] = record
        stop_if_signalled()
        count[0] += 1
        if count[0] < len(todo):
            tick(count[0])

    keys = [key for _, key in todo]
    compile_build = None
    if planned is None:
        from ..pipeline.compile import compile_build
        from .plan import make_plan

        plan = make_plan([p for p, _ in todo], keys, keys, command=_plan_arguments(args),
                         configuration=folder.configuration, threads=args.threads,
                         portable=portable(args))
    else:
        plan = planned
    with cluster(args) as client:
        ran = run_builds(plan, folder, keys=keys, compile_build=compile_build,
                         client=client, on_record=on_record,
                         ship=getattr(args, "ship_build", False) or None)
    description = {"device": "cpp_standalone", "threads": args.threads,
                   "portable": portable(args), "runs": len(todo), **ran}
    if client is not None:
        description["cluster"] = {
            "workers": args.workers, "scheduler": args.scheduler,
            "scheduler_file": None if args.scheduler_file is None else str(args.scheduler_file)}
    return description, plan


def _finish(folder, summary, info, args) -> int:
    summary["device"] = info.get("device")
    if "not_run" in info:
        summary["not_run"] = info["not_run"]
    path = folder.write_summary(summary)
    say(f"results: {path.parent}")
    if "not_run" in info:
        say(info["not_run"])
        return 0 if args.build_only else 3
    return 0


def _point_arrays(folder: RunFolder, key: str) -> dict:
    """A saved point's arrays (a ResultsError naming the file if it cannot be read)."""
    import zipfile

    path = folder.path / "points" / f"{key}.npz"
    try:
        with np.load(path) as data:
            return {name: data[name] for name in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ResultsError(f"{path}: cannot read the point's arrays ({exc}); delete it and "
                           "run the same command to compute it again") from None


def _snapshot_figures(folder, records: dict, settings: dict, titles: dict, args):
    """The last analysed frame of each point (colour bar, time, lattice axes, the state
    detected), their GIFs, and a raster of the first point."""
    plt = _pyplot()
    from .reduce import state_name

    keys = list(titles)
    fig, axes = plt.subplots(1, len(keys), figsize=(4.2 * len(keys), 4.2), squeeze=False)
    for ax, key in zip(axes[0], keys):
        data = _point_arrays(folder, key)
        phi, s = records[key]["phi"], settings[key]
        label = records[key].get("frames_label", "E spikes, smoothed")
        voltage = s.phi == "voltage"
        cmap = "viridis" if voltage else "gray_r"
        times = s.frame_times()
        detected = (f"{state_name(phi)}: Phi {phi['phi']:.2f}\n{phi['mean_patterns']:.1f} "
                    f"patterns, {phi['mean_speed']:.2f} sites/ms")
        plot.sheet_snapshot(data["frames"][-1], ax=ax, cmap=cmap, label=label,
                            time=f"{times[-1]:g} ms", title=f"{titles[key]}\n{detected}")
        if not args.no_gif:
            every = 1 if voltage else 2
            plot.sheet_animation(data["frames"][::every],
                                 folder.path / f"sheet_{titles[key].split()[0]}.gif",
                                 title=f"{titles[key]}: {state_name(phi)}",
                                 times=[f"{t:g} ms" for t in times[::every]], label=label,
                                 cmap=cmap)
    fig.tight_layout()
    folder.save_figure(fig, "snapshots.png", dpi=100)
    plt.close(fig)
    first = _point_arrays(folder, keys[0])
    fig, ax = plt.subplots(figsize=(7, 3.5))
    side = args.size
    keep = first["e_i"] // side == side // 2  # one row of the sheet keeps the raster readable
    plot.raster(first["e_t"][keep], first["e_i"][keep], ax=ax)
    ax.set_title(f"E spikes, one lattice row ({titles[keys[0]]})")
    fig.tight_layout()
    folder.save_figure(fig, "raster.png", dpi=100)
    plt.close(fig)


def cmd_run(args) -> int:
    from brian2 import ms

    p = _base(args).with_(rp=args.rp * ms, seed=args.seed)
    folder = _open_folder(args, "cmsa_run", "run", p)
    plan = _plan("run", "cmsa_run", folder, [(p, f"rp {args.rp:g} ms")],
                 {"command": "run", "params": p.as_dict()}, _warnings(p))
    return _carry_out(plan, args, folder, [p])


def cmd_phases(args) -> int:
    from brian2 import ms

    base = _base(args)
    points = [base.with_(rp=rp * ms, seed=args.seed) for _, rp in PHASES]
    folder = _open_folder(args, "cmsa_phases", "phases", base)
    plan = _plan("phases", "cmsa_phases", folder,
                 [(p, f"{state} (rp {rp:g} ms)") for (state, rp), p in zip(PHASES, points)],
                 {"command": "phases", "params": base.as_dict(), "phases": {}}, _warnings(base))
    return _carry_out(plan, args, folder, points)


def _plan(command: str, default: str, folder: RunFolder, points: list, summary: dict,
          warnings: list) -> dict:
    """What a ``run`` or ``phases`` command runs and reports, in plain data (see
    :mod:`brianlab.cmsa.cached`); ``points`` are ``(CMSAParams, title)`` pairs."""
    from .reduce import PointSettings

    return {"command": command, "default": default, "configuration": folder.configuration,
            "summary": summary, "warnings": warnings,
            "points": [{"key": _point_key(p, folder), "title": title,
                        "settings": PointSettings.of(p)} for p, title in points]}


def _run_planned(args) -> int | None:
    """Carry out the saved plan of this command line on its cached build, without Brian2;
    None when there is none or its build is no longer current."""
    from .cached import load_plan

    plan = load_plan(_plan_arguments(args))
    if plan is None or not _plan_matches(plan, args):
        return None
    try:
        folder = _folder(args, plan["default"], plan["configuration"])
        return _carry_out(plan, args, folder)
    except BuildMissing:  # its build is gone or changed: plan again
        return None


def _plan_matches(plan: dict, args) -> bool:
    """Whether a saved plan's points are this command line's: the values each point's
    binary gets (rp, seed, the sizes and any value given) and the file names that name
    them (a plan is checked by its digest too, :func:`brianlab.cmsa.cached.check_plan`)."""
    try:
        return _plan_values_match(plan, args)
    except (AttributeError, KeyError, TypeError, ValueError):
        return False


def _plan_values_match(plan: dict, args) -> bool:
    import math

    rps = [args.rp] if plan["command"] == "run" else [rp for _, rp in PHASES]
    given = {"we": (args.we, 1e-6), "wi": (args.wi, 1e-6), "duration": (args.duration, 1e-3),
             "k_e": (args.ke, 1), "k_i": (args.ki, 1)}
    for point, rp in zip(plan["points"], rps, strict=True):
        s = point["settings"]
        values = s.values
        expected = {"rp": rp * 1e-3, "seed": args.seed, "e_side": args.size,
                    **{k: v * unit for k, (v, unit) in given.items() if v is not None}}
        if any(not isinstance(values.get(k), (int, float)) or
               not math.isclose(values[k], v, rel_tol=1e-9) for k, v in expected.items()):
            return False
        if s.e_side != args.size or s.phi != args.phi or s.values.get("i_side") != s.i_side:
            return False
        name = (f"rp{values['rp'] * 1e3:g}_we{values['we'] * 1e6:g}_wi{values['wi'] * 1e6:g}"
                f"_seed{int(values['seed'])}_")
        if not point["key"].startswith(name) or len(point["key"]) != len(name) + 10:
            return False
    return True


def _pyplot():
    """``matplotlib.pyplot`` on the Agg backend, once no other thread is importing it."""
    prefetched()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _plan_arguments(args) -> dict:
    """The parsed command line as a plan's key: JSON-ready, without ``--out``."""
    return {name: str(value) if isinstance(value, Path) else value
            for name, value in sorted(vars(args).items()) if name != "out"}


def _carry_out(plan: dict, args, folder: RunFolder, points=None) -> int:
    """Run a planned command's points (``points``: its CMSAParams; None: the plan's
    cached build, without Brian2), then report; save the plan when its build is cached."""
    for line in plan["warnings"]:
        say(line, file=sys.stderr)
    done = load_done(folder)
    if points is None:
        from .reduce import ANALYSIS_MODULES

        prefetch(*ANALYSIS_MODULES, "matplotlib.pyplot")
        results = {pt["key"]: done[pt["key"]] for pt in plan["points"] if pt["key"] in done}
        todo = [(pt["settings"], pt["key"]) for pt in plan["points"] if pt["key"] not in done]
        info = {"device": None}
        if todo:
            tick, close = progress(len(todo), plan["command"])
            try:
                info["device"], _ = _execute_compiled(todo, args, folder, results, tick,
                                                      planned=plan["pipeline"])
            finally:
                close()
    else:
        results, info = execute(points, args, folder, plan["command"], done=done)
        device = info.get("device") or {}
        if device.get("manifest_key") and not cluster_wanted(args):  # builds in the cache
            from .cached import save_plan

            save_plan(_plan_arguments(args), dict(plan, pipeline=info["plan"].as_dict()))
    return {"run": _report_run, "phases": _report_phases}[plan["command"]](
        plan, folder, results, info, args)


def _report_run(plan, folder, records, info, args) -> int:
    summary = dict(plan["summary"])
    point = plan["points"][0]
    key = point["key"]
    if records:
        summary.update(points={key: records[key]})
        _snapshot_figures(folder, records, {key: point["settings"]}, {key: point["title"]},
                          args)
        r = records[key]
        from .reduce import state_name

        also = ""
        if r.get("phi_spikes"):
            also = f" (spike-frame Phi {r['phi_spikes']['phi']:.3f})"
        say(f"rp = {args.rp:g} ms: {state_name(r['phi'])}, {point['settings'].phi} Phi = "
            f"{r['phi']['phi']:.3f}{also}, patterns {r['phi']['mean_patterns']:.1f}, speed "
            f"{r['phi']['mean_speed']:.2f} /ms, E rate {r['rate_e_hz']:.1f} Hz")
    return _finish(folder, summary, info, args)


def _report_phases(plan, folder, records, info, args) -> int:
    summary = dict(plan["summary"], phases={})
    points = plan["points"]
    if len(records) == len(points):
        from .reduce import state_name

        say(f"{'state':10} {'rp (ms)':>8} {'Phi':>6} {'patterns':>9} {'speed':>7} {'E Hz':>6}"
            f"  detected")
        for (state, rp), point in zip(PHASES, points):
            r = records[point["key"]]
            summary["phases"][state] = {"rp_ms": rp, **r}
            say(f"{state:10} {rp:>8g} {r['phi']['phi']:>6.2f} "
                f"{r['phi']['mean_patterns']:>9.1f} {r['phi']['mean_speed']:>7.2f} "
                f"{r['rate_e_hz']:>6.1f}  {state_name(r['phi'])}")
        _snapshot_figures(folder, records, {pt["key"]: pt["settings"] for pt in points},
                          {pt["key"]: pt["title"] for pt in points}, args)
    return _finish(folder, summary, info, args)


def cmd_sweep(args) -> int:
    from brian2 import ms, uS

    base = _base(args)
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
        copies=min(args.workers or 1, len(points)))
    check_grid([(args.param, values)], len(args.seeds))
    folder = _open_folder(args, f"cmsa_sweep_{args.param}", f"sweep {args.param}", base)
    done = load_done(folder, check_arrays=False)
    if done:
        say(f"resuming: {sum(_point_key(p, folder) in done for p in points)} of "
            f"{len(points)} points already done", file=sys.stderr)
    records, info = execute(points, args, folder, f"sweep {args.param}", done=done)
    phis = np.full((len(values), len(args.seeds)), np.nan)
    for a, v in enumerate(values):
        for b, s in enumerate(args.seeds):
            key = _point_key(points[a * len(args.seeds) + b], folder)
            if key in records:
                phis[a, b] = records[key]["phi"]["phi"]
    summary = {"command": "sweep", "param": args.param, "values": values, "seeds": args.seeds,
               "params": base.as_dict(), "phi": phis,
               "phi_mean": np.nanmean(phis, axis=1) if np.isfinite(phis).any() else None,
               "points": {k: records[k] for k in sorted(records)}}
    if np.isfinite(phis).any():
        plt = _pyplot()
        fig, ax = plt.subplots(figsize=(5, 3.5))
        plot.phi_curve(values, phis, ax=ax, xlabel=label)
        ax.set_title(f"Phi, {len(args.seeds)} seeds")
        fig.tight_layout()
        folder.save_figure(fig, f"phi_vs_{args.param}.png", dpi=100)
        plt.close(fig)
        say(f"{label:>10} {'mean Phi':>9} {'min':>6} {'max':>6}")
        for v, row in zip(values, phis):
            if np.isfinite(row).any():
                say(f"{v:>10g} {np.nanmean(row):>9.3f} {np.nanmin(row):>6.2f} "
                    f"{np.nanmax(row):>6.2f}")
    return _finish(folder, summary, info, args)


def cmd_attention(args) -> int:
    from brian2 import ms, nA

    from ..inputs import stimulus_image

    stimulus_image(args.image, args.size)  # a missing or unreadable file fails here, by name
    base = _base(args).with_(stimulus_duration=args.stimulus_duration * ms,
                             stimulus_amplitude=args.amplitude * nA, image=str(args.image))
    points = [base.with_(rp=rp * ms, seed=s) for _, rp in PHASES for s in args.seeds]
    folder = _open_folder(args, "cmsa_attention", "attention", base)
    records, info = execute(points, args, folder, "attention",
                             done=load_done(folder, check_arrays=False))
    summary = {"command": "attention", "params": base.as_dict(), "states": {}}
    if records:
        say(f"{'state':10} {'seed':>4} {'Phi':>5} {'before':>7} {'after':>6} {'peak':>6}"
            "   (spike share in the image / its area share)")
    for (state, rp) in PHASES:
        rows = []
        for s in args.seeds:
            key = _point_key(base.with_(rp=rp * ms, seed=s), folder)
            if key not in records or not records[key].get("attention"):
                continue
            a = records[key]["attention"]
            rows.append(a)
            say(f"{state:10} {s:>4} {records[key]['phi']['phi']:>5.2f} "
                f"{a['ratio_before']:>7.2f} {a['ratio_after']:>6.2f} {a['ratio_peak']:>6.2f}")
        if rows:
            summary["states"][state] = {
                "rp_ms": rp,
                "mean_ratio_before": float(np.nanmean([a["ratio_before"] for a in rows])),
                "mean_ratio_after": float(np.nanmean([a["ratio_after"] for a in rows])),
                "mean_ratio_peak": float(np.nanmean([a["ratio_peak"] for a in rows])),
            }
    summary["points"] = records
    return _finish(folder, summary, info, args)


def _errors() -> tuple:
    """The errors a command reports in one line (exit 1)."""
    return (ResultsError, SweepError, CacheError, DeviceError)


def main(argv=None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    command = args.command or "phases"
    if command == "phases" and not hasattr(args, "seed"):
        args.seed = 0
    if command == "sweep" and args.grid:
        try:
            argv = grid_request(args)
        except (ValueError, ModelError) as exc:
            say(f"error: {exc}", file=sys.stderr)
            return 2
        say("python -m brianlab " + " ".join(argv), file=sys.stderr)
        return pipeline_main(argv)
    with signals():
        try:
            check_resources(args.threads, getattr(args, "workers", None))
            cache_root()  # (a cache that cannot be one fails here, before any work)
            if command in PLANNED:
                code = _run_planned(args)
                if code is not None:
                    return code
            base = _base(args)  # impossible sizes etc. fail before any build
            if command not in PLANNED:
                for line in _warnings(base):
                    say(line, file=sys.stderr)
            return {"run": cmd_run, "phases": cmd_phases, "sweep": cmd_sweep,
                    "attention": cmd_attention}[command](args)
        except _errors() as exc:
            say(f"error: {exc}", file=sys.stderr)
            return 1
        except ValueError as exc:
            say(f"error: {exc}", file=sys.stderr)
            return 2
        except (KeyboardInterrupt, Terminated) as exc:
            return interrupted(exc)


if __name__ == "__main__":
    sys.exit(main())
