"""Stage 2 of the pipeline, its data: what a command runs (design of issue 25, 2.2).

A :class:`Plan` is made once per command (by a planner, tier 2) and saved
(:mod:`brianlab.pipeline.plans`); every class here reads back from its JSON with each field
checked (:meth:`Plan.from_dict`), so an edited or damaged plan fails with a
:class:`~brianlab.errors.CacheError` that names the field instead of running something
else. :meth:`BuildSpec.key` is the key of a build (2.3); :func:`point_key` names a
point's files (2.7).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, fields
from importlib import metadata
from typing import Callable

from .. import cache, toolchain
from ..errors import CacheError
from ..results import config_hash
from ..seeds import MAX_SEED
from ..sweeps import SAFE_KEY
from .reductions import REDUCTIONS, ReductionSpec

__all__ = ["BUILD_FORMAT", "NETWORK_STATUSES", "NetworkRef", "BuildSpec", "PointSpec", "Axis",
           "Plan", "point_key", "brian2_version", "reduction_from_dict", "check_fields",
           "check_str", "check_pairs", "addition_text"]

#: Version of the build key's and manifest's layout (bumped when either changes).
BUILD_FORMAT = 1
#: What a network reference can be: a released or unreleased store file, a released one
#: edited since, or a file outside the store.
NETWORK_STATUSES = ("released", "unreleased", "modified", "file")
#: Longest point key (the file name of a point, less its suffix).
MAX_KEY = 200

_HEX64 = re.compile(r"[0-9a-f]{64}")
_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]")


def brian2_version() -> str | None:
    """The installed Brian2's version, read from its metadata (Brian2 is not imported).

    Returns
    -------
    str or None
        None where Brian2 is not installed.
    """
    try:
        return metadata.version("brian2")
    except metadata.PackageNotFoundError:  # pragma: no cover - a dependency
        return None


# -- checks of JSON read back ---------------------------------------------------------------
def _expect(ok: bool, what: str):
    if not ok:
        raise CacheError(what)


def check_fields(data, names, where: str) -> dict:
    """``data`` as an object with exactly the fields ``names``.

    Parameters
    ----------
    data : object
        Parsed JSON.
    names : iterable of str
        The fields expected.
    where : str
        Names ``data`` in the message.

    Returns
    -------
    dict

    Raises
    ------
    CacheError
        Naming the missing and unknown fields.
    """
    _expect(isinstance(data, dict), f"{where}: expected an object")
    names = set(names)
    _expect(set(data) == names, f"{where}: fields differ (missing {sorted(names - set(data))}, "
            f"unknown {sorted(set(data) - names)})")
    return data


def check_str(value, where: str) -> str:
    """``value`` if it is a string.

    Parameters
    ----------
    value : object
        Parsed JSON.
    where : str
        Names it in the message.

    Returns
    -------
    str

    Raises
    ------
    CacheError
        Naming ``where``, for anything else.
    """
    _expect(isinstance(value, str), f"{where}: expected a string, got {value!r:.60}")
    return value


def _int(value, where: str, low: int = 0, high: int = 2**63 - 1) -> int:
    _expect(type(value) is int and low <= value <= high,
            f"{where}: expected an integer from {low} to {high}, got {value!r:.60}")
    return value


def _optional_int(value, where: str, low: int = 0, high: int = 2**63 - 1) -> int | None:
    return None if value is None else _int(value, where, low, high)


def _float(value, where: str) -> float:
    _expect(type(value) in (int, float) and math.isfinite(value),
            f"{where}: expected a finite number, got {value!r:.60}")
    return float(value)


def _bool(value, where: str) -> bool:
    _expect(type(value) is bool, f"{where}: expected true or false, got {value!r:.60}")
    return value


def _list(value, where: str) -> list:
    _expect(isinstance(value, list), f"{where}: expected a list")
    return value


def _object(value, where: str) -> dict:
    _expect(isinstance(value, dict), f"{where}: expected an object")
    return value


def _sha(value, where: str) -> str:
    _expect(isinstance(value, str) and _HEX64.fullmatch(value) is not None,
            f"{where}: expected a sha256 (64 hexadecimal digits), got {value!r:.80}")
    return value


def check_pairs(value, where: str, check: Callable) -> tuple:
    """A list of ``[name, value]`` pairs as a tuple of tuples, each value checked.

    Parameters
    ----------
    value : object
        Parsed JSON.
    where : str
        Names it in the messages.
    check : callable(value, where) -> value
        Checks (and converts) one value.

    Returns
    -------
    tuple of (str, object)

    Raises
    ------
    CacheError
        Naming the pair that is wrong.
    """
    out = []
    for k, pair in enumerate(_list(value, where)):
        _expect(isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str),
                f"{where}[{k}]: expected a [name, value] pair")
        out.append((pair[0], check(pair[1], f"{where}[{k}] ({pair[0]})")))
    names = [name for name, _ in out]
    _expect(len(set(names)) == len(names), f"{where}: names repeat")
    return tuple(out)


def _json_value(value, where: str):
    """Any JSON value (already parsed), with finite numbers only."""
    _expect(not isinstance(value, float) or math.isfinite(value), f"{where}: not finite")
    return value


def reduction_from_dict(data) -> ReductionSpec:
    """A :class:`~brianlab.pipeline.reductions.ReductionSpec` from its ``as_dict()``.

    Parameters
    ----------
    data : object
        Parsed JSON.

    Returns
    -------
    ReductionSpec

    Raises
    ------
    CacheError
        Naming the field, or a name that is not in
        :data:`~brianlab.pipeline.reductions.REDUCTIONS`.
    """
    check_fields(data, ("name", "options"), "reduction")
    name = check_str(data["name"], "reduction.name")
    _expect(name in REDUCTIONS, f"reduction.name: {name!r} is not a registered reduction")
    return ReductionSpec(name, check_pairs(data["options"], "reduction.options", _json_value))


def _names(cls) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


# -- the data -------------------------------------------------------------------------------
@dataclass(frozen=True)
class NetworkRef:
    """The network a build is made of.

    Parameters
    ----------
    ref : str
        ``"cuba@1"``, or ``"file:<absolute path>"`` for a file outside the store.
    sha256 : str
        sha256 of the file's bytes.
    status : str
        One of :data:`NETWORK_STATUSES`.
    models : tuple of (str, str)
        Every pinned model it uses: ``(name@version, sha256)``, sorted.
    """

    ref: str
    sha256: str
    status: str
    models: tuple[tuple[str, str], ...] = ()

    def as_dict(self) -> dict:
        """JSON-ready form (:meth:`from_dict` reads it back).

        Returns
        -------
        dict
        """
        return {"ref": self.ref, "sha256": self.sha256, "status": self.status,
                "models": [list(m) for m in self.models]}

    @classmethod
    def from_dict(cls, data, where: str = "network") -> "NetworkRef":
        """Read :meth:`as_dict`'s form, every field checked.

        Parameters
        ----------
        data : object
            Parsed JSON.
        where : str
            Names it in the messages.

        Returns
        -------
        NetworkRef

        Raises
        ------
        CacheError
            Naming the field that is missing or wrong.
        """
        check_fields(data, _names(cls), where)
        status = check_str(data["status"], f"{where}.status")
        _expect(status in NETWORK_STATUSES, f"{where}.status: {status!r} is not one of "
                f"{', '.join(NETWORK_STATUSES)}")
        return cls(check_str(data["ref"], f"{where}.ref"), _sha(data["sha256"], f"{where}.sha256"),
                   status, check_pairs(data["models"], f"{where}.models", _sha))


@dataclass(frozen=True)
class BuildSpec:
    """One build: a network with its structure values, and how it is compiled.

    Parameters
    ----------
    network : NetworkRef
    structure : tuple of (str, str)
        Changed structure paths -> TOML value text, sorted.
    compiled_seed : int or None
        Brian2's seed when the binary has it compiled in (a network that draws from
        Brian2's generator while running), else None.
    device : str
        One of :data:`brianlab.toolchain.DEVICES`.
    threads : int or None
        OpenMP threads compiled for; None: one.
    portable : bool
        Built without the build machine's CPU flags.
    outputs : tuple of str
        The arrays a point reads (monitor names).
    additions : tuple of (str, str)
        Tables added or replaced whole (:func:`brianlab.netformat.apply_structure`'s
        ``additions``: ``projections.ee.connector`` -> its table), each value as canonical
        JSON text (:func:`addition_text`), sorted; empty for the commands' structure
        paths. In the build key only when not empty (so the keys of other builds are
        those they always were).
    """

    network: NetworkRef
    structure: tuple[tuple[str, str], ...]
    compiled_seed: int | None
    device: str
    threads: int | None
    portable: bool
    outputs: tuple[str, ...]
    additions: tuple[tuple[str, str], ...] = ()

    def key_parts(self) -> dict:
        """What the build depends on (design 2.3): this spec, brianlab's sources, Brian2's
        version and the C++ compiler; on ``cuda_standalone`` also the CUDA compiler, the
        compute capability and brian2cuda's version
        (:func:`brianlab.toolchain.cuda_identity`; such a build is not lean).

        Returns
        -------
        dict
            JSON-ready.
        """
        return {"format": BUILD_FORMAT,
                "network": {"ref": self.network.ref, "sha256": self.network.sha256,
                            "status": self.network.status},
                "models": [list(m) for m in self.network.models],
                "structure": [list(s) for s in self.structure],
                "compiled_seed": self.compiled_seed,
                "connectivity_seed": dict(self.structure).get("seeds.connectivity"),
                "device": self.device, "threads": self.threads, "portable": self.portable,
                "outputs": list(self.outputs), "lean": self.device != "cuda_standalone",
                "sources": cache.sources_digest(), "brian2": brian2_version(),
                "compiler": toolchain.compiler_identity(),
                **({"additions": [list(a) for a in self.additions]} if self.additions else {}),
                **({"cuda": toolchain.cuda_identity()}
                   if self.device == "cuda_standalone" else {})}

    def addition_values(self) -> dict:
        """:attr:`additions` as :func:`brianlab.networkfile.with_structure` takes them.

        Returns
        -------
        dict
            Path -> the parsed JSON value.
        """
        return {path: json.loads(text) for path, text in self.additions}

    def key(self) -> str:
        """The build key: sha256 of the canonical JSON of :meth:`key_parts`.

        ``connectivity_seed`` is the structure's ``seeds.connectivity`` value, or None for
        the file's own (which its sha256 covers).

        Returns
        -------
        str
            64 hexadecimal digits.
        """
        text = json.dumps(self.key_parts(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def as_dict(self) -> dict:
        """JSON-ready form (:meth:`from_dict` reads it back).

        Returns
        -------
        dict
        """
        return {"network": self.network.as_dict(),
                "structure": [list(s) for s in self.structure],
                "compiled_seed": self.compiled_seed, "device": self.device,
                "threads": self.threads, "portable": self.portable,
                "outputs": list(self.outputs), "additions": [list(a) for a in self.additions]}

    @classmethod
    def from_dict(cls, data, where: str = "build") -> "BuildSpec":
        """Read :meth:`as_dict`'s form, every field checked.

        Parameters
        ----------
        data : object
            Parsed JSON.
        where : str
            Names it in the messages.

        Returns
        -------
        BuildSpec

        Raises
        ------
        CacheError
            Naming the field that is missing or wrong.
        """
        check_fields(data, _names(cls), where)
        device = check_str(data["device"], f"{where}.device")
        _expect(device in toolchain.DEVICES, f"{where}.device: {device!r} is not one of "
                f"{', '.join(toolchain.DEVICES)}")
        outputs = tuple(check_str(o, f"{where}.outputs")
                        for o in _list(data["outputs"], f"{where}.outputs"))
        additions = check_pairs(data["additions"], f"{where}.additions", _addition)
        return cls(NetworkRef.from_dict(data["network"], f"{where}.network"),
                   check_pairs(data["structure"], f"{where}.structure", check_str),
                   _optional_int(data["compiled_seed"], f"{where}.compiled_seed", 0, MAX_SEED),
                   device, _optional_int(data["threads"], f"{where}.threads", 1, 4096),
                   _bool(data["portable"], f"{where}.portable"), outputs, additions)


def addition_text(value) -> str:
    """The canonical JSON text of a structure addition (:attr:`BuildSpec.additions`).

    Parameters
    ----------
    value : object
        A table, list or scalar of a network file (JSON-ready).

    Returns
    -------
    str
        Sorted keys, no spaces: equal values give equal texts (and build keys).
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


