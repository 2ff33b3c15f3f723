"""Public names that load their modules on first use (PEP 562).

``brianlab`` and ``brianlab.cmsa`` export names whose modules import Brian2; loading them
only when a name is used lets the modules that need no Brian2 (a repeated ``cmsa``
command, :mod:`brianlab.cmsa.cached`) start without it.
"""

from __future__ import annotations

import importlib


def lazy_names(package: str, public: dict, names: list):
    """``__getattr__`` and ``__dir__`` for a package whose names load on first use.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    public : dict
        Public name to ``(submodule, attribute)``; attribute None for the submodule itself.
    names : list of str
        The package's ``__all__``.

    Returns
    -------
    getattr, dir : callable
        For the package's module namespace. Other submodules load by name too
        (``brianlab.modelfile``), as after an eager import.
    """
    namespace = importlib.import_module(package).__dict__

    def __getattr__(name):
        if name in public:
            module, attribute = public[name]
            value = importlib.import_module(f".{module}", package)
            if attribute is not None:
                value = getattr(value, attribute)
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
        return sorted(set(namespace) | set(names))

    return __getattr__, __dir__
