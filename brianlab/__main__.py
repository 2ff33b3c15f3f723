"""Command line: ``python -m brianlab models list|show|check|lock`` and ``run|sweep NETWORK``
(the pipeline, :mod:`brianlab.pipeline.cli`)."""

from __future__ import annotations

import argparse
import os
import re
import sys
import textwrap
import warnings
from pathlib import Path

from .errors import ModelError
from .pipeline import cli as pipeline_cli


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m brianlab",
        description="brianlab: declarative, versioned Brian2 models.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    models = sub.add_parser("models", help="list, show and check the model library",
                            description="List, show and check the model library.")
    msub = models.add_subparsers(dest="action", required=True, metavar="ACTION")
    msub.add_parser("list", help="name, newest version, kind and summary of every model and "
                                 "network file")
    show = msub.add_parser("show", help="equations, parameters, hash and references of a model; "
                                        "populations, projections, inputs, parameters and "
                                        "seeds of a network file")
    show.add_argument("ref", metavar="NAME[@VERSION]")
    check = msub.add_parser("check", help="validate model and network files (default: the "
                                          "whole library and its lock); list unreleased files; "
                                          "exit 1 on an invalid, changed or missing file")
    check.add_argument("files", nargs="*", metavar="FILE")
    lock = msub.add_parser("lock", help="release new model files: add their sha256 to the "
                                        "folder's models.lock")
    lock.add_argument("folder", nargs="?", type=Path, default=None, metavar="FOLDER",
                      help="the models folder (default: the first of the search path)")
    pipeline_cli.add_commands(sub)
    return parser


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text) -> str:
    """``text`` without terminal control characters (escape sequences, bells, ...)."""
    return _CONTROL.sub("", str(text))


class _Output:
    """Lines for stdout and stderr, and the exit status, printed once a command is done."""

    def __init__(self):
        self.lines: list[str] = []
        self.errors: list[str] = []
        self.status = 0

    def __call__(self, text=""):
        self.lines.extend(printable(line) for line in str(text).split("\n"))

    def error(self, text):
        self.errors.append(printable(text))
        self.status = 1


def _cmd_list(out: _Output, library):
    rows = []
    for entry in library.list_models():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = _load(library, entry.kind, f"{entry.name}@{entry.newest}")
        except ModelError as exc:
            out.error(f"cannot list {entry.name}@{entry.newest}: {exc}")
            continue
        status = "" if model.status == "released" else f" [{model.status}]"
        rows.append((entry.name, str(entry.newest), entry.kind, model.summary + status))
    widths = [max(len(r[i]) for r in rows + [("name", "version", "kind", "")]) for i in range(3)]
    header = ("name", "version", "kind", "summary")
    for row in [header] + rows:
        out("  ".join(col.ljust(w) for col, w in zip(row[:3], widths)) + "  " + row[3])


def _load(library, kind: str, ref: str):
    """A library file of ``kind`` (model or network), modified files allowed."""
    if kind == "network":
        return library.load_network(ref, allow_modified=True)
    return library.load_model(ref, allow_modified=True)


def _show_network(out: _Output, library, ref: str):
    net = library.load_network(ref)
    out(f"{net.ref}  (network, {net.status})")
    out(f"  {net.summary}")
    out(f"  file:   {net.path}")
    out(f"  sha256: {net.sha256}")
    out(f"  dt:     {net.dt}")
    out(f"  seeds:  connectivity {net.seeds['connectivity']}, drive {net.seeds['drive']}")
    out("\npopulations:")
    for pop in net.populations.values():
        shape = f"lattice {pop.lattice[0]} x {pop.lattice[0]} (extent {pop.lattice[1]:g})" \
            if pop.lattice else f"{pop.size} neurons"
        receptors = ", ".join(f"{label}={ref}" for label, ref in pop.receptors.items())
        out(f"  {pop.name}: {pop.model}, {shape}" + (f", receptors {receptors}"
                                                      if receptors else ""))
        for name, value in pop.parameters.items():
            out(f"    {name} = {value}")
        for name, value in pop.initial.items():
            out(f"    initial {name} = {value.describe()}")
    if net.projections:
        out("\nprojections:")
    for proj in net.projections.values():
        conn = proj.connector
        fields = ", ".join(f"{k}={getattr(conn, k)}" for k in ("p", "k", "sigma", "p_max")
                           if getattr(conn, k) is not None)
        drives = f"receptor {proj.receptor}" if proj.receptor else f"{proj.target_var}"
        line = f"  {proj.name}: {proj.source} -> {proj.target} ({drives}), {proj.synapse}, " \
               f"{conn.rule}" + (f" ({fields})" if fields else "")
        if proj.weight is not None:
            line += f", weight {proj.weight.describe()}"
        if proj.delay is not None:
            line += f", delay {proj.delay.describe()}"
        out(line)
    if net.inputs:
        out("\ninputs:")
    for inp in net.inputs.values():
        drives = f"receptor {inp.receptor}" if inp.receptor else f"{inp.target_var}"
        fields = ", ".join(f"{k}={v}" for k, v in inp.fields.items())
        out(f"  {inp.name}: {inp.kind} -> {inp.target} ({drives}): {fields}")
    if net.parameters:
        out("\nparameters:")
    for par in net.parameters.values():
        sets = ", ".join(t if e is None else f"{t} = {e}" for t, e in par.sets.items())
        out(f"  {par.name} = {par.value}  (sets {sets})")
    out("\nprotocol:")
    for phase in net.protocol:
        extra = f", inputs off: {', '.join(phase.inputs_off)}" if phase.inputs_off else ""
        if phase.parameters:
            extra += ", " + ", ".join(f"{k} = {v}" for k, v in phase.parameters.items())
        out(f"  {phase.name}: {phase.duration}{extra}")
    if net.notes.strip():
        out("\nnotes:\n" + textwrap.indent(net.notes.strip(), "  "))
    if net.references:
        out("\nreferences:")
        for ref_text in net.references:
            out(f"  - {ref_text}")


