"""Standard protocols that characterise one model file: the numbers behind its catalogue page.

Each function builds a small explicit :class:`brian2.Network` from a model with
:mod:`brianlab.compose`, runs it on the current device and returns plain arrays (times
in ms, voltages in mV, currents in pA) for plotting or testing:

- neurons: :func:`rheobase` (a scan with :func:`brianlab.networks.fi.simulate_fi`) and
  :func:`step_response`;
- receptors: :func:`psp`, one presynaptic spike onto a neuron held at a set potential;
- synapses: :func:`stdp_window` (one pre/post pair per lag) and :func:`train_response`
  (the weight each spike of a regular train transmits);
- rate models: :func:`rate_trajectory` from the model's initial values.

Nothing here changes Brian2's preferences; callers choose the code generation target.
"""

from __future__ import annotations

import numpy as np
from brian2 import (Hz, Network, NeuronGroup, SpikeGeneratorGroup, StateMonitor, defaultclock, ms,
                    mV, nA, pA, second)
from brian2.equations.equations import DIFFERENTIAL_EQUATION
from brian2.units.fundamentalunits import get_dimensions

from .analysis import dynamics
from .compose import _as_model, neuron_group, synapses
from .networks.fi import simulate_fi
from .units import ModelError

__all__ = ["rheobase", "step_response", "psp", "stdp_window", "train_response",
           "rate_trajectory", "time_scale", "steady_states"]


def rheobase(model, *, low=1 * pA, high=5 * nA, n: int = 60, **overrides):
    """The smallest of ``n`` log-spaced constant currents that makes the neuron fire.

    Parameters
    ----------
    model : Model or str
        A neuron model with an ``I_ext`` input.
    low, high : Quantity
        The range scanned (log-spaced).
    n : int
        Number of currents; the result is within a factor ``(high/low)**(1/(n-1))``.
    **overrides
        Parameter values of the model.

    Returns
    -------
    Quantity
        The first current with a non-zero rate over 500 ms.

    Raises
    ------
    ModelError
        If the neuron does not fire anywhere in the range.
    """
    currents = np.geomspace(float(low / pA), float(high / pA), n) * pA
    rates = simulate_fi(model, currents, 500 * ms, t_start=100 * ms, **overrides)
    firing = np.flatnonzero(rates > 0)
    if not len(firing):
        raise ModelError(f"{_as_model(model).ref} does not fire for constant currents "
                         f"between {low} and {high}")
    return currents[firing[0]]


def step_response(model, amplitudes, *, onset=20 * ms, width=150 * ms, after=30 * ms,
                  variable: str = "v", **overrides):
    """A state variable of a neuron model during current steps, one neuron per amplitude.

    Parameters
    ----------
    model : Model or str
        A neuron model with an ``I_ext`` input.
    amplitudes : Quantity
        Step currents.
    onset, width, after : Quantity
        Time before the step, its length, and time after it.
    variable : str
        The recorded variable (``v`` by default).
    **overrides
        Parameter values of the model.

    Returns
    -------
    times_ms : ndarray
        ``(steps,)``.
    values : ndarray
        ``(len(amplitudes), steps)`` in the variable's unit scaled to mV if it is a voltage.
    """
    group = neuron_group(model, len(amplitudes), **overrides)
    monitor = StateMonitor(group, variable, record=True)
    net = Network(group, monitor)
    net.run(onset)
    group.I_ext = amplitudes
    net.run(width)
    group.I_ext = 0 * pA
    net.run(after)
    values = getattr(monitor, variable)
    scale = mV if get_dimensions(values) == get_dimensions(mV) else 1
    return np.asarray(monitor.t / ms), np.asarray(values / scale)


def psp(receptor, neuron="lif", *, weight: float = 1.0, rest=-60 * mV, spike_at=10 * ms,
        duration=100 * ms):
    """One presynaptic spike through a receptor onto a neuron held at ``rest``.

    Parameters
    ----------
    receptor : Model or str
        A receptor model.
    neuron : Model or str
        A neuron model with ``E_L`` (set to ``rest``) and a synaptic current.
    weight : float
        The weight of the ``static`` synapse that delivers the spike to the receptor's input.
    rest : Quantity
        Resting potential during the test (away from the reversal potentials).
    spike_at, duration : Quantity
        Spike time and simulated time.

    Returns
    -------
    dict
        ``t`` (ms), ``input`` (the receptor's input variable), ``current`` (pA) and
        ``psp`` (v - rest, mV), each an array over time; ``input_name``.
    """
    rec = _as_model(receptor)
    group = neuron_group(neuron, 1, receptors={rec.label: rec}, E_L=rest)
    source = SpikeGeneratorGroup(1, [0], [spike_at])
    target = f"{rec.input}_{rec.label}"
    syn = synapses("static", source, group, target_var=target, connect=True)
    syn.w = weight
    current = f"{rec.current}_{rec.label}"
    monitor = StateMonitor(group, ["v", target, current], record=0)
    Network(group, source, syn, monitor).run(duration)
    return {"t": np.asarray(monitor.t / ms), "input": np.asarray(getattr(monitor, target)[0]),
            "input_name": rec.input, "current": np.asarray(getattr(monitor, current)[0] / pA),
            "psp": np.asarray((monitor.v[0] - rest) / mV)}


def _timed_group(n: int, name: str, extra: str = "", refractory=False):
    """``n`` units that each fire once, at their ``t_spike`` (none before it is set)."""
    group = NeuronGroup(n, "t_spike : second\n" + extra, threshold="abs(t - t_spike) < 0.5*dt",
                        reset="", refractory=refractory, name=name, namespace={})
    group.t_spike = -1 * second
    return group


