"""vogels2011@1 with a longer learning phase: the E rate per window, on cpp_standalone.

The file's protocol (0.5 s without plasticity, then learning) with the learning phase
lengthened so that the whole run lasts TOTAL seconds; prints the wall time (build, compile,
run), the E rate in windows and the mean learnt I->E weight.

    python benchmarks/vogels2011_learning.py [TOTAL]     # default 30
"""
import dataclasses, sys, time
import numpy as np
from brian2 import second
import brianlab as bl

total = float(sys.argv[1]) if len(sys.argv) > 1 else 30.0
net = bl.load_network("vogels2011")
static, plastic = net.protocol
net = dataclasses.replace(net, protocol=(static, dataclasses.replace(
    plastic, duration=(total - float(static.duration / second)) * second)))
t0 = time.perf_counter()
with net.build(device="cpp_standalone") as built:
    built.run()
    wall = time.perf_counter() - t0
    i, t = built.spikes("E")
    w = np.array(built.synapses["IE"].w[:])
t = np.asarray(t, dtype=float)
step = 1.0 if total <= 10 else (5.0 if total <= 30 else 20.0)
edges = [0.1, 0.5] + [float(x) for x in np.arange(1, total + 0.5, step)]
edges = edges if edges[-1] >= total else edges + [total]
print(f"vogels2011 {total:.0f} s on cpp_standalone: wall {wall:.1f} s (build, compile, run)")
for a, b in zip(edges[:-1], edges[1:]):
    print(f"  E rate {a:5.1f}-{b:5.1f} s: {np.count_nonzero((t >= a) & (t < b)) / (8000 * (b - a)):7.2f} Hz")
print(f"  mean I->E weight {w.mean():.3f}")
