"""The values the CMSA command line offers, importable without Brian2.

``python -m brianlab.cmsa`` parses its arguments before it knows whether it needs
Brian2 at all (a cached command does not: :mod:`brianlab.cmsa.cached`), so the choices
its parser lists live here. ``PRESETS`` and ``PHI_VARIANTS`` are defined here and
re-exported by :mod:`brianlab.cmsa.params`, as is ``MAX_SEED`` (the CMSA seed seeds the
sheet's hash drive: :data:`brianlab.seeds.MAX_HASH_SEED`); ``DEVICES`` is
:data:`brianlab.toolchain.DEVICES`; ``RULES`` repeats :data:`brianlab.networks.sheet.RULES`
(a test keeps them equal).
"""

from ..seeds import MAX_HASH_SEED as MAX_SEED
from ..toolchain import DEVICES

__all__ = ["MAX_SEED", "PRESETS", "PHI_VARIANTS", "DEVICES", "RULES"]

#: How Phi is measured: from smoothed spike-count frames (brianlab's default) or, as the
#: lab report does, from the E voltages of the last ``voltage_frames`` time steps.
PHI_VARIANTS = ("spikes", "voltage")

#: Named configurations (``CMSAParams.preset``, ``--preset``); their values and the
#: choices behind them are in :mod:`brianlab.cmsa.params`.
PRESETS = ("tuned", "lab-report", "course")

#: Connection rules of the sheet (:data:`brianlab.networks.sheet.RULES`).
RULES = ("fixed_indegree", "probability", "kernel")
