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

The other rewrites of Brian2's generated files live here too (text in, text out; the
device session applies them, :class:`brianlab.DeviceSession`): ``main.cpp``'s clock resets
and idle clocks sorted (:func:`sort_clock_resets`), ``objects.h`` precompiled by the
makefile (:func:`precompile_objects_header`), brian2cuda's ``main.cu`` sorted
(:func:`sort_cuda_main`) and its pathways' delay check on their own clock
(:func:`cuda_pathway_clock`); :func:`keep_if_equivalent` writes a rewritten file so that
an unchanged one keeps its time stamp.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

__all__ = ["write_only", "free_connection_arrays", "sort_clock_resets",
           "precompile_objects_header", "sort_cuda_main", "cuda_pathway_clock",
           "keep_if_equivalent"]

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


_CLOCK_RESET = re.compile(r"^\s*_array_(\w+?)_(timestep|t)\[0\] = [^;]+;\s*$")
#: A clock that only advances in a run (no code object of its own in that run).
_IDLE_CLOCK = re.compile(r"^\s*(\w+)\.add\(&(\w+), NULL\);\s*$")


def sort_clock_resets(text: str) -> str:
    """``main.cpp`` with each block of consecutive clock resets, and each block of
    consecutive idle clocks of a run, sorted by clock name.

    Brian2 writes both in the iteration order of a Python set of clock objects, which
    changes from process to process: the resets of a run (``_array_<clock>_t[0] = ...``)
    and the clocks of a run that have no code object in it (``network.add(&<clock>,
    NULL)``: a drive clock after the drive ended). Both are independent of their order
    (the resets are separate assignments; brianlib's ``Network`` keeps its clocks in a
    ``std::set`` and skips the null functions), so sorting them changes nothing but makes
    the file the same for the same network.

    Parameters
    ----------
    text : str
        Brian2's ``main.cpp``.

    Returns
    -------
    str
        The file with those blocks sorted; every other line unchanged.
    """
    lines = text.splitlines(keepends=True)
    out, block, kind = [], [], None
    for line in lines + [""]:
        reset, idle = _CLOCK_RESET.match(line), _IDLE_CLOCK.match(line)
        match = reset or idle
        this = None if match is None else ("reset" if reset else ("idle", idle.group(1)))
        if match and (this == kind or not block):
            block.append((match.group(1) if reset else match.group(2), line))
            kind = this
            continue
        out.extend(line for _, line in sorted(block, key=lambda item: item[0]))
        block, kind = ([(match.group(1) if reset else match.group(2), line)], this) if match \
            else ([], None)
        if not match:
            out.append(line)
    return "".join(out)


#: Brian2's makefile rule for an object file (the cpp_standalone template): brian2 2.10
#: lists the headers in ``$(H_SRCS)`` and one ``make.deps``; 2.11 writes a ``.d`` file per
#: object (``-MMD``, the ``deps`` group) and has no ``$(H_SRCS)``.
_OBJECT_RULE = re.compile(r"^%\.o : %\.cpp makefile\n\t\$\(CXX\) \$\(CXXFLAGS\) "
                          r"(?P<deps>-MMD -MP -MF \$\(@:\.o=\.d\) -MT \$@ )?\$< -o \$@$",
                          re.MULTILINE)
#: its clean-up (``rm`` in 2.10, ``rm -f`` in 2.11)
_CLEAN_RULE = re.compile(r"^\trm (?:-f )?\$\(OBJS\) \$\(PROGRAM\) \$\(DEPS\)$", re.MULTILINE)


def precompile_objects_header(text: str) -> str:
    """The cpp_standalone makefile with ``objects.h`` precompiled once per build.

    Every generated file includes ``objects.h`` (the C++ standard library, Brian2's
    arrays and classes); parsing it took 0.4 s of each code object's 0.45 s of
    compilation (g++ -O3, measured on the default CMSA sheet's 44 code objects). Now
    ``objects.h.gch`` is built first (from every header and the makefile, so it is never
    stale: brian2 2.10 lists the headers, 2.11's form records them in ``objects.h.d``
    like its own dependency files) and each file is compiled with ``-include objects.h``,
    which loads it (the later ``#include "objects.h"`` is then empty: its include guard).
    Every code object compiles to the same machine code (objdump of the default sheet's
    binary: only ``main()`` differs, in register choice and the order of independent
    instructions); a compiler that cannot use the file parses the header as before. A
    makefile of another form is left unchanged.

    Parameters
    ----------
    text : str
        Brian2's makefile.

    Returns
    -------
    str
    """
    rule, clean = _OBJECT_RULE.search(text), _CLEAN_RULE.search(text)
    if rule is None or clean is None or "objects.h.gch" in text:
        return text
    deps = rule.group("deps") or ""
    if deps:  # brian2 >= 2.11: the header's own dependency file, remade if it is missing
        header = ("objects.h.gch : objects.h makefile "
                  "$(if $(wildcard objects.h.d),,missing-deps)\n"
                  "\t$(CXX) $(CXXFLAGS) -MMD -MP -MF objects.h.d -MT objects.h.gch "
                  "-x c++-header objects.h -o objects.h.gch\n\n-include objects.h.d\n\n")
    else:
        header = ("objects.h.gch : objects.h $(H_SRCS) makefile\n"
                  "\t$(CXX) $(CXXFLAGS) -x c++-header objects.h -o objects.h.gch\n\n")
    text = (text[:rule.start()] + header + "%.o : %.cpp makefile objects.h.gch\n"
            f"\t$(CXX) $(CXXFLAGS) {deps}-include objects.h $< -o $@" + text[rule.end():])
    removed = " objects.h.gch objects.h.d" if deps else " objects.h.gch"
    return _CLEAN_RULE.sub(lambda _: "\trm -f $(OBJS) $(PROGRAM) $(DEPS)" + removed, text, count=1)


