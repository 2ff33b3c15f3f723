"""Parameters of the CMSA experiment, with their sources."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

import numpy as np
from brian2 import Quantity, ms, mV, nA, nF, uS

from ..resources import (  # noqa: F401  (BYTES_PER_SYNAPSE, BASE_BYTES: importable here as before)
    BASE_BYTES, BINARY_BASE_BYTES, BINARY_BYTES_PER_SYNAPSE, BYTES_PER_SYNAPSE, MemoryLimit,
    available_memory, check_memory, spike_memory)
from ..seeds import MAX_HASH_SEED as MAX_SEED
from ..networks.indegree import drawn_in_binary
from ..space import Lattice, course_sigma, expected_indegree
from .presets import PHI_VARIANTS, PRESETS

__all__ = ["CMSAParams", "MAX_SEED", "BYTES_PER_SYNAPSE", "machine_memory", "PRESETS",
           "PHI_VARIANTS"]



def machine_memory() -> float:
    """Bytes of memory this process may still use: the tightest of the available memory,
    cgroup limits and ``RLIMIT_AS`` (:func:`brianlab.resources.available_memory`).

    Returns
    -------
    float
    """
    return available_memory().available


# The named configurations (``CMSAParams.preset``, ``--preset``; names in
# ``presets.PRESETS``). ``tuned`` is the default
# (the fields' defaults). ``lab-report`` takes what the CMSA lab report states: kernel
# ``exp(-d**2/200)`` (its "sigma 200", one width for E and I sources), We 0.028 uS,
# Wi 0.013 uS, 50 ms of random drive of amplitude 5 (nA here), 300 ms spontaneous,
# the cross at input_amp 5 for 100 ms, time step 0.5 ms. ``course`` is the course
# starter: exp(-d**2/18) from E sources, exp(-d**2/400) from I sources (d in each source
# lattice's spacings), 30 ms of drive, 200 ms spontaneous, time step 0.5 ms (the report's
# "the simulation step is 0.5"). Choices where the documents are open, written down:
# their dense kernels inside a window (75 and 101 pixels) are realised by the sheet's
# ``rule`` (fixed in-degree 200 from E and 400 from I by default; ``kernel`` is the dense
# one), on the whole torus: the windows cut nothing from the E kernels (more than 3.7
# standard deviations) and span the whole I lattice; the course leaves We/Wi open and
# keeps the tuned 0.02/0.01 uS; the refractory periods of the three states stay 5, 6.5
# and 10 ms (the report's own).


def _preset_values(name: str) -> dict:
    if name == "tuned":
        return {}
    if name == "lab-report":
        return dict(s_c_e=200.0, s_c_i=200.0, we=0.028 * uS, wi=0.013 * uS, dt=0.5 * ms,
                    drive_duration=50 * ms, duration=300 * ms, stimulus_amplitude=5 * nA)
    if name == "course":
        return dict(s_c_e=18.0, s_c_i=400.0, dt=0.5 * ms, drive_duration=30 * ms,
                    duration=200 * ms)
    raise ValueError(f"unknown preset {name!r}; expected one of {', '.join(PRESETS)}")


def _q(value):
    """A Quantity default for a frozen dataclass field (Quantities are unhashable)."""
    return field(default_factory=lambda: value)


@dataclass(frozen=True)
class CMSAParams:
    """Everything that defines one CMSA simulation.

    Defaults follow the course model of the CMSA lab report: LIF with C = 1 nF,
    g_L = 0.05 uS (tau_m = 20 ms), V_th = -50 mV, V_reset = E_L = -70 mV; AMPA/GABA
    conductances decaying with 3 ms, reversal 0 and -80 mV; course kernels
    ``W exp(-d**2 / s_c)`` with s_c = 18 for E sources (d in E spacings) and s_c = 400
    for I sources (d in I spacings), realised as fixed in-degree Gaussian connectivity
    (k = 200 from E, 400 from I) whose expected total weight per target equals the dense
    kernel's; We = 0.02 uS, Wi = 0.01 uS. Invalid values raise ``ValueError`` naming
    every problem.

    Parameters
    ----------
    e_side, i_side : int
        Sides of the E and I lattices (one torus).
    rp : Quantity
        Refractory period of E and I neurons.
    we, wi : Quantity
        ``g_max`` of the AMPA and GABA receptors (the course's We and Wi).
    C, g_L, E_L, V_reset, V_th : Quantity
        LIF parameters of both populations.
    tau_syn : Quantity
        Decay time constant of both receptors.
    E_ampa, E_gaba : Quantity
        Reversal potentials of the receptors.
    s_c_e, s_c_i : float
        Course kernel widths of E sources (in E spacings) and I sources (in I spacings).
    k_e, k_i : int
        In-degree from E and from I of every target.
    rule : str
        Connection rule: ``fixed_indegree``, ``probability`` or ``kernel``.
    drive, drive_interval, drive_duration : Quantity
        Random drive: every ``drive_interval`` until ``drive_duration`` each neuron gets a
        uniform random current in ``[0, drive]``.
    duration : Quantity
        Spontaneous activity after the drive.
    dt : Quantity
        Time step.
    frame_dt, frame_window : Quantity
        Resolution of the spike-count frames, and the window each counts spikes over.
    smooth : float
        Gaussian smoothing of the frames (E spacings).
    threshold : float
        Smoothed spike count that marks a pattern.
    phi_interval : Quantity
        Time between the frames whose pattern centres are compared.
    analysis : Quantity
        Phi is measured over this last part of the spontaneous phase.
    max_distance : float
        Tracking radius (E spacings per ms).
    margin : float
        Ambiguity margin of the tracking (E spacings).
    speed_floor : float
        E spacings per ms; slower patterns count as stationary.
    stimulus_duration : Quantity
        Length of the image stimulus after the spontaneous phase (0: none).
    stimulus_amplitude : Quantity
        Current of the image stimulus (rheobase: 1 nA).
    image : str
        ``"cross"`` or the path of an image file.
    phi : str
        ``spikes`` (Phi from smoothed spike-count frames) or ``voltage`` (the lab report's:
        E voltages of the last ``voltage_frames`` steps before the stimulus phase,
        patterns above -74 mV holding a point above -55 mV, tracking radius 5 and
        margin 2 pixels per frame, unweighted centres); either way the record also
        keeps the other one when both can be computed.
    voltage_frames : int
        Time steps of E voltages recorded for ``phi = "voltage"`` (only those: memory).
    seed : int
        Drive seed (changeable without recompiling).
    network_seed : int
        Connectivity seed.
    """

    e_side: int = 150
    i_side: int = 75
    rp: Quantity = _q(5 * ms)                 # refractory period of E and I
    we: Quantity = _q(0.02 * uS)              # g_max of AMPA (the course's We)
    wi: Quantity = _q(0.01 * uS)              # g_max of GABA (the course's Wi)
    C: Quantity = _q(1 * nF)
    g_L: Quantity = _q(0.05 * uS)
    E_L: Quantity = _q(-70 * mV)
    V_reset: Quantity = _q(-70 * mV)
    V_th: Quantity = _q(-50 * mV)
    tau_syn: Quantity = _q(3 * ms)
    E_ampa: Quantity = _q(0 * mV)
    E_gaba: Quantity = _q(-80 * mV)
    s_c_e: float = 18.0                   # course kernel width of E sources (E spacings)
    s_c_i: float = 400.0                  # course kernel width of I sources (I spacings)
    k_e: int = 200                        # in-degree from E (each target, both populations)
    k_i: int = 400                        # in-degree from I
    rule: str = "fixed_indegree"
    drive: Quantity = _q(5 * nA)              # uniform random current in [0, drive]
    drive_interval: Quantity = _q(0.5 * ms)
    drive_duration: Quantity = _q(30 * ms)
    duration: Quantity = _q(400 * ms)         # spontaneous activity after the drive (see docs)
    dt: Quantity = _q(0.1 * ms)
    # Phi from E spikes (tuned on seeds 0-2, see docs/architecture.md): spike counts in
    # sliding windows, smoothed on the torus, pattern centres compared every
    # phi_interval; slower than speed_floor counts as stationary.
    frame_dt: Quantity = _q(1 * ms)           # resolution of the spike-count frames
    frame_window: Quantity = _q(8 * ms)       # spikes counted over this window
    smooth: float = 2.0                       # Gaussian smoothing of frames (E spacings)
    threshold: float = 0.2                    # smoothed spike count that marks a pattern
    phi_interval: Quantity = _q(5 * ms)       # time between compared frames
    analysis: Quantity = _q(100 * ms)         # Phi over the last part of the spontaneous phase
    max_distance: float = 3.0                 # tracking radius (E spacings per ms)
    margin: float = 2.0                       # ambiguity margin (E spacings)
    speed_floor: float = 0.4                  # E spacings per ms; slower = stationary
    # attention: an image current on the E sheet after the spontaneous phase
    stimulus_duration: Quantity = _q(0 * ms)  # 0: no stimulus phase
    stimulus_amplitude: Quantity = _q(5 * nA)  # the lab report's input_amp (rheobase: 1 nA)
    image: str = "cross"                      # "cross" or the path of an image file
    phi: str = "spikes"                   # "spikes" or "voltage" (the lab report's Phi)
    voltage_frames: int = 100             # steps of E voltages for the voltage Phi
    seed: int = 0                         # drive seed (changeable without recompiling)
    network_seed: int = 0                 # connectivity seed

    @classmethod
    def preset(cls, name: str, **changes) -> "CMSAParams":
        """The parameters of a named configuration (see ``PRESETS``), with changes.

        Parameters
        ----------
        name : {'tuned', 'lab-report', 'course'}
            The configuration.
        **changes
            Field values that replace the preset's.

        Returns
        -------
        CMSAParams
        """
        return cls(**{**_preset_values(name), **changes})

    def __post_init__(self):
        problems = []
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, (Quantity, float)) and not np.all(np.isfinite(np.asarray(value))):
                problems.append(f"{f.name} must be a finite number, got {np.asarray(value)}")
        if problems:
            raise ValueError("; ".join(problems))
        if not isinstance(self.seed, int) or not 0 <= self.seed <= MAX_SEED:
            problems.append(f"seed must be an integer from 0 to {MAX_SEED} (2**31 - 1), got "
                            f"{self.seed!r}")
        for name in ("e_side", "i_side"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 4:
                problems.append(f"{name} must be an integer >= 4, got {getattr(self, name)!r}")
        sides_ok = not problems
        if sides_ok and self.e_side % self.i_side:
            problems.append(f"e_side ({self.e_side}) must be a multiple of i_side ({self.i_side})")
        for name in ("duration", "drive_duration", "frame_dt", "analysis", "dt", "phi_interval",
                     "frame_window"):
            if not getattr(self, name) > 0 * ms:
                problems.append(f"{name} must be positive, got {getattr(self, name)}")
        if self.rp < self.dt:
            problems.append(f"the refractory period rp = {self.rp} is below dt = {self.dt}")
        for name in ("frame_window", "phi_interval"):
            ratio = float(getattr(self, name) / self.frame_dt)
            if abs(ratio - round(ratio)) > 1e-9:
                problems.append(f"{name} must be a multiple of frame_dt")
        if self.phi not in PHI_VARIANTS:
            problems.append(f"phi must be one of {', '.join(PHI_VARIANTS)}, got {self.phi!r}")
        if not isinstance(self.voltage_frames, int) or self.voltage_frames < 2:
            problems.append(f"voltage_frames must be an integer >= 2, got "
                            f"{self.voltage_frames!r}")
        elif self.voltage_frames * self.dt > self.duration:
            problems.append(f"voltage_frames ({self.voltage_frames} steps of {self.dt}) is "
                            f"longer than duration ({self.duration})")
        if self.analysis > self.duration:
            problems.append(f"analysis ({self.analysis}) is longer than duration ({self.duration})")
        if sides_ok and self.rule == "fixed_indegree":  # the other rules use no in-degree
            if self.k_e > self.e_side**2 or self.k_i > self.i_side**2:
                problems.append(f"k_e = {self.k_e} / k_i = {self.k_i} exceed the source "
                                f"populations ({self.e_side**2} E, {self.i_side**2} I)")
        if self.k_e < 1 or self.k_i < 1:
            problems.append("k_e and k_i must be positive")
        if self.stimulus_duration < 0 * ms:
            problems.append("stimulus_duration must not be negative")
        if self.we < 0 * uS or self.wi < 0 * uS:
            problems.append("we and wi must not be negative")
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def sigma_e(self) -> float:
        """Gaussian std of E-source connections, in E spacings."""
        return course_sigma(self.s_c_e)

    @property
    def sigma_i(self) -> float:
        """Gaussian std of I-source connections, in E spacings (s_c is in I spacings)."""
        return course_sigma(self.s_c_i, unit=self.e_side / self.i_side)

    @property
    def stimulus_onset(self) -> Quantity:
        """Time the stimulus starts: after the drive and the spontaneous phase."""
        return self.drive_duration + self.duration

    @property
    def total(self) -> Quantity:
        """Simulated time: drive, spontaneous phase and stimulus."""
        return self.drive_duration + self.duration + self.stimulus_duration

    def neuron_params(self) -> dict:
        """Overrides of ``lif`` + ``ampa_exp`` + ``gaba_exp`` for both populations.

        Returns
        -------
        dict
            Parameter name to Quantity.
        """
        return dict(C=self.C, g_L=self.g_L, E_L=self.E_L, V_reset=self.V_reset, V_th=self.V_th,
                    tau_ref=self.rp, tau_ampa=self.tau_syn, tau_gaba=self.tau_syn,
                    E_ampa=self.E_ampa, E_gaba=self.E_gaba, g_max_ampa=self.we,
                    g_max_gaba=self.wi)

    @property
    def n_synapses(self) -> int:
        """Synapses of the sheet: every E and I neuron receives k_e + k_i (fixed in-degree);
        under the ``kernel`` rule every source within the Gaussian's cutoff, under
        ``probability`` the kernel's sum (expected)."""
        if self.rule == "fixed_indegree":
            return (self.e_side**2 + self.i_side**2) * (self.k_e + self.k_i)
        per_target = 0.0
        target = Lattice(self.e_side)
        for sigma, side in ((self.sigma_e, self.e_side), (self.sigma_i, self.i_side)):
            per_target += expected_indegree(self.rule, Lattice(side, float(self.e_side)),
                                            target, sigma)
        return int((self.e_side**2 + self.i_side**2) * per_target)

    def memory_parts(self, device: str | None = None) -> dict:
        """Peak memory of building and running this sheet, by part.

        Parameters
        ----------
        device : str, optional
            The device it runs on: on ``cpp_standalone`` a fixed in-degree sheet's synapses
            are created by the binary (:mod:`brianlab.networks.indegree`); otherwise (and
            by default) their indices pass through Python.

        Returns
        -------
        dict
            Bytes of ``synapses`` (``BINARY_BYTES_PER_SYNAPSE`` each when the binary
            creates them, else ``BYTES_PER_SYNAPSE``), ``spikes`` (every E and I
            spike recorded over the whole run with the bytes per spike of
            :func:`brianlab.resources.spike_memory`, every neuron firing at ``1 / rp``: the
            most the refractory period allows, which the saturated ``lab-report`` sheet
            reaches; the tuned states fire at 3-9 Hz), ``voltages`` (the E voltages of the
            voltage Phi: 8 bytes per neuron and frame) and ``base`` (Python, Brian2).
        """
        neurons = self.e_side**2 + self.i_side**2
        voltages = 8 * self.e_side**2 * self.voltage_frames if self.phi == "voltage" else 0
        binary = self.rule == "fixed_indegree" and drawn_in_binary(device, self.network_seed)
        per_synapse = BINARY_BYTES_PER_SYNAPSE if binary else BYTES_PER_SYNAPSE
        return {"synapses": float(per_synapse * self.n_synapses),
                "spikes": spike_memory(neurons, float(self.total / ms) / 1000,
                                       rate_hz=1000 / float(self.rp / ms)),
                "voltages": float(voltages),
                "base": BINARY_BASE_BYTES if binary else BASE_BYTES}

    def memory_estimate(self, device: str | None = None) -> float:
        """Peak memory of building and running this sheet on ``device`` (see
        :meth:`memory_parts`).

        Parameters
        ----------
        device : str, optional
            The device it runs on: on ``cpp_standalone`` a fixed in-degree sheet's synapses
            are created by the binary (:mod:`brianlab.networks.indegree`); otherwise (and
            by default) their indices pass through Python.

        Returns
        -------
        float
            Bytes.
        """
        return sum(self.memory_parts(device).values())

    def check_memory(self, available: float | MemoryLimit | None = None, copies: int = 1,
                     device: str | None = None):
        """Refuse a sheet that would not fit in memory, with the estimate.

        Parameters
        ----------
        available : float or MemoryLimit, optional
            Bytes available (default: :func:`brianlab.resources.available_memory`, the
            tightest of the available memory, cgroup limits and ``RLIMIT_AS``).
        copies : int, optional
            Simulations of this sheet that run at once (the local Dask workers of a
            sweep); the estimate is multiplied by it (an upper bound: the network is
            built once).
        device : str, optional
            As :meth:`memory_parts`.

        Raises
        ------
        ValueError
            Naming the estimate and its parts, the memory it was compared with and where
            that comes from, and what to reduce.
        """
        check_memory(self.memory_parts(device),
                     f"a sheet of side {self.e_side} ({self.n_synapses:,} synapses, rule "
                     f"{self.rule}, {float(self.total / ms):,.6g} ms)",
                     "reduce --size, --ke, --ki or --duration", available=available,
                     copies=copies)

    def with_(self, **changes) -> "CMSAParams":
        """A copy with some fields changed.

        Parameters
        ----------
        **changes
            Field values.

        Returns
        -------
        CMSAParams
        """
        return replace(self, **changes)

    def as_dict(self) -> dict:
        """The parameters as a JSON-ready record.

        Returns
        -------
        dict
            Field name to value; quantities as strings with units.
        """
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = str(value) if isinstance(value, Quantity) else value
        return out


