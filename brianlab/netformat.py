"""The network file format without units (tier 1: never imports Brian2).

What a network file is before any unit, model or expression is read: the tables and keys
(:data:`KEY_DOCS`, :func:`format_reference`), names, :data:`MAX_NEURONS`, the connector
rules and input kinds, the Brian2 object names the builder derives from the file's names
(:func:`check_object_names`) and the pinned model references. :func:`read_raw_network`
reads a file's bytes into a :class:`RawNetwork`; :mod:`brianlab.networkfile` (tier 2)
checks its units and models.

The file's structure (sizes, lattices, connector fields, ``dt``, seeds, phase durations:
what a build compiles in) is addressable by dotted paths: :func:`structure_paths` lists
them and :func:`apply_structure` returns a changed copy of the raw table, which
:func:`brianlab.networkfile.with_structure` parses again with every load check.
"""

from __future__ import annotations

import copy
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .errors import ModelError
from .modelformat import decode_file, load_toml

__all__ = ["MAX_NEURONS", "CONNECTOR_RULES", "NORMALISATIONS", "INPUT_KINDS",
           "PUBLISHED_STATISTICS", "KEY_DOCS", "format_reference", "check_table",
           "check_object_names", "RawNetwork", "read_raw_network", "raw_network",
           "structure_paths", "structure_value", "apply_structure", "MAX_LISTED_PATHS"]

#: Largest population accepted (neurons).
MAX_NEURONS = 10_000_000

#: Connector rules and the fields each needs (required, optional).
CONNECTOR_RULES = {
    "all_to_all": ((), ()),
    "one_to_one": ((), ()),
    "probability": (("p",), ()),
    "fixed_indegree": (("k",), ()),
    "fixed_outdegree": (("k",), ()),
    "gaussian_fixed_indegree": (("k", "sigma"), ("normalise",)),
    "gaussian_probability": (("p_max", "sigma"), ("normalise",)),
    "gaussian_kernel": (("sigma",), ("normalise",)),
}
#: Weight normalisations of the lattice rules (as ``build_ei_sheet``): ``none``, or
#: ``kernel_sum`` (weights scaled so that the expected total weight a target receives is
#: ``weight`` times the Gaussian kernel's sum over the source lattice, as with dense
#: Gaussian weights: ``kernel_sum/k`` per synapse for ``gaussian_fixed_indegree``,
#: ``1/p_max`` for ``gaussian_probability``). ``gaussian_kernel``'s weights are always
#: ``weight`` times the Gaussian of the distance.
NORMALISATIONS = ("none", "kernel_sum")


#: Input kinds and their fields (required, optional); ``target`` is always required,
#: ``target_var``/``receptor`` as the kind says.
INPUT_KINDS = {
    "poisson_input": (("count", "rate", "weight"), ()),
    "current_step": (("amplitude",), ("start", "stop")),
    "current_ramp": (("amplitude_start", "amplitude_end", "start", "stop"), ()),
    "random_current": (("amplitude", "interval"), ("duration",)),
    "image": (("image", "amplitude"), ("start", "stop", "width")),
}


#: Statistics a ``[[published]]`` entry may state: keys of
#: :func:`brianlab.analysis.population.population_statistics` -> their unit (``low`` and
#: ``high`` are given in it).
PUBLISHED_STATISTICS = {
    "rate": "Hz", "active_fraction": "1", "cv": "1", "fano": "1", "fano_population": "1",
    "synchrony": "1", "peak_frequency": "Hz",
}


