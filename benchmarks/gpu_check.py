"""One-shot GPU check of brianlab (issue 27): one command, its own time budget, one report.

Usage::

    python3 benchmarks/gpu_check.py --fetch-wheels      # here, with a network: fills .whl/
    python3 benchmarks/gpu_check.py OUT_DIR [--budget SECONDS] [--sides 150,300,600,1000]
                                    [--build-only] [--skip-install] [--steps 1,2,3,4]

Steps, each a subprocess with its own timeout taken from what is left of the budget:

0. install. With a ``.whl/`` folder in the repository root (the wheels of the packages the
   GPU image lacks, :data:`WHEEL_PACKAGES`, fetched beforehand by ``--fetch-wheels`` on a
   machine with a network at the versions ``uv.lock`` pins, and carried with the working
   tree): ``python3 -m pip install --no-index --no-deps --target /tmp/site .whl/*.whl``,
   then every later step runs that machine's ``python3`` with
   ``PYTHONPATH=/tmp/site:<repo root>`` (brianlab from the working tree, not installed);
   probes check that brianlab is imported from the working tree by ``python -m
   brianlab.cmsa`` and by ``pytest`` and that ``brian2.__version__`` is the lock's. Without
   ``.whl/``: ``python3 -m pip install uv`` (when ``uv`` is missing), then
   ``UV_PYTHON_DOWNLOADS=never uv sync --locked --all-extras`` (the project's lock, as
   ``.ci/run`` installs it); later steps use ``.venv/bin/python``. Without Python 3.12 (or
   without a network) ``uv sync`` fails: the failure is recorded and the check goes on with
   the interpreter running it when that one imports brianlab, brian2 and brian2cuda, else
   every later step is recorded as ``"skipped": "install"``. The report's step 0 records
   which path ran (``"path"``: ``wheels`` or ``uv sync``) and the installed versions.
1. the test suite's CUDA tests (``pytest -m cuda``), which build and run on a GPU machine;
   in build-only mode they are only collected (CI runs them in build mode itself).
2. ``python -m brianlab.cmsa phases`` on cuda_standalone and cpp_standalone for the same
   seeds, compared: the same state (bump / mixed / wave by Phi) at every rp and E and I
   rates within 10 % (:func:`compare_phases`).
3. ``python -m brianlab.cmsa run`` on both devices at each side of ``--sides`` for one
   model second (30 ms drive + ``--duration`` 970 ms): wall time (build included), the
   binary's time (build excluded), synaptic events per second (spike counts x mean
   out-degree, :func:`synaptic_events`) and the peak GPU memory (``nvidia-smi`` sampled in
   a thread while the command runs). A side the CMSA command refuses for memory (it checks
   itself) is recorded with the refusal.
4. ``python -m brianlab.cmsa sweep`` on cuda_standalone: one build, its points rerun with
   run-time values (rp, seed), each point's binary time.

After every step ``OUT_DIR/gpu_check.json`` (all records, written atomically) and
``OUT_DIR/gpu_check.md`` (a Markdown table per step) are rewritten; the CMSA folders are
under ``OUT_DIR/work``. A step that does not fit in the budget left is recorded as
``"skipped": "budget"`` and the check stops cleanly before the budget. Without a working
``nvidia-smi`` (or with ``--build-only``) every CMSA command gets ``--build-only``:
everything is generated and compiled, nothing is run, and each step says
``build-only: no GPU``.

The script needs only the standard library (it runs before the install step).
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: Seconds kept free at the end of the budget (the last report is written in them).
MARGIN_S = 15.0
#: Least time a CMSA command is started with (a cached build still imports Brian2).
MIN_STEP_S = 20.0
#: Relative difference of the E and I rates that counts as the same (step 2).
RATE_TOLERANCE = 0.10
#: Phi thresholds of the states (brianlab.cmsa.reduce.STATE_PHI): bump below the first,
#: wave above the second, mixed between.
STATE_PHI = (0.35, 0.8)
BUILD_ONLY_NOTE = "build-only: no GPU"
DEVICES = ("cuda_standalone", "cpp_standalone")
TAIL = 3000
#: The CMSA sheet's time step in seconds (``CMSAParams.dt``; a test keeps them equal).
SHEET_DT_S = 1e-4

#: The packages of ``uv.lock`` that the GPU machine's image lacks, carried there as wheels
#: (``--fetch-wheels``). Source: ``/work/.library/device/KINDS.md`` ("Python packages
#: already there", nvidia-h200, read 2026-11-17): it holds numpy, scipy, sympy, matplotlib,
#: cython, jinja2, pyparsing, packaging, py-cpuinfo, setuptools, tqdm, pillow,
#: nvidia-curand, pytest, pytest-xdist and hypothesis (every other need of brian2, of the
#: CUDA tests and of the CMSA command), but neither of these.
WHEEL_PACKAGES = ("brian2", "brian2cuda")
#: The wheels' folder, in the repository root (ignored by git, carried by a device call).
WHEEL_DIR = ".whl"
#: Largest total size of the wheels: a device call carries at most 64 MiB with the tree.
WHEEL_LIMIT_MIB = 60.0
#: Where step 0 installs the wheels on the GPU machine.
SITE = "/tmp/site"
#: The GPU machine's Python: CPython 3.12, x86-64 manylinux (device README's ``pip
#: download`` form; pip matches each manylinux tag exactly).
WHEEL_TARGET = ["--python-version", "3.12", "--implementation", "cp",
                "--platform", "manylinux_2_28_x86_64", "--platform", "manylinux_2_27_x86_64",
                "--platform", "manylinux_2_17_x86_64", "--platform", "manylinux2014_x86_64",
                "--platform", "manylinux1_x86_64"]


# -- pure helpers (unit-tested on synthetic records) ---------------------------------------

def state_name(phi: dict) -> str:
    """The state a Phi record shows, as ``brianlab.cmsa.reduce.state_name`` names it.

    Parameters
    ----------
    phi : dict
        A point record's ``phi`` (``phi``, ``mean_patterns``).

    Returns
    -------
    str
        ``bump``, ``mixed``, ``wave`` or ``no patterns``.
    """
    if not phi.get("mean_patterns"):
        return "no patterns"
    if phi["phi"] < STATE_PHI[0]:
        return "bump"
    return "wave" if phi["phi"] > STATE_PHI[1] else "mixed"


def _relative(a, b) -> float | None:
    """|a - b| / max(|a|, |b|); 0 when both are 0, None when one is missing."""
    if a is None or b is None:
        return None
    scale = max(abs(a), abs(b))
    return 0.0 if scale == 0 else abs(a - b) / scale


def compare_phases(cuda: dict, cpp: dict, tolerance: float = RATE_TOLERANCE) -> list[dict]:
    """Compare two ``phases`` summaries of the same seed, rp by rp.

    Parameters
    ----------
    cuda, cpp : dict
        The ``phases`` entries of two CMSA ``summary.json`` files: state name to a point
        record with ``rp_ms``, ``phi`` (``phi``, ``mean_patterns``), ``rate_e_hz`` and
        ``rate_i_hz``.
    tolerance : float, optional
        Largest relative difference of the E and of the I rate (of the larger one).

    Returns
    -------
    list of dict
        One row per rp of either summary: ``rp_ms``, both states and Phis, both rates,
        ``rate_e_diff`` and ``rate_i_diff`` (relative), ``same_state``, ``rates_close``
        and ``ok`` (both); a point missing on one side is not ``ok``.
    """
    def by_rp(phases):
        return {float(r["rp_ms"]): r for r in (phases or {}).values()}

    a, b = by_rp(cuda), by_rp(cpp)
    rows = []
    for rp in sorted(set(a) | set(b)):
        ra, rb = a.get(rp), b.get(rp)
        row = {"rp_ms": rp,
               "cuda_state": None if ra is None else state_name(ra["phi"]),
               "cpp_state": None if rb is None else state_name(rb["phi"]),
               "cuda_phi": None if ra is None else ra["phi"]["phi"],
               "cpp_phi": None if rb is None else rb["phi"]["phi"]}
        for pop in ("e", "i"):
            va = None if ra is None else ra.get(f"rate_{pop}_hz")
            vb = None if rb is None else rb.get(f"rate_{pop}_hz")
            row[f"cuda_rate_{pop}_hz"], row[f"cpp_rate_{pop}_hz"] = va, vb
            row[f"rate_{pop}_diff"] = _relative(va, vb)
        row["same_state"] = ra is not None and rb is not None and \
            row["cuda_state"] == row["cpp_state"]
        row["rates_close"] = all(row[f"rate_{pop}_diff"] is not None and
                                 row[f"rate_{pop}_diff"] <= tolerance for pop in ("e", "i"))
        row["ok"] = row["same_state"] and row["rates_close"]
        rows.append(row)
    return rows


_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}


def seconds(text) -> float:
    """A record's time value (``'30. ms'``, ``'100. us'``, ``'0. s'`` or a number) in s."""
    if isinstance(text, (int, float)):
        return float(text)
    number, _, unit = str(text).strip().partition(" ")
    return float(number) * _UNITS[unit.strip() or "s"]


