"""Lean cpp_standalone builds: only the arrays a caller reads are written, connection
index arrays are freed once the synapses exist, and the results do not change."""

import os
import re
import subprocess
from pathlib import Path

import pytest
from brian2 import ms

from brianlab import DeviceError, use_device
from brianlab.devices import cxx_compiler_works
from brianlab.sweeps import RUN_TIME_FILE
from brianlab.leanbuild import (cuda_pathway_clock, free_connection_arrays, keep_if_equivalent,
                                precompile_objects_header, sort_clock_resets, sort_cuda_main,
                                write_only)

from test_devices import small_network

# Brian2's own run records, written by every build (a few bytes each).
#: What every binary writes beside the arrays: Brian2's run records and the run time
#: brianlab's device session adds up over the protocol's segments.
RECORDS = {"last_run_info.txt", "random_generator_state", RUN_TIME_FILE}

OBJECTS = """\
void _write_arrays()
{
    using namespace brian;

    ofstream outfile__array_g_v;
    outfile__array_g_v.open(results_dir + "_array_g_v_1", ios::binary | ios::out);
    if(outfile__array_g_v.is_open())
    {
        outfile__array_g_v.write(reinterpret_cast<char*>(_array_g_v), 3*sizeof(_array_g_v[0]));
        outfile__array_g_v.close();
    } else
    {
        std::cout << "Error writing output file for _array_g_v." << endl;
    }
    ofstream outfile__array_s_sources;
    outfile__array_s_sources.open(results_dir + "_array_s_sources_2", ios::binary | ios::out);
    if(outfile__array_s_sources.is_open())
    {
        outfile__array_s_sources.write(reinterpret_cast<char*>(_array_s_sources), 9*4);
        outfile__array_s_sources.close();
    } else
    {
        std::cout << "Error writing output file for _array_s_sources." << endl;
    }
    ofstream outfile_last_run_info;
    outfile_last_run_info.open(results_dir + "last_run_info.txt", ios::out);
}
"""
MAIN = """\
        for(int i=0; i<_num__array_s_sources; i++)
        {
            _array_s_sources[i] = _static_array__array_s_sources[i];
        }
        _run_s_synapses_create_array_codeobject();
        network.run(0.1);
"""


def test_write_only_keeps_the_files_asked_for_and_brian2s_records():
    text, dropped = write_only(OBJECTS, {"_array_g_v_1"})
    assert dropped == {"_array_s_sources"}
    assert "_array_g_v_1" in text and "_array_s_sources_2" not in text
    assert "last_run_info.txt" in text  # not an array: kept
    with pytest.raises(ValueError, match="no file _array_h_3"):
        write_only(OBJECTS, {"_array_h_3"})
    assert write_only("int main() {}\n", {"x"}) == ("int main() {}\n", set())  # not Brian2's


def test_connection_arrays_are_freed_only_when_nothing_else_reads_them():
    text, freed = free_connection_arrays(MAIN, {"_array_s_sources"})
    assert freed == ["_array_s_sources"]
    lines = text.splitlines()
    at = lines.index("        _run_s_synapses_create_array_codeobject();")
    assert lines[at + 1:at + 3] == [
        "        delete [] brian::_array_s_sources; brian::_array_s_sources = 0;",
        "        delete [] brian::_static_array__array_s_sources; "
        "brian::_static_array__array_s_sources = 0;"]
    assert free_connection_arrays(MAIN, set()) == (MAIN, [])  # still written: kept
    used = MAIN + "        x = _array_s_sources[0];\n"
    assert free_connection_arrays(used, {"_array_s_sources"}) == (used, [])
    # read by another code object (a neuron group's drive copied from a static array)
    assert free_connection_arrays(MAIN, {"_array_s_sources"},
                                  elsewhere="I = _ptr = _array_s_sources;") == (MAIN, [])
    # another statement between the copy and the create call: not a connection array
    apart = MAIN.replace("        _run_s", "        _array_g_tau[0] = 0.01;\n        _run_s")
    assert free_connection_arrays(apart, {"_array_s_sources"}) == (apart, [])


def test_a_lean_build_is_refused_where_brian2_would_read_its_results(tmp_path):
    with use_device("cpp_standalone", directory=tmp_path / "full", quiet=True) as dev:
        net, G, spikes = lean_network()
        with pytest.raises(DeviceError, match="build_only"):
            dev.run(net, 10 * ms, write_only=[spikes.variables["t"]])


def lean_network():
    """test_devices' network with its drive as an array set right before the synapses
    are connected: a static array copied in main.cpp like the connection indices, yet
    read by the neurons' code object every step, so it must not be freed (a crash)."""
    return small_network(drive_array=True)


def _build(directory, lean: bool):
    with use_device("cpp_standalone", directory=directory, build_only=True, quiet=True) as dev:
        net, G, spikes = lean_network()
        wanted = [spikes.variables["i"], spikes.variables["t"], G.variables["v"]]
        dev.run(net, 200 * ms, write_only=wanted if lean else None)
        files = [dev.array_file(v)[0] for v in wanted]
        assert dev.describe()["lean"] is lean
    return files