# ---------------------------------------------------------------------------
# the format: every table's keys and what they mean
# ---------------------------------------------------------------------------
#: What each key of each table of a network file means. The parser accepts exactly
#: these keys (an unknown key is an error listing them), and the documentation's format
#: reference is generated from this (:func:`format_reference`).
KEY_DOCS = {
    "top": {
        "name": "the network's name: lower-case letters, digits and '_'; equal to its folder's "
                "name",
        "version": "a positive integer, equal to the file's name (`<version>.toml`)",
        "kind": "`network`",
        "summary": "one line: what the network is",
        "references": "list of strings: the papers the network follows",
        "notes": "free text",
        "dt": "the network's time step (a time, default `\"0.1 ms\"`)",
        "seeds": "table: the seeds (below)",
        "parameters": "table of named run-time parameters (below)",
        "populations": "table of populations by name, in build order (below)",
        "projections": "table of projections by name, in build order (below)",
        "inputs": "table of inputs by name, in build order (below)",
        "monitors": "table: what is recorded (below)",
        "protocol": "table: the phases of a run (below)",
        "published": "array of tables `[[published]]`: the published behaviour the network "
                     "must show (below)",
        "reduction": "table: what each run's arrays reduce to (below; default: the "
                     "population statistics)",
    },
    "seeds": {
        "connectivity": "seed of construction: connectors, random initial values, weights "
                        "and delays (an integer in [0, 2**32))",
        "drive": "seed of run time: Poisson inputs, noise, random currents (an integer in "
                 "[0, 2**32))",
    },
    "parameters.NAME": {
        "value": "the default value (a quantity string)",
        "sets": "the run-time variables it sets, `\"object.variable\"`: a list (each takes the "
                "value), or a table of target = expression of parameters (`\"-g*J\"`: "
                "numbers, parameter names, units, `+ - * / **`, parentheses; "
                "dimension-checked). Targets: a population's model parameter (`E.g_max_e`), "
                "a projection's shared variable or synapse parameter (`EE.w` with "
                "`shared = [\"w\"]`), an input's `rate` (poisson_input) or `amplitude` "
                "(current_step, random_current, image)",
    },
    "populations.NAME": {
        "model": "neuron or rate model, pinned: `\"name@version\"` (`\"lif@2\"`)",
        "size": "number of neurons (1 to 10,000,000); or give `lattice`",
        "lattice": "`{ side = 150 }` or `{ side = 75, extent = 150 }`: a side x side lattice on "
                   "a torus of side `extent` (default `side`), as brianlab.space.Lattice",
        "receptors": "table of label = pinned receptor model (as brianlab.compose: `s` of "
                     "`ampa_exp@1` under label `e` becomes `s_e`, `tau` becomes `tau_e`)",
        "parameters": "table of the composed model's parameters = quantity (unit- and "
                      "range-checked)",
        "initial": "table of state variable = value (a quantity string or a distribution)",
    },
    "value": {
        "uniform": "`{ uniform = [\"low\", \"high\"] }`: uniform in [low, high) "
                   "(`low + (high - low)*rand()`)",
        "normal": "`{ normal = [\"mean\", \"std\"] }`: normal (`mean + std*randn()`)",
    },
    "projections.NAME": {
        "source": "presynaptic population",
        "target": "postsynaptic population",
        "synapse": "synapse model, pinned (`\"static@1\"`, `\"stdp_pair@1\"`, ...)",
        "receptor": "receptor label of the target whose input (`s_<label>`) the synapse drives",
        "target_var": "or the target's variable the synapse drives directly (`\"v\"`, with a "
                      "synapse whose `target_unit` is volt); exactly one of the two",
        "connector": "table: the connection rule (below)",
        "weight": "initial `w` of every synapse, in the synapse's `w` unit (dimensionless for "
                  "receptors): a value or a distribution; omitted: the model's initial `w`",
        "delay": "transmission delay (>= 0): a time or a uniform distribution",
        "shared": "list of synapse variables held as one shared value (`[\"w\"]`), so that "
                  "`<projection>.w` is a run-time target",
        "autapses": "whether a neuron may connect to itself (default false)",
        "multapses": "whether a pair may connect more than once (default false; always "
                     "true for `gaussian_fixed_indegree`, which draws with replacement)",
        "parameters": "table of the synapse model's parameters = quantity",
    },
    "connector": {
        "rule": "`all_to_all`, `one_to_one`, `probability`, `fixed_indegree`, "
                "`fixed_outdegree`; on lattices `gaussian_fixed_indegree`, "
                "`gaussian_probability`, `gaussian_kernel` (brianlab.space)",
        "p": "pair probability in [0, 1] (`probability`)",
        "k": "in-degree or out-degree, >= 1 and at most the source (in-degree) or target "
             "(out-degree) size unless multapses (`fixed_indegree`, `fixed_outdegree`, "
             "`gaussian_fixed_indegree`)",
        "sigma": "Gaussian width (> 0) in the lattices' length unit (that of `extent`: "
                 "spacings of a lattice whose extent equals its side, e.g. the CMSA sheet's E "
                 "lattice, as build_ei_sheet)",
        "p_max": "peak probability in [0, 1] (`gaussian_probability`)",
        "normalise": "weight normalisation of the lattice rules: `none` (default) or "
                     "`kernel_sum`: each target's expected total weight is `weight` times the "
                     "Gaussian kernel's sum over the source lattice, as dense Gaussian weights "
                     "(`kernel_sum/k` per synapse for `gaussian_fixed_indegree`, `1/p_max` for "
                     "`gaussian_probability`; as build_ei_sheet). `gaussian_kernel`'s weights "
                     "are always `weight` times the Gaussian of the distance",
    },
    "inputs.NAME": {
        "kind": "`poisson_input`, `current_step`, `current_ramp`, `random_current`, `image`",
        "target": "the population driven",
        "target_var": "its variable driven (currents: default `I_ext`)",
        "receptor": "or the receptor label whose input is driven (poisson_input)",
        "count": "poisson_input: independent Poisson sources per neuron (>= 1)",
        "rate": "poisson_input: rate of one source (>= 0, rate*dt <= 0.1)",
        "weight": "poisson_input: what one spike adds to the target variable (its unit)",
        "amplitude": "current_step, random_current (maximum), image (at a pixel value of 1): "
                     "a current in the target variable's unit",
        "amplitude_start": "current_ramp: value at `start`",
        "amplitude_end": "current_ramp: value at `stop`",
        "start": "onset (>= 0; default 0 s; a multiple of the interval of a random_current "
                 "on the same variable, where no current_ramp is allowed)",
        "stop": "offset (> start; default: never; a multiple of that interval too)",
        "interval": "random_current: a fresh uniform value every `interval` (> 0)",
        "duration": "random_current: no current after this time (> 0; default: never)",
        "image": "image: `\"cross\"` (brianlab.inputs.cross_image) on a lattice target",
        "width": "image: width of the cross's bars in pixels (>= 1)",
    },
    "monitors": {
        "spikes": "list of populations with a spike monitor",
        "rates": "list of populations with a population rate monitor",
        "state": "list of state monitors (below)",
    },
    "monitors.state": {
        "population": "the population",
        "variables": "list of its variables",
        "record": "list of neuron indices, or true (all; default)",
        "dt": "sampling interval (default: the network's dt)",
        "window": "`[\"start\", \"stop\"]` (times, 0 <= start < stop): record only the steps "
                  "from start to before stop (default: the whole run)",
    },
    "protocol": {
        "phases": "list of phases (below), run in order",
    },
    "protocol.phases": {
        "name": "the phase's name (an identifier, unique)",
        "duration": "how long it runs (a time > 0)",
        "inputs_off": "list of inputs switched off during the phase",
        "parameters": "table of network parameter = value during the phase",
    },
    "published": {
        "population": "the population measured (its spikes)",
        "statistic": "a key of brianlab.analysis.population.population_statistics: "
                     + ", ".join(f"`{k}`" + ("" if u == "1" else f" ({u})")
                                 for k, u in PUBLISHED_STATISTICS.items()),
        "low": "lowest published value, in the statistic's unit (`\"5 Hz\"`, or a number "
               "for a dimensionless statistic); omitted: no lower bound",
        "high": "highest published value (>= low); omitted: no upper bound",
        "source": "where it is published: paper, figure or table",
        "parameters": "table of network parameter = value at which it holds (default: the "
                      "file's values)",
        "t_start": "transient left out of the measurement (a time >= 0, shorter than the "
                   "protocol; default 0 s)",
    },
    "reduction": {
        "name": "the reduction: a name registered in brianlab.pipeline.reductions.REDUCTIONS "
                "(`population_statistics`, `cmsa_phi`)",
        "t_start": "start of the analysed window (a time >= 0, shorter than the protocol; "
                   "default: the start of the last phase)",
    },
}

