"""brianlab's CMSA run against its peers on the same sheet and model time, in one paired run.

The default sheet (150 x 150 E, 75 x 75 I; 30 ms drive + 400 ms at dt 0.1 ms; rp 10 ms, a
wave) as

- ``cli``: ``python -m brianlab.cmsa run --rp 10 --no-gif --threads 2`` with a cached build
  (the whole process: Python's start, imports, the binary, analysis, figures);
- ``binary``: brianlab's compiled binary alone (``./main --results_dir DIR values``);
- ``runtime``: the same network on Brian2's runtime device (Cython), in a process of its own,
  code cached by a first run (``--runtime`` to include it: about a minute per run);
- ``nest``: the same sheet in NEST 3.10 with 2 threads (:mod:`brianlab.cmsa.nest_sheet`:
  ``iaf_cond_exp`` on free spatial layers, fixed in-degree Gaussian connections, the same
  drive), building and simulating (``--nest`` to include it: about a minute per run);
- ``fft``: the source document's algorithm written efficiently in numpy/scipy
  (``benchmarks/fft_sheet.py``: dense Gaussian kernels applied by FFT convolution every
  step, one thread) -- the reference every ratio is against.

Each is a separate process timed by GNU time (wall, CPU, peak resident memory of the
largest process), the configurations interleaved, ``--rounds`` times (median printed).
Also printed: neuron updates per second and synaptic events per second (spikes times
out-degree, brianlab's sparse network), and the binary's time per step against the lower
bound derived in the note of issue 14. ``--cold`` also times one CLI run with an empty
brianlab cache (connectivity drawn, code generated and compiled).

    python -m benchmarks.bench_peers [--rounds 3] [--runtime] [--nest] [--cold]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNTIME = """
