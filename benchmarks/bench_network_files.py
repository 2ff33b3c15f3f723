"""Wall time of a library network file on runtime (Cython) and cpp_standalone.

Builds and runs the file as released (its seeds, its protocol) once per device and
prints the wall time of build + run (compile included: cpp_standalone builds in a fresh
directory; Cython's compiled code is cached in ~/.cython between runs, so run twice to
see the warm time), the mean rate of every recorded population and whether both devices
gave identical spikes.

    python benchmarks/bench_network_files.py [cuba coba cobahh]
"""

import argparse
import time

import numpy as np
from brian2 import prefs

import brianlab as bl


def run(name: str, device: str):
    net = bl.load_network(name)
    start = time.perf_counter()
    built = net.build(device=device)
    try:
        built.run()
        spikes = {pop: tuple(np.asarray(a) for a in built.spikes(pop))
                  for pop in net.monitors.spikes}
    finally:
        built.close()
    return net, spikes, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", default=["cuba", "coba", "cobahh"])
    args = parser.parse_args()
    prefs.codegen.target = "cython"
    for name in args.names:
        results = {device: run(name, device) for device in ("runtime", "cpp_standalone")}
        net, spikes, _ = results["runtime"]
        seconds = float(net.duration)
        rates = ", ".join(f"{pop} {len(t) / (net.populations[pop].size * seconds):.2f} Hz"
                          for pop, (i, t) in spikes.items())
        same = all(np.array_equal(a, b) for pop in spikes
                   for a, b in zip(spikes[pop], results["cpp_standalone"][1][pop]))
        print(f"{net.ref}: runtime (cython) {results['runtime'][2]:.1f} s, cpp_standalone "
              f"{results['cpp_standalone'][2]:.1f} s; {rates}; identical spikes: {same}")


if __name__ == "__main__":
    main()