def _addition(value, where: str) -> str:
    text = check_str(value, where)
    try:
        canonical = addition_text(json.loads(text))
    except ValueError:  # (NaN and infinities too: not JSON)
        raise CacheError(f"{where}: not JSON text") from None
    _expect(canonical == text, f"{where}: not canonical JSON text")
    return text


@dataclass(frozen=True)
class PointSpec:
    """One point: the run-time values of one run of a build.

    Parameters
    ----------
    key : str
        File name of the point (:func:`point_key`), computed once, in the plan.
    build : int
        Index into :attr:`Plan.builds`.
    values : tuple of (str, float)
        The grid and ``--set`` values, SI, as given.
    run_values : tuple of (str, float)
        Every run-time target (``"E.g_max_ampa"``) -> SI value.
    seed : int
        The drive seed.
    title : str
        ``"we 0.03 uS, seed 0"``.
    options : tuple of (str, object)
        Per-point reduction options (JSON values).
    """

    key: str
    build: int
    values: tuple[tuple[str, float], ...]
    run_values: tuple[tuple[str, float], ...]
    seed: int
    title: str
    options: tuple[tuple[str, object], ...] = ()

    def as_dict(self) -> dict:
        """JSON-ready form (:meth:`from_dict` reads it back).

        Returns
        -------
        dict
        """
        return {"key": self.key, "build": self.build,
                "values": [list(v) for v in self.values],
                "run_values": [list(v) for v in self.run_values], "seed": self.seed,
                "title": self.title, "options": [[k, v] for k, v in self.options]}

    @classmethod
    def from_dict(cls, data, where: str = "point") -> "PointSpec":
        """Read :meth:`as_dict`'s form, every field checked (a key is a plain file name).

        Parameters
        ----------
        data : object
            Parsed JSON.
        where : str
            Names it in the messages.

        Returns
        -------
        PointSpec

        Raises
        ------
        CacheError
            Naming the field that is missing or wrong.
        """
        check_fields(data, _names(cls), where)
        key = check_str(data["key"], f"{where}.key")
        _expect(SAFE_KEY.fullmatch(key) is not None,
                f"{where}.key: {key!r:.80} is not a file name of letters, digits and ._+-")
        return cls(key, _int(data["build"], f"{where}.build", 0, 10**6),
                   check_pairs(data["values"], f"{where}.values", _float),
                   check_pairs(data["run_values"], f"{where}.run_values", _float),
                   _int(data["seed"], f"{where}.seed", 0, MAX_SEED),
                   check_str(data["title"], f"{where}.title"),
                   check_pairs(data["options"], f"{where}.options", _json_value))


