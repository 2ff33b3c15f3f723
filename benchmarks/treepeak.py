"""Peak memory of a whole process tree: a command, every process it starts, sampled.

``/usr/bin/time``'s "maximum resident set size" is the largest single process; a brianlab
command that builds a network in Python and then runs the compiled binary holds memory in
two processes (and Dask workers in more). This samples the resident memory of the command
and all its descendants together (``/proc/<pid>/statm``, Linux) every ``interval`` seconds
and reports the largest sum (issue 26: bytes per synapse of building and running a sheet).

Usage::

    python -m benchmarks.treepeak -- python -m brianlab.cmsa run --size 300 --rp 10

prints the wall time, the exit status and the peak, and writes them as one JSON line with
``--json FILE``. A peak between two samples can be missed: at the default 0.02 s interval
an allocation that lives less than 20 ms is not seen, which the sheets' build and run
phases (seconds each) are not.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = ["TreePeak", "tree_rss", "measure"]

PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class TreePeak:
    """What :func:`measure` saw.

    Attributes
    ----------
    command : list of str
    returncode : int
    wall_s : float
        Seconds from start to exit.
    peak_bytes : int
        Largest sum of resident memory over the tree at one sample.
    peak_processes : int
        Processes in the tree at that sample.
    samples : int
    at_peak : list
        ``[name, bytes]`` of each process at the peak sample (``/proc/<pid>/comm``).
    process_peaks : dict
        Each process name's own largest resident memory over the run (bytes).
    """

    command: list
    returncode: int
    wall_s: float
    peak_bytes: int
    peak_processes: int
    samples: int
    at_peak: list
    process_peaks: dict


def _children() -> dict[int, list[int]]:
    """Parent pid -> child pids, from ``/proc/<pid>/stat`` (field 4)."""
    out: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        # the name (field 2) is in parentheses and may hold spaces
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        out.setdefault(ppid, []).append(int(entry.name))
    return out


def tree_rss(root: int) -> tuple[int, int, list]:
    """Resident bytes of ``root`` and all its descendants, how many processes, and each.

    Parameters
    ----------
    root : int
        A process id.

    Returns
    -------
    bytes, processes, parts : int, int, list
        ``parts``: ``(name, bytes)`` per process. Processes that exit while being read
        count as 0 bytes.
    """
    children = _children()
    total, parts, todo = 0, [], [root]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, ()))
        try:
            resident = int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
            name = Path(f"/proc/{pid}/comm").read_text().strip()
        except (OSError, ValueError, IndexError):
            continue
        total += resident
        parts.append((name, resident))
    return total, len(parts), parts


def measure(command: list[str], interval: float = 0.02) -> TreePeak:
    """Run ``command`` and sample its process tree until it exits.

    Parameters
    ----------
    command : list of str
    interval : float
        Seconds between samples (at least 0.005).

    Returns
    -------
    TreePeak
    """
    if interval < 0.005:
        raise ValueError(f"interval {interval} s: at least 0.005 s")
    start = time.perf_counter()
    process = subprocess.Popen(command)
    peak, processes, samples, at_peak, own = 0, 0, 0, [], {}
    while process.poll() is None:
        rss, count, parts = tree_rss(process.pid)
        samples += 1
        if rss > peak:
            peak, processes, at_peak = rss, count, [list(p) for p in parts]
        for name, resident in parts:
            own[name] = max(own.get(name, 0), resident)
        time.sleep(interval)
    wall = time.perf_counter() - start
    return TreePeak(list(command), process.returncode, wall, peak, processes, samples,
                    at_peak, own)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.treepeak",
        description="Peak resident memory of a command and every process it starts.")
    parser.add_argument("--interval", type=float, default=0.02, help="seconds between samples")
    parser.add_argument("--json", type=Path, help="append the result as one JSON line")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND ...")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command after --")
    result = measure(command, args.interval)
    print(f"wall {result.wall_s:.1f} s, exit {result.returncode}, tree peak "
          f"{result.peak_bytes / 2**30:.2f} GiB ({result.peak_processes} processes; "
          f"{result.samples} samples)", file=sys.stderr)
    gib = 2**30
    print("at the peak: " + ", ".join(f"{n} {b / gib:.2f} GiB" for n, b in result.at_peak
                                      if b > 0.01 * gib), file=sys.stderr)
    print("each one's own peak: " + ", ".join(
        f"{n} {b / gib:.2f} GiB" for n, b in sorted(result.process_peaks.items(),
                                                    key=lambda item: -item[1])
        if b > 0.01 * gib), file=sys.stderr)
    if args.json is not None:
        with open(args.json, "a") as out:
            out.write(json.dumps(asdict(result)) + "\n")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
