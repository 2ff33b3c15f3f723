"""The CMSA command's arguments: its parser and the values each option accepts.

Tier 1 (no Brian2): a repeated ``run`` or ``phases`` command is parsed, found in the saved
plans (:mod:`brianlab.cmsa.cached`) and run without Brian2. What the arguments describe,
the sheet as :class:`~brianlab.cmsa.params.CMSAParams`, is made on a plan miss
(:func:`brianlab.cmsa.commands.sheet`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ..pipeline.grid import checked, parse_range, parse_seeds
from ..results import RunFolder
from ..seeds import MAX_HASH_SEED as MAX_SEED
from ..space import SHEET_RULES as RULES
from ..toolchain import DEVICES
from .presets import PHI_VARIANTS, PRESETS

__all__ = ["DESCRIPTION", "GRID_UNITS", "GRID_PATHS", "seeds", "grid_axis", "parser",
           "plan_arguments", "results_folder"]

#: The command's one-line description (``--help``).
DESCRIPTION = "``python -m brianlab.cmsa``: the CMSA experiment from the command line."

#: A finite number (``inf`` and ``nan`` are refused when the arguments are read).
finite_float = checked(float, np.isfinite, "a finite number")
#: One seed from 0 to 2**31 - 1.
seed_value = checked(int, lambda v: 0 <= v <= MAX_SEED, f"a seed from 0 to {MAX_SEED}")

#: ``sweep --grid`` names and the units the command gives them in.
GRID_UNITS = {"rp": "ms", "we": "uS", "wi": "uS"}
#: ``--grid`` names that are structure paths of the network file (no unit): the
#: connectivity seed, a run-time value of the sheet's build (one build for every seed).
GRID_PATHS = {"conn_seed": "seeds.connectivity"}


def seeds(text: str) -> list[int]:
    """``--seeds``: seeds of the sheet's hash drive, 0 to ``MAX_SEED`` (2**31 - 1).

    Parameters
    ----------
    text : str
        ``FIRST-LAST`` (both included) or a comma list.

    Returns
    -------
    list of int
        The seeds (:func:`brianlab.pipeline.grid.parse_seeds`).

    Raises
    ------
    argparse.ArgumentTypeError
        For text that is neither, too many seeds or a seed outside 0 ... ``MAX_SEED``.
    """
    return parse_seeds(text, MAX_SEED)


def grid_axis(text: str) -> tuple[str, str]:
    """``--grid NAME=VALUES``: a name of :data:`GRID_UNITS` or :data:`GRID_PATHS` and
    values ``parse_range`` reads (checked here, passed on as text).

    Parameters
    ----------
    text : str
        ``NAME=VALUES``: NAME one of :data:`GRID_UNITS` or :data:`GRID_PATHS`, VALUES
        ``START:STOP:STEP`` or a comma list, without a unit.

    Returns
    -------
    tuple of (str, str)
        The name and the values' text, stripped.

    Raises
    ------
    argparse.ArgumentTypeError
        For text without ``=``, an unknown name, or values
        :func:`~brianlab.pipeline.grid.parse_range` refuses.
    """
    name, sep, values = text.partition("=")
    if not sep or name.strip() not in {**GRID_UNITS, **GRID_PATHS}:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUES with NAME one of "
                                         f"{', '.join([*GRID_UNITS, *GRID_PATHS])}, "
                                         f"got {text!r}")
    parse_range(values)
    return name.strip(), values.strip()


def parser() -> argparse.ArgumentParser:
    """The command's argument parser: the sub-commands ``run``, ``phases``, ``sweep`` and
    ``attention``, each with the options they share (device, size, preset, values, ...).

    Returns
    -------
    argparse.ArgumentParser
        The top-level parser (``python -m brianlab.cmsa``); the sub-command's name is
        parsed into ``command`` (None when none is given).
    """
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--device", choices=DEVICES, default=None,
                        help="back end (default: cpp_standalone when a C++ compiler works)")
    common.add_argument("--threads", type=int, default=None,
                        help="OpenMP threads (C++); at most the cores this process may use")
    common.add_argument("--build-only", action="store_true",
                        help="generate and compile only (standalone devices)")
    common.add_argument("--out", type=Path, default=None, help="results folder")
    common.add_argument("--size", type=int, default=150,
                        help="E lattice side (I side is half of it); default 150")
    common.add_argument("--preset", choices=PRESETS, default="tuned",
                        help="the parameters to start from: 'tuned' (brianlab's defaults), "
                        "'lab-report' (the CMSA lab report's settings) or 'course' (the "
                        "course starter's); options below change single values")
    common.add_argument("--rule", choices=RULES, default=None,
                        help="connectivity of every pathway (default fixed_indegree; kernel "
                        "is the dense Gaussian: all pairs, much more memory)")
    common.add_argument("--phi", choices=PHI_VARIANTS, default="spikes",
                        help="Phi from smoothed spike-count frames (default) or, as the lab "
                        "report, from the E voltages of the last 100 time steps")
    common.add_argument("--duration", type=finite_float, default=None,
                        help="spontaneous activity after the drive (ms; default: the "
                        "preset's, 400 when tuned)")
    common.add_argument("--we", type=finite_float, default=None,
                        help="AMPA g_max (uS; default: the preset's, 0.02 when tuned)")
    common.add_argument("--wi", type=finite_float, default=None,
                        help="GABA g_max (uS; default: the preset's, 0.01 when tuned)")
    common.add_argument("--ke", type=int, default=None, help="in-degree from E (default 200)")
    common.add_argument("--ki", type=int, default=None, help="in-degree from I (default 400)")
    common.add_argument("--no-gif", action="store_true", help="skip the animated GIFs")

    top = argparse.ArgumentParser(prog="python -m brianlab.cmsa", description=DESCRIPTION,
                                  parents=[common])
    sub = top.add_subparsers(dest="command", metavar="COMMAND")
    run = sub.add_parser("run", parents=[common], help="one simulation")
    run.add_argument("--rp", type=finite_float, default=5.0, help="refractory period (ms)")
    run.add_argument("--seed", type=seed_value, default=0, help="seed of the random drive")
    phases = sub.add_parser("phases", parents=[common],
                            help="bump (rp 5), critical (6.5) and wave (10) side by side")
    phases.add_argument("--seed", type=seed_value, default=0)
    sweep = sub.add_parser("sweep", parents=[common], help="Phi against rp or We over seeds")
    sweep.add_argument("--grid", type=grid_axis, action="append", default=[],
                       metavar="NAME=VALUES",
                       help="an axis of rp (ms), we or wi (uS) or conn_seed (the "
                       "connectivity seed: one build for all): START:STOP:STEP or a comma "
                       "list; repeatable (two axes: the phase diagram). Runs the pipeline's "
                       "sweep of the cmsa_sheet network file (python -m brianlab sweep) "
                       "instead of --param/--values")
    sweep.add_argument("--param", choices=("rp", "we"), default="rp")
    sweep.add_argument("--values", type=parse_range, default=None,
                       help="START:STOP:STEP or a comma list (default rp 5:12.5:0.5)")
    sweep.add_argument("--seeds", type=seeds, default=[0, 1, 2, 3, 4],
                       help="FIRST-LAST or a comma list (default 0-4)")
    sweep.add_argument("--rp", type=finite_float, default=6.5, help="fixed rp for a We sweep (ms)")
    cluster = sweep.add_argument_group(
        "Dask cluster", "run the points as the compiled binary on Dask workers (needs the "
        "'dask' extra); by default the points run one after the other in this process")
    where = cluster.add_mutually_exclusive_group()
    where.add_argument("--workers", type=checked(int, lambda v: v >= 1, "a positive integer"),
                       default=None, metavar="N",
                       help="start a local cluster of N single-threaded worker processes (at "
                       "most the cores this process may use)")
    where.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="connect to a running scheduler (tcp://host:8786); implies "
                       "--portable")
    where.add_argument("--scheduler-file", type=Path, default=None, metavar="FILE",
                       help="connect to the scheduler that wrote FILE (dask scheduler "
                       "--scheduler-file); implies --portable")
    cluster.add_argument("--portable", action="store_true",
                         help="compile without -march=native (workers with other CPUs)")
    cluster.add_argument("--ship-build", action="store_true",
                         help="send the build to every worker as an archive (default: only "
                         "to workers that do not see the build directory)")
    attention = sub.add_parser("attention", parents=[common],
                               help="an image stimulus after the spontaneous phase, per state")
    attention.add_argument("--seeds", type=seeds, default=[0, 1, 2])
    attention.add_argument("--image", default="cross",
                           help="'cross' (built in) or the path of an image file (PNG)")
    attention.add_argument("--amplitude", type=finite_float, default=5.0,
                           help="stimulus current at full image intensity (nA; default 5, the lab "
                           "report's input_amp; the rheobase is 1 nA)")
    attention.add_argument("--stimulus-duration", type=finite_float, default=100.0, help="(ms)")
    return top


def plan_arguments(args) -> dict:
    """The parsed command line as a plan's key: JSON-ready, without ``--out``.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.

    Returns
    -------
    dict
        Option name -> value, in name order; paths as strings.
    """
    return {name: str(value) if isinstance(value, Path) else value
            for name, value in sorted(vars(args).items()) if name != "out"}


def results_folder(args, default: str, configuration: dict) -> RunFolder:
    """The command's results folder (``--out``, or ``brianlab_out/<default>``), claimed
    for ``configuration`` (a folder holds one configuration).

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line (its ``out``).
    default : str
        The folder's name under ``brianlab_out`` when ``--out`` is not given.
    configuration : dict
        What the folder's results are of (:func:`brianlab.cmsa.commands.open_folder`).

    Returns
    -------
    RunFolder

    Raises
    ------
    ResultsError
        If the folder cannot be created or written, or holds another configuration (the
        message suggests another ``--out``).
    """
    return RunFolder(args.out or Path("brianlab_out") / default, configuration,
                     hint="give another --out")