@dataclass(frozen=True)
class Axis:
    """A swept name, as the figures and the summary's table show it.

    Parameters
    ----------
    name : str
        The swept name (``"we"``, ``"populations.E.size"``).
    unit : str
        The unit its values are shown in (``"uS"``; ``""`` for numbers).
    values : tuple of float
        The values in that unit, in grid order.
    """

    name: str
    unit: str
    values: tuple[float, ...]

    def as_dict(self) -> dict:
        """JSON-ready form (:meth:`from_dict` reads it back).

        Returns
        -------
        dict
        """
        return {"name": self.name, "unit": self.unit, "values": list(self.values)}

    @classmethod
    def from_dict(cls, data, where: str = "axis") -> "Axis":
        """Read :meth:`as_dict`'s form, every field checked.

        Parameters
        ----------
        data : object
            Parsed JSON.
        where : str
            Names it in the messages.

        Returns
        -------
        Axis

        Raises
        ------
        CacheError
            Naming the field that is missing or wrong.
        """
        check_fields(data, _names(cls), where)
        values = tuple(_float(v, f"{where}.values") for v in _list(data["values"],
                                                                    f"{where}.values"))
        _expect(len(values) >= 1, f"{where}.values: empty")
        return cls(check_str(data["name"], f"{where}.name"),
                   check_str(data["unit"], f"{where}.unit"), values)


