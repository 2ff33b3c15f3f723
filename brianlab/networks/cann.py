"""Continuous attractor networks on a ring (1D) or a torus (2D), from ``rates/cann_1d|2d``.

Unit ``k`` of a 1D network sits at x_k = -pi + 2 pi k / n; unit ``k = row*n + col`` of
a 2D network at (x_col, y_row). Recurrent input and divisive normalisation are two
summed variables of one all-to-all :class:`brian2.Synapses` (on a lattice of density
rho, the continuum's rho * integral dx' is a sum over units); the weight
``J = J0 / (sqrt(2 pi) a)**D * exp(-|d|**2 / (2 a**2))`` is written as a string
expression of the unit indices (periodic distance on the lattice), so the network
builds the same way on every Brian2 device.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from brian2 import Network, NeuronGroup, Synapses, ms

from ..analysis.decoding import circular_error, population_vector
from ..compose import parameter_values
from ..library import load_model
from ..modelfile import Model
from ..units import ModelError

__all__ = ["CANN", "build_cann", "ring_positions"]


def ring_positions(n: int) -> np.ndarray:
    """Preferred positions of ``n`` units evenly spaced on [-pi, pi).

    Parameters
    ----------
    n : int
        Number of units.

    Returns
    -------
    ndarray
        ``(n,)``, in radians.
    """
    return -np.pi + 2 * np.pi * np.arange(n) / n


@dataclass
class CANN:
    """A built continuous attractor network.

    Parameters
    ----------
    group : NeuronGroup
        The units (``u``, ``r``, ``I_ext``, ...).
    recurrent : Synapses
        All-to-all coupling that fills ``I_rec`` and ``u2_total``.
    n : int
        Units per dimension.
    dims : int
        1 (ring) or 2 (torus).
    positions : ndarray
        ``(n,)`` on a ring, ``(n*n, 2)`` (x, y) on a torus.
    model : Model
        The rate model the units follow.
    values : dict
        Parameter values after the overrides given to :func:`build_cann`.
    """

    group: NeuronGroup
    recurrent: Synapses
    n: int
    dims: int
    positions: np.ndarray
    model: Model
    #: the parameter values the network was built with (the model's, with the overrides)
    values: dict = field(default_factory=dict)

    @property
    def objects(self) -> list:
        """The Brian2 objects to add to a :class:`brian2.Network`."""
        return [self.group, self.recurrent]

    def stationary_bump(self) -> dict:
        """The analytic stationary bump of this network (Wu, Hamaguchi & Amari 2008).

        With unit density ``rho = n**D / (2 pi)**D`` the bump exists for ``k < k_c``;
        ``u = u0 exp(-|x|**2 / (4 a**2))`` and ``r ~ exp(-|x|**2 / (2 a**2))``.

        Returns
        -------
        dict
            ``height`` (u0), ``k_c``, and the full widths at half maximum ``width_u``
            and ``width_r`` (along one axis).
        """
        k, a, j0 = self._value("k"), self._value("a"), self._value("J0")
        rho = self.n**self.dims / (2 * np.pi) ** self.dims
        if self.dims == 1:
            k_c = rho * j0**2 / (8 * np.sqrt(2 * np.pi) * a)
            scale = j0 / (4 * np.sqrt(np.pi) * a * k)
        else:
            k_c = rho * j0**2 / (32 * np.pi * a**2)
            scale = j0 / (8 * np.pi * a**2 * k)
        height = (1 + np.sqrt(1 - k / k_c)) * scale if k < k_c else 0.0
        return {"height": float(height), "k_c": float(k_c),
                "width_u": float(4 * a * np.sqrt(np.log(2))),
                "width_r": float(2 * a * np.sqrt(2 * np.log(2)))}

    def gaussian_input(self, centre, amplitude=None, width=None) -> np.ndarray:
        """``A exp(-|x - centre|**2 / (4 a**2))`` on the lattice (periodic distance).

        The width 2a (twice the connection width) is the canonical stimulus of
        Wu et al. (2008).

        Parameters
        ----------
        centre : float or (float, float)
            Position on the ring (rad), or (x, y) on the torus.
        amplitude : float, optional
            Peak value (default: the model's ``A``).
        width : float, optional
            The ``a`` of the formula (default: the model's connection width ``a``).

        Returns
        -------
        ndarray
            One value per unit, for ``group.I_ext``.
        """
        amplitude = self._value("A") if amplitude is None else amplitude
        a = self._value("a") if width is None else width
        centre = np.atleast_1d(np.asarray(centre, dtype=float))
        delta = _periodic(self.positions.reshape(len(self.positions), -1) - centre)
        return amplitude * np.exp(-np.sum(delta**2, axis=1) / (4 * a**2))


    def _value(self, name: str) -> float:
        """A parameter as the group holds it now (the built value where it cannot be read,
        e.g. on a standalone device before the run)."""
        try:
            return float(getattr(self.group, name)[:])
        except (NotImplementedError, AttributeError):
            return float((self.values or self.model.parameters)[name])

    def _kick(self, network: Network, kick: float, form, kick_duration):
        if self.dims != 1:
            raise ValueError("a kick is defined for a 1D ring")
        self.group.I_ext = self.gaussian_input(0.0)
        network.run(form)
        self.group.I_ext = self.gaussian_input(kick)
        network.run(kick_duration)
        self.group.I_ext = 0

    def _position(self) -> float:
        return population_vector(np.asarray(self.group.r[:]), self.positions)

    def travel_speed(self, network: Network, kick: float = 0.3, *, form=10 * ms,
                     kick_duration=1 * ms, window=25 * ms, rtol: float = 1e-3,
                     atol: float = 1e-6, steady_windows: int = 4, max_time=3000 * ms) -> float:
        """The steady travelling speed (rad/ms) of a bump after an off-centre kick (1D ring).

        After the kick (as in :meth:`drift_after_kick`) the decoded position is compared
        every ``window``; the speed is steady once ``steady_windows`` successive window
        speeds agree within ``rtol`` (or ``atol``, for a bump at rest). The transient
        lasts a few hundred ms: with m = 0.08 the speed swings between 0.015 and 0.023
        rad/ms before it settles at 0.0216.

        Parameters
        ----------
        network : Network
            A network that holds this CANN.
        kick : float
            Position (rad) of the brief off-centre input.
        form, kick_duration : Quantity
            How long the bump forms at 0, and how long the kick lasts.
        window : Quantity
            Interval between the compared positions.
        rtol, atol : float
            Relative and absolute agreement of successive window speeds.
        steady_windows : int
            How many successive windows must agree.
        max_time : Quantity
            Give up after this much simulated time.

        Returns
        -------
        float
            Signed mean speed of the steady windows, rad/ms.

        Raises
        ------
        RuntimeError
            If no steady speed is reached within ``max_time``.
        """
        self._kick(network, kick, form, kick_duration)
        speeds, previous, elapsed = [], self._position(), 0 * ms
        window_ms = float(window / ms)
        while elapsed < max_time:
            network.run(window)
            elapsed += window
            position = self._position()
            speeds.append(float(circular_error(position, previous)) / window_ms)
            previous = position
            recent = np.array(speeds[-steady_windows:])
            if len(recent) == steady_windows and \
                    np.ptp(recent) <= max(atol, rtol * abs(recent.mean())):
                return float(recent.mean())
        raise RuntimeError(f"no steady speed within {max_time}: the last window speeds were "
                           f"{np.round(speeds[-steady_windows:], 5).tolist()} rad/ms")

    def drift_after_kick(self, network: Network, kick: float = 0.3, *, form=10 * ms,
                         kick_duration=1 * ms, settle=50 * ms, measure=50 * ms) -> float:
        """How far a bump moves on its own after a brief off-centre kick (1D ring).

        Runs ``network`` (which holds this CANN): a bump forms under the canonical input
        at 0 for ``form``, the input jumps to ``kick`` (rad) for ``kick_duration`` and is
        then removed; after ``settle`` the decoded position is compared with the one
        ``measure`` later. With adaptation (``m > tau / tau_v``) the bump travels;
        without, it stays where the kick left it.

        The displacement includes the bump's acceleration transient (a travelling bump
        needs a few hundred ms to reach its steady speed): for the speed itself use
        :meth:`travel_speed`.

        Parameters
        ----------
        network : Network
            A network that holds this CANN.
        kick : float
            Position (rad) of the brief off-centre input.
        form, kick_duration, settle, measure : Quantity
            Durations of the protocol's phases.

        Returns
        -------
        float
            Signed displacement (rad) of the population vector during ``measure``.
        """
        self._kick(network, kick, form, kick_duration)
        network.run(settle)
        start = self._position()
        network.run(measure)
        return float(circular_error(self._position(), start))


def _periodic(delta):
    return (delta + np.pi) % (2 * np.pi) - np.pi


def build_cann(model="cann_1d", n: int | None = None, name: str = "cann", **overrides) -> CANN:
    """Build a 1D ring or 2D torus CANN from a rate model file.

    Parameters
    ----------
    model : str or Model
        ``"cann_1d"`` or ``"cann_2d"`` (any version).
    n : int, optional
        Units per dimension, at least 4 (default 128 on a ring, 32 per side on a torus).
    name : str
        Prefix of the Brian2 object names.
    **overrides
        Model parameters (``k``, ``a``, ``J0``, ``m``, ...), unit-checked.

    Returns
    -------
    CANN

    Raises
    ------
    ModelError
        If the model is not a CANN rate model (it lacks ``J0``, ``a``, ``u_pos``, ``r``,
        ``I_rec`` or ``u2_total``).
    ValueError
        If ``n`` is not an integer of at least 4.
    """
    m = model if isinstance(model, Model) else load_model(model)
    missing = [x for x in ("J0", "a") if x not in m.parameters]
    missing += [x for x in ("u_pos", "r", "I_rec", "u2_total") if x not in m.equations]
    if m.kind != "rate" or missing:
        raise ModelError(f"build_cann needs a CANN rate model (cann_1d or cann_2d), got "
                         f"{m.ref}, a {m.kind} model" + (f" without {', '.join(missing)}"
                                                          if missing else ""))
    dims = 2 if m.name.startswith("cann_2d") else 1
    if n is None:
        n = 128 if dims == 1 else 32
    elif isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)):
        raise ValueError(f"n (units per dimension) must be an integer, got {n!r}")
    n = int(n)
    if n < 4:
        raise ValueError(f"a CANN needs at least 4 units per dimension, got {n}")
    size = n**dims
    values = parameter_values(m, overrides)
    group = m.neuron_group(size, name=f"{name}_units", **overrides)
    j0, a = float(values["J0"]), float(values["a"])
    step = 2 * np.pi / n
    if dims == 1:
        dist2 = f"({step}*(n_side - abs(n_side - 2*abs(i - j)))/2)**2"
        norm = j0 / (np.sqrt(2 * np.pi) * a)
        positions = ring_positions(n)
    else:
        dx = "(n_side - abs(n_side - 2*abs(i % n_side - j % n_side)))/2"
        dy = "(n_side - abs(n_side - 2*abs(i // n_side - j // n_side)))/2"
        dist2 = f"{step}**2*(({dx})**2 + ({dy})**2)"
        norm = j0 / (2 * np.pi * a**2)
        xs = ring_positions(n)
        positions = np.column_stack([np.tile(xs, n), np.repeat(xs, n)])
    recurrent = Synapses(group, group,
                         "J : 1 (constant)\n"
                         "I_rec_post = J*r_pre : 1 (summed)\n"
                         "u2_total_post = u_pos_pre**2 : 1 (summed)",
                         name=f"{name}_recurrent",
                         namespace={"n_side": n, "J_norm": norm, "a_w": a})
    recurrent.connect()
    recurrent.J = f"J_norm*exp(-{dist2}/(2*a_w**2))"
    # r depends on the normalisation sum, so that sum is updated first; Brian2 would order
    # the two updaters by name (I_rec before u2_total: r from the previous step's sum)
    recurrent.summed_updaters["u2_total_post"].order = group.order - 2
    return CANN(group, recurrent, n, dims, positions, m, values)
