"""Stage 1 of the pipeline: the command's arguments as one checked, frozen ``Request``.

Tier 1 (never imports Brian2): everything here is checked before any file is read. Values
stay text (``("we", "0.03 uS")``): they are converted at plan time, in tier 2, and the
plan stores SI floats (``docs/architecture.md``, "The flow of a command").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ..resources import usable_cores
from ..seeds import check_seed
from ..toolchain import DEVICES, default_device
from .execute import check_cluster
from .grid import check_grid, parse_assignment

__all__ = ["COMMANDS", "Request", "check_resources"]

#: The pipeline's commands.
COMMANDS = ("run", "sweep")


def _pairs(items, what: str) -> tuple[tuple[str, str], ...]:
    pairs = tuple((str(name), str(text)) for name, text in items)
    names = [name for name, _ in pairs]
    for name in names:
        if names.count(name) > 1:
            raise ValueError(f"{what} {name} is given twice: give each name once")
    return pairs


@dataclass(frozen=True)
class Request:
    """What a ``run`` or ``sweep`` command asks for, checked (values stay text).

    Parameters
    ----------
    command : {"run", "sweep"}
    network : str
        A library reference (``"cuba"``, ``"cuba@1"``) or the path of a ``.toml`` file.
    sets : tuple of (str, str)
        ``--set NAME=VALUE``: a run-time parameter or a structure path, and its value as
        text (``("we", "0.03 uS")``, ``("populations.E.size", "800")``).
    grid : tuple of (str, str)
        ``--grid NAME=VALUES``, in axis order: the name and the values' text
        (``("we", "0.01:0.03:0.005 uS")``, read by :func:`~brianlab.pipeline.grid.parse_values`).
    seeds : tuple of int, optional
        Drive seeds (``run``: exactly one), 0 to :data:`brianlab.seeds.MAX_SEED`; None (the
        default): the network file's ``[seeds] drive``, resolved by the planner.
    device : str
        One of :data:`brianlab.toolchain.DEVICES` (default
        :func:`brianlab.toolchain.default_device`).
    threads : int, optional
        OpenMP threads (:func:`check_resources` checks them against this machine).
    out : Path, optional
        The results folder (not part of :meth:`key_arguments`).
    workers, scheduler, scheduler_file : optional
        At most one: a local Dask cluster of that many workers, a scheduler's address, or
        the file a scheduler wrote (``sweep`` on ``cpp_standalone`` only).
    portable, ship_build, build_only, figures : bool
        Compile without ``-march=native``; send the build to every worker; only build;
        draw the figures.

    Raises
    ------
    ValueError
        On construction, with one line naming the argument: an unknown command or device,
        a malformed or too large grid (:mod:`brianlab.pipeline.grid`), a name given twice,
        a seed out of range, a ``run`` with a grid or several seeds, more than one of the
        cluster options, a cluster without compiled points.
    """

    command: Literal["run", "sweep"]
    network: str
    sets: tuple[tuple[str, str], ...] = ()
    grid: tuple[tuple[str, str], ...] = ()
    seeds: tuple[int, ...] | None = None
    device: str = field(default_factory=default_device)
    threads: int | None = None
    out: Path | None = None
    workers: int | None = None
    scheduler: str | None = None
    scheduler_file: Path | None = None
    portable: bool = False
    ship_build: bool = False
    build_only: bool = False
    figures: bool = True

    def __post_init__(self):
        def put(name, value):
            object.__setattr__(self, name, value)

        if self.command not in COMMANDS:
            raise ValueError(f"unknown command {self.command!r}; expected one of "
                             f"{', '.join(COMMANDS)}")
        if not isinstance(self.network, str) or not self.network:
            raise ValueError(f"expected a network name or the path of a .toml file, got "
                             f"{self.network!r}")
        if self.device not in DEVICES:
            raise ValueError(f"--device {self.device}: expected one of {', '.join(DEVICES)}")
        put("sets", _pairs(self.sets, "--set"))
        put("grid", _pairs(self.grid, "--grid"))
        if self.seeds is not None:
            put("seeds", tuple(check_seed(s, "each seed") for s in self.seeds))
        for name in ("out", "scheduler_file"):
            if getattr(self, name) is not None:
                put(name, Path(getattr(self, name)))
        if self.seeds is not None and not self.seeds:
            raise ValueError("no seeds: give at least one")
        count = 1 if self.seeds is None else len(self.seeds)
        if self.command == "run" and (self.grid or count != 1):
            raise ValueError("run takes one point: no --grid and one --seed (use sweep)")
        swept = [name for name, _ in self.grid]
        for name, _ in self.sets:
            if name in swept:
                raise ValueError(f"{name} is given with --set and --grid: give each name once")
        check_grid([parse_assignment(f"{name}={text}") for name, text in self.grid], count)
        cluster = [o for o in ("workers", "scheduler", "scheduler_file")
                   if getattr(self, o) is not None]
        if len(cluster) > 1:
            raise ValueError(f"--{cluster[0].replace('_', '-')} and "
                             f"--{cluster[1].replace('_', '-')}: give at most one")
        if self.workers is not None and (isinstance(self.workers, bool) or
                                         not isinstance(self.workers, int) or self.workers < 1):
            raise ValueError(f"--workers {self.workers}: expected a positive integer")
        check_cluster(self, self.device)

    def key_arguments(self) -> dict:
        """The request as a plan key's arguments.

        Returns
        -------
        dict
            JSON-ready (lists, strings, numbers, booleans, None), every field but ``out``
            (where results go changes no plan), in field order; paths as strings.
        """
        return {"command": self.command, "network": self.network,
                "sets": [list(pair) for pair in self.sets],
                "grid": [list(pair) for pair in self.grid],
                "seeds": None if self.seeds is None else list(self.seeds), "device": self.device, "threads": self.threads,
                "workers": self.workers, "scheduler": self.scheduler,
                "scheduler_file": None if self.scheduler_file is None else str(self.scheduler_file),
                "portable": self.portable, "ship_build": self.ship_build,
                "build_only": self.build_only, "figures": self.figures}


def check_resources(threads: int | None, workers: int | None = None) -> None:
    """Refuse threads and local workers beyond the cores this process may use (more only
    slow the run down: OpenMP threads and single-threaded workers then take turns).

    Parameters
    ----------
    threads : int, optional
        ``--threads``: 0 to :func:`brianlab.resources.usable_cores`.
    workers : int, optional
        ``--workers`` of a local cluster: at most the usable cores.

    Raises
    ------
    ValueError
        Naming the option, the limit and why (``"--threads 9: expected 0 to 8, the cores
        this process may use ..."``).
    """
    cores = usable_cores()
    if threads is not None and not 0 <= threads <= cores:
        raise ValueError(f"--threads {threads}: expected 0 to {cores}, the cores this "
                         f"process may use (os.sched_getaffinity); more OpenMP threads than "
                         f"cores take turns and only slow the run down")
    if workers is not None and workers > cores:
        raise ValueError(f"--workers {workers}: a local cluster runs one single-threaded point "
                         f"per worker process and this process may use {cores} cores "
                         f"(os.sched_getaffinity): give at most {cores}, or start workers on "
                         f"other machines and give --scheduler or --scheduler-file")