from brian2 import ms
from brianlab.cmsa import CMSAParams
from brianlab.cmsa.experiment import simulate
simulate([CMSAParams(rp=10 * ms)], device="runtime")
"""
FFT = """
import sys; sys.path.insert(0, {root!r})
from benchmarks.fft_sheet import simulate
import numpy as np
out = simulate(10.0)
np.savez({out!r}, **{{k: out[k] for k in ("e_i", "e_t", "i_i", "i_t")}})
"""
NEST = """
import numpy as np
from brian2 import ms
from brianlab.cmsa import CMSAParams
from brianlab.cmsa.nest_sheet import simulate_nest
from brianlab.cmsa.protocol import analyse
p = CMSAParams(rp=10 * ms)
out = simulate_nest(p, threads=2)
run = analyse(p, out["e_i"], out["e_t"] * 1e3, out["i_i"], out["i_t"] * 1e3)
np.savez({out_file!r}, phi=run.phi.phi, e=len(out["e_i"]), i=len(out["i_i"]))
"""


def timed(cmd, cwd=None, env=None) -> dict:
    """Wall s, CPU s and peak KiB of ``cmd`` (GNU time), failing with its output."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as record:
        proc = subprocess.run(["/usr/bin/time", "-f", "%e %U %S %M", "-o", record.name, *cmd],
                              cwd=cwd, env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"{cmd[:4]} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
        wall, user, system, peak = record.read().split()[-4:]
    return {"wall": float(wall), "cpu": float(user) + float(system), "peak_mib": int(peak) / 1024}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--runtime", action="store_true", help="include Brian2's runtime device")
    parser.add_argument("--nest", action="store_true", help="include NEST (validate extra)")
    parser.add_argument("--cold", action="store_true", help="time a run with an empty cache")
    args = parser.parse_args()
    py = sys.executable
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    with tempfile.TemporaryDirectory(prefix="bench-peers-") as tmp:
        tmp = Path(tmp)
        cli = [py, "-m", "brianlab.cmsa", "run", "--rp", "10", "--no-gif", "--threads", "2",
               "--out", str(tmp / "cli")]
        print("warming up: the build (if not cached) and one run", flush=True)
        timed(cli, cwd=ROOT)
        summary = json.loads((tmp / "cli" / "summary.json").read_text())
        build = Path(summary["device"]["directory"])
        (point,) = summary["points"].values()
        from brian2 import ms

        from brianlab import runargs
        from brianlab.cmsa import CMSAParams
        from brianlab.cmsa.plan import make_plan
        from brianlab.pipeline.builds import MANIFEST

        manifest = json.loads((build / MANIFEST).read_text())
        p = CMSAParams(rp=10 * ms)
        (planned,) = make_plan([p], ["p"], ["p"], command={}, configuration={}).points
        values = runargs.arguments(manifest["variables"], dict(planned.run_values),
                                   seed=planned.seed)
        configs = {
            "fft": lambda k: [py, "-c", FFT.format(root=str(ROOT), out=str(tmp / "fft.npz"))],
            "cli": lambda k: cli[:-1] + [str(tmp / f"cli{k}")],
            "binary": lambda k: [str(build / "main"), "--results_dir",
                                 f"{tmp / f'bin{k}'}/", *values],
        }
        if args.nest:
            configs["nest"] = lambda k: [py, "-c", NEST.format(out_file=str(tmp / "nest.npz"))]
        if args.runtime:
            print("warming up: Brian2 runtime (Cython compiles once)", flush=True)
            timed([py, "-c", RUNTIME], cwd=ROOT, env=env)
            configs["runtime"] = lambda k: [py, "-c", RUNTIME]
        results = {name: [] for name in configs}
        for k in range(args.rounds):
            for name, make in configs.items():
                cwd = build if name == "binary" else ROOT
                if name == "binary":
                    (tmp / f"bin{k}").mkdir()
                results[name].append(timed(make(k), cwd=cwd, env=env))
                print(f"round {k + 1} {name}: {results[name][-1]['wall']:.2f} s", flush=True)
        cold = None
        if args.cold:
            cold = timed(cli[:-1] + [str(tmp / "cold")], cwd=ROOT,
                         env=dict(env, BRIANLAB_CACHE=str(tmp / "empty-cache")))
        import numpy as np

        fft_spikes = np.load(tmp / "fft.npz")
        nest = dict(np.load(tmp / "nest.npz")) if args.nest else None
        brian_spikes = np.load(tmp / "cli" / "points" / f"{next(iter(summary['points']))}.npz")

    med = {name: {key: statistics.median(r[key] for r in runs) for key in runs[0]}
           for name, runs in results.items()}
    n_e, n_i = p.e_side**2, p.i_side**2
    steps = int(round(float(p.total / p.dt)))
    spikes_e, spikes_i = len(brian_spikes["e_i"]), len(brian_spikes["i_i"])

    def synaptic_events(e_spikes, i_spikes):
        """Spikes times out-degree (every target has k_e E and k_i I sources)."""
        return (e_spikes * p.k_e / n_e + i_spikes * p.k_i / n_i) * (n_e + n_i)

    events = synaptic_events(spikes_e, spikes_i)
    ref = med["fft"]["wall"]
    print(f"\nsheet {p.e_side}^2 E + {p.i_side}^2 I, {steps} steps of 0.1 ms, rp 10 ms; "
          f"brianlab: {spikes_e} E + {spikes_i} I spikes ({events / 1e6:.1f} M synaptic events,"
          f" Phi {point['phi']['phi']:.2f}); fft: {len(fft_spikes['e_i'])} E + "
          f"{len(fft_spikes['i_i'])} I spikes" + (
              f"; nest: {int(nest['e'])} E + {int(nest['i'])} I spikes (Phi "
              f"{float(nest['phi']):.2f})" if nest else "") + f"; median of {args.rounds}")
    print(f"{'run':<10} {'wall s':>7} {'CPU s':>6} {'x fft':>6} {'peak MiB':>9} "
          f"{'neuron upd/s':>13} {'syn ev/s':>9}")
    for name, m in med.items():
        ups = (n_e + n_i) * steps / m["wall"]
        # NEST's own spikes, the same out-degrees
        n_ev = synaptic_events(float(nest["e"]), float(nest["i"])) if name == "nest" else events
        ev = f"{n_ev / m['wall'] / 1e6:>8.1f}M" if name != "fft" else f"{'-':>9}"
        print(f"{name:<10} {m['wall']:>7.2f} {m['cpu']:>6.2f} {m['wall'] / ref:>6.2f} "
              f"{m['peak_mib']:>9.0f} {ups / 1e6:>12.0f}M {ev}")
    print(f"binary per step: {med['binary']['wall'] / steps * 1e3:.3f} ms "
          f"({med['binary']['cpu'] / steps * 1e3:.3f} ms CPU)")
    if cold:
        print(f"cold CLI run (empty cache): {cold['wall']:.1f} s wall, {cold['cpu']:.1f} s CPU, "
              f"{cold['peak_mib']:.0f} MiB peak")


if __name__ == "__main__":
    main()
