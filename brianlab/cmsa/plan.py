"""The CMSA sheet of a :class:`~brianlab.cmsa.params.CMSAParams` as a network file.

``cmsa_sheet@2`` is the default sheet (``CMSAParams()``) with the refractory period
``rp`` as a run-time parameter and the ``cmsa_phi`` reduction; every other field of a
``CMSAParams`` is structure (what a build compiles in), which :func:`sheet_structure`
derives, or a run-time value (:func:`sheet_values`). Built through
:func:`brianlab.networks.builder.build_network`, the file gives the objects and spikes of
:func:`brianlab.cmsa.protocol.build_network` (``tests/test_cmsa_pipeline.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from brian2 import ms

from ..networkfile import with_structure
from ..networks.builder import check_run_values
from ..networks.sheet import Pathway
from ..pipeline.compile import compile_build
from ..pipeline.execute import run_builds
from ..pipeline.plan import BuildSpec, Plan, PointSpec, addition_text
from ..pipeline.planner import build_threads, context_of, outputs_of, read_network_of
from ..pipeline.reductions import ReductionSpec
from ..units import quantity_text
from .params import CMSAParams
from .reduce import PointSettings

__all__ = ["SHEET", "REDUCTION", "sheet_structure", "sheet_values", "make_plan",
           "run_compiled"]

#: The network file of the CMSA sheet.
SHEET = "cmsa_sheet@2"
#: The reduction of its points (:func:`brianlab.cmsa.reduce.cmsa_phi`).
REDUCTION = "cmsa_phi"

#: CMSAParams.rule -> the network file's lattice connector rule.
_RULES = {"fixed_indegree": "gaussian_fixed_indegree", "probability": "gaussian_probability",
          "kernel": "gaussian_kernel"}


def _connector(p: CMSAParams, sigma: float, k: int) -> dict:
    conn = {"rule": _RULES[p.rule], "sigma": float(sigma), "normalise": "kernel_sum"}
    if p.rule == "fixed_indegree":
        conn["k"] = int(k)
    elif p.rule == "probability":  # the CMSA sheet's pathways (cmsa.protocol) keep the default
        conn["p_max"] = Pathway.__dataclass_fields__["p_max"].default
    return conn


def sheet_structure(p: CMSAParams) -> tuple[dict, dict]:
    """The structure of ``cmsa_sheet@2`` that makes it the sheet of ``p``.

    Parameters
    ----------
    p : CMSAParams
        The simulation.

    Returns
    -------
    changes : dict of str to str
        Structure path -> value text (:func:`brianlab.netformat.apply_structure`): the
        lattices (E side; I side and extent), ``dt``, the connectivity seed, the neuron
        parameters of both populations, the drives' amplitude, interval and duration,
        the phases' durations. Quantities are written as :func:`brianlab.units.quantity_text`
        writes them (they read back as the same floats).
    additions : dict of str to object
        The four connectors (``projections.<name>.connector``: rule, ``k``, ``sigma``,
        kernel-sum normalisation); for ``stimulus_duration > 0`` the attention stimulus
        (an ``image`` input ``stimulus`` on E from the stimulus onset to the end, a third
        phase ``stimulus``, and the run-time parameter ``stimulus_amplitude``); for
        ``phi = "voltage"`` a state monitor of ``E.v`` recording the last
        ``voltage_frames`` steps before the stimulus onset (``window``).
    """
    text = quantity_text
    changes = {
        "dt": text(p.dt),
        "seeds.connectivity": str(int(p.network_seed)),
        "populations.E.lattice.side": str(p.e_side),
        "populations.I.lattice.side": str(p.i_side),
        "populations.I.lattice.extent": str(p.e_side),
    }
    neuron = {"C": p.C, "g_L": p.g_L, "E_L": p.E_L, "V_reset": p.V_reset, "V_th": p.V_th,
              "tau_ampa": p.tau_syn, "tau_gaba": p.tau_syn, "E_ampa": p.E_ampa,
              "E_gaba": p.E_gaba}
    for pop in ("E", "I"):
        for name, value in neuron.items():
            changes[f"populations.{pop}.parameters.{name}"] = text(value)
    for drive in ("drive_E", "drive_I"):
        changes[f"inputs.{drive}.amplitude"] = text(p.drive)
        changes[f"inputs.{drive}.interval"] = text(p.drive_interval)
        changes[f"inputs.{drive}.duration"] = text(p.drive_duration)
    changes["protocol.drive.duration"] = text(p.drive_duration)
    changes["protocol.spontaneous.duration"] = text(p.duration)
    additions: dict = {}
    for name, sigma, k in (("ee", p.sigma_e, p.k_e), ("ei", p.sigma_e, p.k_e),
                           ("ie", p.sigma_i, p.k_i), ("ii", p.sigma_i, p.k_i)):
        additions[f"projections.{name}.connector"] = _connector(p, sigma, k)
        if p.rule == "kernel":  # weights per synapse (build_ei_sheet's kernel rule)
            additions[f"projections.{name}.shared"] = []
    onset = p.stimulus_onset
    if p.stimulus_duration > 0 * ms:
        additions["inputs.stimulus"] = {
            "kind": "image", "target": "E", "image": p.image,
            "amplitude": text(p.stimulus_amplitude), "start": text(onset),
            "stop": text(p.total)}
        additions["parameters.stimulus_amplitude"] = {
            "value": text(p.stimulus_amplitude), "sets": ["stimulus.amplitude"]}
        additions["protocol.phases"] = [
            {"name": "drive", "duration": text(p.drive_duration)},
            {"name": "spontaneous", "duration": text(p.duration)},
            {"name": "stimulus", "duration": text(p.stimulus_duration)}]
    if p.phi == "voltage":
        additions["monitors.state"] = [{
            "population": "E", "variables": ["v"], "dt": text(p.dt),
            "window": [text(onset - p.voltage_frames * p.dt), text(onset)]}]
    return changes, additions


def sheet_values(p: CMSAParams) -> dict:
    """The run-time values of ``p`` on the sheet of :func:`sheet_structure`.

    Parameters
    ----------
    p : CMSAParams
        The point.

    Returns
    -------
    dict
        Parameter name -> Quantity: ``rp``, ``we``, ``wi`` and, with a stimulus,
        ``stimulus_amplitude`` (the keyword arguments of
        :func:`brianlab.networks.builder.build_network`; the drive seed is ``p.seed``,
        its ``drive_seed``).
    """
    values = {"rp": p.rp, "we": p.we, "wi": p.wi}
    if p.stimulus_duration > 0 * ms:
        values["stimulus_amplitude"] = p.stimulus_amplitude
    return values


def make_plan(points: Sequence[CMSAParams], keys: Sequence[str], titles: Sequence[str], *,
              command: dict, configuration: dict, device: str = "cpp_standalone",
              threads: int | None = None, portable: bool = False) -> Plan:
    """The pipeline's plan of a CMSA command's points: ``cmsa_sheet@2`` built once per
    distinct structure, each point a run of its build with run-time values.

    Parameters
    ----------
    points : sequence of CMSAParams
        The simulations, in the command's order.
    keys, titles : sequence of str
        Their file names (the CMSA command's point keys) and titles.
    command : dict
        What the plan's ``request`` records (the command line, JSON-ready).
    configuration : dict
        The results folder's configuration (the CMSA command's).
    device : str
        ``cpp_standalone`` or ``cuda_standalone`` (cached builds) or ``runtime`` (each
        point built and run in this process).
    threads : int, optional
        OpenMP threads of a ``cpp_standalone`` build.
    portable : bool
        Built without the build machine's CPU flags.

    Returns
    -------
    Plan
        One :class:`~brianlab.pipeline.plan.BuildSpec` per structure (the changes of
        :func:`sheet_structure` as paths and additions), one
        :class:`~brianlab.pipeline.plan.PointSpec` per point (run values of
        :func:`sheet_values`, the drive seed, the point's
        :class:`~brianlab.cmsa.reduce.PointSettings` as its reduction options) and the
        ``cmsa_phi`` reduction.

    Raises
    ------
    ModelError
        If the sheet file or a value is refused by its load checks.
    """
    netfile, ref = read_network_of(SHEET)
    builds: list[BuildSpec] = []
    structures: dict = {}  # (structure, additions) -> (build index, changed network file)
    contexts: dict = {}
    specs = []
    for p, key, title in zip(points, keys, titles, strict=True):
        changes, additions = sheet_structure(p)
        structure = tuple(sorted(changes.items()))
        added = tuple(sorted((path, addition_text(value)) for path, value in additions.items()))
        if (structure, added) not in structures:
            net = with_structure(netfile, changes, additions)
            structures[(structure, added)] = (len(builds), net)
            contexts[str(len(builds))] = context_of(net)
            builds.append(BuildSpec(ref, structure, None, device, build_threads(device, threads),
                                    portable, outputs_of(net), added))
        build, net = structures[(structure, added)]
        given = sheet_values(p)
        targets = check_run_values(net, given)
        values = tuple((name, float(q)) for name, q in given.items())
        specs.append(PointSpec(key, build, values,
                               tuple((t, float(q)) for t, q in targets.items()), int(p.seed),
                               title, tuple(sorted(PointSettings.of(p).as_dict().items()))))
    return Plan(dict(command), tuple(builds), tuple(specs), dict(configuration),
                ReductionSpec(REDUCTION), (), contexts)


def run_compiled(points: Sequence[CMSAParams], keys: Sequence[str], folder, *, client=None,
                 threads: int | None = None, portable: bool = False, on_record=None) -> dict:
    """Run CMSA points as the CMSA command's compiled path does, outside the command:
    :func:`make_plan`, each build found in the cache or compiled, the points run as its
    binary (here, or on a Dask ``client``) and reduced by ``cmsa_phi``.

    Parameters
    ----------
    points : sequence of CMSAParams
    keys : sequence of str
        Their file names (``folder/points/<key>.npz`` and ``.json``).
    folder : RunFolder or path
        Where the points are saved (its ``points`` folder is made).
    client : distributed.Client, optional
    threads : int, optional
    portable : bool
    on_record : callable(key, record), optional
        Called here as each point completes.

    Returns
    -------
    dict
        The builds and their use
        (:meth:`brianlab.pipeline.execute.BuildsRun.description`).
    """
    (Path(getattr(folder, "path", folder)) / "points").mkdir(parents=True, exist_ok=True)
    plan = make_plan(points, keys, keys, command={}, configuration={}, threads=threads,
                     portable=portable)
    return run_builds(plan, folder, compile_build=compile_build, client=client,
                      on_record=on_record).description()
