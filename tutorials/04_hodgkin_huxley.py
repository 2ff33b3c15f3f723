# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 4. Hodgkin-Huxley: the action potential, voltage clamp, f-I curve
#
# With the versioned model `neurons/hh@1` (squid axon, 100 pF patch, rest -65 mV): the
# action potential and its gating variables; the voltage-clamp exercise of the source
# document (K+ conductance and n_inf at steady state); the model's own clamp currents;
# the f-I curve with its abrupt onset (type II) and the single-pulse threshold. Every
# printed number is checked by `tests/test_tutorials.py`.

# %%
import matplotlib.pyplot as plt
import numpy as np
from brian2 import (Network, SpikeMonitor, StateMonitor, mV, ms, nA, prefs)

import brianlab as bl
from brianlab.tutorial import QUICK, output_dir, report
from brianlab.networks import simulate_fi
from brianlab.plot import fi_curve

prefs.codegen.target = "numpy"
OUT = output_dir("04_hodgkin_huxley")
numbers = {}
hh = bl.load_model("hh@1")
print(hh)

# %% [markdown]
# ## The action potential
# A 1 nA step: v, and the gating variables m (Na activation), h (Na inactivation) and
# n (K activation).

# %%
G = hh.neuron_group(1, I_ext=1 * nA, dt=0.01 * ms)
M = StateMonitor(G, ["v", "m", "h", "n"], record=0)
S = SpikeMonitor(G)
Network(G, M, S).run(30 * ms)
numbers["rest_mV"] = -65.0
numbers["first_spike_ms"] = round(float(S.t[0] / ms), 2)
numbers["peak_mV"] = round(float(np.max(M.v[0] / mV)), 1)
numbers["undershoot_mV"] = round(float(np.min(M.v[0][M.t > S.t[0]] / mV)), 1)
fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(6, 5), sharex=True)
ax1.plot(M.t / ms, M.v[0] / mV)
ax1.set_ylabel("v (mV)")
for var in ("m", "h", "n"):
    ax2.plot(M.t / ms, getattr(M, var)[0], label=var)
ax2.set_xlabel("time (ms)")
ax2.legend()
fig.savefig(OUT / "action_potential.png", dpi=80)

# %% [markdown]
# ## The voltage-clamp exercise (source document)
# Steady-state K+ currents measured at test depolarisations Vc = 25, 60, 85, 100 mV
# (the exercise's numbers: I_K = 25, 60, 85, 100 mA/cm**2, E_K = -80 mV,
# gbar_K = 83 mS/cm**2). From I = g (V - E): g_K_inf = I / (Vc - E_K), and with
# g_K = gbar_K n**4: n_inf = (g_K_inf / gbar_K)**(1/4).

# %%
Vc = np.array([25.0, 60.0, 85.0, 100.0])
I_inf = np.array([25.0, 60.0, 85.0, 100.0])
g_inf = I_inf / (Vc - (-80.0))
n_inf_exercise = (g_inf / 83.0) ** 0.25
numbers["exercise_gK_inf"] = [round(float(g), 2) for g in g_inf]
numbers["exercise_n_inf"] = [round(float(n), 2) for n in n_inf_exercise]
print(f"{'Vc (mV)':>8} {'I_K (mA/cm2)':>13} {'g_K (mS/cm2)':>13} {'n_inf':>6}")
for row in zip(Vc, I_inf, g_inf, n_inf_exercise):
    print(f"{row[0]:>8.0f} {row[1]:>13.0f} {row[2]:>13.2f} {row[3]:>6.2f}")

# %% [markdown]
# ## Clamping the model
# An ideal clamp: the same model with a huge membrane capacitance (1 F) keeps v where
# it is set, while the gating variables follow. Starting from rest, the patch is held
# at rest + Vc; n relaxes to n_inf(V), and the K+ current g_K n**4 (V - E_K) rises with
# the sigmoidal delay Hodgkin and Huxley measured.

