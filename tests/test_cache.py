"""The on-disk cache: arrays computed once, recomputed when damaged or when the key changes."""

import numpy as np

from brianlab import cache, space


def test_cached_arrays_computes_once_per_key(tmp_path, monkeypatch):
    monkeypatch.setenv("BRIANLAB_CACHE", str(tmp_path))
    calls = []

    def compute(value):
        def run():
            calls.append(value)
            return {"a": np.arange(5) * value, "b": np.array([value], dtype=np.int32)}
        return run

    first = cache.cached_arrays("test", ("x", 2), compute(2))
    again = cache.cached_arrays("test", ("x", 2), compute(99))  # same key: not computed
    other = cache.cached_arrays("test", ("x", 3), compute(3))
    assert calls == [2, 3]
    np.testing.assert_array_equal(again["a"], [0, 2, 4, 6, 8])
    assert again["b"].dtype == np.int32 and first["b"][0] == 2 and other["b"][0] == 3
    # a damaged entry is recomputed (and replaced)
    (entry,) = [p for p in (tmp_path / "arrays").iterdir() if p.stat().st_size and
                np.load(p)["b"][0] == 2]
    entry.write_bytes(b"not an npz file")
    repaired = cache.cached_arrays("test", ("x", 2), compute(2))
    assert calls == [2, 3, 2] and repaired["b"][0] == 2
    assert not list((tmp_path / "arrays").glob("*.tmp"))


def test_cache_locations_and_source_hash(tmp_path, monkeypatch):
    monkeypatch.setenv("BRIANLAB_CACHE", str(tmp_path))
    assert cache.cache_directory("cmsa cpp/1") == tmp_path / "cmsa_cpp_1"
    monkeypatch.delenv("BRIANLAB_CACHE")
    assert cache.cache_root().parts[-2:] == (".cache", "brianlab")
    digest = cache.source_hash(space)
    assert len(digest) == 64 and digest == cache.source_hash(space)
    assert digest != cache.source_hash(cache)


def test_a_truncated_npz_is_recomputed(tmp_path, monkeypatch):
    """A zip cut short (a full disk, a killed writer) raised BadZipFile instead of healing."""
    monkeypatch.setenv("BRIANLAB_CACHE", str(tmp_path))
    big = {"a": np.arange(100_000, dtype=np.int64)}
    cache.cached_arrays("trunc", "k", lambda: big)
    (entry,) = (tmp_path / "arrays").glob("trunc-*.npz")
    data = entry.read_bytes()
    entry.write_bytes(data[: len(data) // 2])
    calls = []
    again = cache.cached_arrays("trunc", "k", lambda: calls.append(1) or big)
    assert calls == [1]
    np.testing.assert_array_equal(again["a"], big["a"])
    with np.load(entry) as repaired:  # the entry was replaced by a whole one
        np.testing.assert_array_equal(repaired["a"], big["a"])
