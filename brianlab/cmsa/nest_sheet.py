"""The CMSA sheet in NEST: the same experiment on another simulator (``validate`` extra).

The sheet of :class:`~brianlab.cmsa.CMSAParams` built with NEST 3.10's spatial module,
independently of brianlab's own builder: ``iaf_cond_exp`` neurons with the same C, g_L,
E_L, V_th, V_reset, refractory period, reversal potentials and synaptic time constant;
the E and I populations as free layers at brianlab's lattice positions (node k of a
layer is brianlab's neuron k, so the spikes go straight into brianlab's Phi) on one
torus (``edge_wrap``); each pathway NEST's ``fixed_indegree`` rule with a Gaussian
connection probability of distance of the same sigma and in-degree, multapses allowed,
no autapses; the weight of a pathway ``g_max * K / k`` (K the dense kernel's sum, as
brianlab normalises it); the same drive values (brianlab's sine hash of neuron, time and
seed, refreshed every ``drive_interval`` until ``drive_duration``) from one
``step_current_generator`` per neuron.

What differs, by the simulators' design: NEST integrates ``iaf_cond_exp`` with an
adaptive Runge-Kutta-Fehlberg solver (brianlab: forward Euler at ``dt``); NEST's
smallest synaptic delay is one time step (brianlab: zero delay, the spike acts from the
next step); the drive reaches a NEST neuron 2 steps (0.2 ms) later; NEST draws the
connectivity with its own generator. The states are compared (bump, wave), not spike
times.
"""

from __future__ import annotations

import time

import numpy as np
from brian2 import mV, ms, nA, nS, pF

from ..space import Lattice, kernel_sum
from .params import CMSAParams

__all__ = ["build_nest_sheet", "simulate_nest", "drive_values"]


def drive_values(n: int, offset: int, t_ms: float, seed: int) -> np.ndarray:
    """brianlab's drive hash (``brianlab.networks.sheet.HASH_UNIFORM``) in numpy.

    Parameters
    ----------
    n : int
        Neurons of the group.
    offset : int
        The group's index offset (0 for E, 1 000 003 for I).
    t_ms : float
        Time of the update in ms.
    seed : int
        Drive seed.

    Returns
    -------
    ndarray
        Uniform numbers in [0, 1), one per neuron.
    """
    i = np.arange(n) + offset
    x = np.sin(12.9898 * i + 78.233 * t_ms + 37.719 * seed + 0.1) * 43758.5453
    return x - np.floor(x)


def _layer(nest, lattice: Lattice, side: int, params: dict):
    """A free layer at the lattice's positions, centred on the torus of ``side``."""
    pos = lattice.positions() - side / 2 + 0.5
    return nest.Create("iaf_cond_exp", params=params,
                       positions=nest.spatial.free(pos.tolist(), extent=[float(side)] * 2,
                                                   edge_wrap=True))


