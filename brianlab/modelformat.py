"""The model file format without units (tier 1: never imports Brian2).

What a model file is, before any unit or equation is read: the limits a file is read
under (:data:`MAX_FILE_BYTES`, nesting, text lengths), UTF-8 and TOML, the kinds, the keys
each kind allows or requires (:data:`KEY_DOCS`, :func:`format_reference`), names and
versions. :func:`check_structure` turns a parsed TOML table into a :class:`RawModel`;
:mod:`brianlab.modelfile` (tier 2) checks its units, equations and dimensions. The
network file format shares the limits, :func:`decode_file` and :func:`load_toml`
(:mod:`brianlab.netformat`).
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import ModelError

__all__ = ["KINDS", "MAX_FILE_BYTES", "MAX_DEPTH", "MAX_FIELD", "MAX_LINE", "MAX_RATE_DT",
           "RESERVED_NAMES", "KEY_DOCS", "format_reference", "read_model_bytes",
           "decode_file", "load_toml", "RawModel", "check_structure"]

#: The model kinds (a network file is not a model: see :data:`brianlab.store.LIBRARY_KINDS`).
KINDS = ("neuron", "receptor", "synapse", "rate")
#: Largest model or network file accepted (bytes); the library's files are 1-3 kB.
MAX_FILE_BYTES = 1_000_000
#: Deepest TOML nesting accepted (the format needs 2: a table of strings).
MAX_DEPTH = 8
#: Longest text of one key (equations, notes) and longest line of it, in characters.
MAX_FIELD = 20_000
MAX_LINE = 2_000
#: Names Brian2 gives a group or synapses itself, beyond those its ``Equations`` reserve.
RESERVED_NAMES = frozenset({"lastspike", "not_refractory", "lastupdate", "t_in_timestep",
                            "t_in_timesteps", "j"})
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_IDENT = re.compile(r"^[A-Za-z_]\w*$")

#: Largest ``rate*dt`` of a Bernoulli-per-step (or Poisson-per-step) spike source: at
#: ``rate*dt = 0.1`` a step holds a second spike with probability ~0.5 %, which such a
#: source drops (it emits at most one spike per step).
MAX_RATE_DT = 0.1

_COMMON_KEYS = {"name", "version", "kind", "summary", "references", "parameters", "initial",
                "uses", "method", "notes"}
_KIND_KEYS = {
    "neuron": {"equations", "threshold", "reset", "refractory", "synaptic_current"},
    "rate": {"equations"},
    "receptor": {"equations", "label", "input", "current"},
    "synapse": {"model", "on_pre", "on_post", "target", "target_unit", "delay"},
}
#: What each key of a model file means (the format reference of the documentation is
#: generated from this, :data:`_KIND_KEYS` and :data:`_REQUIRED`).
KEY_DOCS = {
    "name": "the model's name: lower-case letters, digits and '_'; equal to its folder's name",
    "version": "a positive integer, equal to the file's name (`<version>.toml`); a change to a "
               "released file is a new version",
    "kind": "one of `neuron`, `receptor`, `synapse`, `rate`",
    "summary": "one line: what the model is",
    "references": "list of strings: the papers, books or simulators the model follows",
    "notes": "free text: conventions, choices, how the defaults were chosen",
    "parameters": "table of name = quantity string (`\"200 pF\"`, `\"0.5\"`); unit-checked and "
                  "range-checked; they become constant shared variables of the built group",
    "initial": "table of state variable = initial value (a quantity string or an expression of "
               "parameters, e.g. `v = \"E_L\"`)",
    "uses": "table of name = unit of variables the model reads from the neuron it is added to "
            "(a receptor's `v = \"volt\"`)",
    "method": "Brian2 integration method (`exact`, `euler`, `heun`, `rk4`, `milstein`, ...); "
              "without it Brian2 chooses (exact where the equations allow it)",
    "equations": "Brian2 equations: `dx/dt = ... : unit (flags)`, subexpressions "
                 "`y = ... : unit`, and declared variables `I_ext : amp`",
    "threshold": "Brian2 condition of a spike (`v > V_th`)",
    "reset": "statements run after a spike (`v = V_reset`)",
    "refractory": "refractory period: a parameter name, a quantity or a condition",
    "synaptic_current": "the variable receptors' currents are summed into (`I_syn`)",
    "label": "suffix of the receptor's names when it is added to a neuron (`s` becomes "
             "`s_ampa`)",
    "input": "the receptor's variable that synapses increment",
    "current": "the receptor's current (the neuron's `synaptic_current` unit)",
    "model": "Brian2 equations of the synapse (per-synapse variables such as `w : 1`)",
    "on_pre": "statements run at a presynaptic spike; they drive the target with "
              "`<target>_post += ...`",
    "on_post": "statements run at a postsynaptic spike (plasticity)",
    "target": "the postsynaptic variable the synapse drives (renamed by `target_var`)",
    "target_unit": "unit of the target variable (default `1`)",
    "delay": "transmission delay of the `on_pre` pathway (a quantity)",
}

_REQUIRED = {
    "neuron": {"equations"},
    "rate": {"equations"},
    "receptor": {"equations", "label", "input", "current"},
    "synapse": {"model", "on_pre", "target"},
}


def format_reference() -> str:
    """The model file format as a Markdown table: every key, the kinds that allow or require it.

    Returns
    -------
    str
        A Markdown table generated from the parser's own key sets (it cannot drift from
        what :func:`read_model_file` accepts).
    """
    rows = ["| key | kinds | meaning |", "|---|---|---|"]
    for key, meaning in KEY_DOCS.items():
        if key in _COMMON_KEYS:
            kinds = "all" + (" (required)" if key in ("name", "version", "kind") else "")
        else:
            kinds = ", ".join(f"{kind}{' (required)' if key in _REQUIRED[kind] else ''}"
                              for kind in KINDS if key in _KIND_KEYS[kind])
        rows.append(f"| `{key}` | {kinds} | {meaning} |")
    return "\n".join(rows) + "\n"



# ---------------------------------------------------------------------------
# reading
# ---------------------------------------------------------------------------
def read_model_bytes(path) -> bytes:
    """The bytes of a model file.

    Parameters
    ----------
    path : str or Path
        The file.

    Returns
    -------
    bytes

    Raises
    ------
    ModelError
        If it is missing, not a regular file, or larger than 1 MB.
    """
    path = Path(path)
    try:
        if not path.is_file():
            what = "does not exist" if not path.exists() else "is not a regular file"
            raise ModelError(f"the model file {what}", path=path)
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ModelError(f"cannot read the file ({exc.strerror})", path=path) from None
    if len(data) > MAX_FILE_BYTES:
        raise ModelError(f"the file is larger than {MAX_FILE_BYTES // 1000} kB; a model file "
                         "is a few kB of text", path=path)
    return data


def decode_file(data: bytes, *, path=None) -> tuple[str, str]:
    """The UTF-8 text of a model or network file and the sha256 of its bytes.

    Parameters
    ----------
    data : bytes
        The file's content.
    path : str or Path, optional
        Where it came from (for the message).

    Returns
    -------
    text : str
    sha256 : str
        Hex digest of ``data``: what provenance records and ``models.lock`` pins.

    Raises
    ------
    ModelError
        For bytes that are not UTF-8.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ModelError("not UTF-8 text", path=path) from None
    return text, hashlib.sha256(data).hexdigest()


