"""The pipeline's arguments and running support (tier 1, pure Python, seconds): the grid
syntax and limits, seeds, ``Request``, resuming from a folder, signals and closed pipes."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import zipfile
from types import SimpleNamespace

import numpy as np
import pytest

from brianlab.errors import Terminated
from brianlab.pipeline import execute, grid
from brianlab.pipeline.grid import (MAX_POINTS, MAX_VALUES, check_grid, parse_assignment,
                                    parse_range, parse_seeds, parse_values)
from brianlab.pipeline.request import Request, check_resources
from brianlab.resources import usable_cores
from brianlab.seeds import MAX_HASH_SEED, MAX_SEED

SYNTAX = (f"expected START:STOP:STEP (step > 0) or a comma list of at most {MAX_VALUES} "
          "finite values")


# -- grid values -----------------------------------------------------------------------------
def test_a_range_includes_its_stop_and_keeps_its_unit_as_text():
    values, unit = parse_values("0.01:0.03:0.005 uS")
    assert values == [0.01, 0.015, 0.02, 0.025, 0.03] and unit == "uS"
    assert all(type(v) is float for v in values)
    assert parse_values("0.1:0.3:0.1") == ([0.1, 0.2, 0.3], None)  # (0.30000000000000004)
    assert parse_values("-1:1:0.5 mV") == ([-1.0, -0.5, 0.0, 0.5, 1.0], "mV")


def test_integers_stay_integers():
    assert parse_values("400:1600:400") == ([400, 800, 1200, 1600], None)
    values, _ = parse_values("400,800,1600")
    assert values == [400, 800, 1600] and all(type(v) is int for v in values)
    values, _ = parse_values("400,800.0")
    assert values == [400.0, 800.0] and all(type(v) is float for v in values)


def test_a_list_with_one_unit_for_every_value():
    assert parse_values("5,6.5,10 ms") == ([5.0, 6.5, 10.0], "ms")
    assert parse_values("5, 6.5, 10 ms") == ([5.0, 6.5, 10.0], "ms")
    assert parse_values("0.5") == ([0.5], None)
    assert parse_values("1e-3,2e-3 s") == ([0.001, 0.002], "s")


@pytest.mark.parametrize("values", [
    "0.01:0.03:-1",            # negative step
    "5:6:0",                   # zero step
    "nan:1:1", "1,nan", "1, nan", "1,inf", "1:inf:1",
    ",".join(["1"] * (MAX_VALUES + 1)),   # too many values in a list
    "", ",", "a:b:c", "1:2", "1:2:3:4", "0.03uS", "1 ms, 2 ms", "ms",
])
def test_bad_values_are_refused_with_the_designs_message(values):
    with pytest.raises(ValueError) as info:
        parse_assignment(f"we={values}")
    assert str(info.value) == f"--grid we={values}: {SYNTAX}"


def test_a_range_of_too_many_values_or_none_is_refused():
    with pytest.raises(ValueError) as info:
        parse_values("0:1:0.00001", what="--grid x=0:1:0.00001")
    assert str(info.value) == "--grid x=0:1:0.00001: 100,001 values; one axis has at most 10,000"
    assert len(parse_values(f"1:{MAX_VALUES}:1")[0]) == MAX_VALUES
    with pytest.raises(ValueError, match=r"^5:4:1: no values \(STOP is below START\)$"):
        parse_values("5:4:1")


def test_assignments_name_a_parameter_or_a_structure_path():
    assert parse_assignment("we=0.01:0.03:0.01 uS") == ("we", [0.01, 0.02, 0.03], "uS")
    assert parse_assignment("populations.E.size=400,800") == \
        ("populations.E.size", [400, 800], None)
    for bad in ("we", "=1,2", "w e=1", "1we=1", "we.=1"):
        with pytest.raises(ValueError, match=f"^--grid {bad}: expected NAME=VALUES"):
            parse_assignment(bad)


def test_the_points_limit_and_names_given_once():
    thousand, hundred = list(range(1000)), list(range(100))
    assert check_grid([("a", thousand, None), ("b", hundred, None)], 1) == MAX_POINTS
    with pytest.raises(ValueError) as info:
        check_grid([("a", thousand, None), ("b", hundred, None)], 2)
    assert str(info.value) == ("200,000 points (values x seeds); one sweep has at most "
                               "100,000: split it into several --out folders")
    with pytest.raises(ValueError, match="^we is given twice: give each name once$"):
        check_grid([("we", [1], None), ("wi", [1], None), ("we", [2], None)], 1)
    with pytest.raises(ValueError, match="^5 axes; one sweep has at most 4$"):
        check_grid([(f"x{i}", [1], None) for i in range(5)], 1)
    assert check_grid([], 3) == 3


def test_seeds_forms_and_limits():
    assert parse_seeds("0-3") == [0, 1, 2, 3] and parse_seeds("2,5") == [2, 5]
    assert parse_seeds("7") == [7] and parse_seeds(str(MAX_SEED)) == [MAX_SEED]
    assert len(parse_seeds(f"0-{MAX_VALUES - 1}")) == MAX_VALUES
    refused = {
        "a": "expected FIRST-LAST or a comma list, got 'a'",
        "-1": "expected FIRST-LAST or a comma list, got '-1'",
        f"0-{MAX_VALUES}": f"the seed range '0-{MAX_VALUES}' has more than 10000 seeds",
        "5-3": "the seed range '5-3' is empty, too long or outside 0 ... 4294967295",
        str(MAX_SEED + 1): f"the seed range '{MAX_SEED + 1}' is empty, too long or outside "
                           "0 ... 4294967295",
    }
    for text, message in refused.items():
        with pytest.raises(argparse.ArgumentTypeError) as info:
            parse_seeds(text)
        assert str(info.value) == message
    with pytest.raises(argparse.ArgumentTypeError, match=r"outside 0 \.\.\. 2147483647"):
        parse_seeds(str(MAX_HASH_SEED + 1), MAX_HASH_SEED)


def test_the_cmsa_range_keeps_its_messages():
    assert parse_range("5:6:0.5") == [5.0, 5.5, 6.0]
    assert parse_range("5,10") == [5.0, 10.0] and all(type(v) is float for v in
                                                      parse_range("5,10"))
    messages = {"5:4:1": "the range '5:4:1' is empty",
                "0:1:0.00001": "the range '0:1:0.00001' has more than 10000 values",
                "5,6 ms": "expected START:STOP:STEP or a comma list of at most 10000 finite "
                          "numbers, got '5,6 ms'"}
    for text, message in messages.items():
        with pytest.raises(argparse.ArgumentTypeError) as info:
            parse_range(text)
        assert str(info.value) == message


def test_the_cmsa_command_uses_the_pipelines_one_copy():
    from brianlab.cmsa import __main__ as cli, arguments, commands
    from brianlab.cmsa import execute as cmsa_execute

    assert arguments.parse_range is grid.parse_range
    assert commands.load_done is cmsa_execute.load_done is execute.load_done
    assert cli.check_resources is check_resources
    for old in ("_say", "_progress", "_load_done", "_prefetch", "_SIGNALLED",
                "_check_resources", "_cluster_wanted", "_portable", "MAX_POINTS"):
        assert not hasattr(cli, old), old


# -- the request -----------------------------------------------------------------------------
def _request(**changes):
    given = dict(command="sweep", network="cuba@1", sets=[("populations.E.size", "800")],
                 grid=[("we", "0.01:0.03:0.01 uS"), ("wi", "0.1,0.2 uS")], seeds=[0, 1],
                 device="cpp_standalone", threads=2, out="results/here")
    return Request(**{**given, **changes})


def test_key_arguments_are_stable_json_without_out():
    request = _request()
    expected = {"command": "sweep", "network": "cuba@1",
                "sets": [["populations.E.size", "800"]],
                "grid": [["we", "0.01:0.03:0.01 uS"], ["wi", "0.1,0.2 uS"]],
                "seeds": [0, 1], "device": "cpp_standalone", "threads": 2, "workers": None,
                "scheduler": None, "scheduler_file": None, "portable": False,
                "ship_build": False, "build_only": False, "figures": True}
    assert request.key_arguments() == expected
    assert list(request.key_arguments()) == list(expected)  # field order
    assert json.loads(json.dumps(request.key_arguments())) == expected
    assert _request(out="elsewhere").key_arguments() == expected
    assert _request(out=None).key_arguments() == expected
    assert _request(seeds=(0, 2)).key_arguments() != expected
    assert request.sets == (("populations.E.size", "800"),) and request.seeds == (0, 1)
    hash(request)  # frozen, of tuples
    with pytest.raises(AttributeError):
        request.device = "runtime"
    scheduled = _request(scheduler_file="sched.json").key_arguments()
    assert scheduled["scheduler_file"] == "sched.json"


@pytest.mark.parametrize("changes, message", [
    ({"command": "walk"}, "unknown command 'walk'"),
    ({"device": "gpu"}, "--device gpu: expected one of runtime, cpp_standalone"),
    ({"grid": [("we", "0.01:0.03:-1")]}, f"--grid we=0.01:0.03:-1: {SYNTAX}"),
    ({"grid": [("we", "1,2"), ("we", "3")]}, "--grid we is given twice"),
    ({"sets": [("we", "1 uS")], "grid": [("we", "1,2 uS")]}, "we is given with --set and --grid"),
    ({"seeds": [MAX_SEED + 1]}, "each seed must be an integer in [0, 2**32)"),
    ({"seeds": []}, "no seeds"),
    ({"command": "run"}, "run takes one point"),
    ({"workers": 2, "scheduler": "tcp://x:8786"}, "--workers and --scheduler: give at most one"),
    ({"workers": 0}, "--workers 0: expected a positive integer"),
    ({"workers": 2, "device": "runtime"}, "--workers/--scheduler run cpp_standalone binaries"),
    ({"grid": [(f"x{i}", "1:100:1") for i in range(3)]},
     "2,000,000 points (values x seeds); one sweep has at most 100,000"),
])
def test_a_request_is_checked_when_made(changes, message):
    with pytest.raises(ValueError) as info:
        _request(**changes)
    assert str(info.value).startswith(message)


def test_resources_are_checked_against_this_machines_cores():
    cores = usable_cores()
    check_resources(cores, cores)
    check_resources(None, None)
    with pytest.raises(ValueError, match=f"^--threads {cores + 1}: expected 0 to {cores}, the "
                                         "cores this process may use"):
        check_resources(cores + 1)
    with pytest.raises(ValueError, match=f"^--workers {cores + 1}: a local cluster .* give at "
                                         f"most {cores}"):
        check_resources(None, cores + 1)


def test_cluster_options_and_portable_builds():
    none = SimpleNamespace(threads=None)  # (run's arguments have no cluster options)
    assert not execute.cluster_wanted(none) and not execute.portable(none)
    assert execute.cluster_wanted(_request(workers=2)) and not execute.portable(_request(workers=2))
    assert execute.portable(_request(scheduler="tcp://x:8786"))  # a scheduler implies portable
    assert execute.portable(_request(scheduler_file="s.json"))
    assert execute.portable(_request(portable=True)) and not execute.cluster_wanted(_request())
    with execute.cluster(_request()) as client:
        assert client is None


# -- running: resuming, signals, pipes -------------------------------------------------------
def _point(points, key, record=None, arrays=True):
    (points / f"{key}.json").write_text(json.dumps({"key": key} if record is None else record))
    if arrays:
        np.savez(points / f"{key}.npz", x=np.arange(100, dtype=np.int64))


def test_load_done_names_damaged_points_and_leaves_them_to_be_computed(tmp_path, capsys):
    points = tmp_path / "points"
    points.mkdir()
    _point(points, "good_we0.02")
    _point(points, "truncated_json")
    text = (points / "truncated_json.json").read_text()
    (points / "truncated_json.json").write_text(text[: len(text) // 2])
    _point(points, "a_list", record=[1, 2])
    _point(points, "not_zip")
    (points / "not_zip.npz").write_bytes(b"not a zip archive at all")
    _point(points, "truncated_npz")
    data = (points / "truncated_npz.npz").read_bytes()
    (points / "truncated_npz.npz").write_bytes(data[: len(data) // 2])
    _point(points, "no_npz", arrays=False)
    _point(points, "bad_crc")
    data = bytearray((points / "bad_crc.npz").read_bytes())
    at = bytes(data).index(np.arange(100, dtype=np.int64).tobytes()) + 8 * 50
    data[at] ^= 0xFF
    (points / "bad_crc.npz").write_bytes(bytes(data))

    done = execute.load_done(tmp_path)
    assert done == {"good_we0.02": {"key": "good_we0.02"}}
    err = capsys.readouterr().err
    for name in ("truncated_json.json", "a_list.json", "not_zip.npz", "truncated_npz.npz",
                 "bad_crc.npz"):
        assert f"{points / name}: damaged (" in err, name
    assert "not a JSON object" in err and "member x.npy fails its checksum" in err
    assert err.count("the point is computed again") == 5 and "no_npz" not in err
    # only the arrays' index: a changed byte inside a member is not looked for
    assert set(execute.load_done(tmp_path, check_arrays=False)) == {"good_we0.02", "bad_crc"}
    capsys.readouterr()
    # only the points asked for, in their order; a RunFolder-like object works too
    folder = SimpleNamespace(path=tmp_path)
    assert list(execute.load_done(folder, keys=["missing", "bad_crc", "good_we0.02"],
                                  check_arrays=False)) == ["bad_crc", "good_we0.02"]
    assert execute.load_done(tmp_path / "empty") == {}
    with zipfile.ZipFile(points / "good_we0.02.npz") as archive:
        assert archive.testzip() is None


def test_signals_raise_in_the_block_and_restore_the_previous_handlers():
    def mine(signum, frame):
        raise AssertionError("the previous handler ran inside the block")

    saved = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        signal.signal(signal.SIGTERM, mine)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for signum, kind, code in ((signal.SIGTERM, Terminated, 143),
                                   (signal.SIGINT, KeyboardInterrupt, 130)):
            with pytest.raises(kind) as info:
                with execute.signals():
                    assert signal.getsignal(signum) is execute.on_signal
                    signal.raise_signal(signum)
            assert signal.getsignal(signal.SIGTERM) is mine
            assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
            with pytest.raises(kind):  # (a lost first exception is raised again)
                execute.stop_if_signalled()
            assert execute.interrupted(info.value) == code
        with execute.signals():  # the record is cleared on entry
            execute.stop_if_signalled()
        assert signal.getsignal(signal.SIGTERM) is mine
    finally:
        for s, handler in saved.items():
            signal.signal(s, handler)


def test_interrupted_says_how_to_resume(capsys):
    assert execute.interrupted(Terminated()) == 143
    assert execute.interrupted(KeyboardInterrupt()) == 130
    assert capsys.readouterr().err == 2 * (
        "interrupted: every completed point is saved; run the same command to resume\n")


def test_say_on_a_closed_pipe_goes_on_silently():
    read, write = os.pipe()
    os.close(read)
    with os.fdopen(write, "w") as stream:
        execute.say("first line", file=stream)  # EPIPE: the stream now writes to devnull
        execute.say("and the rest", file=stream)
        assert os.path.samestat(os.fstat(stream.fileno()), os.stat(os.devnull))


def test_progress_without_a_terminal_says_one_line_per_point(capsys):
    tick, close = execute.progress(2, "sweep we")
    tick(0)
    tick(1)
    close()
    err = capsys.readouterr().err.splitlines()
    assert [line.split(" (")[0] for line in err] == ["[sweep we] point 1/2", "[sweep we] point 2/2"]


def test_prefetch_imports_in_the_background_until_one_fails():
    execute.prefetch("tabnanny", "brianlab.no_such_module", "this_is_never_imported_either")
    execute.prefetched()
    assert "tabnanny" in sys.modules and "this_is_never_imported_either" not in sys.modules
    assert execute._PREFETCH == []
