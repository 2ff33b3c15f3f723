"""Run folders: one configuration per folder, writable or refused, nothing computed lost."""

import json
import os

import numpy as np
import pytest

from brianlab.results import ResultsError, RunFolder, config_hash


def test_config_hash_ignores_key_order_and_sees_every_value():
    a = {"params": {"duration": "400. ms", "e_side": 150}, "device": "runtime"}
    b = {"device": "runtime", "params": {"e_side": 150, "duration": "400. ms"}}
    assert config_hash(a) == config_hash(b)
    assert config_hash(a) != config_hash({**a, "device": "cpp_standalone"})


def test_folder_keeps_one_configuration(tmp_path):
    config = {"params": {"duration": "400. ms", "e_side": 150}, "models": ["lif@1"]}
    folder = RunFolder(tmp_path / "r", config)
    assert json.loads((tmp_path / "r" / "configuration.json").read_text())["hash"] == \
        folder.config_hash == config_hash(config)
    folder.save_json("points/a", {"x": 1})
    assert RunFolder(tmp_path / "r", dict(config)).config_hash == folder.config_hash
    other = {"params": {"duration": "200. ms", "e_side": 150}, "models": ["lif@2"]}
    with pytest.raises(ResultsError, match=r"another configuration \(different: models, "
                                           r"params.duration\); use X"):
        RunFolder(tmp_path / "r", other, hint="use X")
    path = folder.write_summary({"command": "t"})
    assert json.loads(path.read_text())["configuration_hash"] == folder.config_hash


def test_a_save_that_fails_goes_to_a_rescue_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("BRIANLAB_CACHE", str(tmp_path / "cache"))
    folder = RunFolder(tmp_path / "r")
    (tmp_path / "r" / "points").write_text("a file where a folder is needed")
    arrays = {"spikes": np.arange(10)}
    with pytest.raises(ResultsError) as info:
        folder.save_arrays("points/p1", **arrays)
    message = str(info.value)
    assert "cannot save points/p1.npz into" in message and "saved to" in message
    rescued = message.rsplit("saved to ", 1)[1].split(" instead")[0]
    assert rescued.startswith(str(tmp_path / "cache" / "rescued"))
    with np.load(rescued) as data:
        np.testing.assert_array_equal(data["spikes"], arrays["spikes"])


def test_unwritable_places_are_refused(tmp_path):
    a_file = tmp_path / "f"
    a_file.write_text("x")
    with pytest.raises(ResultsError, match="is a file"):
        RunFolder(a_file)
    with pytest.raises(ResultsError, match="cannot write results into"):
        RunFolder(a_file / "sub")
    with pytest.raises(ResultsError, match="cannot write results into /proc/x"):
        RunFolder("/proc/x")


def test_a_folder_on_a_file_system_without_locks_is_one_clear_error(tmp_path, monkeypatch):
    """``flock`` fails with ENOLCK on some NFS and FUSE mounts: a ResultsError naming the
    lock file, not an OSError traceback."""
    import errno
    import fcntl

    from brianlab.results import ResultsError, RunFolder

    def no_locks(fd, operation):
        raise OSError(errno.ENOLCK, os.strerror(errno.ENOLCK))

    monkeypatch.setattr(fcntl, "flock", no_locks)
    with pytest.raises(ResultsError, match=r"cannot lock .*\.brianlab-folder\.lock"):
        RunFolder(tmp_path / "out", configuration={"a": 1})


def test_a_failed_atomic_write_leaves_no_file_and_no_open_descriptor(tmp_path, monkeypatch):
    """Whatever fails between creating the temporary file and writing it, the file is
    removed and its descriptor closed."""
    from brianlab import results

    def fail(fd, mode):
        raise PermissionError("no")

    monkeypatch.setattr(os, "fchmod", fail)
    before = len(os.listdir("/proc/self/fd"))
    with pytest.raises(PermissionError):
        results.atomic_write_text(tmp_path / "x.json", "{}")
    assert len(os.listdir("/proc/self/fd")) == before
    assert list(tmp_path.iterdir()) == []


def test_a_damaged_summary_is_an_error_naming_the_file(tmp_path):
    from brianlab.results import read_summary

    (tmp_path / "summary.json").write_text('{"command": "run", "points"')
    with pytest.raises(ResultsError, match=f"cannot read {tmp_path / 'summary.json'}"):
        read_summary(tmp_path)
    (tmp_path / "summary.json").write_text("[1]")
    with pytest.raises(ResultsError, match="is not a JSON object"):
        read_summary(tmp_path)
    with pytest.raises(ResultsError, match="cannot read"):
        read_summary(tmp_path / "missing")
