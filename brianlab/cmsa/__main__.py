"""``python -m brianlab.cmsa``: the CMSA experiment from the command line.

Sub-commands: ``run`` (one simulation), ``phases`` (bump, critical and wave side by
side; the default), ``sweep`` (Phi against rp or We over seeds; compiled once,
resumable; ``--grid``: the pipeline's sweep of the ``cmsa_sheet`` network file),
``attention`` (an image stimulus after the spontaneous phase). Results go to one folder
per command (``--out``).

One flow per command: the arguments (:mod:`brianlab.cmsa.arguments`); a ``run`` or
``phases`` command line seen before runs its saved plan on its cached build without
Brian2 (:func:`brianlab.cmsa.execute.run_saved`, then :mod:`brianlab.cmsa.report`);
otherwise the command plans, runs and reports with Brian2 (:mod:`brianlab.cmsa.commands`,
imported only then).
"""

from __future__ import annotations

import sys

from ..cache import CacheError, cache_root
from ..errors import DeviceError, ModelError, Terminated
from ..pipeline.cli import main as pipeline_main
from ..pipeline.execute import BuildMissing, interrupted, say, signals
from ..pipeline.request import check_resources
from ..results import ResultsError
from ..sweeps import SweepError
from .arguments import parser
from .execute import run_saved
from .report import report_planned

#: Commands whose plans are saved (:mod:`brianlab.cmsa.cached`): repeated, they run
#: their cached build without importing Brian2.
PLANNED = ("run", "phases")

#: The errors a command reports in one line (exit 1).
ERRORS = (ResultsError, SweepError, CacheError, DeviceError)


def _run_saved(args) -> int | None:
    """Run and report this command line's saved plan; None when there is none or a build
    of it is gone or changed (the command plans again)."""
    try:
        saved = run_saved(args)
    except BuildMissing:
        return None
    if saved is None:
        return None
    plan, folder, records, info = saved
    return report_planned[plan["command"]](plan, folder, records, info, args)


def main(argv=None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); returns the exit code:
    0, 1 (an error reported in one line), 2 (bad arguments), 3 (points that did not run)
    or that of an interrupt (130 for Ctrl-C, 143 for SIGTERM)."""
    args = parser().parse_args(argv)
    command = args.command or "phases"
    if command == "phases" and not hasattr(args, "seed"):
        args.seed = 0
    if command == "sweep" and args.grid:
        from .commands import grid_request  # (a plan miss: the sheet with Brian2)

        try:
            argv = grid_request(args)
        except (ValueError, ModelError) as exc:
            say(f"error: {exc}", file=sys.stderr)
            return 2
        say("python -m brianlab " + " ".join(argv), file=sys.stderr)
        return pipeline_main(argv)
    with signals():
        try:
            check_resources(args.threads, getattr(args, "workers", None))
            cache_root()  # (a cache that cannot be one fails here, before any work)
            if command in PLANNED:
                code = _run_saved(args)
                if code is not None:
                    return code
            from .commands import COMMANDS  # (a plan miss: the command with Brian2)

            return COMMANDS[command](args)
        except ERRORS as exc:
            say(f"error: {exc}", file=sys.stderr)
            return 1
        except ValueError as exc:
            say(f"error: {exc}", file=sys.stderr)
            return 2
        except (KeyboardInterrupt, Terminated) as exc:
            return interrupted(exc)


if __name__ == "__main__":
    sys.exit(main())
