"""Run the same network on Brian2's runtime, C++ standalone or CUDA standalone device.

:func:`use_device` is the one entry point and this is the only module that
changes Brian2 preferences or calls ``set_device``; everything it changes is
restored when the returned :class:`DeviceSession` is closed (use it as a
context manager).

CUDA standalone (brian2cuda) on a machine without a GPU generates and compiles
the code but does not run it: GPU detection is switched off, the compute
capability is set explicitly, C++17 is used for both nvcc and the host compiler
(CUDA 13's Thrust/CUB need it; the generated makefile asks for C++11), and
cuRAND headers and library come from the ``nvidia-curand`` wheel when the CUDA
toolkit lacks them.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import gc
import logging
import os
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from brian2 import Network, device, get_device, prefs, second, set_device
from brian2.codegen.targets import codegen_targets
from brian2.core.magic import magic_network
from brian2.core.variables import VariableView
from brian2.units.fundamentalunits import fail_for_dimension_mismatch
from brian2.utils.logger import BrianLogger

from . import leanbuild, runargs
from .cache import cache_directory
from .errors import DeviceError, DirectoryInUse
from .ranges import check_range
from .sweeps import RUN_TIME_FILE
from .toolchain import (DEFAULT_COMPUTE_CAPABILITY, DEVICES, NATIVE_FLAGS, _curand_paths,
                        cxx_compiler_works, find_nvcc, gpu_available)

__all__ = ["use_device", "DeviceSession", "DeviceError", "DirectoryInUse", "DEVICES", "find_nvcc",
           "gpu_available", "cxx_compiler_works", "cache_directory"]


#: The open session (Brian2 has one device at a time, so sessions do not nest).
_ACTIVE: "DeviceSession | None" = None


def _stop_group(proc: subprocess.Popen):
    """Stop a process started with ``start_new_session`` and everything it started:
    SIGINT to its group (``make`` deletes half-written files), SIGKILL after 30 s or at a
    second interruption (nothing keeps compiling into the directory behind our back)."""
    for sig, wait in ((signal.SIGINT, 30), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue
        except BaseException:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            raise


def _brian2cuda_info(record) -> bool:
    """A console log filter: False for brian2cuda's INFO lines (its preferences, the GPU
    it compiles for: 25 lines on every build), True for everything else. (Brian2's own
    handler filter may already have shortened ``brian2.brian2cuda...`` to ``brian2cuda...``.)"""
    name = record.name.removeprefix("brian2.")
    return not (name.split(".")[0] == "brian2cuda" and record.levelno <= logging.INFO)


def _console_filter(function, *, add: bool):
    """Add ``function`` to (or remove it from) Brian2's console log handler, if it has one.

    Brian2's file log (its debug log) keeps every record; removing an absent filter does
    nothing."""
    handler = getattr(BrianLogger, "console_handler", None)
    if handler is not None:
        (handler.addFilter if add else handler.removeFilter)(function)


class DeviceSession:
    """An active Brian2 device for one network, with its own directory.

    Obtain it from :func:`use_device`. ``run`` builds (standalone) and runs a
    network; ``rerun`` runs it again with new parameter values, reusing the
    compiled binary on standalone devices (Brian2's ``run_args``).

    Parameters
    ----------
    name : {'runtime', 'cpp_standalone', 'cuda_standalone'}
        The back end.
    directory : str or Path, optional
        Build directory of a standalone device (a fresh one if None).
    threads : int, optional
        OpenMP threads of ``cpp_standalone``.
    build_only : bool
        Generate and compile, but do not run.
    compute_capability : float, optional
        GPU architecture for ``cuda_standalone``.
    target : str, optional
        Code generation target of the runtime device.
    quiet : bool
        Do not print the binary's output or the build-only notice.
    keep : bool
        Keep the build directory and its results after the session.
    portable : bool
        Compile without ``-march=native`` (a binary for any CPU of the architecture).

    See Also
    --------
    use_device : what each parameter means in detail.
    """

    def __init__(self, name, directory=None, threads=None, build_only=False,
                 compute_capability=None, target=None, quiet=False, keep=False,
                 portable=False):
        if name not in DEVICES:
            raise DeviceError(f"unknown device {name!r}; expected one of {', '.join(DEVICES)}")
        if threads is not None and (not isinstance(threads, int) or threads < 0):
            raise DeviceError(f"threads must be a non-negative integer, got {threads!r}")
        if target is not None:
            if name != "runtime":
                raise DeviceError(f"target={target!r} applies to the runtime device only "
                                  f"(code generation of {name} is C++)")
            targets = sorted({"auto"} | {t.class_name for t in codegen_targets if t.class_name})
            if target not in targets:
                raise DeviceError(f"unknown runtime target {target!r}; expected one of "
                                  f"{', '.join(targets)}")
        if _ACTIVE is not None:
            raise DeviceError(f"another device session is open ({_ACTIVE!r}); close it first "
                              "(use 'with use_device(...) as session:'); sessions do not nest "
                              "because Brian2 has one device at a time")
        self.name = name
        self.threads = threads
        self.build_only = bool(build_only)
        self.quiet = quiet
        self.keep = keep
        self.portable = bool(portable)
        self._temporary = False
        self.has_gpu = False
        self.lean = False
        self.compute_capability = compute_capability
        self.timings: dict[str, float] = {}
        self.built = False
        self.ran = False
        self.runs = 0
        self._network = None
        self._duration = None
        self._active = {}
        self._at = []
        #: What the network built in this session came from (set by a network builder,
        #: e.g. :func:`brianlab.networks.builder.build_network`); part of :meth:`describe`.
        self.provenance = None
        self._lock_fd = None
        self._closed = False
        self._previous_device = get_device()
        prefs._backup()
        self.directory = None
        if name == "runtime":
            if build_only:
                raise DeviceError("build_only needs a standalone device")
            if target is not None:
                prefs.codegen.target = target
            set_device("runtime")
            self._opened()
            return
        if not cxx_compiler_works():
            raise DeviceError(f"{name} needs a C++ compiler (g++ or clang++) on PATH")
        self.directory = self._claim_directory(directory)
        # Brian2 names objects uniquely among those alive, and its objects hold reference
        # cycles: collect the last network's, or this build would call its clocks "_1"
        # (other code than the same network built before: a recompilation)
        gc.collect()
        try:
            if self.portable:
                prefs.codegen.cpp.extra_compile_args_gcc = [
                    a for a in prefs.codegen.cpp.extra_compile_args_gcc if a not in NATIVE_FLAGS]
            if name == "cpp_standalone":
                if threads is not None:
                    prefs.devices.cpp_standalone.openmp_threads = threads
                set_device("cpp_standalone", directory=str(self.directory), build_on_run=False)
            else:
                self._setup_cuda()
                set_device("cuda_standalone", directory=str(self.directory), build_on_run=False)
                if quiet:
                    _console_filter(_brian2cuda_info, add=True)
        except BaseException:  # e.g. no nvcc: leave no lock, directory or preference behind
            self._closed = True
            _console_filter(_brian2cuda_info, add=False)
            prefs._restore()
            os.close(self._lock_fd)
            self._lock_fd = None
            self._clean_up()
            raise
        # Brian2's plain run() would only record the run on a standalone device (we build
        # with build_on_run=False), silently doing nothing: refuse it instead
        magic_network.run = self._refuse_magic_run
        self._opened()

    def _opened(self):
        global _ACTIVE
        # Brian2's Ctrl-C handler ends a run early and returns as if it had finished (on
        # standalone devices it then reports a failed binary): a result that silently lies.
        # In a session Ctrl-C raises KeyboardInterrupt, as everywhere else in Python.
        prefs.core.stop_on_keyboard_interrupt = False
        _ACTIVE = self
        atexit.register(self._close_at_exit)

    def _refuse_magic_run(self, *args, **kwargs):
        raise DeviceError(f"Brian2's run() does not run anything in a brianlab {self.name} "
                          "session: put the objects into a Network and call "
                          "session.run(network, duration)")

    def _close_at_exit(self):
        warnings.warn(f"{self!r} was never closed; closed at interpreter exit (use 'with "
                      "use_device(...) as session:')", ResourceWarning, stacklevel=1)
        self.close()

    # -- set-up ----------------------------------------------------------------
    def _claim_directory(self, directory) -> Path:
        self._temporary = directory is None
        root = os.environ.get("BRIANLAB_BUILD_DIR") or None
        path = Path(directory if directory is not None else root or tempfile.gettempdir())
        try:
            if directory is None:
                if root:
                    Path(root).mkdir(parents=True, exist_ok=True)
                path = Path(tempfile.mkdtemp(prefix=f"brianlab-{self.name}-", dir=root))
            path = path.resolve()  # (the binary runs there: every path it gets is absolute)
            path.mkdir(parents=True, exist_ok=True)
            fd = os.open(path / ".brianlab.lock", os.O_CREAT | os.O_RDWR | os.O_NOFOLLOW,
                         0o644)
        except IsADirectoryError:
            raise DeviceError(f"{path / '.brianlab.lock'} is a folder, not a lock file: remove "
                              "it (or build elsewhere)") from None
        except OSError as exc:
            where = Path(exc.filename) if exc.filename else path
            raise DeviceError(f"cannot build in {str(where)[:300]} ({exc.strerror or exc}): a "
                              "build needs a writable folder (the cache, $BRIANLAB_CACHE, or "
                              "$BRIANLAB_BUILD_DIR)") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise DirectoryInUse(f"{path} is in use by another run; give each run its own "
                                 "directory (or directory=None for a fresh one)") from None
        self._lock_fd = fd
        return path

    def _setup_cuda(self):
        try:
            with warnings.catch_warnings():  # brian2cuda 1.0b1 has invalid escape sequences
                warnings.simplefilter("ignore", SyntaxWarning)
                import brian2cuda  # noqa: F401  (registers the cuda_standalone device)
        except ImportError:
            raise DeviceError("cuda_standalone needs brian2cuda: pip install 'brianlab[cuda]'") \
                from None
        # brian2cuda registers its preferences when first imported, after this session's
        # backup: back them up now (their defaults), or close would leave this session's
        # values behind and the next session would add its flags a second time
        for key, value in prefs.prefs.items():
            prefs.backup_prefs.setdefault(key, value)
        nvcc = find_nvcc()
        if nvcc is None:
            raise DeviceError("cuda_standalone needs the CUDA compiler nvcc, which was not found "
                              "(looked in $CUDA_PATH/bin, PATH and /usr/local/cuda/bin)")
        cuda_home = Path(nvcc).parent.parent
        self.has_gpu, detected = gpu_available()
        if self.compute_capability is None:
            self.compute_capability = detected or DEFAULT_COMPUTE_CAPABILITY
        backend = prefs.devices.cuda_standalone.cuda_backend
        backend.detect_gpus = False
        backend.gpu_id = 0
        backend.compute_capability = float(self.compute_capability)
        backend.cuda_path = str(cuda_home)
        gcc_args = [a for a in prefs.codegen.cpp.extra_compile_args_gcc
                    if not a.startswith("-std=")]
        prefs.codegen.cpp.extra_compile_args_gcc = gcc_args + ["-std=c++17"]
        curand = _curand_paths(cuda_home)
        self._curand = curand
        if curand is not None:
            include, lib = curand
            backend.extra_compile_args_nvcc = list(backend.extra_compile_args_nvcc) + \
                [f"-I{include}"]
            prefs.codegen.cpp.include_dirs = list(prefs.codegen.cpp.include_dirs) + [str(include)]
        if self.threads:
            # brian2cuda runs on the GPU; OpenMP threads have no meaning there
            self.threads = None

    def _patch_cuda_makefile(self):
        """C++17 for nvcc; link cuRAND from the wheel (it ships only libcurand.so.N)."""
        makefile = self.directory / "makefile"
        text = makefile.read_text()
        text = re.sub(r"-std=c\+\+\d+", "-std=c++17", text)
        if self._curand is not None:
            include, lib = self._curand
            link_dir = self.directory / "_curand"
            link_dir.mkdir(exist_ok=True)
            target = sorted(lib.glob("libcurand.so*"))[-1]
            link = link_dir / "libcurand.so"
            if link.is_symlink() or link.exists():
                link.unlink()
            link.symlink_to(target)
            text = text.replace("-lcurand", f"-L{link_dir} -lcurand -Xlinker -rpath={lib}", 1)
        makefile.write_text(text)

    # -- running ---------------------------------------------------------------
    @property
    def standalone(self) -> bool:
        """Whether the device is a standalone one (C++ or CUDA code generation)."""
        return self.name != "runtime"

    @property
    def can_run(self) -> bool:
        """Whether ``run`` executes the simulation (not only builds it)."""
        if self.build_only:
            return False
        return self.name != "cuda_standalone" or self.has_gpu

    def run(self, network: Network, duration, report=None, run_args=None, write_only=None,
            active=None, clean=False, at=None):
        """Build (standalone devices) and run ``network`` for ``duration``.

        On ``cuda_standalone`` without a GPU, or with ``build_only``, the code is compiled
        and not run; ``ran`` says which.

        Parameters
        ----------
        network : Network
            The network, created inside this session.
        duration : Quantity
            Simulated time.
        report : str or callable, optional
            Brian2's progress report (``"text"``, ``"stdout"``, ...).
        run_args : dict, optional
            ``{group.variable: value}`` for the first run of a standalone binary.
        write_only : iterable of Variable, optional
            A lean ``cpp_standalone`` build (:mod:`brianlab.leanbuild`): the binary writes
            only these variables' arrays (``monitor.variables["t"]``, ...) and frees the
            connection index arrays once the synapses exist. Brian2 cannot read such a
            build's results, so it needs ``build_only``: run the binary yourself
            (:func:`brianlab.sweeps.run_point`).
        active : dict, optional
            ``{object: (start, stop)}`` or ``{object: [(start, stop), ...]}``: objects (a
            StateMonitor, an operation) that run only inside their windows (Quantities);
            the simulation is split into consecutive runs at those times (on every
            device, so a monitor records only its window).
        at : sequence of (Quantity, callable), optional
            Calls made at these times (a protocol's phases: switching inputs, setting
            values); the run is split there and each call made before the segment that
            starts at its time (on every device, and again on a runtime ``rerun``).
        clean : bool
            Standalone devices: compile every file again (``make clean`` first), for a
            directory whose earlier build cannot be trusted. Every ``cpp_standalone``
            build links its binary anew in any case.

        Returns
        -------
        DeviceSession
            ``self``.

        Raises
        ------
        DeviceError
            If the build or the binary fails (with the compiler's or the binary's output).
        """
        if not isinstance(network, Network):
            raise TypeError("pass an explicit brian2.Network (brianlab never relies on the "
                            "magic network)")
        if self._network is not None:
            raise DeviceError("this device session already holds a network; use rerun() for "
                              "new parameter values, or a new session for a new network")
        if write_only is not None and (self.name != "cpp_standalone" or not self.build_only):
            raise DeviceError("write_only (a lean build) needs cpp_standalone with "
                              "build_only: Brian2 cannot read its results")
        self._network, self._duration, self._active = network, duration, dict(active or {})
        self._at = sorted(((float(t), call) for t, call in (at or ())), key=lambda x: x[0])
        if not self.standalone:
            network.store("brianlab_initial")
            start = time.perf_counter()
            self._run_segments(report)
            self.timings["run_s"] = time.perf_counter() - start
            self.ran, self.runs = True, 1
            return self
        self._run_segments(report)
        if not self.quiet:
            slow = " (nvcc: a few minutes)" if self.name == "cuda_standalone" else ""
            print(f"[brianlab] {self.name}: generating and compiling in {self.directory}{slow}",
                  flush=True)
        start = time.perf_counter()
        main, objects = self.directory / "main.cpp", self.directory / "objects.cpp"
        makefile = self.directory / "makefile"
        previous = {path: (path.read_text(), path.stat()) for path in (main, objects, makefile)
                    if path.is_file()}
        code = ([self.directory / "main.cu",
                 *sorted((self.directory / "code_objects").glob("*.cu"))]
                if self.name == "cuda_standalone" else [])
        previous_code = {path: (path.read_text(), path.stat()) for path in code
                         if path.is_file()}
        device.build(directory=str(self.directory), compile=False, run=False)
        dropped = set()
        if write_only is not None:
            files = {get_device().get_array_filename(getattr(v, "variable", v))
                     for v in write_only}

            def lean_objects(text):
                text, names = leanbuild.write_only(text, files)
                dropped.update(names)
                return text

            leanbuild.keep_if_equivalent(objects, previous.get(objects), lean_objects)
        elsewhere = "".join(path.read_text() for path in
                            sorted((self.directory / "code_objects").glob("*.cpp"))
                            if "synapses_create_array" not in path.name) if dropped else ""
        leanbuild.keep_if_equivalent(main, previous.get(main), lambda text: (
            leanbuild.free_connection_arrays(leanbuild.sort_clock_resets(text), dropped,
                                             elsewhere)[0]))
        self.lean = bool(dropped)
        if self.name == "cuda_standalone":
            main_cu = self.directory / "main.cu"
            leanbuild.keep_if_equivalent(main_cu, previous_code.get(main_cu),
                                         leanbuild.sort_cuda_main)
            for path in sorted((self.directory / "code_objects").glob("*.cu")):
                leanbuild.keep_if_equivalent(path, previous_code.get(path),
                                             leanbuild.cuda_pathway_clock)
            self._patch_cuda_makefile()
        else:
            leanbuild.keep_if_equivalent(makefile, previous.get(makefile),
                                         leanbuild.precompile_objects_header)
        self._compile(clean)
        self.timings["build_s"] = time.perf_counter() - start
        self.built = True
        if not self.can_run:
            if not self.quiet:
                why = "build_only was requested" if self.build_only else "no GPU is available"
                where = " on a machine with a GPU" if self.name == "cuda_standalone" else ""
                print(f"[brianlab] {self.name}: built in {self.directory} but not run "
                      f"({why}); run {self.directory / 'main'}{where}")
            return self
        self._run_binary(run_args)
        return self

    def _run_segments(self, report=None):
        """``network.run`` for the whole duration, split where an object of ``active``
        starts or stops (one run without any)."""
        windows = {obj: [w] if not isinstance(w, list) else w
                   for obj, w in self._active.items()}
        cuts = sorted({float(t) for ws in windows.values() for w in ws for t in w
                       if 0 < float(t) < float(self._duration)}
                      | {at for at, _ in self._at if 0 < at < float(self._duration)})
        bounds = [0.0, *cuts, float(self._duration)]
        # a standalone binary adds up its runs' times (Brian2 keeps the last one only;
        # brian2cuda's network has the same Network::_last_run_time and results_dir)
        timed = self.standalone
        if timed:
            get_device().insert_code("main", "double _brianlab_run_s = 0.0;")
        for a, b in zip(bounds[:-1], bounds[1:]):
            for at, call in self._at:
                if at == a or (a == 0.0 and at <= 0):
                    call()
            for obj, ws in windows.items():
                obj.active = any(float(start) <= a < float(stop) for start, stop in ws)
            self._network.run((b - a) * second, report=report)
            if timed:
                get_device().insert_code("main", "_brianlab_run_s += Network::_last_run_time;")
        if timed:
            get_device().insert_code("main", (
                f'{{ std::ofstream _f((brian::results_dir + "{RUN_TIME_FILE}").c_str()); '
                '_f.precision(17); _f << _brianlab_run_s << std::endl; }'))

    def _compile(self, clean: bool = False):
        """``make`` in the build directory; in a reused directory a failure (a stale or
        damaged object file of an interrupted build) is retried once after ``make clean``.

        ``make`` runs here (:meth:`_make`), not through Brian2's ``compile_source``
        (``os.system``, which ignores Ctrl-C: an interrupted build was redone from clean,
        or reported as a failed one); brian2cuda inherits that method, so both devices
        build the same way. Both always link the binary anew: a ``main``
        left in a reused directory (replaced or damaged after a build, and newer than its
        objects) is never kept, run or recorded as this build's.
        """
        (self.directory / "main").unlink(missing_ok=True)
        try:
            self._make(clean)
            return
        except RuntimeError as exc:
            if self._temporary or clean:
                again = ", also from a clean build" if clean and not self._temporary else ""
                raise DeviceError(f"compilation failed in {self.directory}{again}: {exc}") \
                    from None
        if not self.quiet:
            print(f"[brianlab] compilation in {self.directory} failed; retrying from a clean "
                  "build", flush=True)
        try:
            self._make(True)
        except RuntimeError as exc:
            raise DeviceError(f"compilation failed in {self.directory}, also from a clean "
                              f"build: {exc}") from None

    def _make(self, clean: bool):
        """Brian2's ``make`` step of ``cpp_standalone`` (its make command and arguments),
        as a subprocess in a process group of its own.

        Ctrl-C or SIGTERM arrive here as Python's exception (the terminal's Ctrl-C reaches
        only this process's group): ``make`` and its compilers get SIGINT (``make``
        deletes the file it was writing), are waited for, and the exception goes on, so
        the command stops with its usual message and the directory builds again next time.
        A failed ``make`` raises RuntimeError with the end of its output; one ended by
        SIGINT or SIGTERM raises KeyboardInterrupt (it is never retried from clean).
        """
        # a shell command line, as Brian2 runs it (``make_cmd_unix`` may hold variables)
        command = prefs.devices.cpp_standalone.make_cmd_unix
        steps = [f"{command} clean"] if clean else []
        steps.append(" ".join([command, *map(shlex.quote,
                                             prefs.devices.cpp_standalone.extra_make_args_unix)]))
        stopped = {-signal.SIGINT, -signal.SIGTERM, 128 + signal.SIGINT, 128 + signal.SIGTERM}
        for step in steps:
            with tempfile.TemporaryFile() as log:
                try:
                    # the build directory's lock goes to make and its compilers too: if
                    # this process dies without stopping them, nobody builds beside them
                    proc = subprocess.Popen(
                        ["/bin/sh", "-c", step], cwd=self.directory, stdout=log,
                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                        start_new_session=True,
                        pass_fds=() if self._lock_fd is None else (self._lock_fd,))
                except OSError as exc:
                    raise DeviceError(f"cannot run {step!r} in {self.directory}: "
                                      f"{exc.strerror or exc}") from None
                try:
                    code = proc.wait()
                except BaseException:
                    _stop_group(proc)
                    raise
                if code in stopped:
                    raise KeyboardInterrupt(f"make was ended by a signal (status {code})")
                if code != 0 and not step.endswith(" clean"):
                    log.seek(0)
                    tail = log.read().decode(errors="replace").splitlines()[-20:]
                    raise RuntimeError(f"make exited with {code}:\n" + "\n".join(tail))

    def _run_binary(self, run_args):
        start = time.perf_counter()
        # one results folder, overwritten by each run: Brian2 writes every array there
        # (for a 17 M-synapse sheet about 0.5 GB), so a folder per rerun fills the disk
        try:
            device.run(directory=str(self.directory), results_directory="results",
                       with_output=not self.quiet, run_args=run_args or {})
        except RuntimeError as exc:
            raise DeviceError(f"the simulation binary failed in {self.directory}: {exc}") \
                from None
        self.timings["run_s"] = time.perf_counter() - start
        self.ran = True
        self.runs += 1

    def rerun(self, run_args: dict):
        """Run the network again from its initial state with new values.

        Parameters
        ----------
        run_args : dict
            ``{group.variable: value}``, e.g. ``{G.tau_ref: 6*ms}``. Standalone
            devices reuse the compiled binary; the runtime device restores the
            network's initial state and sets the values before running.

        Returns
        -------
        DeviceSession
            ``self``.
        """
        if self._network is None:
            raise DeviceError("rerun() needs a first run()")
        if not self.can_run:
            raise DeviceError(f"{self.name} in this session only builds; nothing can be run")
        _check_run_args(run_args, "rerun")
        if self.standalone:
            self._run_binary(run_args)
            return self
        self._network.restore("brianlab_initial")
        for key, value in run_args.items():
            key[:] = value
        start = time.perf_counter()
        self._run_segments()
        self.timings["run_s"] = time.perf_counter() - start
        self.runs += 1
        return self

    def command_line(self, run_args: dict) -> list[str]:
        """The binary's command-line values that set ``run_args`` (``group.var=value``).

        What Brian2 passes to the standalone binary for the same ``run_args``, so a
        binary started elsewhere (:mod:`brianlab.sweeps`) runs exactly what
        :meth:`rerun` would.

        Parameters
        ----------
        run_args : dict
            ``{group.variable: value}`` with one value per variable.

        Returns
        -------
        list of str

        Raises
        ------
        DeviceError
            On the runtime device, or for an array of values (Brian2 passes those as
            files next to the build).
        """
        if not self.standalone:
            raise DeviceError("command-line values exist for standalone devices only")
        _check_run_args(run_args, "command line")
        out = []
        for key, value in run_args.items():
            # what Brian2 does for a single value: the variable's dimensions and dtype
            fail_for_dimension_mismatch(key.dim, value)
            value = np.asarray(value, dtype=key.dtype)
            name = f"{key.group_name}.{key.name}"
            if value.size != 1:
                raise DeviceError(f"{name}: give one value; arrays of values are not "
                                  "supported on the command line of a sweep point")
            out.append(runargs.encode(name, value.item()))
        return out

    def array_file(self, variable) -> tuple[str, str]:
        """File name (in a results directory) and dtype of a variable of the built network.

        Parameters
        ----------
        variable : brian2.core.variables.Variable or VariableView
            E.g. ``monitor.variables["t"]``.

        Returns
        -------
        filename : str
        dtype : str
            As :func:`numpy.dtype` takes it.
        """
        if not self.built:
            raise DeviceError("array_file() needs a built network (run() first)")
        variable = getattr(variable, "variable", variable)
        return get_device().get_array_filename(variable), np.dtype(variable.dtype).str

    def describe(self) -> dict:
        """What was used, for a results summary.

        Returns
        -------
        dict
            Device, build directory, threads, build-only, portable and lean flags, GPU and
            compute capability, whether it was built and ran, the runs and their timings,
            and the ``provenance`` of the network built in the session (None if no
            builder set it).
        """
        return {"device": self.name, "directory": None if self.directory is None
                else str(self.directory), "threads": self.threads, "build_only": self.build_only,
                "portable": self.portable, "lean": self.lean,
                "gpu": self.has_gpu, "compute_capability": self.compute_capability,
                "built": self.built, "ran": self.ran, "runs": self.runs,
                "timings": dict(self.timings), "provenance": self.provenance}

    # -- clean-up ----------------------------------------------------------------
    def close(self):
        """Forget the network, restore the previous device and all preferences."""
        global _ACTIVE
        if self._closed:
            return
        self._closed = True
        self._network = None  # (see the gc.collect() in __init__)
        if _ACTIVE is self:
            _ACTIVE = None
        atexit.unregister(self._close_at_exit)
        magic_network.__dict__.pop("run", None)
        _console_filter(_brian2cuda_info, add=False)
        if self.standalone:
            get_device().reinit()
            get_device().activate()
        prefs._restore()
        set_device(self._previous_device)
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None
        self._clean_up()

    def _clean_up(self):
        """Remove what a finished run leaves behind; keep what a user needs.

        A fresh temporary directory is removed once its results were read (the
        monitors are read inside the session) or when nothing was built in it (an
        error came first); one that was only built is kept, as its binary is the
        product. A given or cached directory keeps its code
        (incremental rebuilds) but loses the results folder.
        """
        if self.directory is None or self.keep:
            return
        if self._temporary and not self.built:  # nothing was made there (an error before)
            shutil.rmtree(self.directory, ignore_errors=True)
            return
        if not self.ran:
            return
        if self._temporary:
            shutil.rmtree(self.directory, ignore_errors=True)
        else:
            shutil.rmtree(self.directory / "results", ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __repr__(self):
        where = f" in {self.directory}" if self.directory else ""
        return f"<DeviceSession {self.name}{where}>"


def _check_run_args(run_args: dict, where: str):
    """Keys are group variables and values within their ranges (refractoriness included)."""
    for key, value in run_args.items():
        if not isinstance(key, VariableView):
            raise TypeError("run_args keys must be group variables such as G.tau_ref")
        refractory = getattr(key.group, "_refractory", None)
        check_range(key.name, value, refractory=refractory if isinstance(refractory, str)
                    else None, where=f"{where}: {key.group.name}")


def use_device(name: str, directory=None, threads: int | None = None, build_only: bool = False,
               *, compute_capability: float | None = None, target: str | None = None,
               quiet: bool = False, keep: bool = False, portable: bool = False
               ) -> DeviceSession:
    """Select the Brian2 device for the next network.

    Parameters
    ----------
    name : {'runtime', 'cpp_standalone', 'cuda_standalone'}
        The back end.
    directory : str or Path, optional
        Build directory of a standalone device. ``None`` makes a fresh one
        (under ``$BRIANLAB_BUILD_DIR`` if set), so concurrent runs never share
        files; a given directory is locked while the session is open.
    threads : int, optional
        OpenMP threads of ``cpp_standalone``.
    build_only : bool
        Generate and compile, but do not run.
    compute_capability : float, optional
        GPU architecture for ``cuda_standalone`` (default: the GPU's, or 9.0
        without a GPU).
    target : str, optional
        Code generation target of the runtime device (``'numpy'``,
        ``'cython'``); Brian2's default otherwise.
    quiet : bool
        Do not print the standalone binary's output or the build-only notice.
    keep : bool
        Keep the build directory and its results after the session (by default a
        fresh directory is removed once a run's results were read, and a given one
        keeps its code but not its ``results`` folder).
    portable : bool
        Compile without ``-march=native``, so the binary runs on any CPU of the
        architecture (clusters whose nodes differ); results may differ from a native
        build in the last bits (other instructions, e.g. no fused multiply-add).

    Returns
    -------
    DeviceSession
        Use as a context manager; closing it restores the previous device and
        preferences. Read the monitors inside the session.
    """
    return DeviceSession(name, directory=directory, threads=threads, build_only=build_only,
                         compute_capability=compute_capability, target=target, quiet=quiet,
                         keep=keep, portable=portable)
