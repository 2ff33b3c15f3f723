# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 8. STDP finds a repeating spike pattern
#
# Masquelier, Guyonneau & Thorpe (2008) showed that one neuron with spike-timing-
# dependent plasticity (STDP) finds a 50 ms spike pattern hidden in the activity of
# 2000 afferents, with no teacher: the pattern is repeated at random times, embedded
# in spikes of the same rate and covered with extra noise. The source document
# reproduces it in NEST; here it is built from model files on Brian2:
#
# - afferents: a `SpikeGeneratorGroup` fed by `brianlab.inputs.pattern_input` (rates
#   wandering in 0-90 Hz, the pattern in half of the afferents in a quarter of the
#   segments, 10 Hz noise);
# - neuron: `neurons/lif_adapt` (LIF with a spike-triggered afterhyperpolarisation,
#   in place of the paper's negative spike afterpotential) with the alpha current of
#   `receptors/current_alpha`;
# - learning: `synapses/stdp_nearest`, the paper's nearest-spike pair rule, and for
#   comparison the all-to-all `synapses/stdp_pair` and `synapses/stdp_triplet`, each
#   with its own neuron listening to the same afferents in the same network.
#
# Every number it prints is checked by `tests/test_tutorials.py`.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
from brian2 import ms, prefs, second

import brianlab as bl
from brianlab.tutorial import QUICK, output_dir, report
from brianlab.devices import cxx_compiler_works
from brianlab.inputs import pattern_input
from brianlab.networks import build_pattern_detector, selectivity
from brianlab.plot import raster

OUT = output_dir("08_stdp_pattern_detection")
numbers = {}
DURATION = 30.0 if QUICK else 150.0   # seconds of input
SEED = 0
RULES = ("stdp_nearest", "stdp_pair", "stdp_triplet")

# %% [markdown]
# ## The input
# Each afferent fires as a Poisson process whose rate wanders between 0 and 90 Hz
# (and fires anyway after 50 ms of silence). One 50 ms stretch of the first 1000
# afferents is then copied into a quarter of the 50 ms segments, never two in a row,
# and 10 Hz of extra spikes are added everywhere. Neither the rate of an afferent nor
# the total input gives the pattern away: only the precise timing repeats.

# %%
start = time.perf_counter()
inputs = pattern_input(2000, DURATION, seed=SEED)
pattern = inputs.pattern_afferents
numbers["input_generation_s"] = round(time.perf_counter() - start, 1)
numbers["mean_input_rate_hz"] = round(len(inputs.times) / (inputs.n * inputs.duration), 1)
numbers["presentations"] = len(inputs.onsets)
numbers["pattern_afferents"] = int(pattern.sum())
# the total input rate inside the pattern against outside: about the same
inside = inputs.in_pattern(inputs.times)
numbers["input_rate_in_pattern_hz"] = round(
    inside.sum() / (inputs.n * len(inputs.onsets) * inputs.segment), 1)
numbers["input_rate_outside_hz"] = round(
    (~inside).sum() / (inputs.n * (inputs.duration - len(inputs.onsets) * inputs.segment)), 1)

shown = np.r_[0:60, 1000:1060]                     # 60 pattern and 60 other afferents
keep = np.isin(inputs.indices, shown) & (inputs.times < 1.0)
fig, ax = plt.subplots(figsize=(7, 3))
row = np.searchsorted(shown, inputs.indices[keep])
raster(inputs.times[keep] * 1e3, row, ax=ax, markersize=1.5)
for onset in inputs.onsets[inputs.onsets < 1.0]:
    ax.axvspan(onset * 1e3, (onset + inputs.segment) * 1e3, color="tab:orange", alpha=0.25)
ax.axhline(59.5, color="tab:blue", lw=0.8)
ax.set_ylabel("afferent (60 pattern | 60 other)")
ax.set_title("first second of input; pattern presentations shaded")
fig.tight_layout()
fig.savefig(OUT / "input_raster.png", dpi=80)

# %% [markdown]
# ## Learning
# Every synapse starts at w = 0.475 (of w_max = 1). At first the neuron fires
# often and without preference. The nearest-spike rule potentiates the afferents
# whose spike came just before a postsynaptic spike and depresses those that fire
# just after; because the pattern repeats, the same afferents keep being rewarded
# whenever the neuron happens to fire inside it, and its depression bias (a- tau- =
# 1.7 a+ tau+) removes everything else. The network is built once on
# `cpp_standalone` (or the runtime device without a C++ compiler).

# %%
device = "cpp_standalone" if cxx_compiler_works() else "runtime"
if device == "runtime":
    prefs.codegen.target = "cython"
start = time.perf_counter()
with bl.use_device(device, quiet=True) as session:
    detector = build_pattern_detector(inputs, rules=RULES, weight_dt=1 * second, dt=0.1 * ms)
    session.run(detector.network, inputs.duration * second)
    weights = detector.final_weights()
    spikes = detector.spike_times()
    history = {rule: np.asarray(m.w) for rule, m in detector.weights.items()}
    history_t = np.asarray(detector.weights[RULES[0]].t / second)
