"""The FFT reference of ``benchmarks/bench_peers.py`` is the source's algorithm and works.

A speed comparison is only meaningful against an implementation that computes the same
thing: its kernels are the course's (checked against the Gaussian integral) and its sheet
shows the wave state at rp = 10 ms (Phi by brianlab's analysis, as the lab report finds).
"""

import numpy as np
from brian2 import ms

from benchmarks.fft_sheet import simulate, torus_kernel
from brianlab.cmsa import CMSAParams
from brianlab.cmsa.protocol import analyse


def test_kernels_are_the_course_gaussians():
    k = torus_kernel(150, 18.0)
    assert k[0, 0] == 1.0 and np.allclose(k, k.T) and np.allclose(k[1:], k[1:][::-1])
    # sum of exp(-d**2/s_c) over the plane = pi*s_c (the sampled Gaussian's sum equals
    # the integral to ~1e-30 for this width, by Poisson summation)
    assert abs(k.sum() - np.pi * 18.0) < 1e-9
    k_i = torus_kernel(150, 400.0, unit=2)  # I sources: d in I spacings = E spacings / 2
    assert abs(k_i[0, 40] - np.exp(-(20**2) / 400.0)) < 1e-15


def test_the_reference_sheet_shows_the_wave_state():
    out = simulate(10.0, seed=0)
    run = analyse(CMSAParams(rp=10 * ms), out["e_i"], out["e_t"], out["i_i"], out["i_t"])
    assert run.phi.phi > 0.8  # travelling waves (measured 0.92)
    assert 1.0 < run.rate_e < 10.0  # sparse activity of a few Hz (measured 3.6 Hz)
