"""benchmarks.treepeak: the peak of a process tree is the sum of its processes, not the
largest one (what ``/usr/bin/time`` reports)."""

import sys

import pytest

from benchmarks.treepeak import main, measure

MiB = 2**20

# a parent holding 200 MiB starts a child that holds 300 MiB; both live together ~1 s
CHILD = "b = bytearray(300 * 2**20); import time; time.sleep(1.0)"
PARENT = (f"import subprocess, sys; a = bytearray(200 * 2**20); "
          f"subprocess.run([sys.executable, '-c', {CHILD!r}], check=True)")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_the_peak_is_the_sum_over_the_tree():
    result = measure([sys.executable, "-c", PARENT])
    assert result.returncode == 0
    assert result.peak_processes == 2
    # 500 MiB allocated and touched (bytearray zero-fills), plus two interpreters
    # (each 5-40 MiB resident)
    assert 500 * MiB <= result.peak_bytes <= 600 * MiB
    assert result.samples > 10
    assert sorted(b // MiB for _, b in result.at_peak) == [
        pytest.approx(200 + 15, abs=15), pytest.approx(300 + 15, abs=15)]


def test_the_exit_status_is_passed_on_and_a_command_is_required(tmp_path, capsys):
    out = tmp_path / "peaks.jsonl"
    assert main(["--json", str(out), "--", sys.executable, "-c", "raise SystemExit(3)"]) == 3
    assert '"returncode": 3' in out.read_text()
    with pytest.raises(SystemExit):
        main([])
    with pytest.raises(ValueError, match="at least 0.005"):
        measure([sys.executable, "-c", "pass"], interval=0.001)