_REQUIRED = {
    "top": {"name", "version", "kind", "seeds", "populations", "protocol"},
    "seeds": {"connectivity", "drive"},
    "parameters.NAME": {"value", "sets"},
    "populations.NAME": {"model"},
    "value": set(),
    "projections.NAME": {"source", "target", "synapse", "connector"},
    "connector": {"rule"},
    "inputs.NAME": {"kind", "target"},
    "monitors": set(),
    "monitors.state": {"population", "variables"},
    "protocol": {"phases"},
    "protocol.phases": {"name", "duration"},
    "published": {"population", "statistic", "source"},
    "reduction": {"name"},
}

_TABLE_TITLES = {
    "top": "Top level", "seeds": "`[seeds]`", "parameters.NAME": "`[parameters]`: one entry "
    "per parameter, `NAME = { value = ..., sets = ... }`",
    "populations.NAME": "`[populations.NAME]`", "value": "Distributions (initial values, "
    "weights, delays)", "projections.NAME": "`[projections.NAME]`",
    "connector": "`connector = { rule = ..., ... }`", "inputs.NAME": "`[inputs.NAME]`",
    "monitors": "`[monitors]`", "monitors.state": "`monitors.state` entries",
    "protocol": "`[protocol]`", "protocol.phases": "`protocol.phases` entries",
    "published": "`[[published]]` entries", "reduction": "`[reduction]`",
}