def _post_group(model, n: int):
    """Timed units that also hold the synapse model's target variable (and a refractory
    period of 0 for a model that reads ``not_refractory_post``, e.g. ``delta_gated``)."""
    m = _as_model(model)
    refractory = 0 * ms if "not_refractory_post" in m.uses else False
    return m, _timed_group(n, "post*", f"{m.target} : {m.target_unit}", refractory)


def stdp_window(model, lags, *, at=50 * ms, **overrides):
    """Weight change of one pre/post spike pair per synapse, for each lag t_post - t_pre.

    Parameters
    ----------
    model : Model or str
        A plastic synapse model with a weight ``w`` (and ``w_max``, if it clips).
    lags : Quantity
        ``t_post - t_pre`` for each synapse.
    at : Quantity
        Time of the earlier spike of each pair.
    **overrides
        Parameter values of the synapse model.

    Returns
    -------
    ndarray
        ``w_after - w_before`` per lag, starting from the model's initial weight.
    """
    lags_ms = np.asarray(lags / ms, dtype=float)
    m, post = _post_group(model, len(lags_ms))
    pre = _timed_group(len(lags_ms), "pre*")
    first = float(at / ms)
    pre.t_spike = (first + np.maximum(0.0, -lags_ms)) * ms
    post.t_spike = (first + np.maximum(0.0, lags_ms)) * ms
    syn = synapses(m, pre, post, connect="i == j", **overrides)
    before = np.asarray(syn.w[:], dtype=float).copy()
    Network(pre, post, syn).run((2 * first + np.abs(lags_ms).max() + 1.0) * ms)
    return np.asarray(syn.w[:], dtype=float) - before


def train_response(model, *, rate=20 * Hz, n_spikes: int = 10, **overrides):
    """What each spike of a regular presynaptic train adds to the synapse's target variable.

    Parameters
    ----------
    model : Model or str
        A synapse model.
    rate : Quantity
        Rate of the regular train.
    n_spikes : int
        Number of spikes.
    **overrides
        Parameter values of the synapse model.

    Returns
    -------
    times_ms : ndarray
        Spike times.
    increments : ndarray
        The increment of the target variable at each spike (e.g. ``w*u*x`` of
        ``tsodyks_markram``, ``w`` of ``static``).
    """
    m, post = _post_group(model, 1)
    period = float(1 / (rate * ms))
    times = 10.0 + period * np.arange(n_spikes)
    source = SpikeGeneratorGroup(1, np.zeros(n_spikes, dtype=int), times * ms)
    syn = synapses(m, source, post, connect=True, **overrides)
    monitor = StateMonitor(post, m.target, record=0, when="end")
    Network(source, post, syn, monitor).run((times[-1] + 2.0) * ms)
    trace = np.asarray(getattr(monitor, m.target)[0], dtype=float)
    steps = np.rint(times / float(defaultclock.dt / ms)).astype(int)
    return times, np.diff(np.concatenate([[0.0], trace[steps]]))


def time_scale(model):
    """The longest time-constant parameter of a model (1 ms if it has none).

    Parameters
    ----------
    model : Model or str
        Any model.

    Returns
    -------
    Quantity
        The largest parameter with the dimension of time.
    """
    m = _as_model(model)
    times = [float(v) for v in m.parameters.values()
             if get_dimensions(v) == get_dimensions(second)]
    return max(times) * second if times else 1 * ms


def rate_trajectory(model, *, duration=None, **overrides):
    """Every state variable of a rate model from its initial values, without input.

    Parameters
    ----------
    model : Model or str
        A rate model (a single unit; no coupling is built).
    duration : Quantity, optional
        Simulated time (default: 40 times :func:`time_scale`).
    **overrides
        Parameter values or initial values.

    Returns
    -------
    times_ms : ndarray
    values : dict
        State name to array over time, in the variable's SI unit.
    """
    m = _as_model(model)
    states = [name for name, eq in m.equations.items() if eq.type == DIFFERENTIAL_EQUATION]
    if not states:
        raise ModelError(f"{m.ref} has no differential equation to integrate")
    group = neuron_group(m, 1, **overrides)
    monitor = StateMonitor(group, states, record=0)
    Network(group, monitor).run(duration if duration is not None else 40 * time_scale(m))
    return np.asarray(monitor.t / ms), {s: np.asarray(getattr(monitor, s)[0], dtype=float)
                                        for s in states}


def steady_states(model, input_name: str, state: str, inputs, starts):
    """Fixed points of a rate model's ``state`` for each constant value of an input.

    Parameters
    ----------
    model : Model or str
        A rate model.
    input_name : str
        An input variable of the model (e.g. ``I_ext``), held constant.
    state : str
        The state variable reported.
    inputs : array-like
        Values of the input (in SI units).
    starts : array-like
        Values the root finder starts from: ``state`` at each value with the other states
        at 0, and every state at each value.

    Returns
    -------
    ndarray
        ``(rows, 3)``: input value, steady ``state``, 1.0 if that fixed point is stable
        else 0.0; several rows per input where the model is multistable.
    """
    m = _as_model(model)
    rows = []
    for value in np.asarray(inputs, dtype=float):
        system = m.ode_system(**{input_name: value})
        k = system.states.index(state)
        starts = np.asarray(starts, dtype=float)
        alone = np.zeros((len(starts), len(system.states)))
        alone[:, k] = starts
        guesses = np.vstack([alone, np.repeat(starts[:, None], len(system.states), axis=1)])
        for point in dynamics.fixed_points(system, guesses):
            stable = dynamics.classify(dynamics.eigenvalues(system, point)) == "stable"
            rows.append((value, point[k], float(stable)))
    return np.array(rows, dtype=float).reshape(-1, 3)
