"""The ranges of seeds, and the one check of a seed.

Importable without Brian2 (a tier-1 module, see ``docs/architecture.md``): a command
checks its seeds before it knows whether it needs Brian2.
"""

from __future__ import annotations

import numpy as np

from .errors import ModelError

__all__ = ["MAX_SEED", "MAX_HASH_SEED", "check_seed"]

#: Largest seed of Brian2's random number generators (``brian2.seed``: 32 bits), and so
#: of a network's connectivity and drive seeds.
MAX_SEED = 2**32 - 1

#: Largest seed of a hash drive (``drive_seed``, see
#: ``brianlab.networks.sheet.HASH_UNIFORM``), as the CMSA command line allows it. The
#: drive is a sine hash of neuron index, time and seed evaluated in double precision: it
#: is checked uniform and uncorrelated in time up to this seed (tests/test_cmsa.py), and it
#: degenerates at 2**53, where the seed term swamps the time term.
MAX_HASH_SEED = 2**31 - 1


def check_seed(value, what: str, *, hash_drive: bool = False) -> int:
    """``value`` as a seed, or a :class:`~brianlab.errors.ModelError` saying what is wrong.

    Parameters
    ----------
    value : int
        The seed: a Python or numpy integer (not a bool).
    what : str
        What the seed is, the start of the message (``"cuba: the connectivity seed"``).
    hash_drive : bool, optional
        Whether it seeds a hash drive (up to :data:`MAX_HASH_SEED`) rather than Brian2's
        generators (up to :data:`MAX_SEED`).

    Returns
    -------
    int
        ``value`` as a Python int.

    Raises
    ------
    ModelError
        For anything else, or a seed out of range: ``"{what} must be an integer in
        [0, 2**32), got {value!r}"`` (``2**31`` for a hash drive).
    """
    limit, bound = (MAX_HASH_SEED, "2**31") if hash_drive else (MAX_SEED, "2**32")
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) \
            or not 0 <= value <= limit:
        raise ModelError(f"{what} must be an integer in [0, {bound}), got {value!r}")
    return int(value)
