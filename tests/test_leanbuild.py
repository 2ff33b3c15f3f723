"""Lean cpp_standalone builds: only the arrays a caller reads are written, connection
index arrays are freed once the synapses exist, and the results do not change."""

import subprocess
from pathlib import Path

import pytest
from brian2 import ms

from brianlab import DeviceError, use_device
from brianlab.devices import cxx_compiler_works
from brianlab.leanbuild import free_connection_arrays, write_only

from test_devices import small_network

# Brian2's own run records, written by every build (a few bytes each).
RECORDS = {"last_run_info.txt", "random_generator_state"}

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
    asked for (plus Brian2's run records and spike queues), frees the two pathways'
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
