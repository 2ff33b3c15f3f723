"""Stage 7 of the pipeline: the figures of a command (design of issue 25, 2.9).

A stub: the figures engineer of issue 25 (slice S6) replaces this module with the
rasters, rates and sweep figures drawn with :mod:`brianlab.plot`.
"""

from __future__ import annotations

__all__ = ["draw"]


def draw(plan, folder, records) -> list:
    """Draw a command's figures into ``folder/figures`` (a stub: draws none).

    The figures engineer replaces this function (same signature).

    Parameters
    ----------
    plan : Plan
    folder : RunFolder
    records : dict
        Point key -> record.

    Returns
    -------
    list of Path
        The files written (none).
    """
    return []
