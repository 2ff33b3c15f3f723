"""What this process may use (``brianlab.resources``): the tightest memory limit, read from
fake /proc and /sys/fs/cgroup trees, and the CLI refusing what does not fit."""

import os
import re
import resource
import subprocess
import sys

import pytest

from brianlab.resources import MemoryLimit, available_memory, spike_memory, usable_cores

GiB = 2**30


def _proc(tmp_path, cgroup_lines, available_gib=16.0, vm_size_gib=0.5):
    """A fake /proc: 23.5 GiB in total, ``available_gib`` available."""
    proc = tmp_path / "proc"
    (proc / "self").mkdir(parents=True)
    (proc / "meminfo").write_text(
        f"MemTotal:       {int(23.5 * GiB) // 1024} kB\n"
        f"MemFree:         {int(2 * GiB) // 1024} kB\n"
        f"MemAvailable:   {int(available_gib * GiB) // 1024} kB\n")
    (proc / "self" / "cgroup").write_text("".join(line + "\n" for line in cgroup_lines))
    vm_size_kb = int(vm_size_gib * GiB) // 1024
    (proc / "self" / "status").write_text(f"Name:\tpython\nVmSize:\t{vm_size_kb} kB\n")
    return proc


def _cgroup(root, relative, **files):
    directory = root / relative
    directory.mkdir(parents=True, exist_ok=True)
    for name, value in files.items():
        (directory / name.replace("_", ".", 1)).write_text(f"{value}\n")
    return directory


def test_available_not_total_memory(tmp_path):
    """Compared with what is available (MemAvailable), not the machine's total."""
    proc = _proc(tmp_path, ["0::/"], available_gib=16.0)
    limit = available_memory(proc, tmp_path / "no-cgroup", rlimit_as=-1)
    assert limit.available == 16 * GiB
    assert "MemAvailable" in limit.source and str(proc / "meminfo") in limit.source
    assert str(limit).startswith("16.0 GiB (MemAvailable")


def test_cgroup_v2_nested_limits_take_the_tightest_ancestor(tmp_path):
    """As under SLURM: the job's cgroup has the tightest limit, the step's a looser one;
    page cache (inactive_file) counts as reclaimable."""
    sys_cg = tmp_path / "cgroup"
    _cgroup(sys_cg, ".", **{"cgroup_controllers": "cpu memory"})
    _cgroup(sys_cg, "system.slice", memory_max="max", memory_current=5 * GiB)
    job = _cgroup(sys_cg, "system.slice/slurmstepd.scope/job_7", memory_max=8 * GiB,
                  memory_current=3 * GiB)
    (job / "memory.stat").write_text(f"anon 1\ninactive_file {GiB}\nactive_file 5\n")
    _cgroup(sys_cg, "system.slice/slurmstepd.scope/job_7/step_0", memory_max=10 * GiB,
            memory_current=GiB)
    proc = _proc(tmp_path, ["0::/system.slice/slurmstepd.scope/job_7/step_0"])
    limit = available_memory(proc, sys_cg, rlimit_as=-1)
    assert limit.available == 6 * GiB  # 8 - (3 - 1)
    assert f"cgroup {job} memory.max 8.0 GiB" in limit.source


def test_cgroup_v1_limits_and_the_unlimited_value(tmp_path):
    sys_cg = tmp_path / "cgroup"
    _cgroup(sys_cg, "memory", memory_limit_in_bytes=9223372036854771712,
            memory_usage_in_bytes=20 * GiB)
    slurm = _cgroup(sys_cg, "memory/slurm/uid_1/job_2", memory_limit_in_bytes=4 * GiB,
                    memory_usage_in_bytes=GiB)
    proc = _proc(tmp_path, ["9:name=systemd:/", "4:cpuacct,memory:/slurm/uid_1/job_2",
                            "0::/"])
    limit = available_memory(proc, sys_cg, rlimit_as=-1)
    assert limit.available == 3 * GiB
    assert f"cgroup {slurm} memory.limit_in_bytes 4.0 GiB" in limit.source


