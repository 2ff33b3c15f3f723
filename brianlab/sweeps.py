"""Compile once, run the points of a sweep in this process or on Dask workers.

A standalone build is a reusable artefact: the binary ``main``, its ``static_arrays``
folder and the names and dtypes of the files it writes. :class:`CompiledNetwork` records
them (made on the driver from a built :class:`~brianlab.devices.DeviceSession`), and
:func:`run_point` runs the binary once, as Brian2 documents for standalone runs::

    ./main --results_dir /absolute/own/folder group.var=value ...

in a subprocess whose working directory is the build, with a results directory of its
own (parallel runs must never share one), reads the recorded arrays with numpy, checks
them, applies a reduction next to the data and saves the point atomically. Nothing here
imports Brian2 or changes its device: a Dask worker only starts a program and reads files.

:func:`run_points` runs a list of points in this process (``client=None``) or on a
Dask cluster: :func:`connect` gives a client of a :class:`distributed.LocalCluster` of
single-threaded worker processes, or of a running scheduler (address or scheduler
file). Each point is one task; a point whose worker dies is run again on another worker,
and a point is written (arrays first, then its record, each by rename) only when it is
complete, so an interrupted sweep never leaves half a point and resumes where it stopped.

Workers that cannot see the build directory (another machine without a shared
filesystem) get the build once, as an archive named by the sha256 of the binary and its
static arrays, unpacked into the worker's local directory; workers that cannot see the
output folder return their arrays and the driver saves them.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import fcntl
import glob
import hashlib
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from .cache import cache_root
from .errors import SweepError
from .results import RunFolder, atomic_write_text, temporary_prefix

__all__ = ["CompiledNetwork", "Point", "SweepError", "run_point", "run_points", "save_point",
           "connect", "BUILD_RECORD"]

#: File in a build directory that records the build's digest (written by the driver).
BUILD_RECORD = ".brianlab-build.json"
#: File in a build directory that keeps its digest with the status of each file it covers
#: (size, modification and status-change times in ns, inode): a later check hashes the
#: files again only when one of them changed. Nothing can write a file without changing
#: its status-change time.
DIGEST_STAMP = ".brianlab-digest.json"
#: Start of the file (``<SWEEP_TOKEN>-<token>``) in the output folder whose content tells
#: a worker that it sees this sweep's folder (one per sweep: two commands may share a folder).
SWEEP_TOKEN = ".brianlab-sweep-token"
#: What a point's key may be (it names the point's files).
SAFE_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,199}")
#: How many lines of the binary's output an error message quotes.
OUTPUT_LINES = 20
#: Seconds :func:`connect` waits for a scheduler file to appear (a scheduler started at the
#: same time writes it once it listens).
SCHEDULER_FILE_WAIT = 60.0


@dataclass(frozen=True)
class Point:
    """One point of a sweep.

    Parameters
    ----------
    key : str
        Unique name of the point: its files are ``<key>.npz`` and ``<key>.json``.
    arguments : tuple of str
        The binary's ``group.var=value`` values (:meth:`DeviceSession.command_line
        <brianlab.devices.DeviceSession.command_line>`).
    context : object
        Passed to the reduction with the arrays (e.g. the point's parameters); picklable.
    """

    key: str
    arguments: tuple
    context: object = None


@dataclass(frozen=True)
class CompiledNetwork:
    """A compiled standalone network that runs anywhere its files are.

    Parameters
    ----------
    directory : str
        Absolute build directory (``main`` and ``static_arrays`` are read from it).
    outputs : dict
        Name to ``(file name, dtype)`` of the arrays a point reads from its results
        directory (e.g. a spike monitor's ``i`` and ``t``).
    checks : dict
        Like ``outputs``: arrays that must be finite after a run (state variables).
    digest : str
        sha256 of the binary and its static arrays (names the shipped archive).
    environment : dict
        Environment variables the binary runs with (Brian2's ``run_environment_variables``).
    description : dict
        The device session that built it (``DeviceSession.describe()``).
    """

    directory: str
    outputs: dict
    checks: dict = field(default_factory=dict)
    digest: str = ""
    environment: dict = field(default_factory=dict)
    description: dict = field(default_factory=dict)

    @classmethod
    def from_session(cls, session, outputs: dict, checks: dict | None = None
                     ) -> "CompiledNetwork":
        """Record a network built by ``session`` (call inside the session, after ``run``).

        Parameters
        ----------
        session : DeviceSession
            A ``cpp_standalone`` or ``cuda_standalone`` session whose network was built
            (``build_only`` is enough). A CUDA binary runs where a GPU is (it links the
            build machine's cuRAND by its path).
        outputs : dict
            Name to Brian2 variable (``monitor.variables["t"]``) of the arrays to read.
        checks : dict, optional
            Name to variable of arrays that must stay finite (e.g. ``G.variables["v"]``).

        Returns
        -------
        CompiledNetwork

        Raises
        ------
        SweepError
            For the runtime device or a session that built nothing.
        """
        if not session.standalone:
            raise SweepError("sweeps run standalone binaries; the runtime device has none")
        if not session.built:
            raise SweepError("the session has not built its network yet (call run() first)")
        from brian2 import get_device, prefs

        directory = Path(session.directory).resolve()
        digest = _digest(directory)
        (directory / BUILD_RECORD).write_text(json.dumps({"digest": digest}) + "\n")
        environment = {str(k): str(v) for k, v in {
            **prefs["devices.cpp_standalone.run_environment_variables"],
            **get_device().run_environment_variables}.items()}
        return cls(str(directory), {k: session.array_file(v) for k, v in outputs.items()},
                   {k: session.array_file(v) for k, v in (checks or {}).items()}, digest,
                   environment, session.describe())

    def archive(self) -> bytes:
        """The binary and its static arrays as an uncompressed tar (what workers unpack).

        Returns
        -------
        bytes
        """
        buffer = io.BytesIO()
        root = Path(self.directory)
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            for path in _build_files(root):
                tar.add(path, arcname=str(path.relative_to(root)), recursive=False)
        return buffer.getvalue()

    def current_digest(self) -> str:
        """sha256 of the binary and static arrays now in the build directory.

        Returns
        -------
        str
        """
        return _digest(Path(self.directory))

    def visible(self) -> bool:
        """Whether this machine sees the build directory with the recorded digest.

        Returns
        -------
        bool
        """
        try:
            record = json.loads((Path(self.directory) / BUILD_RECORD).read_text())
        except (OSError, ValueError):
            return False
        return record.get("digest") == self.digest and (Path(self.directory) / "main").is_file()


def _build_files(root: Path) -> list[Path]:
    """The files a standalone binary reads when it runs: itself and its static arrays."""
    statics = sorted(p for p in (root / "static_arrays").glob("*") if p.is_file()
                     and not p.name.endswith(".lock"))
    return [root / "main", *statics]


def _digest(root: Path) -> str:
    """sha256 of the binary and its static arrays (taken from ``DIGEST_STAMP`` while no
    file changed since it was written)."""
    files = _build_files(root)
    stats = []
    for path in files:
        st = path.stat()
        stats.append([str(path.relative_to(root)), st.st_size, st.st_mtime_ns, st.st_ctime_ns,
                      st.st_ino])
    stamp = root / DIGEST_STAMP
    try:
        saved = json.loads(stamp.read_text())
        if saved["stats"] == stats:
            return saved["digest"]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    try:  # (the statuses from before reading: a file written meanwhile is hashed again)
        atomic_write_text(stamp, json.dumps({"stats": stats, "digest": digest.hexdigest()}))
    except OSError:
        pass  # a build directory that cannot be written is hashed every time
    return digest.hexdigest()


# -- the worker's side ---------------------------------------------------------------
def _worker():
    """The Dask worker running this code, or None (no Dask imported means no worker)."""
    if "distributed" not in sys.modules:
        return None
    from distributed import get_worker

    try:
        return get_worker()
    except ValueError:
        return None


def _in_worker() -> bool:
    return _worker() is not None


def _local_directory() -> Path:
    """The Dask worker's own directory, or the brianlab cache outside a worker."""
    worker = _worker()
    return cache_root() if worker is None else Path(worker.local_directory)


def _unpacked_build(compiled: CompiledNetwork, archive: bytes | None) -> Path:
    """Where this machine runs the binary: the build itself, or the shipped archive."""
    if archive is None:
        if not compiled.visible():
            raise SweepError(f"{socket.gethostname()} cannot see the build {compiled.directory} "
                             "(another machine without a shared filesystem?); ship the build "
                             "(ship=True, or --ship-build on the command line)")
        return Path(compiled.directory)
    target = _local_directory() / "brianlab-builds" / compiled.digest[:16]
    done = target / ".complete"
    if done.is_file():
        return target
    target.mkdir(parents=True, exist_ok=True)
    with open(target / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one unpacking per machine
        if not done.is_file():
            with tarfile.open(fileobj=io.BytesIO(archive), mode="r") as tar:
                tar.extractall(target, filter="data")
            os.chmod(target / "main", 0o755)
            done.write_text(compiled.digest + "\n")
    return target


def _die_with_parent():  # pragma: no cover - runs in the child between fork and exec
    """The binary gets SIGKILL when the worker that started it dies (Linux)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


#: The file a standalone binary of :class:`brianlab.DeviceSession` writes the time
#: of its network's runs into (the sum of Brian2's ``Network::_last_run_time`` over the
#: protocol's segments: Brian2's own ``last_run_info.txt`` holds the last segment's only).
RUN_TIME_FILE = "brianlab_run_s.txt"

#: Results directories this process made (removed when it exits).
_RESULTS_DIRECTORIES: dict = {}


def _results_directory(compiled: CompiledNetwork) -> Path:
    """This thread's own absolute results directory for ``compiled``'s binary.

    One directory per process and thread (parallel runs never share one), reused by the
    points it runs one after the other: the binary overwrites its ~all-arrays output
    (390 MB for the default CMSA sheet) instead of filling and deleting a new folder each
    time (0.7 s per point measured). The files a point reads are deleted before each run,
    so a run that writes nothing can never be read as the previous point's results.
    """
    import threading

    name = (f"{compiled.digest[:12]}-{socket.gethostname()}-{os.getpid()}-"
            f"{threading.get_ident()}")
    if name in _RESULTS_DIRECTORIES:
        results = _RESULTS_DIRECTORIES[name]
    else:
        results = _local_directory() / "brianlab-points" / name
        try:
            results.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # a read-only cache: its builds still run
            fallback = Path(tempfile.gettempdir()).resolve() / "brianlab-points" / name
            try:
                fallback.mkdir(parents=True, exist_ok=True)
            except OSError:
                raise SweepError(f"cannot make a results directory for the binary in "
                                 f"{results.parent} ({exc.strerror or exc}) nor in "
                                 f"{fallback.parent}") from None
            results = fallback
        if not _RESULTS_DIRECTORIES:
            atexit.register(_remove_results_directories)
        _RESULTS_DIRECTORIES[name] = results
    for filename, _ in [*compiled.outputs.values(), *compiled.checks.values()]:
        (results / filename).unlink(missing_ok=True)
    (results / RUN_TIME_FILE).unlink(missing_ok=True)
    return results


def _run_seconds(results: Path) -> float | None:
    """The network's run time inside the binary (:data:`RUN_TIME_FILE`), None without it."""
    try:
        return float((results / RUN_TIME_FILE).read_text().split()[0])
    except (OSError, IndexError, ValueError):
        return None


def _remove_results_directories():
    for path in _RESULTS_DIRECTORIES.values():
        shutil.rmtree(path, ignore_errors=True)
    _RESULTS_DIRECTORIES.clear()


def _read(results: Path, files: dict) -> dict:
    out = {}
    for name, (filename, dtype) in files.items():
        path = results / filename
        if not path.is_file():
            raise SweepError(f"the binary wrote no {filename} ({name}) into {results}")
        out[name] = np.fromfile(path, dtype=np.dtype(dtype))
    return out


def run_point(compiled: CompiledNetwork, point: Point, reduce: Callable | None = None,
              save_to=None, token: str | None = None, archive: bytes | None = None) -> dict:
    """Run one point: the binary in this thread's own results directory, then the reduction.

    Parameters
    ----------
    compiled : CompiledNetwork
        The build.
    point : Point
        Its command-line values, key and context.
    reduce : callable(arrays, context) -> (arrays, record), optional
        Applied to the arrays read (``compiled.outputs``); returns the arrays to save
        and a JSON-ready record. Without it the arrays read are saved and the record is
        empty.
    save_to : str or Path, optional
        Folder of ``<key>.npz`` and ``<key>.json``. Saved here when this machine sees it
        (``token`` matches the folder's token file); otherwise the arrays come back in
        the returned dict under ``"arrays"`` for the caller to save.
    token : str, optional
        This sweep's token (see :func:`run_points`); without it a given ``save_to`` is
        used as it is.
    archive : bytes, optional
        The build as :meth:`CompiledNetwork.archive`, for machines that do not see
        ``compiled.directory``.

    Returns
    -------
    dict
        ``{"key", "record", "saved", "arrays"}``; the record gains ``"sweep"``: host,
        process, build and results directories, seconds in the binary (``binary_s``),
        of them in the network's runs (``run_s``, every segment of the protocol, as the
        binary measured it; the rest loads the arrays, creates the synapses and writes the
        results; None if the binary wrote no time) and in the reduction (``reduce_s``).

    Raises
    ------
    SweepError
        If the binary fails (its last lines of output are quoted), writes no results,
        or leaves non-finite values in ``compiled.checks``.
    """
    build = _unpacked_build(compiled, archive)
    results = _results_directory(compiled)  # (the files a point reads: deleted first)
    start = time.perf_counter()
    env = {**os.environ, **compiled.environment}
    # on a worker the binary must die with it; in a driver (its own process group, its
    # signal handlers) no preexec_fn: Python runs fork handlers around one, and an
    # exception a signal handler raises there (Ctrl-C, SIGTERM) would be lost
    tie = _in_worker() and sys.platform.startswith("linux")
    proc = subprocess.run([str(build / "main"), "--results_dir", f"{results}/",
                           *point.arguments], cwd=build, env=env, capture_output=True,
                          text=True, preexec_fn=_die_with_parent if tie else None)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-OUTPUT_LINES:])
        raise SweepError(f"point {point.key}: the binary exited with {proc.returncode} "
                         f"on {socket.gethostname()} (build {build}):\n{tail}")
    for name, values in _read(results, compiled.checks).items():
        if not np.isfinite(values).all():
            raise SweepError(f"point {point.key}: {name} is not finite after the run "
                             f"({int((~np.isfinite(values)).sum())} values; the "
                             "integration diverged)")
    arrays = _read(results, compiled.outputs)
    start_reduce = time.perf_counter()
    if reduce is None:
        record = {}
    else:
        arrays, record = reduce(arrays, point.context)
    record = dict(record)
    record["sweep"] = {"host": socket.gethostname(), "pid": os.getpid(),
                       "build": str(build), "results_dir": str(results),
                       "binary_s": seconds, "run_s": _run_seconds(results),
                       "reduce_s": time.perf_counter() - start_reduce}
    saved = False
    if save_to is not None and _sees_folder(save_to, token):
        save_point(save_to, point.key, arrays, record, writer=_writer(token))
        saved = True
    return {"key": point.key, "record": record, "saved": saved,
            "arrays": None if saved else arrays}


def _sees_folder(save_to, token) -> bool:
    if token is None:
        return True
    try:
        return (Path(save_to) / f"{SWEEP_TOKEN}-{token}").read_text().strip() == token
    except OSError:
        return False


def _writer(token: str | None) -> str | None:
    """The writer name of a sweep's temporary files (:func:`brianlab.results.temporary_prefix`)."""
    return None if token is None else f"sweep{token[:12]}"


def _check_key(key):
    """A point's key names its files: never one outside its folder."""
    if not isinstance(key, str) or SAFE_KEY.fullmatch(key) is None:
        raise SweepError(f"point key {key!r}: expected a file name of letters, digits and "
                         "._+- (not starting with a dot)")


def save_point(folder, key: str, arrays: dict, record: dict, writer: str | None = None):
    """Save a point: ``<key>.npz``, then ``<key>.json`` (a point is done when both exist).

    Parameters
    ----------
    folder : str or Path
        The folder.
    key : str
        The point's name.
    arrays : dict
        Its arrays.
    record : dict
        Its JSON-ready record.
    writer : str, optional
        Names the writer's temporary files (default: this process's id).
    """
    _check_key(key)
    out = RunFolder(folder, writer=writer)
    out.save_arrays(key, **arrays)
    out.save_json(key, record)


# -- the driver's side ---------------------------------------------------------------
@contextlib.contextmanager
def connect(workers: int | None = None, scheduler: str | None = None,
            scheduler_file=None, local_directory=None, wait: float | None = None):
    """A Dask client: a new local cluster, or a running scheduler.

    Parameters
    ----------
    workers : int, optional
        Start a :class:`distributed.LocalCluster` of this many worker processes with
        one thread each (each point runs a single-threaded binary).
    scheduler : str, optional
        Address of a running scheduler (``tcp://host:8786``).
    scheduler_file : str or Path, optional
        The JSON file a scheduler wrote (``dask scheduler --scheduler-file``).
    local_directory : str or Path, optional
        Where local workers keep their files (default: a temporary folder).
    wait : float, optional
        Seconds to wait for ``scheduler_file`` to appear (default
        :data:`SCHEDULER_FILE_WAIT`).

    Yields
    ------
    distributed.Client
        Closed (and a local cluster shut down) on exit.

    Raises
    ------
    SweepError
        If Dask is not installed, not exactly one of the three is given, ``workers``
        exceeds the cores this process may use, the scheduler file did not appear in
        time or is not one (naming the file), or the scheduler cannot be reached.
    """
    if sum(x is not None for x in (workers, scheduler, scheduler_file)) != 1:
        raise SweepError("give exactly one of workers, scheduler or scheduler_file")
    try:
        import logging

        from distributed import Client, LocalCluster
    except ImportError:
        raise SweepError("sweeps on workers need Dask: pip install 'brianlab[dask]'") from None
    if workers is not None:
        if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
            raise SweepError(f"workers must be a positive integer, got {workers!r}")
        from .resources import usable_cores

        if workers > usable_cores():
            raise SweepError(f"workers = {workers}: a local cluster runs one single-threaded "
                             f"point per worker and this process may use {usable_cores()} "
                             "cores; give at most that many, or connect to a scheduler "
                             "whose workers run elsewhere")
        with tempfile.TemporaryDirectory(prefix="brianlab-dask-",
                                         dir=local_directory) as where:
            with _workers_ignore_sigint():
                # (CRITICAL: at a Ctrl-C a worker's heartbeat may still be in flight when
                # the scheduler closes, and Dask logs that as an ERROR with a traceback; a
                # point that fails reaches the driver through its future, not the log)
                cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                       dashboard_address=None, local_directory=where,
                                       silence_logs=logging.CRITICAL)
            with cluster, Client(cluster) as client:
                client.register_plugin(_ignore_interrupt_plugin(), name="brianlab-ignore-sigint")
                yield client
        return
    if scheduler is None:
        scheduler = _scheduler_address(Path(scheduler_file),
                                       SCHEDULER_FILE_WAIT if wait is None else wait)
    try:
        client = Client(scheduler, timeout="30s")
    except (OSError, TimeoutError) as exc:
        where = scheduler if scheduler_file is None else f"{scheduler} (from {scheduler_file})"
        raise SweepError(f"cannot reach the Dask scheduler {where}: {exc}") from None
    with client:
        yield client


def _scheduler_address(path: Path, wait: float) -> str:
    """The address in a scheduler file (``dask scheduler --scheduler-file``), waiting up to
    ``wait`` seconds for the file to appear and a moment for its writer to finish it
    (Dask's own client would wait forever, and fail on a bad file with an assertion)."""
    deadline = time.monotonic() + wait
    while not path.exists():
        if time.monotonic() >= deadline:
            raise SweepError(f"the scheduler file {path} did not appear within {wait:g} s "
                             "(is the scheduler running, started with --scheduler-file "
                             "naming this file, on a file system this machine sees?)")
        time.sleep(0.1)
    finish = time.monotonic() + 1.0  # a file just created may not be complete yet
    while True:
        try:
            content = json.loads(path.read_text())
            address = content.get("address") if isinstance(content, dict) else None
            if isinstance(address, str) and "://" in address:
                return address
            problem = "it has no scheduler 'address' such as tcp://host:8786"
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            problem = f"{type(exc).__name__}: {exc}"
        if time.monotonic() >= finish:
            raise SweepError(f"the scheduler file {path} is not a Dask scheduler file "
                             f"(the JSON 'dask scheduler --scheduler-file' writes): {problem}")
        time.sleep(0.1)


@contextlib.contextmanager
def _workers_ignore_sigint():
    """Worker processes started in this block ignore SIGINT (the disposition survives exec).

    Ctrl-C in a terminal reaches the whole process group: the driver stops the sweep and
    shuts its local cluster down; workers (and their binaries) must not each print a
    traceback of their own. They end when the cluster closes.
    """
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _ignore(signum, frame):
    """A SIGINT handler that does nothing (see :func:`_ignore_interrupt_plugin`)."""


def _ignore_interrupt_plugin():
    """A Dask worker plugin for local clusters: SIGINT does nothing in the worker process.

    Workers start with SIGINT ignored (:func:`_workers_ignore_sigint`), but importing
    Brian2 installs a handler that calls the previous one, which fails for "ignored"
    (a traceback per worker at Ctrl-C). A Python handler that does nothing survives that
    import; the plugin's ``setup`` runs in the worker's main thread, where handlers may be
    set. (Made here so that importing this module does not import distributed.)
    """
    from distributed import WorkerPlugin

    class IgnoreInterrupt(WorkerPlugin):
        def setup(self, worker):
            signal.signal(signal.SIGINT, _ignore)

    return IgnoreInterrupt()


def _is_local(client) -> bool:
    """Whether ``client`` belongs to a LocalCluster of this process."""
    from distributed import LocalCluster

    return isinstance(getattr(client, "cluster", None), LocalCluster)


def run_points(compiled: CompiledNetwork, points: Sequence[Point], reduce: Callable | None = None,
               *, save_to=None, client=None, ship: bool | None = None, retries: int = 2,
               on_record: Callable[[str, dict], None] | None = None) -> dict:
    """Run every point, in this process or on a Dask cluster, saving each as it completes.

    Parameters
    ----------
    compiled : CompiledNetwork
        The build (:meth:`CompiledNetwork.from_session`).
    points : sequence of Point
        Keys must be unique.
    reduce : callable(arrays, context) -> (arrays, record), optional
        Runs next to the data (on the worker); module-level, so that it pickles.
    save_to : str or Path, optional
        Folder of the points' files (none are written without it).
    client : distributed.Client, optional
        Run on this cluster (:func:`connect`); ``None`` runs the points here, one after
        the other.
    ship : bool, optional
        Send the build to the workers as an archive. Default: only when some current
        worker does not see the build directory.
    retries : int
        Times a failing point is tried again (a worker that dies does not count: Dask
        moves its points to other workers).
    on_record : callable(key, record), optional
        Called on this process as each point completes (progress, collecting).

    Returns
    -------
    dict
        Key to record, for every point.

    Raises
    ------
    SweepError
        At the first point that fails; the points completed before are saved, the others
        are cancelled.

    Notes
    -----
    A worker killed while saving leaves a hidden temporary file, never a point (a point
    is its ``.npz`` and ``.json`` under their final names); once every point is done,
    the temporary files of this sweep's points are removed.
    """
    points = list(points)
    keys = [p.key for p in points]
    if len(set(keys)) != len(keys):
        raise SweepError("the keys of a sweep's points must be unique")
    for key in keys:
        _check_key(key)
    token = None
    if save_to is not None:
        save_to = Path(save_to).resolve()
        RunFolder(save_to)  # writable (a probe), or a ResultsError naming the folder
        token = uuid.uuid4().hex
        (save_to / f"{SWEEP_TOKEN}-{token}").write_text(token + "\n")
    records = {}

    def finish(outcome):
        if not outcome["saved"] and save_to is not None:
            save_point(save_to, outcome["key"], outcome["arrays"], outcome["record"],
                       writer=_writer(token))
        records[outcome["key"]] = outcome["record"]
        if on_record is not None:
            on_record(outcome["key"], outcome["record"])

    try:
        if client is None:
            for point in points:
                finish(run_point(compiled, point, reduce, save_to, token))
        else:
            _run_on_cluster(client, compiled, points, reduce, save_to, token, ship, retries,
                            finish)
        if save_to is not None:  # what a worker killed while saving left (never a point):
            _remove_temporaries(save_to, keys, _writer(token))
        return records
    finally:
        if token is not None:
            with contextlib.suppress(OSError):
                (save_to / f"{SWEEP_TOKEN}-{token}").unlink()


#: A temporary file of a point untouched this long (s) is a dead writer's, whoever wrote it.
STALE_TEMPORARY_S = 3600.0


def _remove_temporaries(save_to: Path, keys, writer: str):
    """Remove the temporary files of these points that this sweep's ``writer`` left, and
    any writer's that nobody touched for :data:`STALE_TEMPORARY_S` (a killed command's):
    another command may be saving the same key right now, so never a fresh one of its."""
    now = time.time()
    for key in keys:
        for name in (f"{key}.npz", f"{key}.json"):
            own = temporary_prefix(name, writer)
            for path in save_to.glob(f"{glob.escape('.' + name + '.')}*.tmp"):
                with contextlib.suppress(OSError):
                    if path.name.startswith(own) or \
                            now - path.lstat().st_mtime > STALE_TEMPORARY_S:
                        path.unlink()


def _run_on_cluster(client, compiled, points, reduce, save_to, token, ship, retries, finish):
    from distributed import as_completed

    if ship is None:
        seen = client.run(CompiledNetwork.visible, compiled) if not _is_local(client) else {}
        ship = not all(seen.values())
    archive = client.scatter(compiled.archive(), broadcast=False) if ship else None
    futures = [client.submit(run_point, compiled, point, reduce, save_to, token, archive,
                             key=f"brianlab-point-{point.key}-{uuid.uuid4().hex[:8]}",
                             pure=False, retries=retries) for point in points]
    try:
        for future in as_completed(futures):
            try:
                outcome = future.result()
            except SweepError:
                raise
            except Exception as exc:  # noqa: BLE001 - a worker's exception, named
                raise SweepError(f"a point failed on a worker: {type(exc).__name__}: "
                                 f"{exc}") from None
            finish(outcome)
            future.release()
    finally:
        client.cancel([f for f in futures if not f.done()])
