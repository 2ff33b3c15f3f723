"""Sphinx configuration of brianlab's documentation site.

Build: ``uv run --locked --extra docs sphinx-build -W --keep-going docs docs/_build/html``.

Generated at build time (never committed): the model catalogue (``catalogue/``, from the
model files by :func:`brianlab.catalogue.write_catalogue`, figures cached by hash in
``_build/.catalogue-cache``), the network gallery (``gallery/``, by
:func:`brianlab.gallery.write_gallery`, cached in ``_build/.gallery-cache``), the format
reference (``_generated/``), copies of the
tutorials (``tutorials/*.py``, executed by myst-nb in quick mode, cached by jupyter-cache
in ``_build/.jupyter_cache``), the API stubs (``api/``) and the intersphinx inventories
(``_build/.inventories``). The build needs no network.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BUILD = HERE / "_build"
sys.path.insert(0, str(HERE / "_ext"))

import brianlab  # noqa: E402

project = "brianlab"
author = "brianlab developers"
copyright = "2026, brianlab developers"
version = release = brianlab.__version__

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx-mathjax-offline",  # MathJax 3 served from the site itself: math offline
    "brianlab_docs",  # docs/_ext: catalogue, tutorials, inventories at builder-inited
]

exclude_patterns = ["_build", "**.ipynb_checkpoints", "_data", "_ext", "_generated", "conf.py",
                    "figures/README.md"]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb"}  # rst first: autosummary stubs
html_theme = "furo"
html_title = f"brianlab {release}"
html_static_path = ["_static"]
html_js_files = ["catalogue.js"]
html_css_files = ["brianlab.css"]
suppress_warnings = ["mystnb.unknown_mime_type"]

# MyST and notebooks
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
nb_custom_formats = {".py": ["jupytext.reads", {"fmt": "py:percent"}]}
nb_execution_mode = "cache"
nb_execution_cache_path = str(BUILD / ".jupyter_cache")
nb_execution_timeout = 900
nb_execution_raise_on_error = True  # a tutorial that fails fails the build
nb_execution_show_tb = True
nb_merge_streams = True

# API reference: autosummary stubs, numpydoc docstrings. Autosummary never deletes a stub:
# one of a module that was removed (or renamed) would fail the build in an existing
# checkout, so such stubs go first (a fresh clone has none).
def _module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # (its package is gone too)
        return False


for _stub in (HERE / "api").glob("brianlab*.rst"):
    if not _module_exists(_stub.stem):
        _stub.unlink()
autosummary_generate = True
autosummary_imported_members = False
# members defined in each module only: names re-exported through __all__ (brianlab's
# public face, the exception classes of brianlab.errors) are documented once, where they
# are defined
autodoc_default_options = {"members": True, "show-inheritance": True,
                           "ignore-module-all": True}
autodoc_typehints = "none"  # numpydoc's Parameters sections say the types
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = True
numpydoc_xref_ignore = {"optional", "default", "of", "or", "to", "and", "path", "callable",
                        "iterable", "sequence", "array-like", "mapping", "Quantity-like"}
numpydoc_xref_aliases = {
    "Quantity": "brian2.units.fundamentalunits.Quantity",
    "NeuronGroup": "brian2.groups.neurongroup.NeuronGroup",
    "Synapses": "brian2.synapses.synapses.Synapses",
    "Network": "brian2.core.network.Network",
    "SpikeMonitor": "brian2.monitors.spikemonitor.SpikeMonitor",
    "StateMonitor": "brian2.monitors.statemonitor.StateMonitor",
    "Equations": "brian2.equations.equations.Equations",
    "ndarray": "numpy.ndarray",
    "Axes": "matplotlib.axes.Axes",
    "Figure": "matplotlib.figure.Figure",
    "Path": "pathlib.Path",
    "Model": "brianlab.modelfile.Model",
    "DeviceSession": "brianlab.devices.DeviceSession",
    # the exception classes, defined in brianlab.errors, named bare in Raises sections
    **{name: f"brianlab.errors.{name}" for name in (
        "ModelError", "DeviceError", "DirectoryInUse", "CacheError", "ResultsError",
        "SweepError", "NotRunError", "PlanError", "Terminated")},
}

# intersphinx from inventories written offline by docs/_ext/brianlab_docs.py (no network)
INVENTORIES = BUILD / ".inventories"
intersphinx_mapping = {
    name: (url, (str(INVENTORIES / f"{name}.inv"),))
    for name, url in {
        "python": "https://docs.python.org/3/",
        "numpy": "https://numpy.org/doc/stable/",
        "scipy": "https://docs.scipy.org/doc/scipy/",
        "matplotlib": "https://matplotlib.org/stable/",
        "brian2": "https://brian2.readthedocs.io/en/stable/",
    }.items()
}

# the tutorials run in quick mode, with inline figures, writing into the build folder
os.environ["BRIANLAB_QUICK"] = "1"
os.environ["BRIANLAB_OUT"] = str(BUILD / "tutorials_out")
os.environ.pop("MPLBACKEND", None)  # Agg would leave the notebooks without figures
BUILD.mkdir(exist_ok=True)