@dataclass(frozen=True)
class Plan:
    """What a command runs: its builds, its points, where they are saved and how reduced.

    Parameters
    ----------
    request : dict
        The request's ``key_arguments()`` (JSON).
    builds : tuple of BuildSpec
        One per distinct structure (and compiled seed), in first-appearance order.
    points : tuple of PointSpec
        In grid order (axes, then seeds).
    configuration : dict
        What the results folder holds (design 2.8).
    reduction : ReductionSpec
    axes : tuple of Axis
        The swept names (none for ``run``).
    context : dict
        Per build (``"0"``, ``"1"``, ...): sizes, lattices, ``dt_s``, phases.
    warnings : tuple of str
    """

    request: dict
    builds: tuple[BuildSpec, ...]
    points: tuple[PointSpec, ...]
    configuration: dict
    reduction: ReductionSpec
    axes: tuple[Axis, ...]
    context: dict
    warnings: tuple[str, ...] = ()

    def points_of(self, build: int) -> list[PointSpec]:
        """The points of build ``build``, in plan order.

        Parameters
        ----------
        build : int
            Index into :attr:`builds`.

        Returns
        -------
        list of PointSpec
        """
        return [p for p in self.points if p.build == build]

    def as_dict(self) -> dict:
        """JSON-ready form (:meth:`from_dict` reads it back).

        Returns
        -------
        dict
        """
        return {"request": self.request, "builds": [b.as_dict() for b in self.builds],
                "points": [p.as_dict() for p in self.points],
                "configuration": self.configuration, "reduction": self.reduction.as_dict(),
                "axes": [a.as_dict() for a in self.axes], "context": self.context,
                "warnings": list(self.warnings)}

    @classmethod
    def from_dict(cls, data) -> "Plan":
        """Read :meth:`as_dict`'s form, every field checked: types, point keys that are
        plain file names and do not repeat, build indices in range.

        Parameters
        ----------
        data : object
            Parsed JSON.

        Returns
        -------
        Plan

        Raises
        ------
        CacheError
            Naming the field that is missing or wrong.
        """
        check_fields(data, _names(cls), "plan")
        builds = tuple(BuildSpec.from_dict(b, f"builds[{k}]")
                       for k, b in enumerate(_list(data["builds"], "builds")))
        points = tuple(PointSpec.from_dict(p, f"points[{k}]")
                       for k, p in enumerate(_list(data["points"], "points")))
        _expect(len(builds) >= 1 and len(points) >= 1, "plan: no builds or no points")
        for k, p in enumerate(points):
            _expect(p.build < len(builds), f"points[{k}].build: {p.build} is not a build "
                    f"(the plan has {len(builds)})")
        _expect(len({p.key for p in points}) == len(points), "points: keys repeat")
        warnings = tuple(check_str(w, "warnings") for w in _list(data["warnings"], "warnings"))
        return cls(_object(data["request"], "request"), builds, points,
                   _object(data["configuration"], "configuration"),
                   reduction_from_dict(data["reduction"]),
                   tuple(Axis.from_dict(a, f"axes[{k}]")
                         for k, a in enumerate(_list(data["axes"], "axes"))),
                   _object(data["context"], "context"), warnings)


