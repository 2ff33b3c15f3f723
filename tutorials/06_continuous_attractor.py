# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 6. Continuous attractor networks
#
# Following the source document's CANN notebook with the model files `rates/cann_1d`
# and `rates/cann_2d` and the builder `brianlab.networks.build_cann`: the connection
# profile, a bump that persists without input (at its analytic height), smooth tracking
# of a moving input with the decoding error, the bump width, and spike-frequency
# adaptation (a travelling bump). Every printed number is checked by
# `tests/test_tutorials.py`.

# %%
import matplotlib.pyplot as plt
import numpy as np
from brian2 import Network, ms, prefs

from brianlab.tutorial import QUICK, output_dir, report
from brianlab.analysis.decoding import (bump_width, circular_error, decode_torus,
                                        population_vector)
from brianlab.networks import build_cann

prefs.codegen.target = "numpy"
OUT = output_dir("06_continuous_attractor")
numbers = {}

# %% [markdown]
# ## The connection profile
# `J(d) = J0 / (sqrt(2 pi) a) exp(-d**2 / (2 a**2))` on periodic distances (a = 0.5).

# %%
cann = build_cann("cann_1d", n=128, name="profile")
p = {k: float(v) for k, v in cann.model.parameters.items()}
weights = np.asarray(cann.recurrent.J[:]).reshape(128, 128)  # all-to-all, pre-major
numbers["J_max"] = round(float(weights.max()), 4)
numbers["J_max_analytic"] = round(p["J0"] / (np.sqrt(2 * np.pi) * p["a"]), 4)
fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(cann.positions, weights[64])
ax.set_xlabel("preferred position (rad)")
ax.set_ylabel("J from unit 64")
fig.savefig(OUT / "connection_profile.png", dpi=80)

# %% [markdown]
# ## A bump that persists without input
# A brief Gaussian input at x = 0.5 rad, then nothing: the bump stays, at the height
# of the analytic stationary solution `u0 = (1 + sqrt(1 - k/k_c)) J0 / (4 sqrt(pi) a k)`
# with `k_c = rho J0**2 / (8 sqrt(2 pi) a)` and unit density `rho = N / (2 pi)`.

# %%
net = Network(*cann.objects)
cann.group.I_ext = cann.gaussian_input(0.5)
net.run(20 * ms)
cann.group.I_ext = 0
net.run(50 * ms)
u_now = np.asarray(cann.group.u[:])
r_now = np.asarray(cann.group.r[:])
theory = cann.stationary_bump()  # the formula above, on this lattice
numbers["bump_height"] = round(float(u_now.max()), 4)
numbers["bump_height_analytic"] = round(theory["height"], 4)
numbers["bump_decoded_position"] = round(float(population_vector(r_now, cann.positions)), 4)
# u ~ exp(-x**2 / (4 a**2)): FWHM 4 a sqrt(ln 2); r ~ u**2: FWHM 2 a sqrt(2 ln 2)
numbers["bump_width_u"] = round(bump_width(u_now, cann.positions), 3)
numbers["bump_width_u_analytic"] = round(theory["width_u"], 3)
numbers["bump_width_r"] = round(bump_width(r_now, cann.positions), 3)
numbers["bump_width_r_analytic"] = round(theory["width_r"], 3)

# %% [markdown]
# ## Smooth tracking
# The input moves at a constant speed; the bump follows, a little behind. The
# population vector decodes its position every millisecond.


# %%
def track(m, speed=0.01, steps=None, name="track"):
    """Input moving at ``speed`` rad/ms from -1; returns input and decoded positions."""
    steps = steps or (80 if QUICK else 200)
    net_ = build_cann("cann_1d", n=128, name=name, m=m)
    network = Network(*net_.objects)
    net_.group.I_ext = net_.gaussian_input(-1.0)
    network.run(20 * ms)
    truth, decoded = [], []
    for step in range(steps):  # one update of the input per ms (not a loop over neurons)
        x = -1.0 + speed * step
        net_.group.I_ext = net_.gaussian_input(x, amplitude=1.0)
        network.run(1 * ms)
        truth.append(x + speed)
        decoded.append(population_vector(np.asarray(net_.group.r[:]), net_.positions))
    return np.array(truth), np.array(decoded)


truth, decoded = track(0.0)
error = circular_error(decoded, truth)
settled = slice(len(error) // 2, None)
numbers["tracking_mean_abs_error_rad"] = round(float(np.mean(np.abs(error[settled]))), 4)
numbers["tracking_lag_rad"] = round(float(-np.mean(error[settled])), 4)
truth_sfa, decoded_sfa = track(0.01, name="track_sfa")
error_sfa = circular_error(decoded_sfa, truth_sfa)
numbers["tracking_lag_with_adaptation_rad"] = round(float(-np.mean(error_sfa[settled])), 4)
fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(truth, label="input")
ax.plot(decoded, label="decoded, m = 0")
ax.plot(decoded_sfa, label="decoded, m = 0.01")
ax.set_xlabel("time (ms)")
ax.set_ylabel("position (rad)")
ax.legend()
fig.savefig(OUT / "tracking.png", dpi=80)

# %% [markdown]
# ## Adaptation: a travelling bump
# With strong enough spike-frequency adaptation (m > tau / tau_v = 0.02) a bump,
# once nudged, keeps moving on its own.

# %%
travelling = build_cann("cann_1d", n=128, name="sfa", m=0.08)
# the speed once it is steady: the first few hundred ms after the kick it still swings
speed = travelling.travel_speed(Network(*travelling.objects), kick=0.3)
numbers["travelling_speed_rad_per_ms"] = round(abs(speed), 4)

# %% [markdown]
# ## Two dimensions
# The same on a 24 x 24 torus (`cann_2d`): a bump decoded per axis.

# %%
torus = build_cann("cann_2d", n=24, name="torus")
tnet2 = Network(*torus.objects)
torus.group.I_ext = torus.gaussian_input([1.0, -2.0])
tnet2.run(10 * ms)
torus.group.I_ext = 0
tnet2.run(10 * ms)
xy = decode_torus(np.asarray(torus.group.r[:]), torus.positions)
numbers["torus_decoded"] = [round(float(v), 3) for v in xy]

# %%
report("06_continuous_attractor", numbers, OUT)
