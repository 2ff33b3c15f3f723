"""Stage 4 of the pipeline on the ``runtime`` device, tier 2: points run in this process
(design of issue 25, 2.5).

Each point is built (:func:`brianlab.networks.builder.build_network` on ``runtime``, its
drive seed as a compiled build would have it), its run-time values set on the Brian2
variables their targets name, and its protocol run; the arrays are read from the monitors
under the names and dtypes a compiled build writes
(:meth:`~brianlab.networks.builder.BuiltNetwork.compile_spec`), then reduced and saved as
:func:`brianlab.pipeline.execute.run` does, so a record does not depend on the device's
path.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from brian2 import Quantity

from ..networks.builder import build_network
from ..sweeps import save_point
from .execute import point_context, stop_if_signalled
from .planner import network_of
from .reductions import resolve

__all__ = ["TARGET", "run"]

#: Code generation target of the runtime device (None: Brian2's default).
TARGET: str | None = None


class _Manifest:
    """What :func:`~brianlab.pipeline.execute.point_context` reads of a build."""

    def __init__(self, key_parts: dict, context: dict, provenance: dict):
        self.key_parts, self.context, self.provenance = key_parts, context, provenance
        self.variables: dict = {}  # nothing given at run time: each point built with its seeds


def _arrays(built, spec) -> dict:
    out = {}
    for name, (brian2_name, dtype) in spec.outputs.items():
        value = built.brian2_variable(brian2_name).get_value()
        out[name] = np.array(value, dtype=np.dtype(dtype))
    return out


def run(plan, spec, points, folder, reduction=None, *, on_record=None) -> dict:
    """Run points of one build in this process on ``runtime``, each saved as it completes.

    Parameters
    ----------
    plan : Plan
    spec : BuildSpec
        One of ``plan.builds``, its device ``runtime``.
    points : sequence of PointSpec
        The points to run (those not done).
    folder : RunFolder or path
        The results folder.
    reduction : ReductionSpec, optional
        Default: the plan's.
    on_record : callable(key, record), optional
        Called as each point completes.

    Returns
    -------
    dict
        Key -> record.
    """
    netfile = network_of(spec)
    reduction = plan.reduction if reduction is None else reduction
    reduce = resolve(reduction.name)
    context = plan.context.get(str(plan.builds.index(spec))) or {}
    key_parts = {"network": {"ref": spec.network.ref, "sha256": spec.network.sha256,
                             "status": spec.network.status}}
    save_to = Path(getattr(folder, "path", folder)) / "points"
    options = {"target": TARGET} if TARGET else {}
    records = {}
    for p in points:
        stop_if_signalled()
        # the drive seed: Brian2's generator's and the hash drive's, as on a compiled build
        with build_network(netfile, device="runtime", drive_seed=p.seed,
                           device_options=options) as built:
            for target, value in p.run_values:
                owner, name = built._owner(target)
                setattr(owner, name, Quantity(value, dim=owner.variables[name].dim))
            compiled_spec = built.compile_spec()
            start = time.perf_counter()
            built.run()
            seconds = time.perf_counter() - start
            arrays = _arrays(built, compiled_spec)
            manifest = _Manifest(key_parts, context, dict(built.provenance))
        start = time.perf_counter()
        arrays, record = reduce(arrays, point_context(p, manifest, reduction))
        record = dict(record)
        record["inprocess"] = {"device": "runtime", "run_s": seconds,
                               "reduce_s": time.perf_counter() - start}
        save_point(save_to, p.key, arrays, record)
        records[p.key] = record
        if on_record is not None:
            on_record(p.key, record)
    return records

