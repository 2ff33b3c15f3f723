"""How CMSA build and run time grow with the sheet side (cpp_standalone).

For each E side (I side = half), the default CMSA protocol (30 ms drive + 200 ms) is
built cold in a fresh cache, built again (cached: code regenerated, nothing recompiled),
and run. Ratios are against the smallest side, measured in the same run.

    python benchmarks/bench_cmsa_scaling.py [--sides 50 100 150 300] [--threads 2]
"""

import argparse
import os
import tempfile
import time

from brianlab.cmsa import CMSAParams
from brianlab.cmsa.experiment import simulate


def one(side: int, threads, cache_root: str) -> dict:
    os.environ["BRIANLAB_CACHE"] = cache_root
    p = CMSAParams(e_side=side, i_side=side // 2)
    out = {}
    for label in ("cold", "cached"):
        start = time.perf_counter()
        session = simulate([p], device="cpp_standalone", threads=threads)
        total = time.perf_counter() - start
        t = session.timings
        out[label] = {"total_s": total, "construct_s": t.get("construct_s", 0.0),
                      "build_s": t.get("build_s", 0.0), "run_s": t.get("run_s", 0.0)}
    out["neurons"] = side**2 + (side // 2) ** 2
    out["synapses"] = side**2 * (p.k_e + p.k_i) + (side // 2) ** 2 * (p.k_e + p.k_i)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sides", type=int, nargs="+", default=[50, 100, 150, 300])
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for side in args.sides:
            rows.append((side, one(side, args.threads, os.path.join(tmp, str(side)))))
            r = rows[-1][1]
            print(f"side {side}: cold {r['cold']['total_s']:.1f} s, cached "
                  f"{r['cached']['total_s']:.1f} s, run {r['cold']['run_s']:.1f} s", flush=True)
    base = rows[0][1]
    print(f"\n{'E side':>6} {'neurons':>9} {'synapses':>12} {'cold (s)':>9} {'cached (s)':>10} "
          f"{'run (s)':>8} {'cold x':>7} {'run x':>6}")
    for side, r in rows:
        print(f"{side:>6} {r['neurons']:>9,d} {r['synapses']:>12,d} {r['cold']['total_s']:>9.1f} "
              f"{r['cached']['total_s']:>10.1f} {r['cold']['run_s']:>8.2f} "
              f"{r['cold']['total_s'] / base['cold']['total_s']:>7.2f} "
              f"{r['cold']['run_s'] / base['cold']['run_s']:>6.2f}")


if __name__ == "__main__":
    main()