def _run(directory: Path, out: Path) -> set:
    out.mkdir()
    subprocess.run(["./main", "--results_dir", f"{out}/"], cwd=directory, check=True,
                   capture_output=True)
    return {p.name for p in out.iterdir()}


@pytest.mark.slow
@pytest.mark.skipif(not cxx_compiler_works(), reason="needs a C++ compiler")
def test_a_lean_binary_writes_what_is_read_and_its_results_are_the_full_binarys(tmp_path):
    """The same network built in full and lean: the lean binary writes the three arrays
    asked for (plus the run records, RECORDS, and spike queues), frees the two pathways'
    index arrays after creating the synapses (not the drive array copied just before
    them, which the neurons read every step), and its spikes and voltages are
    bit-identical to the full binary's (the same code objects in the same order)."""
    files = _build(tmp_path / "full", lean=False)
    assert _build(tmp_path / "lean", lean=True) == files
    full = _run(tmp_path / "full", tmp_path / "r_full")
    lean = _run(tmp_path / "lean", tmp_path / "r_lean")
    assert set(files) < full and len(full) > 30
    assert lean - {f for f in lean if f.endswith("_queue")} == set(files) | RECORDS
    main = (tmp_path / "lean" / "main.cpp").read_text()
    assert main.count("delete [] brian::_array_") == 4  # sources and targets of 2 pathways
    assert "I_ext" not in "".join(line for line in main.splitlines() if "delete" in line)
    for name in files:
        a = (tmp_path / "r_full" / name).read_bytes()
        assert a and a == (tmp_path / "r_lean" / name).read_bytes()
    # the same lean network built again: nothing changes, nothing is recompiled
    stamps = {p: p.stat().st_mtime_ns for p in (tmp_path / "lean").glob("*.[co]*")}
    _build(tmp_path / "lean", lean=True)
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps


# Brian2's own generated files, cut to what the rewrites read (tests/data/generated/: one
# sample set per Brian2 version, made by generate.py there).
DATA = Path(__file__).parent / "data" / "generated"
VERSIONS = sorted({p.name.split("_")[1] for p in DATA.glob("brian2_*_main.cpp.txt")})
#: text none of the rewrites knows (a comment, a line close to a clock reset)
UNKNOWN = "// not Brian2's\nint x = 0;\n_array_clock_t[1] = 1.0;\nnetwork.add(&clock, f);\n"
RESET = re.compile(r"^\s*_array_(\w+?)_(?:timestep|t)\[0\] = ")
IDLE = re.compile(r"^\s*\w+\.add\(&(\w+), NULL\);")


def sample(version: str, name: str) -> str:
    return (DATA / f"brian2_{version}_{name}.txt").read_text()


def _clock(line: str):
    match = RESET.match(line) or IDLE.match(line)
    return None if match is None else (bool(RESET.match(line)), match.group(1))


def _other_order(text: str) -> str:
    """``text`` with each block of consecutive clock resets (and of idle clocks) in the
    reverse clock order, as another process's set order would give it."""
    lines, out, block = text.splitlines(keepends=True) + [""], [], []
    for line in lines:
        this = _clock(line)
        if this is not None and (not block or _clock(block[-1][-1])[0] == this[0]):
            if block and _clock(block[-1][-1]) == this:
                block[-1].append(line)
            else:
                block.append([line])
            continue
        out.extend(line for group in reversed(block) for line in group)
        block = [[line]] if this is not None else []
        if this is None:
            out.append(line)
    return "".join(out)


def test_the_samples_exist():
    assert "2.10.1" in VERSIONS
    for version in VERSIONS:
        for name in ("main.cpp", "objects.cpp", "makefile"):
            assert len(sample(version, name).splitlines()) < 200


@pytest.mark.parametrize("version", VERSIONS)
def test_write_only_on_brian2s_objects_cpp(version):
    text = sample(version, "objects.cpp")
    blocks = dict(re.findall(r'^[ \t]*outfile_(_\w+)\.open\(results_dir \+ "([^"]+)"', text,
                             re.MULTILINE))
    assert len(blocks) == 8
    keep = {blocks["_dynamic_array_sample_spikes_i"], blocks["_dynamic_array_sample_spikes_t"]}
    lean, dropped = write_only(UNKNOWN + text + UNKNOWN, keep)
    assert dropped == set(blocks) - {"_dynamic_array_sample_spikes_i",
                                     "_dynamic_array_sample_spikes_t"}
    assert lean.startswith(UNKNOWN + text[:text.index("void _write_arrays")])
    assert lean.endswith("}\n" + UNKNOWN)
    for name in blocks:
        assert (f"outfile_{name}.open" in lean) == (name not in dropped)
    # Brian2's run records stay; every line left is one of Brian2's, in its order
    for record in ("spike queue", "random_generator_state", "last_run_info.txt"):
        assert record in lean
    kept = iter((UNKNOWN + text + UNKNOWN).splitlines())
    assert all(line in kept for line in lean.splitlines())
    assert write_only(lean, keep) == (lean, set())
    assert write_only(UNKNOWN, keep) == (UNKNOWN, set())
    with pytest.raises(ValueError, match="writes no file"):
        write_only(text, {"_array_nothing_1"})


