"""Build a network file (:class:`brianlab.networkfile.NetworkFile`) into Brian2 objects.

:func:`build_network` turns a checked network file into a :class:`BuiltNetwork`: the
groups, synapses, inputs and monitors in one explicit :class:`brian2.Network`, on the
runtime device or, through :func:`brianlab.devices.use_device`, on ``cpp_standalone`` /
``cuda_standalone`` (the same calls on every device).

Random numbers (the same network on every device for the same seeds, and the same
network as plain Brian2 code making the same calls): ``brian2.seed(connectivity)``
first; then the populations in file order (created, parameters set, initial values set:
distributions become ``low + (high - low)*rand()`` / ``mean + std*randn()``), then the
projections in file order (``connect``, then weights, then delays), then the inputs,
then the monitors; ``brian2.seed(drive)`` immediately before the first run. The
connectors ``fixed_indegree`` / ``fixed_outdegree`` use Brian2's generator syntax
(``connect(i='k for k in sample(N_pre, size=K)')``; without autapses
``k + int(k >= j) for k in sample(N_pre - 1, size=K)``, so that every target gets
exactly ``K`` sources other than itself; with multapses ``int(rand()*N_pre) for _ in
range(K)``, draws with replacement), so they draw from Brian2's own generator on every
device. The lattice rules (``gaussian_*``) draw index arrays from one
:func:`numpy.random.default_rng` seeded with the connectivity seed and shared by the
lattice projections in file order, as :func:`brianlab.networks.sheet.build_ei_sheet` does.

Inputs write run-time (``(constant, shared)``) variables of their target group, named
``<input>_<field>`` (``ext_rate``), so that a run can change them with ``run_args``:
``poisson_input`` adds ``weight*poisson(count*rate*dt)`` to its target variable every
step (``when="synapses"``, as Brian2's ``PoissonInput``, whose rate is fixed at build
time); the current inputs of one target variable are summed in one ``run_regularly``
operation (``when="start"``) that assigns it.
"""

from __future__ import annotations

import functools
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from brian2 import (Clock, Network, NeuronGroup, PopulationRateMonitor, Quantity, SpikeMonitor,
                    StateMonitor, get_device, ms, second, seed as brian2_seed)
from brian2.units.fundamentalunits import get_dimensions

from ..compose import compose, model_of, neuron_group, synapses
from ..devices import use_device
from ..inputs import cross_image, stimulus_image
from ..library import load_model, load_network
from ..netformat import _NAME
from ..networkfile import MAX_RATE_DT
from ..ranges import check_range
from ..results import RunFolder
from ..runargs import CONNECTIVITY_TARGET, SEED_TARGET
from ..seeds import check_seed
from ..space import Lattice, indegree_tables
from ..units import ModelError, parse_quantity, quantity_text, unit_string
from .indegree import SEED_EQUATION, SEED_VARIABLE, Draws, drawn_in_binary, in_binary
from .sheet import HASH_UNIFORM, Pathway, _indices as sheet_indices, _weight as sheet_weight

__all__ = ["build_network", "BuiltNetwork", "CompileSpec", "check_run_values", "MAX_RATE_DT",
           "connectivity_at_run_time", "synapses_drawn_in_binary"]

#: Offset added to the neuron index in the hash drive of each further random_current
#: input of a network (the sheet's I population uses this offset).
HASH_OFFSET = 1_000_003

_LATTICE_RULES = ("gaussian_fixed_indegree", "gaussian_probability", "gaussian_kernel")
_CURRENT_KINDS = ("current_step", "current_ramp", "random_current", "image")


_MISSING = object()


def _get(obj, name, default=None):
    """A field of a data-model object (an :class:`Input`'s ``fields`` included) or a key
    of a mapping."""
    if obj is None:
        return default
    if isinstance(obj, dict):
        return obj.get(name, default)
    value = getattr(obj, name, _MISSING)
    if value is _MISSING:
        fields = getattr(obj, "fields", None)
        return fields.get(name, default) if fields is not None else default
    return default if value is None else value


def _is_distribution(value) -> bool:
    return _get(value, "kind") in ("uniform", "normal")


def _value(value):
    """A Quantity (or number) for a constant, Brian2 expression text for a distribution."""
    if value is None or isinstance(value, (Quantity, float, int, np.number, str)):
        return value
    if _is_distribution(value):
        return value.brian2_expression()
    for name in ("quantity", "value"):
        q = getattr(value, name, None)
        if q is not None:
            return q
    return value.brian2_expression()


def _unit(q) -> str:
    return unit_string(get_dimensions(q))


@dataclass(frozen=True)
class CompileSpec:
    """What a compiled (lean ``cpp_standalone``) build of a network needs and offers.

    Made by :meth:`BuiltNetwork.compile_spec`; ``outputs``, ``checks`` and ``variables``
    are plain data (a build's manifest stores them), ``active`` and ``at`` are the
    arguments of :meth:`DeviceSession.run <brianlab.devices.DeviceSession.run>`.

    Parameters
    ----------
    outputs : dict
        Array name (``spikes_<pop>_i``, ``spikes_<pop>_t``, ``rate_<pop>_t``,
        ``rate_<pop>_rate``, ``state_<pop>_<var>``) -> ``(Brian2 variable
        "<object name>.<var>", numpy dtype str)`` of every monitor's arrays (SI units;
        a state monitor's array is time x recorded neuron).
    checks : dict
        ``"<group name>.<var>"`` -> ``(the same name, numpy dtype str)``: the differential
        state variables of every population, which must be finite after a run.
    variables : dict
        Run-time target (``"E.g_max_ampa"``, as the file's ``[parameters]`` ``sets``
        name them) -> the Brian2 name the binary takes (``"<object name>.<var>"``), for
        every parameter target; for a network with hash drives (``random_current``),
        ``"drive_seed"`` -> the list of the groups' seed variables; for one whose
        synapses the binary draws (:mod:`brianlab.networks.indegree`), ``"conn_seed"`` ->
        the list of the target groups' connectivity seed variables.
    active : dict
        ``{object: [(start, stop)]}``: objects that run only part of the time (the
        operation of ``random_current`` inputs with a ``duration``: until one interval
        after it, so that its first tick with the drive over sets the drive to zero; when
        that tick falls on a phase switch, until the switch, where a call sets the drive
        to zero instead, so the run needs no segment of its own; a state monitor with a
        ``window``: inside it).
    at : tuple
        ``((time, callable), ...)``: the protocol's phase switches, then those zeroing
        calls.
    """

    outputs: dict
    checks: dict
    variables: dict
    active: dict = field(default_factory=dict)
    at: tuple = ()

    @property
    def write_only(self) -> list:
        """The Brian2 names of every array a lean build writes (outputs, then checks)."""
        return [name for name, _ in [*self.outputs.values(), *self.checks.values()]]


