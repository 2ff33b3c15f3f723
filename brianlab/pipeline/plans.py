"""The plan cache: a command's :class:`~brianlab.pipeline.plan.Plan`, found again without
Brian2 (design of issue 25, 2.2).

A plan is saved after the command's builds exist, under ``<cache>/plans/<key[:32]>.json``,
its key the sha256 of the command's arguments (all but ``--out``), the network file's
sha256 when it was given as a path, the model files (:func:`brianlab.store.models_digest`),
brianlab's sources (:func:`brianlab.cache.sources_digest`), Brian2's version (from its
metadata), the Python interpreter and the ``BRIANLAB_*`` settings. A change of any of them
finds no plan. The file holds the sha256 of its own content, its key and its arguments,
and every field is checked when it is read, so an edited, damaged or copied plan is never
used (the command plans again).

The CMSA command's plans (:mod:`brianlab.cmsa.cached`) use the same key, digest and
files (``<cache>/cmsa-plans/``) with their own fields.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from pathlib import Path
from typing import Callable

from ..cache import cache_root, sources_digest
from ..errors import CacheError
from ..results import atomic_write_text
from ..store import models_digest
from .plan import Plan, brian2_version, check_fields

__all__ = ["PLAN_FORMAT", "PLAN_BYTES", "FOLDER", "key_parts", "plan_key", "plan_file",
           "content_digest", "in_cache", "read", "write", "check", "load", "save"]

#: Version of the plan files' layout (part of their key).
PLAN_FORMAT = 1
#: Largest plan file read (a plan of a thousand points is well under this).
PLAN_BYTES = 10_000_000
#: Folder of the pipeline's plans in the cache.
FOLDER = "plans"
#: A saved plan's fields.
FIELDS = ("plan", "builds", "arguments", "key", "digest")

_HEX64 = re.compile(r"[0-9a-f]{64}")


def expect(ok: bool, what: str):
    """Raise :class:`~brianlab.errors.CacheError` saying ``what`` unless ``ok``."""
    if not ok:
        raise CacheError(what)


def key_parts(arguments: dict, *, network_file: str | None = None,
              sources: str | None = None) -> dict:
    """What a plan's key is made of (see the module's description).

    Parameters
    ----------
    arguments : dict
        The command's arguments without ``out`` (JSON-ready: ``Request.key_arguments()``).
    network_file : str, optional
        sha256 of the network file's bytes when it was given as a path (left out of the
        parts when None: the CMSA command's keys have no such part).
    sources : str, optional
        brianlab's sources digest; default :func:`brianlab.cache.sources_digest`.

    Returns
    -------
    dict
    """
    parts = {"format": PLAN_FORMAT, "arguments": arguments,
             "sources": sources_digest() if sources is None else sources,
             "models": models_digest(), "brian2": brian2_version(), "python": sys.version,
             "executable": sys.executable,
             "environment": {k: v for k, v in sorted(os.environ.items())
                             if k.startswith("BRIANLAB_")}}
    if network_file is not None:
        parts["network_file"] = network_file
    return parts


def plan_key(arguments: dict, *, network_file: str | None = None,
             sources: str | None = None) -> str:
    """The key of a command's plan: sha256 of the JSON of :func:`key_parts`.

    Parameters
    ----------
    arguments, network_file, sources
        As :func:`key_parts`.

    Returns
    -------
    str
    """
    parts = key_parts(arguments, network_file=network_file, sources=sources)
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def plan_file(key: str, folder: str = FOLDER) -> Path:
    """The file of the plan of ``key``.

    Parameters
    ----------
    key : str
        :func:`plan_key`.
    folder : str
        Folder in the cache.

    Returns
    -------
    Path
    """
    return cache_root() / folder / f"{key[:32]}.json"


def content_digest(data: dict) -> str:
    """sha256 of a saved plan's content (all but its ``digest``).

    Parameters
    ----------
    data : dict

    Returns
    -------
    str
    """
    body = {k: v for k, v in data.items() if k != "digest"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def in_cache(directory: str) -> bool:
    """Whether ``directory`` is a folder directly in the cache (symbolic links resolved).

    Parameters
    ----------
    directory : str

    Returns
    -------
    bool
    """
    try:
        return os.path.realpath(Path(directory).parent) == os.path.realpath(cache_root())
    except (OSError, ValueError):
        return False


def read(key: str, check: Callable[[object], object], *, folder: str = FOLDER,
         limit: int = PLAN_BYTES):
    """The plan file of ``key`` checked by ``check``, or None (none, too large, damaged,
    refused, or no usable cache).

    Parameters
    ----------
    key : str
        :func:`plan_key`.
    check : callable
        Takes the parsed JSON; returns the plan or raises ``ValueError`` (``CacheError``,
        ``PlanError``).
    folder : str
        Folder in the cache (:func:`plan_file`).
    limit : int
        Largest file read (bytes).

    Returns
    -------
    object or None
    """
    try:
        with open(plan_file(key, folder), "rb") as handle:
            text = handle.read(limit + 1)
        if len(text) > limit:
            return None
        return check(json.loads(text))
    except (OSError, ValueError, RecursionError):
        return None  # none, or damaged or edited: the command plans again


def write(path: Path, data: dict) -> None:
    """Save a plan's JSON with the digest of its content (skipped silently if the cache is
    not writable: a plan only saves time).

    Parameters
    ----------
    path : Path
    data : dict
        JSON-ready, without ``digest``.
    """
    data = json.loads(json.dumps(data))  # (the digest is of what is read back)
    data.pop("digest", None)
    data["digest"] = content_digest(data)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps(data, indent=1) + "\n")
    except OSError:
        pass


def _check_builds(value) -> list:
    """The builds a saved plan ran on: ``{"key", "directory"}``, each a build of this cache."""
    builds = value if isinstance(value, list) else None
    expect(builds is not None, "builds: expected a list")
    for k, build in enumerate(builds):
        check_fields(build, ("key", "directory"), f"builds[{k}]")
        expect(isinstance(build["key"], str) and _HEX64.fullmatch(build["key"]) is not None,
               f"builds[{k}].key: expected a sha256")
        directory = build["directory"]
        expect(isinstance(directory, str) and Path(directory).is_absolute() and
               re.fullmatch(rf"build-[a-z_]+-{build['key'][:16]}", Path(directory).name)
               is not None and in_cache(directory),
               f"builds[{k}].directory: {directory!r:.200} is not a build in this cache")
    return builds


def check(data, arguments: dict, key: str) -> Plan:
    """A saved plan, checked: its own digest, its key and arguments, every field.

    Parameters
    ----------
    data : object
        The plan file's JSON.
    arguments : dict
        As :func:`plan_key`.
    key : str
        The key the plan must have been saved for.

    Returns
    -------
    Plan

    Raises
    ------
    CacheError
        Saying what is wrong.
    """
    check_fields(data, FIELDS, "saved plan")
    expect(data["digest"] == content_digest(data),
           "its content does not match its digest (edited or damaged)")
    expect(data["key"] == key, "saved for another key")
    expect(data["arguments"] == arguments, "saved for another command line")
    _check_builds(data["builds"])
    plan = Plan.from_dict(data["plan"])
    expect(plan.request == arguments, "plan.request: not the command's arguments")
    return plan


def load(arguments: dict, *, network_file: str | None = None) -> Plan | None:
    """The saved plan of this command, or None (none, or not usable: see :func:`check`).

    Parameters
    ----------
    arguments : dict
        ``Request.key_arguments()``.
    network_file : str, optional
        As :func:`key_parts`.

    Returns
    -------
    Plan or None
    """
    key = plan_key(arguments, network_file=network_file)
    return read(key, lambda data: check(data, arguments, key))


def save(arguments: dict, plan: Plan, manifests=(), *, network_file: str | None = None) -> None:
    """Save a command's plan for next time, with the builds it ran on.

    Parameters
    ----------
    arguments : dict
        As :func:`load`.
    plan : Plan
    manifests : sequence of Manifest
        The builds used (:class:`brianlab.pipeline.builds.Manifest`: its ``key`` and
        ``compiled.directory`` are recorded).
    network_file : str, optional
        As :func:`key_parts`.
    """
    key = plan_key(arguments, network_file=network_file)
    write(plan_file(key), {"plan": plan.as_dict(), "arguments": arguments, "key": key,
                           "builds": [{"key": m.key, "directory": str(m.compiled.directory)}
                                      for m in manifests]})