def test_a_cgroup_path_of_another_namespace_falls_back_to_the_mounted_root(tmp_path):
    sys_cg = tmp_path / "cgroup"
    _cgroup(sys_cg, ".", cgroup_controllers="memory", memory_max=2 * GiB,
            memory_current=GiB // 2)
    proc = _proc(tmp_path, ["0::/not/visible/here"])
    assert available_memory(proc, sys_cg, rlimit_as=-1).available == 1.5 * GiB


def test_rlimit_as_less_the_mapped_address_space(tmp_path):
    proc = _proc(tmp_path, ["0::/"], vm_size_gib=1.0)
    limit = available_memory(proc, tmp_path / "no-cgroup", rlimit_as=4 * GiB)
    assert limit.available == 3 * GiB and "RLIMIT_AS" in limit.source


def test_this_machine_and_cores():
    limit = available_memory()
    assert 0 < limit.available and limit.source
    assert 1 <= usable_cores() <= (os.cpu_count() or 1)


def test_spike_memory_grows_with_size_and_duration():
    assert spike_memory(1000, 2.0, rate_hz=10, bytes_per_spike=12) == 240_000
    assert spike_memory(33_750, 1e6) > 1e13  # --duration 1e9 (ms) of the default sheet


def test_a_long_run_is_refused_for_its_spikes():
    """``--duration 1e9``: the spikes alone would need tens of TB."""
    from brian2 import ms

    from brianlab.cmsa import CMSAParams

    p = CMSAParams(e_side=40, i_side=20, k_e=100, k_i=150, duration=1e9 * ms)
    with pytest.raises(ValueError, match=r"spikes [\d,]+\.\d.*available: 16\.0 GiB \(fake\)"):
        p.check_memory(MemoryLimit(16 * GiB, "fake"))
    CMSAParams(e_side=40, i_side=20, k_e=100, k_i=150).check_memory(MemoryLimit(GiB, "fake"))


def test_the_memory_check_compares_with_available_memory(tmp_path, monkeypatch, capsys):
    """The issue's case: ``--rule kernel --size 200`` is estimated at 22.0 GiB, on a machine
    of 23.5 GiB with 16 GiB available: refused, naming what was compared."""
    import brianlab.resources as resources
    from brianlab.cmsa.__main__ import main

    proc = _proc(tmp_path, ["0::/"], available_gib=16.0)
    monkeypatch.setattr(resources, "available_memory",
                        lambda: available_memory(proc, tmp_path / "none", rlimit_as=-1))
    assert main(["run", "--rule", "kernel", "--size", "200", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert re.search(r"needs about 22\.\d GiB", err) and "rule kernel" in err
    assert f"available: 16.0 GiB (MemAvailable in {proc / 'meminfo'})" in err
    assert not (tmp_path / "x").exists()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS and /proc")
def test_a_sheet_beyond_rlimit_as_is_refused_without_a_traceback(tmp_path):
    """Under ``ulimit -v`` the sheet (about 2.0 GiB) is refused by name of the limit,
    instead of a MemoryError traceback once it has allocated what the limit allows."""
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (int(1.5 * GiB), int(1.5 * GiB)))

    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-m", "brianlab.cmsa", "run", "--rule", "kernel",
                           "--size", "100", "--device", "runtime", "--no-gif",
                           "--out", str(tmp_path / "x")], capture_output=True, text=True,
                          preexec_fn=limit, env=env, timeout=300)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    assert "needs about 2.0 GiB" in proc.stderr and "RLIMIT_AS (ulimit -v) 1.5 GiB" in proc.stderr


def test_the_resource_checks_import_no_brian2():
    """The command line checks threads and workers before it knows whether it needs Brian2
    (a cached command does not)."""
    code = ("import sys, brianlab.resources as r; r.available_memory(); r.usable_cores();"
            "assert 'brian2' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_local_workers_multiply_the_memory_estimate():
    """N local workers run N binaries at once: a sheet that fits once but not twice is
    refused for two workers, naming the count and the way out."""
    from brianlab.cmsa.params import CMSAParams

    p = CMSAParams(e_side=60, i_side=30, k_e=50, k_i=50)
    need = sum(p.memory_parts().values())
    p.check_memory(available=1.5 * need)
    with pytest.raises(ValueError, match=r"x 2 at once.*fewer --workers"):
        p.check_memory(available=1.5 * need, copies=2)
