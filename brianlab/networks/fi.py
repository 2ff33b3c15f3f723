"""Simulated f-I curves of any neuron model: one neuron per input current."""

from __future__ import annotations

import numpy as np
from brian2 import Network, SpikeMonitor, second

from ..analysis.spikes import isi_rates
from ..compose import neuron_group

__all__ = ["simulate_fi"]


def simulate_fi(model, currents, duration, *, t_start=0 * second, variable: str = "I_ext",
                dt=None, **overrides) -> np.ndarray:
    """Firing rate (Hz) of ``model`` for each constant input in ``currents``.

    Parameters
    ----------
    model : Model or str
        A neuron model with an input variable ``variable`` (``I_ext`` by default).
    currents : Quantity
        One value per neuron (e.g. ``np.linspace(0, 1, 21) * nA``).
    duration, t_start : Quantity
        Simulated time; spikes before ``t_start`` (a transient) are ignored.
    variable : str
        The group's input variable that receives ``currents``.
    dt : Quantity, optional
        Time step of the group.
    **overrides
        Parameter values of the model (unit-checked).

    Returns
    -------
    ndarray
        Rates from the mean inter-spike interval (:func:`analysis.spikes.isi_rates`);
        0 where a neuron fires fewer than two spikes after ``t_start``.
    """
    group = neuron_group(model, len(currents), dt=dt, **overrides)
    setattr(group, variable, currents)
    spikes = SpikeMonitor(group)
    Network(group, spikes).run(duration)
    return isi_rates(np.asarray(spikes.i[:]), np.asarray(spikes.t / second), len(currents),
                     t_start=float(t_start / second))
