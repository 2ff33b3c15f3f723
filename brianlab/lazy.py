"""Public names that load their modules on first use (PEP 562).

``brianlab`` and ``brianlab.cmsa`` export names whose modules import Brian2; loading them
only when a name is used lets the modules that need no Brian2 (a repeated ``cmsa``
command, :mod:`brianlab.cmsa.cached`) start without it.
"""

from __future__ import annotations

import importlib


def lazy_names(namespace: dict, public: dict):
    """``__getattr__`` and ``__dir__`` for a package whose names load on first use.

    Parameters
    ----------
    namespace : dict
        The package's ``globals()`` (with ``__name__`` and ``__all__``).
    public : dict
        Public name to the submodule that defines it under the same name. Submodules
        themselves load by name (``brianlab.modelfile``), as after an eager import.

    Returns
    -------
    getattr, dir : callable
        For the package's module namespace.
    """
    package = namespace["__name__"]

    def __getattr__(name):
        if name in public:
            value = getattr(importlib.import_module(f".{public[name]}", package), name)
        else:
            try:
                value = None if name.startswith("_") else \
                    importlib.import_module(f".{name}", package)
            except ModuleNotFoundError as exc:
                if exc.name != f"{package}.{name}":
                    raise
                value = None
            if value is None:
                raise AttributeError(f"module {package!r} has no attribute {name!r}")
        namespace[name] = value
        return value

    def __dir__():
        return sorted(set(namespace) | set(namespace["__all__"]))

    return __getattr__, __dir__
