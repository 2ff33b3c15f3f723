"""Wall time of a library network file on runtime (Cython) and cpp_standalone.

Builds and runs the file as released (its seeds, its protocol) once per device and
prints the wall time of build + run (compile included: cpp_standalone builds in a fresh
directory; Cython's compiled code is cached in ~/.cython between runs, so run twice to
see the warm time), the mean rate of every recorded population and whether both devices
gave identical spikes.

    python benchmarks/bench_network_files.py [cuba coba cobahh brunel2000 vogels2011]
        [--duration SECONDS] [--devices runtime cpp_standalone]

``--duration`` cuts the protocol to its first SECONDS (later phases shortened or dropped),
for networks whose whole protocol takes long on the runtime device (vogels2011: 6 s).
"""

import argparse
import dataclasses
import time

import numpy as np
from brian2 import prefs, second

import brianlab as bl


def cut(net, seconds: float | None):
    """The network file with its protocol cut to its first ``seconds`` (None: as it is)."""
    if seconds is None:
        return net
    phases, left = [], seconds
    for phase in net.protocol:
        if left <= 0:
            break
        length = min(float(phase.duration / second), left)
        phases.append(dataclasses.replace(phase, duration=length * second))
        left -= length
    return dataclasses.replace(net, protocol=tuple(phases))


def run(name: str, device: str, seconds: float | None = None):
    net = cut(bl.load_network(name), seconds)
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
    parser.add_argument("--duration", type=float, default=None,
                        help="cut the protocol to its first SECONDS")
    parser.add_argument("--devices", nargs="+", default=["runtime", "cpp_standalone"],
                        choices=["runtime", "cpp_standalone"])
    args = parser.parse_args()
    prefs.codegen.target = "cython"
    for name in args.names:
        results = {device: run(name, device, args.duration) for device in args.devices}
        net, spikes, _ = results[args.devices[0]]
        seconds = float(net.duration)
        rates = ", ".join(f"{pop} {len(t) / (net.populations[pop].size * seconds):.2f} Hz"
                          for pop, (i, t) in spikes.items())
        times = ", ".join(f"{device} {wall:.1f} s" for device, (_, _, wall) in results.items())
        line = f"{net.ref}, {seconds:g} s simulated: {times}; {rates}"
        if len(results) == 2:
            same = all(np.array_equal(a, b) for pop in spikes
                       for a, b in zip(spikes[pop], results["cpp_standalone"][1][pop]))
            line += f"; identical spikes: {same}"
        print(line)


if __name__ == "__main__":
    main()