@pytest.mark.parametrize("version", VERSIONS)
def test_free_connection_arrays_on_brian2s_main_cpp(version):
    main = sample(version, "main.cpp")
    sources, targets = "_array_sample_EI_sources", "_array_sample_EI_targets"
    # the state monitor's indices are copied too, but no synapses are created after them
    dropped = {sources, targets, "_array_sample_state__indices"}
    text, freed = free_connection_arrays(main, dropped)
    assert freed == [sources, targets]
    create = "        _run_sample_EI_synapses_create_array_codeobject();\n"
    deletes = "".join(f"        delete [] brian::{name}; brian::{name} = 0;\n"
                      for array in freed for name in (array, f"_static_array_{array}"))
    assert text == main.replace(create, create + deletes, 1) and main.count(create) == 1
    assert free_connection_arrays(main, set()) == (main, [])  # written: kept
    assert free_connection_arrays(main, dropped, elsewhere=f"x = {targets}[0];")[1] == [sources]
    assert free_connection_arrays(UNKNOWN, dropped) == (UNKNOWN, [])


@pytest.mark.parametrize("version", VERSIONS)
def test_clock_resets_and_idle_clocks_of_brian2s_main_cpp_are_sorted(version):
    main = UNKNOWN + sample(version, "main.cpp")
    got = sort_clock_resets(main)
    other = _other_order(main)
    assert other != main and got != main  # the sample has blocks out of order
    assert sort_clock_resets(other) == got and sort_clock_resets(got) == got
    assert sorted(got.splitlines()) == sorted(main.splitlines())
    # everything but resets and idle clocks in place; each block sorted by clock name
    lines = got.splitlines()
    assert [x for x in lines if _clock(x) is None] == \
        [x for x in main.splitlines() if _clock(x) is None]
    blocks, previous = [], None
    for line in lines:
        this = _clock(line)
        if this is not None and previous is not None and this[0] == previous[0]:
            blocks[-1].append(this[1])
        elif this is not None:
            blocks.append([this[1]])
        previous = this
    assert all(block == sorted(block) for block in blocks)
    assert any(len(set(block)) > 2 for block in blocks)
    assert sum(line.endswith(", NULL);") for line in lines) == 2  # idle clocks: one block
    # cpp_standalone's main.cpp through the CUDA rewrites: nothing else changes
    assert sort_cuda_main(main) == got
    assert cuda_pathway_clock(main) == main
    objects = sample(version, "objects.cpp")
    assert sort_clock_resets(objects) == objects and sort_clock_resets(UNKNOWN) == UNKNOWN


@pytest.mark.parametrize("version", VERSIONS)
def test_the_makefile_sample_gets_the_precompiled_header(version):
    makefile = sample(version, "makefile")
    patched = precompile_objects_header(makefile)
    assert "objects.h.gch : objects.h" in patched
    assert "%.o : %.cpp makefile objects.h.gch\n\t$(CXX) $(CXXFLAGS) " in patched
    assert "-include objects.h $< -o $@" in patched
    assert "\trm -f $(OBJS) $(PROGRAM) $(DEPS) objects.h.gch" in patched
    assert precompile_objects_header(patched) == patched
    # every other line of Brian2's makefile is still there, in its order
    changed = {"%.o : %.cpp makefile", "\trm $(OBJS) $(PROGRAM) $(DEPS)",
               "\trm -f $(OBJS) $(PROGRAM) $(DEPS)"}
    rest = iter(patched.splitlines())
    assert all(line in rest for line in makefile.splitlines()
               if line not in changed and not line.startswith("\t$(CXX) $(CXXFLAGS) $<"))
    other = makefile.replace("%.o : %.cpp makefile", "%.o : %.cpp")
    assert precompile_objects_header(other) == other
    assert precompile_objects_header(UNKNOWN) == UNKNOWN


@pytest.mark.parametrize("version", VERSIONS)
def test_an_equivalent_main_cpp_keeps_its_time_stamp(version, tmp_path):
    main = sample(version, "main.cpp")
    path = tmp_path / "main.cpp"
    path.write_text(sort_clock_resets(main))
    os.utime(path, ns=(10**18, 10**18))
    previous = (path.read_text(), path.stat())
    path.write_text(_other_order(main))  # Brian2 in another process
    keep_if_equivalent(path, previous, sort_clock_resets)
    assert path.read_text() == previous[0] and path.stat().st_mtime_ns == 10**18
    path.write_text(main.replace("network.run(0.01,", "network.run(0.02,", 1))
    keep_if_equivalent(path, previous, sort_clock_resets)
    assert "network.run(0.02," in path.read_text() and path.stat().st_mtime_ns != 10**18
    keep_if_equivalent(tmp_path / "absent.cpp", previous, sort_clock_resets)
    assert not (tmp_path / "absent.cpp").exists()
