"""The CMSA experiment: 2D E/I LIF sheets with bump, critical and wave states.

``python -m brianlab.cmsa`` is its command line. The public names load their modules (and
Brian2) on first use, so the command line can repeat a cached command without Brian2.
"""

from ..lazy import lazy_names

__all__ = ["CMSAParams", "CMSARun", "NotRunError", "analyse", "build_network", "collect",
           "run_args_for", "simulate"]

_PUBLIC = {"NotRunError": "experiment", "simulate": "experiment", "CMSAParams": "params",
           "CMSARun": "protocol", "analyse": "protocol", "build_network": "protocol",
           "collect": "protocol", "run_args_for": "protocol"}

__getattr__, __dir__ = lazy_names(globals(), _PUBLIC)
