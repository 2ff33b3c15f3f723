"""Stage 4 of the pipeline: what running a command's points needs around ``sweeps``.

Tier 1 (never imports Brian2). The one copy of what a command does while its points run:
messages that survive a closed pipe (:func:`say`), the progress bar (:func:`progress`),
SIGINT and SIGTERM (:func:`signals`: exit 130 or 143, every completed point saved),
resuming (:func:`load_done`: the points a folder already holds, damaged ones named and
computed again), the cluster options (:func:`cluster`) and imports in the background
while a binary runs (:func:`prefetch`).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import signal
import sys
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from .. import runargs, sweeps
from ..errors import Terminated
from ..toolchain import gpu_available
from . import builds
from .reductions import PointContext, resolve

__all__ = ["say", "progress", "Terminated", "on_signal", "stop_if_signalled", "signals",
           "interrupted", "INTERRUPTED", "load_done", "cluster_wanted", "portable", "check_cluster",
           "cluster",
           "prefetch", "prefetched", "point_context", "run", "run_builds", "BuildsRun",
           "BuildMissing"]

#: What a command says when a signal stops it.
INTERRUPTED = "interrupted: every completed point is saved; run the same command to resume"


def say(*parts, file=None) -> None:
    """``print``, flushed; a closed pipe (``| head``) silences that stream from then on
    (it is redirected to ``os.devnull``, as the Python documentation recommends) and
    never stops the command: its points, summary and figures are saved and its exit
    status is its own.

    Parameters
    ----------
    *parts
        What ``print`` prints.
    file : file object, optional
        The stream (default: ``sys.stdout``).
    """
    stream = sys.stdout if file is None else file
    try:
        print(*parts, file=stream, flush=True)
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, stream.fileno())
        finally:
            os.close(devnull)


def progress(total: int, label: str):
    """A progress bar on standard error (tqdm on a terminal, else one line per point).

    Parameters
    ----------
    total : int
        Points to run.
    label : str
        What the bar or the lines name (``"sweep rp"``).

    Returns
    -------
    tick : callable
        ``tick(k)``: point ``k`` (0-based) starts; ``k`` points are done.
    close : callable
        Completes and closes the bar.
    """
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        tqdm = None
    bar = tqdm(total=total, desc=label, unit="run", file=sys.stderr,
               disable=not sys.stderr.isatty()) if tqdm else None
    state = {"start": time.perf_counter()}

    def tick(k):
        if bar is not None and k > 0:
            bar.update(1)
        if bar is None or not sys.stderr.isatty():
            say(f"[{label}] point {k + 1}/{total} ({time.perf_counter() - state['start']:.0f} s)",
                file=sys.stderr)

    def close():
        if bar is not None:
            bar.update(bar.total - bar.n)
            bar.close()

    return tick, close


#: Signals received during this command. A handler's exception can be lost (Python
#: ignores exceptions raised while it runs fork handlers, finalizers or weakref callbacks),
#: so the signal is also recorded here and :func:`stop_if_signalled` raises it again
#: between points.
_SIGNALLED: list = []


def on_signal(signum, frame):
    """The handler :func:`signals` installs: records the signal and raises
    :class:`~brianlab.errors.Terminated` (SIGTERM) or ``KeyboardInterrupt`` (SIGINT).

    Parameters
    ----------
    signum : int
        The signal.
    frame : frame or None
        Where it arrived (unused).
    """
    _SIGNALLED.append(signum)
    raise Terminated if signum == signal.SIGTERM else KeyboardInterrupt


def stop_if_signalled() -> None:
    """Raise the exception of a signal whose first exception was lost (call it between
    points)."""
    if _SIGNALLED:
        raise Terminated if _SIGNALLED[0] == signal.SIGTERM else KeyboardInterrupt


@contextlib.contextmanager
def signals():
    """SIGINT and SIGTERM raise ``KeyboardInterrupt`` and
    :class:`~brianlab.errors.Terminated` inside the block (:func:`on_signal`); the
    previous handlers are restored after it.

    Handlers can only be installed in the main thread: elsewhere the block runs with the
    handlers as they are. The record of signals received is cleared on entry.

    Yields
    ------
    None
    """
    _SIGNALLED.clear()
    main_thread = threading.current_thread() is threading.main_thread()
    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)} \
        if main_thread else {}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def interrupted(exc: BaseException) -> int:
    """Say :data:`INTERRUPTED` on standard error; the command's exit status.

    Parameters
    ----------
    exc : KeyboardInterrupt or Terminated
        What stopped the command.

    Returns
    -------
    int
        143 for SIGTERM (:class:`~brianlab.errors.Terminated`), 130 for SIGINT.
    """
    say(INTERRUPTED, file=sys.stderr)
    return 143 if isinstance(exc, Terminated) else 130


def load_done(folder, keys=None, check_arrays: bool = True) -> dict:
    """The points saved in a results folder: key to record.

    A point is done when its ``points/<key>.json`` reads as a JSON object and its
    ``points/<key>.npz`` opens as a zip archive (with ``check_arrays``, every member's
    checksum is tested too, for commands that read the arrays again; otherwise only its
    index, which a truncated file lacks: a sweep's thousands of points are not read
    again). A damaged point is not done (it is computed again) and a line on standard
    error names its file; a point without its ``.npz`` is not done, silently.

    Parameters
    ----------
    folder : RunFolder or path
        The results folder (the one holding ``points/``).
    keys : iterable of str, optional
        Only these points (default: every ``points/*.json``).
    check_arrays : bool
        Test every member's checksum.

    Returns
    -------
    dict
        Key to record, in key order (``keys``' order when given).
    """
    points = Path(getattr(folder, "path", folder)) / "points"
    paths = sorted(points.glob("*.json")) if keys is None else \
        [points / f"{key}.json" for key in keys]
    done = {}
    for path in paths:
        arrays = path.with_suffix(".npz")
        if not arrays.exists() or not path.exists():
            continue
        try:
            record = json.loads(path.read_text())
            if not isinstance(record, dict):
                raise ValueError("not a JSON object")
        except (OSError, ValueError) as exc:
            say(f"{path}: damaged ({exc}); the point is computed again", file=sys.stderr)
            continue
        try:
            with zipfile.ZipFile(arrays) as archive:
                bad = archive.testzip() if check_arrays else None
            if bad is not None:
                raise zipfile.BadZipFile(f"member {bad} fails its checksum")
        except (OSError, zipfile.BadZipFile, EOFError, ValueError) as exc:
            say(f"{arrays}: damaged ({exc}); the point is computed again", file=sys.stderr)
            continue
        done[path.stem] = record
    return done


def cluster_wanted(options) -> bool:
    """Whether the points run on a Dask cluster.

    Parameters
    ----------
    options : Request or argparse.Namespace
        Read for ``workers``, ``scheduler`` and ``scheduler_file`` (missing ones: None).

    Returns
    -------
    bool
    """
    return any(getattr(options, name, None) is not None
               for name in ("workers", "scheduler", "scheduler_file"))


def portable(options) -> bool:
    """Whether the build must run on other CPUs: ``portable`` was asked for, or the
    workers may run on other machines (a scheduler or a scheduler file was given).

    Parameters
    ----------
    options : Request or argparse.Namespace
        Read for ``portable``, ``scheduler`` and ``scheduler_file``.

    Returns
    -------
    bool
    """
    return bool(getattr(options, "portable", False)) or \
        getattr(options, "scheduler", None) is not None or \
        getattr(options, "scheduler_file", None) is not None


def check_cluster(options, device: str) -> None:
    """Refuse the cluster options for points that do not run as compiled binaries.

    Parameters
    ----------
    options : Request or argparse.Namespace
        Read for the cluster options (:func:`cluster_wanted`) and ``build_only``.
    device : str
        The device the points run on.

    Raises
    ------
    ValueError
        ``"--workers/--scheduler run cpp_standalone binaries (no --build-only, no --device
        DEVICE)"`` when a cluster is asked for and the device is not ``cpp_standalone`` or
        only a build is.
    """
    if cluster_wanted(options) and (device != "cpp_standalone" or
                                    getattr(options, "build_only", False)):
        raise ValueError("--workers/--scheduler run cpp_standalone binaries (no --build-only, "
                         f"no --device {device})")


@contextlib.contextmanager
def cluster(options):
    """The Dask client of the cluster options, or None when they ask for none.

    Parameters
    ----------
    options : Request or argparse.Namespace
        Read for ``workers``, ``scheduler`` and ``scheduler_file``; a scheduler file that
        does not exist yet is waited for (:data:`brianlab.sweeps.SCHEDULER_FILE_WAIT`),
        and a line says so.

    Yields
    ------
    distributed.Client or None
        Closed on exit (:func:`brianlab.sweeps.connect`).

    Raises
    ------
    SweepError
        As :func:`brianlab.sweeps.connect`.
    """
    if not cluster_wanted(options):
        yield None
        return
    scheduler_file = getattr(options, "scheduler_file", None)
    if scheduler_file is not None and not Path(scheduler_file).exists():
        say(f"waiting up to {sweeps.SCHEDULER_FILE_WAIT:g} s for the scheduler file "
            f"{scheduler_file}", file=sys.stderr)
    with sweeps.connect(workers=getattr(options, "workers", None),
                        scheduler=getattr(options, "scheduler", None),
                        scheduler_file=scheduler_file) as client:
        yield client


#: The background import threads of this command (:func:`prefetch`).
_PREFETCH: list = []


def prefetch(*modules: str) -> None:
    """Import ``modules`` in a background thread: a cached command's Python is idle while
    its binary runs, and scipy.ndimage and matplotlib take 0.2-0.5 s each to import (an
    import the main thread then asks for waits for this one to finish).

    The thread only imports. An import statement waits for a module another thread is
    importing, but code that looks a module up in ``sys.modules`` does not
    (``matplotlib.use`` finds a half-imported ``matplotlib.pyplot`` there), so the main
    thread calls :func:`prefetched` before it touches matplotlib.

    Parameters
    ----------
    *modules : str
        Module names, imported in this order; the first that fails stops the thread (the
        main thread's own import reports it).
    """
    def load():
        for name in modules:
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 (the main thread's own import reports it)
                return

    thread = threading.Thread(target=load, name="brianlab-prefetch", daemon=True)
    _PREFETCH.append(thread)
    thread.start()


def prefetched() -> None:
    """Wait until the background imports (:func:`prefetch`) are done."""
    while _PREFETCH:
        _PREFETCH.pop().join()


def point_context(point, manifest, reduction) -> PointContext:
    """What the reduction of ``point`` knows: the build's context, the point's values.

    The provenance is the build's, with the seeds the point gives at run time: its
    connectivity seed (the run value ``conn_seed``) and, on a build with hash drives, its
    drive seed (``hash_drive``, as :meth:`~brianlab.networks.builder.BuiltNetwork.rerun`
    records it).

    Parameters
    ----------
    point : PointSpec
    manifest : Manifest
        The build it runs on (its ``context`` and ``provenance``).
    reduction : ReductionSpec
        Its options, with the point's own (``point.options``) over them.

    Returns
    -------
    PointContext
    """
    context = manifest.context
    provenance = dict(manifest.provenance)
    conn_seed = dict(point.run_values).get(runargs.CONNECTIVITY_TARGET)
    seeds = dict(provenance.get("seeds") or {})
    if conn_seed is not None:  # the build's seeds, with this point's run-time ones
        seeds["connectivity"] = int(conn_seed)
    if runargs.SEED_TARGET in manifest.variables:
        seeds["hash_drive"] = int(point.seed)
    provenance["seeds"] = seeds
    return PointContext(
        key=point.key, network=dict(manifest.key_parts.get("network") or {}),
        values=dict(point.values), seed=int(point.seed),
        populations=dict(context.get("populations") or {}),
        lattices=dict(context.get("lattices") or {}), dt_s=float(context.get("dt_s", 0.0)),
        phases=tuple((str(n), float(a), float(b)) for n, a, b in context.get("phases") or ()),
        t_start_s=float(context.get("t_start_s", 0.0)),
        options={**dict(reduction.options), **dict(point.options)},
        provenance=provenance)


def run(manifest, points, folder, reduction, *, client=None, on_record=None,
        ship: bool | None = None) -> dict:
    """Run points on a build (design 2.5): the binary per point, the reduction where it ran,
    each point saved in ``folder/points`` as it completes.

    Parameters
    ----------
    manifest : Manifest
        The build (:func:`brianlab.pipeline.builds.find` or a fresh compile).
    points : sequence of PointSpec
        The points to run (those not done).
    folder : RunFolder or path
        The results folder.
    reduction : ReductionSpec
        Named in :data:`~brianlab.pipeline.reductions.REDUCTIONS`.
    client : distributed.Client, optional
        Run on this cluster; None runs here, one point after the other.
    on_record : callable(key, record), optional
        Called here as each point completes.
    ship : bool, optional
        Send the build to the workers (default: when some do not see it).

    Returns
    -------
    dict
        Key -> record.

    Raises
    ------
    SweepError
        At the first point that fails (those done before are saved).
    """
    seeded = runargs.SEED_TARGET in manifest.variables
    work = [sweeps.Point(p.key, runargs.arguments(manifest.variables, dict(p.run_values),
                                                  seed=p.seed if seeded else None),
                         point_context(p, manifest, reduction)) for p in points]
    return sweeps.run_points(manifest.compiled, work, resolve(reduction.name),
                             save_to=Path(getattr(folder, "path", folder)) / "points",
                             client=client, ship=ship, on_record=on_record)


class BuildMissing(LookupError):
    """A plan's build is not in the cache (or no longer current) and may not be compiled."""


@dataclass
class BuildsRun:
    """What :func:`run_builds` did.

    Parameters
    ----------
    records : dict
        Point key -> record, of the points that ran.
    used : list of Manifest
        The builds the points ran on, in the plan's order.
    kept : list of Manifest
        Those that are the cache's own directories (:func:`brianlab.pipeline.builds.kept`):
        a plan that uses only these can be saved for next time.
    cached : dict
        Build key -> whether it was found in the cache (not compiled).
    timings : dict
        ``construct_s`` (the networks built in Python and their code generated),
        ``build_s`` (compiled), ``sweep_s`` (the points), where spent.
    not_run : str or None
        Why builds were made (or found) but their points not run: ``build_only``, or a
        ``cuda_standalone`` build on a machine without a GPU
        (``"<device>: built in <directories> but not run (<why>)"``).
    """

    records: dict = field(default_factory=dict)
    used: list = field(default_factory=list)
    kept: list = field(default_factory=list)
    cached: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)
    not_run: str | None = None

    def description(self) -> dict:
        """The builds and their use in plain data: ``cached`` (every compiled build was
        found; absent when the points ran on the runtime device only),
        ``timings``, ``directory`` (the last build's) and, when every build is the
        cache's (none went to a fresh directory because another process held the
        cache's), ``manifest_key`` (the last build's key).

        Returns
        -------
        dict
            JSON-ready; ``directory``, ``manifest_key`` and ``not_run`` (:attr:`not_run`)
            only where they apply.
        """
        out = {"timings": dict(self.timings)}
        if self.not_run:
            out["not_run"] = self.not_run
        if self.cached:  # (compiled builds only: runtime points have none)
            out["cached"] = all(self.cached.values())
        if self.used:
            out["directory"] = self.used[-1].compiled.directory
            if len(self.kept) == len(self.used):
                out["manifest_key"] = self.used[-1].key
        return out


def run_builds(plan, folder, *, keys=None, compile_build=None, run_in_process=None,
               client=None, on_record=None, ship: bool | None = None,
               build_only: bool = False) -> BuildsRun:
    """Run a plan's points on its builds, each found in the cache or compiled (tier 2
    only on a miss, through ``compile_build``), the points of each build by :func:`run`.

    The points of a ``cuda_standalone`` build run where ``nvidia-smi`` sees a GPU
    (:func:`brianlab.toolchain.gpu_available`); elsewhere the build is made and
    :attr:`BuildsRun.not_run` says why its points were not run.

    Parameters
    ----------
    plan : Plan
    folder : RunFolder or path
        The results folder (points saved in ``folder/points``).
    keys : collection of str, optional
        The points to run (default: all).
    compile_build : callable(plan, spec) -> Manifest, optional
        Compiles a build that is not in the cache
        (:func:`brianlab.pipeline.compile.compile_build`); None: a missing build raises
        :class:`BuildMissing` (a saved plan's cached builds only, without Brian2).
    run_in_process : callable(plan, spec, points, folder, on_record=) -> dict, optional
        Runs the points of a ``runtime`` build (nothing to cache or compile: each point
        built and run in this process, :func:`brianlab.pipeline.inprocess.run`).
    client, on_record, ship
        As :func:`run`.
    build_only : bool
        Find or compile the builds of the points, run none (``folder`` is not used).

    Returns
    -------
    BuildsRun

    Raises
    ------
    ValueError
        For ``build_only`` on the runtime device (it has no build).
    """
    wanted = None if keys is None else set(keys)
    out = BuildsRun()
    timings = out.timings
    not_run: dict = {}  # why -> build directories
    gpu = []  # (nvidia-smi asked once, when a CUDA build is about to run)
    for index, spec in enumerate(plan.builds):  # one per structure
        points = [p for p in plan.points_of(index) if wanted is None or p.key in wanted]
        if not points:
            continue
        stop_if_signalled()
        if spec.device == "runtime":
            if build_only:
                raise ValueError("--build-only: the runtime device has no build; use "
                                 "--device cpp_standalone or cuda_standalone")
            if run_in_process is None:
                raise ValueError("the runtime device's points run in a process with Brian2")
            out.records |= run_in_process(plan, spec, points, folder, on_record=on_record)
            continue
        manifest = builds.find(spec)
        out.cached[spec.key()] = manifest is not None
        if manifest is None:
            if compile_build is None:
                raise BuildMissing(spec.key())
            start = time.perf_counter()
            manifest = compile_build(plan, spec)
            timings["build_s"] = timings.get("build_s", 0.0) + manifest.build_s
            timings["construct_s"] = timings.get("construct_s", 0.0) + \
                time.perf_counter() - start - manifest.build_s
        out.used.append(manifest)
        if builds.kept(manifest, spec):
            out.kept.append(manifest)
        if not build_only and spec.device == "cuda_standalone" and not gpu:
            gpu.append(gpu_available()[0])
        why = "--build-only was given" if build_only else (
            "no GPU is available here" if spec.device == "cuda_standalone" and not gpu[0]
            else None)
        if why is not None:
            not_run.setdefault((spec.device, why), []).append(manifest.compiled.directory)
            continue
        start = time.perf_counter()
        out.records |= run(manifest, points, folder, plan.reduction, client=client,
                           on_record=on_record, ship=ship)
        timings["sweep_s"] = timings.get("sweep_s", 0.0) + time.perf_counter() - start
    if not_run:
        out.not_run = "; ".join(f"{device}: built in {', '.join(directories)} but not run "
                                f"({why})" for (device, why), directories in not_run.items())
    return out