#: Run-time fields of each input kind (targets ``<input>.<field>`` of parameters).
_INPUT_RUNTIME = {"poisson_input": ("rate",), "current_step": ("amplitude",),
                  "random_current": ("amplitude",), "image": ("amplitude",)}


def format_reference() -> str:
    """The network file format as Markdown: one table of keys per TOML table.

    Returns
    -------
    str
        Generated from :data:`KEY_DOCS` and the required keys, which are the parser's own
        key sets (it cannot drift from what
        :func:`brianlab.networkfile.read_network_file` accepts).
    """
    parts = []
    for table, keys in KEY_DOCS.items():
        parts.append(f"### {_TABLE_TITLES[table]}\n")
        parts.append("| key | required | meaning |\n|---|---|---|")
        for key, meaning in keys.items():
            required = "yes" if key in _REQUIRED[table] else ""
            parts.append(f"| `{key}` | {required} | {meaning} |")
        parts.append("")
    return "\n".join(parts)


_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_IDENT = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def _type(value) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float, str)):
        return f"{value!r}"
    return {dict: "a table", list: "a list"}.get(type(value), type(value).__name__)



# ---------------------------------------------------------------------------
# checks without units
# ---------------------------------------------------------------------------
def check_table(value, where: str | None, table: str, *, path=None) -> dict:
    """Check that ``value`` is a table of the format's table ``table`` (a key of
    :data:`KEY_DOCS`): only its keys, every required key present.

    Parameters
    ----------
    value : object
        The TOML value.
    where : str or None
        Its key path (for the message; None: the top level).
    table : str
        Which table of :data:`KEY_DOCS` it is.
    path : str or Path, optional
        The file (for the message).

    Returns
    -------
    dict
        ``value``.

    Raises
    ------
    ModelError
        For a value that is not a table, an unknown key (listing the allowed ones) or a
        missing required key.
    """
    if not isinstance(value, dict):
        raise ModelError(f"expected a table, got {_type(value)}", path=path, where=where)
    allowed = KEY_DOCS[table]
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        raise ModelError(f"unknown key(s) {', '.join(unknown)}; allowed: "
                         f"{', '.join(allowed)}", path=path, where=where)
    for key in sorted(_REQUIRED[table]):
        if key not in value:
            raise ModelError(f"missing required key '{key}'", path=path, where=where)
    return value


