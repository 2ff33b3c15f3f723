"""Run CMSA simulations on a device: build once, rerun each parameter point.

Points may differ only in the parameters a compiled network can change between runs
(``rp``, ``we``, ``wi``, ``seed``); everything else defines the network and must be
the same for all points of one call.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import fields
from typing import Callable, Iterable

from ..devices import DeviceSession, DirectoryInUse, cache_directory, use_device
from .params import CMSAParams
from .protocol import CMSARun, build_network, collect, run_args_for

__all__ = ["SWEEPABLE", "simulate", "NotRunError"]

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
    if not points:
        raise ValueError("no parameter points to simulate")
    first = points[0]
    for p in points[1:]:
        if _structure(p) != _structure(first):
            diff = [name for (name, a), (_, b) in zip(_structure(first), _structure(p),
                                                       strict=True) if a != b]
            raise ValueError("points of one call may differ only in "
                             f"{', '.join(SWEEPABLE)}; these differ: {', '.join(diff)}")
    if directory is None and cache and device != "runtime":
        key = hashlib.sha256(repr((_structure(first), device, threads)).encode()).hexdigest()
        directory = cache_directory(f"cmsa-{device}-{key[:16]}")
    try:
        session = use_device(device, directory=directory, threads=threads,
                             build_only=build_only, quiet=True)
    except DirectoryInUse:  # another run builds the same network: build elsewhere
        session = use_device(device, directory=None, threads=threads, build_only=build_only,
                             quiet=True)
    with session:
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
