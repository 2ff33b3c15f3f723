"""Run CMSA simulations through Brian2 on a device: build once, rerun each parameter point.

The Python API's loop (Brian2's ``run_args`` reruns, results read by Brian2), and the
independent reference the tests compare the command with: ``python -m brianlab.cmsa``
runs its points on the pipeline on every device (:mod:`brianlab.cmsa.plan`).
Points may differ only in the parameters a compiled network can change between runs
(``rp``, ``we``, ``wi``, ``seed``); everything else defines the network and must be
the same for all points of one call.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import fields
from pathlib import Path
from typing import Callable, Iterable

from ..devices import DeviceSession, DirectoryInUse, cache_directory, use_device
from ..errors import NotRunError
from .params import CMSAParams
from .protocol import CMSARun, active_windows, build_network, collect, run_args_for

__all__ = ["SWEEPABLE", "simulate", "NotRunError"]

#: Parameters that change between runs of one compiled network (``run_args``).
SWEEPABLE = ("rp", "we", "wi", "seed")


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


def _build_directory(first: CMSAParams, device: str, threads) -> Path:
    """The cache's build directory of the network of ``first`` on ``device`` (Brian2's
    own build, which :func:`simulate` reruns; the command's compiled path keeps the
    pipeline's builds, :func:`brianlab.cmsa.plan.make_plan`)."""
    key = hashlib.sha256(repr((_structure(first), device, threads)).encode()).hexdigest()
    return cache_directory(f"cmsa-{device}-{key[:16]}")


def _session(first: CMSAParams, device, threads, build_only, directory, cache):
    """The device session, in a build directory keyed by the network when caching."""
    if directory is None and cache and device != "runtime":
        directory = _build_directory(first, device, threads)
    try:
        return use_device(device, directory=directory, threads=threads,
                          build_only=build_only, quiet=True)
    except DirectoryInUse:  # another run builds the same network: build elsewhere
        return use_device(device, directory=None, threads=threads, build_only=build_only,
                          quiet=True)


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
                session.run(net, first.total, active=active_windows(sheet, first))
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
