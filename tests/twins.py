"""Plain-Brian2 twins of five published networks, written from the papers (issue 24).

An independent reference for brianlab's network files: nothing here imports brianlab.
Each function builds its network with an explicit `brian2.Network`, runs it on the device
asked for and returns a `TwinRun` of plain numpy arrays (spike indices and times in
seconds per population) and the parameters used.

- `cuba`, `coba`: Brette et al. (2007) J Comput Neurosci 23:349, benchmarks 2 and 1
  (after Vogels & Abbott 2005): 4000 LIF neurons, 3200 E / 800 I, p = 0.02.
- `cobahh`: benchmark 3 of the same paper (Hodgkin-Huxley, Traub & Miles 1991 kinetics).
- `brunel2000`: Brunel (2000) J Comput Neurosci 8:183, model A (delta synapses, delay D,
  external Poisson drive as Brian2's `PoissonInput` or as a per-step Poisson count).
- `vogels2011`: Vogels et al. (2011) Science 334:1569, conductance-based LIF network with
  inhibitory STDP on I->E synapses (target rate rho0).

The order of random draws (shared with brianlab's network builder, so that the same seeds
give the same spikes) is:

1. ``brian2.seed(connectivity_seed)`` before anything is created;
2. the populations in order (E, then I), each one's initial values set right after the
   group is created, in the order the variables are listed here (random ones as Brian2
   string expressions with ``rand()``/``randn()``);
3. the projections in order EE, EI, IE, II (source-target), each created, connected, its
   weights set, then its delays set, before the next one is created;
4. the external inputs (E, then I);
5. the monitors (a `SpikeMonitor` per population, E then I);
6. ``brian2.seed(drive_seed)`` immediately before ``Network.run``.

Connections: ``connect="p"`` uses Brian2's ``connect(p=...)`` (its sampling of the
targets differs between the numpy target and C++, so spikes differ across devices);
``connect="rand"`` uses ``connect(condition="rand() < p")``, which draws one number per
pair in the same order on every device (runtime and cpp_standalone then give identical
spikes). Brunel's model A has a fixed in-degree (``connect="indegree"``:
``connect(i="k for k in sample(N_pre, size=C)")``, without autapses excluded).

Keyword arguments every twin takes: ``duration`` (Brian2 time), ``connectivity_seed`` and
``drive_seed`` (ints), ``device`` ("runtime" or "cpp_standalone"), ``connect`` (see
above), ``dt`` (Brian2 time, 0.1 ms); each returns a `TwinRun`.

Standalone: ``device="cpp_standalone"`` sets the device with ``build_on_run=False``, builds
in a fresh temporary directory (removed after the arrays are read), then
``device.reinit()`` and ``reset_device()``, so the functions can be called repeatedly in
one process.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

import brian2 as b2
from brian2.devices.device import reset_device
from brian2 import Hz, mV, ms, nS, pA, pF, second, siemens, cm, ufarad, umetre, msiemens

__all__ = ["TwinRun", "cuba", "coba", "cobahh", "brunel2000", "vogels2011",
           "population_rate", "mean_rate", "isi_cv", "rate_cv", "chi_synchrony",
           "spectrum_peak"]


#: Where cpp_standalone builds go: None for a fresh temporary directory per run (removed
#: after), or a folder that is kept and reused (make then recompiles only what changed).
STANDALONE_DIRECTORY = None


@dataclass
class TwinRun:
    """What a twin returns: spikes per population (indices, times in s) and parameters."""

    spikes: dict            # population -> (indices int array, times float array in s)
    sizes: dict             # population -> number of neurons
    duration: float         # simulated time in s
    params: dict            # every parameter used (Brian2 quantities)
    wall_s: float = 0.0     # wall-clock time of build + run (+ compile on standalone)
    extra: dict = field(default_factory=dict)

    def rate(self, pop, t0=0.0):
        """Mean rate (Hz) of population ``pop`` after ``t0`` s."""
        i, t = self.spikes[pop]
        return mean_rate(t, self.sizes[pop], t0, self.duration)


# ---------------------------------------------------------------- device handling

@contextmanager
def _on_device(device, dt):
    """Set ``defaultclock.dt`` (and the device); restore both after."""
    old_dt = b2.defaultclock.dt
    if device not in ("runtime", "cpp_standalone"):
        raise ValueError(f"device must be 'runtime' or 'cpp_standalone', not {device!r}")
    if device == "cpp_standalone":
        b2.set_device("cpp_standalone", build_on_run=False)
    try:
        b2.defaultclock.dt = dt
        yield
    finally:
        if device == "cpp_standalone":
            b2.get_device().reinit()
            reset_device()
        b2.defaultclock.dt = old_dt


def _run(net, phases, drive_seed, device, namespace, monitors, sizes, params, t_start,
         read=None):
    """Seed the drive, run the phases ((duration, change before it or None), ...), build
    on standalone, read the monitors (and ``read()``'s extra arrays)."""
    b2.seed(drive_seed)
    for duration, change in phases:
        if change is not None:
            change()
        net.run(duration, namespace=_ns(namespace))
    directory = None
    if device == "cpp_standalone":
        directory = STANDALONE_DIRECTORY or tempfile.mkdtemp(prefix="brianlab-twin-")
        b2.get_device().build(directory=directory, compile=True, run=True,
                              with_output=False)
    try:
        spikes = {pop: (np.array(m.i[:], dtype=np.int64), np.array(m.t[:] / second))
                  for pop, m in monitors.items()}
        extra = read() if read is not None else {}
    finally:
        if directory is not None and not STANDALONE_DIRECTORY:
            shutil.rmtree(directory, ignore_errors=True)
    total = sum(float(d / second) for d, _ in phases)
    return TwinRun(spikes=spikes, sizes=sizes, duration=total, params=params,
                   wall_s=time.perf_counter() - t_start, extra=extra)


def _ns(params):
    """The names equations may use: ``params`` without its strings."""
    return {k: v for k, v in params.items() if not isinstance(v, str)}


def _connect(syn, p, connect):
    """Connect with probability ``p`` as ``connect`` says ("p" or "rand")."""
    if connect == "p":
        syn.connect(p=p)
    elif connect == "rand":
        syn.connect(condition=f"rand() < {float(p)!r}")
    else:
        raise ValueError(f"connect must be 'p' or 'rand', not {connect!r}")


def _two_populations(n_e, n_i, eqs, threshold, reset, refractory, method, initial, ns):
    """E and I groups, each one's initial values (name -> expression) set after it."""
    groups = []
    for name, n in (("E", n_e), ("I", n_i)):
        g = b2.NeuronGroup(n, eqs, threshold=threshold, reset=reset, refractory=refractory,
                           method=method, name=f"twin_{name}", namespace=ns)
        for var, value in initial.items():
            setattr(g, var, value)
        groups.append(g)
    return groups


# ---------------------------------------------------------------- Brette et al. 2007

def _brette_projections(E, I, ns, p, connect, connectivity_seed, reseed, autapses):
    """The four random projections of benchmarks 1-3 (EE, EI, IE, II): ``{var}_post +=
    w`` with ``we``/``wi`` from the namespace, each pair connected with probability ``p``.

    ``reseed=True`` follows the draw convention of brianlab's network files (see
    `brunel2000`): Brian2 re-seeded with ``connectivity_seed + 2n - 1`` before the n-th
    projection's ``connect`` and ``+ 2n`` after it (no values are drawn here).
    ``autapses=False`` leaves out a neuron's synapse onto itself (EE, II), as
    ``connect(p=p, condition="i != j")``; the paper's Brian script keeps them.
    """
    syns = []
    for n, (pre, post, var, w) in enumerate(((E, E, "ge", "we"), (E, I, "ge", "we"),
                                             (I, E, "gi", "wi"), (I, I, "gi", "wi")), 1):
        s = b2.Synapses(pre, post, on_pre=f"{var}_post += {w}",
                        name=f"twin_{pre.name[-1]}{post.name[-1]}", namespace=ns)
        if reseed:
            b2.seed(connectivity_seed + 2 * n - 1)
        if not autapses and pre is post:
            if connect != "p":
                raise ValueError("autapses=False needs connect='p'")
            s.connect(p=p, condition="i != j")
        else:
            _connect(s, p, connect)
        if reseed:
            b2.seed(connectivity_seed + 2 * n)
        syns.append(s)
    return syns


def _connections(syns):
    """``{"EE": (i, j), ...}``: copies of each projection's synapse indices."""
    return {s.name[len("twin_"):]: (np.array(s.i[:], dtype=np.int64),
                                    np.array(s.j[:], dtype=np.int64)) for s in syns}


def cuba(duration=1 * second, *, N=4000, p=0.02, connectivity_seed=1, drive_seed=2,
         device="runtime", connect="p", dt=0.1 * ms, reseed=False, autapses=True):
    """Benchmark 2 of Brette et al. (2007): current-based LIF network (Vogels & Abbott 2005).

    tau_m 20 ms, E_L -49 mV, threshold -50 mV, reset -60 mV, refractory 5 ms, exponential
    currents (tau_e 5 ms, tau_i 10 ms), jumps w_e = 1.62 mV and w_i = -9 mV
    (= 60 * 0.27 / 10 mV and -20 * 4.5 / 10 mV), p = 0.02, 80 % E; initial v uniform
    between reset and threshold, ge = gi = 0; exact integration.
    """
    t_start = time.perf_counter()
    params = dict(taum=20 * ms, taue=5 * ms, taui=10 * ms, Vt=-50 * mV, Vr=-60 * mV,
                  El=-49 * mV, we=60 * 0.27 / 10 * mV, wi=-20 * 4.5 / 10 * mV, p=p,
                  refractory=5 * ms, dt=dt)
    n_e = int(round(0.8 * N))
    sizes = {"E": n_e, "I": N - n_e}
    eqs = """dv/dt = (ge + gi - (v - El)) / taum : volt (unless refractory)
             dge/dt = -ge / taue : volt
             dgi/dt = -gi / taui : volt"""
    with _on_device(device, dt):
        ns = _ns(params)
        b2.seed(connectivity_seed)
        E, I = _two_populations(n_e, N - n_e, eqs, "v > Vt", "v = Vr", params["refractory"],
                                "exact", {"v": "Vr + rand() * (Vt - Vr)",
                                          "ge": "0*mV", "gi": "0*mV"}, ns)
        syns = _brette_projections(E, I, ns, p, connect, connectivity_seed, reseed, autapses)
        monitors = {"E": b2.SpikeMonitor(E), "I": b2.SpikeMonitor(I)}
        net = b2.Network(E, I, *syns, *monitors.values())
        return _run(net, [(duration, None)], drive_seed, device, params, monitors, sizes, params,
                    t_start, read=lambda: {"connections": _connections(syns)})


def coba(duration=1 * second, *, N=4000, p=0.02, connectivity_seed=1, drive_seed=2,
         device="runtime", connect="p", dt=0.1 * ms, reseed=False, autapses=True):
    """Benchmark 1 of Brette et al. (2007): conductance-based LIF network.

    C 200 pF, g_L 10 nS (tau_m 20 ms), E_L -60 mV, threshold -50 mV, reset -60 mV,
    refractory 5 ms, exponential conductances (tau_e 5 ms, tau_i 10 ms, E_e 0 mV,
    E_i -80 mV), increments 6 nS and 67 nS, p = 0.02, 80 % E; initial values as in the
    paper's Brian script: v = E_L + (5 randn - 5) mV, ge = (1.5 randn + 4) * 10 nS,
    gi = (12 randn + 20) * 10 nS; Euler integration.
    """
    t_start = time.perf_counter()
    params = dict(C=200 * pF, gl=10 * nS, El=-60 * mV, Vt=-50 * mV, Vr=-60 * mV,
                  Ee=0 * mV, Ei=-80 * mV, taue=5 * ms, taui=10 * ms, we=6 * nS,
                  wi=67 * nS, p=p, refractory=5 * ms, dt=dt)
    n_e = int(round(0.8 * N))
    sizes = {"E": n_e, "I": N - n_e}
    eqs = """dv/dt = (gl * (El - v) + ge * (Ee - v) + gi * (Ei - v)) / C : volt (unless refractory)
             dge/dt = -ge / taue : siemens
             dgi/dt = -gi / taui : siemens"""
    with _on_device(device, dt):
        ns = _ns(params)
        b2.seed(connectivity_seed)
        E, I = _two_populations(n_e, N - n_e, eqs, "v > Vt", "v = Vr", params["refractory"],
                                "euler", {"v": "El + (randn() * 5 - 5) * mV",
                                          "ge": "(randn() * 1.5 + 4) * 10 * nS",
                                          "gi": "(randn() * 12 + 20) * 10 * nS"}, ns)
        syns = _brette_projections(E, I, ns, p, connect, connectivity_seed, reseed, autapses)
        monitors = {"E": b2.SpikeMonitor(E), "I": b2.SpikeMonitor(I)}
        net = b2.Network(E, I, *syns, *monitors.values())
        return _run(net, [(duration, None)], drive_seed, device, params, monitors, sizes, params,
                    t_start, read=lambda: {"connections": _connections(syns)})


def cobahh(duration=1 * second, *, N=4000, p=0.02, connectivity_seed=1, drive_seed=2,
           device="runtime", connect="p", dt=0.1 * ms, reseed=False, autapses=True):
    """Benchmark 3 of Brette et al. (2007): Hodgkin-Huxley network (Traub & Miles 1991).

    Area 20000 um^2, C_m 1 uF/cm^2, g_L 5e-5 S/cm^2, E_L -60 mV, g_Na 100 mS/cm^2,
    g_K 30 mS/cm^2, E_Na 50 mV, E_K -90 mV, V_T -63 mV; exponential conductances as in
    benchmark 1 (6 nS, 67 nS); a spike is a crossing of -20 mV (3 ms refractory, so one
    crossing counts once); m, n, h start at 0; v, ge, gi as in benchmark 1 (the paper's
    Brian script); exponential Euler.
    """
    t_start = time.perf_counter()
    area = 20000 * umetre ** 2
    params = dict(Cm=1 * ufarad * cm ** -2 * area, gl=5e-5 * siemens * cm ** -2 * area,
                  El=-60 * mV, EK=-90 * mV, ENa=50 * mV,
                  g_na=100 * msiemens * cm ** -2 * area, g_kd=30 * msiemens * cm ** -2 * area,
                  VT=-63 * mV, taue=5 * ms, taui=10 * ms, Ee=0 * mV, Ei=-80 * mV,
                  we=6 * nS, wi=67 * nS, p=p, dt=dt)
    n_e = int(round(0.8 * N))
    sizes = {"E": n_e, "I": N - n_e}
    eqs = """
    dv/dt = (gl*(El-v) + ge*(Ee-v) + gi*(Ei-v) - g_na*(m*m*m)*h*(v-ENa)
             - g_kd*(n*n*n*n)*(v-EK))/Cm : volt
    dm/dt = alpha_m*(1-m) - beta_m*m : 1
    dn/dt = alpha_n*(1-n) - beta_n*n : 1
    dh/dt = alpha_h*(1-h) - beta_h*h : 1
    dge/dt = -ge/taue : siemens
    dgi/dt = -gi/taui : siemens
    alpha_m = 0.32*(mV**-1)*(13*mV-v+VT)/(exp((13*mV-v+VT)/(4*mV))-1.)/ms : Hz
    beta_m = 0.28*(mV**-1)*(v-VT-40*mV)/(exp((v-VT-40*mV)/(5*mV))-1)/ms : Hz
    alpha_h = 0.128*exp((17*mV-v+VT)/(18*mV))/ms : Hz
    beta_h = 4./(1+exp((40*mV-v+VT)/(5*mV)))/ms : Hz
    alpha_n = 0.032*(mV**-1)*(15*mV-v+VT)/(exp((15*mV-v+VT)/(5*mV))-1.)/ms : Hz
    beta_n = .5*exp((10*mV-v+VT)/(40*mV))/ms : Hz
    """
    with _on_device(device, dt):
        ns = _ns(params)
        b2.seed(connectivity_seed)
        E, I = _two_populations(n_e, N - n_e, eqs, "v > -20*mV", "", 3 * ms,
                                "exponential_euler",
                                {"v": "El + (randn() * 5 - 5) * mV",
                                 "ge": "(randn() * 1.5 + 4) * 10 * nS",
                                 "gi": "(randn() * 12 + 20) * 10 * nS"}, ns)
        syns = _brette_projections(E, I, ns, p, connect, connectivity_seed, reseed, autapses)
        monitors = {"E": b2.SpikeMonitor(E), "I": b2.SpikeMonitor(I)}
        net = b2.Network(E, I, *syns, *monitors.values())
        return _run(net, [(duration, None)], drive_seed, device, params, monitors, sizes, params,
                    t_start, read=lambda: {"connections": _connections(syns)})


# ---------------------------------------------------------------- Brunel 2000

def brunel2000(g, nu_ext_over_nu_thr, duration=1 * second, *, scale=1.0, J=0.1 * mV,
               drive="poisson_input", connect="indegree", gate_refractory=True,
               connectivity_seed=1, drive_seed=2, device="runtime", dt=0.1 * ms,
               reseed=False):
    """Brunel (2000) model A: sparse E/I network of LIF neurons with delta synapses.

    N_E = 10000 * scale, N_I = N_E / 4, C_E = 0.1 N_E, C_I = 0.1 N_I (fixed in-degree),
    J = 0.1 mV, J_I = -g J, delay D = 1.5 ms, tau = 20 ms, theta = 20 mV, V_r = 10 mV,
    tau_rp = 2 ms; the potential stays at V_r during tau_rp and inputs arriving then are
    lost (``gate_refractory``). External drive: C_ext = C_E excitatory sources at
    nu_ext = nu_ext_over_nu_thr * theta / (J C_E tau), each of weight J, as Brian2's
    `PoissonInput` (``drive="poisson_input"``) or as a per-step Poisson count
    ``v += J * poisson(C_E * nu_ext * dt)`` in a ``run_regularly`` at ``when="synapses"``
    (``drive="count"``). Initial v uniform between V_r and theta. ``scale`` keeps
    epsilon = 0.1 and J: nu_thr grows as 1 / scale, and the external drive's mean and
    variance (J C_E nu_ext tau and J^2 C_E nu_ext tau) stay those of the full model.
    ``reseed=True`` follows brianlab's documented draw convention for network files
    (``docs/guide/networks.md``): Brian2 re-seeded with ``connectivity_seed + 2n - 1``
    before the n-th projection's ``connect`` and ``+ 2n`` before its values (here the
    delay), so that the same seeds give the same network as a brianlab build.
    """
    t_start = time.perf_counter()
    n_e = int(round(10000 * scale))
    n_i = n_e // 4
    c_e, c_i = int(round(0.1 * n_e)), int(round(0.1 * n_i))
    tau, theta = 20 * ms, 20 * mV
    nu_thr = theta / (J * c_e * tau)
    nu_ext = nu_ext_over_nu_thr * nu_thr
    params = dict(g=g, nu_ext_over_nu_thr=nu_ext_over_nu_thr, N_E=n_e, N_I=n_i, C_E=c_e,
                  C_I=c_i, J=J, JI=-g * J, D=1.5 * ms, tau=tau, theta=theta, V_r=10 * mV,
                  tau_rp=2 * ms, nu_thr=nu_thr, nu_ext=nu_ext, dt=dt, drive=drive,
                  lam=float(c_e * nu_ext * dt))
    sizes = {"E": n_e, "I": n_i}
    eqs = "dv/dt = -v / tau : volt (unless refractory)"
    gate = " * int(not_refractory_post)" if gate_refractory else ""
    with _on_device(device, dt):
        ns = _ns(params)
        b2.seed(connectivity_seed)
        E, I = _two_populations(n_e, n_i, eqs, "v > theta", "v = V_r", params["tau_rp"],
                                "exact", {"v": "V_r + rand() * (theta - V_r)"}, ns)
        syns = []
        for n, (pre, post, w, c) in enumerate(((E, E, "J", c_e), (E, I, "J", c_e),
                                               (I, E, "JI", c_i), (I, I, "JI", c_i)), 1):
            s = b2.Synapses(pre, post, on_pre=f"v_post += {w}{gate}",
                            name=f"twin_{pre.name[-1]}{post.name[-1]}", namespace=ns)
            if reseed:
                b2.seed(connectivity_seed + 2 * n - 1)
            if connect == "indegree":
                s.connect(i=f"k for k in sample({pre.N}, size={c})")
            else:
                _connect(s, 0.1, connect)
            if reseed:
                b2.seed(connectivity_seed + 2 * n)
            s.delay = params["D"]
            syns.append(s)
        inputs = []
        for grp in (E, I):
            if drive == "poisson_input":
                weight = "J * int(not_refractory)" if gate_refractory else "J"
                inputs.append(b2.PoissonInput(grp, "v", c_e, nu_ext, weight=weight))
            elif drive == "count":
                code = "v += J * poisson(lam)" + (" * int(not_refractory)"
                                                  if gate_refractory else "")
                inputs.append(grp.run_regularly(code, when="synapses",
                                                name=f"{grp.name}_drive"))
            else:
                raise ValueError(f"drive must be 'poisson_input' or 'count', not {drive!r}")
        monitors = {"E": b2.SpikeMonitor(E), "I": b2.SpikeMonitor(I)}
        net = b2.Network(E, I, *syns, *inputs, *monitors.values())
        return _run(net, [(duration, None)], drive_seed, device, params, monitors, sizes, params,
                    t_start)


# ---------------------------------------------------------------- Vogels et al. 2011

def vogels2011(duration=1 * second, *, scale=1.0, eta=1e-2, rho0=3 * Hz, w0=0.0,
               plasticity_on=0 * second, connectivity_seed=1, drive_seed=2,
               device="runtime", connect="p", dt=0.1 * ms):
    """Vogels et al. (2011): E/I conductance-based LIF network with inhibitory STDP.

    N_E = 8000 * scale, N_I = 2000 * scale; every projection random with probability
    epsilon = 0.02 / scale (capped at 1), so each neuron keeps the full model's in-degree
    (160 E and 40 I inputs); g_L 10 nS, C 200 pF (tau 20 ms), E_L -60 mV, threshold
    -50 mV, reset -60 mV, refractory 5 ms, E_E 0 mV, E_I -80 mV, tau_AMPA 5 ms,
    tau_GABA 10 ms, background current 200 pA; increments g_E = 0.03 g_L = 0.3 nS
    (E->E, E->I) and g_II = 10 g_E = 3 nS (I->I). I->E weights w (an I->E spike adds
    w nS to g_gaba) start at ``w0`` and follow the symmetric rule: at a presynaptic spike
    w += eta (x_post - alpha), at a postsynaptic spike w += eta x_pre, traces x +1 per
    spike decaying with tau_STDP 20 ms, alpha = 2 rho0 tau_STDP, w clipped to
    [0, w_max = 100]. ``eta`` is 0 before ``plasticity_on`` (the run is split there).
    eta = 1e-2 by default, as in Brian2's example of this paper, so that the rates settle
    within seconds. Euler integration; initial v uniform between reset and threshold.
    """
    t_start = time.perf_counter()
    n_e, n_i = int(round(8000 * scale)), int(round(2000 * scale))
    eps = min(1.0, 0.02 / scale)
    tau_stdp = 20 * ms
    params = dict(N_E=n_e, N_I=n_i, epsilon=eps, gl=10 * nS, C=200 * pF, El=-60 * mV,
                  Vt=-50 * mV, Vr=-60 * mV, Ee=0 * mV, Ei=-80 * mV, tau_ampa=5 * ms,
                  tau_gaba=10 * ms, I_b=200 * pA, g_e=0.3 * nS, g_ii=3 * nS,
                  g_ie=1 * nS, w0=w0, tau_stdp=tau_stdp, rho0=rho0, alpha=float(2 * rho0 * tau_stdp),
                  eta_final=eta, w_max=100.0, refractory=5 * ms, dt=dt)
    sizes = {"E": n_e, "I": n_i}
    eqs = """dv/dt = (gl * (El - v) + g_ampa * (Ee - v) + g_gaba * (Ei - v) + I_b) / C
                     : volt (unless refractory)
             dg_ampa/dt = -g_ampa / tau_ampa : siemens
             dg_gaba/dt = -g_gaba / tau_gaba : siemens"""
    stdp = """w : 1
              eta : 1 (shared)
              dApre/dt = -Apre / tau_stdp : 1 (event-driven)
              dApost/dt = -Apost / tau_stdp : 1 (event-driven)"""
    with _on_device(device, dt):
        ns = _ns(params)
        b2.seed(connectivity_seed)
        E, I = _two_populations(n_e, n_i, eqs, "v > Vt", "v = Vr", params["refractory"],
                                "euler", {"v": "Vr + rand() * (Vt - Vr)"}, ns)
        syns = []
        for pre, post in ((E, E), (E, I), (I, E), (I, I)):
            name = f"twin_{pre.name[-1]}{post.name[-1]}"
            if pre is E:
                s = b2.Synapses(pre, post, on_pre="g_ampa_post += g_e", name=name,
                                namespace=ns)
            elif post is I:
                s = b2.Synapses(pre, post, on_pre="g_gaba_post += g_ii", name=name,
                                namespace=ns)
            else:
                s = b2.Synapses(pre, post, model=stdp, name=name, namespace=ns,
                                on_pre="""Apre += 1
                                          w = clip(w + (Apost - alpha) * eta, 0, w_max)
                                          g_gaba_post += w * g_ie""",
                                on_post="""Apost += 1
                                           w = clip(w + Apre * eta, 0, w_max)""")
            _connect(s, eps, connect)
            if post is E and pre is I:
                s.w = w0
                s.eta = 0 if plasticity_on > 0 * second else eta
                plastic = s
            syns.append(s)
        monitors = {"E": b2.SpikeMonitor(E), "I": b2.SpikeMonitor(I)}
        net = b2.Network(E, I, *syns, *monitors.values())

        def switch_on():
            plastic.eta = eta

        phases = ([(plasticity_on, None), (duration - plasticity_on, switch_on)]
                  if plasticity_on > 0 * second else [(duration, None)])
        return _run(net, phases, drive_seed, device, params, monitors, sizes, params,
                    t_start, read=lambda: {"w_IE": np.array(plastic.w[:])})


# ---------------------------------------------------------------- statistics (numpy only)

def mean_rate(t, n, t0, t1):
    """Mean firing rate (Hz) of ``n`` neurons from spike times ``t`` (s) in [t0, t1)."""
    t = np.asarray(t)
    return float(np.count_nonzero((t >= t0) & (t < t1)) / (n * (t1 - t0)))


def population_rate(t, n, t0, t1, bin=1e-3):
    """Population rate (Hz) in bins of ``bin`` s over [t0, t1): (bin centres, rates)."""
    edges = np.arange(t0, t1 + bin / 2, bin)
    counts, _ = np.histogram(t, edges)
    return (edges[:-1] + bin / 2), counts / (n * bin)


def isi_cv(i, t, n, t0=0.0, min_spikes=3):
    """CV of the inter-spike intervals per neuron (spikes after ``t0``; neurons with at
    least ``min_spikes`` spikes), as an array."""
    i, t = np.asarray(i), np.asarray(t)
    keep = t >= t0
    i, t = i[keep], t[keep]
    order = np.lexsort((t, i))
    i, t = i[order], t[order]
    same = i[1:] == i[:-1]
    isi, owner = np.diff(t)[same], i[1:][same]
    count = np.bincount(owner, minlength=n)
    mean_all = np.bincount(owner, isi, minlength=n) / np.maximum(count, 1)
    dev = isi - mean_all[owner]  # two passes: no cancellation for regular trains
    var_all = np.bincount(owner, dev * dev, minlength=n) / np.maximum(count, 1)
    ok = count >= max(min_spikes - 1, 2)
    mean, var = mean_all[ok], var_all[ok]
    return np.sqrt(np.maximum(var, 0)) / mean


def rate_cv(t, n, t0, t1, bin=1e-3):
    """Coefficient of variation of the population rate (a synchrony index: about
    1 / sqrt(n * rate * bin) for independent Poisson neurons, order 1 when they fire
    together)."""
    _, r = population_rate(t, n, t0, t1, bin)
    return float(r.std() / r.mean()) if r.mean() > 0 else 0.0


def chi_synchrony(i, t, n, t0, t1, bin=2e-3):
    """Golomb's chi on spike counts in bins of ``bin`` s: sqrt(var(population mean count) /
    mean over neurons of var(count)); about 1 / sqrt(n) when neurons are independent,
    1 when they are identical."""
    i, t = np.asarray(i), np.asarray(t)
    keep = (t >= t0) & (t < t1)
    nb = int(round((t1 - t0) / bin))
    b = np.minimum(((t[keep] - t0) / bin).astype(np.int64), nb - 1)
    counts = np.zeros((n, nb))
    np.add.at(counts, (i[keep], b), 1)
    pop_var = counts.mean(axis=0).var()
    single = counts.var(axis=1).mean()
    return float(np.sqrt(pop_var / single)) if single > 0 else 0.0


def spectrum_peak(t, n, t0, t1, bin=1e-3, fmin=2.0):
    """Frequency (Hz) of the largest peak above ``fmin`` of the population rate's power
    spectrum (mean removed)."""
    _, r = population_rate(t, n, t0, t1, bin)
    power = np.abs(np.fft.rfft(r - r.mean())) ** 2
    f = np.fft.rfftfreq(len(r), bin)
    ok = f >= fmin
    return float(f[ok][np.argmax(power[ok])])
