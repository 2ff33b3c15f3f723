"""How CMSA build and run time grow with the sheet side (cpp_standalone).

For each E side (I side = half) the default protocol (30 ms drive + 200 ms) is built
cold in an empty build cache, then built again in a new process (cached: code
regenerated, only changed files recompiled), and run. Each build runs in its own
process, as a user's would; "wall" includes Python's start and imports. Ratios are
against the smallest side, measured in the same run.

    python -m benchmarks.bench_cmsa_scaling [--sides 50 100 150 300 600] [--threads 2]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

CHILD = """
import json, sys, time
from brian2 import ms
from brianlab.cmsa import CMSAParams
from brianlab.cmsa.experiment import simulate
side, threads = int(sys.argv[1]), (None if sys.argv[2] == 'none' else int(sys.argv[2]))
p = CMSAParams(e_side=side, i_side=side // 2, duration=200 * ms)
start = time.perf_counter()
session = simulate([p], device='cpp_standalone', threads=threads)
timings = dict(session.timings, inside_s=time.perf_counter() - start)
print('RESULT ' + json.dumps(timings))
"""


def build(side: int, threads, cache: str) -> dict:
    env = dict(os.environ, BRIANLAB_CACHE=cache)
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", CHILD, str(side), str(threads).lower()],
                         capture_output=True, text=True, env=env, check=True)
    wall = time.perf_counter() - start
    line = next(x for x in out.stdout.splitlines() if x.startswith("RESULT "))
    return dict(json.loads(line[7:]), wall_s=wall)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sides", type=int, nargs="+", default=[50, 100, 150, 300])
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for side in args.sides:
            cache = os.path.join(tmp, str(side))
            cold, cached = build(side, args.threads, cache), build(side, args.threads, cache)
            rows.append((side, cold, cached))
            print(f"side {side}: cold {cold['wall_s']:.1f} s, cached {cached['wall_s']:.1f} s "
                  f"(build {cold['build_s']:.1f} -> {cached['build_s']:.1f} s), run "
                  f"{cold['run_s']:.2f} s", flush=True)
    base_cold, base_run = rows[0][1]["inside_s"], rows[0][1]["run_s"]
    print(f"\n{'E side':>6} {'neurons':>9} {'synapses':>12} {'construct':>9} {'build':>7} "
          f"{'run':>6} {'cold':>6} {'cached':>7} {'cached wall':>11} {'cold x':>7} {'run x':>6}")
    for side, cold, cached in rows:
        neurons = side**2 + (side // 2) ** 2
        synapses = neurons * 600
        print(f"{side:>6} {neurons:>9,d} {synapses:>12,d} {cold['construct_s']:>9.1f} "
              f"{cold['build_s']:>7.1f} {cold['run_s']:>6.2f} {cold['inside_s']:>6.1f} "
              f"{cached['inside_s']:>7.1f} {cached['wall_s']:>11.1f} "
              f"{cold['inside_s'] / base_cold:>7.2f} {cold['run_s'] / base_run:>6.2f}")
    print("(seconds; cold/cached: construct + build + run inside Python; wall adds start-up)")


if __name__ == "__main__":
    main()