class BuiltNetwork:
    """A network file built into Brian2 objects, ready to run its protocol.

    Build it with :func:`build_network` (or :meth:`NetworkFile.build`). With a device
    the :class:`~brianlab.devices.DeviceSession` stays open on this object until
    :meth:`close` (or the end of a ``with`` block).

    Parameters
    ----------
    netfile : NetworkFile
        The network file.
    network : brian2.Network
        Every object of the network.
    groups, synapses, inputs, monitors, lattices : dict
        Population name to NeuronGroup; projection name to Synapses; input name to
        ``(group, [operations])``; ``{"spikes": {pop: SpikeMonitor}, "rates": {pop:
        PopulationRateMonitor}, "state": [StateMonitor, ...]}``; population name to
        :class:`~brianlab.space.Lattice` (lattice populations only).
    session : DeviceSession or None
        The device session the network was built in.
    seeds : dict
        ``{"connectivity": int or None, "drive": int or None}`` used.
    changes : dict
        Parameter changes given at build time.
    clock : brian2.Clock
        The network's own clock (``<name>_clock``, the file's ``dt``).
    prefix : str, optional
        The name in the objects' names (default: the file's name; ``build_network(...,
        name=)`` replaces it).
    """

    def __init__(self, netfile, network, groups, synapses, inputs, monitors, lattices,
                 session, seeds, changes, clock, prefix=None):
        self.netfile = netfile
        #: Prefix of the Brian2 object names (the network's name unless built with ``name``).
        self.prefix = netfile.name if prefix is None else prefix
        self.network = network
        self.groups = groups
        self.synapses = synapses
        self.inputs = inputs
        self.monitors = monitors
        self.lattices = lattices
        self.session = session
        self.seeds = dict(seeds)
        self.changes = dict(changes)
        self.clock = clock
        self.ran = False
        self._rerun_changes = None  # the values of the last rerun (None: the build's)
        #: Wall times (s): ``construct_s`` (creating the objects), ``run_s`` (the
        #: protocol; with a standalone device code generation, compilation and the binary).
        self.wall_times = {}
        self.provenance = self._provenance()
        if session is not None:
            session.provenance = self.provenance

    # -- names -------------------------------------------------------------------
    def _variable(self, target: str):
        """The Brian2 VariableView of a parameter target ``"obj.var"``."""
        owner, name = self._owner(target)
        return getattr(owner, name)

    def _owner(self, target: str):
        """The Brian2 object and variable name of a parameter target ``"obj.var"``."""
        obj, _, var = target.partition(".")
        if obj in self.groups:
            owner, name = self.groups[obj], var
        elif obj in self.synapses:
            owner, name = self.synapses[obj], var
        elif obj in self.inputs:
            owner, name = self.inputs[obj][0], f"{obj}_{var}"
        else:
            raise ModelError(f"{self.netfile.ref}: parameter target {target!r}: no population, "
                             "projection or input of that name")
        if name not in owner.variables:
            raise ModelError(f"{self.netfile.ref}: parameter target {target!r}: {owner.name} "
                             f"has no variable {name!r}")
        return owner, name

    @property
    def _models(self) -> dict:
        """Population and projection name -> the :class:`Model` it was built from."""
        return {name: model_of(obj) for name, obj in [*self.groups.items(),
                                                      *self.synapses.items()]}

    def _values(self, changes: dict) -> dict:
        """``"obj.var"`` -> Quantity for every parameter target, with the build's changes
        and ``changes`` applied; Poisson rates and ranges checked."""
        return _checked_values(self.netfile, {**self.changes, **changes}, self._models)

    # -- running -----------------------------------------------------------------
    def _phase_actions(self):
        """``[(duration, set_up)]``: each phase's duration and what its start sets."""
        phases = list(_get(self.netfile, "protocol", ()) or ())
        if not phases:
            raise ModelError(f"{self.netfile.ref}: the network file has no protocol to run")
        base = self._values({})
        names = list(self.inputs)
        out = []
        for phase in phases:
            off = set(_get(phase, "inputs_off", ()) or ())
            own = dict(_get(phase, "parameters", None) or {})
            values = dict(base)
            if own:
                values.update(self.netfile.run_values(**{**self.changes, **own}))
                _check_poisson_rates(self.netfile, values, self.clock.dt)
                _check_ranges(self.netfile, values, self._models)
            set_values = {k: v for k, v in values.items()
                          if k in _targets_of(self.netfile, own) or k in self._phase_set}

            def set_up(off=off, set_values=set_values):
                for name in names:
                    self._switch(name, name not in off)
                for target, value in set_values.items():
                    self._variable(target)[:] = value

            out.append((_get(phase, "duration"), set_up))
        return out

    @property
    def _phase_set(self) -> set:
        """The targets that some phase sets (restored by every other phase)."""
        return _phase_set(self.netfile)

    def _phase_calls(self, actions=None) -> list:
        """``[(start, set_up)]``: each phase's start time and what it sets (of
        ``actions``, default :meth:`_phase_actions`), as :meth:`DeviceSession.run
        <brianlab.devices.DeviceSession.run>` takes them."""
        at, t = [], 0 * second
        for duration, set_up in self._phase_actions() if actions is None else actions:
            at.append((t, set_up))
            t = t + duration
        return at

    def _switch(self, name: str, on: bool):
        group, ops = self.inputs[name]
        for op in ops:
            op.active = on
        flag = f"{name}_on"
        if flag in group.variables:
            setattr(group, flag, 1.0 if on else 0.0)

    @property
    def duration(self):
        """The protocol's total duration."""
        return sum((_get(p, "duration") for p in _get(self.netfile, "protocol", ())),
                   0 * second)

    def run(self, report=None):
        """Run the protocol: every phase in order, with its inputs and parameter values.

        ``brian2.seed(drive)`` is set immediately before the first run. With a
        standalone device this builds, compiles and runs the binary.

        Parameters
        ----------
        report : str, optional
            Brian2's progress report.
        """
        if self.ran:
            raise ModelError(f"{self.netfile.ref}: this network has run; use rerun() "
                             "(compiled) or build it again")
        actions = self._phase_actions()
        windows = self._state_windows()
        start = time.perf_counter()
        if self.seeds["drive"] is not None:
            brian2_seed(self.seeds["drive"])
        if self.session is None:
            t = 0.0  # each phase is one run, split where a state monitor's window is
            for duration, set_up in actions:
                set_up()
                end = t + float(duration)
                cuts = sorted({float(x) for ws in windows.values() for w in ws for x in w
                               if t < float(x) < end})
                bounds = [t, *cuts, end]
                for a, b in zip(bounds[:-1], bounds[1:]):
                    for mon, ws in windows.items():
                        mon.active = any(float(w0) <= a < float(w1) for w0, w1 in ws)
                    self.network.run((b - a) * second if cuts else duration, report=report)
                t = end
        else:
            at = self._phase_calls(actions)
            self.session.run(self.network, sum((d for d, _ in actions), 0 * second),
                             report=report, at=at, active=windows)
        self.wall_times["run_s"] = time.perf_counter() - start
        self.ran = True

    def _state_windows(self) -> dict:
        """``{StateMonitor: [(start, stop)]}`` of the state monitors with a ``window``."""
        states = list(_get(_get(self.netfile, "monitors", None), "state", ()) or ())
        return {mon: [tuple(_get(st, "window"))]
                for st, mon in zip(states, self.monitors["state"], strict=True)
                if _get(st, "window") is not None}

    def run_args(self, drive_seed=None, **changes) -> dict:
        """Brian2 ``run_args`` that set the named parameters in a compiled build.

        Parameters
        ----------
        drive_seed : int, optional
            A new seed of the hash drives (``random_current``: the groups' run-time
            ``drive_seed``). Draws of ``rand()`` (Poisson inputs and groups, noise) keep
            the build's drive seed, which a standalone binary has compiled in.
        **changes
            Parameter name to value (quantity or string), as at build time.

        Returns
        -------
        dict
            ``{VariableView: Quantity}`` for every parameter target (the build's own
            changes kept), for :meth:`DeviceSession.rerun` or ``device.run(run_args=)``.

        Raises
        ------
        ModelError
            For an unknown parameter, a wrong unit, a Poisson rate with ``rate*dt`` above
            0.1, or a parameter that a protocol phase sets (the binary restores the
            build's value after that phase, so a run-time value would not hold).
        """
        values = check_run_values(self.netfile, changes, build_changes=self.changes,
                                  models=self._models)
        out = {self._variable(t): v for t, v in values.items()}
        if drive_seed is not None:
            check_seed(drive_seed, f"{self.netfile.ref}: drive_seed")
            groups = [g for g in self.groups.values() if "drive_seed" in g.variables]
            if not groups:
                raise ModelError(f"{self.netfile.ref}: no random_current input, so no "
                                 "run-time drive seed")
            out.update({g.drive_seed: float(drive_seed) for g in groups})
        return out

    def rerun(self, drive_seed=None, **changes):
        """Run the protocol again with new parameter values, without building again.

        The drive seed of ``rand()`` draws is the first run's: with the same values, the
        same spikes.

        Parameters
        ----------
        drive_seed : int, optional
            A new seed of the hash drives (see :meth:`run_args`).
        **changes
            Parameter name to value.
        """
        if self.session is None or not self.ran:
            raise ModelError("rerun() needs a network built with a device and run once")
        args = self.run_args(drive_seed=drive_seed, **changes)
        if not self.session.standalone and self.seeds["drive"] is not None:
            # a binary starts from its compiled seed; the runtime device restores the
            # network's state but not the generator's: seed it as before the first run
            brian2_seed(self.seeds["drive"])
        self.session.rerun(args)
        # the provenance describes the last run: its values and hash drive seed
        self._rerun_changes = dict(changes)
        if drive_seed is not None:
            self.seeds["hash_drive"] = int(drive_seed)
        else:
            self.seeds.pop("hash_drive", None)
        self.provenance = self.session.provenance = self._provenance()

    # -- compiling for a pipeline ------------------------------------------------
    def compile_spec(self) -> CompileSpec:
        """What a compiled build of this network writes, checks, takes and switches.

        Call it after building and before running (``at`` holds the protocol's phase
        calls, made by the run).

        Returns
        -------
        CompileSpec
            ``outputs`` (every monitor's arrays), ``checks`` (every population's
            differential state variables), ``variables`` (run-time targets and hash-drive
            seeds -> Brian2 names), ``active`` (windows of the ``random_current``
            operations with a ``duration`` and of the state monitors with a ``window``)
            and ``at`` (the phase calls).
        """
        prefix = self.prefix
        outputs = {}
        for pop, mon in self.monitors["spikes"].items():
            for var in ("i", "t"):
                outputs[f"spikes_{pop}_{var}"] = _array_of(mon, var)
        for pop, mon in self.monitors["rates"].items():
            for var in ("t", "rate"):
                outputs[f"rate_{pop}_{var}"] = _array_of(mon, var)
        states = list(_get(_get(self.netfile, "monitors", None), "state", ()) or ())
        for k, (st, mon) in enumerate(zip(states, self.monitors["state"], strict=True)):
            for var in _get(st, "variables"):
                name = f"state_{_get(st, 'population')}_{var}"
                outputs[name if name not in outputs else f"{name}_{k}"] = _array_of(mon, var)
        checks = {}
        for group in self.groups.values():
            for var in sorted(group.equations.diff_eq_names):
                checks[f"{group.name}.{var}"] = _array_of(group, var)
        variables = {}
        for target in self.netfile.run_values(**self.changes):
            owner, name = self._owner(target)
            variables[target] = f"{owner.name}.{name}"
        for target, var in ((SEED_TARGET, "drive_seed"), (CONNECTIVITY_TARGET, SEED_VARIABLE)):
            names = [f"{g.name}.{var}" for g in self.groups.values() if var in g.variables]
            if names:
                variables[target] = names
        active = {}
        inputs = dict(_get(self.netfile, "inputs", {}) or {})
        by_op: dict = {}  # operation name -> (the variable it sets, its inputs)
        for iname, inp in inputs.items():
            if _get(inp, "kind") != "poisson_input":
                var = _input_var(inp) or "I_ext"
                key = f"{prefix}_{_get(inp, 'target')}_{var}_inputs"
                by_op.setdefault(key, (var, []))[1].append(inp)
        at = list(self._phase_calls())
        phase_starts = {float(t) for t, _ in at}
        for group in self.groups.values():
            for op in group.contained_objects:
                var, members = by_op.get(op.name, (None, ()))
                if not members or not all(_get(inp, "kind") == "random_current"
                                          and _get(inp, "duration") is not None
                                          for inp in members):
                    continue
                last = max(_get(inp, "duration") for inp in members)
                tick = _zeroing_tick(float(last), float(op.clock.dt))
                if tick in phase_starts:
                    # the operation's first tick with every drive over falls on a phase
                    # switch: set its variable to zero there (what that tick computes, at
                    # the start of the same step) and end its window there (no extra
                    # run segment, whose code objects Brian2 would generate again)
                    active[op] = [(0 * second, tick * second)]
                    at.append((tick * second, functools.partial(_set_zero, group, var)))
                    continue
                stop = last + op.clock.dt
                if stop < self.duration:  # (a window to the end changes nothing)
                    active[op] = [(0 * second, stop)]
        active.update(self._state_windows())
        return CompileSpec(outputs, checks, variables, active, tuple(at))

    def brian2_variable(self, name: str):
        """The Brian2 variable of a Brian2 name ``"<object name>.<var>"``.

        Parameters
        ----------
        name : str
            A name of :class:`CompileSpec` (``outputs``, ``checks``, ``variables``).

        Returns
        -------
        brian2.core.variables.Variable
        """
        obj, _, var = name.rpartition(".")
        owners = {o.name: o for o in [*self.groups.values(), *self.synapses.values(),
                                      *self.monitors["spikes"].values(),
                                      *self.monitors["rates"].values(),
                                      *self.monitors["state"]]}
        owner = owners.get(obj)
        if owner is None or var not in owner.variables:
            raise ModelError(f"{self.netfile.ref}: no Brian2 variable {name!r} in this network")
        return owner.variables[var]

    def recorded_arrays(self, spec: CompileSpec) -> tuple[dict, dict]:
        """The outputs and checks of ``spec`` as Brian2 variables.

        Parameters
        ----------
        spec : CompileSpec
            Of this network.

        Returns
        -------
        outputs, checks : dict
            Name -> Brian2 variable, as :meth:`brianlab.sweeps.CompiledNetwork.from_session`
            takes them.
        """
        return ({k: self.brian2_variable(b) for k, (b, _) in spec.outputs.items()},
                {k: self.brian2_variable(b) for k, (b, _) in spec.checks.items()})

    def compile(self, spec: CompileSpec | None = None, *, clean: bool = False,
                report=None) -> CompileSpec:
        """Build the lean binary a pipeline runs (without running it).

        ``brian2.seed(drive)`` first (compiled into the binary, as :meth:`run` sets it),
        then :meth:`DeviceSession.run <brianlab.devices.DeviceSession.run>` with the
        protocol (``spec.at``), the active windows and ``write_only`` = the outputs and
        checks. Needs a ``cpp_standalone`` or ``cuda_standalone`` session with
        ``build_only``; a CUDA build is not lean (brian2cuda's binary writes every array).

        Parameters
        ----------
        spec : CompileSpec, optional
            Default: :meth:`compile_spec`.
        clean : bool
            Compile every file again (a build directory that cannot be trusted).
        report : str, optional
            Brian2's progress report.

        Returns
        -------
        CompileSpec
            The spec compiled.
        """
        if self.session is None or not self.session.standalone \
                or not self.session.build_only:
            raise ModelError(f"{self.netfile.ref}: compile() needs a standalone device "
                             "session with build_only")
        spec = self.compile_spec() if spec is None else spec
        start = time.perf_counter()
        if self.seeds["drive"] is not None:
            brian2_seed(self.seeds["drive"])
        self.session.run(self.network, self.duration, report=report, clean=clean,
                         write_only=[self.brian2_variable(n) for n in spec.write_only]
                         if self.session.name == "cpp_standalone" else None,
                         active=spec.active, at=spec.at)
        self.wall_times["build_s"] = time.perf_counter() - start
        return spec

    # -- results -----------------------------------------------------------------
    def spikes(self, population: str):
        """Spike indices and times of a recorded population.

        Parameters
        ----------
        population : str
            A population listed under ``monitors.spikes``.

        Returns
        -------
        i : ndarray of int
        t : Quantity
            Copies, still valid after :meth:`close`.
        """
        mon = self.monitors["spikes"].get(population)
        if mon is None:
            raise ModelError(f"{self.netfile.ref}: spikes of {population!r} are not recorded; "
                             f"recorded: {', '.join(self.monitors['spikes']) or 'none'}")
        return np.array(mon.i[:]), mon.t[:].copy()  # copies: the monitor's memory goes

    def rates(self, population: str):
        """The population rate of a population listed under ``monitors.rates``.

        Parameters
        ----------
        population : str
            The population.

        Returns
        -------
        t : Quantity
            Times of the time steps (copies).
        rate : Quantity
            The fraction of the population that fired in each step, divided by ``dt``.
        """
        mon = self.monitors["rates"].get(population)
        if mon is None:
            raise ModelError(f"{self.netfile.ref}: the rate of {population!r} is not "
                             f"recorded; recorded: {', '.join(self.monitors['rates']) or 'none'}")
        return mon.t[:].copy(), mon.rate[:].copy()

    def _provenance(self) -> dict:
        seen, models = set(), []
        for obj in [*self.groups.values(), *self.synapses.values()]:
            model = model_of(obj)
            for entry in (model.provenance if model else []):
                if entry["model"] not in seen:
                    seen.add(entry["model"])
                    models.append(entry)
        changed = {**self.changes, **(self._rerun_changes or {})}
        parameters = {name: quantity_text(value) for name, value
                      in self.netfile.parameter_values(**changed).items()}
        return {"network": dict(self.netfile.provenance), "models": models,
                "seeds": dict(self.seeds), "parameters": parameters}

    def save(self, folder, *, hint: str = "choose another folder"):
        """Save the run into a results folder: its provenance, and spikes and rates.

        Writes ``summary.json`` (the network's provenance: file ``name@version``, sha256,
        release status, every model's record, seeds and parameter values; the device's
        description; the wall times; the protocol; spike counts), ``spikes.npz``
        (``<population>_i``, ``<population>_t`` in seconds, for every population under
        ``monitors.spikes``) and, if rates are recorded, ``rates.npz`` (``<population>_t``,
        ``<population>_rate`` in Hz). Call it after :meth:`run` and before :meth:`close`.

        Parameters
        ----------
        folder : str, Path or RunFolder
            The results folder (:class:`brianlab.results.RunFolder`). A path is claimed
            with the network's file, seeds, parameter values and device as its
            configuration: saving another network or run configuration into it is refused.
        hint : str
            What an error about the folder suggests.

        Returns
        -------
        RunFolder
            The folder written.

        Raises
        ------
        ModelError
            If the network has not run.
        ResultsError
            If the folder cannot be used (see :class:`~brianlab.results.RunFolder`).
        """
        if not self.ran:
            raise ModelError(f"{self.netfile.ref}: nothing to save: run() the network first")
        device = self.session.describe() if self.session is not None else {
            "device": type(get_device()).__name__, "provenance": self.provenance}
        if not isinstance(folder, RunFolder):
            configuration = {"network": self.provenance["network"],
                             "seeds": self.provenance["seeds"],
                             "parameters": self.provenance["parameters"],
                             "device": device["device"]}
            folder = RunFolder(folder, configuration, hint=hint)
        spikes, counts = {}, {}
        for pop in self.monitors["spikes"]:
            i, t = self.spikes(pop)
            spikes[f"{pop}_i"], spikes[f"{pop}_t"] = i, np.asarray(t / second)
            counts[pop] = int(len(i))
        rates = {}
        for pop in self.monitors["rates"]:
            t, rate = self.rates(pop)
            rates[f"{pop}_t"], rates[f"{pop}_rate"] = np.asarray(t / second), np.asarray(rate)
        files = []
        if spikes:
            files.append(folder.save_arrays("spikes", **spikes).name)
        if rates:
            files.append(folder.save_arrays("rates", **rates).name)
        protocol = [{"name": _get(p, "name"), "duration_s": float(_get(p, "duration"))}
                    for p in _get(self.netfile, "protocol", ())]
        sizes = {name: int(len(group)) for name, group in self.groups.items()}
        folder.write_summary({
            "kind": "network_run", "network": self.netfile.ref,
            "provenance": self.provenance, "device": device,
            "wall_times": dict(self.wall_times), "dt_s": float(self.clock.dt),
            "duration_s": float(self.duration), "protocol": protocol,
            "populations": sizes, "spike_counts": counts, "files": files})
        return folder

    # -- session -----------------------------------------------------------------
    def close(self):
        """Close the device session (restoring Brian2's device and preferences)."""
        if self.session is not None:
            self.session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __repr__(self):
        return (f"<BuiltNetwork {self.netfile.ref}: {len(self.groups)} populations, "
                f"{len(self.synapses)} projections>")