def check_object_names(name: str, populations: Iterable[str], projections: Iterable[str],
                       inputs: Mapping[str, tuple[str, str, str | None]],
                       spikes: Iterable[str], rates: Iterable[str], state_monitors: int, *,
                       path=None) -> None:
    """Check that the Brian2 objects the builder names ``<name>_...`` are unique.

    Parameters
    ----------
    name : str
        The network's name.
    populations, projections : iterable of str
        Their names.
    inputs : mapping of str to (kind, target, target_var)
        The inputs (``target_var`` None: ``I_ext``).
    spikes, rates : iterable of str
        The populations with a spike monitor, a rate monitor.
    state_monitors : int
        How many state monitors there are.
    path : str or Path, optional
        The file (for the message).

    Raises
    ------
    ModelError
        Naming the two declarations that would give one Brian2 name.
    """
    built = {"network": "the network", "clock": "the clock"}

    def add(obj, where):
        if obj in built and built[obj] != where:
            raise ModelError(f"{where} and {built[obj]} would both be the Brian2 object "
                             f"'{name}_{obj}'; rename one", path=path, where=where)
        built[obj] = where

    for pname in populations:  # a group and what Brian2 names after it
        for suffix in ("", "_stateupdater", "_spike_thresholder", "_spike_resetter"):
            add(pname + suffix, f"populations.{pname}")
    for jname in projections:
        for suffix in ("", "_pre", "_post", "_stateupdater"):
            add(jname + suffix, f"projections.{jname}")
    for iname, (kind, target, target_var) in inputs.items():
        if kind == "poisson_input":
            add(iname, f"inputs.{iname}")
        else:
            var = target_var or "I_ext"
            add(f"{target}_{var}_inputs", f"the current inputs of {target}.{var}")
    for pname in spikes:
        add(f"spikes_{pname}", f"monitors.spikes ({pname})")
    for pname in rates:
        add(f"rate_{pname}", f"monitors.rates ({pname})")
    for k in range(state_monitors):
        add(f"state_{k}", f"monitors.state[{k}]")


# ---------------------------------------------------------------------------
# the raw network
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class RawNetwork:
    """A network file read without units: its top level checked, its models named.

    Parameters
    ----------
    name : str
        The network's name.
    version : int
        Its version.
    raw : dict
        The file's TOML table (the top level's keys checked; the tables below are not).
    sha256 : str
        Hash of the file's bytes.
    path : str or None
        The file read.
    status : str
        ``released``, ``unreleased``, ``modified`` or ``file``.
    model_refs : tuple of str
        Every model reference of the file (populations' models and receptors,
        projections' synapses), in file order, each once; a network file pins them
        (``name@version``), which :mod:`brianlab.networkfile` checks as it loads them.
    """

    name: str
    version: int
    raw: dict
    sha256: str = ""
    path: str | None = None
    status: str = "file"
    model_refs: tuple[str, ...] = ()


def raw_network(raw: Mapping, *, path=None, sha256: str = "",
                status: str = "file") -> RawNetwork:
    """Check the top level of a network file's TOML table (keys, kind, name, version).

    Parameters
    ----------
    raw : mapping
        The parsed TOML table.
    path : str or Path, optional
        Where it came from (for messages).
    sha256 : str
        Hash of the file's bytes (recorded).
    status : str
        Its release status (recorded).

    Returns
    -------
    RawNetwork

    Raises
    ------
    ModelError
        For an unknown or missing top-level key, a kind other than ``network``, an
        invalid name or version.
    """
    path = None if path is None else str(path)
    raw = check_table(raw, None, "top", path=path)
    if raw["kind"] != "network":
        raise ModelError(f"expected kind = \"network\", got {raw['kind']!r}", path=path,
                         where="kind")
    name = raw["name"]
    if not isinstance(name, str):
        raise ModelError(f"expected a string, got {_type(name)}", path=path, where="name")
    if not _NAME.match(name):
        raise ModelError(f"invalid name {name!r}: lower-case letters, digits and '_'",
                         path=path, where="name")
    version = raw["version"]
    if not isinstance(version, int) or isinstance(version, bool):
        raise ModelError(f"expected a positive integer, got {_type(version)}", path=path,
                         where="version")
    if version < 1:
        raise ModelError(f"expected a positive integer, got {version}", path=path,
                         where="version")
    return RawNetwork(name=name, version=version, raw=raw, sha256=sha256, path=path,
                      status=status, model_refs=_model_refs(raw))


