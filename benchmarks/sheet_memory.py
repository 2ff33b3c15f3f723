"""Peak memory of building and running the CMSA sheet, against its side (issue 26).

For each side, ``python -m brianlab.cmsa run --size SIDE --rp 10 --no-gif`` runs in a
fresh process with an empty build cache (a cold run: the network built in Python, its code
generated and compiled, the binary run, the point analysed), and the resident memory of the
whole process tree (Python and the binary) is sampled (:mod:`benchmarks.treepeak`). Each
row gives the peak, the bytes per synapse it makes, and the estimate that refuses sheets
(:meth:`brianlab.cmsa.params.CMSAParams.memory_estimate`) against it. Run it on an idle
machine::

    python -m benchmarks.sheet_memory --sides 150 300 600 --json docs/_data/memory/NAME.json
    python -m benchmarks.sheet_memory --sides 1000 --json docs/_data/memory/NAME.json --append
    python -m benchmarks.sheet_memory --table docs/_data/memory/*.json
    python -m benchmarks.sheet_memory --scaling docs/_data/memory/*.json

The last two lines print the docs' tables (docs/benchmarks.md, "Memory of large sheets"
and "Scaling of large sheets"; a test keeps the page equal to them, and checks the
estimate against every stored row). The scaling table splits the binary's time into its
set-up (reading the static arrays, creating the synapses, writing the results) and the
network's runs as the binary timed them (``brianlab.sweeps.RUN_TIME_FILE``: Brian2's
``Network::_last_run_time`` summed over the protocol's segments), and counts the
synaptic events from the recorded spikes (:func:`traffic`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.treepeak import measure

__all__ = ["command", "sheet_of", "estimate", "traffic", "measure_side", "table",
           "scaling_table"]

GIB = 2**30


def command(side: int, out: Path) -> list[str]:
    """The measured command line for one side."""
    return [sys.executable, "-m", "brianlab.cmsa", "run", "--size", str(side), "--rp", "10",
            "--no-gif", "--out", str(out)]


def sheet_of(argv: list[str]):
    """The sheet's parameters (:class:`brianlab.cmsa.params.CMSAParams`) of the command's
    arguments, as the command computes them (:func:`brianlab.cmsa.commands.sheet`)."""
    from brian2 import ms

    from brianlab.cmsa.arguments import parser
    from brianlab.cmsa.commands import sheet

    args = parser().parse_args(argv)
    return sheet(args).with_(rp=args.rp * ms, seed=args.seed), args


def estimate(argv: list[str], device: str | None = None) -> tuple[float, int]:
    """The command's memory estimate (bytes) and synapses, from its arguments, on
    ``device`` (default: the command's)."""
    from brianlab.toolchain import default_device

    p, args = sheet_of(argv)
    return p.memory_estimate(device or args.device or default_device()), p.n_synapses


def traffic(argv: list[str], e_spikes: int, i_spikes: int) -> dict:
    """What the run computed: neuron updates and synaptic events.

    Every E spike reaches ``(N_E + N_I) k_E / N_E`` synapses on average and every I spike
    ``(N_E + N_I) k_I / N_I`` (fixed in-degree: the targets' in-degrees summed over the
    sources); the events are the spikes times these mean out-degrees.
    """
    p, _ = sheet_of(argv)
    n_e, n_i = p.e_side**2, p.i_side**2
    steps = int(round(float(p.total / p.dt)))
    events = e_spikes * (n_e + n_i) * p.k_e / n_e + i_spikes * (n_e + n_i) * p.k_i / n_i
    return {"model_s": float(p.total), "steps": steps, "neuron_steps": (n_e + n_i) * steps,
            "spikes": {"E": int(e_spikes), "I": int(i_spikes)}, "synaptic_events": events}


def measure_side(side: int) -> dict:
    """One cold run of ``side``, in an empty cache."""
    with tempfile.TemporaryDirectory(prefix="brianlab-memory-") as tmp:
        argv = command(side, Path(tmp) / "out")
        env_cache = os.environ.get("BRIANLAB_CACHE")
        os.environ["BRIANLAB_CACHE"] = str(Path(tmp) / "cache")
        try:
            peak = measure(argv)
        finally:
            if env_cache is None:
                os.environ.pop("BRIANLAB_CACHE")
            else:
                os.environ["BRIANLAB_CACHE"] = env_cache
        if peak.returncode != 0:
            raise SystemExit(f"side {side}: the command failed (exit {peak.returncode})")
        summary = json.loads((Path(tmp) / "out" / "summary.json").read_text())
        (saved,) = (Path(tmp) / "out" / "points").glob("*.npz")
        with np.load(saved) as arrays:
            e_spikes, i_spikes = len(arrays["e_t"]), len(arrays["i_t"])
        point = json.loads(saved.with_suffix(".json").read_text())
    record = next(iter(summary["points"].values()))
    arguments = argv[argv.index("run"):argv.index("--out")]
    need, synapses = estimate(arguments)
    return {"side": side, "argv": arguments, "synapses": synapses,
            "neurons": side**2 + (side // 2)**2, "peak_bytes": peak.peak_bytes,
            "wall_s": peak.wall_s, "estimate_bytes": need,
            "bytes_per_synapse": peak.peak_bytes / synapses,
            "timings": summary["device"]["timings"], "phi": record["phi"]["phi"],
            "process_peaks": peak.process_peaks,
            "binary": {"binary_s": point["sweep"]["binary_s"], "run_s": point["sweep"]["run_s"]},
            **traffic(arguments, e_spikes, i_spikes)}


def table(rows: list[dict]) -> str:
    """The docs' table of measured rows (sorted by side), with today's estimate for the
    same arguments (:func:`estimate`: the constants it uses may have been refitted since)
    and each process's own peak (Python builds the network; ``main`` is the binary)."""
    lines = ["| E side | synapses | peak (GiB) | bytes per synapse | estimate (GiB) | "
             "estimate / peak | Python's peak (GiB) | binary's peak (GiB) | "
             "build + compile (s) | binary run (s) | wall (s) |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in sorted(rows, key=lambda r: r["side"]):
        t, own = r["timings"], r["process_peaks"]
        need = estimate(r["argv"])[0]
        lines.append(
            f"| {r['side']} | {r['synapses'] / 1e6:.1f} M | {r['peak_bytes'] / GIB:.2f} | "
            f"{r['bytes_per_synapse']:.1f} | {need / GIB:.2f} | {need / r['peak_bytes']:.2f} | "
            f"{own.get('python', 0) / GIB:.2f} | {own.get('main', 0) / GIB:.2f} | "
            f"{t.get('construct_s', 0) + t.get('build_s', 0):.1f} | {t.get('sweep_s', 0):.1f} | "
            f"{r['wall_s']:.1f} |")
    return "\n".join(lines)


def scaling_table(rows: list[dict]) -> str:
    """The docs' scaling table (sorted by side): where the time goes, and the run's cost
    per neuron update (one neuron, one step, with its share of the synaptic events)
    against the largest side's (1.00: linear in the neurons)."""
    rows = sorted(rows, key=lambda r: r["side"])
    last = rows[-1]["binary"]["run_s"] / rows[-1]["neuron_steps"]
    lines = ["| E side | neurons | synapses | network in Python (s) | code + compile (s) | "
             "binary set-up (s) | run per model second (s) | spikes per neuron | "
             "synaptic events per second | run per neuron update (ns) | "
             "per update / largest side's |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        t, binary = r["timings"], r["binary"]
        run = binary["run_s"]
        spikes = r["spikes"]["E"] + r["spikes"]["I"]
        per_update = run / r["neuron_steps"]
        lines.append(
            f"| {r['side']} | {r['neurons'] / 1e6:.3f} M | {r['synapses'] / 1e6:.1f} M | "
            f"{t.get('construct_s', 0):.1f} | {t.get('build_s', 0):.1f} | "
            f"{binary['binary_s'] - run:.1f} | {run / r['model_s']:.1f} | "
            f"{spikes / r['neurons']:.2f} | {r['synaptic_events'] / run / 1e6:.0f} M | "
            f"{per_update * 1e9:.2f} | {per_update / last:.2f} |")
    return "\n".join(lines)


def read(paths) -> list[dict]:
    """The rows of stored reports."""
    rows = []
    for path in paths:
        rows += json.loads(Path(path).read_text())["rows"]
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sheet_memory",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--sides", type=int, nargs="+", default=[150, 300])
    parser.add_argument("--json", type=Path, help="write the report here")
    parser.add_argument("--append", action="store_true",
                        help="add the rows to the report --json names (one side at a time)")
    parser.add_argument("--table", type=Path, nargs="+", metavar="REPORT",
                        help="print the docs' memory table of stored reports and exit")
    parser.add_argument("--scaling", type=Path, nargs="+", metavar="REPORT",
                        help="print the docs' scaling table of stored reports and exit")
    args = parser.parse_args(argv)
    if args.table:
        print(table(read(args.table)))
        return 0
    if args.scaling:
        print(scaling_table(read(args.scaling)))
        return 0
    rows = []
    for side in args.sides:
        start = time.perf_counter()
        rows.append(measure_side(side))
        r = rows[-1]
        print(f"side {side}: peak {r['peak_bytes'] / GIB:.2f} GiB, "
              f"{r['bytes_per_synapse']:.1f} B/synapse, estimate "
              f"{r['estimate_bytes'] / GIB:.2f} GiB ({time.perf_counter() - start:.0f} s)",
              file=sys.stderr)
    report = {"machine": {"cpus": os.cpu_count(),
                          "memory_bytes": os.sysconf("SC_PAGE_SIZE") *
                          os.sysconf("SC_PHYS_PAGES")},
              "date": time.strftime("%Y-%m-%d"), "rows": rows}
    if args.json and args.append and args.json.exists():
        report["rows"] = json.loads(args.json.read_text())["rows"] + rows
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