def load_toml(text: str, *, path=None) -> dict:
    """The TOML table of a model or network file's text, under the format's limits.

    Parameters
    ----------
    text : str
        The file's text.
    path : str or Path, optional
        Where it came from (for messages).

    Returns
    -------
    dict
        The parsed table; its nesting depth and string lengths are checked.

    Raises
    ------
    ModelError
        For text longer than :data:`MAX_FILE_BYTES`, malformed TOML, nesting deeper than
        :data:`MAX_DEPTH` or a string beyond :data:`MAX_FIELD`/:data:`MAX_LINE`.
    """
    if len(text) > MAX_FILE_BYTES:
        raise ModelError(f"the text is longer than {MAX_FILE_BYTES} characters", path=path)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ModelError(f"malformed TOML: {exc}", path=path) from None
    except RecursionError:
        raise ModelError(f"TOML nested deeper than {MAX_DEPTH} levels", path=path) from None
    _check_sizes(raw, path)
    return raw


@dataclass(frozen=True)
class RawModel:
    """A model file whose structure is checked, before its units and equations.

    Parameters
    ----------
    name : str
        The model's name.
    version : int
        Its version.
    kind : str
        One of :data:`KINDS`.
    raw : mapping
        The file's TOML table (keys allowed for the kind, required keys present).
    sha256 : str
        Hash of the file's bytes.
    path : str or None
        The file read.
    status : str
        Release status (``released``, ``unreleased``, ``modified``, ``file``).
    """

    name: str
    version: int
    kind: str
    raw: Mapping
    sha256: str = ""
    path: str | None = None
    status: str = "file"


