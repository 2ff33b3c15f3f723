"""Helpers of the tutorials: quick mode, the output folder, printing and saving key numbers.

They live in the package (not beside the scripts) so that a tutorial needs no path set-up
and runs the same as a script and as a notebook (where ``__file__`` does not exist).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

__all__ = ["QUICK", "output_dir", "report"]

#: ``BRIANLAB_QUICK=1``: shorter runs (what the tests use).
QUICK = os.environ.get("BRIANLAB_QUICK", "") not in ("", "0")


def output_dir(name: str) -> Path:
    """Where a tutorial saves its figures, created if needed.

    Parameters
    ----------
    name : str
        The tutorial's name.

    Returns
    -------
    Path
        ``$BRIANLAB_OUT/<name>`` (default ``tutorials_out/<name>``).
    """
    path = Path(os.environ.get("BRIANLAB_OUT", "tutorials_out")) / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def report(name: str, numbers: dict, folder: Path):
    """Print the key numbers and save them as ``numbers.json`` (what the tests check).

    Parameters
    ----------
    name : str
        The tutorial's name.
    numbers : dict
        Name to value (JSON-ready, or floats).
    folder : Path
        Where ``numbers.json`` goes.
    """
    for key, value in numbers.items():
        print(f"{key}: {value}")
    (folder / "numbers.json").write_text(json.dumps(numbers, indent=2, default=float) + "\n")
