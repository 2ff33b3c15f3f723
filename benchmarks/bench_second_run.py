"""The second run of an unchanged network file against the first (issue 25's target).

``python -m brianlab run NETWORK`` twice, each a fresh process, into an empty cache of its
own: the first plans, generates code and compiles (cpp_standalone); the second finds the
plan and the build by their keys and runs the binary without importing Brian2. Printed
for each: the wall time of the whole command (interpreter start to exit), the binary's
own time (the point's ``sweep.binary_s`` in ``summary.json``), the compilation (the
build's ``build_s``) and the overhead, wall minus binary. The ratio compares the two
runs measured here, one after the other.

    python -m benchmarks.bench_second_run            # cuba@1, full size, 1 s
    python -m benchmarks.bench_second_run cuba --repeat 3 --figures

Target (issue 25): the second run's overhead beyond its binary under 1.5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_OVERHEAD_S = 1.5


def one_run(network: str, cache: Path, out: Path, figures: bool = False) -> dict:
    """Wall time of one ``python -m brianlab run`` and the numbers its summary gives."""
    env = dict(os.environ, BRIANLAB_CACHE=str(cache))
    command = [sys.executable, "-m", "brianlab", "run", network, "--out", str(out)]
    if not figures:
        command.append("--no-figures")
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr}")
    summary = json.loads((out / "summary.json").read_text())
    (record,) = summary["points"].values()
    (build,) = summary["builds"]
    return {"wall_s": wall, "binary_s": record["sweep"]["binary_s"],
            "cached": build["cached"], "build_s": build.get("build_s"),
            "overhead_s": wall - record["sweep"]["binary_s"]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_second_run",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("network", nargs="?", default="cuba")
    parser.add_argument("--repeat", type=int, default=1,
                        help="second runs after the first (the best is compared)")
    parser.add_argument("--figures", action="store_true",
                        help="draw the figures too (raster, rates); default --no-figures")
    args = parser.parse_args(argv)
    if not 1 <= args.repeat <= 20:
        parser.error("--repeat: 1 to 20")
    with tempfile.TemporaryDirectory(prefix="bench-second-run-") as tmp:
        cache = Path(tmp) / "cache"
        first = one_run(args.network, cache, Path(tmp) / "first", args.figures)
        seconds = [one_run(args.network, cache, Path(tmp) / f"second{k}", args.figures)
                   for k in range(args.repeat)]
    if first["cached"] or not all(s["cached"] for s in seconds):
        raise SystemExit("the first run found a build or a second run did not: "
                         "not the comparison this measures")
    second = min(seconds, key=lambda s: s["wall_s"])
    print(f"{args.network}, cpp_standalone, {'with' if args.figures else 'without'} figures, "
          f"best of {args.repeat} second runs, Python {sys.version.split()[0]}")
    print(f"{'run':8} {'wall s':>7} {'binary s':>9} {'compile s':>10} {'overhead s':>11}")
    for name, r in (("first", first), ("second", second)):
        compile_s = f"{r['build_s']:.2f}" if not r["cached"] and r["build_s"] else "-"
        print(f"{name:8} {r['wall_s']:7.2f} {r['binary_s']:9.2f} {compile_s:>10} "
              f"{r['overhead_s']:11.2f}")
    print(f"first / second: {first['wall_s'] / second['wall_s']:.1f}x; second run's overhead "
          f"beyond its binary {second['overhead_s']:.2f} s (target < {TARGET_OVERHEAD_S} s: "
          f"{'met' if second['overhead_s'] < TARGET_OVERHEAD_S else 'NOT met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
