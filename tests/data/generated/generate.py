"""Write Brian2's generated files for the samples next to this script (run by hand).

    python tests/data/generated/generate.py OUTDIR

generates (no compilation) a small cpp_standalone network in ``OUTDIR`` that has what
``brianlab.leanbuild``'s rewrites touch: two runs (clock resets), clocks of their own
that are idle in the second run (``network.add(&clock, NULL)``), ``connect(i=, j=)``
(copy loops before a ``synapses_create_array`` code object) and monitors (blocks of
``_write_arrays``). The samples ``brian2_<version>_*.txt`` are cut from its ``main.cpp``,
``objects.cpp`` and ``makefile`` to the parts the rewrites read.
"""

import sys

from brian2 import (Network, NeuronGroup, SpikeMonitor, StateMonitor, Synapses, device, ms,
                    set_device)

set_device("cpp_standalone", directory=sys.argv[1], build_on_run=False)
E = NeuronGroup(4, "dv/dt = -v/(10*ms) : 1\ndrive_seed : 1 (constant, shared)",
                threshold="v > 1", reset="v = 0", method="exact", name="sample_E")
I = NeuronGroup(2, "dv/dt = -v/(5*ms) : 1", threshold="v > 1", reset="v = 0",
                method="exact", name="sample_I", dt=0.2 * ms)
drive_E = E.run_regularly("v += 0.3", dt=1 * ms, name="sample_E_drive")
drive_I = I.run_regularly("v += 0.4", dt=2 * ms, name="sample_I_drive")
S = Synapses(E, I, on_pre="v += 0.2", name="sample_EI")
S.connect(i=[0, 1, 2, 3], j=[1, 0, 1, 0])
spikes = SpikeMonitor(E, name="sample_spikes")
state = StateMonitor(I, "v", record=True, name="sample_state")
net = Network(E, I, drive_E, drive_I, S, spikes, state)
net.run(10 * ms)
drive_E.active = drive_I.active = False
net.run(10 * ms)
device.build(directory=sys.argv[1], compile=False, run=False)
