"""Command line: ``python -m brianlab models list|show|check|lock``."""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path

from .units import ModelError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m brianlab",
        description="brianlab: declarative, versioned Brian2 models.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    models = sub.add_parser("models", help="list, show and check the model library",
                            description="List, show and check the model library.")
    msub = models.add_subparsers(dest="action", required=True, metavar="ACTION")
    msub.add_parser("list", help="name, newest version, kind and summary of every model")
    show = msub.add_parser("show", help="equations, parameters, hash and references of a model")
    show.add_argument("ref", metavar="NAME[@VERSION]")
    check = msub.add_parser("check", help="validate model files (default: the whole library "
                                          "and its lock); exit 1 on any problem")
    check.add_argument("files", nargs="*", metavar="FILE")
    msub.add_parser("lock", help="release new model files: add their sha256 to models.lock")
    return parser


def _cmd_list() -> int:
    from .library import list_models, load_model

    rows = []
    for entry in list_models():
        model = load_model(f"{entry.name}@{entry.newest}")
        rows.append((entry.name, str(entry.newest), entry.kind, model.summary))
    widths = [max(len(r[i]) for r in rows + [("name", "version", "kind", "")]) for i in range(3)]
    header = ("name", "version", "kind", "summary")
    for row in [header] + rows:
        print("  ".join(col.ljust(w) for col, w in zip(row[:3], widths)) + "  " + row[3])
    return 0


def _cmd_show(ref: str) -> int:
    from .library import load_model

    model = load_model(ref)
    print(f"{model.ref}  ({model.kind})")
    print(f"  {model.summary}")
    print(f"  file:   {model.path}")
    print(f"  sha256: {model.sha256}")
    key = "model" if model.kind == "synapse" else "equations"
    print(f"\n{key}:")
    print(textwrap.indent(model.equations_text.strip(), "  "))
    for attr in ("threshold", "reset", "refractory", "method", "synaptic_current", "label",
                 "input", "current", "target", "on_pre", "on_post"):
        value = getattr(model, attr)
        if value:
            value = value.strip()
            if "\n" in value:
                print(f"{attr}:\n" + textwrap.indent(value, "  "))
            else:
                print(f"{attr}: {value}")
    if model.parameters:
        print("\nparameters:")
        width = max(len(n) for n in model.parameters)
        for name, value in model.parameters.items():
            print(f"  {name.ljust(width)}  {value}")
    if model.initial:
        print("\ninitial:")
        for name, value in model.initial.items():
            print(f"  {name} = {value}")
    if model.uses:
        print("\nuses: " + ", ".join(model.uses))
    if model.notes.strip():
        print("\nnotes:\n" + textwrap.indent(model.notes.strip(), "  "))
    if model.references:
        print("\nreferences:")
        for ref_text in model.references:
            print(f"  - {ref_text}")
    return 0


def _cmd_check(files: list[str]) -> int:
    from .library import list_models, load_model, lock_problems
    from .modelfile import read_model_file

    problems: list[str] = []
    checked = 0
    if files:
        for name in files:
            try:
                read_model_file(Path(name))
                checked += 1
            except ModelError as exc:
                problems.append(str(exc))
    else:
        for entry in list_models():
            for version in entry.versions:
                try:
                    load_model(f"{entry.name}@{version}")
                    checked += 1
                except ModelError as exc:
                    problems.append(str(exc))
        problems.extend(lock_problems())
    for line in problems:
        print(line)
    if problems:
        print(f"{len(problems)} problem(s)", file=sys.stderr)
        return 1
    print(f"{checked} model file(s) OK")
    return 0


def _cmd_lock() -> int:
    from .library import write_lock

    new = write_lock()
    print("released: " + ", ".join(new) if new else "nothing new to release")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m brianlab`` and the ``brianlab`` script."""
    args = _parser().parse_args(argv)
    try:
        if args.action == "list":
            return _cmd_list()
        if args.action == "show":
            return _cmd_show(args.ref)
        if args.action == "check":
            return _cmd_check(args.files)
        return _cmd_lock()
    except ModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # output piped into e.g. `head`
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
