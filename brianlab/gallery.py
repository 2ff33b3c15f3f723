"""The network gallery: one documentation page per network file, generated from the file.

:func:`write_gallery` writes MyST Markdown pages (an index and one page per network file
of the library, newest version): what the network is (summary, references, notes), the
file itself, a figure of a short run on the runtime device (raster, population rate and
its spectrum), the statistics of every recorded population
(:func:`brianlab.analysis.population.population_statistics`) and the file's
``[[published]]`` ranges next to what the run measured, with pass or fail, and the code
that makes the same run.

The run is the file's protocol cut to at most ``max_duration`` (:func:`gallery_run`;
default :data:`GALLERY_DURATION`) and stopped after ``max_wall`` seconds of wall time
(default :data:`GALLERY_WALL`), with Brian2's numpy target (no compilation), so that the
whole gallery adds little to a documentation build. A published entry whose
``parameters`` differ from the file's defaults gets a run of its own at those values.
Figures and tables are cached by a key of the file's sha256, the sha256 of every model
it refers to, the code (docstrings aside) that runs and draws it and ``max_duration``:
an unchanged network is never simulated again. The documentation build
(``docs/_ext/brianlab_docs.py``) calls :func:`write_gallery`.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import inspect
import json
import time
import warnings
from pathlib import Path

import numpy as np
from brian2 import NetworkOperation, second
from brian2.utils.logger import BrianLogger
from matplotlib.figure import Figure

from . import plot
from .analysis import population
from .analysis.population import (peak_frequency, population_rate, population_statistics,
                                  rate_spectrum)
from .catalogue import _code_digest as _source_digest, _write_if_changed
from .library import list_models, load_model, load_network
from .networkfile import PUBLISHED_STATISTICS
from .networks import builder
from .pipeline import reductions
from .pipeline.reductions import BIN, FANO_WINDOW
from .results import _jsonable
from .units import quantity_text

__all__ = ["GALLERY_DURATION", "GALLERY_WALL", "gallery_run", "gallery_statistics",
           "gallery_figure", "gallery_key", "compute_page_data", "write_gallery"]

#: Longest run of a network for its gallery page (seconds of simulated time).
GALLERY_DURATION = 1.0
#: Longest wall time of one gallery run's simulation (s): a slow network is cut short.
GALLERY_WALL = 15.0
#: Shortest simulated time of a run that ``max_wall`` stops (s).
MIN_DURATION = 0.1
#: Statistics tabulated per population (keys of population_statistics).
COLUMNS = ("rate", "active_fraction", "cv", "fano", "synchrony", "peak_frequency")


def _truncated(netfile, max_duration: float):
    """The network file with its protocol cut to at most ``max_duration`` seconds."""
    phases, left = [], float(max_duration)
    for phase in netfile.protocol:
        if left <= 1e-12:
            break
        duration = min(float(phase.duration), left)
        phases.append(dataclasses.replace(phase, duration=round(duration, 9) * second))
        left -= duration
    return dataclasses.replace(netfile, protocol=tuple(phases))


def _quiet_load(ref: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unreleased files are shown with their status
        return load_network(ref)


def gallery_run(netfile, *, max_duration: float = GALLERY_DURATION,
                max_wall: float | None = GALLERY_WALL, **changes) -> dict:
    """Run a network file's protocol, cut to ``max_duration``, on the runtime device.

    Parameters
    ----------
    netfile : NetworkFile or str
        The network file, or its reference (``"coba"``, ``"coba@1"``).
    max_duration : float
        Longest simulated time (s); the protocol's phases are kept in order and the last
        one kept is shortened.
    max_wall : float or None
        Longest wall time of the simulation (s, construction aside): the run stops at the
        first time step after it (``Network.stop``; not before :data:`MIN_DURATION` of
        simulated time), and what follows is left out (the duration is then shorter,
        rounded down to whole bins). None: no limit.
    **changes
        Values of the file's named parameters.

    Returns
    -------
    dict
        ``ref``, ``provenance`` (of the build), ``duration`` and ``dt`` (s), ``sizes``
        (population -> neurons), ``spikes`` (population -> ``(indices, times in s)``
        for every population under ``monitors.spikes``, within the duration),
        ``changes`` (name -> text), ``wall_s`` (construction and run), ``stopped``
        (whether ``max_wall`` cut the run).
    """
    if isinstance(netfile, str):
        netfile = _quiet_load(netfile)
    cut = _truncated(netfile, max_duration)
    duration = float(cut.duration)
    start = time.perf_counter()
    with cut.build(device="runtime", device_options={"target": "numpy"}, **changes) as built:
        state = {"deadline": None, "stopped_at": None}

        def guard():
            now = time.perf_counter()
            if state["deadline"] is None:
                state["deadline"] = now + max_wall
            elif now > state["deadline"] and float(built.network.t) >= MIN_DURATION:
                if state["stopped_at"] is None:  # simulated up to the end of this step
                    state["stopped_at"] = float(built.network.t) + float(built.clock.dt)
                built.network.stop()

        if max_wall is not None:
            built.network.add(NetworkOperation(guard, clock=built.clock, when="end",
                                               name=f"{netfile.name}_gallery_guard"))
        built.run()
        if state["stopped_at"] is not None:
            duration = min(duration, np.floor(state["stopped_at"] / BIN + 1e-6) * BIN)
        spikes = {}
        for pop in built.monitors["spikes"]:
            i, t = built.spikes(pop)
            i, t = np.asarray(i), np.asarray(t, dtype=float)
            keep = t < duration
            spikes[pop] = (i[keep], t[keep])
        sizes = {name: int(len(group)) for name, group in built.groups.items()}
        provenance = built.provenance
        dt = float(built.clock.dt)
    return {"ref": netfile.ref, "provenance": provenance, "duration": float(duration),
            "dt": dt, "sizes": sizes, "spikes": spikes,
            "changes": {k: quantity_text(v) for k, v in changes.items()},
            "wall_s": time.perf_counter() - start,
            "stopped": state["stopped_at"] is not None}


def _window(duration: float, t_start: float) -> float:
    """Length analysed after ``t_start``: a whole number of bins."""
    return float(np.floor((duration - t_start) / BIN + 1e-6) * BIN)


def gallery_statistics(run: dict, published=(), *, t_start: float = 0.0) -> tuple:
    """The statistics table of a run and its published ranges checked.

    Parameters
    ----------
    run : dict
        As :func:`gallery_run` returns it.
    published : sequence of Published
        The entries to check against this run (their ``parameters`` must be this run's).
    t_start : float
        Transient left out of the table's statistics (s).

    Returns
    -------
    table : dict
        Population -> :func:`~brianlab.analysis.population.population_statistics` of its
        spikes in ``[t_start, end]`` (bins of :data:`BIN`, Fano factors in windows of
        :data:`FANO_WINDOW` or half the window analysed if that is shorter).
    checks : list of dict
        One per entry: ``entry``, ``measured`` (float, or None with ``problem`` saying
        why: not recorded, run too short) and ``passed`` (bool or None).
    """
    def stats(pop, start):
        i, t = run["spikes"][pop]
        length = _window(run["duration"], start)
        return population_statistics(i, t, run["sizes"][pop], length, t_start=start, bin=BIN,
                                     window=min(FANO_WINDOW, length / 2))

    table = {pop: stats(pop, t_start) for pop in run["spikes"]}
    checks = []
    for entry in published:
        start = float(entry.t_start)
        check = {"entry": entry, "measured": None, "passed": None, "problem": None}
        if entry.population not in run["spikes"]:
            check["problem"] = "spikes not recorded"
        elif _window(run["duration"], start) < 10 * BIN:
            check["problem"] = f"the gallery's run ({run['duration']:g} s) is too short"
        else:
            value = float(stats(entry.population, start)[entry.statistic])
            check["measured"], check["passed"] = value, entry.contains(value)
        checks.append(check)
    return table, checks


def gallery_figure(run: dict, *, max_neurons: int = 200):
    """Raster, population rates and their spectra of a run.

    Parameters
    ----------
    run : dict
        As :func:`gallery_run` returns it.
    max_neurons : int
        Neurons of each population shown in the raster (the first ones).

    Returns
    -------
    matplotlib.figure.Figure
        Not attached to pyplot.
    """
    fig = Figure(figsize=(11, 3.4), layout="constrained")
    axes = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1.3, 1.3, 1]})
    offset = 0
    duration = _window(run["duration"], 0.0)
    for n, (pop, (i, t)) in enumerate(run["spikes"].items()):
        color = f"C{n}"
        shown = min(max_neurons, run["sizes"][pop])
        keep = i < shown
        plot.raster(1e3 * t[keep], i[keep] + offset, ax=axes[0], color=color)
        offset += shown
        times, rate = population_rate(t, run["sizes"][pop], duration, BIN, smooth=2 * BIN)
        plot.population_rate(1e3 * times, rate, ax=axes[1], color=color, label=pop)
        frequencies, power = rate_spectrum(population_rate(t, run["sizes"][pop], duration,
                                                           BIN)[1], BIN)
        plot.rate_spectrum(frequencies, power, ax=axes[2], color=color, label=pop,
                           fmax=200, log=bool(np.any(power[1:] > 0)))
        peak = peak_frequency(frequencies, power, fmax=200)
        if np.isfinite(peak):
            axes[2].axvline(peak, color=color, ls="--", lw=0.7)
    axes[0].set_title(f"spikes (first {max_neurons} neurons of each)", fontsize=9)
    axes[1].set_title("population rate (1 ms bins, 2 ms Gaussian)", fontsize=9)
    axes[2].set_title("spectrum of the rate (peaks dashed)", fontsize=9)
    if run["spikes"]:
        axes[1].legend(fontsize=8)
        axes[2].legend(fontsize=8)
    fig.suptitle(f"{run['ref']}: {run['duration']:g} s on the runtime device", fontsize=9)
    return fig


def _code_digest() -> str:
    parts = [inspect.getsource(module) for module in (plot, population, builder, reductions)]
    return "".join(_source_digest(part) for part in parts + [Path(__file__).read_text()])


_cached_digest = functools.cache(_code_digest)


def _model_refs(netfile) -> list[str]:
    refs = []
    for pop in netfile.populations.values():
        refs += [pop.model, *pop.receptors.values()]
    refs += [proj.synapse for proj in netfile.projections.values()]
    return sorted(set(refs))


def gallery_key(netfile, max_duration: float = GALLERY_DURATION,
                max_wall: float | None = GALLERY_WALL) -> str:
    """The cache key of a network's gallery figure and tables.

    Parameters
    ----------
    netfile : NetworkFile
        The network file.
    max_duration : float
        The gallery run's longest duration (s).
    max_wall : float or None
        The gallery run's longest wall time (s).

    Returns
    -------
    str
        16 hexadecimal digits of the sha256 of the file, of every model it refers to, of
        the code (docstrings aside) of this module, the builder, the population analysis,
        the reductions (:data:`BIN`, :data:`FANO_WINDOW`) and the plots, and of
        ``max_duration`` and ``max_wall``.
    """
    digest = hashlib.sha256(netfile.sha256.encode())
    for ref in _model_refs(netfile):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            digest.update(load_model(ref).sha256.encode())
    digest.update(_cached_digest().encode())
    digest.update(repr((float(max_duration), max_wall)).encode())
    return digest.hexdigest()[:16]


def _number(value, unit: str = "") -> str:
    if value is None or not np.isfinite(value):
        return "–"
    return f"{value:.3g}{unit}"


def _parameter_sets(netfile) -> list[dict]:
    """Distinct parameter sets of the published entries, the file's defaults first."""
    sets = [{}]
    for entry in netfile.published:
        values = _changes_of(netfile, entry)
        if values not in sets:
            sets.append(values)
    return sets


def _published_at(netfile, values: dict) -> list:
    return [e for e in netfile.published if _changes_of(netfile, e) == values]


def _changes_of(netfile, entry) -> dict:
    """A published entry's parameter values that differ from the file's, as text."""
    return {k: quantity_text(v) for k, v in entry.parameters.items()
            if v != netfile.parameters[k].value}


def compute_page_data(netfile, max_duration: float = GALLERY_DURATION,
                      max_wall: float | None = GALLERY_WALL):
    """Run a network for its gallery page: the figure and the JSON-ready tables.

    Parameters
    ----------
    netfile : NetworkFile
        The network file.
    max_duration : float
        Longest run (s).
    max_wall : float or None
        Longest wall time of each run's simulation (s).

    Returns
    -------
    fig : matplotlib.figure.Figure
        :func:`gallery_figure` of the run at the file's parameter values.
    data : dict
        ``runs``: one per parameter set (the file's values first) with its ``changes``,
        ``duration``, ``wall_s``, ``stopped``, ``table`` (population -> statistics) and ``checks``
        (published entry index, measured value, passed, problem).
    """
    runs, fig = [], None
    for values in _parameter_sets(netfile):
        run = gallery_run(netfile, max_duration=max_duration, max_wall=max_wall, **values)
        if fig is None:
            fig = gallery_figure(run)
        entries = _published_at(netfile, values)
        # the table leaves out the longest published transient that the run outlasts
        t_start = max((float(e.t_start) for e in entries
                       if _window(run["duration"], float(e.t_start)) >= 10 * BIN), default=0.0)
        table, checks = gallery_statistics(run, entries, t_start=t_start)
        index = {id(e): n for n, e in enumerate(netfile.published)}
        runs.append({"changes": run["changes"], "duration": run["duration"],
                     "wall_s": run["wall_s"], "stopped": run["stopped"], "table": table,
                     "t_start": t_start,
                     "checks": [{"entry": index[id(c["entry"])], "measured": c["measured"],
                                 "passed": c["passed"], "problem": c["problem"]}
                                for c in checks]})
    return fig, _jsonable({"runs": runs})


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _page(netfile, data: dict, figure: str, max_duration: float, max_wall) -> str:
    name = netfile.name
    out = [f"(network-{name})=", f"# `{netfile.ref}`", "",
           f"**network** · version {netfile.version} · {netfile.status} · sha256 "
           f"`{netfile.sha256[:16]}…`", "", netfile.summary, ""]
    if netfile.references:
        out += ["**References**", ""] + [f"- {_md(r)}" for r in netfile.references] + [""]
    if netfile.notes.strip():
        out += ["**Notes**", "", "```text", netfile.notes.strip(), "```", ""]
    sizes = ", ".join(f"{p} ({pop.size})" for p, pop in netfile.populations.items())
    out += [f"Populations: {sizes}. Projections: "
            f"{', '.join(netfile.projections) or 'none'}. Inputs: "
            f"{', '.join(netfile.inputs) or 'none'}. Protocol: "
            + ", ".join(f"{p.name} {float(p.duration) * 1e3:g} ms" for p in netfile.protocol)
            + ".", ""]
    first = data["runs"][0]
    cut = " (the protocol cut to that length)" if first["duration"] < float(
        netfile.duration) - 1e-9 else ""
    if first.get("stopped"):
        cut = (f" (the gallery's limit of {max_wall:g} s of wall time stopped the run "
               "there)")
    out += ["## A run", "",
            f"{first['duration']:g} s{cut} on the runtime device (numpy target), the file's "
            f"seeds and parameter values; {first['wall_s']:.1f} s of wall time to build and "
            "run.", "", f"![raster, population rate and spectrum of {netfile.ref}]({figure})",
            ""]
    for run in data["runs"]:
        changes = ", ".join(f"{k} = {v}" for k, v in run["changes"].items())
        title = f"at {changes}" if changes else "at the file's values"
        window = f"from {run['t_start'] * 1e3:g} ms " if run["t_start"] else ""
        fano = min(FANO_WINDOW, _window(run["duration"], run["t_start"]) / 2)
        out += [f"### Statistics {title}", "",
                f"{window}to the end of the run, bins of {BIN * 1e3:g} ms, Fano factors in "
                f"windows of {fano * 1e3:g} ms "
                "(`brianlab.analysis.population.population_statistics`).", "",
                "| population | neurons | " + " | ".join(
                    c + ("" if PUBLISHED_STATISTICS.get(c, "1") == "1" else " (Hz)")
                    for c in COLUMNS) + " |",
                "|---" * (len(COLUMNS) + 2) + "|"]
        for pop, stats in run["table"].items():
            out.append(f"| {pop} | {stats['n_neurons']} | "
                       + " | ".join(_number(stats[c]) for c in COLUMNS) + " |")
        out.append("")
    if netfile.published:
        out += ["## Published behaviour", "",
                "The file's `[[published]]` ranges against this gallery's short run "
                "(a fail can mean the run is too short to show it: the network's tests "
                "check them on longer runs).", "",
                "| population | statistic | published | measured | | at | from | source |",
                "|---|---|---|---|---|---|---|---|"]
        for run in data["runs"]:
            for check in run["checks"]:
                entry = netfile.published[check["entry"]]
                unit = "" if entry.unit == "1" else f" {entry.unit}"
                if check["passed"] is None:
                    measured, verdict = check["problem"], "–"
                else:
                    measured = _number(check["measured"], unit)
                    verdict = "pass" if check["passed"] else "**fail**"
                at = ", ".join(f"{k} = {v}" for k, v in entry.parameters.items()) or \
                    "file's values"
                out.append(f"| {entry.population} | {entry.statistic} | "
                           f"{entry.range_text()} | {measured} | {verdict} | {_md(at)} | "
                           f"{float(entry.t_start) * 1e3:g} ms | {_md(entry.source)} |")
        out.append("")
    out += ["## The file", "", f"`models/networks/{name}/{netfile.version}.toml`:", "",
            "```toml", Path(netfile.path).read_text().rstrip("\n"), "```", "",
            "## The code", "", "The same run, and the figure and tables of this page:", "",
            "```python", "import brianlab as bl",
            "from brianlab.gallery import gallery_figure, gallery_run, gallery_statistics",
            "", f'net = bl.load_network("{netfile.ref}")',
            f"run = gallery_run(net, max_duration={max_duration:g}, max_wall={max_wall})"
            "  # seconds",
            "table, checks = gallery_statistics(run, net.published)",
            "gallery_figure(run).savefig(\"net.png\")", "```", "",
            "The whole protocol on any device, saved with its provenance:", "",
            "```python", 'built = net.build(device="cpp_standalone")',
            "built.run()", f'built.save("{name}_run")  # summary.json, spikes.npz',
            "built.close()", "```", "",
            f"`python -m brianlab models show {netfile.ref}` prints the file's populations, "
            "projections, inputs, parameters and seeds.", ""]
    return "\n".join(out)


def _index(nets: list) -> str:
    out = ["# Network gallery", "",
           "Every network file of the library (newest version), generated from "
           "`models/networks/` when the documentation is built: the file, a short run on "
           "the runtime device, the statistics of its populations and the published "
           "behaviour it must show. See {doc}`../guide/networks` for the format.", "",
           "| network | version | status | summary |", "|---|---|---|---|"]
    for net in nets:
        out.append(f"| [{net.name}](network-{net.name}) | {net.version} | {net.status} | "
                   f"{_md(net.summary)} |")
    out += ["", "```{toctree}", ":hidden:", ""] + [n.name for n in nets] + ["```", ""]
    return "\n".join(out)


def write_gallery(out_dir, *, cache_dir, max_duration: float = GALLERY_DURATION,
                  max_wall: float | None = GALLERY_WALL, root=None, progress=print) -> dict:
    """Write the gallery's pages and figures (from the cache where they are current).

    Parameters
    ----------
    out_dir : path
        Folder of the pages (``index.md`` and ``<name>.md``) and their ``figures/``.
    cache_dir : path
        Folder of cached figures and tables, named by :func:`gallery_key`.
    max_duration : float
        Longest run of each network (s).
    max_wall : float or None
        Longest wall time of each run's simulation (s; :func:`gallery_run`).
    root : path, optional
        List the network files of this models folder only (default: the library's
        search path).
    progress : callable
        Called with one line per network that is run.

    Returns
    -------
    dict
        ``computed`` and ``cached`` counts, the ``pages`` written and the ``wall_s`` of
        each network run.
    """
    out_dir, cache_dir = Path(out_dir), Path(cache_dir)
    (out_dir / "figures").mkdir(parents=True, exist_ok=True)
    cache_dir.mkdir(parents=True, exist_ok=True)
    entries = [e for e in list_models(None if root is None else Path(root))
               if e.kind == "network"]
    nets = [_quiet_load(f"{e.name}@{e.newest}") for e in entries]
    counts = {"computed": 0, "cached": 0, "pages": [], "wall_s": {}}
    console = BrianLogger.console_handler
    level = console.level if console is not None else None
    if console is not None and console.level < 30:
        console.setLevel(30)
    try:
        for net in nets:
            stem = f"{net.name}-{net.version}"
            key = gallery_key(net, max_duration, max_wall)
            png, record = cache_dir / f"{stem}-{key}.png", cache_dir / f"{stem}-{key}.json"
            if png.exists() and record.exists():
                counts["cached"] += 1
            else:
                progress(f"gallery: running {net.ref}")
                fig, data = compute_page_data(net, max_duration, max_wall)
                tmp = png.with_suffix(".tmp.png")
                fig.savefig(tmp, dpi=100)
                tmp.replace(png)
                tmp = record.with_suffix(".tmp.json")
                tmp.write_text(json.dumps(data, indent=1))
                tmp.replace(record)
                counts["computed"] += 1
                counts["wall_s"][net.ref] = sum(r["wall_s"] for r in data["runs"])
                for stale in cache_dir.glob(f"{stem}-*"):
                    if stale not in (png, record):
                        stale.unlink()
            data = json.loads(record.read_text())
            figure = f"figures/{stem}.png"
            _write_if_changed(out_dir / figure, png.read_bytes())
            page = out_dir / f"{net.name}.md"
            _write_if_changed(page, _page(net, data, figure, max_duration, max_wall))
            counts["pages"].append(page)
    finally:
        if console is not None:
            console.setLevel(level)
    _write_if_changed(out_dir / "index.md", _index(nets))
    known = {n.name for n in nets}
    for page in out_dir.glob("*.md"):
        if page.stem != "index" and page.stem not in known:
            page.unlink()  # a network that left the library leaves the gallery
    return counts
