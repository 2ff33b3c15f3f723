"""``python -m brianlab run|sweep NETWORK ...``: the pipeline's command line (design of issue
25, 3).

Tier 1: the arguments become a :class:`~brianlab.pipeline.request.Request` (checked before
any file is read), :func:`brianlab.pipeline.flow.carry_out` does the rest, and the lines
printed come from the records. Exit status: 0 done; 1 a runtime error (results folder,
a point, the cache, the device); 2 a wrong argument (one line: an unknown parameter, a
bad grid, too many points, a structure path the file does not have, a value its checks
refuse); 3 built but not run (``--build-only``, or ``cuda_standalone`` without a GPU);
130/143 interrupted (completed points
are saved: the same command resumes).
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from ..errors import CacheError, DeviceError, ResultsError, SweepError, Terminated
from ..store import add_model_path
from ..toolchain import DEVICES
from . import execute, flow
from .grid import checked, parse_seeds
from .request import Request, check_resources

__all__ = ["add_commands", "main", "run_command", "report"]

#: Most points whose line a command prints (the rest are in ``summary.json``).
MAX_LINES = 20


def _assignment(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip() or not value.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name.strip(), value.strip()


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("network", metavar="NETWORK",
                        help="a library network (cuba, cuba@1) or the path of a .toml file")
    parser.add_argument("--set", dest="sets", action="append", type=_assignment, default=[],
                        metavar="NAME=VALUE",
                        help="a run-time parameter (we=0.03uS) or a structure path "
                             "(populations.E.size=800); repeatable")
    parser.add_argument("--device", choices=DEVICES, default=None,
                        help="default: cpp_standalone when a C++ compiler works")
    parser.add_argument("--threads", type=checked(int, lambda n: n >= 0, "an integer >= 0"),
                        default=None, help="OpenMP threads of the binary")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="results folder (default brianlab_out/<network>_<command>)")
    parser.add_argument("--models", action="append", type=Path, default=[], metavar="DIR",
                        help="a further models folder searched for model references")
    parser.add_argument("--build-only", action="store_true", help="build, do not run (exit 3)")
    parser.add_argument("--no-figures", dest="figures", action="store_false",
                        help="draw no figures")


def add_commands(sub) -> None:
    """Add ``run`` and ``sweep`` to ``python -m brianlab``'s subcommands.

    Parameters
    ----------
    sub : argparse subparsers action
    """
    run = sub.add_parser("run", help="run a network file once (cached build)",
                         description="Run a network file once on a cached build.")
    _common(run)
    run.add_argument("--seed", type=checked(int, lambda n: n >= 0, "a seed >= 0"), default=None,
                     help="drive seed (default: the file's [seeds] drive)")
    sweep = sub.add_parser("sweep", help="sweep a network file over a grid of values",
                           description="Sweep a network file over a grid of values "
                                       "(one build per structure; the connectivity seed "
                                       "is a run-time value where the binary draws every "
                                       "connection).")
    _common(sweep)
    sweep.add_argument("--grid", action="append", type=_assignment, default=[], required=True,
                       metavar="NAME=VALUES",
                       help="START:STOP:STEP[ UNIT] or V1,V2,...[ UNIT]; repeatable (axes)")
    sweep.add_argument("--seeds", default=None, metavar="SEEDS",
                       help="FIRST-LAST or a comma list (default: the file's [seeds] drive)")
    cluster = sweep.add_mutually_exclusive_group()
    cluster.add_argument("--workers", type=checked(int, lambda n: n >= 1, "an integer >= 1"),
                         default=None, help="a local Dask cluster of N workers")
    cluster.add_argument("--scheduler", default=None, metavar="ADDRESS")
    cluster.add_argument("--scheduler-file", type=Path, default=None, metavar="FILE")
    sweep.add_argument("--portable", action="store_true",
                       help="compile without -march=native")
    sweep.add_argument("--ship-build", action="store_true", help="send the build to every worker")


def _request(args) -> Request:
    if args.command == "run":
        seeds = None if args.seed is None else (args.seed,)
    else:
        seeds = None if args.seeds is None else tuple(parse_seeds(args.seeds))
    options = {} if args.device is None else {"device": args.device}
    return Request(command=args.command, network=args.network, sets=tuple(args.sets),
                   grid=tuple(getattr(args, "grid", ()) or ()), seeds=seeds,
                   threads=args.threads, out=args.out,
                   workers=getattr(args, "workers", None),
                   scheduler=getattr(args, "scheduler", None),
                   scheduler_file=getattr(args, "scheduler_file", None),
                   portable=getattr(args, "portable", False),
                   ship_build=getattr(args, "ship_build", False),
                   build_only=args.build_only, figures=args.figures, **options)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def _rates(record: dict) -> str:
    parts = []
    for pop, stats in sorted((record.get("statistics") or {}).items()):
        rate = stats.get("rate")
        parts.append(f"{pop} {rate:.3g} Hz" if isinstance(rate, (int, float)) and
                     math.isfinite(rate) else f"{pop} -")
    return ", ".join(parts) or "no population statistics"


def report(outcome: flow.Outcome, say=execute.say) -> None:
    """Print a command's lines from its records: each point's rates, the builds, the folder.

    Parameters
    ----------
    outcome : Outcome
    say : callable
    """
    plan = outcome.plan
    for point in plan.points[:MAX_LINES]:
        record = outcome.records.get(point.key)
        say(f"{point.title}: {_rates(record) if record else 'not run'}")
    if len(plan.points) > MAX_LINES:
        say(f"... {len(plan.points) - MAX_LINES} more points in summary.json")
    for m in outcome.manifests:
        how = "cached" if outcome.cached.get(m.key) else f"compiled in {m.build_s:.1f} s"
        say(f"build {m.compiled.directory} ({how})")
    say(f"{sum(p.key in outcome.records for p in plan.points)} of {len(plan.points)} points "
        f"saved in {outcome.folder}")


def run_command(args) -> int:
    """Carry out a parsed ``run`` or ``sweep`` command line.

    Parameters
    ----------
    args : argparse.Namespace
        From :func:`add_commands`' parsers.

    Returns
    -------
    int
        The exit status (see the module's description).
    """
    try:
        for folder in args.models:
            add_model_path(folder)
        request = _request(args)
        check_resources(request.threads, request.workers)
        outcome = flow.carry_out(request)
    except (KeyboardInterrupt, Terminated) as exc:
        return execute.interrupted(exc)
    except (ResultsError, SweepError, CacheError, DeviceError) as exc:
        execute.say(f"error: {exc}", file=sys.stderr)
        return 1
    except (ValueError, argparse.ArgumentTypeError) as exc:  # ModelError, PlanError: arguments
        execute.say(f"error: {_one_line(exc)}", file=sys.stderr)
        return 2
    if outcome.not_run:  # --build-only, or a CUDA build without a GPU
        execute.say(outcome.not_run)
        return 3
    report(outcome)
    return 0


def main(argv: list[str] | None = None) -> int:
    """``run`` and ``sweep`` alone (``python -m brianlab`` adds ``models``).

    Parameters
    ----------
    argv : list of str, optional

    Returns
    -------
    int
    """
    parser = argparse.ArgumentParser(prog="python -m brianlab")
    add_commands(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    return run_command(parser.parse_args(argv))