def _array_of(owner, var: str) -> tuple[str, str]:
    """``("<object name>.<var>", numpy dtype str)`` of a variable of a Brian2 object."""
    return f"{owner.name}.{var}", np.dtype(owner.variables[var].dtype).str


def _input_var(inp):
    """The target variable of an input (None: the current inputs' ``I_ext``)."""
    receptor = _get(inp, "receptor")
    return f"s_{receptor}" if receptor else _get(inp, "target_var", None)


def _targets_of(netfile, names) -> set:
    out = set()
    params = _get(netfile, "parameters", {}) or {}
    for name in names:
        par = params.get(name)
        if par is not None:
            out |= set(_get(par, "sets", {}) or {})
    return out


def _poisson_rate_target(name) -> str:
    return f"{name}.rate"


def _check_poisson_rates(netfile, values: dict, dt):
    """rate*dt of one source of each poisson_input, after the parameter values."""
    for name, inp in (_get(netfile, "inputs", {}) or {}).items():
        if _get(inp, "kind") != "poisson_input":
            continue
        rate = values.get(_poisson_rate_target(name), _get(inp, "rate"))
        product = float(rate * dt)
        if not product <= MAX_RATE_DT:
            raise ModelError(f"{netfile.ref}: inputs.{name}.rate = {rate} with dt = {dt}: "
                             f"rate*dt = {product:g} of one Poisson source; it must be at most "
                             f"{MAX_RATE_DT} (at most one spike per step, in effect)")


