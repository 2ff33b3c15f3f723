"""The CMSA protocol: random drive, spontaneous activity, analysis (Phi) of the E sheet."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from brian2 import Network, mV, ms

from .. import runargs
from ..analysis.patterns import PhiResult
from ..networks.sheet import EISheet, Pathway, build_ei_sheet
from ..inputs import stimulus_image
from .params import CMSAParams
from .reduce import (STATE_PHI, VOLTAGE_PHI, PointSettings, PointAnalysis, analyse_arrays,
                     outputs, reduce_point, state_name, voltage_order_parameter)

__all__ = ["build_network", "CMSARun", "analyse", "run_args_for", "run_variables",
           "command_line_for", "point_outputs", "recorded_arrays", "reduce_point",
           "active_windows", "frame_times", "state_name", "RUN_VARIABLES", "VOLTAGE_PHI",
           "STATE_PHI"]

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
        return PointSettings.of(self.params).frames_label


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
    The sheet's objects run on a clock of their own (``<name>_clock``, ``dt = p.dt``):
    Brian2's ``defaultclock`` is left as it was.
    """
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
        voltage_interval=p.dt if p.phi == "voltage" else None, dt=p.dt)
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
    ``_prepare_variableview_run_arg``); :func:`brianlab.runargs.arguments` does the same
    from :func:`run_variables`' list, so a cached build runs without rebuilding the
    network (tested against :meth:`DeviceSession.command_line
    <brianlab.devices.DeviceSession.command_line>`).

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
    values = PointSettings.of(p).values
    return list(runargs.arguments({name: name for name, _ in variables},
                                  {name: values[field_name] for name, field_name in variables}))


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
    return PointSettings.of(p).frame_times()


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
    return voltage_order_parameter(float(p.dt / ms), voltage_mv)


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
    a = analyse_arrays(PointSettings.of(p), e_i, e_t_ms, i_i, i_t_ms, voltage_mv)
    return CMSARun(p, np.asarray(e_i), np.asarray(e_t_ms), np.asarray(i_i),
                   np.asarray(i_t_ms), a.phi, a.frames, a.rate_e, a.rate_i,
                   attention=a.attention, phi_spikes=a.phi_spikes)


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
    arrays, record
        As :func:`brianlab.cmsa.reduce.outputs`.
    """
    analysis = PointAnalysis(run.phi, run.frames, run.rate_e, run.rate_i, run.attention,
                             run.phi_spikes)
    return outputs(PointSettings.of(run.params), (run.e_i, run.e_t, run.i_i, run.i_t),
                   analysis, run.timings, run.provenance)


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


