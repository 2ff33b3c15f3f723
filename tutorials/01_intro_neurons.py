# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 1. Introduction to Brian: neurons
#
# This tutorial follows Brian2's "Introduction to Brian part 1: Neurons" section by
# section: units, a model against its analytic solution, spikes, refractoriness, many
# neurons, parameters and the f-I curve, stochastic neurons. Then it does the same with
# brianlab's versioned model file `lif`. Every number it prints is checked by
# `tests/test_tutorials.py`. `BRIANLAB_QUICK=1` shortens the slow parts.

# %%
import matplotlib.pyplot as plt
import numpy as np
from brian2 import (DimensionMismatchError, Network, NeuronGroup, SpikeMonitor,
                    StateMonitor, defaultclock, ms, mV, nA, prefs, second)

import brianlab as bl
from brianlab.tutorial import QUICK, output_dir, report
from brianlab.analysis.spikes import isi_rates as analysis_isi_rates
from brianlab.analysis.spikes import lif_rate
from brianlab.plot import raster

prefs.codegen.target = "numpy"  # no compilation: quick to start
defaultclock.dt = 0.1 * ms
OUT = output_dir("01_intro_neurons")
numbers = {}


def isi_rates(spikes, n):
    """1 / mean inter-spike interval (Hz) per neuron: free of the +-1 spike of a count."""
    return analysis_isi_rates(spikes.i[:], spikes.t / second, n)

# %% [markdown]
# ## Units
# Brian checks dimensions: adding a time to a voltage fails, and so does an equation
# whose two sides disagree. brianlab checks model files the same way when it loads them.

# %%
try:
    5 * mV + 3 * ms
except DimensionMismatchError as error:
    print("Brian2:", str(error).splitlines()[0])
    numbers["units_error"] = type(error).__name__
try:
    bl.modelfile.parse_model_text('name = "bad"\nversion = 1\nkind = "neuron"\n'
                                  'equations = "dv/dt = 1 - v : 1"\n', path="bad.toml")
except bl.ModelError as error:
    print("brianlab:", error)
    numbers["model_error_where"] = error.where

# %% [markdown]
# ## A simple model and its analytic solution
# `dv/dt = (1 - v)/tau` from v = 0 gives `v(t) = 1 - exp(-t/tau)`.

# %%
tau = 10 * ms
G = NeuronGroup(1, "dv/dt = (1 - v)/tau : 1", method="exact", namespace={"tau": tau})
M = StateMonitor(G, "v", record=0)
Network(G, M).run(30 * ms)
analytic = 1 - np.exp(-M.t / tau)
numbers["max_error_vs_analytic"] = float(np.max(np.abs(M.v[0] - analytic)))
fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(M.t / ms, M.v[0], label="Brian")
ax.plot(M.t / ms, analytic, "--", label="analytic")
ax.set_xlabel("time (ms)")
ax.set_ylabel("v")
ax.legend()
fig.savefig(OUT / "analytic.png", dpi=80)

# %% [markdown]
# ## Spikes: threshold and reset
# With `threshold='v > 0.8'` and `reset='v = 0'` the neuron fires regularly.

# %%
G = NeuronGroup(1, "dv/dt = (1 - v)/tau : 1", threshold="v > 0.8", reset="v = 0",
                method="exact", namespace={"tau": tau})
S = SpikeMonitor(G)
Network(G, S).run(50 * ms)
numbers["spike_times_ms"] = [round(float(t), 1) for t in S.t / ms]

# %% [markdown]
# ## Refractoriness
# `refractory=5*ms` with `(unless refractory)` holds v at the reset value for 5 ms;
# without it the neuron integrates through the refractory period, only spiking is
# suppressed (tau = 5 ms, refractory 15 ms, as in the Brian tutorial).

# %%
G = NeuronGroup(1, "dv/dt = (1 - v)/tau : 1 (unless refractory)", threshold="v > 0.8",
                reset="v = 0", refractory=5 * ms, method="exact", namespace={"tau": tau})
S = SpikeMonitor(G)
Network(G, S).run(50 * ms)
numbers["spike_times_refractory_ms"] = [round(float(t), 1) for t in S.t / ms]
G = NeuronGroup(1, "dv/dt = (1 - v)/tau : 1", threshold="v > 0.8", reset="v = 0",
                refractory=15 * ms, method="exact", namespace={"tau": 5 * ms})
S = SpikeMonitor(G)
Network(G, S).run(50 * ms)
numbers["spike_times_without_unless_ms"] = [round(float(t), 1) for t in S.t / ms]

# %% [markdown]
# ## Many neurons
# 100 neurons driven towards v = 2, started at random values: a raster plot.