numbers["device"] = device
numbers["build_and_run_s"] = round(time.perf_counter() - start, 1)
print(f"{device}: {inputs.duration:.0f} s of input for {len(RULES)} neurons in "
      f"{numbers['build_and_run_s']} s")

# %% [markdown]
# ## Weights, selectivity, latency
# For each rule: the mean final weight of the pattern afferents and of the others;
# in the last fifth of the run, the share of presentations that make the neuron fire
# (hits) and its spikes outside the pattern (false alarms, per second); and the
# latency from pattern onset to the first spike.

# %%
last = inputs.duration * 0.8
for rule in RULES:
    w, t = weights[rule], spikes[rule]
    score = selectivity(t, inputs, t_start=last)
    numbers[f"{rule}_w_pattern"] = round(float(w[pattern].mean()), 3)
    numbers[f"{rule}_w_other"] = round(float(w[~pattern].mean()), 3)
    numbers[f"{rule}_spikes"] = len(t)
    numbers[f"{rule}_hits"] = round(score["hits"], 2)
    numbers[f"{rule}_false_alarms_hz"] = round(score["false_alarms_hz"], 2)

# the nearest-spike neuron over time, in blocks of a tenth of the run
blocks = np.linspace(0, inputs.duration, 11)
scores = [selectivity(spikes["stdp_nearest"], inputs, a, b)
          for a, b in zip(blocks[:-1], blocks[1:], strict=True)]
numbers["nearest_rate_hz_by_tenth"] = [round(float(s["rate_hz"]), 1) for s in scores]
numbers["nearest_false_alarms_hz_by_tenth"] = [round(s["false_alarms_hz"], 1) for s in scores]
# latency once selective: from the first tenth with under 1 false alarm per second
whole = selectivity(spikes["stdp_nearest"], inputs)
selective = [k for k, s in enumerate(scores) if s["false_alarms_hz"] < 1.0]
numbers["nearest_selective_from_s"] = (round(float(blocks[selective[0]]), 1) if selective
                                       else None)
if selective:
    lat = whole["latencies_ms"][whole["onsets"] >= blocks[selective[0]]]
    lat = lat[np.isfinite(lat)]
    numbers["nearest_latency_first_ms"] = round(float(np.median(lat[:20])), 1)
    numbers["nearest_latency_last_ms"] = round(float(np.median(lat[-20:])), 1)

# %% [markdown]
# The pattern afferents end up with far larger weights than the others; within the
# pattern, the afferents that fire in its first milliseconds win (the latency falls
# as the neuron learns to fire earlier). The all-to-all rules, where every pre-post
# pair counts, see a depression lobe twice as long as the potentiation lobe summed
# over all spikes at 64 Hz: with the paper's amplitudes they fall silent, and even with
# depression lowered to a 5% bias they stay less selective.

# %%
fig, axes = plt.subplots(2, 2, figsize=(10, 6.5))
ax = axes[0, 0]
for rule, color in zip(RULES, ("k", "tab:blue", "tab:green"), strict=True):
    ax.plot(history_t, history[rule][pattern].mean(axis=0), color=color, label=f"{rule}, pattern")
    ax.plot(history_t, history[rule][~pattern].mean(axis=0), color=color, ls="--",
            label=f"{rule}, other")
ax.set_xlabel("time (s)")
ax.set_ylabel("mean weight")
ax.legend(fontsize=7)
ax = axes[0, 1]
ax.hist([weights["stdp_nearest"][pattern], weights["stdp_nearest"][~pattern]], bins=20,
        range=(0, 1), label=["pattern afferents", "other afferents"])
ax.set_xlabel("final weight (stdp_nearest)")
ax.set_ylabel("afferents")
ax.set_yscale("log")
ax.legend(fontsize=8)
ax = axes[1, 0]
t = spikes["stdp_nearest"]
in_pattern = inputs.in_pattern(t)
ax.plot(t[~in_pattern], np.zeros((~in_pattern).sum()), "|", color="tab:red", ms=10,
        label="false alarms")
ax.plot(whole["onsets"], whole["latencies_ms"], ".", ms=3, label="latency of hits")
ax.set_xlabel("time (s)")
ax.set_ylabel("latency after pattern onset (ms)")
ax.legend(fontsize=8)
ax = axes[1, 1]
ax.bar(np.arange(len(RULES)) - 0.2, [numbers[f"{r}_hits"] for r in RULES], 0.4, label="hits")
ax2 = ax.twinx()
ax2.bar(np.arange(len(RULES)) + 0.2, [numbers[f"{r}_false_alarms_hz"] for r in RULES], 0.4,
        color="tab:red", label="false alarms")
ax.set_xticks(range(len(RULES)), RULES)
ax.set_ylabel("hits (last fifth)")
ax2.set_ylabel("false alarms (Hz)", color="tab:red")
fig.tight_layout()
fig.savefig(OUT / "learning.png", dpi=80)
plt.close("all")

report("08_stdp_pattern_detection", numbers, OUT)
