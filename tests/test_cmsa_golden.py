"""benchmarks/cmsa_golden.py: two results folders compared point by point."""

import json

import numpy as np

from benchmarks import cmsa_golden


def _folder(path, spikes, record):
    (path / "points").mkdir(parents=True)
    np.savez(path / "points" / "p1.npz", e_i=np.array(spikes, dtype=np.int32))
    (path / "points" / "p1.json").write_text(json.dumps(record))
    return path


def test_equal_folders_differing_only_in_run_details(tmp_path, capsys):
    old = _folder(tmp_path / "old", [1, 2], {"phi": {"phi": 0.5}, "timings": {"run_s": 1}})
    new = _folder(tmp_path / "new", [1, 2], {"phi": {"phi": 0.5}, "timings": {"run_s": 2},
                                             "statistics": {}})
    assert cmsa_golden.compare(old, new) == ([], ["statistics"])
    assert cmsa_golden.main([str(old), str(new)]) == 0
    assert "1 points: equal; new record fields: statistics" in capsys.readouterr().out


def test_a_changed_spike_or_number_is_a_difference(tmp_path):
    old = _folder(tmp_path / "old", [1, 2], {"phi": {"phi": 0.5}})
    spike = _folder(tmp_path / "spike", [1, 3], {"phi": {"phi": 0.5}})
    phi = _folder(tmp_path / "phi", [1, 2], {"phi": {"phi": 0.5000001}})
    assert cmsa_golden.compare(old, spike)[0] == ["p1.npz: e_i differs"]
    assert cmsa_golden.compare(old, phi)[0] == ["p1.json: phi differs"]
    assert cmsa_golden.main([str(old), str(phi)]) == 1
    (tmp_path / "empty" / "points").mkdir(parents=True)
    assert cmsa_golden.compare(old, tmp_path / "empty")[0][0].startswith("point keys differ")