def synaptic_events(params: dict, n_spikes_e: int, n_spikes_i: int) -> float | None:
    """Synaptic events (spikes delivered to a synapse) of one point.

    Parameters
    ----------
    params : dict
        The point record's ``params`` (``e_side``, ``i_side``, ``k_e``, ``k_i``, ``rule``).
    n_spikes_e, n_spikes_i : int
        Spikes of the E and I populations.

    Returns
    -------
    float or None
        With fixed in-degrees every target (E and I) has ``k_e`` synapses from E and
        ``k_i`` from I, so an E spike reaches ``k_e (N_E + N_I) / N_E`` synapses on average
        (and an I spike ``k_i (N_E + N_I) / N_I``): spikes x mean out-degree. None for
        another connectivity rule (its out-degree is not in the record).
    """
    if params.get("rule", "fixed_indegree") != "fixed_indegree":
        return None
    n_e, n_i = int(params["e_side"]) ** 2, int(params["i_side"]) ** 2
    return (n_spikes_e * params["k_e"] * (n_e + n_i) / n_e +
            n_spikes_i * params["k_i"] * (n_e + n_i) / n_i)


def npz_lengths(path: Path) -> dict:
    """The length of every array of a ``.npz`` file, read from its ``.npy`` headers only."""
    lengths = {}
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            with archive.open(name) as f:
                head = f.read(1024)
            text = head[10:].decode("latin1") if head[6:7] == b"\x01" else \
                head[12:].decode("latin1")
            header = ast.literal_eval(text[:text.index("}") + 1])
            shape = header["shape"]
            lengths[name.removesuffix(".npy")] = shape[0] if shape else 1
    return lengths


