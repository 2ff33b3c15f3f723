"""The values the CMSA command line offers, importable without Brian2.

``python -m brianlab.cmsa`` parses its arguments before it knows whether it needs
Brian2 at all (a cached command does not: :mod:`brianlab.cmsa.cached`), so the choices
its parser lists live here. ``MAX_SEED``, ``PRESETS`` and ``PHI_VARIANTS`` are defined
here and re-exported by :mod:`brianlab.cmsa.params`; ``DEVICES`` and ``RULES`` repeat
:data:`brianlab.devices.DEVICES` and :data:`brianlab.networks.sheet.RULES` (a test keeps
them equal).
"""

__all__ = ["MAX_SEED", "PRESETS", "PHI_VARIANTS", "DEVICES", "RULES"]

#: Largest drive seed. The drive is a sine hash of neuron index, time and seed (see
#: ``brianlab.networks.sheet.HASH_UNIFORM``); in double precision it stays uniform and
#: uncorrelated in time up to seeds of 2**31, but at 2**53 the seed term swamps the time
#: term and the drive degenerates (tests/test_cmsa.py checks both).
MAX_SEED = 2**31 - 1

#: How Phi is measured: from smoothed spike-count frames (brianlab's default) or, as the
#: lab report does, from the E voltages of the last ``voltage_frames`` time steps.
PHI_VARIANTS = ("spikes", "voltage")

#: Named configurations (``CMSAParams.preset``, ``--preset``); their values and the
#: choices behind them are in :mod:`brianlab.cmsa.params`.
PRESETS = ("tuned", "lab-report", "course")

#: Back ends (:data:`brianlab.devices.DEVICES`).
DEVICES = ("runtime", "cpp_standalone", "cuda_standalone")

#: Connection rules of the sheet (:data:`brianlab.networks.sheet.RULES`).
RULES = ("fixed_indegree", "probability", "kernel")
