"""The CMSA command's named configurations and Phi variants, importable without Brian2.

``python -m brianlab.cmsa`` parses its arguments before it knows whether it needs
Brian2 at all, so the names its parser offers live here, once: :mod:`brianlab.cmsa.params`
imports them (their values and the choices behind them are written there). The other
choices of the parser have one home each: the devices are :data:`brianlab.toolchain.DEVICES`,
the sheet's connection rules :data:`brianlab.space.SHEET_RULES`, the largest seed
:data:`brianlab.seeds.MAX_HASH_SEED`.
"""

__all__ = ["PRESETS", "PHI_VARIANTS", "PHASES"]

#: Named configurations (``CMSAParams.preset``, ``--preset``); their values and the
#: choices behind them are in :mod:`brianlab.cmsa.params`.
PRESETS = ("tuned", "lab-report", "course")

#: How Phi is measured: from smoothed spike-count frames (brianlab's default) or, as the
#: lab report does, from the E voltages of the last ``voltage_frames`` time steps.
PHI_VARIANTS = ("spikes", "voltage")

#: The three dynamical states ``python -m brianlab.cmsa phases`` shows: (state, refractory
#: period in ms) of the sheet's E population.
PHASES = (("bump", 5.0), ("critical", 6.5), ("wave", 10.0))