def write_atomic(path: Path, text: str):
    """Write ``text`` to ``path`` through a temporary file and a rename (never half a file)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


# -- wheels for the GPU machine (it has no network) ---------------------------------------

def lock_versions(names=WHEEL_PACKAGES, lock: Path | None = None) -> dict:
    """The versions ``uv.lock`` pins for ``names``.

    Parameters
    ----------
    names : sequence of str, optional
        Package names as the lock spells them (default :data:`WHEEL_PACKAGES`).
    lock : Path, optional
        The lock file (default ``uv.lock`` in the repository root).

    Returns
    -------
    dict
        Name to version, in the order of ``names``.

    Raises
    ------
    KeyError
        When the lock has no (or more than one) version of a name.
    """
    with open(lock or ROOT / "uv.lock", "rb") as f:
        packages = tomllib.load(f)["package"]
    versions = {}
    for name in names:
        found = {p["version"] for p in packages if p["name"] == name}
        if len(found) != 1:
            raise KeyError(f"uv.lock pins {len(found)} versions of {name}: {sorted(found)}")
        versions[name] = found.pop()
    return versions


def download_command(name: str, version: str, dest: Path) -> list[str]:
    """``pip download`` of the CPython 3.12 x86-64 manylinux wheel of ``name==version``
    (or its ``py3-none-any`` wheel), without its dependencies, into ``dest``."""
    return [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
            *WHEEL_TARGET, "--disable-pip-version-check", "-d", str(dest),
            f"{name}=={version}"]


def build_command(name: str, version: str, dest: Path) -> list[str]:
    """``pip wheel`` of ``name==version`` here, without its dependencies, into ``dest``
    (for a package that has no wheel on the index)."""
    return [sys.executable, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check",
            "-w", str(dest), f"{name}=={version}"]


def install_command(wheels: list[Path], target: str = SITE) -> list[str]:
    """``pip install`` of the carried wheels into ``target`` with no index (step 0 on the
    GPU machine); ``python3`` is that machine's Python."""
    return ["python3", "-m", "pip", "install", "-q", "--no-index", "--no-deps", "--no-compile",
            "--no-cache-dir", "--upgrade", "--target", target, *map(str, wheels)]


def _wheel_name(path: Path) -> tuple[str, str]:
    """(normalized project name, version) of a wheel file's name."""
    name, version = path.name.split("-")[:2]
    return re.sub(r"[-_.]+", "-", name).lower(), version


def wheel_files(dest: Path | None = None) -> list[Path]:
    """The ``.whl`` files of ``dest`` (default :data:`WHEEL_DIR`), sorted."""
    return sorted((dest or ROOT / WHEEL_DIR).glob("*.whl"))


def ensure_excluded(root: Path | None = None) -> str:
    """Make git ignore ``/.whl/``: append it to the repository's ``info/exclude`` unless git
    already ignores the folder (``.gitignore`` has ``.whl/``); returns what was done."""
    root = root or ROOT
    ignored = subprocess.run(["git", "check-ignore", "-q", ".whl/"], cwd=root,
                             capture_output=True, text=True)
    if ignored.returncode == 0:
        return "already ignored by git"
    where = subprocess.run(["git", "rev-parse", "--git-path", "info/exclude"], cwd=root,
                           capture_output=True, text=True)
    exclude = Path(where.stdout.strip()) if where.returncode == 0 and where.stdout.strip() \
        else Path(".git/info/exclude")
    exclude = exclude if exclude.is_absolute() else root / exclude
    exclude.parent.mkdir(parents=True, exist_ok=True)
    text = exclude.read_text() if exclude.exists() else ""
    if "/.whl/" not in text.split():
        exclude.write_text(text + ("" if not text or text.endswith("\n") else "\n") + "/.whl/\n")
        return f"added /.whl/ to {exclude}"
    return f"/.whl/ already in {exclude}"


def fetch_wheels(dest: Path | None = None, lock: Path | None = None,
                 limit_mib: float = WHEEL_LIMIT_MIB) -> int:
    """Download the wheels the GPU machine lacks (``--fetch-wheels``, run with a network).

    Every package of :data:`WHEEL_PACKAGES` at the version ``uv.lock`` pins, for CPython
    3.12 x86-64 manylinux; one with no such wheel is built here (``pip wheel``) and said so.
    Wheels of other versions of these packages in ``dest`` are removed (two versions stop
    the install).

    Parameters
    ----------
    dest : Path, optional
        The wheels' folder (default :data:`WHEEL_DIR`).
    lock : Path, optional
        The lock file (default ``uv.lock``).
    limit_mib : float, optional
        Largest total size of the folder's wheels.

    Returns
    -------
    int
        0; 1 when a wheel could be neither downloaded nor built, or when the total size
        exceeds ``limit_mib`` (a device call carries at most 64 MiB with the tree).
    """
    dest = dest or ROOT / WHEEL_DIR
    dest.mkdir(parents=True, exist_ok=True)
    print(f"[fetch-wheels] {ensure_excluded()}", flush=True)
    versions = lock_versions(lock=lock)
    for path in wheel_files(dest):
        name, version = _wheel_name(path)
        if name in versions and version != versions[name]:
            print(f"[fetch-wheels] removing {path.name} (uv.lock pins {versions[name]})")
            path.unlink()
    for name, version in versions.items():
        print(f"[fetch-wheels] {name}=={version} (uv.lock)", flush=True)
        done = subprocess.run(download_command(name, version, dest))
        if done.returncode != 0:
            print(f"[fetch-wheels] no CPython 3.12 manylinux wheel of {name}=={version} on "
                  "the index: building one here with pip wheel --no-deps", flush=True)
            done = subprocess.run(build_command(name, version, dest))
            if done.returncode != 0:
                print(f"error: no wheel of {name}=={version} (download and build failed)",
                      file=sys.stderr)
                return 1
    files = wheel_files(dest)
    total = sum(p.stat().st_size for p in files) / 2**20
    for p in files:
        print(f"[fetch-wheels] {p.name}  {p.stat().st_size / 2**20:.2f} MiB")
    print(f"[fetch-wheels] total {total:.2f} MiB in {len(files)} wheels ({dest})", flush=True)
    if total > limit_mib:
        print(f"error: the wheels in {dest} take {total:.2f} MiB, over the {limit_mib:g} MiB "
              "limit (a device call carries at most 64 MiB with the working tree)",
              file=sys.stderr)
        return 1
    return 0