def check_structure(raw: Mapping, path=None, *, sha256: str = "",
                    status: str = "file") -> RawModel:
    """Check what a model file's TOML table is before its units: kind, keys, name, version.

    Parameters
    ----------
    raw : mapping
        The parsed TOML table (:func:`load_toml`).
    path : str or Path, optional
        Where it came from (for messages).
    sha256 : str
        Hash of the file's bytes (recorded).
    status : str
        Its release status (recorded).

    Returns
    -------
    RawModel

    Raises
    ------
    ModelError
        For an unknown kind, an unknown or missing key, an invalid name or version, or
        references that are not a list of strings.
    """
    kind = _get_str(raw, "kind", path, required=True)
    if kind not in KINDS:
        raise _err(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}", path, "kind")
    allowed = _COMMON_KEYS | _KIND_KEYS[kind]
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise _err(f"unknown key(s) {', '.join(unknown)} for a {kind} model; "
                   f"allowed: {', '.join(sorted(allowed))}", path)
    for key in sorted(_REQUIRED[kind] | {"name", "version"}):
        if key not in raw:
            raise _err(f"missing required key '{key}'", path)

    name = _get_str(raw, "name", path, required=True)
    if not _NAME.match(name):
        raise _err(f"invalid name {name!r}: lower-case letters, digits and '_'", path, "name")
    version = raw["version"]
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _err(f"expected a positive integer, got {version!r}", path, "version")
    references = raw.get("references", [])
    if not isinstance(references, list) or not all(isinstance(r, str) for r in references):
        raise _err("expected a list of strings", path, "references")
    return RawModel(name=name, version=version, kind=kind, raw=raw, sha256=sha256,
                    path=None if path is None else str(path), status=status)


def _check_sizes(value, path, where="", depth=0):
    """Nesting depth and string lengths of the parsed TOML (limits against exhaustion)."""
    if depth > MAX_DEPTH:
        raise _err(f"TOML nested deeper than {MAX_DEPTH} levels", path, where or None)
    if isinstance(value, str):
        if len(value) > MAX_FIELD:
            raise _err(f"text of {len(value)} characters; at most {MAX_FIELD} are allowed",
                       path, where or None)
        longest = max((len(line) for line in value.splitlines()), default=0)
        if longest > MAX_LINE:
            raise _err(f"a line of {longest} characters; at most {MAX_LINE} are allowed",
                       path, where or None)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_sizes(item, path, f"{where}.{key}" if where else key, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_sizes(item, path, where, depth + 1)


def _err(message, path, where=None):
    return ModelError(message, path=path, where=where)


def _get_str(raw, key, path, *, required=False, default=None):
    value = raw.get(key, default)
    if value is None:
        if required:
            raise _err(f"missing required key '{key}'", path)
        return None
    if not isinstance(value, str):
        raise _err(f"expected a string, got {type(value).__name__}", path, key)
    return value


def _check_str(value):
    if not isinstance(value, str):
        raise ModelError(f"expected a string, got {type(value).__name__}")
    return value


def _read_table(raw, key, path, convert):
    table = raw.get(key, {})
    if not isinstance(table, dict):
        raise _err("expected a table", path, key)
    out = {}
    for name, value in table.items():
        if not _IDENT.match(name):
            raise _err(f"invalid name {name!r}", path, f"{key}.{name}")
        try:
            out[name] = convert(value)
        except ModelError as exc:
            raise _err(exc.reason, path, f"{key}.{name}") from None
    return out