def build_nest_sheet(p: CMSAParams, *, threads: int = 2, seed: int = 1) -> dict:
    """Build the sheet of ``p`` in a freshly reset NEST kernel (not simulated).

    Parameters
    ----------
    p : CMSAParams
        The simulation (``rule`` must be ``fixed_indegree``; no stimulus phase).
    threads : int
        NEST's local threads.
    seed : int
        NEST's random seed (the connectivity).

    Returns
    -------
    dict
        ``E``, ``I`` (NodeCollections; node k is brianlab's neuron k) and ``recorders``
        (``e``, ``i``: their spike recorders).

    Raises
    ------
    ValueError
        For a rule or protocol this NEST sheet does not implement.
    """
    if p.rule != "fixed_indegree":
        raise ValueError(f"the NEST sheet connects by fixed in-degree, not {p.rule!r}")
    if p.stimulus_duration > 0 * ms:
        raise ValueError("the NEST sheet runs the drive and the spontaneous phase only")
    import nest

    nest.verbosity = nest.VerbosityLevel.ERROR
    nest.ResetKernel()
    dt = float(p.dt / ms)
    nest.SetKernelStatus({"resolution": dt, "local_num_threads": int(threads),
                          "rng_seed": int(seed), "print_time": False})
    params = {"C_m": float(p.C / pF), "g_L": float(p.g_L / nS), "E_L": _mv(p.E_L),
              "V_th": _mv(p.V_th), "V_reset": _mv(p.V_reset), "t_ref": float(p.rp / ms),
              "E_ex": _mv(p.E_ampa), "E_in": _mv(p.E_gaba), "tau_syn_ex": float(p.tau_syn / ms),
              "tau_syn_in": float(p.tau_syn / ms), "I_e": 0.0, "V_m": _mv(p.E_L)}
    e_lat, i_lat = Lattice(p.e_side), Lattice(p.i_side, float(p.e_side))
    E, I = _layer(nest, e_lat, p.e_side, params), _layer(nest, i_lat, p.e_side, params)
    pathways = (("ee", E, E, e_lat, e_lat, p.sigma_e, p.k_e, float(p.we / nS)),
                ("ei", E, I, e_lat, i_lat, p.sigma_e, p.k_e, float(p.we / nS)),
                ("ie", I, E, i_lat, e_lat, p.sigma_i, p.k_i, -float(p.wi / nS)),
                ("ii", I, I, i_lat, i_lat, p.sigma_i, p.k_i, -float(p.wi / nS)))
    for _, src, tgt, s_lat, t_lat, sigma, k, g_max in pathways:
        same = src is tgt
        weight = g_max * kernel_sum(s_lat, t_lat, sigma, allow_self=not same,
                                    same_population=same) / k
        nest.Connect(src, tgt, {"rule": "fixed_indegree", "indegree": int(k),
                                "p": nest.spatial_distributions.gaussian(
                                    nest.spatial.distance, std=float(sigma)),
                                "allow_autapses": False, "allow_multapses": True},
                     {"weight": float(weight), "delay": dt})
    interval, end = float(p.drive_interval / ms), float(p.drive_duration / ms)
    updates = int(np.ceil(end / interval - 1e-9))
    # NEST changes a generator's current at t > 0 only and delivers it after the
    # connection's delay: every value reaches the neuron 2 steps later than brianlab's
    times = [u * interval + dt for u in range(updates)] + [end + dt]
    amplitude = float(p.drive / nA) * 1e3  # pA
    recorders = {}
    for label, group, n, offset in (("e", E, p.e_side**2, 0), ("i", I, p.i_side**2, 1_000_003)):
        values = np.column_stack([amplitude * drive_values(n, offset, u * interval, p.seed)
                                  for u in range(updates)] + [np.zeros(n)])
        generators = nest.Create("step_current_generator", n, params=[
            {"amplitude_times": times, "amplitude_values": row.tolist()} for row in values])
        nest.Connect(generators, group, "one_to_one", {"delay": dt})
        recorders[label] = nest.Create("spike_recorder")
        nest.Connect(group, recorders[label])
    return {"E": E, "I": I, "recorders": recorders}


def simulate_nest(p: CMSAParams, *, threads: int = 2, seed: int = 1) -> dict:
    """Build and run the sheet of ``p`` (drive and spontaneous phase) in NEST.

    Parameters
    ----------
    p, threads, seed
        As :func:`build_nest_sheet`.

    Returns
    -------
    dict
        ``e_i``, ``e_t``, ``i_i``, ``i_t`` (indices as brianlab's, times in s), and
        ``timings`` (``build_s``, ``simulate_s``).
    """
    import nest

    start = time.perf_counter()
    sheet = build_nest_sheet(p, threads=threads, seed=seed)
    build_s = time.perf_counter() - start
    start = time.perf_counter()
    nest.Simulate(float((p.drive_duration + p.duration) / ms))
    out = {"timings": {"build_s": build_s, "simulate_s": time.perf_counter() - start}}
    for label, group in (("e", sheet["E"]), ("i", sheet["I"])):
        events = sheet["recorders"][label].get("events")
        first = group[0].global_id
        out[f"{label}_i"] = np.asarray(events["senders"], dtype=np.int32) - first
        out[f"{label}_t"] = np.asarray(events["times"], dtype=float) / 1e3
    return out


def _mv(value) -> float:
    return float(value / mV)
