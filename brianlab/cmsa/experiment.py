"""Run CMSA simulations on a device: build once, rerun each parameter point.

Points may differ only in the parameters a compiled network can change between runs
(``rp``, ``we``, ``wi``, ``seed``); everything else defines the network and must be
the same for all points of one call.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, fields
from pathlib import Path
from typing import Callable, Iterable, Sequence

import brian2

from ..devices import DeviceSession, DirectoryInUse, cache_directory, use_device
from ..errors import NotRunError
from ..networks.sheet import models_provenance
from ..results import atomic_write_text
from ..sweeps import CompiledNetwork
from .cached import (MANIFEST, build_changed, compiled_description, run_built, run_cached,
                     sources_digest)
from .params import CMSAParams
from .protocol import (CMSARun, active_windows, build_network, collect, recorded_arrays,
                       run_args_for, run_variables)
from .reduce import PointSettings

__all__ = ["SWEEPABLE", "simulate", "simulate_compiled", "NotRunError", "MANIFEST"]

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


def _build_directory(first: CMSAParams, device: str, threads, portable: bool = False,
                     lean: bool = False) -> Path:
    """The cache's build directory of the network of ``first`` on ``device`` (a lean
    build, which Brian2 cannot read back, has its own)."""
    key = hashlib.sha256(repr((_structure(first), device, threads) +
                              (("portable",) if portable else ()) +
                              (("lean",) if lean else ())).encode()).hexdigest()
    return cache_directory(f"cmsa-{device}-{key[:16]}")


def _session(first: CMSAParams, device, threads, build_only, directory, cache, portable=False,
             lean=False):
    """The device session, in a build directory keyed by the network when caching."""
    if directory is None and cache and device != "runtime":
        directory = _build_directory(first, device, threads, portable, lean)
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


def _manifest_key(first: CMSAParams, device: str, threads, portable: bool) -> str:
    """What a cached build's manifest must match: the network's structure, the device
    settings, every model file (name@version, sha256), brianlab's own source and Brian2's
    version. Any change builds again."""
    return hashlib.sha256(repr((_structure(first), device, threads, portable,
                                models_provenance(), sources_digest(),
                                brian2.__version__)).encode()).hexdigest()


def _same_folder(a: Path, b: Path) -> bool:
    """Whether two paths name one folder (symbolic links resolved)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def simulate_compiled(points: Sequence[CMSAParams], keys: Sequence[str], save_to, *,
                      client=None, threads=None, portable: bool = False,
                      ship: bool | None = None, cache: bool = True,
                      on_record: Callable[[str, dict], None] | None = None) -> dict:
    """Run the points as the compiled ``cpp_standalone`` binary, here or on a Dask cluster.

    The network is built once, lean (:mod:`brianlab.leanbuild`: the binary writes only
    the spike monitors and the state it checks); with ``cache``, its build directory
    keeps a manifest (``brianlab-cmsa.json``: the result files, the run-time variables,
    the models' provenance), and a later call for the same network, models and brianlab
    runs the binary straight away, without building the network in Python at all. Each
    point runs the binary in a subprocess with a results directory of its process's own,
    is analysed where it ran (:func:`~brianlab.cmsa.reduce.reduce_point`) and saved
    into ``save_to`` as
    ``<key>.npz`` and ``<key>.json`` (see :func:`brianlab.sweeps.run_points`).

    Parameters
    ----------
    points : sequence of CMSAParams
        Differing only in ``rp``, ``we``, ``wi``, ``seed``.
    keys : sequence of str
        The points' file names, unique.
    save_to : str or Path
        Folder of the points' files.
    client : distributed.Client, optional
        The cluster (:func:`brianlab.sweeps.connect`); ``None`` runs the points here.
    threads : int, optional
        OpenMP threads of each point's binary (default: one).
    portable : bool
        Compile without ``-march=native`` (clusters with different CPUs).
    ship : bool, optional
        Send the build to the workers (default: when some do not see it).
    cache : bool
        Build in (and reuse) the brianlab cache; otherwise build in a fresh directory.
    on_record : callable(key, record), optional
        Called here as each point completes.

    Returns
    -------
    dict
        The build and its use: device, directory, threads, portable, whether the cached
        build was reused, timings (``construct_s``, ``build_s``, ``sweep_s``), runs.
    """
    points = list(points)
    first = _check_points(points)
    if len(keys) != len(points):
        raise ValueError(f"{len(keys)} keys for {len(points)} points")
    settings = [PointSettings.of(p) for p in points]
    description = compiled_description(threads, portable, len(points))
    timings = description["timings"]
    key = _manifest_key(first, "cpp_standalone", threads, portable)
    directory = _build_directory(first, "cpp_standalone", threads, portable,
                                 lean=True) if cache else None
    if directory is not None and run_cached(directory, key, keys, settings, save_to, description,
                                            client=client, ship=ship, on_record=on_record):
        return description
    with _session(first, "cpp_standalone", threads, True, None, cache, portable,
                  lean=True) as session:
        # files changed behind the manifest's back (looked at under the directory's lock,
        # so never another process's build in progress): nothing of that build is trusted
        in_cache = directory is not None and _same_folder(session.directory, directory)
        changed = in_cache and build_changed(session.directory)
        start = time.perf_counter()
        sheet, net = build_network(first, cache=cache)
        timings["construct_s"] = time.perf_counter() - start
        (session.directory / MANIFEST).unlink(missing_ok=True)  # never a stale one
        outputs, checks = recorded_arrays(sheet)
        session.run(net, first.total, write_only=[*outputs.values(), *checks.values()],
                    active=active_windows(sheet, first),
                    clean=changed)
        timings["build_s"] = session.timings.get("build_s")
        compiled = CompiledNetwork.from_session(session, outputs, checks)
        variables, provenance = run_variables(sheet, first), sheet.provenance()
        if cache:
            atomic_write_text(session.directory / MANIFEST, json.dumps(
                {"key": key, "compiled": asdict(compiled), "variables": variables,
                 "provenance": provenance}, indent=1) + "\n")
        del sheet, net
        description["directory"] = str(session.directory)
        if cache and in_cache:  # (not a fallback directory)
            description["manifest_key"] = key
        timings["sweep_s"] = run_built(compiled, variables, provenance, keys, settings, save_to,
                                       client=client, ship=ship, on_record=on_record)
        session.ran = True  # (by the binary: a fresh temporary directory is removed)
    return description
