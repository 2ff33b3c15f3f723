"""Time per step of ``hh_traub@1`` (exprel) and ``hh_traub@2`` (exp) against the benchmark's own equations.

The baseline, measured in the same run: the COBAHH neuron of Brette et al. (2007),
benchmark 3, written in plain Brian2 as Brian2's COBAHH example wrote it before it
adopted ``exprel`` (rate functions ``x/(exp(x) - 1)``, which divide 0 by 0 at the
removable points) with the same parameters, threshold, refractoriness and method as
``hh_traub``. Every configuration is ``--neurons`` unconnected neurons driven by constant
currents from 0 to 1 nA (most of them fire: every branch of the update is exercised),
simulated for ``--duration`` at dt 0.1 ms (``rk4``: at dt 0.01 ms, as the NEST comparison,
for a tenth of the duration: the same number of steps; at 0.1 ms RK4 is unstable at
1 nA); printed: the median wall time of the
simulation loop (code generation and compilation excluded) over ``--rounds`` interleaved
rounds, its ratio to the baseline, and the spike count (the same for all three up to
rounding at threshold crossings; on the runtime device over all rounds).

- runtime device (Cython): the three networks in this process, interleaved; for each
  integration method of ``--methods`` (the model's ``exponential_euler``; ``rk4``, which
  the NEST comparison uses);
- ``--standalone``: cpp_standalone, each configuration in a process of its own, the
  loop's time from Brian2's own measurement (``device._last_run_time``); one build each.

    python -m benchmarks.bench_hh_traub [--neurons 4000] [--duration 200] [--rounds 5]
        [--methods exponential_euler rk4] [--standalone]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

os.environ.setdefault("OMP_NUM_THREADS", "1")

#: Brette et al. (2007) benchmark 3 (COBAHH), Traub & Miles rate functions with exp, as in
#: Brian2's COBAHH example before exprel (the synaptic conductances are left out here).
BENCHMARK_EQUATIONS = """
dv/dt = (g_L*(E_L - v) + g_Na*m**3*h*(E_Na - v) + g_K*n**4*(E_K - v) + I_ext)/C_m : volt
dm/dt = alpha_m*(1 - m) - beta_m*m : 1
dh/dt = alpha_h*(1 - h) - beta_h*h : 1
dn/dt = alpha_n*(1 - n) - beta_n*n : 1
alpha_m = 0.32*(mV**-1)*(13*mV - v + V_T)/(exp((13*mV - v + V_T)/(4*mV)) - 1)/ms : Hz
beta_m = 0.28*(mV**-1)*(v - V_T - 40*mV)/(exp((v - V_T - 40*mV)/(5*mV)) - 1)/ms : Hz
alpha_h = 0.128*exp((17*mV - v + V_T)/(18*mV))/ms : Hz
beta_h = 4/(1 + exp((40*mV - v + V_T)/(5*mV)))/ms : Hz
alpha_n = 0.032*(mV**-1)*(15*mV - v + V_T)/(exp((15*mV - v + V_T)/(5*mV)) - 1)/ms : Hz
beta_n = 0.5*exp((10*mV - v + V_T)/(40*mV))/ms : Hz
I_ext : amp
"""
CONFIGS = ("benchmark", "hh_traub@1", "hh_traub@2")

STANDALONE = """
import sys, json, warnings, tempfile
sys.path.insert(0, {root!r})
warnings.simplefilter("ignore")
from brian2 import set_device, device, Network, ms
set_device("cpp_standalone", directory={directory!r})
from benchmarks.bench_hh_traub import make_group
from brian2 import SpikeMonitor
group = make_group({config!r}, {neurons}, {method!r})
monitor = SpikeMonitor(group)
Network(group, monitor).run({duration} * ms)
print(json.dumps({{"loop": device._last_run_time, "spikes": int(monitor.num_spikes)}}))
"""


def step_ms(method: str) -> float:
    """The time step used with ``method`` (ms): 0.01 for RK4, else 0.1."""
    return 0.01 if method == "rk4" else 0.1


def make_group(config: str, neurons: int, method: str):
    """One configuration's NeuronGroup, currents 0-1 nA, at rest."""
    import numpy as np
    from brian2 import NeuronGroup, mV, ms, nA, nS, pF, uS

    currents = np.linspace(0, 1, neurons) * nA
    if config == "benchmark":
        namespace = dict(C_m=200 * pF, g_Na=20 * uS, g_K=6 * uS, g_L=10 * nS, E_Na=50 * mV,
                         E_K=-90 * mV, E_L=-60 * mV, V_T=-63 * mV)
        group = NeuronGroup(neurons, BENCHMARK_EQUATIONS, threshold="v > 0*mV",
                            refractory="v > 0*mV", method=method, namespace=namespace,
                            dt=step_ms(method) * ms, name="benchmark")
        group.v = -60 * mV
        group.m = "alpha_m/(alpha_m + beta_m)"
        group.h = "alpha_h/(alpha_h + beta_h)"
        group.n = "alpha_n/(alpha_n + beta_n)"
    else:
        from brianlab import load_model

        with warnings.catch_warnings():  # an unreleased file (before the lock) is fine here
            warnings.simplefilter("ignore")
            group = load_model(config).neuron_group(neurons, method=method,
                                                            dt=step_ms(method) * ms)
    group.I_ext = currents
    return group


