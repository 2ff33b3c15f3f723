"""brianlab's rewrites of Brian2's generated files recognise the installed Brian2's templates.

The rewrites (the precompiled ``objects.h`` in the makefile, the sorted clock resets of
``main.cpp``, the lean build's ``objects.cpp`` and ``main.cpp``) leave a file of an unknown
form unchanged, so a Brian2 release that changes a template would only make builds slower
or fatter, silently. These tests generate a real project with the installed Brian2 (no
compilation: fast, so CI's Python 3.13 job with the newest Brian2 runs them) and check that
every rewrite applied.
"""

import re

import numpy as np
from brian2 import Network, NeuronGroup, SpikeMonitor, Synapses, ms

from brianlab import devices, leanbuild, use_device


def _generated(tmp_path, monkeypatch, lean):
    """A small network's cpp_standalone project as brianlab leaves it before ``make``."""
    monkeypatch.setattr(devices.DeviceSession, "_compile", lambda self, *args, **kwargs: None)
    with use_device("cpp_standalone", directory=tmp_path / "build", build_only=True,
                    quiet=True) as dev:
        G = NeuronGroup(10, "dv/dt = (1.5 - v) / (10*ms) : 1", threshold="v > 1",
                        reset="v = 0", method="exact", name="g")
        S = Synapses(G, G, on_pre="v += 0.1", name="s")
        S.connect(i=np.arange(9), j=np.arange(1, 10))  # index arrays: what lean frees
        spikes = SpikeMonitor(G, name="spikes")
        write_only = [spikes.variables["t"]] if lean else None
        dev.run(Network(G, S, spikes), 5 * ms, write_only=write_only)
        directory, is_lean = dev.directory, dev.lean
        return {name: (directory / name).read_text()
                for name in ("makefile", "main.cpp", "objects.cpp")}, is_lean


def test_the_makefile_gets_the_precompiled_header(tmp_path, monkeypatch):
    files, _ = _generated(tmp_path, monkeypatch, lean=False)
    makefile = files["makefile"]
    assert "-x c++-header objects.h -o objects.h.gch" in makefile, makefile
    rule = re.search(r"^%\.o : %\.cpp makefile objects\.h\.gch\n\t(.*)$", makefile, re.M)
    assert rule and "-include objects.h $< -o $@" in rule.group(1), makefile
    assert re.search(r"^\trm -f \$\(OBJS\) \$\(PROGRAM\) \$\(DEPS\) objects\.h\.gch", makefile,
                     re.M), makefile


def test_main_has_the_clock_resets_that_are_sorted(tmp_path, monkeypatch):
    files, _ = _generated(tmp_path, monkeypatch, lean=False)
    resets = [line for line in files["main.cpp"].splitlines()
              if leanbuild._CLOCK_RESET.match(line)]
    assert any("_timestep[0]" in line for line in resets), files["main.cpp"]


def test_main_has_the_idle_clocks_and_resets_of_many_clocks_sorted(tmp_path, monkeypatch):
    """Groups on six clocks that stop halfway: the second run adds their clocks without a
    code object (``network.add(&clock, NULL)``, in the order of a Python set) and resets
    every clock; brianlab sorts both blocks (unsorted by chance: 1 in 720 builds)."""
    from brian2 import Clock

    monkeypatch.setattr(devices.DeviceSession, "_compile", lambda self, *args, **kwargs: None)
    names = [f"clk_{letter}" for letter in "qbxdmh"]
    with use_device("cpp_standalone", directory=tmp_path / "build", build_only=True,
                    quiet=True) as dev:
        groups = [NeuronGroup(2, "dv/dt = -v / (10*ms) : 1", method="exact", name=f"g_{name}",
                              clock=Clock(dt=0.1 * ms, name=name)) for name in names]
        dev.run(Network(*groups), 5 * ms, active={g: (0 * ms, 2 * ms) for g in groups})
        main = (dev.directory / "main.cpp").read_text()
    lines = main.splitlines()
    idle = [i for i, line in enumerate(lines) if leanbuild._IDLE_CLOCK.match(line)]
    assert len(idle) == len(names) and idle == list(range(idle[0], idle[0] + len(names))), main
    assert [leanbuild._IDLE_CLOCK.match(lines[i]).group(2) for i in idle] == sorted(names), main
    resets = [i for i, line in enumerate(lines) if leanbuild._CLOCK_RESET.match(line)
              and leanbuild._CLOCK_RESET.match(line).group(1) in names]
    assert resets, main
    blocks, block = [], [resets[0]]  # each run's consecutive resets
    for i in resets[1:]:
        if i == block[-1] + 1:
            block.append(i)
        else:
            blocks.append(block)
            block = [i]
    blocks.append(block)
    blocks = [block for block in blocks if len(block) > 1]  # (not a created clock's line)
    assert len(blocks) == 2, main  # the resets of the two runs
    for block in blocks:
        clocks = [leanbuild._CLOCK_RESET.match(lines[i]).group(1) for i in block]
        assert len(clocks) == 2 * len(names) and clocks == sorted(clocks), main


def test_a_lean_build_drops_writes_and_frees_the_connection_indices(tmp_path, monkeypatch):
    files, lean = _generated(tmp_path, monkeypatch, lean=True)
    assert lean
    writes = re.findall(r"ofstream outfile_(\w+);", files["objects.cpp"])
    assert "_dynamic_array_spikes_t" in writes and "_array_g_v" not in writes, writes
    freed = re.findall(r"delete \[\] brian::(_array_\w+);", files["main.cpp"])
    assert len(freed) == 2 and all("_array_s_" in name for name in freed), freed



BRIAN2_2_11_MAKEFILE = """DEPS = ${OBJS:.o=.d}

.PHONY: all clean missing-deps
clean:
\trm -f $(OBJS) $(PROGRAM) $(DEPS)

-include $(DEPS)

%.o : %.cpp makefile
\t$(CXX) $(CXXFLAGS) -MMD -MP -MF $(@:.o=.d) -MT $@ $< -o $@
"""


def test_the_makefile_of_brian2_2_11_gets_the_header_with_its_dependency_file():
    """brian2 2.11's makefile (a .d file per object, no $(H_SRCS)), whichever Brian2 is
    installed: the header's dependencies are recorded like the objects'."""
    patched = leanbuild.precompile_objects_header(BRIAN2_2_11_MAKEFILE)
    assert ("objects.h.gch : objects.h makefile $(if $(wildcard objects.h.d),,missing-deps)\n"
            "\t$(CXX) $(CXXFLAGS) -MMD -MP -MF objects.h.d -MT objects.h.gch -x c++-header "
            "objects.h -o objects.h.gch\n\n-include objects.h.d\n") in patched
    assert ("%.o : %.cpp makefile objects.h.gch\n\t$(CXX) $(CXXFLAGS) -MMD -MP -MF $(@:.o=.d) "
            "-MT $@ -include objects.h $< -o $@\n") in patched
    assert "\trm -f $(OBJS) $(PROGRAM) $(DEPS) objects.h.gch objects.h.d\n" in patched
    assert leanbuild.precompile_objects_header(patched) == patched
