"""Lean ``cpp_standalone`` builds: the binary keeps and writes only what is read.

Brian2's standalone binary writes every array of the network into its results
directory when a run ends (for the default CMSA sheet 390 MB, almost all of it synapse
indices), and keeps the index arrays a ``connect(i=..., j=...)`` call was given in
memory twice (the static array loaded from the build and its copy) until it exits. A
program that runs the binary itself and reads a few monitors (:mod:`brianlab.sweeps`)
needs neither. A lean build changes two generated files before compilation:

- ``objects.cpp``: ``_write_arrays`` writes only the files asked for (plus Brian2's
  small run records: spike queues, random generator state, ``last_run_info.txt``);
- ``main.cpp``: right after each ``synapses_create_array`` code object, the connection
  index arrays it read are freed (their writes were dropped above, so nothing reads
  them again; Brian2's clean-up skips freed arrays).

Nothing else changes: the same code objects run in the same order, so a lean binary's
results are bit-identical to the full binary's (tested). Brian2 itself cannot read a lean
build's results (most of its files are missing), so a lean session does not run through
Brian2 (:class:`brianlab.DeviceSession` refuses it). The transformations check the
structure they expect and leave a file unchanged where it differs (a future Brian2
template): a lean build is then only as lean as Brian2's.
"""

from __future__ import annotations

import re

__all__ = ["write_only", "free_connection_arrays"]

# One array's block in ``_write_arrays`` (Brian2's objects.cpp template): from its
# ``ofstream`` declaration to the closing brace after its error message.
_WRITE_BLOCK = re.compile(
    r'^[ \t]*ofstream outfile_(?P<name>\w+);\n'
    r'[ \t]*outfile_(?P=name)\.open\(results_dir \+ "(?P<file>[^"]+)"'
    r'.*?Error writing output file for (?P=name)\." << endl;\n[ \t]*\}\n',
    re.MULTILINE | re.DOTALL)
_FUNCTION = re.compile(r"^void _write_arrays\(\)\n\{\n(?P<body>.*?)^\}\n",
                       re.MULTILINE | re.DOTALL)
_COPY = re.compile(r"^\s*(_array_\w+)\[i\] = (_static_array_\1)\[i\];\s*$")
_CREATE = re.compile(r"^(\s*)_run_\w+_synapses_create_array_codeobject\(\);\s*$")
# the other lines of a copy loop (and blank ones) between a copy and its create call
_LOOP = re.compile(r"^\s*(for\(int i=0; i<_num_\w+; i\+\+\)|\{|\})?\s*$")


def write_only(objects_cpp: str, files) -> tuple[str, set[str]]:
    """``objects.cpp`` whose ``_write_arrays`` writes only ``files``.

    Parameters
    ----------
    objects_cpp : str
        The generated file.
    files : iterable of str
        Result file names to keep writing (``device.get_array_filename``).

    Returns
    -------
    text : str
        The changed file (unchanged when its structure is not recognised).
    dropped : set of str
        The C++ names of the arrays no longer written.

    Raises
    ------
    ValueError
        If a file asked for is not written by this build at all.
    """
    files = set(files)
    function = _FUNCTION.search(objects_cpp)
    if function is None:
        return objects_cpp, set()
    body = function.group("body")
    blocks = list(_WRITE_BLOCK.finditer(body))
    missing = files - {b.group("file") for b in blocks}
    if missing:
        raise ValueError(f"this build writes no file {', '.join(sorted(missing))}")
    dropped = {b.group("name") for b in blocks if b.group("file") not in files}
    kept = _WRITE_BLOCK.sub(lambda b: b.group(0) if b.group("file") in files else "", body)
    start, end = function.span("body")
    return objects_cpp[:start] + kept + objects_cpp[end:], dropped


def free_connection_arrays(main_cpp: str, dropped: set[str],
                           elsewhere: str = "") -> tuple[str, list[str]]:
    """``main.cpp`` that frees each connection index array once its synapses exist.

    Only arrays copied from a static array immediately before a ``synapses_create_array``
    code object (nothing but copy loops in between), whose writes were ``dropped``, which
    nothing else in ``main.cpp`` uses and which do not occur in ``elsewhere`` (the other
    code objects' sources), are freed (the array and its static source).

    Parameters
    ----------
    main_cpp : str
        The generated file.
    dropped : set of str
        Arrays :func:`write_only` no longer writes.
    elsewhere : str
        The text of every code object other than the ``synapses_create_array`` ones.

    Returns
    -------
    text : str
    freed : list of str
        The arrays freed (without their static sources).
    """
    lines = main_cpp.splitlines(keepends=True)
    out, pending, freed = [], [], []
    for line in lines:
        out.append(line)
        copy = _COPY.match(line)
        if copy:
            pending.append((copy.group(1), copy.group(2)))
            continue
        if _LOOP.match(line):
            continue
        create = _CREATE.match(line)
        if create and pending:
            indent = create.group(1)
            for array, static in pending:
                uses = len(re.findall(rf"\b{array}\b", main_cpp))
                if array not in dropped or uses != 1 or re.search(rf"\b{array}\b", elsewhere):
                    continue  # written, or read by anything but its copy loop and create
                for name in (array, static):
                    out.append(f"{indent}delete [] brian::{name}; brian::{name} = 0;\n")
                freed.append(array)
        pending = []
    return "".join(out), freed