def _model_refs(raw: Mapping) -> tuple[str, ...]:
    refs = []

    def tables(key):
        value = raw.get(key, {})
        return [t for t in value.values() if isinstance(t, dict)] if isinstance(value, dict) \
            else []

    for table in tables("populations"):
        refs.append(table.get("model"))
        receptors = table.get("receptors", {})
        if isinstance(receptors, dict):
            refs.extend(receptors.values())
    for table in tables("projections"):
        refs.append(table.get("synapse"))
    return tuple(dict.fromkeys(r for r in refs if isinstance(r, str)))


def read_raw_network(data: bytes, *, path=None, status: str = "file") -> RawNetwork:
    """Read a network file's bytes without units: UTF-8, TOML under the format's limits,
    the top level (:func:`raw_network`).

    Parameters
    ----------
    data : bytes
        The file's content.
    path : str or Path, optional
        Where it came from (for messages).
    status : str
        Its release status.

    Returns
    -------
    RawNetwork

    Raises
    ------
    ModelError
        For bytes that are not UTF-8, malformed or oversized TOML, and the top level's
        problems.
    """
    text, sha256 = decode_file(data, path=path)
    raw = load_toml(text, path=None if path is None else str(path))
    return raw_network(raw, path=path, sha256=sha256, status=status)


# ---------------------------------------------------------------------------
# structure paths
# ---------------------------------------------------------------------------
#: Top-level keys that are not structure: what the file says about itself, the run-time
#: parameters, the published behaviour and the reduction.
_NOT_STRUCTURE = frozenset({"name", "version", "kind", "summary", "references", "notes",
                            "parameters", "published", "reduction"})
#: Most structure paths an error message lists.
MAX_LISTED_PATHS = 20


def _scalar(value) -> bool:
    return isinstance(value, (str, int, float, bool))


def _walk(value, prefix: str, out: dict, skip=frozenset()):
    if _scalar(value):
        out[prefix] = value
    elif isinstance(value, dict):
        for key, item in value.items():
            if key not in skip:
                _walk(item, f"{prefix}.{key}", out)


def _phases(raw: Mapping) -> dict[str, dict]:
    """The phases of a file's protocol by name (those that are tables with a string name)."""
    protocol = raw.get("protocol")
    phases = protocol.get("phases") if isinstance(protocol, dict) else None
    if not isinstance(phases, list):
        return {}
    return {p["name"]: p for p in phases if isinstance(p, dict) and isinstance(p.get("name"), str)}


def structure_paths(raw: Mapping) -> dict[str, object]:
    """Every scalar of a network file's structure, by dotted path.

    The structure is what a build compiles in: ``dt``, ``seeds.*``, every scalar under
    ``populations``, ``projections``, ``inputs``, ``monitors`` (``populations.E.size``,
    ``populations.E.lattice.side``, ``projections.ee.connector.k``), and the phases by
    name (``protocol.<phase>.duration``, ``protocol.<phase>.parameters.<name>``, whether
    the file writes ``phases`` as an inline array or as ``[[protocol.phases]]``). Lists
    (``monitors.spikes``, distributions) are not scalars; the top level's descriptions,
    ``[parameters]`` (run-time values, changed by name), ``[[published]]`` and
    ``[reduction]`` are left out.

    Parameters
    ----------
    raw : mapping
        A network file's TOML table (``RawNetwork.raw``).

    Returns
    -------
    dict of str to object
        Path -> the file's value (str, int, float or bool), in file order.
    """
    out = {}
    for key, value in raw.items():
        if key in _NOT_STRUCTURE:
            continue
        if key == "protocol" and isinstance(value, dict):
            for pkey, item in value.items():
                if pkey != "phases":
                    _walk(item, f"protocol.{pkey}", out)
            for pname, phase in _phases(raw).items():
                _walk(phase, f"protocol.{pname}", out, skip={"name"})
            continue
        _walk(value, key, out)
    return out


