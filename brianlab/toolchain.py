"""Toolchain facts: which devices exist, which compilers and GPUs this machine has.

Importable without Brian2 (a tier-1 module, see ``docs/architecture.md``): a command
chooses its default device and checks its arguments before it knows whether it needs
Brian2 at all. :mod:`brianlab.devices` uses these facts to set Brian2 up and re-exports
the public names.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import shutil
import subprocess
from importlib.metadata import PackageNotFoundError, distributions
from importlib.metadata import version as package_version
from pathlib import Path

from .errors import DeviceError

__all__ = ["DEVICES", "STANDALONE", "NATIVE_FLAGS", "DEFAULT_COMPUTE_CAPABILITY", "find_nvcc",
           "gpu_available", "cxx_compiler_works", "compiler_identity", "cuda_identity",
           "default_device"]

#: The back ends :func:`~brianlab.devices.use_device` offers.
DEVICES = ("runtime", "cpp_standalone", "cuda_standalone")
#: Those that compile a binary (a build the pipeline caches and runs per point).
STANDALONE = ("cpp_standalone", "cuda_standalone")
#: Compiler flags that tie a binary to the build machine's CPU (left out of portable builds).
NATIVE_FLAGS = ("-march=native", "-mtune=native", "-mcpu=native")
#: Compute capability compiled for when no GPU is present (Hopper: H100/H200).
DEFAULT_COMPUTE_CAPABILITY = 9.0


def find_nvcc() -> str | None:
    """Path of the CUDA compiler: ``$CUDA_PATH/bin``, ``PATH``, then ``/usr/local/cuda/bin``.

    Returns
    -------
    str or None
        None if there is none.
    """
    candidates = []
    if os.environ.get("CUDA_PATH"):
        candidates.append(Path(os.environ["CUDA_PATH"]) / "bin" / "nvcc")
    which = shutil.which("nvcc")
    if which:
        candidates.append(Path(which))
    candidates.append(Path("/usr/local/cuda/bin/nvcc"))
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK):
            return str(path.resolve())
    return None


def gpu_available() -> tuple[bool, float | None]:
    """Whether ``nvidia-smi`` sees a GPU (and ``CUDA_VISIBLE_DEVICES`` does not hide every
    one), and its compute capability.

    Returns
    -------
    available : bool
    capability : float or None
        E.g. 9.0; None without a GPU.
    """
    if os.environ.get("CUDA_VISIBLE_DEVICES", "unset").strip() in ("", "-1"):
        return False, None  # (the CUDA runtime would see none)
    smi = shutil.which("nvidia-smi")
    if not smi:
        return False, None
    try:
        out = subprocess.run([smi, "--query-gpu=compute_cap", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False, None
    lines = [line.strip() for line in out.stdout.splitlines() if line.strip()]
    if out.returncode != 0 or not lines:
        return False, None
    try:
        return True, float(lines[0])
    except ValueError:
        return True, None


def cxx_compiler_works() -> bool:
    """Whether a C++ compiler for the standalone devices is on ``PATH``.

    Returns
    -------
    bool
    """
    return any(shutil.which(c) for c in ("c++", "g++", "clang++"))


@functools.lru_cache(maxsize=None)
def compiler_identity() -> str | None:
    """The C++ compiler a standalone build uses: its path and the first line of its
    ``--version`` (a build key part: another compiler builds again). Computed once per
    process.

    Returns
    -------
    str or None
        ``"<path>: <first line>"`` of ``$CXX`` (or the first of ``c++``, ``g++``,
        ``clang++`` on ``PATH``); None without a compiler.
    """
    names = [os.environ["CXX"]] if os.environ.get("CXX") else ["c++", "g++", "clang++"]
    for name in names:
        path = shutil.which(name)
        if not path:
            continue
        try:
            out = subprocess.run([path, "--version"], capture_output=True, text=True,
                                 timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            return f"{path}: (no --version)"
        lines = out.stdout.strip().splitlines()
        return f"{path}: {lines[0].strip() if lines else '(no --version)'}"
    return None


@functools.lru_cache(maxsize=None)
def cuda_identity() -> dict:
    """What a ``cuda_standalone`` build depends on beyond a C++ one (build key parts):
    the CUDA compiler and the compute capability compiled for. Computed once per process.

    Returns
    -------
    dict
        ``nvcc`` (``"<path>: <last line of --version>"``, None without one),
        ``compute_capability`` (this machine's GPU's, else
        :data:`DEFAULT_COMPUTE_CAPABILITY`: what :class:`brianlab.DeviceSession` compiles
        for), ``brian2cuda`` (its version, None when not installed) and ``curand`` (the
        ``libcurand.so`` file of the ``nvidia-curand`` wheel that the binary finds by its
        path, resolved, and the wheel's version, when the toolkit has no cuRAND of its
        own; else None).
    """
    nvcc = find_nvcc()
    version = None
    if nvcc is not None:
        try:
            out = subprocess.run([nvcc, "--version"], capture_output=True, text=True,
                                 timeout=30)
            lines = out.stdout.strip().splitlines()
            version = f"{nvcc}: {lines[-1].strip() if lines else '(no --version)'}"
        except (OSError, subprocess.TimeoutExpired):
            version = f"{nvcc}: (no --version)"
    try:
        brian2cuda = package_version("brian2cuda")
    except PackageNotFoundError:
        brian2cuda = None
    _, capability = gpu_available()
    curand = None
    if nvcc is not None:
        try:
            paths = _curand_paths(Path(nvcc).parent.parent)
        except DeviceError:  # (a build says why)
            paths = None
        if paths is not None:
            libraries = sorted(paths[1].glob("libcurand.so*"))
            wheels = sorted(f"{d.metadata['Name']} {d.version}" for d in distributions()
                            if (d.metadata["Name"] or "").lower().startswith("nvidia-curand"))
            curand = ", ".join([str(libraries[-1].resolve()) if libraries else "", *wheels])
    return {"nvcc": version, "compute_capability": capability or DEFAULT_COMPUTE_CAPABILITY,
            "brian2cuda": brian2cuda, "curand": curand}


def _curand_paths(cuda_home: Path) -> tuple[Path, Path] | None:
    """(include, lib) of cuRAND when the toolkit lacks it: from the nvidia-curand wheel."""
    if (cuda_home / "include" / "curand.h").is_file():
        return None
    spec = importlib.util.find_spec("nvidia")
    roots = list(spec.submodule_search_locations) if spec and spec.submodule_search_locations \
        else []
    for root in roots:
        for header in sorted(Path(root).glob("*/include/curand.h")) + \
                sorted(Path(root).glob("curand/include/curand.h")):
            lib = header.parent.parent / "lib"
            if any(lib.glob("libcurand.so*")):
                return header.parent, lib
    raise DeviceError("the CUDA toolkit has no cuRAND and the nvidia-curand wheel is not "
                      "installed: pip install 'brianlab[cuda]'")


def default_device() -> str:
    """The device a command uses when none is given.

    Returns
    -------
    str
        ``"cpp_standalone"`` when a C++ compiler is on ``PATH``
        (:func:`cxx_compiler_works`), else ``"runtime"``.
    """
    return "cpp_standalone" if cxx_compiler_works() else "runtime"