def _phase_set(netfile) -> set:
    """The targets that some protocol phase sets (restored by every other phase)."""
    out = set()
    for phase in _get(netfile, "protocol", ()) or ():
        own = _get(phase, "parameters", None) or {}
        out |= _targets_of(netfile, own)
    return out


@functools.lru_cache(maxsize=16)
def _file_models(netfile) -> dict:
    """Population and projection name -> the :class:`Model` the build makes it from (a
    population's neuron model composed with its receptors), read from the library (once
    per network file: a planner checks every point; composing takes ~10 ms)."""
    ref, out = netfile.ref, {}
    for pname, pop in netfile.populations.items():
        model = load_model(_pinned(_get(pop, "model"), f"{ref}: populations.{pname}.model"))
        receptors = {label: _pinned(r, f"{ref}: populations.{pname}.receptors.{label}")
                     for label, r in (_get(pop, "receptors", {}) or {}).items()}
        out[pname] = compose(model, receptors) if receptors else model
    for jname, proj in netfile.projections.items():
        out[jname] = load_model(_pinned(_get(proj, "synapse"),
                                        f"{ref}: projections.{jname}.synapse"))
    return out


#: Connectors that draw nothing.
_DETERMINISTIC_RULES = ("all_to_all", "one_to_one")
#: A call of Brian2's generator in an expression or code (``rand()``, ``randn()``,
#: ``poisson(...)``).
_RAND_CALL = re.compile(r"\b(randn?|poisson)\s*\(")


