# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 2. Introduction to Brian: synapses
#
# This tutorial follows Brian2's "Introduction to Brian part 2: Synapses": the
# simplest synapse, weights, delays, connectivity (including distance-dependent
# connectivity), and STDP, which it builds from brianlab's model file
# `synapses/stdp_pair`. Every number it prints is checked by `tests/test_tutorials.py`.

# %%
import matplotlib.pyplot as plt
import numpy as np
from brian2 import (BrianLogger, Network, NeuronGroup, StateMonitor,
                    Synapses, defaultclock, ms, prefs, seed)

import brianlab as bl
from brianlab.tutorial import QUICK, output_dir, report
from brianlab.compose import synapses as model_synapses
from brianlab.plot import traces
from brianlab.space import (Lattice, fixed_indegree, periodic_delta,
                            periodic_distance)

prefs.codegen.target = "numpy"  # no compilation: quick to start
BrianLogger.suppress_name("unused_brian_object")  # connectivity-only examples are not run
defaultclock.dt = 0.1 * ms
OUT = output_dir("02_intro_synapses")
numbers = {}
tau = 10 * ms
DRIVEN = """dv/dt = (I - v)/tau : 1
I : 1"""


def jumps(trace):
    """Sizes of the upward steps of a membrane trace (a synaptic input is a jump)."""
    step = np.diff(trace)
    return step[step > 1e-3]

# %% [markdown]
# ## The simplest synapse
# Neuron 0 is driven (I = 2) and fires every tau ln 2 = 6.93 ms; neuron 1 (I = 0)
# only receives: `on_pre='v_post += 0.2'` makes its v jump by 0.2 at each spike of 0.

# %%
G = NeuronGroup(2, DRIVEN, threshold="v > 1", reset="v = 0", method="exact",
                namespace={"tau": tau})
G.I = [2, 0]
S = Synapses(G, G, on_pre="v_post += 0.2")
S.connect(i=0, j=1)
M = StateMonitor(G, "v", record=True)
Network(G, S, M).run(50 * ms)
# between inputs v decays a little: the jump is the first-step difference minus decay
numbers["simplest_jumps"] = int(len(jumps(M.v[1])))
numbers["simplest_jump_size"] = round(float(np.max(jumps(M.v[1]))), 3)
ax = traces(M.t / ms, M.v, labels=["neuron 0 (driven)", "neuron 1"], ylabel="v")
ax.figure.savefig(OUT / "simplest.png", dpi=80)

# %% [markdown]
# ## Weights and delays
# A synaptic variable `w` per synapse: three targets receive w = 0.2 j, and a delay of
# 2 j ms. Each jump has its synapse's size, and arrives its delay after the spike.

# %%
G = NeuronGroup(4, DRIVEN, threshold="v > 1", reset="v = 0", method="exact",
                namespace={"tau": tau})
G.I = [2, 0, 0, 0]
S = Synapses(G, G, "w : 1", on_pre="v_post += w")
S.connect(i=0, j=[1, 2, 3])
S.w = "j*0.2"
S.delay = "j*2*ms"
M = StateMonitor(G, "v", record=True)
Network(G, S, M).run(50 * ms)
numbers["weights_first_jump"] = [round(float(jumps(M.v[k])[0]), 2) for k in (1, 2, 3)]
first_spike = float(np.argmax(M.v[0][1:] < M.v[0][:-1]) + 1) * 0.1  # v drops to 0: a spike
arrivals = [float(np.argmax(np.diff(M.v[k]) > 1e-3) + 1) * 0.1 for k in (1, 2, 3)]
numbers["first_spike_ms"] = round(first_spike, 1)
numbers["arrival_after_spike_ms"] = [round(a - first_spike, 1) for a in arrivals]
ax = traces(M.t / ms, M.v, labels=[f"neuron {k}" for k in range(4)], ylabel="v")
ax.figure.savefig(OUT / "weights_delays.png", dpi=80)

# %% [markdown]
# ## Connectivity
# `connect(condition='i != j', p=0.2)` draws each possible synapse with probability 0.2,
# so 10 neurons get about 0.2 * 90 = 18 synapses; `connect(j='i')` is one-to-one.

# %%
seed(11)
N = 10
G = NeuronGroup(N, "v : 1")
S = Synapses(G, G)
S.connect(condition="i != j", p=0.2)
numbers["random_synapses"] = int(len(S))
numbers["random_self_connections"] = int(np.sum(S.i[:] == S.j[:]))
one = Synapses(G, G)
one.connect(j="i")
numbers["one_to_one_synapses"] = int(len(one))
fig, ax = plt.subplots(figsize=(3.5, 3.5))
ax.plot(S.i[:], S.j[:], "ok")
ax.set_xlabel("source i")
ax.set_ylabel("target j")
ax.set_title(f"{len(S)} synapses, p = 0.2")
fig.savefig(OUT / "connectivity.png", dpi=80)

# %% [markdown]
# ## Distance-dependent connectivity
# Neurons on a ring of 400 positions, connected with probability
# `exp(-d**2/(2 sigma**2))` of their distance, as in the Brian tutorial. The expected
# number of synapses per neuron is the sum of that Gaussian over the other neurons.
# brianlab's `space.fixed_indegree` draws exactly k sources per target with the same
# Gaussian preference (what the CMSA sheets use).

