"""The CMSA sheet as the source document's algorithm, written efficiently in numpy/scipy.

The speed reference of ``bench_peers``: what a course participant writes in an afternoon.
Dense Gaussian kernels (the course's ``exp(-d**2 / s_c)``, s_c = 18 for E sources in E
spacings, 400 for I sources in I spacings) applied to the spikes of each source population
by one FFT convolution per step on the torus; conductance-based LIF neurons with
exponential AMPA/GABA conductances (exact decay), Euler steps of the membrane, refractory
clamp, uniform random drive in [0, drive] renewed every drive interval. The I lattice sits
on every second point of the E lattice, so one convolution on the E grid serves both
target populations (I targets read every second point). Same parameters as
:class:`brianlab.cmsa.CMSAParams`; the drive comes from numpy's generator, so spike trains
are not those of brianlab's sheet, only its states (checked by Phi in the benchmark).

No Brian2 here: ``python -m benchmarks.fft_sheet --rp 10`` prints the time and Phi.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy import fft


def torus_kernel(side: int, s_c: float, unit: float = 1.0) -> np.ndarray:
    """``exp(-d**2 / s_c)`` on a ``side`` x ``side`` torus, d in spacings of ``unit`` points,
    centred at index (0, 0) (the layout FFT convolution wants)."""
    k = np.arange(side)
    d = np.minimum(k, side - k) / unit
    return np.exp(-(d[:, None] ** 2 + d[None, :] ** 2) / s_c)


def simulate(rp_ms: float = 10.0, e_side: int = 150, i_side: int = 75, *, we=0.02e-6,
             wi=0.01e-6, duration_ms=400.0, drive_ms=30.0, seed=0) -> dict:
    """Run the sheet; return spikes (indices, times in ms) of E and I and the wall time.

    Parameters
    ----------
    rp_ms : float
        Refractory period (ms).
    e_side, i_side : int
        Lattice sides (``e_side`` a multiple of ``i_side``).
    we, wi : float
        AMPA and GABA ``g_max`` (S).
    duration_ms, drive_ms : float
        Spontaneous phase and drive phase (ms).
    seed : int
        Seed of the drive.

    Returns
    -------
    dict
        ``e_i``, ``e_t``, ``i_i``, ``i_t`` (ms), ``seconds`` (the loop's wall time), ``steps``.
    """
    C, g_L, E_L, V_reset, V_th = 1e-9, 0.05e-6, -70e-3, -70e-3, -50e-3
    tau, E_a, E_g, drive, drive_dt = 3e-3, 0.0, -80e-3, 5e-9, 0.5e-3
    dt = 1e-4
    step = e_side // i_side
    steps = int(round((drive_ms + duration_ms) * 1e-3 / dt))
    drive_steps = int(round(drive_ms * 1e-3 / dt))
    renew = int(round(drive_dt / dt))
    shape = (e_side, e_side)
    k_e = fft.rfft2(torus_kernel(e_side, 18.0))          # E sources, d in E spacings
    k_i = fft.rfft2(torus_kernel(e_side, 400.0, unit=step))  # I sources, d in I spacings
    decay = np.exp(-dt / tau)
    rng = np.random.default_rng(seed)
    n_e, n_i = e_side**2, i_side**2
    v = np.full(n_e + n_i, E_L)
    s_a = np.zeros(n_e + n_i)     # summed kernel weights of E spikes (AMPA), decaying
    s_g = np.zeros(n_e + n_i)     # the same for I spikes (GABA)
    until = np.zeros(n_e + n_i)   # end of refractoriness (s)
    current = np.zeros(n_e + n_i)
    grid = np.zeros(shape)
    spikes_i, spikes_t = [], []
    start = time.perf_counter()
    for n in range(steps):
        t = n * dt
        if n < drive_steps and n % renew == 0:
            current = rng.uniform(0.0, drive, n_e + n_i)
        elif n == drive_steps:
            current = np.zeros(n_e + n_i)
        s_a *= decay
        s_g *= decay
        dv = (g_L * (E_L - v) + we * s_a * (E_a - v) + wi * s_g * (E_g - v) + current) * (dt / C)
        active = until <= t
        v[active] += dv[active]
        fired = np.flatnonzero(v > V_th)
        if fired.size == 0:
            continue
        v[fired] = V_reset
        until[fired] = t + rp_ms * 1e-3
        spikes_i.append(fired)
        spikes_t.append(np.full(fired.size, t * 1e3))
        for sources, kernel, s in ((fired[fired < n_e], k_e, s_a),
                                   (fired[fired >= n_e] - n_e, k_i, s_g)):
            if sources.size == 0:
                continue
            grid[:] = 0.0
            if kernel is k_e:
                grid.flat[sources] = 1.0
            else:  # I neuron (a, b) sits at E point (step*a, step*b)
                a, b = np.divmod(sources, i_side)
                grid[a * step, b * step] = 1.0
            field = fft.irfft2(fft.rfft2(grid) * kernel, s=shape)
            s[:n_e] += field.ravel()
            s[n_e:] += field[::step, ::step].ravel()
    seconds = time.perf_counter() - start
    idx = np.concatenate(spikes_i) if spikes_i else np.zeros(0, int)
    tms = np.concatenate(spikes_t) if spikes_t else np.zeros(0)
    e = idx < n_e
    return {"e_i": idx[e], "e_t": tms[e], "i_i": idx[~e] - n_e, "i_t": tms[~e],
            "seconds": seconds, "steps": steps}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rp", type=float, default=10.0)
    parser.add_argument("--size", type=int, default=150)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    out = simulate(args.rp, args.size, args.size // 2, seed=args.seed)
    print(f"{out['seconds']:.2f} s, {out['steps']} steps, {len(out['e_i'])} E spikes, "
          f"{len(out['i_i'])} I spikes")


if __name__ == "__main__":
    main()
