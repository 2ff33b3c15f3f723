"""Running a CMSA command's points on the pipeline, and a saved plan's without Brian2.

Tier 1: the points run as a pipeline plan of ``cmsa_sheet@2``
(:func:`brianlab.cmsa.plan.make_plan`, made on a plan miss by
:mod:`brianlab.cmsa.commands`): each build found in the cache or compiled (``compile_build``,
given on a plan miss only), its points run as the binary with run-time values here or on
Dask (:func:`brianlab.pipeline.execute.run_builds`), or, on the runtime device, each
point built and run in this process (``run_in_process``, given on a plan miss); reduced
by ``cmsa_phi`` where they ran and saved as they finish.
"""

from __future__ import annotations

import sys

from ..pipeline.execute import (cluster, load_done, portable, prefetch, progress, run_builds, say,
                                stop_if_signalled)
from ..pipeline.plan import Plan
from ..results import RunFolder
from .arguments import plan_arguments, results_folder
from .cached import load_plan, plan_matches
from .reduce import ANALYSIS_MODULES

__all__ = ["run_on_pipeline", "run_saved"]


def run_on_pipeline(plan: Plan, keys: list, args, folder: RunFolder, results: dict, tick,
                    compile_build=None, run_in_process=None) -> dict:
    """Run the points ``keys`` of ``plan``, each record into ``results`` as it is saved.

    Parameters
    ----------
    plan : brianlab.pipeline.plan.Plan
        The command's points on ``cmsa_sheet@2``.
    keys : list of str
        The points to run (those not done yet).
    args : argparse.Namespace
        The command's (threads, portable, cluster options, ``ship_build``,
        ``build_only``: the builds found or compiled, no point run).
    folder : RunFolder
    results : dict
        Point key -> record, filled in.
    tick : callable
        The progress bar's (points done).
    compile_build : callable, optional
        :func:`brianlab.pipeline.compile.compile_build` on a plan miss; None: only cached
        builds run (:class:`~brianlab.pipeline.execute.BuildMissing` otherwise).
    run_in_process : callable, optional
        :func:`brianlab.pipeline.inprocess.run`, for a plan on the runtime device (each
        point built and run in this process).

    Returns
    -------
    dict
        The build and its use (``summary["device"]``): device, threads, portable, whether
        every compiled build was found in the cache, timings (``construct_s``, ``build_s``,
        ``sweep_s``), runs, the build's directory and, when every build is the cache's,
        ``manifest_key`` (the build key); ``cluster`` when the points ran on Dask;
        ``not_run`` when the builds were made but their points not run (``--build-only``,
        or ``cuda_standalone`` without a GPU).
    """
    count = [0]
    tick(0)

    def on_record(key, record):
        results[key] = record
        stop_if_signalled()
        count[0] += 1
        if count[0] < len(keys):
            tick(count[0])

    with cluster(args) as client:
        ran = run_builds(plan, folder, keys=keys, compile_build=compile_build,
                         run_in_process=run_in_process, client=client, on_record=on_record,
                         ship=getattr(args, "ship_build", False) or None,
                         build_only=getattr(args, "build_only", False))
    description = {"device": plan.builds[0].device, "threads": plan.builds[0].threads,
                   "portable": portable(args), "runs": len(keys), **ran.description()}
    if client is not None:
        description["cluster"] = {
            "workers": args.workers, "scheduler": args.scheduler,
            "scheduler_file": None if args.scheduler_file is None else str(args.scheduler_file)}
    return description


def run_saved(args):
    """The saved plan of this command line, its points run on their cached builds.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line (``run`` or ``phases``).

    Returns
    -------
    tuple or None
        ``(plan, folder, records, info)``; None when there is no plan for this command
        line or it is not this command line's (:func:`brianlab.cmsa.cached.plan_matches`).

    Raises
    ------
    brianlab.pipeline.execute.BuildMissing
        When a build of the plan is gone or changed (the command plans again).
    """
    plan = load_plan(plan_arguments(args))
    if plan is None or not plan_matches(plan, args):
        return None
    folder = results_folder(args, plan["default"], plan["configuration"])
    for line in plan["warnings"]:
        say(line, file=sys.stderr)
    prefetch(*ANALYSIS_MODULES, "matplotlib.pyplot")
    done = load_done(folder)
    results = {pt["key"]: done[pt["key"]] for pt in plan["points"] if pt["key"] in done}
    todo = [pt["key"] for pt in plan["points"] if pt["key"] not in done]
    info = {"device": None}
    if todo:
        tick, close = progress(len(todo), plan["command"])
        try:
            info["device"] = run_on_pipeline(plan["pipeline"], todo, args, folder, results,
                                             tick)
            if "not_run" in info["device"]:
                info["not_run"] = info["device"]["not_run"]
        finally:
            close()
    return plan, folder, results, info
