"""Time per code object of the default CMSA sheet's compiled binary (Brian2's profiling).

Builds the default sheet (150 x 150 E, 75 x 75 I, rp 10 ms: a wave) on cpp_standalone with
``profile=True`` in a temporary directory, runs it once and prints Brian2's profiling
summary as time per step of each code object, with its share of the run loop. The
profiled binary times every code object with a clock call, so its total is a little above
an unprofiled run's.

    python -m benchmarks.profile_cmsa [--threads 2]
"""

from __future__ import annotations

import argparse
import tempfile


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    from brian2 import device, ms, prefs, profiling_summary, set_device

    from brianlab.cmsa import CMSAParams
    from brianlab.cmsa.protocol import build_network

    p = CMSAParams(rp=10 * ms)
    with tempfile.TemporaryDirectory(prefix="profile-cmsa-") as tmp:
        set_device("cpp_standalone", directory=tmp, build_on_run=False)
        prefs.devices.cpp_standalone.openmp_threads = args.threads
        sheet, net = build_network(p)
        net.run(p.total, profile=True)
        device.build(directory=tmp, compile=True, run=True)
        steps = int(round(float(p.total / p.dt)))
        summary = profiling_summary(net)
        total = sum(float(t) for t in summary.times)
        print(f"{steps} steps, {args.threads} threads; run loop total {total:.3f} s "
              f"({total / steps * 1e3:.3f} ms per step)")
        print(f"{'code object':55} {'us/step':>8} {'share':>6}")
        for name, t in zip(summary.names, summary.times, strict=True):
            print(f"{name:55} {float(t) / steps * 1e6:>8.1f} {float(t) / total:>6.1%}")


if __name__ == "__main__":
    main()