# %%
levels = -65.0 + Vc
G = hh.neuron_group(len(levels), C_m="1 farad", dt=0.01 * ms)
G.v = levels * mV
M = StateMonitor(G, "n", record=True)
Network(G, M).run(60 * ms)
p = {k: float(v) for k, v in hh.parameters.items()}
n_end = np.asarray(G.n[:])
held = np.asarray(G.v[:] / mV)


def rates_n(v_mV):
    """alpha_n, beta_n (1/ms) written out for comparison with the model's own rate functions."""
    x = (v_mV + 55) / 10
    return 0.1 * x / (1 - np.exp(-x)), 0.125 * np.exp(-(v_mV + 65) / 80)


a, b = rates_n(levels)
numbers["clamp_drift_mV"] = float(np.max(np.abs(held - levels)))
numbers["clamp_n_inf_model"] = [round(float(n), 4) for n in n_end]
numbers["clamp_n_inf_analytic"] = [round(float(n), 4) for n in a / (a + b)]
gK = p["g_K"] * n_end**4
I_K = gK * (levels * 1e-3 - p["E_K"])
numbers["clamp_gK_inf_nS"] = [round(float(g / 1e-9), 1) for g in gK]
numbers["clamp_IK_inf_nA"] = [round(float(i / 1e-9), 2) for i in I_K]
fig, ax = plt.subplots(figsize=(5, 3))
for k, level in enumerate(levels):
    current = p["g_K"] * np.asarray(M.n[k]) ** 4 * (level * 1e-3 - p["E_K"])
    ax.plot(M.t / ms, current / 1e-9, label=f"{Vc[k]:.0f} mV above rest")
ax.set_xlabel("time (ms)")
ax.set_ylabel("I_K (nA)")
ax.legend(fontsize=7)
fig.savefig(OUT / "voltage_clamp.png", dpi=80)

# %% [markdown]
# ## The f-I curve: abrupt onset (type II)
# Below a current of about 0.6 nA the patch stays silent (or fires once); above it,
# it fires repetitively at a rate that starts far above zero.

# %%
duration = (150 if QUICK else 500) * ms
currents = np.linspace(0.0, 2.0, 21 if QUICK else 41)
# 1 / mean ISI after 50 ms (no +-1 spike jitter), one neuron per current
rate = simulate_fi(hh, currents * nA, duration, t_start=50 * ms, dt=0.02 * ms)
firing = rate > 0
onset = int(np.argmax(firing))
numbers["fI_onset_current_nA"] = round(float(currents[onset]), 2)
numbers["fI_rate_at_onset_hz"] = round(float(rate[onset]), 1)
numbers["fI_rate_at_2nA_hz"] = round(float(rate[-1]), 1)
numbers["fI_monotonic_above_onset"] = bool(np.all(np.diff(rate[onset:]) >= -0.5))
numbers["fI_silent_below_onset"] = bool(not firing[:onset].any())
fig, ax = plt.subplots(figsize=(5, 3))
fi_curve(currents, rate, ax, label="hh@1")
fig.savefig(OUT / "f_I.png", dpi=80)

# %% [markdown]
# ## Single-pulse threshold
# A 1 ms current pulse: the smallest amplitude that makes one spike.

# %%
amplitudes = np.linspace(0.5, 5.0, 46)
G = hh.neuron_group(len(amplitudes), dt=0.01 * ms)
S = SpikeMonitor(G)
net = Network(G, S)
G.I_ext = amplitudes * nA
net.run(1 * ms)
G.I_ext = 0 * nA
net.run(20 * ms)
spiked = np.asarray(S.count[:]) > 0
numbers["pulse_threshold_nA"] = round(float(amplitudes[np.argmax(spiked)]), 2)
numbers["pulse_all_above_threshold_spike"] = bool(spiked[np.argmax(spiked):].all())
numbers["pulse_spikes_max"] = int(np.max(S.count[:]))

# %%
report("04_hodgkin_huxley", numbers, OUT)