def runtime_rows(neurons: int, duration: float, rounds: int, method: str) -> dict:
    """Median loop time and spike count per configuration on the runtime device."""
    from brian2 import Network, SpikeMonitor, ms, prefs

    prefs.codegen.target = "cython"
    duration = duration * step_ms(method) / 0.1
    nets = {}
    for config in CONFIGS:
        group = make_group(config, neurons, method)
        monitor = SpikeMonitor(group)
        net = Network(group, monitor)
        net.run(0.1 * ms)  # code generation and compilation, not timed
        nets[config] = (net, monitor)
    times = {config: [] for config in CONFIGS}
    for _ in range(rounds):
        for config, (net, _monitor) in nets.items():
            start = time.perf_counter()
            net.run(duration * ms)
            times[config].append(time.perf_counter() - start)
    return {config: (statistics.median(times[config]), int(nets[config][1].num_spikes))
            for config in CONFIGS}


def standalone_rows(neurons: int, duration: float, method: str) -> dict:
    """Loop time (Brian2's measurement) and spike count per configuration, cpp_standalone."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    rows = {}
    with tempfile.TemporaryDirectory(prefix="bench-hh-") as tmp:
        for k, config in enumerate(CONFIGS):
            code = STANDALONE.format(root=root, directory=os.path.join(tmp, str(k)),
                                     config=config, neurons=neurons, method=method,
                                     duration=duration * step_ms(method) / 0.1)
            proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
            if proc.returncode != 0:
                raise SystemExit(f"{config} failed:\n{proc.stderr[-2000:]}")
            out = json.loads(proc.stdout.strip().splitlines()[-1])
            rows[config] = (out["loop"], out["spikes"])
    return rows


def print_table(title: str, rows: dict):
    base = rows["benchmark"][0]
    print(f"\n{title}")
    print(f"{'configuration':<14} {'loop (s)':>9} {'ratio':>6} {'spikes':>8}")
    for config, (took, spikes) in rows.items():
        print(f"{config:<14} {took:>9.3f} {took / base:>6.2f} {spikes:>8d}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--neurons", type=int, default=4000)
    parser.add_argument("--duration", type=float, default=200.0, help="ms per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--methods", nargs="+", default=["exponential_euler", "rk4"])
    parser.add_argument("--standalone", action="store_true", help="also cpp_standalone")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    print(f"{args.neurons} neurons, {args.duration:g} ms at dt 0.1 ms, median of {args.rounds} "
          f"rounds; load average {load:.1f} on {os.cpu_count()} cores")
    for method in args.methods:
        print_table(f"runtime (Cython), {method}, dt {step_ms(method):g} ms",
                    runtime_rows(args.neurons, args.duration, args.rounds, method))
        if args.standalone:
            print_table(f"cpp_standalone, {method}, dt {step_ms(method):g} ms (one run each)",
                        standalone_rows(args.neurons, args.duration, method))


if __name__ == "__main__":
    main()
