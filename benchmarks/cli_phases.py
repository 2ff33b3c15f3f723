"""Where a cached ``cmsa run`` spends its time inside Python (imports, binary, analysis...).

Runs ``python -m brianlab.cmsa run --rp 10 --no-gif --threads 2`` in this process with
timers around its stages (run the command once first: the build and the command's plan
are then cached, and the command runs without Brian2, see brianlab.cmsa.cached) and
prints seconds per stage. The binary's time is the subprocess that runs it; ``imports``
are the modules the cached command needs (Brian2 is not among them).

    python -m benchmarks.cli_phases
"""

from __future__ import annotations

import subprocess
import tempfile
import time


def main():
    start = time.perf_counter()
    import sys

    import brianlab.cmsa.__main__ as cli
    import brianlab.cmsa.execute as cmsa_execute
    import brianlab.cmsa.report as report
    import brianlab.cmsa.reduce as reduce
    import brianlab.pipeline.builds as builds
    import brianlab.sweeps as sweeps
    imports = time.perf_counter() - start
    spent = {}

    def timed(module, name, label):
        original = getattr(module, name)

        def wrapper(*args, **kwargs):
            t = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                spent[label] = spent.get(label, 0.0) + time.perf_counter() - t
        setattr(module, name, wrapper)

    timed(subprocess, "run", "binary")
    timed(cmsa_execute, "load_plan", "plan lookup")
    timed(builds, "find", "build check (sha256)")
    timed(reduce, "reduce_point", "analysis (Phi)")
    timed(sweeps, "save_point", "saving")
    timed(report, "snapshots", "figures")
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        cli.main(["run", "--rp", "10", "--no-gif", "--threads", "2", "--out", out])
        total = time.perf_counter() - start
    print(f"imports {imports:.2f} s; command {total:.2f} s (Brian2 imported: "
          f"{'brian2' in sys.modules}), of which")
    for label, seconds in spent.items():
        print(f"  {label:26} {seconds:.2f} s")
    print(f"  {'other':26} {total - sum(spent.values()):.2f} s")


if __name__ == "__main__":
    main()
