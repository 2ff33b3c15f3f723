"""A 2D excitatory/inhibitory sheet on a torus with Gaussian-distance synapses.

E neurons on a ``e_side x e_side`` lattice and I neurons on an ``i_side x i_side``
lattice share one torus (extent = ``e_side`` E spacings). Both populations are
the neuron model (default ``lif``) with two receptors, AMPA (from E) and GABA
(from I). Each of the four pathways connects with one of the rules of
:mod:`brianlab.space`; weights are dimensionless and normalised so that the
expected total weight a target receives equals the dense kernel's sum
``K = sum_sources exp(-d**2 / (2 sigma**2))``, whatever the rule. The
conductance a pathway opens is therefore ``g_max * K`` for full synchronous
activity, and its strength is the receptor's ``g_max`` (``g_max_ampa`` = We,
``g_max_gaba`` = Wi): one shared parameter that ``run_args`` can change.
Under the ``fixed_indegree`` and ``probability`` rules every synapse of a pathway has
the same weight, held as one shared value (no weight array per synapse).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from brian2 import Clock, NeuronGroup, SpikeMonitor, StateMonitor, ms, nA

from .. import space
from ..cache import cached_arrays, source_hash
from ..compose import compose, model_of
from ..library import load_model
from ..space import (Lattice, fixed_indegree, gaussian_kernel, gaussian_probability,
                     indegree_tables, kernel_sum)
from .indegree import SEED_EQUATION, Draws, in_binary

__all__ = ["EISheet", "Pathway", "build_ei_sheet", "models_provenance", "RULES", "RECEPTORS",
           "SYNAPSE_MODEL", "HASH_UNIFORM"]

RULES = space.SHEET_RULES
#: The receptor and synapse models every sheet is built from (the neuron is a parameter).
RECEPTORS = ("ampa_exp", "gaba_exp")
SYNAPSE_MODEL = "static"

#: Uniform [0, 1) pseudo-random number from a neuron index, the time and the shared
#: ``drive_seed`` (a sine hash). Unlike ``rand()``, whose seed a standalone binary fixes
#: at compile time, ``drive_seed`` can be changed between runs with ``run_args``, so a
#: sweep over seeds compiles once. Checked in the tests: uniform, neighbours uncorrelated.
STIMULUS_EQUATIONS = """
stim : 1 (constant)
stim_amplitude : amp (constant, shared)
stim_on : second (constant, shared)
stim_off : second (constant, shared)
"""

_SINE = "sin(12.9898*{i} + 78.233*t/ms + 37.719*drive_seed + 0.1)*43758.5453"
HASH_UNIFORM = f"(({_SINE}) - floor({_SINE}))"


@dataclass(frozen=True)
class Pathway:
    """Connectivity of one pathway.

    Parameters
    ----------
    sigma : float
        Standard deviation of the Gaussian of distance, in E spacings.
    k : int
        In-degree (rule ``fixed_indegree``).
    p_max : float
        Connection probability at distance 0 (rule ``probability``).
    """

    sigma: float
    k: int = 100
    p_max: float = 1.0


@dataclass
class EISheet:
    """A built E/I sheet: groups, synapses, monitors and lattices.

    Parameters
    ----------
    E, I : NeuronGroup
        The excitatory and inhibitory populations.
    synapses : dict
        Pathway name (``"ee"``, ``"ei"``, ``"ie"``, ``"ii"``) to Synapses.
    e_lattice, i_lattice : Lattice
        Where the neurons sit.
    spikes_e, spikes_i : SpikeMonitor
        Spikes of both populations.
    voltage : StateMonitor, optional
        E voltages, when asked for.
    extra : list
        Other objects of the network.
    drive : dict
        Group name to the operation that sets its ``I_ext`` (drive and stimulus), a
        contained object of the group (for ``active`` windows).
    """

    E: NeuronGroup
    I: NeuronGroup
    synapses: dict
    e_lattice: Lattice
    i_lattice: Lattice
    spikes_e: SpikeMonitor
    spikes_i: SpikeMonitor
    voltage: StateMonitor | None = None
    extra: list = field(default_factory=list)
    drive: dict = field(default_factory=dict)

    @property
    def objects(self) -> list:
        """Everything to put into a :class:`brian2.Network`."""
        objs = [self.E, self.I, *self.synapses.values(), self.spikes_e, self.spikes_i]
        if self.voltage is not None:
            objs.append(self.voltage)
        return objs + list(self.extra)

    @property
    def n_synapses(self) -> dict:
        """Number of synapses of each pathway."""
        return {name: len(s) for name, s in self.synapses.items()}

    def provenance(self) -> list[dict]:
        """Model names, versions and hashes of everything in the sheet.

        Returns
        -------
        list of dict
            One ``{"model", "sha256", "status"}`` record per model file.
        """
        seen, out = set(), []
        for obj in [self.E, self.I, *self.synapses.values()]:
            model = model_of(obj)
            for entry in (model.provenance if model else []):
                if entry["model"] not in seen:
                    seen.add(entry["model"])
                    out.append(entry)
        return out


def models_provenance(neuron="lif") -> list[dict]:
    """What :meth:`EISheet.provenance` will record, known before the sheet is built.

    Parameters
    ----------
    neuron : str or Model
        The sheet's neuron model.

    Returns
    -------
    list of dict
    """
    model = neuron if not isinstance(neuron, str) else load_model(neuron)
    return compose(model, RECEPTORS).provenance + load_model(SYNAPSE_MODEL).provenance


def _indices(rule, source, target, path: Pathway, same, rng, allow_self=None):
    """Source and target index arrays of one pathway (``allow_self``: default ``not same``;
    the network builder's lattice rules call this too)."""
    allow_self = (not same) if allow_self is None else allow_self
    if rule == "fixed_indegree":
        conn = fixed_indegree(source, target, path.k, path.sigma, seed=rng,
                              allow_self=allow_self, same_population=same)
    elif rule == "probability":
        conn = gaussian_probability(source, target, path.p_max, path.sigma, seed=rng,
                                    allow_self=allow_self, same_population=same)
    else:
        conn = gaussian_kernel(source, target, path.sigma, allow_self=allow_self,
                               same_population=same)
    return conn.i, conn.j


def _all_indices(rule, lattices: dict, pathways: dict, seed, cache: bool) -> dict:
    """``{label_i: ..., label_j: ...}`` for the four pathways, drawn from one generator.

    With ``cache`` (and a fixed seed) the arrays are kept in the brianlab cache, keyed
    by everything that determines them and the source of :mod:`brianlab.space`.
    """
    def compute():
        rng = np.random.default_rng(seed)
        out = {}
        for label, (src, tgt) in lattices.items():
            out[f"{label}_i"], out[f"{label}_j"] = _indices(rule, src, tgt, pathways[label],
                                                            src is tgt, rng)
        return out

    if not cache or seed is None:
        return compute()
    return cached_arrays("sheet-connectivity",
                         (rule, lattices, pathways, seed, source_hash(space)), compute)


def _weight(rule, source, target, path: Pathway, same, allow_self=None):
    """The weight of one pathway: a number, or (kernel rule) a Brian2 expression.

    Standalone devices cannot take per-synapse arrays before the binary has run, so
    distance-dependent weights are written as an expression of the lattice indices.
    ``allow_self`` defaults to ``not same``; the network builder's lattice rules call this.
    """
    allow_self = (not same) if allow_self is None else allow_self
    if rule == "fixed_indegree":
        return kernel_sum(source, target, path.sigma, allow_self=allow_self,
                          same_population=same) / path.k
    if rule == "probability":
        return 1.0 / path.p_max
    ext = source.extent
    dx = (f"((i % {source.side})*{source.spacing!r} - (j % {target.side})*{target.spacing!r})")
    dy = (f"((i // {source.side})*{source.spacing!r} - (j // {target.side})*{target.spacing!r})")
    wrap = "({d} - {L!r}*floor({d}/{L!r} + 0.5))"
    d2 = f"({wrap.format(d=dx, L=ext)}**2 + {wrap.format(d=dy, L=ext)}**2)"
    return f"exp(-{d2}/(2*{path.sigma!r}**2))"


def build_ei_sheet(e_side: int = 150, i_side: int = 75, *, neuron="lif",
                   e_params: dict | None = None, i_params: dict | None = None,
                   ee: Pathway, ei: Pathway, ie: Pathway, ii: Pathway,
                   rule: str = "fixed_indegree", seed: int | None = 0, drive_seed: int = 0,
                   drive_amplitude=5 * nA, drive_interval=0.5 * ms, drive_duration=30 * ms,
                   voltage_interval=None, stimulus=None, stimulus_amplitude=0 * nA,
                   stimulus_window=(0 * ms, 0 * ms), delay=0 * ms, noise: bool = False,
                   cache: bool = False, name: str = "sheet", dt=None) -> EISheet:
    """Assemble the E/I sheet.

    Parameters
    ----------
    e_side, i_side : int
        Lattice sides of the E and I populations (one torus of ``e_side`` E spacings).
    neuron : str or Model
        Neuron model for both populations (with ``ampa_exp`` and ``gaba_exp``).
    e_params, i_params : dict
        Parameter overrides of the E and I neurons (``tau_ref``, ``g_max_ampa``, ...).
    ee, ei, ie, ii : Pathway
        E->E, E->I, I->E, I->I connectivity (sigma in E spacings).
    rule : {'fixed_indegree', 'probability', 'kernel'}
        How each pathway is connected (see :mod:`brianlab.space`).
    seed : int, optional
        Seed of the connectivity (numpy's ``default_rng``). Under ``fixed_indegree`` on
        ``cpp_standalone`` the binary draws the synapses from it
        (:mod:`brianlab.networks.indegree`: the same synapses as Python's draw), and it is
        the shared variable ``conn_seed`` of both groups, changeable with ``run_args``.
    drive_seed : int
        Seed of the random drive: the shared variable ``drive_seed`` of both groups,
        changeable between standalone runs with ``run_args``.
    drive_amplitude, drive_interval, drive_duration : Quantity
        Every ``drive_interval`` until ``drive_duration`` each neuron gets a fresh
        uniform random current in ``[0, drive_amplitude]`` (see ``HASH_UNIFORM``);
        zero afterwards.
    voltage_interval : Quantity, optional
        Record the E voltages every so often (memory: 8 bytes per neuron per
        frame); spikes of both populations are always recorded.
    stimulus : array, optional
        One value in [0, 1] per E neuron (an image on the E lattice): E neurons get
        the extra current ``stim_amplitude * stim`` while ``stim_on <= t < stim_off``.
        ``stim``, ``stim_amplitude``, ``stim_on`` and ``stim_off`` are variables of
        the E group, changeable between standalone runs with ``run_args``.
    stimulus_amplitude : Quantity
        Current of the stimulus at a value of 1.
    stimulus_window : (Quantity, Quantity)
        Onset and offset of the stimulus.
    delay : Quantity
        Transmission delay of every synapse (one value: no per-synapse array).
    noise : bool
        Keep the neuron model's white-noise terms (``sigma * xi`` of ``lif``). Off by
        default: the sheet is deterministic apart from its drive, and drawing a normal
        random number per neuron and step would take a third of the run time.
    cache : bool
        Keep the connectivity index arrays in the brianlab cache (see
        :mod:`brianlab.cache`) and reuse them when the same sheet is built again with
        the same ``seed`` (where Python draws them).
    name : str
        Prefix of the Brian2 object names.
    dt : Quantity, optional
        Time step of the sheet's own clock (``<name>_clock``: both groups, the synapses,
        the spike monitors); default Brian2's ``defaultclock``. The drive and a voltage
        monitor have clocks of their own (``drive_interval``, ``voltage_interval``).

    Returns
    -------
    EISheet
    """
    for label, side in (("e_side", e_side), ("i_side", i_side)):
        if not isinstance(side, (int, np.integer)) or side < 2:
            raise ValueError(f"{label} must be an integer >= 2, got {side!r}")
    if rule not in RULES:
        raise ValueError(f"unknown connectivity rule {rule!r}; expected one of {', '.join(RULES)}")
    e_lat, i_lat = Lattice(int(e_side)), Lattice(int(i_side), float(e_side))
    for label, path, src in (("ee", ee, e_lat), ("ei", ei, e_lat), ("ie", ie, i_lat),
                             ("ii", ii, i_lat)):
        if rule == "fixed_indegree" and path.k > src.n:
            raise ValueError(f"{label}: k = {path.k} is larger than the source population "
                             f"({src.n})")
        if not path.sigma > 0:
            raise ValueError(f"{label}: sigma must be positive, got {path.sigma!r}")
    model = neuron if not isinstance(neuron, str) else load_model(neuron)
    receptors = RECEPTORS
    drawn = rule == "fixed_indegree" and in_binary(seed)  # the synapses drawn by the binary
    seed_eq = "drive_seed : 1 (constant, shared)" + (f"\n{SEED_EQUATION}" if drawn else "")
    clock = {} if dt is None else {"clock": Clock(dt, name=f"{name}_clock")}
    E = model.neuron_group(e_lat.n, receptors=receptors, name=f"{name}_E",
                           extra_equations=seed_eq + "\n" + STIMULUS_EQUATIONS, noise=noise,
                           **clock, **(e_params or {}))
    I = model.neuron_group(i_lat.n, receptors=receptors, name=f"{name}_I",
                           extra_equations=seed_eq, noise=noise, **clock, **(i_params or {}))
    stim = "" if stimulus is None else \
        " + stim_amplitude*stim*int(t >= stim_on)*int(t < stim_off)"
    drive_ops = {}
    for group, offset in ((E, 0), (I, 1_000_003)):
        group.drive_seed = float(drive_seed)
        group.namespace.update(drive_amplitude=drive_amplitude, drive_duration=drive_duration)
        extra = stim if group is E else ""
        drive = HASH_UNIFORM.format(i=f"(i + {offset})")
        drive_ops[group.name] = group.run_regularly(f"I_ext = drive_amplitude*{drive}"
                            f"*int(t < drive_duration){extra}", dt=drive_interval, when="start")
    if stimulus is not None:
        image = np.asarray(stimulus, dtype=float).ravel()
        if image.shape != (e_lat.n,):
            raise ValueError(f"the stimulus needs one value per E neuron ({e_lat.n}), got "
                             f"{image.size}")
        E.stim = image
        E.stim_amplitude = stimulus_amplitude
        E.stim_on, E.stim_off = stimulus_window
    static = load_model(SYNAPSE_MODEL)
    groups = {"ee": (E, E), "ei": (E, I), "ie": (I, E), "ii": (I, I)}
    lattices = {"ee": (e_lat, e_lat), "ei": (e_lat, i_lat), "ie": (i_lat, e_lat),
                "ii": (i_lat, i_lat)}
    pathways = {"ee": ee, "ei": ei, "ie": ie, "ii": ii}
    if drawn:
        E.conn_seed = I.conn_seed = int(seed)
        draws = Draws(seed)
    else:
        indices = _all_indices(rule, lattices, pathways, seed, cache)
    synapses = {}
    for label, (src_g, tgt_g) in groups.items():
        # one weight per pathway unless it depends on distance (no array per synapse)
        syn = static.synapses(src_g, tgt_g, target_var="s_ampa" if src_g is E else "s_gaba",
                              name=f"{name}_{label}", delay=delay,
                              shared=("w",) if rule != "kernel" else (), **clock)
        if drawn:
            draws.connect(syn, indegree_tables(*lattices[label], pathways[label].k,
                                               pathways[label].sigma,
                                               allow_self=src_g is not tgt_g,
                                               same_population=src_g is tgt_g))
        else:
            syn.connect(i=indices[f"{label}_i"], j=indices[f"{label}_j"])
        syn.w = _weight(rule, *lattices[label], pathways[label], src_g is tgt_g)
        synapses[label] = syn
    spikes_e = SpikeMonitor(E, name=f"{name}_spikes_E")
    spikes_i = SpikeMonitor(I, name=f"{name}_spikes_I")
    voltage = None
    if voltage_interval is not None:
        voltage = StateMonitor(E, "v", record=True, dt=voltage_interval,
                               name=f"{name}_voltage_E")
    return EISheet(E, I, synapses, e_lat, i_lat, spikes_e, spikes_i, voltage, drive=drive_ops)

