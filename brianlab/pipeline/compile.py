"""Stage 3 of the pipeline, tier 2: compile a build that :func:`brianlab.pipeline.builds.find`
did not find (design of issue 25, 2.3).

The network is read again (:func:`brianlab.pipeline.planner.network_of`: its sha256 must
be the plan's), built on the build's device into its cache directory
(``build-<device>-<key[:16]>``) and compiled
(:meth:`~brianlab.networks.builder.BuiltNetwork.compile`, which compiles the drive seed
in; lean on ``cpp_standalone``, whole on ``cuda_standalone``, whose binary runs where a
GPU is). The manifest (:class:`~brianlab.pipeline.builds.Manifest`) holds everything a point
needs without Brian2: the binary's result files, the run-time names, the context of the
reduction and the provenance. A directory whose files changed behind its manifest is
rebuilt from clean; one that another process is building (``DirectoryInUse``) makes this
build go to a fresh directory whose manifest is not cached.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path

from ..errors import CacheError, DirectoryInUse
from ..networks.builder import build_network
from ..results import atomic_write_text
from ..sweeps import CompiledNetwork
from . import builds
from .plan import BuildSpec, Plan, brian2_version
from .planner import context_of, network_of

__all__ = ["compile_build", "compiled_network"]


def compiled_network(session, outputs: dict, checks: dict) -> CompiledNetwork:
    """The :class:`~brianlab.sweeps.CompiledNetwork` of a session's build.

    Parameters
    ----------
    session : DeviceSession
        A standalone session that built its network.
    outputs, checks : dict
        Name -> Brian2 variable
        (:meth:`~brianlab.networks.builder.BuiltNetwork.recorded_arrays`).

    Returns
    -------
    CompiledNetwork
    """
    return CompiledNetwork.from_session(session, outputs, checks)


def _build(netfile, spec: BuildSpec, directory: Path | None):
    options = {"directory": directory, "threads": spec.threads, "build_only": True,
               "portable": spec.portable, "keep": directory is None}
    return build_network(netfile, device=spec.device, drive_seed=spec.compiled_seed,
                         device_options=options)


def compile_build(plan: Plan, spec: BuildSpec) -> builds.Manifest:
    """Compile one build of a plan and write its manifest.

    Parameters
    ----------
    plan : Plan
        The plan (its ``context`` of this build, its reduction's ``t_start``).
    spec : BuildSpec
        One of ``plan.builds``.

    Returns
    -------
    Manifest
        Written to the build directory (``brianlab-build.json``) unless the directory
        was in use and the build went to a fresh one.

    Raises
    ------
    ModelError
        If the network file changed since the plan was made.
    CacheError
        If the build's arrays are not those the plan expects.
    """
    netfile = network_of(spec)
    key = spec.key()
    directory = builds.directory(spec, key)
    try:
        built = _build(netfile, spec, directory)
        cached = True
    except DirectoryInUse:  # another process builds the same network: build elsewhere
        built = _build(netfile, spec, None)
        cached = False
    with built:
        session = built.session
        changed = cached and builds.build_changed(session.directory)
        (Path(session.directory) / builds.MANIFEST).unlink(missing_ok=True)  # never stale
        start = time.perf_counter()
        compiled_spec = built.compile(clean=changed)
        build_s = time.perf_counter() - start
        if set(compiled_spec.outputs) != set(spec.outputs):
            raise CacheError(f"{spec.network.ref}: the build writes {sorted(compiled_spec.outputs)}"
                             f", the plan expects {sorted(spec.outputs)}")
        outputs, checks = built.recorded_arrays(compiled_spec)
        compiled = compiled_network(session, outputs, checks)
        index = plan.builds.index(spec) if spec in plan.builds else None
        context = dict(plan.context.get(str(index)) or context_of(netfile))
        manifest = builds.Manifest(
            key, spec.key_parts(), compiled, dict(compiled_spec.variables), context,
            dict(built.provenance), brian2_version() or "",
            datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), build_s)
        if cached:
            atomic_write_text(Path(session.directory) / builds.MANIFEST, manifest.to_json())
    return manifest
