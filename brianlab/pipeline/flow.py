"""The pipeline of ``run`` and ``sweep`` in one function (design of issue 25, 2).

``Request --(plans: cached? / planner)--> Plan --(builds: find / compile)--> build
--(execute)--> records (reduced on the worker, saved as they finish) --(save)--> summary
--(figures)--> PNGs``. Tier 1: Brian2 is imported only on a plan miss
(:func:`_make_plan`) and a build miss (:func:`_compile_build`), the pipeline's two ways
down to tier 2, so a repeated command runs its cached build without Brian2.
"""

from __future__ import annotations

import hashlib
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..modelformat import MAX_FILE_BYTES
from . import builds, execute, figures, plans, save
from .plan import Plan
from .request import Request

__all__ = ["Outcome", "carry_out", "default_out", "network_file_digest"]

#: Where a command's results go without ``--out``: ``brianlab_out/<network>_<command>``.
DEFAULT_OUT = Path("brianlab_out")


@dataclass
class Outcome:
    """What a command did.

    Parameters
    ----------
    folder : Path or None
        The results folder (None with ``build_only``: nothing ran).
    summary : dict
        ``summary.json``'s content (empty with ``build_only``).
    records : dict
        Point key -> record.
    plan : Plan
    manifests : list of Manifest
        The builds used.
    cached : dict
        Manifest key -> whether the build was found (not compiled).
    plan_cached : bool
        Whether the plan was found (no Brian2 was needed to plan).
    not_run : str or None
        Why the builds were made but their points not run (``build_only``, or a
        ``cuda_standalone`` build without a GPU).
    """

    folder: Path | None
    summary: dict
    records: dict
    plan: Plan
    manifests: list = field(default_factory=list)
    cached: dict = field(default_factory=dict)
    plan_cached: bool = False
    not_run: str | None = None


def network_file_digest(request: Request) -> str | None:
    """sha256 of the network file's bytes when the request names a path (a plan key's
    part), else None (a library file: :func:`brianlab.store.models_digest` covers it).

    Parameters
    ----------
    request : Request

    Returns
    -------
    str or None
        None also for a file that cannot be read (the planner then reports why).
    """
    if not request.network.endswith(".toml"):
        return None
    try:
        with open(Path(request.network).expanduser(), "rb") as handle:
            return hashlib.sha256(handle.read(MAX_FILE_BYTES + 1)).hexdigest()
    except OSError:
        return None


def default_out(plan: Plan) -> Path:
    """``brianlab_out/<network name>_<command>``.

    Parameters
    ----------
    plan : Plan

    Returns
    -------
    Path
    """
    name = (plan.context.get("0") or {}).get("name", "network")
    return DEFAULT_OUT / f"{name}_{plan.request.get('command', 'run')}"


def _make_plan(request: Request) -> Plan:
    """A plan miss: plan with Brian2 (tier 2)."""
    from .planner import make_plan

    return make_plan(request)


def _compile_build(plan: Plan, spec) -> builds.Manifest:
    """A build miss: compile with Brian2 (tier 2)."""
    from .compile import compile_build

    return compile_build(plan, spec)


def _run_in_process(plan: Plan, spec, points, folder, on_record=None) -> dict:
    """Points on the ``runtime`` device: built and run in this process (tier 2)."""
    from .inprocess import run

    return run(plan, spec, points, folder, on_record=on_record)


def carry_out(request: Request, *, planner=None, say=execute.say) -> Outcome:
    """Carry out a ``run`` or ``sweep`` request.

    Parameters
    ----------
    request : Request
    planner : callable(Request) -> Plan, optional
        Called on a plan miss (default: :func:`brianlab.pipeline.planner.make_plan`).
    say : callable
        Prints a line (``say(text, file=sys.stderr)`` for warnings and progress).

    Returns
    -------
    Outcome

    Raises
    ------
    ModelError, ValueError
        From the planner (nothing ran).
    ResultsError, SweepError, CacheError, DeviceError
        While building or running (completed points are saved).
    KeyboardInterrupt, Terminated
        On SIGINT, SIGTERM (completed points are saved).
    """
    start = time.perf_counter()
    arguments, network_file = request.key_arguments(), network_file_digest(request)
    plan = plans.load(arguments, network_file=network_file)  # tier 1; None: plan again
    plan_cached = plan is not None
    if plan is None:
        plan = (planner or _make_plan)(request)  # tier 2
    for warning in plan.warnings:
        say(f"warning: {warning}", file=sys.stderr)
    timings = {"plan_s": time.perf_counter() - start}
    if request.build_only:
        ran = execute.run_builds(plan, None, compile_build=_compile_build, build_only=True)
        plans.save(arguments, plan, ran.kept, network_file=network_file)
        return Outcome(None, {}, {}, plan, ran.used, ran.cached, plan_cached, ran.not_run)
    folder = save.open_folder(plan, request.out or default_out(plan))  # one configuration
    done = execute.load_done(folder, [p.key for p in plan.points], check_arrays=False)
    records = dict(done)
    todo_all = [p for p in plan.points if p.key not in done]
    if done:
        say(f"resuming: {len(plan.points) - len(todo_all)} of {len(plan.points)} points "
            f"already done", file=sys.stderr)
    if len({p.build for p in todo_all}) > 1:
        say(f"{len({p.build for p in todo_all})} builds (one per structure and compiled "
            "seed)", file=sys.stderr)
    tick, close = execute.progress(len(todo_all), f"{plan.request.get('command')}")
    count = [0]
    if todo_all:
        tick(0)

    def on_record(key, record):
        count[0] += 1
        if count[0] < len(todo_all):
            tick(count[0])

    try:
        with execute.signals(), execute.cluster(request) as client:
            ran = execute.run_builds(plan, folder, keys=[p.key for p in todo_all],
                                     compile_build=_compile_build,
                                     run_in_process=_run_in_process, client=client,
                                     on_record=on_record,
                                     ship=True if request.ship_build else None)
    finally:
        close()
    records |= ran.records
    plans.save(arguments, plan, ran.kept, network_file=network_file)  # next time: no Brian2
    timings["total_s"] = time.perf_counter() - start
    summary = save.summary(plan, records, ran.used, folder, timings=timings, cached=ran.cached,
                           why_not_run=ran.not_run)
    if request.figures and records:
        figures.draw(plan, folder, records, say=say)
    return Outcome(folder.path, summary, records, plan, ran.used, ran.cached, plan_cached,
                   ran.not_run)