# -- point keys -----------------------------------------------------------------------------
def point_key(values_display, seed: int, digest_input: dict, *, index: int = 0) -> str:
    """The file name of a point (design 2.7): readable values, the seed and a digest.

    ``"_".join(f"{short}{display}") + f"_seed{seed}_{digest[:10]}"``, e.g.
    ``we0.03uS_E.size800_seed0_0123456789``, with ``digest =
    results.config_hash(digest_input)``; whitespace is dropped from the displays and any
    other character a file name may not hold becomes ``-``. A key that would still not be
    a plain file name of at most :data:`MAX_KEY` characters becomes ``p{index}_{digest}``.

    Parameters
    ----------
    values_display : sequence of (str, str)
        Short name (``"we"``, ``"E.size"``) and value as given (``"0.03 uS"``), for each
        swept or set name, in axis order.
    seed : int
        The drive seed.
    digest_input : dict
        Everything that makes the point (the folder's configuration hash, the values, the
        structure, the run values, the seed): JSON-ready.
    index : int
        The point's index in the plan (used by the short form only).

    Returns
    -------
    str
        Matches :data:`brianlab.sweeps.SAFE_KEY`.
    """
    digest = config_hash(digest_input)
    parts = [_UNSAFE.sub("-", re.sub(r"\s+", "", f"{short}{display}"))
             for short, display in values_display]
    key = "_".join([*parts, f"seed{int(seed)}", digest[:10]])
    if len(key) > MAX_KEY or SAFE_KEY.fullmatch(key) is None:
        key = f"p{int(index)}_{digest}"
    return key
