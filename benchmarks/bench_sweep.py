"""The rp sweep of the default sheet: Brian2's rerun loop, the binary per point, Dask.

The default CMSA sheet (150 x 150 E, 75 x 75 I, fixed in-degree 200/400, 30 ms drive +
400 ms, dt 0.1 ms) is compiled once (not timed); then the same points (default: rp
5:12.5:0.5 x seeds 0-2 = 48) run

- in this process, Brian2's way: Brian2 reruns the compiled binary with ``run_args``, the
  monitors are read and analysed here and each point is saved;
- in this process, the compiled binary per point (``cmsa sweep`` by default): the binary
  in a subprocess (a results directory per process), read, analysed and saved, no Brian2
  objects involved;
- on a LocalCluster of 1 and of 2 single-threaded workers: each point is the binary in
  a subprocess (a results directory per worker), analysed and saved on the worker
  (``cmsa sweep --workers N``); the cluster's start is timed separately.

Every configuration writes into its own folder, and all must give identical Phi (checked).
Printed: wall time, time per point, ratios to Brian2's rerun loop, the Dask overhead per
point (1 worker against the binary per point in this process), and what 64 workers would take for 1000 points if
points scale as measured (no shared-filesystem contention assumed).

    python -m benchmarks.bench_sweep [--values 5:12.5:0.5] [--seeds 0-2] [--workers 1 2]
"""

import argparse
import json
import math
import os
import tempfile
import time
from pathlib import Path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--values", default="5:12.5:0.5", help="rp values (ms)")
    parser.add_argument("--seeds", default="0-2")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--size", type=int, default=150)
    args = parser.parse_args()

    from brian2 import ms

    from brianlab.cmsa import CMSAParams
    from brianlab.pipeline.grid import parse_range, parse_seeds
    from brianlab.cmsa.experiment import simulate
    from brianlab.cmsa.plan import run_compiled
    from brianlab.cmsa.protocol import point_outputs
    from brianlab.results import RunFolder
    from brianlab.sweeps import connect

    base = CMSAParams(e_side=args.size, i_side=args.size // 2, duration=400 * ms,
                      analysis=100 * ms)
    points = [base.with_(rp=v * ms, seed=s) for v in parse_range(args.values)
              for s in parse_seeds(args.seeds)]
    keys = [f"p{k:04d}" for k in range(len(points))]
    n = len(points)
    print(f"{n} points, E side {args.size}, {os.cpu_count()} CPUs", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        tmp = Path(tmp)
        start = time.perf_counter()
        simulate(points[:1], device="cpp_standalone")  # compile (and warm the cache)
        print(f"build and first point: {time.perf_counter() - start:.1f} s", flush=True)

        phis = {}
        folder = RunFolder(tmp / "in_process")

        def save(k, run, session):
            arrays, record = point_outputs(run)
            folder.save_arrays(keys[k], **arrays)
            folder.save_json(keys[k], record)
            phis.setdefault("in-process", {})[keys[k]] = record["phi"]["phi"]

        start = time.perf_counter()
        simulate(points, device="cpp_standalone", on_result=save)
        loop = time.perf_counter() - start
        rows = [("Brian2 rerun loop", None, loop)]
        print(f"Brian2 rerun loop: {loop:.1f} s ({loop / n:.2f} s per point)", flush=True)
        def on_record(label):
            return lambda key, record: phis.setdefault(label, {}).__setitem__(
                key, record["phi"]["phi"])

        label = "binary per point"
        start = time.perf_counter()
        run_compiled(points, keys, tmp / "compiled", on_record=on_record(label))
        wall = time.perf_counter() - start
        rows.append((label, None, wall))
        print(f"{label} (this process): {wall:.1f} s ({wall / n:.2f} s per point)", flush=True)
        for workers in args.workers:
            label = f"Dask, {workers} worker{'s' if workers > 1 else ''}"
            start = time.perf_counter()
            with connect(workers=workers) as client:
                started = time.perf_counter() - start
                start = time.perf_counter()
                run_compiled(points, keys, tmp / f"dask{workers}", client=client,
                             on_record=on_record(label))
                wall = time.perf_counter() - start
            rows.append((label, started, wall))
            print(f"{label}: cluster start {started:.1f} s, sweep {wall:.1f} s "
                  f"({wall / n:.2f} s per point)", flush=True)
        reference = phis.pop("in-process")
        for label, values in phis.items():
            if values != reference:
                raise SystemExit(f"{label}: Phi differs from Brian2's rerun loop")
        records = [json.loads(p.read_text()) for p in (tmp / "dask1").glob("*.json")] \
            if 1 in args.workers else []

    print(f"\n{'configuration':<18} {'start s':>8} {'sweep s':>8} {'s/point':>8} "
          f"{'x loop':>7} {'speed-up':>9}")
    for label, started, wall in rows:
        print(f"{label:<18} {'' if started is None else f'{started:.1f}':>8} {wall:>8.1f} "
              f"{wall / n:>8.2f} {wall / loop:>7.2f} {loop / wall:>9.2f}")
    print("identical Phi in every configuration: yes")
    if records:
        one = next(wall for label, _, wall in rows if label == "Dask, 1 worker")
        binary = sum(r["sweep"]["binary_s"] for r in records) / len(records)
        reduce = sum(r["sweep"]["reduce_s"] for r in records) / len(records)
        here = next(wall for label, _, wall in rows if label == "binary per point")
        print(f"Dask overhead per point (1 worker - binary per point here): "
              f"{(one - here) / n * 1e3:+.0f} ms; against Brian2's loop: "
              f"{(one - loop) / n * 1e3:+.0f} ms (on the worker per point: binary "
              f"{binary:.2f} s, analysis {reduce:.2f} s)")
        per_point = one / n
        rounds = math.ceil(1000 / 64)
        print(f"1000 points on 64 workers: {rounds} rounds x {per_point:.2f} s = "
              f"{rounds * per_point / 60:.1f} min (+ build and cluster start), against "
              f"{1000 * per_point / 60:.0f} min on one worker")


if __name__ == "__main__":
    main()
