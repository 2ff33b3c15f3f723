"""Network builders, one module per family (see ``docs/architecture.md``)."""

from .cann import CANN, build_cann

__all__ = ["CANN", "build_cann"]