def _draws(value) -> bool:
    """Whether a value the build sets (a distribution, an expression) draws random numbers."""
    if _is_distribution(value):
        return True
    return isinstance(value, str) and bool(_RAND_CALL.search(value))


def _lattice_all_fixed_indegree(netfile) -> bool:
    """Whether ``netfile`` has lattice projections and all are ``gaussian_fixed_indegree``:
    the rule the binary can draw (:class:`~brianlab.networks.indegree.Draws`; where the
    device and the seed allow it, :func:`~brianlab.networks.indegree.drawn_in_binary`)."""
    rules = [_get(_get(p, "connector"), "rule") for p in netfile.projections.values()]
    lattice = [r for r in rules if r in _LATTICE_RULES]
    return bool(lattice) and set(lattice) == {"gaussian_fixed_indegree"}


def synapses_drawn_in_binary(netfile, device: str) -> list:
    """The projections of ``netfile`` whose synapses a build on ``device`` creates in its
    binary (:class:`~brianlab.networks.indegree.Draws`): its lattice projections, when
    they are all ``gaussian_fixed_indegree`` and the device and the file's connectivity
    seed allow it (:func:`~brianlab.networks.indegree.drawn_in_binary`); none otherwise.
    Their indices never pass through Python (what the memory estimate counts).

    Parameters
    ----------
    netfile : NetworkFile
        The network (its structure changes applied).
    device : str
        The build's device.

    Returns
    -------
    list of str
        Projection names.
    """
    seed = (_get(netfile, "seeds", {}) or {}).get("connectivity")
    if not (drawn_in_binary(device, seed) and _lattice_all_fixed_indegree(netfile)):
        return []
    return [name for name, p in netfile.projections.items()
            if _get(_get(p, "connector"), "rule") in _LATTICE_RULES]


def connectivity_at_run_time(netfile, device: str) -> bool:
    """Whether a build of ``netfile`` on ``device`` takes its connectivity seed at run time
    (the target groups' ``conn_seed``), so that one build serves every connectivity seed.

    True when the binary makes every random choice the connectivity seed decides: the
    device is Brian2's ``cpp_standalone``, the network's lattice projections are all
    ``gaussian_fixed_indegree`` (drawn in the binary by
    :class:`~brianlab.networks.indegree.Draws`, from the file's seed, which must be one the
    variable holds), and nothing else the build constructs draws from Brian2's generator
    (seeded with the connectivity seed at build time, so compiled in): no initial value,
    parameter, weight or delay that is a distribution or calls ``rand()``, ``randn()`` or
    ``poisson()`` (the file's and the models' initial values), and only the connectors that draw
    nothing (``all_to_all``, ``one_to_one``) beside the lattice projections. What draws
    while the network runs (Poisson inputs, noise) uses the drive seed, set before the
    run, and is not concerned.

    Parameters
    ----------
    netfile : NetworkFile
        The network (its structure changes applied).
    device : str
        The build's device.

    Returns
    -------
    bool
    """
    if not synapses_drawn_in_binary(netfile, device):
        return False
    models = _file_models(netfile)
    for pname, pop in netfile.populations.items():
        values = [*(_get(pop, "initial", {}) or {}).values(),
                  *(_get(pop, "parameters", {}) or {}).values(), *models[pname].initial.values()]
        if any(_draws(v) for v in values):
            return False
    for jname, proj in netfile.projections.items():
        rule = _get(_get(proj, "connector"), "rule")
        if rule not in _LATTICE_RULES and rule not in _DETERMINISTIC_RULES:
            return False
        values = [_get(proj, "weight"), _get(proj, "delay"),
                  *(_get(proj, "parameters", {}) or {}).values(), *models[jname].initial.values()]
        if any(_draws(v) for v in values):
            return False
    return True


def _checked_values(netfile, changes: dict, models: dict) -> dict:
    """``"obj.var"`` -> Quantity for every parameter target with ``changes`` (parameter
    name -> value) applied; Poisson ``rate*dt`` and physical ranges checked."""
    values = netfile.run_values(**changes)
    _check_poisson_rates(netfile, values, _get(netfile, "dt", None) or 0.1 * ms)
    _check_ranges(netfile, values, models)
    return values


def check_run_values(netfile, values: dict, *, build_changes=None, models=None) -> dict:
    """Check run-time parameter values of a network file, without building it.

    The checks :meth:`BuiltNetwork.run_args` makes (with the same messages), so that a
    planner can check every point of a sweep before any build: known parameter names and
    units, parameters that a protocol phase sets (refused: the binary restores the
    build's value after that phase), Poisson ``rate*dt`` of every ``poisson_input`` and
    the physical range of every value that sets a model parameter.

    Parameters
    ----------
    netfile : NetworkFile
        The network file.
    values : dict
        Parameter name (``[parameters]``) -> value (quantity or string): the run-time
        changes.
    build_changes : dict, optional
        Parameter values a build was made with (kept, and not refused when a phase sets
        them); ``values`` replace them.
    models : dict, optional
        Population and projection name -> :class:`~brianlab.modelfile.Model` (default:
        read from the library, the neuron models composed with their receptors).

    Returns
    -------
    dict
        ``"obj.var"`` (a parameter target, ``"E.g_max_ampa"``) -> Quantity, for every
        parameter target, with the changes applied.

    Raises
    ------
    ModelError
        For an unknown parameter, a wrong unit, a parameter that a protocol phase sets,
        a Poisson rate with ``rate*dt`` above 0.1, or a value out of physical range.
    """
    clash = _targets_of(netfile, values) & _phase_set(netfile)
    if clash:
        raise ModelError(f"{netfile.ref}: {', '.join(sorted(clash))} is set by a "
                         "protocol phase; change it by building again, not with run_args")
    return _checked_values(netfile, {**(build_changes or {}), **values},
                           _file_models(netfile) if models is None else models)


