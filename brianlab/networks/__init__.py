"""Network builders, one module per family (see ``docs/architecture.md``)."""

from .builder import BuiltNetwork, build_network
from .cann import CANN, build_cann
from .fi import simulate_fi
from .pattern_detection import PatternDetector, build_pattern_detector, selectivity
from .sheet import EISheet, Pathway, build_ei_sheet

__all__ = ["BuiltNetwork", "CANN", "EISheet", "Pathway", "PatternDetector", "build_cann",
           "build_ei_sheet", "build_network", "build_pattern_detector", "selectivity",
           "simulate_fi"]
