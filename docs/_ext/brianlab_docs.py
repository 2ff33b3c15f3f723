"""Sphinx extension of brianlab's docs: what is generated before Sphinx reads the sources.

At ``builder-inited`` it writes, only where the content changed (so that Sphinx's
incremental build re-reads only what changed):

- the model catalogue (``catalogue/``) with :func:`brianlab.catalogue.write_catalogue`,
  figures cached by hash in ``_build/.catalogue-cache``;
- the network gallery (``gallery/``) with :func:`brianlab.gallery.write_gallery`, figures
  and tables cached by hash in ``_build/.gallery-cache``;
- the model file format reference (``_generated/format_keys.md``) and the network file
  format reference (``_generated/network_keys.md``);
- copies of ``tutorials/*.py`` in ``tutorials/`` (myst-nb executes them);
- intersphinx inventories for Python, numpy, scipy, matplotlib and Brian2, written from the
  installed packages with each site's URL scheme, because the build has no network.
"""

from __future__ import annotations

import inspect
import time
import zlib
from pathlib import Path

from sphinx.util import logging

from brianlab.catalogue import _write_if_changed

LOG = logging.getLogger(__name__)


# ---------------------------------------------------------------------------
# inventories


def _inventory(project: str, version: str, entries: list[tuple]) -> bytes:
    """objects.inv version 2: a header, then zlib-compressed ``name role prio uri text`` lines
    (``text`` defaults to ``-``: the name itself)."""
    header = (f"# Sphinx inventory version 2\n# Project: {project}\n# Version: {version}\n"
              "# The remainder of this file is compressed using zlib.\n").encode()
    lines = []
    for name, role, uri, *text in sorted(set(entries)):
        priority = "-1" if role.startswith("std:") else "1"
        lines.append(f"{name} {role} {priority} {uri} {text[0] if text else '-'}\n")
    body = "".join(lines)
    return header + zlib.compress(body.encode())


def _public(module):
    for name in dir(module):
        if not name.startswith("_"):
            try:
                yield name, getattr(module, name)
            except Exception:  # lazily failing attributes are not documented objects
                continue


def _role(obj) -> str | None:
    if inspect.isclass(obj):
        return "py:exception" if issubclass(obj, BaseException) else "py:class"
    if callable(obj):
        return "py:function"
    return None


def write_inventories(folder: Path):
    import brian2
    import matplotlib
    import numpy
    import scipy

    out = {}
    entries = []
    for name, obj in _public(brian2):
        module = getattr(obj, "__module__", "") or ""
        if inspect.isclass(obj) and module.startswith("brian2"):
            full = f"{module}.{obj.__name__}"
            uri = f"reference/{full}.html#{full}"
            entries += [(full, _role(obj), uri), (f"brian2.{name}", _role(obj), uri)]
    out["brian2"] = _inventory("Brian2", brian2.__version__, entries)

    entries = []
    for name, obj in _public(numpy):
        role = _role(obj)
        if role and not inspect.ismodule(obj):
            entries.append((f"numpy.{name}", role, f"reference/generated/numpy.{name}.html#$"))
    # numpydoc links "array_like" in parameter types to numpy's glossary
    entries += [("array_like", "std:term", "glossary.html#term-array_like", "array_like")]
    out["numpy"] = _inventory("NumPy", numpy.__version__, entries)

    import importlib

    entries = []
    for sub in ("ndimage", "optimize", "signal", "spatial", "stats", "fft", "integrate",
                "sparse"):
        module = importlib.import_module(f"scipy.{sub}")
        for name, obj in _public(module):
            role = _role(obj)
            if role and not inspect.ismodule(obj):
                full = f"scipy.{sub}.{name}"
                entries.append((full, role, f"reference/generated/{full}.html#$"))
    out["scipy"] = _inventory("SciPy", scipy.__version__, entries)

    entries = [(f"matplotlib.{m}.{c}", "py:class", f"api/_as_gen/matplotlib.{m}.{c}.html#$")
               for m, c in (("axes", "Axes"), ("figure", "Figure"), ("colors", "Colormap"))]
    out["matplotlib"] = _inventory("Matplotlib", matplotlib.__version__, entries)

    entries = [(n, "py:class", f"library/functions.html#{n}")
               for n in ("int", "float", "str", "bool", "complex", "bytes", "object")]
    entries += [(n, "py:class", f"library/stdtypes.html#{n}")
                for n in ("dict", "list", "tuple", "set", "frozenset")]
    import builtins

    entries += [(n, "py:exception", f"library/exceptions.html#{n}") for n, obj in
                vars(builtins).items() if inspect.isclass(obj) and issubclass(obj, BaseException)]
    entries += [("pathlib.Path", "py:class", "library/pathlib.html#pathlib.Path"),
                ("os.PathLike", "py:class", "library/os.html#os.PathLike"),
                ("types.MappingProxyType", "py:class", "library/types.html#types.MappingProxyType"),
                ("collections.abc.Iterable", "py:class",
                 "library/collections.abc.html#collections.abc.Iterable")]
    # numpydoc links "sequence", "iterable", ... to Python's glossary, bool to its section
    entries += [(term, "std:term", f"glossary.html#term-{term}", term)
                for term in ("sequence", "iterable", "mapping", "callable", "iterator")]
    entries += [("bltin-boolean-values", "std:label",
                 "library/stdtypes.html#bltin-boolean-values", "Boolean Values")]
    out["python"] = _inventory("Python", "3", entries)
    for name, data in out.items():
        _write_if_changed(folder / f"{name}.inv", data)


# ---------------------------------------------------------------------------


def generate(app):
    src = Path(app.srcdir)
    root = src.parent
    build = Path(app.confdir) / "_build"
    write_inventories(build / ".inventories")

    from brianlab.modelfile import format_reference

    _write_if_changed(src / "_generated" / "format_keys.md", format_reference())
    from brianlab.networkfile import format_reference as network_reference

    _write_if_changed(src / "_generated" / "network_keys.md", network_reference())

    for script in sorted((root / "tutorials").glob("[0-9]*.py")):
        _write_if_changed(src / "tutorials" / script.name, script.read_bytes())

    from brianlab.catalogue import write_catalogue

    start = time.perf_counter()
    counts = write_catalogue(src / "catalogue", cache_dir=build / ".catalogue-cache",
                             meanings=src / "_data" / "parameter_meanings.toml",
                             test_files=sorted((root / "tests").glob("test_*.py")),
                             progress=LOG.info)
    LOG.info(f"catalogue: {len(counts['pages'])} pages, {counts['computed']} figures computed, "
             f"{counts['cached']} from the cache, {time.perf_counter() - start:.1f} s")

    from brianlab.gallery import write_gallery

    start = time.perf_counter()
    counts = write_gallery(src / "gallery", cache_dir=build / ".gallery-cache",
                           progress=LOG.info)
    LOG.info(f"gallery: {len(counts['pages'])} pages, {counts['computed']} networks run, "
             f"{counts['cached']} from the cache, {time.perf_counter() - start:.1f} s")


def setup(app):
    app.connect("builder-inited", generate, priority=100)  # before intersphinx loads
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
