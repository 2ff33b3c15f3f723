# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 7. Hebbian associative memory
#
# The outer-product memory of the source document: input neurons f' make synapses
# a_ij onto output neurons g'. When f and g are active together, Hebb's rule changes
# each synapse by `k f_j g_i`, i.e. `A += k outer(g, f)`. Later, f alone evokes
# `G = A f`. This tutorial recalls one pattern, stores several, and shows why their
# f patterns must be orthogonal, and what cross-talk does when they are not. Every
# printed number is checked by `tests/test_tutorials.py`.

# %%
import matplotlib.pyplot as plt
import numpy as np

from brianlab.tutorial import QUICK, output_dir, report

OUT = output_dir("07_hebbian_memory")
numbers = {}


def learn(fs, gs, k=1.0):
    """Hebbian outer-product learning of pairs (f_p, g_p): A = k sum_p outer(g_p, f_p)."""
    return k * np.einsum("pi,pj->ij", np.atleast_2d(gs), np.atleast_2d(fs))


# %% [markdown]
# ## One memory
# f = [0,0,0,1,1,1] and g = [1,1,0,1,0,0] active together, k = 1.

# %%
f = np.array([0, 0, 0, 1, 1, 1])
g = np.array([1, 1, 0, 1, 0, 0])
A = learn(f, g)
print("A =\n", A.astype(int))
G = A @ f
print("G = A f =", G.astype(int), "= 3 g")
numbers["A"] = A.astype(int).tolist()
numbers["G"] = G.astype(int).tolist()
# in general G = A f = k (f . f) g: a multiple of g, whatever g is
numbers["G_over_g"] = sorted(set((G[g > 0] / g[g > 0]).tolist()))
numbers["f_dot_f"] = int(f @ f)

# %% [markdown]
# ## Several memories
# With `A = sum_p k outer(g_p, f_p)`, presenting f_q gives
# `G_q = k sum_p (f_p . f_q) g_p`: the wanted `k (f_q . f_q) g_q` plus cross-talk from
# every other memory whose f overlaps f_q. Orthogonal f patterns recall perfectly.

# %%
F_orth = np.array([[1, 1, 0, 0, 0, 0], [0, 0, 1, 1, 0, 0], [0, 0, 0, 0, 1, 1]])
F_overlap = np.array([[1, 1, 0, 0, 0, 0], [0, 1, 1, 0, 0, 0], [0, 0, 1, 1, 0, 0]])
Gs = np.array([[1, 0, 0, 1, 0, 0], [0, 1, 0, 0, 1, 0], [0, 0, 1, 0, 0, 1]])


def recall_quality(F, Gpat):
    """Cosine similarity between each recalled G_p and its stored g_p."""
    A = learn(F, Gpat)
    recalled = F @ A.T  # row p: A f_p
    norms = np.linalg.norm(recalled, axis=1) * np.linalg.norm(Gpat, axis=1)
    return np.sum(recalled * Gpat, axis=1) / norms, recalled


quality_orth, recalled_orth = recall_quality(F_orth, Gs)
quality_overlap, recalled_overlap = recall_quality(F_overlap, Gs)
numbers["orthogonal_recall_cosine"] = [round(float(q), 4) for q in quality_orth]
numbers["overlapping_recall_cosine"] = [round(float(q), 4) for q in quality_overlap]
numbers["overlapping_recalled"] = recalled_overlap.astype(int).tolist()
print("orthogonal f:   recall cosine", numbers["orthogonal_recall_cosine"])
print("overlapping f:  recall cosine", numbers["overlapping_recall_cosine"])

# %% [markdown]
# ## Capacity: random sparse patterns
# N = 200 input and output neurons, patterns with 10 % active neurons. Recall is read
# out by keeping the output neurons whose G exceeds half its maximum; as more pairs
# are stored, cross-talk grows and recall fails.

# %%
rng = np.random.default_rng(0)
N, active = 200, 20
loads = [1, 5, 10, 20, 40, 80] if QUICK else [1, 5, 10, 20, 40, 80, 160, 320]


def sparse_patterns(count):
    patterns = np.zeros((count, N))
    idx = np.argsort(rng.random((count, N)), axis=1)[:, :active]
    np.put_along_axis(patterns, idx, 1.0, axis=1)
    return patterns


errors = []
for P in loads:
    F, Gpat = sparse_patterns(P), sparse_patterns(P)
    recalled = F @ learn(F, Gpat).T
    bits = recalled > 0.5 * recalled.max(axis=1, keepdims=True)
    errors.append(float(np.mean(bits != (Gpat > 0))))
numbers["capacity_loads"] = loads
numbers["capacity_bit_error"] = [round(e, 4) for e in errors]
print("stored pairs:", loads)
print("bit error:   ", numbers["capacity_bit_error"])
fig, ax = plt.subplots(figsize=(5, 3))
ax.semilogx(loads, errors, "o-")
ax.set_xlabel("stored pairs")
ax.set_ylabel("fraction of wrong output bits")
fig.savefig(OUT / "capacity.png", dpi=80)
fig, axes = plt.subplots(1, 2, figsize=(6, 3))
axes[0].imshow(recalled_orth, cmap="gray_r")
axes[0].set_title("orthogonal f")
axes[1].imshow(recalled_overlap, cmap="gray_r")
axes[1].set_title("overlapping f")
fig.savefig(OUT / "recall.png", dpi=80)

# %%
report("07_hebbian_memory", numbers, OUT)