def structure_value(text: str, *, where: str | None = None):
    """A structure value given as text, read as one TOML value.

    ``"800"`` is the integer 800, ``"0.5"`` a float, ``"true"`` a boolean,
    ``'"0.5 ms"'`` (a TOML string) and bare unit text ``"0.5 ms"`` (not TOML) the
    string ``0.5 ms``.

    Parameters
    ----------
    text : str
        The value's text.
    where : str, optional
        Its path (for the message).

    Returns
    -------
    object
        The TOML value.

    Raises
    ------
    ModelError
        For text that is not a string, is empty, or holds more than one TOML value.
    """
    if not isinstance(text, str):
        raise ModelError(f"expected the value as text, got {type(text).__name__}",
                         where=where)
    try:
        table = tomllib.loads(f"v = {text}")
    except tomllib.TOMLDecodeError:
        if not text.strip() or "\n" in text or "\r" in text:
            raise ModelError(f"expected one TOML value or a quantity, got {text!r}",
                             where=where) from None
        return text.strip()
    if set(table) != {"v"}:
        raise ModelError(f"expected one TOML value, got {text!r}", where=where)
    return table["v"]


def _container(new: dict, path: str, *, create: bool):
    """The table holding ``path``'s last key (phases by name), and that key."""
    parts = path.split(".")
    if not all(parts):
        raise ModelError(f"invalid structure path {path!r}")
    phases = _phases(new)
    if len(parts) >= 3 and parts[0] == "protocol" and parts[1] in phases:
        table, parts = phases[parts[1]], parts[2:]
    else:
        table = new
    for key in parts[:-1]:
        if key not in table and create:
            table[key] = {}
        table = table.get(key)
        if not isinstance(table, dict):
            raise ModelError(f"cannot set {path!r}: {key!r} is not a table of the file")
    return table, parts[-1]


def apply_structure(raw: Mapping, changes: Mapping[str, str],
                    additions: Mapping[str, object] | None = None) -> dict:
    """A copy of a network file's TOML table with structure values changed.

    Parameters
    ----------
    raw : mapping
        The file's TOML table (``RawNetwork.raw``); not changed.
    changes : mapping of str to str
        Structure path (:func:`structure_paths`) -> the new value as text, read by
        :func:`structure_value` (``"400"``, ``"0.05 ms"``). Only paths the file has.
    additions : mapping of str to object, optional
        For programmatic callers: dotted path -> TOML-ready value (str, int, float, bool,
        list, table), set after the changes; missing tables on the way are created, and
        ``protocol.<phase>`` addresses a phase by name.

    Returns
    -------
    dict
        The changed table: not checked; :func:`brianlab.networkfile.with_structure` parses
        it with every load check.

    Raises
    ------
    ModelError
        For a path of ``changes`` that is not in the file (listing at most
        :data:`MAX_LISTED_PATHS` of its structure paths), or a value that is not one TOML
        value.
    """
    paths = structure_paths(raw)
    new = copy.deepcopy(dict(raw))
    for path, text in changes.items():
        if path not in paths:
            listed = list(paths)[:MAX_LISTED_PATHS]
            more = len(paths) - len(listed)
            name = raw.get("name") if isinstance(raw.get("name"), str) else "NETWORK"
            raise ModelError(
                f"{path!r} is not a structure path of the network file; its paths are "
                f"{', '.join(listed)}{f' (and {more} more)' if more > 0 else ''}; "
                f"`python -m brianlab models show {name}` shows the file")
        table, key = _container(new, path, create=False)
        table[key] = structure_value(text, where=path)
    for path, value in (additions or {}).items():
        table, key = _container(new, path, create=True)
        table[key] = copy.deepcopy(value)
    return new