_RANDOM_BUFFER_ADD = re.compile(r"^\s*\w+\.add\(&(\w+), _run_random_number_buffer\);\s*$")


def sort_cuda_main(text: str) -> str:
    """brian2cuda's ``main.cu`` with its clock resets and each block of consecutive
    ``network.add(&clock, _run_random_number_buffer)`` lines sorted by clock name.

    Both come from a Python set of clocks, whose order changes from build to build, so
    a cached build recompiled ``main.cu`` (and relinked) about every other time. Each of
    those lines adds the same function, called once for each of the clocks that tick in
    a step: the order among them changes nothing the binary does.

    Parameters
    ----------
    text : str
        brian2cuda's ``main.cu``.

    Returns
    -------
    str
        The file with those blocks sorted (and its clock resets, as
        :func:`sort_clock_resets`); every other line unchanged.
    """
    out, block = [], []
    for line in sort_clock_resets(text).splitlines(keepends=True) + [""]:
        match = _RANDOM_BUFFER_ADD.match(line)
        if match:
            block.append((match.group(1), line))
            continue
        out.extend(line for _, line in sorted(block, key=lambda item: item[0]))
        block = []
        out.append(line)
    return "".join(out)


#: brian2cuda's ``synapses.cu`` (1.0b1): with a homogeneous delay, the pathway counts its
#: spiking neurons only once Brian2's ``defaultclock`` has passed the delay.
_CUDA_DELAY_CHECK = re.compile(
    r"^(?P<head>[ \t]*if \((?P<pathway>\w+)_scalar_delay\)\n[ \t]*\{\n[ \t]*if \()"
    r"defaultclock(?P<tail>\.timestep\[0\] >= (?P=pathway)_delay\)\n)", re.MULTILINE)
#: The same template's kernel call, given the time step of the pathway's own clock.
_CUDA_KERNEL_CLOCK = re.compile(
    r"^[ \t]*_run_kernel_\w+<<<num_blocks, num_threads>>>\(\n[ \t]*_N,\n"
    r"[ \t]*bid_offset,\n[ \t]*(?P<clock>\w+)\.timestep\[0\],\n", re.MULTILINE)


def cuda_pathway_clock(text: str) -> str:
    """A brian2cuda synaptic pathway's code with its delay checked on its own clock.

    brian2cuda's ``synapses.cu`` template compares ``defaultclock.timestep[0]`` with the
    pathway's homogeneous delay (in steps of the pathway's clock), where every other
    line uses the pathway's clock. In a network on clocks of its own (the CMSA sheet)
    Brian2's ``defaultclock`` is not declared, and ``nvcc`` stops ("identifier
    defaultclock is undefined"); in a network where it is declared but the pathway runs
    on another clock, the check counts the wrong steps. The clock is the one the same
    file gives its kernel (``{{owner.clock.name}}``); a file of another form (no such
    check, not exactly one kernel clock) is returned unchanged.

    Parameters
    ----------
    text : str
        A generated ``code_objects/*.cu`` file.

    Returns
    -------
    str
    """
    if not _CUDA_DELAY_CHECK.search(text):
        return text
    clocks = {m.group("clock") for m in _CUDA_KERNEL_CLOCK.finditer(text)}
    if len(clocks) != 1:
        return text
    clock = clocks.pop()
    return _CUDA_DELAY_CHECK.sub(lambda m: f"{m.group('head')}{clock}{m.group('tail')}", text)


def keep_if_equivalent(path: Path, previous, transform) -> None:
    """Give a generated file its final content (``transform`` of Brian2's); if that
    equals the last build's, keep that file's time stamp so ``make`` does not recompile
    it (cached builds in seconds).

    Parameters
    ----------
    path : Path
        The generated file (nothing happens if it does not exist).
    previous : tuple of (str, os.stat_result) or None
        The file's text and ``stat`` after the last build, if there was one.
    transform : callable
        ``str -> str``, the rewrite (one of this module's).
    """
    if not path.is_file():
        return
    current = path.read_text()
    text = transform(current)
    if text != current:
        path.write_text(text)
    if previous is not None and text == previous[0]:
        os.utime(path, ns=(previous[1].st_atime_ns, previous[1].st_mtime_ns))
