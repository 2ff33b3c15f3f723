"""Shared checks of the published network files (tests/test_network_<name>.py).

- `netfile(name, duration)`: a library network file, its protocol shortened to one phase of
  ``duration`` (the file text with its duration replaced and without its ``[[published]]``
  entries, which must end the file, parsed as the library would);
- `run_file(net, device)`: build and run it (same seeds as the file): spikes as plain
  arrays (indices, times in s) per population, the wall time of build + run, and each
  projection's synapse indices;
- `statistics(...)`: :func:`brianlab.analysis.population.population_statistics` of a run;
- `check_published(net, spikes)`: every ``[[published]]`` entry of the file against the
  run, with the entry's source in the failure message.
"""

from __future__ import annotations

import time

import numpy as np

from brianlab.analysis.population import population_statistics
from brianlab.library import models_root
from brianlab.networkfile import parse_network_bytes


def netfile(name: str, duration: str | None = None):
    """The library's ``networks/<name>/1.toml``, with one phase of ``duration`` if given."""
    path = models_root() / "networks" / name / "1.toml"
    text = path.read_text()
    if duration is not None:
        assert text.count('duration = "1 second"') == 1, "the file's protocol changed"
        text = text.replace('duration = "1 second"', f'duration = "{duration}"')
        text = text.split("[[published]]")[0]  # their transients may outlast a short run
    return parse_network_bytes(text.encode(), path=path)


def run_file(net, device: str, **options):
    """Build and run ``net`` on ``device``: spikes per population (indices, times in s),
    the wall time of build and run (s), and ``{projection: (i, j)}``."""
    t0 = time.perf_counter()
    built = net.build(device=device, **options)
    try:
        built.run()
        spikes = {}
        for pop in net.monitors.spikes:
            i, t = built.spikes(pop)
            spikes[pop] = (np.asarray(i, dtype=np.int64), np.asarray(t, dtype=float))
        wall = time.perf_counter() - t0
        connections = {name: (np.array(syn.i[:], dtype=np.int64),
                              np.array(syn.j[:], dtype=np.int64))
                       for name, syn in built.synapses.items()}
    finally:
        built.close()
    return spikes, wall, connections


def first_difference(a: dict, b: dict) -> float:
    """The time (s) of the first spike in which two runs differ (index or time, over all
    populations), ``inf`` when they are identical."""
    first = np.inf
    for pop in a:
        (ia, ta), (ib, tb) = a[pop], b[pop]
        n = min(ta.size, tb.size)
        differ = np.flatnonzero((ia[:n] != ib[:n]) | (ta[:n] != tb[:n]))
        if differ.size:
            first = min(first, ta[differ[0]], tb[differ[0]])
        elif ta.size != tb.size:
            first = min(first, (ta if ta.size > n else tb)[n])
    return float(first)


def statistics(net, spikes: dict, pop: str, t_start: float) -> dict:
    """`population_statistics` of population ``pop`` from ``t_start`` s to the run's end."""
    i, t = spikes[pop]
    duration = float(net.duration) - t_start
    return population_statistics(i, t, net.populations[pop].size, duration, t_start=t_start)


def check_published(net, spikes: dict) -> list[str]:
    """Every ``[[published]]`` entry of ``net`` measured on ``spikes``; the entries that
    fail, as sentences (empty when all hold). Prints every measurement."""
    assert net.published, f"{net.ref}: no [[published]] entries"
    failures = []
    for entry in net.published:
        assert not entry.parameters, "a run at other parameter values is not done here"
        value = statistics(net, spikes, entry.population, float(entry.t_start))[entry.statistic]
        line = (f"{net.ref} {entry.population} {entry.statistic} = {value:.4g} {entry.unit} "
                f"(published {entry.range_text()}: {entry.source})")
        print(line)
        if not entry.contains(value):
            failures.append(line)
    return failures