# %%
seed(12)
n_ring, sigma = 400, 10.0
G = NeuronGroup(n_ring, "x : 1")
G.x = "i"
S = Synapses(G, G)
S.connect(condition="i != j",
          p="exp(-((abs(x_pre - x_post) % n_ring) - n_ring*int(abs(x_pre - x_post) > "
            "n_ring/2))**2/(2*sigma**2))",
          namespace={"n_ring": n_ring, "sigma": sigma})
d = np.minimum(np.arange(1, n_ring), n_ring - np.arange(1, n_ring))
expected = float(np.sum(np.exp(-d**2 / (2 * sigma**2))))
numbers["distance_expected_per_neuron"] = round(expected, 2)
numbers["distance_mean_per_neuron"] = round(len(S) / n_ring, 2)
offsets = periodic_delta(S.i[:], S.j[:], n_ring)  # signed i - j on the ring
distances = np.abs(offsets)
numbers["distance_rms"] = round(float(np.sqrt(np.mean(distances**2))), 2)
numbers["distance_rms_expected"] = round(float(np.sqrt(
    np.sum(d**2 * np.exp(-d**2 / (2 * sigma**2))) / expected)), 2)
lattice = Lattice(20, extent=20.0)  # a 20 x 20 torus, the 2D version
conn = fixed_indegree(lattice, lattice, k=25, sigma=2.0, seed=3, allow_self=False)
positions = lattice.positions()
numbers["fixed_indegree_per_target"] = sorted(set(np.bincount(conn.j).tolist()))
numbers["fixed_indegree_mean_distance"] = round(float(np.mean(
    periodic_distance(positions[conn.i], positions[conn.j], 20.0))), 2)
# the expected mean distance: the Gaussian preference over all other lattice points
dist = periodic_distance(positions, positions[:1], 20.0)[1:]
pref = np.exp(-dist**2 / (2 * 2.0**2))
numbers["fixed_indegree_mean_distance_expected"] = round(float(np.sum(dist * pref)
                                                               / np.sum(pref)), 2)
fig, ax = plt.subplots(figsize=(4, 3))
ax.hist(offsets, bins=np.arange(-40, 41, 2), color="0.5")
ax.set_xlabel("i - j on the ring")
ax.set_ylabel("synapses")
fig.savefig(OUT / "distance.png", dpi=80)

# %% [markdown]
# ## STDP with `synapses/stdp_pair`
# One synapse per time difference: a presynaptic spike at 100 ms and a postsynaptic
# spike at 100 ms + dt. The weight change is `A_plus exp(-dt/tau_plus)` for dt > 0 and
# `-A_minus exp(dt/tau_minus)` for dt < 0: the STDP window, measured from the model file.

# %%
stdp = bl.load_model("stdp_pair@1")
p = {k: float(v) for k, v in stdp.parameters.items()}
delays = np.linspace(-50, 50, 21 if QUICK else 101)
delays = delays[delays != 0]
n_pairs = len(delays)
# each neuron fires once, at its own time tspike
ONCE = "timestep(t, dt) == timestep(tspike, dt)"
pre = NeuronGroup(n_pairs, "tspike : second", threshold=ONCE, reset="")
post = NeuronGroup(n_pairs, "tspike : second\ns : 1", threshold=ONCE, reset="")
pre.tspike = 100 * ms
post.tspike = (100 + delays) * ms
syn = model_synapses(stdp, pre, post, connect={"j": "i"})
w0 = np.asarray(syn.w[:]).copy()
Network(pre, post, syn).run(200 * ms)
change = np.asarray(syn.w[:]) - w0
window = np.where(delays > 0, p["A_plus"] * np.exp(-delays * 1e-3 / p["tau_plus"]),
                  -p["A_minus"] * np.exp(delays * 1e-3 / p["tau_minus"]))
numbers["stdp_model"] = stdp.ref
numbers["stdp_max_relative_error"] = float(np.max(np.abs(change - window) / np.abs(window)))
numbers["stdp_change_at_plus_10ms"] = round(float(change[np.argmin(np.abs(delays - 10))]), 6)
numbers["stdp_change_at_minus_10ms"] = round(float(change[np.argmin(np.abs(delays + 10))]), 6)
fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(delays, change, "o", label="stdp_pair@1, simulated")
grid = np.linspace(-50, 50, 400)
grid = grid[grid != 0]
ax.plot(grid, np.where(grid > 0, p["A_plus"] * np.exp(-grid * 1e-3 / p["tau_plus"]),
                       -p["A_minus"] * np.exp(grid * 1e-3 / p["tau_minus"])), "k-", lw=0.8,
        label="analytic window")
ax.axhline(0, color="0.7", lw=0.5)
ax.set_xlabel("t_post - t_pre (ms)")
ax.set_ylabel("weight change")
ax.legend(fontsize=8)
fig.savefig(OUT / "stdp_window.png", dpi=80)

# %%
report("02_intro_synapses", numbers, OUT)
