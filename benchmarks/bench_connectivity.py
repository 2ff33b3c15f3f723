"""Time and memory of Gaussian fixed-in-degree connectivity for large E/I sheets.

Prints, per sheet size, the wall time of each pathway and of all four together, the
synapse count, and the peak resident memory; the ratio column compares each size's time
per synapse with the smallest sheet's (measured in the same run).

    python benchmarks/bench_connectivity.py [--sides 150 300 1000] [--k 100]
"""

import argparse
import resource
import time

from brianlab.space import Lattice, course_sigma, fixed_indegree


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def run(side: int, k: int) -> tuple[float, int]:
    e, i = Lattice(side), Lattice(side // 2, float(side))
    sig_e, sig_i = course_sigma(18), course_sigma(400, unit=2.0)
    total, count = 0.0, 0
    for name, src, tgt, sigma in [("E->E", e, e, sig_e), ("E->I", e, i, sig_e),
                                  ("I->E", i, e, sig_i), ("I->I", i, i, sig_i)]:
        start = time.perf_counter()
        conn = fixed_indegree(src, tgt, k, sigma, seed=1)
        took = time.perf_counter() - start
        total += took
        count += len(conn)
        print(f"  {side}x{side} {name}: {len(conn):>11,d} synapses in {took:6.2f} s")
        del conn
    return total, count


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sides", type=int, nargs="+", default=[150, 300, 1000])
    parser.add_argument("--k", type=int, default=100)
    args = parser.parse_args()
    rows = []
    for side in args.sides:
        total, count = run(side, args.k)
        rows.append((side, total, count))
    base = rows[0][1] / rows[0][2]
    print(f"\n{'E side':>7} {'synapses':>13} {'time (s)':>9} {'ns/synapse':>11} {'ratio':>6}")
    for side, total, count in rows:
        per = total / count
        print(f"{side:>7} {count:>13,d} {total:>9.2f} {per * 1e9:>11.1f} {per / base:>6.2f}")
    print(f"peak resident memory: {peak_rss_gib():.2f} GiB")


if __name__ == "__main__":
    main()
