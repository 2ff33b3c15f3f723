# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 5. Rate models: one population, then excitation and inhibition
#
# Follows the source document's rate-model tutorial (Neuromatch W2D4, tutorial 1) with
# the versioned model files `rates/wilson_cowan_1d` and `rates/wilson_cowan`: the F-I
# curve, a simulation against its analytic solution, fixed points and their
# eigenvalues derived from the model file (sympy), noise-driven switches between the
# two stable states, and the E-I phase plane with nullclines. Every printed number is
# checked by `tests/test_tutorials.py`.

# %%
import matplotlib.pyplot as plt
import numpy as np
from brian2 import Network, StateMonitor, ms, prefs, seed

import brianlab as bl
from brianlab.tutorial import QUICK, output_dir, report
from brianlab.analysis.dynamics import (classify, eigenvalues, fixed_points,
                                        vector_field)
from brianlab.plot import phase_plane

prefs.codegen.target = "numpy"
OUT = output_dir("05_rate_models")
numbers = {}
model = bl.load_model("wilson_cowan_1d@1")
print(model)
p = {k: float(v) for k, v in model.parameters.items()}


def F(x, a, theta):
    """The shifted sigmoid of the model file, written out for plotting: F(0) = 0."""
    return 1 / (1 + np.exp(-a * (x - theta))) - 1 / (1 + np.exp(a * theta))


# %% [markdown]
# ## The F-I curve
# Gain `a` sets the slope, threshold `theta` the position.

# %%
x = np.linspace(0, 10, 201)
fig, ax = plt.subplots(figsize=(5, 3))
for a, theta in [(1.2, 2.8), (2.0, 2.8), (1.2, 4.0)]:
    ax.plot(x, F(x, a, theta), label=f"a = {a}, theta = {theta}")
ax.set_xlabel("input x")
ax.set_ylabel("F(x)")
ax.legend()
fig.savefig(OUT / "f_I.png", dpi=80)
numbers["F_at_0"] = float(F(0.0, p["a"], p["theta"]))

# %% [markdown]
# ## Without recurrence (w = 0): simulation against the analytic solution
# `r(t) = F(I) + (r(0) - F(I)) exp(-t/tau)`.

# %%
G = model.neuron_group(1, I_ext=2.5, dt=0.01 * ms)
M = StateMonitor(G, "r", record=0)
Network(G, M).run(10 * ms)
t = np.asarray(M.t / ms)
analytic = F(2.5, p["a"], p["theta"]) + (0.2 - F(2.5, p["a"], p["theta"])) * np.exp(-t / 1.0)
numbers["w0_max_error"] = float(np.max(np.abs(M.r[0] - analytic)))
numbers["w0_steady_state"] = float(M.r[0][-1])

# %% [markdown]
# ## With recurrence (w = 5, I_ext = 0.5): fixed points and stability
# `Model.ode_system()` turns the file's equations into sympy expressions; the Jacobian
# is differentiated symbolically and the eigenvalues tell stability.

# %%
system = model.ode_system(w=5, I_ext=0.5)
points = fixed_points(system, [[0.0, 0.0], [0.4, 0.0], [0.9, 0.0]])
numbers["fixed_points"] = [round(float(r), 3) for r in points[:, 0]]
# the r direction (the OU input adds a stable direction of its own)
numbers["eigenvalues_per_ms"] = [round(float(eigenvalues(system, q)[-1].real) / 1000, 3)
                                 for q in points]
numbers["stability"] = ["stable" if lam < 0 else "unstable"
                        for lam in numbers["eigenvalues_per_ms"]]
numbers["classify_middle"] = classify(eigenvalues(system, points[1]))
r = np.linspace(0, 1, 201)
fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(r, F(5 * r + 0.5, p["a"], p["theta"]) - r)
ax.axhline(0, color="k", lw=0.5)
ax.plot(points[:, 0], 0 * points[:, 0], "o")
ax.set_xlabel("r")
ax.set_ylabel("tau dr/dt")
fig.savefig(OUT / "drdt.png", dpi=80)

# %% [markdown]
# ## Noise switches between the two stable states
# An Ornstein-Uhlenbeck input (`sigma_ou`) kicks the rate across the unstable fixed
# point now and then.

# %%
seed(2)
duration = (400 if QUICK else 2000) * ms
G = model.neuron_group(1, w=5, I_ext=0.5, sigma_ou=0.6, tau_ou=1 * ms, dt=0.1 * ms)
G.r = 0.1
M = StateMonitor(G, "r", record=0)
Network(G, M).run(duration)
high = M.r[0] > points[1, 0]
switches = int(np.sum(np.abs(np.diff(high.astype(int)))))
numbers["noise_switches"] = switches
numbers["noise_time_high_fraction"] = float(high.mean())
fig, ax = plt.subplots(figsize=(6, 2.5))
ax.plot(M.t / ms, M.r[0], lw=0.6)
ax.axhline(points[1, 0], color="k", ls=":", lw=0.8)
ax.set_xlabel("time (ms)")
ax.set_ylabel("r")
fig.savefig(OUT / "noise_switches.png", dpi=80)

# %% [markdown]
# ## Excitation and inhibition: the Wilson-Cowan phase plane
# Nullclines are the zero contours of dr_E/dt and dr_I/dt; fixed points sit where they
# cross, and their eigenvalues tell stability.

# %%
wc = bl.load_model("wilson_cowan@1")
wc_system = wc.ode_system()
guesses = [[a, b] for a in np.linspace(0, 1, 6) for b in np.linspace(0, 1, 6)]
wc_points = fixed_points(wc_system, guesses)
numbers["wc_fixed_points"] = [[round(float(v), 4) for v in q] for q in wc_points]
numbers["wc_stability"] = [classify(eigenvalues(wc_system, q)) for q in wc_points]
grid = np.linspace(-0.01, 1.0, 200)
dx, dy = vector_field(wc_system, "r_E", "r_I", grid, grid)
fig, ax = plt.subplots(figsize=(4, 4))
phase_plane(grid, grid, dx, dy, ax, points=wc_points, kinds=numbers["wc_stability"],
            names=("r_E", "r_I"))
fig.savefig(OUT / "phase_plane.png", dpi=80)

# %%
report("05_rate_models", numbers, OUT)