def _check_ranges(netfile, values: dict, models: dict):
    """The physical range (:func:`brianlab.ranges.check_range`) of every run-time value
    that sets a model parameter, as a parameter override in the file gets."""
    for target, value in values.items():
        obj, _, var = target.partition(".")
        model = models.get(obj)
        if model is not None and var in model.parameters:
            check_range(var, value, refractory=model.refractory, path=netfile.ref,
                        where=f"parameter target {target}")


def _reseed(base, k: int):
    """``brian2.seed(base + k)`` (mod 2**32): a fresh state for one construction step.

    Brian2's runtime device draws ``connect`` numbers from a buffer filled from numpy's
    generator (Cython) and the values set by string expressions from numpy's generator
    directly, while a standalone binary draws both from one stream: the same seed gives
    the same numbers on every device only from a fresh state at each switch.
    """
    if base is not None:
        brian2_seed((int(base) + k) % 2**32)


def _connect_args(conn, src_n: int, tgt_n: int, same: bool, autapses: bool,
                  multapses: bool, where: str) -> dict:
    """``connect`` keyword arguments of the non-lattice rules."""
    rule = _get(conn, "rule")
    no_self = same and not autapses
    if rule == "all_to_all":
        return {"condition": "i != j"} if no_self else {"condition": True}
    if rule == "one_to_one":
        if src_n != tgt_n:
            raise ModelError(f"{where}: one_to_one needs equal sizes, got {src_n} and {tgt_n}")
        if same and not autapses:
            raise ModelError(f"{where}: one_to_one of a population onto itself connects each "
                             "neuron to itself: set autapses = true")
        return {"j": "i"}
    if rule == "probability":
        p = float(_get(conn, "p"))
        return {"p": p, "condition": "i != j"} if no_self else {"p": p}
    if rule in ("fixed_indegree", "fixed_outdegree"):
        k = int(_get(conn, "k"))
        inner, outer, n_name, n = (("i", "j", "N_pre", src_n) if rule == "fixed_indegree"
                                   else ("j", "i", "N_post", tgt_n))
        if multapses:
            if no_self:
                raise ModelError(f"{where}: {rule} with multapses and without autapses is "
                                 "not supported; allow autapses or forbid multapses")
            return {inner: f"int(rand()*{n_name}) for _m in range({k})"}
        limit = n - 1 if no_self else n
        if k > limit:
            raise ModelError(f"{where}: k = {k} is larger than the {limit} possible partners "
                             "(allow multapses for draws with replacement)")
        if no_self:
            return {inner: f"_k + int(_k >= {outer}) for _k in sample({n_name} - 1, size={k})"}
        return {inner: f"_k for _k in sample({n_name}, size={k})"}
    raise ModelError(f"{where}: unknown connector rule {rule!r}")


def _sheet_rule(conn):
    """A lattice connector as the sheet builder's rule name and :class:`~.sheet.Pathway`."""
    rule = _get(conn, "rule").removeprefix("gaussian_")
    path = Pathway(float(_get(conn, "sigma")), k=int(_get(conn, "k", 100) or 100),
                   p_max=float(_get(conn, "p_max", 1.0) or 1.0))
    return rule, path


def _lattice_indices(conn, src: Lattice, tgt: Lattice, same: bool, autapses: bool, rng):
    rule, path = _sheet_rule(conn)
    return sheet_indices(rule, src, tgt, path, same, rng, allow_self=autapses or not same)


def _lattice_weight(conn, src: Lattice, tgt: Lattice, same: bool, autapses: bool):
    """The normalised weight factor of a lattice rule, ``build_ei_sheet``'s own: the
    expected total weight a target receives is the dense kernel's sum."""
    rule, path = _sheet_rule(conn)
    return sheet_weight(rule, src, tgt, path, same, allow_self=autapses or not same)


def _initial_w(model):
    """The synapse model's initial ``w`` as a number (None if it is an expression)."""
    try:
        return float(parse_quantity(model.initial.get("w", "1")))
    except ModelError:
        return None


def _normalised(conn) -> bool:
    norm = _get(conn, "normalise", _get(conn, "normalize", "kernel_sum"))
    return norm not in (None, False, "none")


def _input_equations(name: str, inp) -> list[str]:
    """Run-time variables an input adds to its target group."""
    kind = _get(inp, "kind")
    if kind == "poisson_input":
        weight = _get(inp, "weight")
        return [f"{name}_rate : Hz (constant, shared)",
                f"{name}_count : 1 (constant, shared)",
                f"{name}_weight : {_unit(weight)} (constant, shared)"]
    lines = [f"{name}_on : 1 (constant, shared)"]
    if kind == "current_step":
        lines += [f"{name}_amplitude : {_unit(_get(inp, 'amplitude'))} (constant, shared)",
                  f"{name}_start : second (constant, shared)",
                  f"{name}_stop : second (constant, shared)"]
    elif kind == "current_ramp":
        unit = _unit(_get(inp, "amplitude_start"))
        lines += [f"{name}_amplitude_start : {unit} (constant, shared)",
                  f"{name}_amplitude_end : {unit} (constant, shared)",
                  f"{name}_start : second (constant, shared)",
                  f"{name}_stop : second (constant, shared)"]
    elif kind == "random_current":
        lines += [f"{name}_amplitude : {_unit(_get(inp, 'amplitude'))} (constant, shared)",
                  f"{name}_duration : second (constant, shared)"]
    elif kind == "image":
        lines += [f"{name}_stim : 1 (constant)",
                  f"{name}_amplitude : {_unit(_get(inp, 'amplitude'))} (constant, shared)",
                  f"{name}_start : second (constant, shared)",
                  f"{name}_stop : second (constant, shared)"]
    else:
        raise ModelError(f"inputs.{name}: unknown input kind {kind!r}")
    return lines


def _zeroing_tick(last: float, interval: float) -> float | None:
    """The time of an operation's first tick (its clock's steps ``k * interval``, as the
    binary computes them) at which ``t < last`` is false, or None past a bound."""
    k = int(np.floor(last / interval))
    for k in (k - 1, k, k + 1, k + 2):
        if k >= 0 and k * interval >= last and (k == 0 or (k - 1) * interval < last):
            return k * interval
    return None


def _set_zero(group, var: str):
    """Set ``group.<var>`` to zero (in its unit)."""
    setattr(group, var, Quantity(0.0, dim=group.variables[var].dim))


def _window(inp):
    start = _get(inp, "start", _get(inp, "onset", 0 * ms))
    stop = _get(inp, "stop", _get(inp, "offset", None))
    return start, (stop if stop is not None else 1e9 * second)


