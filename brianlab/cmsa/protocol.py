"""The CMSA protocol: random drive, spontaneous activity, analysis (Phi) of the E sheet."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from brian2 import Network, defaultclock, mV, ms, second

from ..analysis.patterns import PhiResult, order_parameter, smooth_frames, spike_count_frames
from ..analysis.spikes import spike_share
from ..networks.sheet import EISheet, Pathway, build_ei_sheet
from ..inputs import stimulus_image
from .params import CMSAParams

__all__ = ["build_network", "CMSARun", "analyse", "run_args_for", "run_variables",
           "command_line_for", "point_outputs", "recorded_arrays", "reduce_point",
           "active_windows", "frame_times", "state_name", "RUN_VARIABLES", "VOLTAGE_PHI",
           "STATE_PHI"]

#: Phi below the first value is a bump state, above the second a travelling wave (the
#: thresholds of the state tests); between them, mixed (near the critical point).
STATE_PHI = (0.35, 0.8)

#: The lab report's Phi on voltage frames: patterns are connected regions above ``low``
#: (mV) that hold a point above ``high``; centres unweighted; a centre is tracked to the
#: nearest one within ``max_distance`` pixels per frame if the second nearest is at least
#: ``margin`` farther; every displacement counts (no speed floor).
VOLTAGE_PHI = {"low": -74.0, "high": -55.0, "max_distance": 5.0, "margin": 2.0,
               "speed_floor": 0.0, "weighted": False}


@dataclass
class CMSARun:
    """Recorded spikes and analysis of one CMSA simulation.

    Parameters
    ----------
    params : CMSAParams
        What was simulated.
    e_i, e_t : ndarray
        E spikes: neuron indices and times (ms).
    i_i, i_t : ndarray
        I spikes: neuron indices and times (ms).
    phi : PhiResult
        The order parameter of the spontaneous phase (``params.phi`` says which).
    frames : ndarray
        The frames Phi was measured on (float32): smoothed spike counts, or E voltages
        in mV for the voltage Phi.
    rate_e, rate_i : float
        Mean rates (Hz) of the spontaneous phase.
    timings : dict
        Seconds spent building, running and analysing.
    provenance : list
        ``name@version``, sha256 and status of each model file.
    attention : dict, optional
        Spike shares in the stimulus region (attention runs).
    phi_spikes : PhiResult, optional
        The spike-frame Phi as well, when ``phi`` is the voltage one.
    """

    params: CMSAParams
    e_i: np.ndarray
    e_t: np.ndarray            # ms
    i_i: np.ndarray
    i_t: np.ndarray            # ms
    phi: PhiResult
    frames: np.ndarray         # smoothed spike-count frames of the analysed window (float32)
    rate_e: float              # Hz, spontaneous phase
    rate_i: float
    timings: dict = field(default_factory=dict)
    provenance: list = field(default_factory=list)  # name@version + sha256 of each model
    attention: dict | None = None  # spike shares in the stimulus region (attention runs)
    phi_spikes: PhiResult | None = None  # the spike-frame Phi beside a voltage Phi

    @property
    def frames_label(self) -> str:
        """What the frames hold, for colour bars."""
        if self.params.phi == "voltage":
            return "E membrane potential (mV)"
        window = float(self.params.frame_window / ms)
        return f"E spikes per {window:g} ms window, smoothed"


def build_network(p: CMSAParams, name: str = "cmsa",
                  cache: bool = False) -> tuple[EISheet, Network]:
    """The E/I sheet for ``p`` (objects are created on the current Brian2 device).

    Parameters
    ----------
    p : CMSAParams
        The simulation.
    name : str
        Prefix of the Brian2 object names.
    cache : bool
        Keep the connectivity in the brianlab cache (see :func:`build_ei_sheet`).

    Returns
    -------
    sheet : EISheet
    network : Network
        Every object of the sheet.

    Notes
    -----
    The sheet's objects run on Brian2's default clock, whose ``dt`` this sets to ``p.dt``;
    :func:`~brianlab.cmsa.experiment.simulate` and ``simulate_compiled`` set it back when
    they return.
    """
    defaultclock.dt = p.dt
    neuron = p.neuron_params()
    stimulus = None
    if p.stimulus_duration > 0 * ms:
        stimulus = stimulus_image(p.image, p.e_side)
    sheet = build_ei_sheet(
        p.e_side, p.i_side, e_params=neuron, i_params=neuron,
        ee=Pathway(p.sigma_e, p.k_e), ei=Pathway(p.sigma_e, p.k_e),
        ie=Pathway(p.sigma_i, p.k_i), ii=Pathway(p.sigma_i, p.k_i),
        rule=p.rule, seed=p.network_seed, drive_seed=p.seed, drive_amplitude=p.drive,
        drive_interval=p.drive_interval, drive_duration=p.drive_duration, name=name,
        stimulus=stimulus, stimulus_amplitude=p.stimulus_amplitude,
        stimulus_window=(p.stimulus_onset, p.total), cache=cache,
        voltage_interval=p.dt if p.phi == "voltage" else None)
    return sheet, Network(*sheet.objects)


def active_windows(sheet: EISheet, p: CMSAParams) -> dict:
    """Objects that run only part of the time.

    The drive operations run until one interval after the drive ended (that evaluation
    sets the current to zero) and, for E, again during the stimulus phase: after the
    drive they would only write zeros (22 % of the default sheet's run loop, measured
    with ``benchmarks/profile_cmsa.py``). The voltage monitor of the voltage Phi records
    the last ``voltage_frames`` steps before the stimulus phase.

    Parameters
    ----------
    sheet : EISheet
    p : CMSAParams

    Returns
    -------
    dict
        ``{object: [(start, stop), ...]}`` for :meth:`DeviceSession.run
        <brianlab.devices.DeviceSession.run>`.
    """
    drive = [(0 * ms, p.drive_duration + p.drive_interval)]
    out = {op: list(drive) for op in sheet.drive.values()}
    if p.stimulus_duration > 0 * ms:
        out[sheet.drive[sheet.E.name]].append((p.stimulus_onset, p.total))
    if sheet.voltage is not None:
        out[sheet.voltage] = [(p.stimulus_onset - p.voltage_frames * p.dt, p.stimulus_onset)]
    return out


#: Group variables a compiled sheet takes at run time, and the CMSAParams field of each value.
RUN_VARIABLES = (("tau_ref", "rp"), ("g_max_ampa", "we"), ("g_max_gaba", "wi"),
                 ("drive_seed", "seed"))


def run_variables(sheet: EISheet, p: CMSAParams) -> list[tuple[str, str]]:
    """The run-time values of a compiled sheet: ``("group.var", CMSAParams field)`` pairs.

    Parameters
    ----------
    sheet : EISheet
        The built sheet.
    p : CMSAParams
        A point of the sheet (whether it has an image stimulus).

    Returns
    -------
    list of tuple
        E.g. ``("cmsa_E.tau_ref", "rp")``, in the order Brian2 receives them.
    """
    out = [(f"{group.name}.{var}", name) for group in (sheet.E, sheet.I)
           for var, name in RUN_VARIABLES]
    if "stim" in sheet.E.variables and p.stimulus_duration > 0 * ms:
        out.append((f"{sheet.E.name}.stim_amplitude", "stimulus_amplitude"))
    return out


def run_args_for(sheet: EISheet, p: CMSAParams) -> dict:
    """``run_args`` that set the sweepable parameters of a compiled network to ``p``.

    Parameters
    ----------
    sheet : EISheet
        The compiled sheet.
    p : CMSAParams
        The point to run (rp, we, wi, seed, stimulus amplitude).

    Returns
    -------
    dict
        Brian2 variable to value, for ``DeviceSession.rerun``.
    """
    groups = {sheet.E.name: sheet.E, sheet.I.name: sheet.I}
    args = {}
    for name, field_name in run_variables(sheet, p):
        group, var = name.split(".")
        value = getattr(p, field_name)
        args[getattr(groups[group], var)] = float(value) if field_name == "seed" else value
    return args


def command_line_for(variables: list, p: CMSAParams) -> list[str]:
    """The binary's ``group.var=value`` values for ``p``, without the Brian2 objects.

    Brian2 writes a single value as the ``repr`` of the number in SI units (its
    ``_prepare_variableview_run_arg``); this does the same from :func:`run_variables`'
    list, so a cached build runs without rebuilding the network (tested against
    :meth:`DeviceSession.command_line <brianlab.devices.DeviceSession.command_line>`).

    Parameters
    ----------
    variables : list of (str, str)
        From :func:`run_variables`.
    p : CMSAParams
        The point.

    Returns
    -------
    list of str
    """
    return [f"{name}={float(getattr(p, field_name))!r}" for name, field_name in variables]


def frame_times(p: CMSAParams) -> np.ndarray:
    """Simulated time (ms) of each frame Phi is measured on.

    Parameters
    ----------
    p : CMSAParams

    Returns
    -------
    ndarray
        Spike-count frame ``f`` ends at ``t_start + (f + 1) frame_dt``; voltage frame ``f``
        is the step ``f`` of the last ``voltage_frames`` steps before the stimulus phase.
    """
    end = float(p.stimulus_onset / ms)
    if p.phi == "voltage":
        dt = float(p.dt / ms)
        return end - dt * np.arange(p.voltage_frames, 0, -1)
    step = float(p.frame_dt / ms)
    n = int(np.floor(float(p.analysis / p.frame_dt) + 1e-9))
    return end - float(p.analysis / ms) + step * np.arange(1, n + 1)


def state_name(phi: dict) -> str:
    """The state a Phi record shows: ``bump``, ``wave``, ``mixed`` or ``no patterns``.

    Parameters
    ----------
    phi : dict
        ``PhiResult.as_dict()`` (``phi``, ``mean_patterns``).

    Returns
    -------
    str
    """
    if not phi.get("mean_patterns"):
        return "no patterns"  # silent, or the whole sheet in step
    if phi["phi"] < STATE_PHI[0]:
        return "bump"
    return "wave" if phi["phi"] > STATE_PHI[1] else "mixed"


def voltage_phi(p: CMSAParams, voltage_mv) -> PhiResult:
    """The lab report's Phi (``VOLTAGE_PHI``) of E voltage frames.

    Parameters
    ----------
    p : CMSAParams
    voltage_mv : ndarray, shape (frames, e_side, e_side)
        E membrane potentials in mV, one frame per time step.

    Returns
    -------
    PhiResult
    """
    v = VOLTAGE_PHI
    return order_parameter(voltage_mv, v["low"], v["high"], max_distance=v["max_distance"],
                           margin=v["margin"], speed_floor=v["speed_floor"],
                           frame_dt=float(p.dt / ms), weighted=v["weighted"])


def analyse(p: CMSAParams, e_i, e_t_ms, i_i, i_t_ms, voltage_mv=None) -> CMSARun:
    """Spike-count frames of the last ``p.analysis`` of the spontaneous phase, Phi, rates.

    Parameters
    ----------
    p : CMSAParams
        The simulation.
    e_i, e_t_ms : array-like
        E spikes: indices and times (ms).
    i_i, i_t_ms : array-like
        I spikes: indices and times (ms).
    voltage_mv : array-like, optional
        ``(frames, e_side, e_side)`` E voltages (mV) for ``p.phi == "voltage"``.

    Returns
    -------
    CMSARun
    """
    if p.phi == "voltage":
        voltage_mv = np.asarray(voltage_mv, dtype=float)
        if voltage_mv.shape != (p.voltage_frames, p.e_side, p.e_side):
            raise ValueError(f"the voltage Phi needs {p.voltage_frames} frames of "
                             f"{p.e_side} x {p.e_side}, got {voltage_mv.shape}")
        if not np.isfinite(voltage_mv).all():
            raise ValueError("the recorded E voltages are not finite")
    t_end = float(p.stimulus_onset / ms)  # Phi of the spontaneous phase
    t_start = t_end - float(p.analysis / ms)
    frames = spike_count_frames(e_i, e_t_ms, (p.e_side, p.e_side), t_start, t_end,
                                float(p.frame_dt / ms), float(p.frame_window / ms))
    frames = smooth_frames(frames, p.smooth)
    step = int(round(float(p.phi_interval / p.frame_dt)))
    interval = float(p.phi_interval / ms)
    phi = order_parameter(frames[step - 1::step], p.threshold, p.threshold,
                          max_distance=p.max_distance * interval, margin=p.margin,
                          speed_floor=p.speed_floor * interval, frame_dt=interval)
    spont = float(p.duration / second)
    t0 = float(p.drive_duration / ms)
    rate_e = float(np.sum(e_t_ms >= t0)) / (p.e_side**2 * spont)
    rate_i = float(np.sum(i_t_ms >= t0)) / (p.i_side**2 * spont)
    run = CMSARun(p, np.asarray(e_i), np.asarray(e_t_ms), np.asarray(i_i),
                  np.asarray(i_t_ms), phi, frames, rate_e, rate_i)
    if p.phi == "voltage":
        run.phi_spikes, run.phi, run.frames = phi, voltage_phi(p, voltage_mv), voltage_mv
    if p.stimulus_duration > 0 * ms:
        mask = stimulus_image(p.image, p.e_side).ravel() > 0.5
        onset = float(p.stimulus_onset / ms)
        window = min(100.0, float(p.stimulus_duration / ms))
        area = float(mask.mean())
        edges = np.arange(0.0, window + 1e-9, 20.0)
        course = [spike_share(e_i, e_t_ms, mask, onset + a, onset + b) / area
                  for a, b in zip(edges[:-1], edges[1:], strict=True)]
        run.attention = {
            "area_share": area,
            "window_ms": window,
            # spike share inside the image region relative to its area share
            "ratio_before": spike_share(e_i, e_t_ms, mask, onset - window, onset) / area,
            "ratio_after": spike_share(e_i, e_t_ms, mask, onset, onset + window) / area,
            "ratio_course_20ms": course,
            "ratio_peak": float(np.nanmax(course)) if np.isfinite(course).any() else None,
        }
    return run


def collect(sheet: EISheet, p: CMSAParams, timings=None) -> CMSARun:
    """Read the monitors after a run and analyse.

    Parameters
    ----------
    sheet : EISheet
        The sheet that ran.
    p : CMSAParams
        The simulation.
    timings : dict, optional
        Build and run times so far, kept in the result.

    Returns
    -------
    CMSARun
    """
    start = time.perf_counter()
    voltage = None
    if sheet.voltage is not None:
        voltage = (np.asarray(sheet.voltage.v[:] / mV).T.reshape(-1, p.e_side, p.e_side))
    run = analyse(p, np.asarray(sheet.spikes_e.i[:]), np.asarray(sheet.spikes_e.t[:] / ms),
                  np.asarray(sheet.spikes_i.i[:]), np.asarray(sheet.spikes_i.t[:] / ms),
                  voltage)
    run.timings = dict(timings or {})
    run.timings["analysis_s"] = time.perf_counter() - start
    return run


def point_outputs(run: CMSARun) -> tuple[dict, dict]:
    """What is saved of one point: its arrays (compact dtypes) and its JSON record.

    Parameters
    ----------
    run : CMSARun
        The analysed simulation.

    Returns
    -------
    arrays : dict
        E and I spikes (int32 indices, float32 ms) and the analysed frames (float32).
    record : dict
        Parameters, Phi and its series, rates, timings, model provenance, attention.
    """
    arrays = {"e_i": run.e_i.astype(np.int32), "e_t": run.e_t.astype(np.float32),
              "i_i": run.i_i.astype(np.int32), "i_t": run.i_t.astype(np.float32),
              "frames": run.frames.astype(np.float32)}
    record = {"params": run.params.as_dict(), "phi": run.phi.as_dict(),
              "phi_variant": run.params.phi, "frames_label": run.frames_label,
              "phi_spikes": None if run.phi_spikes is None else run.phi_spikes.as_dict(),
              "phi_series": run.phi.series, "rate_e_hz": run.rate_e, "rate_i_hz": run.rate_i,
              "timings": run.timings, "models": run.provenance, "attention": run.attention}
    return arrays, record


def recorded_arrays(sheet: EISheet) -> tuple[dict, dict]:
    """The variables a sweep point reads from its results directory, and those it checks.

    Parameters
    ----------
    sheet : EISheet
        The built sheet.

    Returns
    -------
    outputs : dict
        ``e_i``, ``e_t``, ``i_i``, ``i_t``: spike indices and times (s) of both populations;
        ``v``: the E voltages (V, time x neuron) of the voltage Phi, if recorded.
    checks : dict
        The differential state variables of both populations (membrane potential,
        receptor conductances), which must be finite after a run.
    """
    outputs = {"e_i": sheet.spikes_e.variables["i"], "e_t": sheet.spikes_e.variables["t"],
               "i_i": sheet.spikes_i.variables["i"], "i_t": sheet.spikes_i.variables["t"]}
    if sheet.voltage is not None:  # (time, neuron), volts
        outputs["v"] = sheet.voltage.variables["v"]
    checks = {f"{group.name}.{name}": group.variables[name]
              for group in (sheet.E, sheet.I) for name in sorted(group.equations.diff_eq_names)}
    return outputs, checks


def reduce_point(arrays: dict, context: dict) -> tuple[dict, dict]:
    """Analyse one point's spikes where they were recorded (a sweep worker).

    Parameters
    ----------
    arrays : dict
        ``e_i``, ``e_t``, ``i_i``, ``i_t`` as the binary wrote them (times in s).
    context : dict
        ``params`` (CMSAParams) and ``provenance`` (the sheet's model records).

    Returns
    -------
    arrays, record
        As :func:`point_outputs`.
    """
    start = time.perf_counter()
    p = context["params"]
    voltage = None
    if "v" in arrays:
        voltage = arrays["v"].reshape(-1, p.e_side, p.e_side) / float(mV)
    run = analyse(p, arrays["e_i"], arrays["e_t"] / float(ms), arrays["i_i"],
                  arrays["i_t"] / float(ms), voltage)
    run.provenance = context["provenance"]
    run.timings = {"analysis_s": time.perf_counter() - start}
    return point_outputs(run)
