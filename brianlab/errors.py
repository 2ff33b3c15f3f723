"""Every exception class of brianlab, importable without Brian2.

The modules that raise them re-export them under their old names
(``from brianlab.units import ModelError`` and ``brianlab.devices.DeviceError`` keep
working, and are the same classes), so a tier-1 module (one that never imports Brian2,
see ``docs/architecture.md``) can catch or raise any of them without importing the module
that usually raises it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .devices import DeviceSession

__all__ = ["ModelError", "DeviceError", "DirectoryInUse", "CacheError", "ResultsError",
           "SweepError", "NotRunError", "PlanError", "Terminated"]


class ModelError(ValueError):
    """A model file, model name or model parameter is invalid.

    The message names the file (when there is one), the key or equation at
    fault, and what was expected.

    Parameters
    ----------
    message : str
        What is wrong and what was expected.
    path : str or Path, optional
        The model file.
    where : str, optional
        The key or equation at fault.
    """

    def __init__(self, message: str, *, path=None, where: str | None = None):
        self.path = None if path is None else str(path)
        self.where = where
        self.reason = message
        prefix = ""
        if self.path:
            prefix += f"{self.path}: "
        if where:
            prefix += f"{where}: "
        super().__init__(prefix + message)


class DeviceError(RuntimeError):
    """A device cannot be set up or used (missing compiler, GPU, package, ...)."""


class DirectoryInUse(DeviceError):
    """The requested build directory is locked by another run."""


class CacheError(ValueError):
    """``$BRIANLAB_CACHE`` cannot be a cache folder (a file, or a path that cannot exist)."""


class ResultsError(ValueError):
    """A results folder cannot be used (not writable, another configuration, save failed)."""


class SweepError(RuntimeError):
    """A point of a sweep failed (the binary, its results or the reduction)."""


class NotRunError(RuntimeError):
    """The network was built but could not be run here (build-only, or CUDA without a GPU).

    Parameters
    ----------
    session : DeviceSession
        The session that built it (its ``directory`` holds the build).
    """

    def __init__(self, session: DeviceSession):
        self.session = session
        why = "--build-only was given" if session.build_only else "no GPU is available here"
        super().__init__(f"{session.name}: built in {session.directory} but not run ({why})")


class PlanError(ValueError):
    """A saved plan is damaged, edited or not this command's (the command plans again)."""


class Terminated(Exception):
    """SIGTERM arrived (raised in the main thread by the handler ``brianlab.cmsa`` installs)."""
