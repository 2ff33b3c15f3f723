"""Shared helpers of the tutorials: quick mode, output folder, printing key numbers."""

import json
import os
from pathlib import Path

QUICK = os.environ.get("BRIANLAB_QUICK", "") not in ("", "0")


def output_dir(name: str) -> Path:
    """Where a tutorial saves its figures: $BRIANLAB_OUT/<name> (default tutorials_out/<name>)."""
    path = Path(os.environ.get("BRIANLAB_OUT", "tutorials_out")) / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def report(name: str, numbers: dict, folder: Path):
    """Print the key numbers and save them as numbers.json (what the tests check)."""
    for key, value in numbers.items():
        print(f"{key}: {value}")
    (folder / "numbers.json").write_text(json.dumps(numbers, indent=2, default=float) + "\n")