def _current_term(name: str, inp, offset: int) -> str:
    kind = _get(inp, "kind")
    if kind == "current_step":
        return f"{name}_on*{name}_amplitude*int(t >= {name}_start)*int(t < {name}_stop)"
    if kind == "current_ramp":
        return (f"{name}_on*({name}_amplitude_start + ({name}_amplitude_end - "
                f"{name}_amplitude_start)*(t - {name}_start)/({name}_stop - {name}_start))"
                f"*int(t >= {name}_start)*int(t < {name}_stop)")
    if kind == "random_current":
        drive = HASH_UNIFORM.format(i=f"(i + {offset})")
        return f"{name}_on*{name}_amplitude*{drive}*int(t < {name}_duration)"
    return f"{name}_on*{name}_amplitude*{name}_stim*int(t >= {name}_start)*int(t < {name}_stop)"


def _set_input_values(group, name, inp, lattice, where, drive_seed, folder):
    kind = _get(inp, "kind")
    if kind == "poisson_input":
        setattr(group, f"{name}_rate", _get(inp, "rate"))
        setattr(group, f"{name}_count", float(_get(inp, "count", 1)))
        setattr(group, f"{name}_weight", _get(inp, "weight"))
        return
    setattr(group, f"{name}_on", 1.0)
    if kind == "current_ramp":
        setattr(group, f"{name}_amplitude_start", _get(inp, "amplitude_start"))
        setattr(group, f"{name}_amplitude_end", _get(inp, "amplitude_end"))
    else:
        setattr(group, f"{name}_amplitude", _get(inp, "amplitude"))
    if kind == "random_current":
        setattr(group, f"{name}_duration", _get(inp, "duration", 1e9 * second))
        group.drive_seed = float(drive_seed or 0)
        return
    start, stop = _window(inp)
    setattr(group, f"{name}_start", start)
    setattr(group, f"{name}_stop", stop)
    if kind == "image":
        if lattice is None:
            raise ModelError(f"{where}: an image input needs a lattice population")
        spec = _get(inp, "image", "cross")
        width = _get(inp, "width")
        if spec == "cross" and width is not None:
            image = cross_image(lattice.side, int(width))
        else:
            if folder is not None and spec != "cross" and not Path(spec).is_absolute():
                spec = folder / spec  # relative to the network file
            image = stimulus_image(spec, lattice.side)
        setattr(group, f"{name}_stim", np.asarray(image, dtype=float).ravel())


def build_network(netfile, *, device=None, seed=None, drive_seed=None, device_options=None,
                  name=None, **changes) -> BuiltNetwork:
    """Build a network file into Brian2 objects.

    Parameters
    ----------
    netfile : NetworkFile or str
        A loaded network file, or a reference (``"coba"``, ``"coba@1"``).
    device : str, optional
        ``"runtime"``, ``"cpp_standalone"`` or ``"cuda_standalone"``: a
        :class:`~brianlab.devices.DeviceSession` is opened and stays open on the result
        (close it with :meth:`BuiltNetwork.close`). Without a device the current Brian2
        device is used.
    seed : int, optional
        Connectivity seed (default: the file's ``seeds.connectivity``).
    drive_seed : int, optional
        Drive seed, set immediately before the first run (default: the file's
        ``seeds.drive``).
    device_options : dict, optional
        Further arguments of :func:`~brianlab.devices.use_device` (``threads``,
        ``directory``, ``target``, ``build_only``, ...); ``quiet`` defaults to True.
    name : str, optional
        Prefix of the Brian2 object names instead of the network's name (``"cmsa"``:
        ``cmsa_E``, ``cmsa_E.tau_ref`` as the CMSA sheet's binary names them); a
        lower-case identifier. Brian2 orders the objects of one scheduling slot by name.
    **changes
        Values of the file's named parameters (quantities or strings).

    Returns
    -------
    BuiltNetwork
    """
    if isinstance(netfile, str):
        netfile = load_network(netfile)
    prefix = netfile.name if name is None else name
    if not isinstance(prefix, str) or not _NAME.match(prefix):
        raise ModelError(f"{netfile.ref}: invalid object name prefix {prefix!r}: lower-case "
                         "letters, digits and '_', starting with a letter")
    seeds = dict(_get(netfile, "seeds", {}) or {})
    seeds = {"connectivity": seeds.get("connectivity") if seed is None else seed,
             "drive": seeds.get("drive") if drive_seed is None else drive_seed}
    for key, value in seeds.items():
        seeds[key] = None if value is None else check_seed(value, f"{netfile.ref}: the {key} seed")
    session = None
    if device is not None:
        session = use_device(device, **{"quiet": True, **(device_options or {})})
    start = time.perf_counter()
    try:
        parts = _construct(netfile, seeds, changes, prefix)
    except BaseException:
        if session is not None:
            session.close()
        raise
    built = BuiltNetwork(netfile, session=session, seeds=seeds, changes=changes,
                         prefix=prefix, **parts)
    built.wall_times["construct_s"] = time.perf_counter() - start
    return built


def _pinned(ref: str, where: str) -> str:
    """A model reference as the load checked it: ``name@version`` (never "the newest")."""
    if "@" not in str(ref):
        raise ModelError(f"{where}: unpinned model {ref!r}; a network names every model as "
                         "'name@version', so that the build uses the model the load checked")
    return ref