def _cmd_show(out: _Output, library, ref: str):
    if library.ref_kind(ref) == "network":
        _show_network(out, library, ref)
        return
    model = library.load_model(ref)
    out(f"{model.ref}  ({model.kind}, {model.status})")
    out(f"  {model.summary}")
    out(f"  file:   {model.path}")
    out(f"  sha256: {model.sha256}")
    key = "model" if model.kind == "synapse" else "equations"
    out(f"\n{key}:")
    out(textwrap.indent(model.equations_text.strip(), "  "))
    for attr in ("threshold", "reset", "refractory", "method", "synaptic_current", "label",
                 "input", "current", "target", "on_pre", "on_post"):
        value = getattr(model, attr)
        if value:
            value = value.strip()
            if "\n" in value:
                out(f"{attr}:\n" + textwrap.indent(value, "  "))
            else:
                out(f"{attr}: {value}")
    if model.parameters:
        out("\nparameters:")
        width = max(len(n) for n in model.parameters)
        for name, value in model.parameters.items():
            out(f"  {name.ljust(width)}  {value}")
    if model.initial:
        out("\ninitial:")
        for name, value in model.initial.items():
            out(f"  {name} = {value}")
    if model.uses:
        out("\nuses: " + ", ".join(model.uses))
    if model.notes.strip():
        out("\nnotes:\n" + textwrap.indent(model.notes.strip(), "  "))
    if model.references:
        out("\nreferences:")
        for ref_text in model.references:
            out(f"  - {ref_text}")


def _cmd_check(out: _Output, library, files: list[str]):
    problems: list[str] = []
    new: list = []
    checked = 0
    if files:
        for name in files:
            try:
                library.check_file(Path(name))
                checked += 1
            except ModelError as exc:
                problems.append(str(exc))
    else:
        for entry in library.list_models():
            for version in entry.versions:
                try:
                    with warnings.catch_warnings():  # the lock is reported below
                        warnings.simplefilter("ignore")
                        _load(library, entry.kind, f"{entry.name}@{version}")
                    checked += 1
                except ModelError as exc:
                    problems.append(str(exc))
        problems.extend(library.lock_problems(unreleased=False))
        new = library.unreleased_files()
    for line in problems:
        out(line)
    for path in new:  # not a problem: a new file is checked, then released
        out(f"unreleased: {path} (release it with 'python -m brianlab models lock "
            f"{path.parents[2]}')")
    if problems:
        out.error(f"{len(problems)} problem(s)")
    else:
        out(f"{checked} model file(s) OK" + (f", {len(new)} of them unreleased" if new else ""))


def _cmd_lock(out: _Output, library, folder):
    new = library.write_lock(folder)
    out("released: " + ", ".join(new) if new else "nothing new to release")


def _emit(out: _Output) -> int:
    try:
        if out.lines:
            print("\n".join(out.lines), flush=True)
    except BrokenPipeError:  # e.g. `models check | head`: the status still counts
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    for line in out.errors:
        print(line, file=sys.stderr)
    return out.status


def dispatch(args: argparse.Namespace, out: _Output):
    """Carry out a parsed ``models`` command.

    The one place this module reaches :mod:`brianlab.library` (and so Brian2, which
    parsing model files needs): ``--help`` and a wrong argument import neither.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.
    out : _Output
        Collects the command's lines and exit status.
    """
    from . import library

    if args.action == "list":
        _cmd_list(out, library)
    elif args.action == "show":
        _cmd_show(out, library, args.ref)
    elif args.action == "check":
        _cmd_check(out, library, args.files)
    else:
        _cmd_lock(out, library, args.folder)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m brianlab`` and the ``brianlab`` script."""
    args = _parser().parse_args(argv)
    if args.command in ("run", "sweep"):
        return pipeline_cli.run_command(args)
    out = _Output()
    try:
        dispatch(args, out)
    except ModelError as exc:
        out.error(f"error: {exc}")
    return _emit(out)


if __name__ == "__main__":
    sys.exit(main())
