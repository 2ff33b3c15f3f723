"""Stage 2 of the pipeline, tier 2: a :class:`~brianlab.pipeline.request.Request` becomes a
:class:`~brianlab.pipeline.plan.Plan` (design of issue 25, 2.2).

The network is read (a library reference through :mod:`brianlab.library`, a ``.toml`` path
with every load check), each ``--set``/``--grid`` name with a dot is a structure path
(:func:`brianlab.networkfile.with_structure`: the changed file is checked as a file is
when loaded), each name without one a ``[parameters]`` name, converted and checked for
every point (:func:`brianlab.networks.builder.check_run_values`) before anything is
built. Points are grouped into one :class:`~brianlab.pipeline.plan.BuildSpec` per
distinct structure and compiled seed (2.4: a network that draws from Brian2's generator
while running has its seed compiled in; a hash drive takes its seed at run time). The
connectivity seed (``seeds.connectivity``) is a structure path unless the binary draws
every random connection (:func:`~brianlab.networks.builder.connectivity_at_run_time`:
fixed in-degree lattice projections on ``cpp_standalone``); then it is the run value
``conn_seed`` of each point and one build serves every connectivity seed (issue 26). The
plan stores SI floats, so a repeated command needs no Brian2.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

from ..errors import ModelError
from ..library import load_network
from ..networkfile import NetworkFile, read_network_file, with_structure
from ..networks.builder import _RAND_CALL as _RAND
from ..networks.builder import (_file_models, check_run_values, connectivity_at_run_time,
                                synapses_drawn_in_binary)
from ..networks.indegree import drawn_in_binary
from ..resources import (BASE_BYTES, BINARY_BASE_BYTES, BINARY_BYTES_PER_SYNAPSE,
                         BYTES_PER_SYNAPSE, check_memory, spike_memory)
from ..results import config_hash
from ..runargs import CONNECTIVITY_TARGET
from ..seeds import check_seed
from ..units import parse_quantity
from . import save
from .execute import portable
from .grid import MAX_BUILDS, parse_assignment
from .plan import Axis, BuildSpec, NetworkRef, Plan, PointSpec, point_key
from .reductions import ReductionSpec
from .request import Request

__all__ = ["make_plan", "build_threads", "read_network_of", "network_of", "outputs_of",
           "draws_at_run_time", "drive_seeds", "check_network_memory", "has_hash_drive",
           "context_of"]

_XI = re.compile(r"\bxi(_\w+)?\b")
#: Devices the pipeline runs: compiled builds (C++, CUDA: its points run where a GPU is),
#: or points in this process.
DEVICES = ("cpp_standalone", "cuda_standalone", "runtime")
#: The structure path of the connectivity seed.
CONNECTIVITY_PATH = "seeds.connectivity"


def read_network_of(network: str) -> tuple[NetworkFile, NetworkRef]:
    """The network a command names, read with every load check, and its reference.

    Parameters
    ----------
    network : str
        A library reference (``"cuba"``, ``"cuba@1"``: the newest version when unpinned)
        or the path of a ``.toml`` file (status ``file``; ``ref`` ``"file:<absolute path>"``).

    Returns
    -------
    NetworkFile, NetworkRef

    Raises
    ------
    ModelError
        For a network that cannot be found or read.
    """
    if network.endswith(".toml"):
        path = Path(network).expanduser().resolve()
        if not path.is_file():
            raise ModelError(f"no network file {network} ({path} is not a file)")
        netfile, ref = read_network_file(path), f"file:{path}"
    else:
        netfile = load_network(network)
        ref = netfile.ref
    models = sorted({(m["model"], m["sha256"]) for model in _file_models(netfile).values()
                     for m in model.provenance})
    return netfile, NetworkRef(ref, netfile.sha256, netfile.status, tuple(models))


def network_of(spec: BuildSpec) -> NetworkFile:
    """The network file of a build, read again and changed by its structure.

    Parameters
    ----------
    spec : BuildSpec

    Returns
    -------
    NetworkFile

    Raises
    ------
    ModelError
        If the file changed since the plan was made (its sha256 differs), or as
        :func:`read_network_of` and :func:`~brianlab.networkfile.with_structure`.
    """
    ref = spec.network.ref
    if ref.startswith("file:"):
        netfile = read_network_file(ref[len("file:"):])
    else:
        netfile = load_network(ref, allow_modified=spec.network.status == "modified")
    if netfile.sha256 != spec.network.sha256:
        raise ModelError(f"{ref} changed since the command was planned; run it again")
    if not (spec.structure or spec.additions):
        return netfile
    return with_structure(netfile, dict(spec.structure), spec.addition_values())


def outputs_of(netfile: NetworkFile) -> tuple[str, ...]:
    """The arrays a build of ``netfile`` writes, named as
    :meth:`~brianlab.networks.builder.BuiltNetwork.compile_spec` names them.

    Parameters
    ----------
    netfile : NetworkFile

    Returns
    -------
    tuple of str
    """
    mon = netfile.monitors
    out = [f"spikes_{p}_{v}" for p in (mon.spikes or ()) for v in ("i", "t")]
    out += [f"rate_{p}_{v}" for p in (mon.rates or ()) for v in ("t", "rate")]
    for k, st in enumerate(mon.state or ()):
        for var in st.variables:
            name = f"state_{st.population}_{var}"
            out.append(name if name not in out else f"{name}_{k}")
    return tuple(out)


def _silent(model, parameters: dict, run_time: set, text: str) -> bool:
    """Whether every noise term ``xi`` of ``text`` is multiplied by a parameter that is zero
    in this population and not set at run time (lif's ``sigma*xi`` at ``sigma = 0``)."""
    for match in _XI.finditer(text):
        before = re.search(r"(\w+)\s*\*\s*$", text[:match.start()])
        after = re.match(r"\s*\*\s*(\w+)", text[match.end():])
        factors = [m.group(1) for m in (before, after) if m is not None]
        zero = False
        for name in factors:
            value = parameters.get(name, model.parameters.get(name))
            try:
                zero = zero or (name not in run_time and value is not None and float(value) == 0)
            except (TypeError, ValueError):
                pass
        if not zero:
            return False
    return True


def draws_at_run_time(netfile: NetworkFile) -> bool:
    """Whether a build of ``netfile`` draws from Brian2's generator while it runs
    (``poisson_input``, ``rand()``, or a noise ``xi`` that is not multiplied by a parameter
    set to zero): its drive seed is compiled in.

    Parameters
    ----------
    netfile : NetworkFile

    Returns
    -------
    bool
    """
    if any(inp.kind == "poisson_input" for inp in (netfile.inputs or {}).values()):
        return True
    run_time = set(netfile.run_values())
    for name, model in _file_models(netfile).items():
        population = netfile.populations.get(name)
        parameters = dict(population.parameters) if population is not None else {}
        targets = {t.partition(".")[2] for t in run_time if t.partition(".")[0] == name}
        code = [model.equations_text, model.threshold, model.reset, model.on_pre,
                model.on_post]
        for text in filter(None, code):
            if _RAND.search(text):
                return True
            if _XI.search(text) and (population is None or
                                     not _silent(model, parameters, targets, text)):
                return True
    return False


def has_hash_drive(netfile: NetworkFile) -> bool:
    """Whether ``netfile`` has a hash drive (``random_current``): a run-time drive seed.

    Parameters
    ----------
    netfile : NetworkFile

    Returns
    -------
    bool
    """
    return any(inp.kind == "random_current" for inp in (netfile.inputs or {}).values())


def _reduction(netfile: NetworkFile) -> tuple[ReductionSpec, float | None]:
    """The file's reduction (default: population statistics) and its ``t_start`` (s)."""
    reduction = getattr(netfile, "reduction", None)
    if reduction is None:
        return ReductionSpec(), None
    # the file's ``t_start`` is the option ``t_start_s`` (networkfile's reading of the table)
    t_start = dict(reduction.options).get("t_start_s")
    return reduction, None if t_start is None else float(t_start)


def context_of(netfile: NetworkFile, t_start: float | None = None) -> dict:
    """What a point's reduction knows of its build: JSON-ready.

    Parameters
    ----------
    netfile : NetworkFile
        As built (structure applied).
    t_start : float, optional
        Start of the analysed window (s); default: the start of the last protocol phase.

    Returns
    -------
    dict
        ``name``, ``populations`` (size), ``lattices`` (sides), ``dt_s``, ``phases``
        (``[name, start_s, stop_s]``), ``t_start_s``.
    """
    phases, start = [], 0.0
    for phase in netfile.protocol:
        stop = start + float(phase.duration)
        phases.append([phase.name, start, stop])
        start = stop
    return {"name": netfile.name,
            "populations": {p: int(pop.size) for p, pop in netfile.populations.items()},
            "lattices": {p: [int(pop.lattice[0])] * 2
                         for p, pop in netfile.populations.items() if pop.lattice},
            "dt_s": float(netfile.dt), "phases": phases,
            "t_start_s": float(phases[-1][1] if t_start is None else t_start)}


#: The tables whose name a point key leaves out of a structure path (object names are unique
#: across them: ``populations.E.size`` -> ``E.size``).
_OBJECT_TABLES = ("populations.", "projections.", "inputs.", "protocol.", "monitors.")


def check_network_memory(netfile: NetworkFile, *, available=None, copies: int = 1,
                         device: str | None = None) -> None:
    """Refuse a network whose build and run would not fit in memory, before anything is
    built: per expected synapse
    (:meth:`~brianlab.networkfile.NetworkFile.expected_synapses_by_projection`)
    :data:`~brianlab.resources.BINARY_BYTES_PER_SYNAPSE` where the binary creates them
    (:func:`~brianlab.networks.builder.synapses_drawn_in_binary`), else
    :data:`~brianlab.resources.BYTES_PER_SYNAPSE`; every neuron's spikes at
    :data:`~brianlab.resources.PLAUSIBLE_MAX_RATE_HZ` over the protocol; and a base
    (:data:`~brianlab.resources.BINARY_BASE_BYTES` when every synapse is the binary's).
    The CMSA command's own estimate uses the same constants
    (:meth:`brianlab.cmsa.params.CMSAParams.memory_parts`).

    Parameters
    ----------
    netfile : NetworkFile
        The network with its structure changes.
    available : float or MemoryLimit, optional
        Default :func:`brianlab.resources.available_memory`.
    copies : int
        Points simulated at once (local Dask workers).
    device : str, optional
        The build's device (default: indices pass through Python).

    Raises
    ------
    ValueError
        Naming the network, its size, the estimate by part and the memory available.
    """
    by_projection = netfile.expected_synapses_by_projection()
    in_binary = set(synapses_drawn_in_binary(netfile, device)) if device else set()
    synapses = int(round(sum(by_projection.values())))
    synapse_bytes = sum((BINARY_BYTES_PER_SYNAPSE if name in in_binary else BYTES_PER_SYNAPSE)
                        * n for name, n in by_projection.items())
    neurons = sum(p.size for p in netfile.populations.values())
    seconds = float(netfile.duration)
    every = bool(in_binary) and in_binary == set(by_projection)
    parts = {"synapses": float(synapse_bytes), "spikes": spike_memory(neurons, seconds),
             "base": BINARY_BASE_BYTES if every else BASE_BYTES}
    check_memory(parts, f"{netfile.ref} ({neurons:,} neurons, {synapses:,} synapses, "
                        f"{seconds:g} s)",
                 "make the populations or the protocol smaller with --set",
                 available=available, copies=copies)


def drive_seeds(request: Request, netfile: NetworkFile) -> tuple[int, ...]:
    """The drive seeds of a request's points: those given, else the network file's
    ``[seeds] drive`` (what ``NetworkFile.build`` uses by default).

    Parameters
    ----------
    request : Request
    netfile : NetworkFile
        The network of the point (its structure changes applied).

    Returns
    -------
    tuple of int
    """
    return request.seeds if request.seeds is not None else (int(netfile.seeds["drive"]),)


def _short(name: str) -> str:
    """A run-time name or structure path as a point key shows it: the path without its
    table (``projections.EE.connector.k`` -> ``EE.connector.k``), so that two paths never
    show alike."""
    return name.split(".", 1)[1] if name.startswith(_OBJECT_TABLES) else name


def _text(value, unit) -> str:
    return f"{value!r} {unit}" if unit else repr(value)


def _si(text: str) -> float | None:
    """A structure value's text as a float (SI for a quantity), None if it is no number."""
    try:
        return float(parse_quantity(text))
    except (ModelError, ValueError, TypeError):
        return None


def _structure(netfile: NetworkFile, changes: tuple, cache: dict) -> NetworkFile:
    if changes not in cache:
        if not changes:
            cache[changes] = netfile
        else:
            try:
                cache[changes] = with_structure(netfile, dict(changes))
            except ModelError as exc:
                given = ", ".join(f"{k}={v}" for k, v in changes)
                raise ModelError(f"{given}: {exc}") from None
    return cache[changes]


def _run_time_connectivity(netfile: NetworkFile, structure: tuple, device: str,
                           cache: dict, answers: dict) -> tuple[tuple, int | None]:
    """A point's structure without its connectivity seed and the seed, where the build
    takes the seed at run time (:func:`~brianlab.networks.builder.connectivity_at_run_time`:
    one build for every connectivity seed); else the structure as it is and None. A
    value that is not a seed the binary's variable holds stays in the structure (whose
    load checks name what is wrong with it). ``cache`` holds the structures read,
    ``answers`` each structure's answer."""
    given = dict(structure).get(CONNECTIVITY_PATH)
    if given is None:
        return structure, None
    try:
        seed = int(given)
    except ValueError:
        return structure, None
    if not drawn_in_binary(device, seed):  # (the device, and a seed the variable holds)
        return structure, None
    rest = tuple((n, t) for n, t in structure if n != CONNECTIVITY_PATH)
    if rest not in answers:
        answers[rest] = connectivity_at_run_time(_structure(netfile, rest, cache), device)
    return (rest, seed) if answers[rest] else (structure, None)


def build_threads(device: str, threads: int | None) -> int | None:
    """The OpenMP threads a build on ``device`` is made for: ``threads`` on
    ``cpp_standalone``, None elsewhere (brian2cuda runs on the GPU; the runtime device
    builds nothing), so a CUDA build's key does not change with ``--threads``.

    Parameters
    ----------
    device : str
    threads : int or None

    Returns
    -------
    int or None
    """
    return threads if device == "cpp_standalone" else None


def make_plan(request) -> Plan:
    """The plan of a ``run`` or ``sweep`` request (design 2.2).

    Parameters
    ----------
    request : Request

    Returns
    -------
    Plan

    Raises
    ------
    ModelError
        For a network that cannot be read, a structure value its load checks refuse (the
        message names the value given, the file and the key), an unknown parameter (the
        message lists the parameters) or a run-time value out of range.
    ValueError
        For a device the pipeline does not run, or more than
        :data:`~brianlab.pipeline.grid.MAX_BUILDS` builds.
    """
    if request.device not in DEVICES:
        raise ValueError(f"--device {request.device}: run and sweep run on "
                         f"{', '.join(DEVICES)}")
    netfile, ref = read_network_of(request.network)
    reduction, t_start = _reduction(netfile)
    axes = [parse_assignment(f"{name}={text}") for name, text in request.grid]
    set_structure = tuple(sorted((n, t) for n, t in request.sets if "." in n))
    set_params = [(n, t) for n, t in request.sets if "." not in n]
    # the parameters given, checked once on the file (unknown names list the parameters)
    check_run_values(netfile, {n: t for n, t in set_params})
    set_values = netfile.parameter_values(**dict(set_params))
    configuration = save.configuration(
        request.command, ref, set_structure, [(n, float(set_values[n])) for n, _ in set_params],
        reduction, request.device, build_threads(request.device, request.threads),
        portable(request))
    folder_hash = config_hash(configuration)
    structures: dict = {}
    checked: set = set()
    at_run_time: dict = {}
    build_index: dict = {}
    builds, points, contexts = [], [], {}
    seeds_per_structure: dict = {}
    grid = itertools.product(*[[(name, v, unit) for v in values] for name, values, unit in axes])
    for combination in grid:
        swept = [(name, _text(v, unit), v, unit) for name, v, unit in combination]
        given = tuple(sorted([*set_structure, *[(n, t) for n, t, _, _ in swept if "." in n]]))
        structure, conn_seed = _run_time_connectivity(netfile, given, request.device,
                                                      structures, at_run_time)
        net = _structure(netfile, structure, structures)
        if structure not in checked:
            checked.add(structure)
            check_network_memory(net, copies=request.workers or 1, device=request.device)
        changes = {**dict(set_params), **{n: t for n, t, _, _ in swept if "." not in n}}
        targets = check_run_values(net, changes)
        run_values = tuple((t, float(q)) for t, q in targets.items())
        if conn_seed is not None:
            run_values += ((CONNECTIVITY_TARGET, float(conn_seed)),)
        parameters = net.parameter_values(**changes)
        values = []
        for n, t, v, unit in swept:
            values.append((n, float(parameters[n]) if "." not in n else
                           (_si(t) if unit else float(v))))
        for n, t in [*set_params, *set_structure]:
            si = float(parameters[n]) if "." not in n else _si(t)
            if si is not None:
                values.append((n, si))
        display = [(_short(n), t) for n, t, _, _ in swept] + \
                  [(_short(n), t) for n, t in [*set_params, *set_structure]]
        hash_drive, compiled = has_hash_drive(net), draws_at_run_time(net)
        for seed in drive_seeds(request, net):
            check_seed(seed, "--seed", hash_drive=hash_drive)
            compiled_seed = seed if compiled else None
            index = build_index.get((structure, compiled_seed))
            if index is None:
                if len(builds) == MAX_BUILDS:
                    raise ValueError(f"more than {MAX_BUILDS} builds (structures and compiled "
                                     f"seeds); one sweep has at most {MAX_BUILDS}: split it")
                index = build_index[(structure, compiled_seed)] = len(builds)
                builds.append(BuildSpec(ref, structure, compiled_seed, request.device,
                                        build_threads(request.device, request.threads),
                                        portable(request), outputs_of(net)))
                contexts[str(index)] = context_of(net, t_start)
                seeds_per_structure.setdefault(structure, set()).add(compiled_seed)
            key = point_key(display, seed, {
                "folder": folder_hash,
                "point": {"values": [list(v) for v in values],
                          "structure": [list(s) for s in structure],
                          "run_values": [list(r) for r in run_values], "seed": seed}},
                index=len(points))
            title = ", ".join([*(f"{s} {t}" for s, t in display), f"seed {seed}"])
            points.append(PointSpec(key, index, tuple(values), run_values, seed, title))
    warnings = []
    several = max(len(s) for s in seeds_per_structure.values())
    if several > 1:
        warnings.append(f"{ref.ref} draws from Brian2's generator at run time: {several} seeds "
                        f"are {several} builds (issue 20 makes the seed a run-time value)")
    plan_axes = tuple(Axis(name, unit or "", tuple(float(v) for v in values))
                      for name, values, unit in axes)
    return Plan(request.key_arguments(), tuple(builds), tuple(points), configuration,
                reduction, plan_axes, contexts, tuple(warnings))