def _construct(netfile, seeds: dict, changes: dict, prefix: str) -> dict:
    ref = netfile.ref
    dt = _get(netfile, "dt", None) or 0.1 * ms
    clock = Clock(dt, name=f"{prefix}_clock")
    values = netfile.run_values(**changes)  # checks names and units of the changes
    _check_poisson_rates(netfile, values, dt)
    inputs = dict(_get(netfile, "inputs", {}) or {})
    by_target: dict = {}
    for name, inp in inputs.items():
        by_target.setdefault(_get(inp, "target"), []).append(name)

    if seeds["connectivity"] is not None:
        brian2_seed(seeds["connectivity"])

    # lattice projections that are all fixed in-degree draws: drawn by a cpp_standalone
    # binary (networks/indegree.py; the same synapses as Python's draw, one stream)
    draws = None
    if in_binary(seeds["connectivity"]) and _lattice_all_fixed_indegree(netfile):
        draws = Draws(seeds["connectivity"])
    drawn_targets = set() if draws is None else {
        _get(p, "target") for p in netfile.projections.values()
        if _get(_get(p, "connector"), "rule") in _LATTICE_RULES}

    groups, lattices = {}, {}
    for pname, pop in netfile.populations.items():
        lat = _get(pop, "lattice")
        if lat is not None:
            side, extent = lat
            lattices[pname] = Lattice(side, None if extent is None else float(extent))
            size = lattices[pname].n
        else:
            size = int(_get(pop, "size"))
        extra = []
        for iname in by_target.get(pname, []):
            extra += _input_equations(iname, inputs[iname])
        if any(_get(inputs[n], "kind") == "random_current" for n in by_target.get(pname, [])):
            extra.append("drive_seed : 1 (constant, shared)")  # the hash drive's seed
        if pname in drawn_targets:
            extra.append(SEED_EQUATION)  # the connectivity seed, a run-time value
        initial = {var: _value(v) for var, v in (_get(pop, "initial", {}) or {}).items()}
        model = load_model(_pinned(_get(pop, "model"), f"{ref}: populations.{pname}.model"))
        receptors = {label: _pinned(r, f"{ref}: populations.{pname}.receptors.{label}")
                     for label, r in (_get(pop, "receptors", {}) or {}).items()}
        group = neuron_group(model, size, receptors=receptors,
                             name=f"{prefix}_{pname}", clock=clock, initial=initial,
                             extra_equations="\n".join(extra),
                             **dict(_get(pop, "parameters", {}) or {}))
        groups[pname] = group
        if pname in drawn_targets:
            setattr(group, SEED_VARIABLE, int(seeds["connectivity"]))

    syns = {}
    rng = None
    for jname, proj in netfile.projections.items():
        where = f"{ref}: projections.{jname}"
        src_name, tgt_name = _get(proj, "source"), _get(proj, "target")
        src, tgt = groups[src_name], groups[tgt_name]
        same = src_name == tgt_name
        conn = _get(proj, "connector")
        rule = _get(conn, "rule")
        autapses = _get(proj, "autapses")
        autapses = (not same) if autapses is None else bool(autapses)
        multapses = bool(_get(proj, "multapses", False))
        receptor = _get(proj, "receptor")
        target_var = f"s_{receptor}" if receptor else _get(proj, "target_var")
        delay = _get(proj, "delay")
        homogeneous = delay is None or not _is_distribution(delay)
        number = len(syns) + 1
        _reseed(seeds["connectivity"], 2 * number - 1)
        syn_model = load_model(_pinned(_get(proj, "synapse"), f"{where}.synapse"))
        syn = synapses(syn_model, src, tgt, target_var=target_var,
                       name=f"{prefix}_{jname}", clock=clock,
                       delay=_value(delay) if homogeneous and delay is not None else None,
                       shared=tuple(_get(proj, "shared", ()) or ()),
                       **dict(_get(proj, "parameters", {}) or {}))
        weight = _get(proj, "weight")
        if rule in _LATTICE_RULES:
            if src_name not in lattices or tgt_name not in lattices:
                raise ModelError(f"{where}: rule {rule!r} needs lattice populations")
            if draws is not None:
                _, path = _sheet_rule(conn)
                draws.connect(syn, indegree_tables(
                    lattices[src_name], lattices[tgt_name], path.k, path.sigma,
                    allow_self=autapses or not same, same_population=same))
            else:
                if rng is None:
                    rng = np.random.default_rng(seeds["connectivity"])
                i, j = _lattice_indices(conn, lattices[src_name], lattices[tgt_name], same,
                                        autapses, rng)
                syn.connect(i=i, j=j)
            _reseed(seeds["connectivity"], 2 * number)
            if _normalised(conn) or rule == "gaussian_kernel":  # the kernel is its weights
                factor = _lattice_weight(conn, lattices[src_name], lattices[tgt_name], same,
                                         autapses)
                w = _value(weight)
                if w is None and _initial_w(syn_model) != 1:
                    w = "w"  # the model's initial w, set by connect, times the factor
                if isinstance(factor, str):
                    syn.w = factor if w is None or (not isinstance(w, str) and float(w) == 1) \
                        else f"({w})*{factor}"
                elif w is None or (not isinstance(w, str) and float(w) == 1):
                    syn.w = factor
                elif isinstance(w, str):
                    syn.w = f"({w})*{factor!r}"
                else:
                    syn.w = w * factor
            elif weight is not None:
                syn.w = _value(weight)
        else:
            syn.connect(**_connect_args(conn, len(src), len(tgt), same, autapses, multapses,
                                        where))
            _reseed(seeds["connectivity"], 2 * number)
            if weight is not None:
                syn.w = _value(weight)
        if not homogeneous:
            syn.delay = _value(delay)
        syns[jname] = syn

    built_inputs = {}
    ops_by_var: dict = {}
    for iname, inp in inputs.items():
        tname = _get(inp, "target")
        group = groups[tname]
        _set_input_values(group, iname, inp, lattices.get(tname), f"{ref}: inputs.{iname}",
                          seeds["drive"], None if netfile.path is None
                          else Path(netfile.path).parent)
        kind = _get(inp, "kind")
        var = _input_var(inp)
        if kind == "poisson_input":
            op = group.run_regularly(f"{var} += {iname}_weight*poisson({iname}_count*"
                                     f"{iname}_rate*dt)", when="synapses",
                                     name=f"{prefix}_{iname}")
            built_inputs[iname] = (group, [op])
        else:
            ops_by_var.setdefault((tname, var or "I_ext"), []).append(iname)
            built_inputs[iname] = (group, [])
    n_random = 0
    for (tname, var), names in ops_by_var.items():
        group = groups[tname]
        terms, interval = [], None
        for iname in names:
            inp = inputs[iname]
            if _get(inp, "kind") == "random_current":
                offset = _get(inp, "offset", None)
                offset = n_random * HASH_OFFSET if offset is None else int(offset)
                n_random += 1
                interval = _get(inp, "interval", None) or interval
            else:
                offset = 0
            terms.append(_current_term(iname, inp, offset))
        op = group.run_regularly(f"{var} = " + " + ".join(terms), when="start",
                                 dt=interval, name=f"{prefix}_{tname}_{var}_inputs")
        del op  # contained in the group; each input switches its term with <input>_on

    monitors = {"spikes": {}, "rates": {}, "state": []}
    mon = _get(netfile, "monitors", None)
    for pname in (_get(mon, "spikes", ()) or ()):
        monitors["spikes"][pname] = SpikeMonitor(groups[pname], name=f"{prefix}_spikes_{pname}")
    for pname in (_get(mon, "rates", ()) or ()):
        monitors["rates"][pname] = PopulationRateMonitor(groups[pname],
                                                         name=f"{prefix}_rate_{pname}")
    for k, st in enumerate(_get(mon, "state", ()) or ()):
        pname = _get(st, "population")
        record = _get(st, "record", True)
        record = True if record is None or record is True else list(record)
        kwargs = {"dt": _get(st, "dt")} if _get(st, "dt") is not None else {}
        monitors["state"].append(StateMonitor(groups[pname], list(_get(st, "variables")),
                                              record=record, name=f"{prefix}_state_{k}",
                                              **kwargs))
    objects = [*groups.values(), *syns.values(), *monitors["spikes"].values(),
               *monitors["rates"].values(), *monitors["state"]]
    network = Network(objects, name=f"{prefix}_network")
    _check_ranges(netfile, values, {name: model_of(obj) for name, obj
                                    in [*groups.items(), *syns.items()]})
    # build values of the named parameters (file values with the build's changes)
    built = {"groups": groups, "synapses": syns, "inputs": built_inputs}
    for target, value in values.items():
        obj, _, varname = target.partition(".")
        # by name, never by truth value: len() of a standalone Synapses is unknown before
        # the run (Brian2 raises NotImplementedError)
        owner = (groups[obj] if obj in groups else syns[obj] if obj in syns
                 else built_inputs[obj][0] if obj in built_inputs else None)
        name = f"{obj}_{varname}" if obj in built_inputs else varname
        setattr(owner, name, value)
    return {"network": network, "monitors": monitors, "lattices": lattices, "clock": clock,
            **built}
