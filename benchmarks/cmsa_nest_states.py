"""The CMSA states in NEST and in brianlab, side by side (issue 15's comparison).

For each rp and seed: NEST's sheet (``brianlab.cmsa.nest_sheet``, 2 threads, connectivity
seed = seed + 1) and brianlab's (cpp_standalone, the CLI's compiled path), both analysed by
brianlab's spike-frame Phi; prints Phi, patterns, pattern speed and E rate of each.

    python -m benchmarks.cmsa_nest_states [--rp 5,10] [--seeds 0-2]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rp", default="5,10")
    parser.add_argument("--seeds", default="0-2")
    args = parser.parse_args()
    from brian2 import ms

    from brianlab.cmsa import CMSAParams
    from brianlab.pipeline.grid import parse_seeds
    from brianlab.cmsa.nest_sheet import simulate_nest
    from brianlab.cmsa.plan import run_compiled
    from brianlab.cmsa.protocol import analyse

    points = [CMSAParams(rp=float(rp) * ms, seed=s) for rp in args.rp.split(",")
              for s in parse_seeds(args.seeds)]
    keys = [f"rp{p.rp / ms:g}_seed{p.seed}" for p in points]
    with tempfile.TemporaryDirectory() as tmp:
        run_compiled(points, keys, tmp, threads=2)
        ours = {k: json.loads((Path(tmp) / "points" / f"{k}.json").read_text()) for k in keys}
    print(f"{'rp':>4} {'seed':>4} {'simulator':9} {'Phi':>5} {'patterns':>8} {'speed':>6} "
          f"{'E Hz':>5} {'wall s':>6}")
    for p, key in zip(points, keys, strict=True):
        out = simulate_nest(p, threads=2, seed=p.seed + 1)
        run = analyse(p, out["e_i"], out["e_t"] * 1e3, out["i_i"], out["i_t"] * 1e3)
        wall = sum(out["timings"].values())
        for name, phi, rate, seconds in (
                ("NEST", run.phi.as_dict(), run.rate_e, wall),
                ("brianlab", ours[key]["phi"], ours[key]["rate_e_hz"],
                 ours[key]["sweep"]["binary_s"])):
            print(f"{p.rp / ms:>4g} {p.seed:>4} {name:9} {phi['phi']:>5.2f} "
                  f"{phi['mean_patterns']:>8.1f} {phi['mean_speed']:>6.2f} {rate:>5.2f} "
                  f"{seconds:>6.1f}")


if __name__ == "__main__":
    main()