# -- GPU memory ---------------------------------------------------------------------------

def gpu_memory() -> tuple[float, float] | None:
    """(used, total) MiB of the first GPU from ``nvidia-smi``, or None."""
    try:
        done = subprocess.run(["nvidia-smi", "--query-gpu=memory.used,memory.total",
                               "--format=csv"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    for line in done.stdout.splitlines()[1:]:
        numbers = re.findall(r"[\d.]+", line)
        if len(numbers) >= 2:
            return float(numbers[0]), float(numbers[1])
    return None


class GpuSampler(threading.Thread):
    """Samples ``nvidia-smi`` every ``interval`` s until stopped; keeps the peak."""

    def __init__(self, interval: float = 0.5):
        super().__init__(daemon=True)
        self.interval, self.peak, self.total, self.samples = interval, None, None, 0
        self.baseline = gpu_memory()
        self._stop_event = threading.Event()

    def run(self):
        while not self._stop_event.is_set():
            reading = gpu_memory()
            if reading is not None:
                self.samples += 1
                self.peak = reading[0] if self.peak is None else max(self.peak, reading[0])
                self.total = reading[1]
            self._stop_event.wait(self.interval)

    def stop(self) -> dict:
        self._stop_event.set()
        self.join(timeout=15)
        return {"gpu_mem_peak_mib": self.peak, "gpu_mem_total_mib": self.total,
                "gpu_mem_before_mib": None if self.baseline is None else self.baseline[0],
                "gpu_samples": self.samples}


# -- the check -----------------------------------------------------------------------------

class Check:
    """The report and the budget of one check."""

    def __init__(self, out: Path, budget: float, build_only: bool, reason: str):
        self.out, self.budget, self.start = out, budget, time.monotonic()
        self.work = out / "work"
        self.work.mkdir(parents=True, exist_ok=True)
        self.build_only = build_only
        self.python = sys.executable
        #: Variables every later command gets (step 0's wheels path: PYTHONPATH).
        self.env: dict = {}
        self.report = {"started": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "budget_s": budget,
                       "build_only": build_only, "build_only_reason": reason,
                       "argv": sys.argv, "host": os.uname().nodename, "steps": []}

    # time
    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def left(self) -> float:
        return self.budget - MARGIN_S - self.elapsed()

    def say(self, text: str):
        print(f"[gpu_check {self.elapsed():.0f} s] {text}", flush=True)

    # report
    def add(self, record: dict) -> dict:
        record.setdefault("at_s", round(self.elapsed(), 1))
        if self.build_only and record.get("step"):
            record.setdefault("note", BUILD_ONLY_NOTE)
        self.report["steps"].append(record)
        self.save()
        return record

    def save(self):
        self.report["elapsed_s"] = round(self.elapsed(), 1)
        write_atomic(self.out / "gpu_check.json", json.dumps(self.report, indent=1,
                                                              default=str) + "\n")
        write_atomic(self.out / "gpu_check.md", markdown(self.report))

    # commands
    def command(self, argv: list[str], wanted: float, *, sample_gpu=False,
                env=None) -> dict:
        """Run ``argv`` with a timeout of ``wanted`` s, less if less is left; ``skipped``
        when under :data:`MIN_STEP_S` is left."""
        left = self.left()
        if left < MIN_STEP_S:
            return {"argv": argv, "skipped": "budget", "left_s": round(left, 1)}
        timeout = min(wanted, left)
        sampler = GpuSampler() if sample_gpu and not self.build_only else None
        if sampler is not None:
            sampler.start()
        start = time.monotonic()
        try:
            proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True, start_new_session=True,
                                    env=dict(os.environ, PYTHONUNBUFFERED="1",
                                             MPLBACKEND="Agg", **self.env,
                                             **(env or {})))
        except OSError as exc:  # a missing program: recorded as a failed command
            if sampler is not None:
                sampler.stop()
            return {"argv": argv, "rc": None, "wall_s": 0.0, "timed_out": False,
                    "stdout_tail": "", "stderr_tail": f"{exc.__class__.__name__}: {exc}"}
        timed_out = False
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            try:
                os.killpg(proc.pid, 15)
                stdout, stderr = proc.communicate(timeout=10)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                os.killpg(proc.pid, 9)
                stdout, stderr = proc.communicate()
        record = {"argv": argv, "rc": proc.returncode, "wall_s": round(time.monotonic() -
                                                                      start, 2),
                  "timeout_s": round(timeout, 1), "timed_out": timed_out,
                  "stdout_tail": stdout[-TAIL:], "stderr_tail": stderr[-TAIL:]}
        if sampler is not None:
            record.update(sampler.stop())
        return record

    def cmsa(self, command: str, device: str, size: int, out: Path, extra: list[str],
             wanted: float) -> dict:
        argv = [self.python, "-m", "brianlab.cmsa", command, "--device", device,
                "--size", str(size), "--no-gif", "--out", str(out), *extra]
        if self.build_only:
            argv.append("--build-only")
        record = self.command(argv, wanted, sample_gpu=device == "cuda_standalone")
        record.update(device=device, size=size)
        summary = out / "summary.json"
        if "rc" in record and record["rc"] == 2 and "error: a sheet of side" in \
                record["stderr_tail"]:
            record["refused"] = record["stderr_tail"].strip().splitlines()[-1]
        elif summary.is_file() and record.get("rc") == 0:
            record["summary"] = json.loads(summary.read_text())
        return record


def _points(record: dict, folder: Path) -> list[dict]:
    """Per point saved in a CMSA results folder: model time, binary time (build excluded),
    rates, state, spike counts and synaptic events (per second of the binary)."""
    points = {}
    for path in sorted((folder / "points").glob("*.json")) if record.get("rc") == 0 else []:
        try:
            points[path.stem] = json.loads(path.read_text())
        except ValueError:
            continue
    rows = []
    for key, r in sorted(points.items()):
        p = r["params"]
        model_s = seconds(p["drive_duration"]) + seconds(p["duration"]) + \
            seconds(p.get("stimulus_duration", 0))
        binary_s = (r.get("sweep") or {}).get("binary_s") or (r.get("timings") or {}).get(
            "run_s")
        row = {"key": key, "rp": p.get("rp"), "seed": p.get("seed"), "model_s": model_s,
               "binary_s": binary_s, "rate_e_hz": r.get("rate_e_hz"),
               "rate_i_hz": r.get("rate_i_hz"), "phi": (r.get("phi") or {}).get("phi"),
               "state": state_name(r["phi"]) if r.get("phi") else None}
        npz = folder / "points" / f"{key}.npz"
        if npz.is_file():
            n = npz_lengths(npz)
            row["spikes_e"], row["spikes_i"] = n.get("e_i"), n.get("i_i")
            events = synaptic_events(p, n.get("e_i", 0), n.get("i_i", 0))
            row["synaptic_events"] = events
            if events is not None and binary_s:
                row["events_per_s"] = events / binary_s
        rows.append(row)
    return rows


def step_install_wheels(check: Check, wheels: list[Path]) -> bool:
    """Step 0 from carried wheels: install them into :data:`SITE` with no index, then run
    the machine's ``python3`` with ``PYTHONPATH=SITE:<repo root>`` and check that brianlab
    comes from the working tree (``python -m brianlab.cmsa``, ``pytest``) and that brian2 is
    the lock's version.

    Parameters
    ----------
    check : Check
        The check; its ``python`` and ``env`` are set for the later steps.
    wheels : list of Path
        The ``.whl`` files.

    Returns
    -------
    bool
        True when the later steps can run.
    """
    check.say(f"step 0: install {len(wheels)} wheels into {SITE} (no network)")
    python = shutil.which("python3") or sys.executable
    check.python = python
    check.env = {"PYTHONPATH": f"{SITE}{os.pathsep}{ROOT}"}
    records = [dict(check.command(install_command(wheels), 300),
                    what=f"pip install --target {SITE} .whl/*.whl")]
    probe = ("import importlib.metadata as m, json, brian2, brianlab; print(json.dumps("
             "{'brian2': brian2.__version__, 'brian2cuda': m.version('brian2cuda'), "
             "'brianlab': brianlab.__file__}))")
    r = check.command([python, "-c", probe], 120)
    records.append(dict(r, what="import brianlab, brian2 (versions)"))
    versions = {}
    try:
        versions = json.loads(r.get("stdout_tail", "").strip().splitlines()[-1])
    except (ValueError, IndexError):
        pass
    r = check.command([python, "-m", "brianlab.cmsa", "--help"], 120)
    records.append(dict(r, what="python -m brianlab.cmsa --help"))
    r = check.command([python, "-m", "pytest", "--collect-only", "-q", "-p",
                       "no:cacheprovider", "tests/test_cuda.py"], 180)
    records.append(dict(r, what="pytest --collect-only tests/test_cuda.py"))
    lock = lock_versions()
    errors = [f"{c['what']}: {_status(c)}" for c in records if c.get("rc") != 0]
    if versions.get("brianlab") and not Path(versions["brianlab"]).resolve().is_relative_to(
            ROOT):
        errors.append(f"brianlab imported from {versions['brianlab']}, not the working tree")
    for name, version in lock.items():
        if versions.get(name) != version:
            errors.append(f"{name} {versions.get(name)} is not the lock's {version}")
    record = {"step": 0, "name": "install", "path": "wheels", "python": python,
              "pythonpath": check.env["PYTHONPATH"],
              "wheels": [w.name for w in wheels], "versions": versions, "lock": lock,
              "commands": records, "ok": not errors}
    if errors:
        record["error"] = "; ".join(errors) + "; later steps skipped"
    check.add(record)
    return not errors


def step_install(check: Check, args) -> bool:
    """Step 0; True when the later steps have a Python that imports brianlab.

    With wheels in :data:`WHEEL_DIR` (and no ``--skip-install``) they are installed with
    :func:`step_install_wheels`; else ``uv sync --locked --all-extras`` as before.
    """
    wheels = wheel_files()
    if wheels and not args.skip_install:
        return step_install_wheels(check, wheels)
    venv = ROOT / ".venv" / "bin" / "python"
    env = {"UV_PYTHON_DOWNLOADS": "never", "UV_COMPILE_BYTECODE": "1"}
    records = []
    if not args.skip_install:
        check.say("step 0: install (uv sync --locked --all-extras)")
        uv = shutil.which("uv")
        if uv is None:
            r = check.command([sys.executable, "-m", "pip", "install", "--quiet",
                               "--disable-pip-version-check", "uv"], 300)
            records.append(dict(r, what="pip install uv"))
            uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
        r = check.command([uv, "sync", "--locked", "--all-extras"], 600, env=env) \
            if Path(uv).exists() or shutil.which(uv) else {"skipped": "uv is not installed"}
        records.append(dict(r, what="uv sync --locked --all-extras"))
    candidates = [str(venv)] if venv.exists() else []
    candidates.append(sys.executable)
    probe = "import brianlab, brian2; import importlib.util as u; " \
            "print(brian2.__version__, u.find_spec('brian2cuda') is not None)"
    chosen, versions = None, {}
    for python in candidates:
        r = check.command([python, "-c", probe], 120)
        records.append(dict(r, what=f"import brianlab with {python}"))
        if r.get("rc") == 0:
            chosen = python
            words = r.get("stdout_tail", "").split()
            versions = {"brian2": words[0] if words else None,
                        "brian2cuda": len(words) > 1 and words[1] == "True"}
            break
    check.python = chosen or sys.executable
    record = {"step": 0, "name": "install",
              "path": "skipped" if args.skip_install else "uv sync", "python": chosen,
              "versions": versions, "commands": records, "ok": chosen is not None}
    synced = [r for r in records if r["what"].startswith("uv sync")]
    if synced and synced[0].get("rc") != 0 and chosen is not None:
        record["warning"] = (f"uv sync failed (no Python 3.12, or no network: see its "
                             f"stderr_tail); the check goes on with {chosen}, which imports "
                             "brianlab and brian2")
    if chosen is None:
        record["error"] = ("no Python imports brianlab and brian2 (uv sync failed: no "
                           "Python 3.12 or no network?); later steps skipped")
    check.add(record)
    return chosen is not None


#: A test's outcome in pytest's verbose output (with or without xdist's ``[gwN] [ P%]``).
OUTCOME = re.compile(r"^(?:\[gw\d+\] (?:\[\s*\d+%\] )?)?(PASSED|FAILED|ERROR|SKIPPED|XFAIL"
                     r"|XPASS) (\S+::\S+)|^(\S+::\S+) (PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS)",
                     re.MULTILINE)


def read_outcomes(text: str) -> dict:
    """Each test's outcome printed by ``pytest -v`` (also under xdist), as ``{test id:
    outcome}``: what a step cut short by its timeout had finished."""
    found = {}
    for m in OUTCOME.finditer(text):
        outcome, name = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
        found[name] = outcome.lower()
    return found


def step_tests(check: Check, args):
    check.say("step 1: pytest -m cuda" + (" (collect only: build-only)"
                                          if check.build_only else ""))
    # -v: each test's outcome is printed as it ends, so a step cut short by its timeout
    # still says which tests passed; pytest-benchmark (in the GPU image) only warns here
    argv = [check.python, "-m", "pytest", "-m", "cuda", "-p", "no:cacheprovider",
            "-p", "no:benchmark", "-v", "-rs", "tests/"]
    if check.build_only:
        argv.append("--collect-only")
    else:  # each CUDA test compiles for a minute or more: all at once on the GPU machine
        argv += ["-n", str(min(8, os.cpu_count() or 1))]
    r = check.command(argv, 540)
    counts = {}
    for word in ("passed", "failed", "skipped", "error", "errors", "deselected"):
        m = re.findall(rf"(\d+) {word}\b", r.get("stdout_tail", ""))
        if m:
            counts[word] = int(m[-1])
    collected = re.findall(r"(\d+)(?:/\d+)? tests? collected", r.get("stdout_tail", ""))
    if collected:
        counts["collected"] = int(collected[-1])
    outcomes = read_outcomes(r.get("stdout_tail", ""))
    if not counts and outcomes:  # cut short: no summary line, count what finished
        for outcome in outcomes.values():
            counts[outcome] = counts.get(outcome, 0) + 1
    check.add({"step": 1, "name": "CUDA tests", "command": r, "counts": counts,
               "outcomes": outcomes, "ok": r.get("rc") == 0})


def step_phases(check: Check, args):
    rows, commands = [], []
    for seed in args.seeds:
        summaries = {}
        for device in DEVICES:
            check.say(f"step 2: phases side {args.phases_side} seed {seed} {device}")
            out = check.work / f"phases-{device}-{args.phases_side}-seed{seed}"
            r = check.cmsa("phases", device, args.phases_side, out,
                           [*args.cmsa_extra, "--seed", str(seed)], 540)
            commands.append({k: v for k, v in r.items() if k != "summary"})
            summaries[device] = (r.get("summary") or {}).get("phases")
            check.save()
        if check.build_only:
            continue
        if all(summaries.values()):
            for row in compare_phases(summaries["cuda_standalone"],
                                      summaries["cpp_standalone"]):
                rows.append(dict(row, seed=seed))
    record = {"step": 2, "name": "phases cuda vs cpp", "side": args.phases_side,
              "seeds": args.seeds, "commands": commands, "comparison": rows}
    if not check.build_only:
        record["ok"] = bool(rows) and all(r["ok"] for r in rows)
    else:
        record["ok"] = all(c.get("rc") == 0 for c in commands)
    check.add(record)


def step_scaling(check: Check, args):
    rows = []
    record = {"step": 3, "name": "scaling cuda vs cpp", "sides": args.sides, "rows": rows}
    for side in args.sides:
        refused = None
        for device in DEVICES:
            if refused:
                rows.append({"device": device, "size": side, "skipped": "memory",
                             "refused": refused})
                continue
            check.say(f"step 3: side {side} {device.split('_')[0]}")
            out = check.work / f"run-{device}-{side}"
            r = check.cmsa("run", device, side, out, [*args.cmsa_extra, "--rp", "6.5"], 540)
            row = {k: v for k, v in r.items() if k != "summary"}
            if r.get("refused"):
                refused = r["refused"]
                row["skipped"] = "memory"
            summary = r.get("summary") or {}
            row["timings"] = (summary.get("device") or {}).get("timings")
            row["points"] = _points(r, out)
            rows.append(row)
            check.save()
    record["ok"] = all(r.get("rc") == 0 or r.get("skipped") for r in rows)
    check.add(record)


def step_sweep(check: Check, args):
    check.say(f"step 4: sweep side {args.phases_side} cuda (rp {args.sweep_values}, "
              f"seeds {','.join(map(str, args.seeds))})")
    out = check.work / f"sweep-cuda_standalone-{args.phases_side}"
    r = check.cmsa("sweep", "cuda_standalone", args.phases_side, out,
                   [*args.cmsa_extra, "--param", "rp", "--values", args.sweep_values,
                    "--seeds", ",".join(map(str, args.seeds))], 540)
    record = {"step": 4, "name": "sweep on cuda (run-time values)",
              "command": {k: v for k, v in r.items() if k != "summary"},
              "timings": ((r.get("summary") or {}).get("device") or {}).get("timings"),
              "points": _points(r, out), "ok": r.get("rc") == 0}
    check.add(record)


# -- the Markdown report -------------------------------------------------------------------

def _fmt(value, digits=3) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if abs(value) >= 1e5:
            return f"{value:.3g}"
        return f"{value:.{digits}g}"
    return str(value)


def _table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_fmt(v).replace("|", "/") for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _status(c: dict) -> str:
    if c.get("skipped"):
        return f"skipped: {c['skipped']}"
    if c.get("refused"):
        return "refused (memory)"
    if c.get("timed_out"):
        return "timed out"
    return "ok" if c.get("rc") == 0 else f"exit {c.get('rc')}"


def markdown(report: dict) -> str:
    """The Markdown report: a header and a table per step."""
    out = [f"# GPU check ({report['started']}, {report['host']})", "",
           f"Budget {report['budget_s']:g} s, elapsed {report.get('elapsed_s', 0):g} s."]
    if report["build_only"]:
        out.append(f"**{BUILD_ONLY_NOTE}** ({report['build_only_reason']}): every command "
                   "generated and compiled, nothing ran.")
    for s in report["steps"]:
        note = f" ({s['note']})" if s.get("note") else ""
        out += ["", f"## Step {s['step']}: {s['name']}{note}", ""]
        if s.get("skipped"):
            out.append(f"skipped: {s['skipped']}")
            continue
        if s["step"] == 0:
            out.append(_table(["what", "status", "wall s"], [
                [c["what"], _status(c), c.get("wall_s")] for c in s["commands"]]))
            out.append(f"\nPath: {s.get('path')}; Python: {s.get('python')}; versions: "
                       f"{json.dumps(s.get('versions'))}" + "".join(
                f"; {s[k]}" for k in ("warning", "error") if s.get(k)))
        elif s["step"] == 1:
            c = s["command"]
            out.append(_table(["status", "wall s", *s["counts"]],
                              [[_status(c), c.get("wall_s"), *s["counts"].values()]]))
            if s.get("outcomes"):
                out += ["", _table(["test", "outcome"], [
                    [name, outcome] for name, outcome in sorted(s["outcomes"].items())])]
        elif s["step"] == 2:
            out.append(_table(["device", "seed", "status", "wall s", "GPU MiB peak"], [
                [c.get("device"), c["argv"][c["argv"].index("--seed") + 1], _status(c),
                 c.get("wall_s"), c.get("gpu_mem_peak_mib")] for c in s["commands"]]))
            if s["comparison"]:
                out += ["", _table(
                    ["seed", "rp ms", "cuda state", "cpp state", "cuda Phi", "cpp Phi",
                     "E Hz cuda/cpp", "I Hz cuda/cpp", "ok"],
                    [[r["seed"], r["rp_ms"], r["cuda_state"], r["cpp_state"], r["cuda_phi"],
                      r["cpp_phi"], f"{_fmt(r['cuda_rate_e_hz'])}/{_fmt(r['cpp_rate_e_hz'])}",
                      f"{_fmt(r['cuda_rate_i_hz'])}/{_fmt(r['cpp_rate_i_hz'])}", r["ok"]]
                     for r in s["comparison"]])]
        elif s["step"] == 3:
            rows = []
            for r in s["rows"]:
                p = (r.get("points") or [{}])[0]
                t = r.get("timings") or {}
                rows.append([r["size"], r["device"].split("_")[0], _status(r), p.get("model_s"),
                             r.get("wall_s"), t.get("build_s"), p.get("binary_s"),
                             p.get("events_per_s"), r.get("gpu_mem_peak_mib")])
            out.append(_table(["side", "device", "status", "model s", "wall s (build incl.)",
                               "build s", "binary s (build excl.)", "syn. events/s",
                               "GPU MiB peak"], rows))
            for r in s["rows"]:
                if r.get("refused"):
                    out.append(f"\nside {r['size']} {r['device']}: {r['refused']}")
        elif s["step"] == 4:
            c = s["command"]
            out.append(f"{_status(c)}, wall {_fmt(c.get('wall_s'))} s, timings "
                       f"{json.dumps(s.get('timings'))}\n")
            out.append(_table(["rp", "seed", "state", "Phi", "binary s", "syn. events/s"], [
                [p["rp"], p["seed"], p["state"], p["phi"], p["binary_s"], p.get("events_per_s")]
                for p in s["points"]]))
    return "\n".join(out) + "\n"


def scaling_table(reports: list[dict]) -> str:
    """The docs' table of step 3 over several reports: per side, both devices' binary
    time (build excluded) per model second, their ratio, the GPU's time per step and
    peak memory, the CUDA build's time, and the spike counts and Phi of both devices.

    Parameters
    ----------
    reports : list of dict
        ``gpu_check.json`` records (their step 3 rows with one point each).

    Returns
    -------
    str
        A Markdown table, one row per side, sides in increasing order.
    """
    by_side = {}
    for report in reports:
        for step in report["steps"]:
            if step.get("step") != 3:
                continue
            for row in step["rows"]:
                if row.get("rc") == 0 and row.get("points"):
                    by_side.setdefault(row["size"], {})[row["device"]] = row
    lines = []
    for side, rows in sorted(by_side.items()):
        cuda, cpp = rows.get("cuda_standalone"), rows.get("cpp_standalone")
        if cuda is None or cpp is None:
            continue
        a, b = cuda["points"][0], cpp["points"][0]
        per_model_s = [r["binary_s"] / r["model_s"] for r in (a, b)]
        t = cuda.get("timings") or {}
        steps = a["model_s"] / SHEET_DT_S
        same = (a["spikes_e"], a["spikes_i"], a["phi"]) == (b["spikes_e"], b["spikes_i"],
                                                            b["phi"])
        lines.append([side, f"{per_model_s[0]:.2f}", f"{per_model_s[1]:.2f}",
                      f"{per_model_s[1] / per_model_s[0]:.2f}",
                      f"{1e3 * a['binary_s'] / steps:.2f}",
                      _fmt(cuda.get("gpu_mem_peak_mib"), 4),
                      f"{t.get('construct_s', 0) + t.get('build_s', 0):.0f}",
                      f"{a['spikes_e']:,} / {a['spikes_i']:,}", f"{a['phi']:.3f}",
                      "yes" if same else "NO"])
    return _table(["E side", "cuda s per model s", "cpp s per model s (1 thread)",
                   "cpp / cuda", "cuda ms per step", "GPU MiB peak",
                   "cuda construct + build s", "spikes E / I", "Phi", "same on both"], lines)


# -- command line --------------------------------------------------------------------------

def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def parse(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, nargs="?",
                        help="folder of gpu_check.json, gpu_check.md, work/")
    parser.add_argument("--fetch-wheels", action="store_true",
                        help="only download into .whl/ the wheels the GPU machine lacks, at "
                        "uv.lock's versions (run where pip reaches PyPI), and exit")
    parser.add_argument("--budget", type=float, default=540.0,
                        help="seconds for everything; the check stops cleanly before (default "
                        "540: one device call runs at most 600 s)")
    parser.add_argument("--sides", type=_ints, default=[150, 300, 600, 1000],
                        help="E lattice sides of step 3 (comma list)")
    parser.add_argument("--phases-side", type=int, default=None,
                        help="side of steps 2 and 4 (default: the smallest of --sides)")
    parser.add_argument("--seeds", type=_ints, default=[0], help="seeds of steps 2 and 4")
    parser.add_argument("--sweep-values", default="5,6.5,10", help="rp values of step 4 (ms)")
    parser.add_argument("--duration", default="970",
                        help="spontaneous phase (ms); with the 30 ms drive one model second")
    parser.add_argument("--ke", default=None, help="in-degree from E (CMSA --ke)")
    parser.add_argument("--ki", default=None, help="in-degree from I (CMSA --ki)")
    parser.add_argument("--steps", type=_ints, default=[1, 2, 3, 4], help="steps to run")
    parser.add_argument("--table", type=Path, nargs="+", metavar="REPORT",
                        help="only print the scaling table (docs/benchmarks.md) of these "
                        "gpu_check.json reports, and exit")
    parser.add_argument("--build-only", action="store_true",
                        help="generate and compile only (automatic without nvidia-smi)")
    parser.add_argument("--skip-install", action="store_true",
                        help="no uv sync: use .venv/bin/python when it exists, else this Python")
    args = parser.parse_args(argv)
    if args.out is None and not (args.fetch_wheels or args.table):
        parser.error("OUT_DIR is required (or --fetch-wheels)")
    args.phases_side = args.phases_side or min(args.sides)
    args.cmsa_extra = ["--duration", str(args.duration)]
    for name in ("ke", "ki"):
        if getattr(args, name) is not None:
            args.cmsa_extra += [f"--{name}", str(getattr(args, name))]
    return args


def main(argv=None) -> int:
    args = parse(argv)
    if args.fetch_wheels:
        return fetch_wheels()
    if args.table:
        print(scaling_table([json.loads(path.read_text()) for path in args.table]), end="")
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    reason = "--build-only was given" if args.build_only else ""
    if not args.build_only:
        try:
            smi = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True,
                                 timeout=30)
            if smi.returncode != 0:
                reason = f"nvidia-smi failed (exit {smi.returncode})"
        except (OSError, subprocess.TimeoutExpired) as exc:
            reason = f"nvidia-smi is not available ({exc.__class__.__name__})"
    check = Check(args.out, args.budget, bool(reason), reason)
    check.report["gpu"] = None if reason else smi.stdout.strip()
    check.say(f"output {args.out}, budget {args.budget:g} s" +
              (f"; {BUILD_ONLY_NOTE}: {reason}" if reason else f"; {check.report['gpu']}"))
    check.save()
    if not step_install(check, args):
        for step in args.steps:
            check.add({"step": step, "name": "not run", "skipped": "install"})
        return 1
    steps = {1: step_tests, 2: step_phases, 3: step_scaling, 4: step_sweep}
    ok = True
    for step in args.steps:
        if check.left() < MIN_STEP_S:
            check.say(f"step {step}: skipped (budget)")
            check.add({"step": step, "name": steps[step].__name__, "skipped": "budget"})
            continue
        try:
            steps[step](check, args)
        except Exception as exc:  # noqa: BLE001 (recorded; the next step still runs)
            check.add({"step": step, "name": steps[step].__name__, "ok": False,
                       "error": f"{exc.__class__.__name__}: {exc}"})
        ok = ok and check.report["steps"][-1].get("ok", False)
    check.say(f"done: {args.out / 'gpu_check.md'}")
    check.save()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
