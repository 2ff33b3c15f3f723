"""``bl.run`` and ``bl.sweep``: the pipeline from Python (design of issue 25, 3).

Tier 1: both make a :class:`~brianlab.pipeline.request.Request` and call
:func:`brianlab.pipeline.flow.carry_out`; without ``out`` the results go under the cache
(``<cache>/runs/<plan key[:16]>/``), so a notebook leaves nothing in its folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from ..cache import cache_root
from ..errors import DeviceError
from . import flow, plans
from .grid import parse_seeds
from .plan import Axis
from .request import Request

__all__ = ["PointResult", "SweepResult", "run", "sweep"]


@dataclass
class PointResult:
    """One point's result.

    Parameters
    ----------
    key : str
        The point's file name.
    record : dict
        Its record (``statistics``: population -> statistics).
    folder : Path
        The results folder.
    """

    key: str
    record: dict
    folder: Path

    def arrays(self) -> dict:
        """The point's saved arrays (``E_i``, ``E_t``, ``E_rate``, ...).

        Returns
        -------
        dict of str to numpy.ndarray
        """
        with np.load(self.folder / "points" / f"{self.key}.npz") as data:
            return {name: data[name] for name in data.files}


@dataclass
class SweepResult:
    """A sweep's results.

    Parameters
    ----------
    records : dict
        Point key -> record.
    folder : Path
    axes : tuple of Axis
    summary : dict
        ``summary.json``'s content.
    """

    records: dict
    folder: Path
    axes: tuple[Axis, ...]
    summary: dict

    def table(self, statistic: str, population: str) -> np.ndarray:
        """A statistic of a population over the axes and seeds.

        Parameters
        ----------
        statistic : str
            ``"rate"``, ``"cv"``, ...
        population : str

        Returns
        -------
        numpy.ndarray
            Shape ``[len(axis) for axis in axes] + [seeds]``; NaN where missing.

        Raises
        ------
        KeyError
            For a statistic no point has (the message lists those there are).
        """
        tables = self.summary.get("table") or {}
        name = f"{population}.{statistic}"
        if name not in tables:
            raise KeyError(f"no {name!r}; the table has {', '.join(sorted(tables))}")
        return np.array(tables[name], dtype=float)


def _text(value) -> str:
    """A value as text: strings as they are, Quantities and numbers through ``str``."""
    return value if isinstance(value, str) else str(value)


def _network(network) -> str:
    if isinstance(network, (str, os.PathLike)):
        return os.fspath(network)
    path, status = getattr(network, "path", None), getattr(network, "status", "file")
    if status != "file" and getattr(network, "ref", None):
        return network.ref
    if path:
        return os.fspath(path)
    raise ValueError(f"{network!r}: give a network name, a .toml path or a NetworkFile read "
                     "from a file")


def _grid_text(values) -> str:
    if isinstance(values, str):
        return values
    return ",".join(repr(float(v)) if not isinstance(v, int) else str(v) for v in values)


def _carry_out(request: Request, out):
    if out is None:
        key = plans.plan_key(request.key_arguments(),
                             network_file=flow.network_file_digest(request))
        out = cache_root() / "runs" / key[:16]
    outcome = flow.carry_out(replace(request, out=Path(out)), say=lambda *a, **k: None)
    if outcome.not_run:  # a CUDA build on a machine without a GPU
        raise DeviceError(outcome.not_run)
    return outcome


def run(network, *, values: Mapping = {}, seed: int | None = None, device: str | None = None,
        threads: int | None = None, out=None, figures: bool = False) -> PointResult:
    """Run a network file once on a cached build.

    Parameters
    ----------
    network : str, path or NetworkFile
        ``"cuba"``, ``"cuba@1"``, or a ``.toml`` file.
    values : mapping
        Run-time parameter or structure path -> value (text, number or Quantity).
    seed : int, optional
        Drive seed (default: the file's ``[seeds] drive``).
    device : str, optional
        Default :func:`brianlab.toolchain.default_device`.
    threads : int, optional
    out : str or path, optional
        Results folder (default: under the cache).
    figures : bool

    Returns
    -------
    PointResult

    Raises
    ------
    ModelError, ValueError
        For wrong arguments (nothing ran).
    DeviceError
        For ``cuda_standalone`` on a machine without a GPU (the build is made, the
        message names its folder).
    """
    options = {} if device is None else {"device": device}
    request = Request("run", _network(network), sets=tuple((k, _text(v)) for k, v in
                                                           values.items()),
                      seeds=None if seed is None else (seed,), threads=threads, figures=figures,
                      **options)
    outcome = _carry_out(request, out)
    point = outcome.plan.points[0]
    return PointResult(point.key, outcome.records[point.key], outcome.folder)


def sweep(network, grid: Mapping[str, str | Sequence], *, values: Mapping = {},
          seeds: Sequence[int] | str | None = None, device: str | None = None,
          threads: int | None = None, workers: int | None = None, scheduler: str | None = None,
          scheduler_file=None, out=None, figures: bool = False) -> SweepResult:
    """Sweep a network file over a grid of values (one build per structure).

    Parameters
    ----------
    network : str, path or NetworkFile
    grid : mapping
        Name -> ``"START:STOP:STEP[ UNIT]"``, ``"V1,V2[ UNIT]"`` or a sequence of numbers.
    values : mapping
        Values set for every point.
    seeds : sequence of int or str, optional
        ``(0, 1)`` or ``"0-4"`` (default: the file's ``[seeds] drive``).
    device, threads, workers, scheduler, scheduler_file, out, figures
        As the command line.

    Returns
    -------
    SweepResult

    Raises
    ------
    ModelError, ValueError
        For wrong arguments (nothing ran).
    DeviceError
        For ``cuda_standalone`` on a machine without a GPU (the builds are made).
    """
    options = {} if device is None else {"device": device}
    if seeds is not None:
        seeds = tuple(parse_seeds(seeds) if isinstance(seeds, str) else seeds)
    request = Request("sweep", _network(network),
                      sets=tuple((k, _text(v)) for k, v in values.items()),
                      grid=tuple((k, _grid_text(v)) for k, v in grid.items()),
                      seeds=seeds, threads=threads, workers=workers,
                      scheduler=scheduler, scheduler_file=scheduler_file, figures=figures,
                      **options)
    outcome = _carry_out(request, out)
    return SweepResult(outcome.records, outcome.folder, outcome.plan.axes, outcome.summary)
