"""Run CMSA simulations on a device: build once, rerun each parameter point.

Points may differ only in the parameters a compiled network can change between runs
(``rp``, ``we``, ``wi``, ``seed``); everything else defines the network and must be
the same for all points of one call.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import fields
from typing import Callable, Iterable, Sequence

from ..devices import DeviceSession, DirectoryInUse, cache_directory, use_device
from .params import CMSAParams
from .protocol import (CMSARun, build_network, collect, recorded_arrays, reduce_point,
                       run_args_for)

__all__ = ["SWEEPABLE", "simulate", "simulate_on_cluster", "NotRunError"]

#: Parameters that change between runs of one compiled network (``run_args``).
SWEEPABLE = ("rp", "we", "wi", "seed")


class NotRunError(RuntimeError):
    """The network was built but could not be run here (build-only, or CUDA without a GPU).

    Parameters
    ----------
    session : DeviceSession
        The session that built it (its ``directory`` holds the build).
    """

    def __init__(self, session: DeviceSession):
        self.session = session
        why = "--build-only was given" if session.build_only else "no GPU is available here"
        super().__init__(f"{session.name}: built in {session.directory} but not run ({why})")


def _structure(p: CMSAParams) -> tuple:
    return tuple((f.name, str(getattr(p, f.name))) for f in fields(p) if f.name not in SWEEPABLE)


def _check_points(points: list) -> CMSAParams:
    if not points:
        raise ValueError("no parameter points to simulate")
    first = points[0]
    for p in points[1:]:
        if _structure(p) != _structure(first):
            diff = [name for (name, a), (_, b) in zip(_structure(first), _structure(p),
                                                       strict=True) if a != b]
            raise ValueError("points of one call may differ only in "
                             f"{', '.join(SWEEPABLE)}; these differ: {', '.join(diff)}")
    return first


def _session(first: CMSAParams, device, threads, build_only, directory, cache, portable=False):
    """The device session, in a build directory keyed by the network when caching."""
    if directory is None and cache and device != "runtime":
        key = hashlib.sha256(repr((_structure(first), device, threads) +
                                  (("portable",) if portable else ())).encode()).hexdigest()
        directory = cache_directory(f"cmsa-{device}-{key[:16]}")
    try:
        return use_device(device, directory=directory, threads=threads,
                          build_only=build_only, quiet=True, portable=portable)
    except DirectoryInUse:  # another run builds the same network: build elsewhere
        return use_device(device, directory=None, threads=threads, build_only=build_only,
                          quiet=True, portable=portable)


def simulate(points: Iterable[CMSAParams], *, device: str = "cpp_standalone", threads=None,
             build_only: bool = False, directory=None, cache: bool = True,
             on_result: Callable[[int, CMSARun, DeviceSession], None] | None = None,
             progress: Callable[[int], None] | None = None) -> DeviceSession:
    """Simulate every point with one network (one compilation on standalone devices).

    Parameters
    ----------
    points : iterable of CMSAParams
        Differing only in ``rp``, ``we``, ``wi``, ``seed``.
    device, threads, build_only, directory
        As :func:`brianlab.use_device`.
    cache : bool
        Keep the connectivity in the brianlab cache (:mod:`brianlab.cache`), and,
        without a ``directory``, build in a stable directory keyed by the network's
        structure and the device, so a second build of the same network only
        regenerates code (no recompilation) and draws no connectivity.
    on_result : callable(index, CMSARun, session), optional
        Called after each point (save it there: an interrupted sweep keeps what is done).
    progress : callable(index), optional
        Called when a point starts.

    Returns
    -------
    DeviceSession
        Closed; ``describe()`` gives device, directory and timings.

    Raises
    ------
    NotRunError
        If the network was built but cannot be run here.
    """
    points = list(points)
    first = _check_points(points)
    with _session(first, device, threads, build_only, directory, cache) as session:
        start = time.perf_counter()
        sheet, net = build_network(first, cache=cache)
        session.timings["construct_s"] = time.perf_counter() - start
        for k, p in enumerate(points):
            if progress:
                progress(k)
            if k == 0:
                session.run(net, first.total)
                if not session.ran:
                    raise NotRunError(session)
                if p is not first:
                    session.rerun(run_args_for(sheet, p))
            else:
                session.rerun(run_args_for(sheet, p))
            run = collect(sheet, p, {"run_s": session.timings.get("run_s")})
            run.provenance = sheet.provenance()
            if on_result:
                on_result(k, run, session)
    return session


def simulate_on_cluster(points: Sequence[CMSAParams], keys: Sequence[str], client, save_to, *,
                        threads=None, portable: bool = False, ship: bool | None = None,
                        directory=None, cache: bool = True,
                        on_record: Callable[[str, dict], None] | None = None) -> DeviceSession:
    """Compile the network here, then run every point on a Dask cluster.

    Each point runs the compiled binary in a subprocess on a worker, is analysed there
    (:func:`~brianlab.cmsa.protocol.reduce_point`) and saved into ``save_to`` as
    ``<key>.npz`` and ``<key>.json`` (see :func:`brianlab.sweeps.run_points`). The
    build directory stays locked until every point is done.

    Parameters
    ----------
    points : sequence of CMSAParams
        Differing only in ``rp``, ``we``, ``wi``, ``seed``.
    keys : sequence of str
        The points' file names, unique.
    client : distributed.Client
        The cluster (:func:`brianlab.sweeps.connect`).
    save_to : str or Path
        Folder of the points' files.
    threads : int, optional
        OpenMP threads of each point's binary (default: one).
    portable : bool
        Compile without ``-march=native`` (clusters with different CPUs).
    ship : bool, optional
        Send the build to the workers (default: when some do not see it).
    directory, cache
        As :func:`simulate`.
    on_record : callable(key, record), optional
        Called here as each point completes.

    Returns
    -------
    DeviceSession
        Closed; ``describe()`` gives the build.
    """
    from ..sweeps import CompiledNetwork, Point, run_points

    points = list(points)
    first = _check_points(points)
    if len(keys) != len(points):
        raise ValueError(f"{len(keys)} keys for {len(points)} points")
    with _session(first, "cpp_standalone", threads, True, directory, cache,
                  portable) as session:
        start = time.perf_counter()
        sheet, net = build_network(first, cache=cache)
        session.timings["construct_s"] = time.perf_counter() - start
        session.run(net, first.total)
        outputs, checks = recorded_arrays(sheet)
        compiled = CompiledNetwork.from_session(session, outputs, checks)
        provenance = sheet.provenance()
        work = [Point(key, tuple(session.command_line(run_args_for(sheet, p))),
                      {"params": p, "provenance": provenance})
                for key, p in zip(keys, points, strict=True)]
        start = time.perf_counter()
        run_points(compiled, work, reduce_point, save_to=save_to, client=client, ship=ship,
                   on_record=on_record)
        session.timings["sweep_s"] = time.perf_counter() - start
        session.runs = len(work)
    return session
