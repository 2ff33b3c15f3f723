# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 9. Moving activity patterns on an E/I sheet (CMSA)
#
# The experiment of the CMSA lab report: a 150 x 150 sheet of excitatory LIF neurons
# and a 75 x 75 sheet of inhibitory ones on a torus, coupled by Gaussian-distance AMPA
# and GABA synapses (narrow excitation, broad inhibition). After 30 ms of random drive
# the sheet settles into one of three states, set by the refractory period rp:
# stationary **bumps** (rp = 5 ms), travelling **waves** (rp = 10 ms), and a
# **critical** state between them (6.5 ms). The order parameter
# Phi = |sum of pattern velocities| / sum of |pattern velocities| tells them apart.
# In the critical state an image (a cross) pulls the activity towards it: a model of
# attention. Everything goes through `brianlab.cmsa`, the code behind
# `python -m brianlab.cmsa`; one compiled network serves every state and seed (the
# refractory period and the drive seed are run arguments). Every printed number is
# checked by `tests/test_tutorials.py`.

# %%
import matplotlib.pyplot as plt
import numpy as np
from brian2 import ms, nA

from brianlab.tutorial import QUICK, output_dir, report
from brianlab.cmsa import CMSAParams, simulate
from brianlab.devices import cxx_compiler_works
from brianlab.inputs import cross_image
from brianlab.plot import raster, sheet_snapshot

OUT = output_dir("09_cmsa")
numbers = {}
STATES = {"bump": 5.0, "critical": 6.5, "wave": 10.0}
SEEDS = [2] if QUICK else [0, 1, 2, 3, 4]

# %% [markdown]
# ## One network, three states, several seeds
# The stimulus phase (a cross at 0.9 nA for 100 ms) follows the 400 ms of spontaneous
# activity, so Phi (measured over the last 100 ms before the stimulus) and the
# attention effect come from the same runs.

# %%
base = CMSAParams(stimulus_duration=100 * ms, stimulus_amplitude=0.9 * nA)
points = [base.with_(rp=rp * ms, seed=s) for rp in STATES.values() for s in SEEDS]
runs = {}


def keep(k, run, session):
    runs[k] = run


device = "cpp_standalone" if cxx_compiler_works() else "runtime"
session = simulate(points, device=device, on_result=keep)
timings = session.describe()["timings"]
print(f"{device}: construct {timings.get('construct_s', 0):.1f} s, "
      f"build {timings.get('build_s', 0):.1f} s, last run {timings.get('run_s', 0):.1f} s")
numbers["device"] = device
numbers["seeds"] = SEEDS

# %% [markdown]
# ## Phi per state
# Bumps barely move (slower than the speed floor counts as stationary: Phi near 0);
# waves travel together (Phi near 1); the critical state is in between and depends
# on the seed.

# %%
phi = {}
for n, (state, rp) in enumerate(STATES.items()):
    values = [runs[n * len(SEEDS) + k].phi.phi for k in range(len(SEEDS))]
    phi[state] = values
    numbers[f"phi_{state}"] = [round(float(v), 2) for v in values]
    numbers[f"rate_e_{state}_hz"] = round(float(np.mean(
        [runs[n * len(SEEDS) + k].rate_e for k in range(len(SEEDS))])), 1)
fig, axes = plt.subplots(1, 3, figsize=(9, 3.3))
for ax, (n, state) in zip(axes, enumerate(STATES)):
    run = runs[n * len(SEEDS)]
    sheet_snapshot(run.frames[-1], ax, title=f"{state}, rp {STATES[state]} ms\n"
                   f"Phi = {run.phi.phi:.2f}")
fig.tight_layout()
fig.savefig(OUT / "states.png", dpi=80)
run = runs[2 * len(SEEDS)]  # a wave: the raster shows the travelling fronts
keep_rows = run.e_i % base.e_side == base.e_side // 2  # one column of the sheet
ax = raster(run.e_t[keep_rows], run.e_i[keep_rows] // base.e_side, markersize=1.5)
ax.set_ylabel("row (column 75)")
ax.figure.savefig(OUT / "wave_raster.png", dpi=80)

# %% [markdown]
# ## Attention: the cross attracts the patterns
# The share of E spikes inside the cross, divided by the cross's share of the sheet:
# 1 means the cross gets its fair share; above 1, activity gathers on it.

# %%
mask = cross_image(base.e_side) > 0.5
numbers["cross_area_share"] = round(float(mask.mean()), 3)
for n, state in enumerate(STATES):
    att = [runs[n * len(SEEDS) + k].attention for k in range(len(SEEDS))]
    numbers[f"attention_{state}_before"] = round(float(np.mean([a["ratio_before"]
                                                                for a in att])), 2)
    numbers[f"attention_{state}_after"] = round(float(np.mean([a["ratio_after"]
                                                               for a in att])), 2)
    numbers[f"attention_{state}_peak"] = round(float(np.mean([a["ratio_peak"]
                                                              for a in att])), 2)
run = runs[len(SEEDS)]  # critical state, first seed
onset = float(base.stimulus_onset / ms)
fig, axes = plt.subplots(1, 2, figsize=(6.5, 3.3))
for ax, (a, b, title) in zip(axes, [(onset - 20, onset, "before the cross"),
                                    (onset + 20, onset + 40, "20-40 ms after onset")]):
    counts = np.bincount(run.e_i[(run.e_t >= a) & (run.e_t < b)],
                         minlength=base.e_side**2).reshape(base.e_side, base.e_side)
    sheet_snapshot(counts, ax, title=title)
    ax.contour(mask, [0.5], colors="r", linewidths=0.6)
fig.tight_layout()
fig.savefig(OUT / "attention.png", dpi=80)

# %%
report("09_cmsa", numbers, OUT)
