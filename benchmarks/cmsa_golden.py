"""Compare two CMSA results folders point by point: the golden check of a change.

Run the same command before and after a change (two checkouts, two caches), then::

    python -m benchmarks.cmsa_golden OLD_FOLDER NEW_FOLDER

Same point keys, every ``.npz`` member equal (bit for bit), every record field equal but
those that say how and where a point ran (:data:`RUN_DETAILS`); fields only the new
records have are listed, not counted as differences. Exit 0 when equal, 1 otherwise.

Measured when the command moved onto the pipeline (issue 25, S8; the note of that session
has the commands): ``cmsa phases`` on the default sheet and ``cmsa run --preset lab-report
--rp 6.5`` at commit 3960cbf and after: equal, the new records adding ``statistics``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

#: Record fields that say how and where a point ran, not what it computed.
RUN_DETAILS = ("timings", "sweep", "inprocess")


def compare(old: Path, new: Path) -> tuple[list[str], list[str]]:
    """The differences between two results folders, and the record fields only ``new`` has.

    Parameters
    ----------
    old, new : Path
        Results folders (``points/<key>.npz`` and ``.json`` each).

    Returns
    -------
    differences : list of str
        One line per difference (empty: equal).
    added : list of str
        Record fields of ``new`` that ``old`` lacks.
    """
    keys = [sorted(p.stem for p in (f / "points").glob("*.npz")) for f in (old, new)]
    if keys[0] != keys[1]:
        return [f"point keys differ: {keys[0]} / {keys[1]}"], []
    if not keys[0]:
        return ["no points"], []
    differences, added = [], set()
    for key in keys[0]:
        with np.load(old / "points" / f"{key}.npz") as a, \
                np.load(new / "points" / f"{key}.npz") as b:
            if sorted(a.files) != sorted(b.files):
                differences.append(f"{key}: arrays {sorted(a.files)} / {sorted(b.files)}")
                continue
            differences += [f"{key}.npz: {name} differs" for name in a.files
                            if not np.array_equal(a[name], b[name])]
        ra, rb = (json.loads((f / "points" / f"{key}.json").read_text()) for f in (old, new))
        differences += [f"{key}.json: {field} differs" for field in sorted(ra)
                        if field not in RUN_DETAILS and ra[field] != rb.get(field)]
        added |= set(rb) - set(ra)
    return differences, sorted(added)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    args = parser.parse_args(argv)
    differences, added = compare(args.old, args.new)
    for line in differences:
        print(line)
    n = len(list((args.old / "points").glob("*.npz")))
    print(f"{n} points: " + ("equal" if not differences else f"{len(differences)} differences")
          + (f"; new record fields: {', '.join(added)}" if added else ""))
    return 0 if not differences else 1


if __name__ == "__main__":
    sys.exit(main())