# %%
N = 100
G = NeuronGroup(N, "dv/dt = (2 - v)/tau : 1", threshold="v > 1", reset="v = 0",
                method="exact", namespace={"tau": tau})
G.v = "rand()"
S = SpikeMonitor(G)
Network(G, S).run(50 * ms)
numbers["many_neurons_spikes"] = int(S.num_spikes)
ax = raster(S.t / ms, S.i)
ax.figure.savefig(OUT / "raster.png", dpi=80)

# %% [markdown]
# ## Parameters and the f-I curve
# Each neuron gets its own drive `v0` (0 to 3); the firing rate against v0 is the f-I
# curve, analytically `1 / (t_ref + tau ln(v0 / (v0 - 1)))` above v0 = 1 (rates from
# the mean inter-spike interval, free of the +-1 spike of a count).

# %%
duration = (0.3 if QUICK else 1.0) * second
v0_max = 3.0
G = NeuronGroup(N, "dv/dt = (v0 - v)/tau : 1 (unless refractory)\nv0 : 1",
                threshold="v > 1", reset="v = 0", refractory=5 * ms, method="exact",
                namespace={"tau": tau})
G.namespace["v0_max"] = v0_max
G.v0 = "i*v0_max/(N - 1)"
S = SpikeMonitor(G)
Network(G, S).run(duration)
v0 = np.asarray(G.v0[:])
rate = isi_rates(S, N)
theory = np.zeros(N)
theory[v0 > 1] = 1 / (0.005 + 0.01 * np.log(v0[v0 > 1] / (v0[v0 > 1] - 1)))
fast = v0 > 1.1
numbers["fI_max_relative_error_above_1.1"] = float(np.max(np.abs(rate[fast] - theory[fast])
                                                          / theory[fast]))
numbers["fI_rate_at_v0_3_hz"] = float(rate[-1])

# %% [markdown]
# ## Stochastic neurons
# White noise `sigma*xi*tau**-0.5` smooths the f-I curve: neurons fire below v0 = 1.

# %%
G = NeuronGroup(N, "dv/dt = (v0 - v)/tau + sigma*xi*tau**-0.5 : 1 (unless refractory)\n"
                "v0 : 1", threshold="v > 1", reset="v = 0", refractory=5 * ms,
                method="euler", namespace={"tau": tau, "sigma": 0.2, "v0_max": v0_max})
G.v0 = "i*v0_max/(N - 1)"
S = SpikeMonitor(G)
Network(G, S).run(duration)
noisy = np.asarray(S.count / duration)
numbers["noisy_neurons_firing_below_v0_1"] = int(np.sum((noisy > 0) & (v0 < 1)))
fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(v0, rate, label="deterministic")
ax.plot(v0, noisy, label="noise sigma = 0.2")
ax.plot(v0, theory, "k--", label="analytic")
ax.set_xlabel("v0")
ax.set_ylabel("rate (Hz)")
ax.legend()
fig.savefig(OUT / "f_I.png", dpi=80)

# %% [markdown]
# ## The same with a brianlab model file
# `lif@1` is a conductance-style LIF (C, g_L, E_L, V_th, V_reset, tau_ref, white noise
# sigma). Its f-I curve against `brianlab.analysis.spikes.lif_rate`.

# %%
lif = bl.load_model("lif@1")
print(lif)
p = {k: float(v) for k, v in lif.parameters.items()}
currents = np.linspace(0.1, 1.0, 19 if QUICK else 37) * 1e-9
G = lif.neuron_group(len(currents), dt=0.01 * ms)
G.I_ext = currents * 1e9 * nA
S = SpikeMonitor(G)
Network(G, S).run(duration)
simulated = isi_rates(S, len(currents))
analytic_rate = lif_rate(currents, C=p["C"], g_L=p["g_L"], E_L=p["E_L"], V_th=p["V_th"],
                         V_reset=p["V_reset"], t_ref=p["tau_ref"])
rheobase = p["g_L"] * (p["V_th"] - p["E_L"])
above = currents > 1.1 * rheobase
numbers["lif_rheobase_nA"] = rheobase * 1e9
numbers["lif_fI_max_relative_error_above_1.1_rheobase"] = float(
    np.max(np.abs(simulated[above] - analytic_rate[above]) / analytic_rate[above]))
numbers["lif_model"] = lif.ref
numbers["lif_sha256"] = lif.sha256
fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(currents * 1e9, simulated, "o", label="lif@1, simulated")
ax.plot(currents * 1e9, analytic_rate, "k-", label="analytic")
ax.set_xlabel("I_ext (nA)")
ax.set_ylabel("rate (Hz)")
ax.legend()
fig.savefig(OUT / "lif_f_I.png", dpi=80)

# %%
report("01_intro_neurons", numbers, OUT)
