# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 3. Introduction to Brian: running simulations
#
# This tutorial follows Brian2's "Introduction to Brian part 3: Simulations": multiple
# runs with `store`/`restore`, changing things during a run, and input with
# `TimedArray`. Then the same network runs on the C++ standalone device through
# `brianlab.use_device`, where a compiled binary is re-run with new parameter values
# (`run_args`) instead of `store`/`restore`. Every number it prints is checked by
# `tests/test_tutorials.py`.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
from brian2 import (Hz, Network, NeuronGroup, PoissonGroup, SpikeMonitor,
                    StateMonitor, Synapses, TimedArray, defaultclock, ms, nA, prefs, seed)

import brianlab as bl
from brianlab.tutorial import QUICK, output_dir, report
from brianlab.devices import cxx_compiler_works
from brianlab.plot import traces

prefs.codegen.target = "numpy"
defaultclock.dt = 0.1 * ms
OUT = output_dir("03_intro_simulations")
numbers = {}

# %% [markdown]
# ## Multiple runs: store and restore
# 100 Poisson inputs at 10 Hz drive one LIF neuron; how does its rate depend on the
# membrane time constant tau? `store()` once, then `restore()` before each run: the
# same network, and (with `restore(restore_random_state=True)`) the same input spikes.
# A longer tau integrates more input, so the rate rises with it.

# %%
seed(42)
taus = np.array([5, 10, 20, 40, 80]) * ms
P = PoissonGroup(100, rates=10 * Hz)
G = NeuronGroup(1, "dv/dt = -v/tau : 1", threshold="v > 1", reset="v = 0", method="exact")
S = Synapses(P, G, on_pre="v += 0.1")
S.connect()
M = SpikeMonitor(G)
net = Network(P, G, S, M)
net.store()
duration = (0.5 if QUICK else 2.0) * 1000 * ms
rates = []
for tau_m in taus:
    net.restore(restore_random_state=True)
    G.namespace["tau"] = tau_m
    net.run(duration)
    rates.append(M.num_spikes / float(duration / (1000 * ms)))
numbers["rates_vs_tau_hz"] = [round(float(r), 1) for r in rates]
fig, ax = plt.subplots(figsize=(4.5, 3))
ax.plot(taus / ms, rates, "o-")
ax.set_xlabel("tau (ms)")
ax.set_ylabel("output rate (Hz)")
fig.savefig(OUT / "rate_vs_tau.png", dpi=80)

# %% [markdown]
# ## Changing things during a run
# Run 20 ms without input, switch the drive I on for 30 ms, switch it off again. The
# first spike after switching on comes tau ln(I/(I - 1)) later (tau = 10 ms, I = 2:
# 6.93 ms; forward Euler at dt = 0.1 ms reaches threshold a step earlier, 6.8 ms), as for a neuron
# started at rest.

# %%
G = NeuronGroup(1, "dv/dt = (I - v)/tau : 1\nI : 1", threshold="v > 1", reset="v = 0",
                method="euler", namespace={"tau": 10 * ms})
M = SpikeMonitor(G)
V = StateMonitor(G, "v", record=0)
net = Network(G, M, V)
net.run(20 * ms)
G.I = 2
net.run(30 * ms)
G.I = 0
net.run(20 * ms)
spikes = np.asarray(M.t / ms)
numbers["step_spike_times_ms"] = [round(float(t), 1) for t in spikes]
numbers["step_first_latency_ms"] = round(float(spikes[0] - 20), 1)
numbers["step_spikes_after_off"] = int(np.sum(spikes >= 50))

# %% [markdown]
# ## Input with TimedArray
# The same on-off drive as a `TimedArray`, a function of time in the equations: the
# whole protocol is one `run`, and the spikes are the same.

# %%
drive = TimedArray([0, 0, 2, 2, 2, 0, 0], dt=10 * ms)
G = NeuronGroup(1, "dv/dt = (drive(t) - v)/tau : 1", threshold="v > 1", reset="v = 0",
                method="euler", namespace={"tau": 10 * ms, "drive": drive})
M2 = SpikeMonitor(G)
V2 = StateMonitor(G, "v", record=0)
Network(G, M2, V2).run(70 * ms)
timed = np.asarray(M2.t / ms)
numbers["timed_spike_times_ms"] = [round(float(t), 1) for t in timed]
numbers["timed_equals_stepped"] = timed.tolist() == spikes.tolist()
ax = traces(V.t / ms, [V.v[0], V2.v[0]], labels=["G.I changed between runs", "TimedArray"],
            ylabel="v")
ax.figure.savefig(OUT / "changing_input.png", dpi=80)

# %% [markdown]
# ## The same network on C++ standalone
# `bl.use_device("cpp_standalone")` turns the script into C++ code, compiles it and
# runs the binary; the session restores Brian's device when it closes. A model file's
# parameters are `(constant, shared)` variables, so `session.rerun(run_args)` runs the
# same binary with another value: the standalone version of store/restore. Here: a
# `lif@1` neuron driven by a current step (a TimedArray), first on the runtime
# device, then standalone, with three refractory periods. Without randomness the two
# devices give the same spikes.

# %%
lif = bl.load_model("lif@1")
step = TimedArray(np.r_[np.zeros(2), np.full(6, 0.5), np.zeros(2)] * nA, dt=10 * ms)
refractory = [2, 4, 8]


def lif_network():
    group = lif.neuron_group(1)
    group.run_regularly("I_ext = step(t)", dt=defaultclock.dt)
    group.namespace["step"] = step
    monitor = SpikeMonitor(group)
    return group, monitor, Network(group, monitor)


group, monitor, net = lif_network()
runtime = {}
net.store("start")
for ref in refractory:
    net.restore("start")
    group.tau_ref = ref * ms
    net.run(100 * ms)
    runtime[ref] = np.round(np.asarray(monitor.t / ms), 1).tolist()
numbers["runtime_spike_times_ms"] = runtime[refractory[0]]
numbers["runtime_spike_counts"] = [len(runtime[r]) for r in refractory]

if cxx_compiler_works():
    start = time.perf_counter()
    with bl.use_device("cpp_standalone", quiet=True) as session:
        group, monitor, net = lif_network()
        session.run(net, 100 * ms, run_args={group.tau_ref: refractory[0] * ms})
        standalone = {refractory[0]: np.round(np.asarray(monitor.t / ms), 1).tolist()}
        for ref in refractory[1:]:
            session.rerun({group.tau_ref: ref * ms})
            standalone[ref] = np.round(np.asarray(monitor.t / ms), 1).tolist()
        numbers["standalone_builds"] = 1
        numbers["standalone_runs"] = session.runs
    print(f"cpp_standalone: build + {len(refractory)} runs in "
          f"{time.perf_counter() - start:.1f} s")
    numbers["standalone_equals_runtime"] = all(standalone[r] == runtime[r] for r in refractory)
fig, ax = plt.subplots(figsize=(5, 2.5))
for k, ref in enumerate(refractory):
    ax.plot(runtime[ref], np.full(len(runtime[ref]), k), "|", ms=12)
ax.set_yticks(range(len(refractory)), [f"tau_ref {r} ms" for r in refractory])
ax.set_xlabel("time (ms)")
fig.tight_layout()
fig.savefig(OUT / "refractory_runs.png", dpi=80)

# %%
report("03_intro_simulations", numbers, OUT)
