"""The CMSA experiment: 2D E/I LIF sheets with bump, critical and wave states.

``python -m brianlab.cmsa`` is its command line.
"""

from .experiment import NotRunError, simulate
from .params import CMSAParams
from .protocol import CMSARun, analyse, build_network, collect, run_args_for

__all__ = ["CMSAParams", "CMSARun", "NotRunError", "analyse", "build_network", "collect",
           "run_args_for", "simulate"]
