"""What this process may use: memory (the tightest limit that applies) and CPU cores.

No Brian2 here: the command line checks what it is asked for (``--size``,
``--duration``, ``--threads``, ``--workers``) before it imports Brian2 or builds
anything, and a cached command runs without Brian2 at all.

Memory is the least of what the kernel will still give this process:

- ``MemAvailable`` of ``/proc/meminfo`` (free memory plus what the kernel can reclaim;
  not ``MemTotal``: memory other processes use is not available);
- cgroup v2: ``memory.max`` minus the memory in use (``memory.current`` less the
  reclaimable ``inactive_file`` of ``memory.stat``) of the process's cgroup and of every
  ancestor up to the root (nested limits, as SLURM's job and step cgroups, each count);
- cgroup v1: ``memory.limit_in_bytes`` minus ``memory.usage_in_bytes`` (less
  ``total_inactive_file``) of the memory controller's cgroup and its ancestors;
- ``RLIMIT_AS`` (``ulimit -v``): the soft limit minus the address space this process
  already maps (``VmSize``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["MemoryLimit", "available_memory", "usable_cores", "spike_memory", "check_memory",
           "PLAUSIBLE_MAX_RATE_HZ", "BYTES_PER_SPIKE", "BYTES_PER_SYNAPSE", "BASE_BYTES",
           "BINARY_BYTES_PER_SYNAPSE", "BINARY_BASE_BYTES"]

#: Mean firing rate (Hz, over all neurons and the whole run) assumed when the memory of
#: recorded spikes is estimated: a plausible upper bound for the networks of this package
#: (the CMSA sheet's states fire well below it; its refractory periods allow at most
#: 100-200 Hz per neuron).
PLAUSIBLE_MAX_RATE_HZ = 100.0
#: Peak bytes per recorded spike: an int32 index and a float64 time (12 bytes), twice
#: over because a monitor's growing array is copied when it is enlarged.
BYTES_PER_SPIKE = 24
#: Peak memory per synapse of building and running a network whose synapse indices pass
#: through Python (drawn there, copied, written as static arrays), the whole process tree
#: (Python and the binary): with :data:`BASE_BYTES` a line through the peaks of a cold
#: ``cmsa run --rp 10`` at sides 150, 300 and 600 when the sheet was drawn in Python
#: (0.94, 2.86 and 10.89 GiB at 16.9, 67.5 and 270 M synapses;
#: ``benchmarks/sheet_memory.py``, docs/_data/memory/python-draw), 6-9 % above each.
BYTES_PER_SYNAPSE = 43
#: Python, Brian2 and the monitors' base, added once.
BASE_BYTES = 0.3 * 2**30
#: Peak memory per synapse when the binary creates the synapses (fixed in-degree drawn in
#: C++ on cpp_standalone, :mod:`brianlab.networks.indegree`): with
#: :data:`BINARY_BASE_BYTES` a line through the peaks of a cold ``cmsa run --rp 10`` at
#: sides 150, 300 and 600 (0.38, 1.04 and 3.59 GiB; docs/_data/memory), 5-12 % above each
#: (tests/test_sheet_memory.py keeps it within 15 %).
BINARY_BYTES_PER_SYNAPSE = 12.5
#: The base of that line (Python builds no index arrays).
BINARY_BASE_BYTES = 0.2 * 2**30

_GiB = 2**30
#: cgroup v1 writes "no limit" as a page-rounded 2**63 - 1; anything this large is none.
_UNLIMITED = 2**60


@dataclass(frozen=True)
class MemoryLimit:
    """Bytes of memory available to this process, and the limit they come from.

    Parameters
    ----------
    available : float
        Bytes.
    source : str
        What was compared (the file or limit and its numbers).
    """

    available: float
    source: str

    def __str__(self) -> str:
        return f"{self.available / _GiB:,.1f} GiB ({self.source})"


def _read_int(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except (OSError, ValueError):
        return None
    return int(text) if text.isdigit() else None


def _inactive_file(path: Path, key: str) -> int:
    """The reclaimable page cache of a cgroup (``memory.stat``), 0 when not readable."""
    try:
        for line in path.read_text().splitlines():
            name, _, value = line.partition(" ")
            if name == key and value.strip().isdigit():
                return int(value)
    except (OSError, ValueError):
        pass
    return 0


def _cgroup_dirs(mount: Path, relative: str) -> list[Path]:
    """The cgroup ``relative`` under ``mount`` and each of its ancestors up to the mount,
    those that exist (a path from another cgroup namespace may not)."""
    parts = [p for p in relative.strip().split("/") if p and p != ".."]
    dirs = [mount.joinpath(*parts[:k]) for k in range(len(parts), -1, -1)]
    return [d for d in dirs if d.is_dir()]


def _cgroup_limits(proc: Path, cgroup: Path) -> list[MemoryLimit]:
    try:
        lines = (proc / "self" / "cgroup").read_text().splitlines()
    except OSError:
        return []
    limits = []
    for line in lines:
        hierarchy, _, rest = line.partition(":")
        controllers, _, relative = rest.partition(":")
        if hierarchy == "0" and controllers == "":  # cgroup v2 (unified)
            mount = cgroup if (cgroup / "cgroup.controllers").exists() else cgroup / "unified"
            files, stat_key = ("memory.max", "memory.current"), "inactive_file"
        elif "memory" in controllers.split(","):  # cgroup v1, memory controller
            mount = cgroup / "memory"
            files, stat_key = ("memory.limit_in_bytes", "memory.usage_in_bytes"), \
                "total_inactive_file"
        else:
            continue
        for directory in _cgroup_dirs(mount, relative):
            limit = _read_int(directory / files[0])  # None: "max" (v2) or not there
            if limit is None or limit >= _UNLIMITED:
                continue
            used = _read_int(directory / files[1]) or 0
            used = max(0, used - _inactive_file(directory / "memory.stat", stat_key))
            limits.append(MemoryLimit(
                float(max(0, limit - used)),
                f"cgroup {directory} {files[0]} {limit / _GiB:,.1f} GiB, in use "
                f"{used / _GiB:,.1f} GiB"))
    return limits


def _meminfo(proc: Path) -> MemoryLimit | None:
    try:
        lines = (proc / "meminfo").read_text().splitlines()
    except OSError:
        return None
    values = {}
    for line in lines:
        name, _, rest = line.partition(":")
        fields = rest.split()
        if fields and fields[0].isdigit():
            values[name.strip()] = int(fields[0]) * 1024  # kB
    for name in ("MemAvailable", "MemFree"):  # MemAvailable since Linux 3.14
        if name in values:
            return MemoryLimit(float(values[name]), f"{name} in {proc / 'meminfo'}")
    return None


def _address_space(proc: Path, rlimit_as) -> MemoryLimit | None:
    import resource

    if rlimit_as is None:
        rlimit_as = resource.getrlimit(resource.RLIMIT_AS)[0]
    if rlimit_as is None or rlimit_as < 0 or rlimit_as == resource.RLIM_INFINITY:
        return None
    mapped = 0
    try:
        for line in (proc / "self" / "status").read_text().splitlines():
            if line.startswith("VmSize:"):
                mapped = int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return MemoryLimit(float(max(0, rlimit_as - mapped)),
                       f"RLIMIT_AS (ulimit -v) {rlimit_as / _GiB:,.1f} GiB, mapped "
                       f"{mapped / _GiB:,.1f} GiB")


def available_memory(proc="/proc", cgroup="/sys/fs/cgroup", rlimit_as: int | None = None
                     ) -> MemoryLimit:
    """The memory this process may still allocate: the tightest limit that applies.

    Parameters
    ----------
    proc : str or Path
        The proc file system (``meminfo``, ``self/cgroup``, ``self/status``).
    cgroup : str or Path
        Where the cgroup file systems are mounted (v2 at the top or under ``unified``;
        v1's memory controller under ``memory``).
    rlimit_as : int, optional
        Soft ``RLIMIT_AS`` in bytes (default: this process's; ``-1``: none).

    Returns
    -------
    MemoryLimit
        The smallest of ``MemAvailable``, every cgroup's limit less its use (the
        process's cgroup and its ancestors, v1 and v2) and ``RLIMIT_AS`` less the
        mapped address space; the physical memory where none of them can be read.
    """
    proc, cgroup = Path(proc), Path(cgroup)
    limits = [x for x in (_meminfo(proc), _address_space(proc, rlimit_as)) if x is not None]
    limits += _cgroup_limits(proc, cgroup)
    if not limits:  # not Linux
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        limits.append(MemoryLimit(float(total), "physical memory"))
    return min(limits, key=lambda limit: limit.available)


def usable_cores() -> int:
    """The CPU cores this process may run on (its affinity mask, as ``taskset`` or a
    batch system's CPU binding sets it).

    Returns
    -------
    int
    """
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def spike_memory(neurons: int, duration_s: float, rate_hz: float = PLAUSIBLE_MAX_RATE_HZ,
                 bytes_per_spike: float = BYTES_PER_SPIKE) -> float:
    """Peak bytes of recording every spike of ``neurons`` over ``duration_s``.

    Assumes a mean rate of ``rate_hz`` per neuron (:data:`PLAUSIBLE_MAX_RATE_HZ`, an
    upper bound for this package's networks) and ``bytes_per_spike``
    (:data:`BYTES_PER_SPIKE`: index and time, twice for a growing array's copy).

    Parameters
    ----------
    neurons : int
        Neurons whose spikes are recorded.
    duration_s : float
        Simulated time in seconds.
    rate_hz : float
        Mean rate per neuron.
    bytes_per_spike : float
        Peak bytes per recorded spike.

    Returns
    -------
    float
        Bytes.
    """
    return float(neurons) * float(rate_hz) * float(duration_s) * float(bytes_per_spike)


def check_memory(parts: dict, what: str, remedy: str, *, available=None, copies: int = 1):
    """Refuse work that would not fit in memory, naming the estimate and its parts.

    Parameters
    ----------
    parts : dict of str to float
        Bytes by part (``synapses``, ``spikes``, ``base``, ...); their sum is the estimate.
    what : str
        What is refused, as the message's subject ("a sheet of side 1000 (...)").
    remedy : str
        What to reduce ("reduce --size or --duration").
    available : float or MemoryLimit, optional
        Bytes available (default :func:`available_memory`).
    copies : int
        Simulations that run at once (local Dask workers); the estimate is multiplied by
        it, and the remedy gains "fewer --workers".

    Raises
    ------
    ValueError
        ``"<what> needs about N GiB of memory (<parts> GiB x copies); available: <limit>
        (<remedy>)"``.
    """
    if available is None:
        available = available_memory()
    elif not isinstance(available, MemoryLimit):
        available = MemoryLimit(float(available), "given")
    need = sum(parts.values()) * copies
    if need > available.available:
        detail = ", ".join(f"{name} {value / _GiB:,.1f}" for name, value in parts.items()
                           if value)
        times = f" x {copies} at once" if copies > 1 else ""
        fewer = ", fewer --workers" if copies > 1 else ""
        raise ValueError(f"{what} needs about {need / _GiB:,.1f} GiB of memory ({detail} "
                         f"GiB{times}); available: {available} ({remedy}{fewer})")
