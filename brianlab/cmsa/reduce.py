"""What one CMSA point's recorded spikes (and voltages) reduce to, without Brian2.

The analysis of a point (Phi, rates, attention shares) needs only plain numbers, which
:class:`PointSettings` holds; so a compiled point can be run and analysed in a process
that never imports Brian2 (a Dask worker, or a cached command:
:mod:`brianlab.cmsa.cached`). :mod:`brianlab.cmsa.protocol` analyses its
:class:`~brianlab.cmsa.protocol.CMSARun` objects with the same functions.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ..analysis.patterns import PhiResult

#: Modules the analysis imports when it first runs (scipy.ndimage: 0.2 s), so that a
#: cached command can import them while its binary runs
#: (:func:`brianlab.pipeline.execute.prefetch`).
ANALYSIS_MODULES = ("brianlab.analysis.patterns", "brianlab.analysis.spikes", "brianlab.inputs")

__all__ = ["PointSettings", "PointAnalysis", "analyse_arrays", "outputs", "reduce_point",
           "sweep_statistics",
           "cmsa_phi", "state_name", "STATE_PHI", "VOLTAGE_PHI", "ANALYSIS_DEFAULTS"]

#: Phi below the first value is a bump state, above the second a travelling wave (the
#: thresholds of the state tests); between them, mixed (near the critical point).
STATE_PHI = (0.35, 0.8)

#: The lab report's Phi on voltage frames: patterns are connected regions above ``low``
#: (mV) that hold a point above ``high``; centres unweighted; a centre is tracked to the
#: nearest one within ``max_distance`` pixels per frame if the second nearest is at least
#: ``margin`` farther; every displacement counts (no speed floor).
VOLTAGE_PHI = {"low": -74.0, "high": -55.0, "max_distance": 5.0, "margin": 2.0,
               "speed_floor": 0.0, "weighted": False}


#: The analysis fields of ``CMSAParams()`` as plain numbers (times in ms), for a point
#: whose settings come from its :class:`~brianlab.pipeline.reductions.PointContext`
#: (:meth:`PointSettings.from_context`); ``tests/test_cmsa_pipeline.py`` checks them
#: against :class:`~brianlab.cmsa.params.CMSAParams`.
ANALYSIS_DEFAULTS = {"frame_dt": 1.0, "frame_window": 8.0, "smooth": 2.0, "threshold": 0.2,
                     "phi_interval": 5.0, "analysis": 100.0, "max_distance": 3.0,
                     "margin": 2.0, "speed_floor": 0.4, "image": "cross"}


@dataclass(frozen=True)
class PointSettings:
    """The numbers the analysis of one point needs (times in ms), and its parameters.

    Made from a :class:`~brianlab.cmsa.params.CMSAParams` by :meth:`of`, with the same
    float expressions the analysis used on the Quantities, so results are bit-identical;
    JSON-ready (:meth:`as_dict`, ``PointSettings(**d)``). The fields not listed have the
    meaning (and, for times, the value in ms) of the CMSAParams field of the same name.

    Parameters
    ----------
    params : dict
        ``CMSAParams.as_dict()``: the parameters the point's record names.
    values : dict
        Every numeric CMSAParams field in SI units (the binary's run arguments).
    e_side, i_side, phi, voltage_frames, smooth, threshold, max_distance, margin, \
speed_floor, image
        As in CMSAParams.
    dt, stimulus_onset, analysis, frame_dt, frame_window, phi_interval, drive_duration, \
stimulus_duration : float
        As in CMSAParams, in ms.
    frame_count : int
        Spike-count frames in the analysed window.
    phi_step : int
        Frames between the frames Phi compares.
    duration_s : float
        The spontaneous phase (s).
    """

    params: dict
    values: dict
    e_side: int
    i_side: int
    phi: str
    voltage_frames: int
    dt: float
    stimulus_onset: float
    analysis: float
    frame_dt: float
    frame_window: float
    frame_count: int
    phi_step: int
    phi_interval: float
    smooth: float
    threshold: float
    max_distance: float
    margin: float
    speed_floor: float
    duration_s: float
    drive_duration: float
    stimulus_duration: float
    image: str

    @classmethod
    def of(cls, p) -> "PointSettings":
        """The settings of a :class:`~brianlab.cmsa.params.CMSAParams`.

        Parameters
        ----------
        p : CMSAParams

        Returns
        -------
        PointSettings
        """
        from brian2 import Quantity, ms, second

        values = {f.name: float(getattr(p, f.name)) for f in fields(p)
                  if isinstance(getattr(p, f.name), (Quantity, int, float))}
        return cls(
            params=p.as_dict(), values=values, e_side=p.e_side, i_side=p.i_side, phi=p.phi,
            voltage_frames=p.voltage_frames, dt=float(p.dt / ms),
            stimulus_onset=float(p.stimulus_onset / ms), analysis=float(p.analysis / ms),
            frame_dt=float(p.frame_dt / ms), frame_window=float(p.frame_window / ms),
            frame_count=int(np.floor(float(p.analysis / p.frame_dt) + 1e-9)),
            phi_step=int(round(float(p.phi_interval / p.frame_dt))),
            phi_interval=float(p.phi_interval / ms), smooth=p.smooth, threshold=p.threshold,
            max_distance=p.max_distance, margin=p.margin, speed_floor=p.speed_floor,
            duration_s=float(p.duration / second), drive_duration=float(p.drive_duration / ms),
            stimulus_duration=float(p.stimulus_duration / ms), image=p.image)

    @classmethod
    def from_context(cls, context, *, voltage_frames: int | None = None) -> "PointSettings":
        """The settings of a point of a CMSA network file run by the pipeline.

        Lattice sides, ``dt`` and the phase times come from the context (phases named
        ``drive``, ``spontaneous`` and ``stimulus``, as ``cmsa_sheet@2`` and
        :func:`brianlab.cmsa.plan.sheet_structure` name them; otherwise the first phase
        is the drive and the second the spontaneous one); the analysis settings are
        :data:`ANALYSIS_DEFAULTS` (``CMSAParams()``'s) with the context's options of the
        same names, the analysed window cut to the spontaneous phase (whole frames).

        Parameters
        ----------
        context : brianlab.pipeline.reductions.PointContext
            The point (``lattices`` of ``E`` and ``I``, ``dt_s``, ``phases``).
        voltage_frames : int, optional
            Steps of E voltages recorded before the stimulus onset: the voltage Phi
            (None: the spike-frame Phi).

        Returns
        -------
        PointSettings

        Raises
        ------
        ValueError
            For a context without E and I lattices or without a spontaneous phase.
        """
        lattices = context.lattices
        if not lattices.get("E") or not lattices.get("I"):
            raise ValueError(f"the cmsa_phi reduction needs lattice populations E and I; "
                             f"the network has lattices {sorted(lattices) or 'none'}")
        phases = {name: (start, stop) for name, start, stop in context.phases}
        order = [(start, stop) for _, start, stop in context.phases]
        if "spontaneous" in phases:
            drive, spontaneous = phases.get("drive", (0.0, 0.0)), phases["spontaneous"]
        elif len(order) >= 2:
            drive, spontaneous = order[0], order[1]
        else:
            raise ValueError("the cmsa_phi reduction needs a drive and a spontaneous phase")
        stimulus = phases.get("stimulus", (spontaneous[1], spontaneous[1]))
        options = {**ANALYSIS_DEFAULTS, **{k: v for k, v in dict(context.options).items()
                                           if k in ANALYSIS_DEFAULTS}}
        frame_dt = float(options["frame_dt"])
        length_ms = (spontaneous[1] - spontaneous[0]) / 1e-3
        analysis = min(float(options["analysis"]),
                       np.floor(length_ms / frame_dt + 1e-9) * frame_dt)
        values = dict(context.values)
        params = {"network": dict(context.network), "values": values,
                  "seed": int(context.seed)}
        return cls(
            params=params, values=values, e_side=int(lattices["E"][0]),
            i_side=int(lattices["I"][0]),
            phi="spikes" if voltage_frames is None else "voltage",
            voltage_frames=int(voltage_frames or 0), dt=context.dt_s / 1e-3,
            stimulus_onset=spontaneous[1] / 1e-3, analysis=analysis, frame_dt=frame_dt,
            frame_window=float(options["frame_window"]),
            frame_count=int(np.floor(analysis / frame_dt + 1e-9)),
            phi_step=int(round(float(options["phi_interval"]) / frame_dt)),
            phi_interval=float(options["phi_interval"]), smooth=float(options["smooth"]),
            threshold=float(options["threshold"]),
            max_distance=float(options["max_distance"]), margin=float(options["margin"]),
            speed_floor=float(options["speed_floor"]),
            duration_s=spontaneous[1] - spontaneous[0], drive_duration=drive[1] / 1e-3,
            stimulus_duration=(stimulus[1] - stimulus[0]) / 1e-3, image=str(options["image"]))

    def as_dict(self) -> dict:
        """The settings as a JSON-ready dict.

        Returns
        -------
        dict
            ``PointSettings(**d)`` reads it back.
        """
        return asdict(self)

    @property
    def frames_label(self) -> str:
        """What the analysed frames hold, for colour bars."""
        if self.phi == "voltage":
            return "E membrane potential (mV)"
        return f"E spikes per {self.frame_window:g} ms window, smoothed"

    def frame_times(self) -> np.ndarray:
        """Simulated time (ms) of each analysed frame.

        Returns
        -------
        ndarray
            As :func:`brianlab.cmsa.protocol.frame_times`.
        """
        end = self.stimulus_onset
        if self.phi == "voltage":
            return end - self.dt * np.arange(self.voltage_frames, 0, -1)
        return end - self.analysis + self.frame_dt * np.arange(1, self.frame_count + 1)


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


def voltage_order_parameter(dt_ms: float, voltage_mv) -> PhiResult:
    """The lab report's Phi (``VOLTAGE_PHI``) of E voltage frames one step apart.

    Parameters
    ----------
    dt_ms : float
        Time between frames (ms).
    voltage_mv : ndarray, shape (frames, side, side)

    Returns
    -------
    PhiResult
    """
    from ..analysis.patterns import order_parameter

    v = VOLTAGE_PHI
    return order_parameter(voltage_mv, v["low"], v["high"], max_distance=v["max_distance"],
                           margin=v["margin"], speed_floor=v["speed_floor"], frame_dt=dt_ms,
                           weighted=v["weighted"])


@dataclass
class PointAnalysis:
    """Phi, the analysed frames, rates and attention shares of one point.

    Parameters
    ----------
    phi : PhiResult
        The Phi the settings ask for.
    frames : ndarray
        The frames it was measured on.
    rate_e, rate_i : float
        Mean rates (Hz) of the spontaneous phase.
    attention : dict or None
        Spike shares in the stimulus region (attention runs).
    phi_spikes : PhiResult or None
        The spike-frame Phi beside a voltage Phi.
    """

    phi: PhiResult
    frames: np.ndarray
    rate_e: float
    rate_i: float
    attention: dict | None = None
    phi_spikes: PhiResult | None = None


def analyse_arrays(s: PointSettings, e_i, e_t_ms, i_i, i_t_ms,
                   voltage_mv=None) -> PointAnalysis:
    """Spike-count frames of the analysed window, Phi, rates (see
    :func:`brianlab.cmsa.protocol.analyse`).

    Parameters
    ----------
    s : PointSettings
    e_i, e_t_ms, i_i, i_t_ms : array-like
        Spike indices and times (ms).
    voltage_mv : array-like, optional
        ``(frames, e_side, e_side)`` E voltages (mV) for the voltage Phi.

    Returns
    -------
    PointAnalysis
    """
    from ..analysis.patterns import order_parameter, smooth_frames, spike_count_frames

    if s.phi == "voltage":
        voltage_mv = np.asarray(voltage_mv, dtype=float)
        if voltage_mv.shape != (s.voltage_frames, s.e_side, s.e_side):
            raise ValueError(f"the voltage Phi needs {s.voltage_frames} frames of "
                             f"{s.e_side} x {s.e_side}, got {voltage_mv.shape}")
        if not np.isfinite(voltage_mv).all():
            raise ValueError("the recorded E voltages are not finite")
    e_t_ms, i_t_ms = np.asarray(e_t_ms), np.asarray(i_t_ms)
    t_end = s.stimulus_onset  # Phi of the spontaneous phase
    frames = spike_count_frames(e_i, e_t_ms, (s.e_side, s.e_side), t_end - s.analysis, t_end,
                                s.frame_dt, s.frame_window)
    frames = smooth_frames(frames, s.smooth)
    interval = s.phi_interval
    phi = order_parameter(frames[s.phi_step - 1::s.phi_step], s.threshold, s.threshold,
                          max_distance=s.max_distance * interval, margin=s.margin,
                          speed_floor=s.speed_floor * interval, frame_dt=interval)
    rate_e = float(np.sum(e_t_ms >= s.drive_duration)) / (s.e_side**2 * s.duration_s)
    rate_i = float(np.sum(i_t_ms >= s.drive_duration)) / (s.i_side**2 * s.duration_s)
    out = PointAnalysis(phi, frames, rate_e, rate_i)
    if s.phi == "voltage":
        out.phi_spikes, out.phi = phi, voltage_order_parameter(s.dt, voltage_mv)
        out.frames = voltage_mv
    if s.stimulus_duration > 0:
        out.attention = _attention(s, e_i, e_t_ms)
    return out


def _attention(s: PointSettings, e_i, e_t_ms) -> dict:
    """Spike shares inside the image region relative to its area share."""
    from ..analysis.spikes import spike_share
    from ..inputs import stimulus_image

    mask = stimulus_image(s.image, s.e_side).ravel() > 0.5
    onset = s.stimulus_onset
    window = min(100.0, s.stimulus_duration)
    area = float(mask.mean())
    edges = np.arange(0.0, window + 1e-9, 20.0)
    course = [spike_share(e_i, e_t_ms, mask, onset + a, onset + b) / area
              for a, b in zip(edges[:-1], edges[1:], strict=True)]
    return {
        "area_share": area,
        "window_ms": window,
        "ratio_before": spike_share(e_i, e_t_ms, mask, onset - window, onset) / area,
        "ratio_after": spike_share(e_i, e_t_ms, mask, onset, onset + window) / area,
        "ratio_course_20ms": course,
        "ratio_peak": float(np.nanmax(course)) if np.isfinite(course).any() else None,
    }


def outputs(s: PointSettings, spikes: tuple, a: PointAnalysis, timings: dict,
            provenance: list) -> tuple[dict, dict]:
    """What is saved of one point: its arrays (compact dtypes) and its JSON record.

    Parameters
    ----------
    s : PointSettings
    spikes : tuple
        ``(e_i, e_t_ms, i_i, i_t_ms)``.
    a : PointAnalysis
    timings : dict
        Seconds spent building, running and analysing.
    provenance : list
        The models' records.

    Returns
    -------
    arrays : dict
        E and I spikes (int32 indices, float32 ms) and the analysed frames (float32).
    record : dict
        Parameters, Phi and its series, rates, timings, model provenance, attention.
    """
    e_i, e_t, i_i, i_t = (np.asarray(x) for x in spikes)
    arrays = {"e_i": e_i.astype(np.int32), "e_t": e_t.astype(np.float32),
              "i_i": i_i.astype(np.int32), "i_t": i_t.astype(np.float32),
              "frames": a.frames.astype(np.float32)}
    record = {"params": s.params, "phi": a.phi.as_dict(), "phi_variant": s.phi,
              "frames_label": s.frames_label,
              "phi_spikes": None if a.phi_spikes is None else a.phi_spikes.as_dict(),
              "phi_series": a.phi.series, "rate_e_hz": a.rate_e, "rate_i_hz": a.rate_i,
              "timings": timings, "models": provenance, "attention": a.attention}
    return arrays, record


def reduce_point(arrays: dict, context: dict) -> tuple[dict, dict]:
    """Analyse one point's spikes where they were recorded (a sweep worker).

    Parameters
    ----------
    arrays : dict
        ``e_i``, ``e_t``, ``i_i``, ``i_t`` as the binary wrote them (times in s), and
        ``v`` (V) for the voltage Phi.
    context : dict
        ``settings`` (PointSettings) and ``provenance`` (the sheet's model records).

    Returns
    -------
    arrays, record
        As :func:`outputs`.
    """
    start = time.perf_counter()
    s = context["settings"]
    voltage = None
    if "v" in arrays:
        voltage = arrays["v"].reshape(-1, s.e_side, s.e_side) / 1e-3  # V to mV, as / mV
    spikes = (arrays["e_i"], arrays["e_t"] / 1e-3, arrays["i_i"], arrays["i_t"] / 1e-3)  # ms
    a = analyse_arrays(s, *spikes, voltage)
    return outputs(s, spikes, a, {"analysis_s": time.perf_counter() - start},
                   context["provenance"])


def cmsa_phi(arrays: dict, context) -> tuple[dict, dict]:
    """The ``cmsa_phi`` reduction of the pipeline: :func:`reduce_point` on a CMSA sheet's
    arrays as the network builder names them.

    The settings are ``context.options`` when they are a whole
    :meth:`PointSettings.as_dict` (the CMSA command puts them there, computed from its
    ``CMSAParams``), else :meth:`PointSettings.from_context` (``python -m brianlab run
    cmsa_sheet``), with the voltage Phi where the E voltages were recorded.

    Parameters
    ----------
    arrays : dict
        ``spikes_E_i``, ``spikes_E_t``, ``spikes_I_i``, ``spikes_I_t`` (times in s) and,
        for the voltage Phi, ``state_E_v`` (V; time x neuron).
    context : brianlab.pipeline.reductions.PointContext
        The point.

    Returns
    -------
    arrays, record
        As :func:`outputs`: the saved ``.npz`` members ``e_i``, ``e_t``, ``i_i``, ``i_t``,
        ``frames`` and the record of the CMSA command.
    """
    options = dict(context.options)
    names = [f.name for f in fields(PointSettings)]
    voltage = arrays.get("state_E_v")
    if set(names) <= set(options):
        s = PointSettings(**{name: options[name] for name in names})
    else:
        frames = None
        if voltage is not None:
            side = int(context.lattices["E"][0])
            frames = int(np.asarray(voltage).size // (side * side))
        s = PointSettings.from_context(context, voltage_frames=frames)
    inner = {"e_i": arrays["spikes_E_i"], "e_t": arrays["spikes_E_t"],
             "i_i": arrays["spikes_I_i"], "i_t": arrays["spikes_I_t"]}
    if s.phi == "voltage":
        inner["v"] = np.asarray(voltage)
    provenance = context.provenance
    if isinstance(provenance, dict):
        provenance = provenance.get("models", [provenance] if provenance else [])
    saved, record = reduce_point(inner, {"settings": s, "provenance": provenance})
    record["statistics"] = sweep_statistics(record)
    return saved, record


def sweep_statistics(record: dict) -> dict:
    """A CMSA record's numbers as the pipeline's per-population statistics (its summary
    table, report and sweep figures: one heat map each in a two-axis sweep).

    Phi is None (undefined, a blank cell) where no pattern was found in two consecutive
    frames (``pairs == 0``: a silent or nearly silent sheet), so that silence is not
    shown as Phi = 0, the value of stationary bumps.

    Parameters
    ----------
    record : dict
        :func:`reduce_point`'s record (``phi``, ``rate_e_hz``, ``rate_i_hz``).

    Returns
    -------
    dict
        ``{"E": {"phi", "patterns", "rate"}, "I": {"rate"}}`` (rates in Hz, patterns: mean
        number of patterns per frame).
    """
    phi = record["phi"]
    return {"E": {"phi": phi["phi"] if phi["pairs"] > 0 else None,
                  "patterns": phi["mean_patterns"], "rate": record["rate_e_hz"]},
            "I": {"rate": record["rate_i_hz"]}}
