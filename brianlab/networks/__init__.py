"""Network builders, one module per family (see ``docs/architecture.md``)."""

from .cann import CANN, build_cann
from .sheet import EISheet, Pathway, build_ei_sheet

__all__ = ["CANN", "EISheet", "Pathway", "build_cann", "build_ei_sheet"]
