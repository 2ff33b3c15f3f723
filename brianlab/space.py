"""Lattices on a torus, periodic distances and Gaussian-distance connectivity.

A :class:`Lattice` is a ``side x side`` grid of neurons on a square torus of side
``extent`` (in arbitrary length units shared by all lattices of a network: the
CMSA sheet uses E-lattice spacings). Neuron ``k`` sits in row ``k // side`` and
column ``k % side`` at position ``(col, row) * spacing``; lattices of different
sides share the same torus.

Connectivity rules return index arrays for ``Synapses.connect(i=..., j=...)``,
so they work on every Brian2 device. All are vectorised: targets are processed
in chunks, and when the target positions repeat relative to the source grid
(commensurate lattices, e.g. 150 x 150 onto 75 x 75), each distinct relative
offset is computed once and shared by all targets with that offset.

- :func:`fixed_indegree`: each target draws ``k`` sources (with replacement)
  with probability proportional to ``exp(-d**2 / (2 sigma**2))``.
- :func:`gaussian_probability`: each pair connects with ``p_max exp(-d**2/(2 sigma**2))``.
- :func:`gaussian_kernel`: all pairs within a cutoff, with weight
  ``exp(-d**2 / (2 sigma**2))`` (the dense convolution of the CMSA lab report).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Lattice", "periodic_delta", "periodic_distance", "fixed_indegree",
           "IndegreeTables", "indegree_tables",
           "gaussian_probability", "gaussian_kernel", "kernel_sum", "course_sigma",
           "Connections", "SHEET_RULES", "expected_indegree"]

#: Connection rules of the E/I sheet (:func:`brianlab.networks.sheet.build_ei_sheet`'s
#: ``rule``, the CMSA command's ``--rule``): one definition, importable without Brian2.
SHEET_RULES = ("fixed_indegree", "probability", "kernel")

#: Gaussian tails beyond this many sigma are dropped (relative weight < 1e-6).
CUTOFF_SIGMAS = float(np.sqrt(2 * np.log(1e6)))


@dataclass(frozen=True)
class Lattice:
    """A square ``side x side`` lattice on a torus of side ``extent``.

    Parameters
    ----------
    side : int
        Neurons per row and per column.
    extent : float, optional
        Side of the torus in the length unit of the distances (default: ``side``, so that
        the spacing is 1).

    Raises
    ------
    ValueError
        If ``side`` is not a positive integer or ``extent`` not positive.
    """

    side: int
    extent: float | None = None

    def __post_init__(self):
        if not isinstance(self.side, (int, np.integer)) or self.side < 1:
            raise ValueError(f"a lattice side must be a positive integer, got {self.side!r}")
        if self.extent is None:
            object.__setattr__(self, "extent", float(self.side))
        if not self.extent > 0:
            raise ValueError(f"a torus extent must be positive, got {self.extent!r}")

    @property
    def n(self) -> int:
        """Number of neurons, ``side**2``."""
        return int(self.side) ** 2

    @property
    def spacing(self) -> float:
        """Distance between neighbours, ``extent / side``."""
        return self.extent / self.side

    def positions(self) -> np.ndarray:
        """Positions of all neurons.

        Returns
        -------
        ndarray
            ``(n, 2)`` array of (x, y); neuron k sits at row ``k // side``, column ``k % side``.
        """
        coords = np.arange(self.side) * self.spacing
        return np.column_stack([np.tile(coords, self.side), np.repeat(coords, self.side)])

    def index(self, row, col):
        """Neuron index of (row, col), wrapped around the torus.

        Parameters
        ----------
        row, col : int or array-like
            Lattice coordinates (any integers: they wrap).

        Returns
        -------
        int or ndarray
            ``(row % side) * side + col % side``.
        """
        return (np.asarray(row) % self.side) * self.side + np.asarray(col) % self.side


def periodic_delta(a, b, extent: float) -> np.ndarray:
    """Shortest signed difference ``a - b`` on a ring.

    Parameters
    ----------
    a, b : float or array-like
        Coordinates.
    extent : float
        Circumference of the ring.

    Returns
    -------
    ndarray
        In ``[-extent/2, extent/2)``.
    """
    return (np.asarray(a) - np.asarray(b) + extent / 2) % extent - extent / 2


def periodic_distance(p, q, extent: float) -> np.ndarray:
    """Euclidean distance between points on a square torus.

    Parameters
    ----------
    p, q : array-like
        Points, shape ``(..., 2)``.
    extent : float
        Side of the torus.

    Returns
    -------
    ndarray
        Shape ``(...)``.
    """
    d = periodic_delta(p, q, extent)
    return np.hypot(d[..., 0], d[..., 1])


def course_sigma(s_c: float, unit: float = 1.0) -> float:
    """The standard deviation of the CMSA course's kernel ``exp(-d**2 / s_c)``.

    Parameters
    ----------
    s_c : float
        The kernel's width parameter, with ``d`` in lattice units.
    unit : float
        Size of the lattice unit in which ``d`` is measured.

    Returns
    -------
    float
        ``unit * sqrt(s_c / 2)``.
    """
    return unit * float(np.sqrt(s_c / 2))


@dataclass
class Connections:
    """Synapse index arrays and optional weights and distances.

    Parameters
    ----------
    i : ndarray
        Source index of each synapse.
    j : ndarray
        Target index of each synapse.
    weight : ndarray, optional
        Weight of each synapse (relative, at most 1).
    distance : ndarray, optional
        Source-target distance of each synapse.
    """

    i: np.ndarray
    j: np.ndarray
    weight: np.ndarray | None = None
    distance: np.ndarray | None = None

    def __len__(self):
        return len(self.i)


def _check(source: Lattice, target: Lattice, sigma: float):
    if source.extent != target.extent:
        raise ValueError(f"source and target lattices must share one torus (extents "
                         f"{source.extent} and {target.extent})")
    if not sigma > 0:
        raise ValueError(f"sigma must be positive, got {sigma!r}")


class _Window:
    """Candidate sources around targets: a window of source-lattice offsets.

    For a target at position p the candidates are source sites within the cutoff
    radius; they are found as a fixed window of (row, col) offsets from the source
    site nearest below p. Targets are grouped by p's position relative to the
    source grid ("class"); distances and weights are computed once per class.
    """

    def __init__(self, source: Lattice, target: Lattice, sigma: float, cutoff: float | None):
        self.source, self.target = source, target
        s = source.spacing
        radius = CUTOFF_SIGMAS * sigma if cutoff is None else cutoff
        half = int(np.ceil(radius / s)) + 1
        if 2 * half + 1 >= source.side:  # the window covers the whole torus: every site once
            offsets = np.arange(source.side) - source.side // 2
        else:
            offsets = np.arange(-half, half + 1)
        self.radius = radius
        dr, dc = np.meshgrid(offsets, offsets, indexing="ij")
        self.d_row, self.d_col = dr.ravel(), dc.ravel()
        pos = target.positions()
        base_col = np.floor(pos[:, 0] / s + 1e-9).astype(np.int64)
        base_row = np.floor(pos[:, 1] / s + 1e-9).astype(np.int64)
        frac = np.round(np.column_stack([pos[:, 0] - base_col * s, pos[:, 1] - base_row * s]),
                        9)
        self.classes, self.class_of = np.unique(frac, axis=0, return_inverse=True)
        self.class_of = self.class_of.ravel()
        self.base_row, self.base_col = base_row, base_col

    def class_distances(self, c: int) -> np.ndarray:
        s = self.source.spacing
        fx, fy = self.classes[c]
        extent = self.source.extent
        dx = periodic_delta(self.d_col * s - fx, 0.0, extent)
        dy = periodic_delta(self.d_row * s - fy, 0.0, extent)
        return np.hypot(dx, dy)

    def sources(self, targets: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """Source indices of ``targets`` at window ``offsets`` (broadcast against each other)."""
        return self.source.index(self.base_row[targets] + self.d_row[offsets],
                                 self.base_col[targets] + self.d_col[offsets])


def _rng(seed):
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


@dataclass(frozen=True)
class IndegreeTables:
    """What :func:`fixed_indegree` draws from, as plain arrays: each target ``j`` draws
    ``k`` uniform numbers ``u`` (one stream, target after target) and takes the window
    offset ``o = min(searchsorted(cumulative[class_of[j]], u, 'right'), window - 1)``, the
    source at row ``base_row[j] + d_row[o]`` and column ``base_col[j] + d_col[o]`` of the
    source lattice (wrapped). The compiled draw (:mod:`brianlab.networks.indegree`) reads
    the same arrays, so both give the same synapses for the same stream.

    Parameters
    ----------
    k : int
        Draws per target.
    side : int
        The source lattice's side.
    cumulative : ndarray, shape (classes, window)
        Each target class's normalised cumulative Gaussian weights over the window.
    class_of, base_row, base_col : ndarray of int32, shape (targets,)
        Each target's class, and the row and column of the source site nearest below it
        (the window's origin).
    d_row, d_col : ndarray of int32, shape (window,)
        The window's row and column offsets.
    """

    k: int
    side: int
    cumulative: np.ndarray
    class_of: np.ndarray
    base_row: np.ndarray
    base_col: np.ndarray
    d_row: np.ndarray
    d_col: np.ndarray

    @property
    def targets(self) -> int:
        """Number of targets."""
        return len(self.class_of)

    @property
    def draws(self) -> int:
        """Uniform numbers the draw takes from its stream: ``k`` per target."""
        return self.targets * self.k

    def sources(self, targets: np.ndarray, draws: np.ndarray) -> np.ndarray:
        """Source indices of ``targets`` (shape (n,)) for ``draws`` (shape (n, k)).

        Parameters
        ----------
        targets : ndarray of int, shape (n,)
            Target indices.
        draws : ndarray of float, shape (n, k)
            Uniform numbers in [0, 1), ``k`` per target.

        Returns
        -------
        ndarray of int64, shape (n, k)
            Indices on the source lattice (``row * side + col``).
        """
        offsets = np.empty(draws.shape, dtype=np.int64)
        classes = self.class_of[targets]
        for c in np.unique(classes):
            rows = classes == c
            offsets[rows] = np.searchsorted(self.cumulative[c], draws[rows], side="right")
        np.minimum(offsets, self.cumulative.shape[1] - 1, out=offsets)
        rows = self.base_row[targets, None].astype(np.int64) + self.d_row[offsets]
        cols = self.base_col[targets, None].astype(np.int64) + self.d_col[offsets]
        return (rows % self.side) * self.side + cols % self.side


def indegree_tables(source: Lattice, target: Lattice, k: int, sigma: float, *,
                    allow_self: bool = True,
                    same_population: bool | None = None) -> IndegreeTables:
    """The tables of :func:`fixed_indegree` (same parameters, without the seed).

    Parameters
    ----------
    source, target : Lattice
        On one torus.
    k : int
        In-degree of every target.
    sigma : float
        Standard deviation of the Gaussian, in the lattices' length unit.
    allow_self : bool
        If False and source and target are the same population, a neuron never
        draws itself.
    same_population : bool, optional
        Whether source and target are one population (default: equal lattices).

    Returns
    -------
    IndegreeTables

    Raises
    ------
    ValueError
        As :func:`fixed_indegree`.
    """
    _check(source, target, sigma)
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    same = (source == target) if same_population is None else same_population
    if k > source.n:
        raise ValueError(f"k = {k} is larger than the source population ({source.n})")
    win = _Window(source, target, sigma, None)
    tables = []
    for c in range(len(win.classes)):
        d = win.class_distances(c)
        w = np.exp(-(d**2) / (2 * sigma**2))
        w[d > win.radius] = 0.0
        if same and not allow_self:
            w[d < 1e-9] = 0.0
        cum = np.cumsum(w)
        if cum[-1] <= 0:
            raise ValueError("no source within reach of a target; increase sigma")
        tables.append(cum / cum[-1])
    return IndegreeTables(int(k), source.side, np.array(tables),
                          win.class_of.astype(np.int32), win.base_row.astype(np.int32),
                          win.base_col.astype(np.int32), win.d_row.astype(np.int32),
                          win.d_col.astype(np.int32))


def fixed_indegree(source: Lattice, target: Lattice, k: int, sigma: float, *, seed=None,
                   allow_self: bool = True, same_population: bool | None = None,
                   chunk: int = 100_000) -> Connections:
    """Each target draws ``k`` sources with probability falling as a Gaussian of distance.

    Draws are with replacement (multapses allowed), which makes the expected total
    weight from each source exactly proportional to the Gaussian kernel. The draw is
    :class:`IndegreeTables` and ``k`` numbers per target of ``seed``'s stream
    (``Generator.random``, target after target).

    Parameters
    ----------
    source, target : Lattice
        On one torus.
    k : int
        In-degree of every target.
    sigma : float
        Standard deviation of the Gaussian, in the lattices' length unit.
    seed : int or numpy.random.Generator, optional
        Seed of the draws.
    allow_self : bool
        If False and source and target are the same population, a neuron never
        draws itself.
    same_population : bool, optional
        Whether source and target are one population (default: equal lattices).
    chunk : int
        Targets processed at once (bounds memory).

    Returns
    -------
    Connections
        ``k`` synapses per target, without weights.

    Raises
    ------
    ValueError
        For lattices on different tori, a non-positive ``sigma`` or ``k``.
    """
    tables = indegree_tables(source, target, k, sigma, allow_self=allow_self,
                             same_population=same_population)
    rng = _rng(seed)
    n_t = target.n
    i_out = np.empty(n_t * k, dtype=np.int32)
    for start in range(0, n_t, chunk):
        targets = np.arange(start, min(start + chunk, n_t))
        i_out[start * k:(start + len(targets)) * k] = \
            tables.sources(targets, rng.random((len(targets), k))).ravel()
    j_out = np.repeat(np.arange(n_t, dtype=np.int32), k)
    return Connections(i_out, j_out)


def kernel_sum(source: Lattice, target: Lattice, sigma: float, *,
               allow_self: bool = True, same_population: bool | None = None) -> float:
    """Mean over targets of ``sum_sources exp(-d**2 / (2 sigma**2))`` (cut off at ~5.3 sigma).

    The total weight each target receives from the dense kernel; for sigma well
    above the source spacing it equals the Gaussian's integral ``2 pi sigma**2 /
    spacing**2``. Computed once per distinct target offset, so it is cheap.

    Parameters
    ----------
    source, target : Lattice
        On one torus.
    sigma : float
        Standard deviation of the Gaussian.
    allow_self : bool
        Whether a neuron's own term counts (same population only).
    same_population : bool, optional
        Whether source and target are one population (default: equal lattices).

    Returns
    -------
    float
    """
    _check(source, target, sigma)
    same = (source == target) if same_population is None else same_population
    win = _Window(source, target, sigma, None)
    sums = np.empty(len(win.classes))
    for c in range(len(win.classes)):
        d = win.class_distances(c)
        w = np.where(d <= win.radius, np.exp(-(d**2) / (2 * sigma**2)), 0.0)
        if same and not allow_self:
            w[d < 1e-9] = 0.0
        sums[c] = w.sum()
    return float(np.bincount(win.class_of, minlength=len(sums)) @ sums / target.n)


def _pairs_within(win: _Window, targets: np.ndarray):
    """All (target, window offset, distance) within the cutoff, for a chunk of targets."""
    rows, offs, dists = [], [], []
    classes = win.class_of[targets]
    for c in np.unique(classes):
        d = win.class_distances(c)
        keep = np.nonzero(d <= win.radius)[0]
        t = targets[classes == c]
        rows.append(np.repeat(t, len(keep)))
        offs.append(np.tile(keep, len(t)))
        dists.append(np.tile(d[keep], len(t)))
    return np.concatenate(rows), np.concatenate(offs), np.concatenate(dists)


def _pairwise(source, target, sigma, cutoff, allow_self, same_population, chunk, select):
    _check(source, target, sigma)
    same = (source == target) if same_population is None else same_population
    win = _Window(source, target, sigma, cutoff)
    parts_i, parts_j, parts_w, parts_d = [], [], [], []
    per_target = max(1, len(win.d_row))
    step = max(1, chunk // per_target)
    for start in range(0, target.n, step):
        targets = np.arange(start, min(start + step, target.n))
        t, off, d = _pairs_within(win, targets)
        if same and not allow_self:
            keep = d > 1e-9
            t, off, d = t[keep], off[keep], d[keep]
        w = np.exp(-(d**2) / (2 * sigma**2))
        keep = select(w)
        t, off, d, w = t[keep], off[keep], d[keep], w[keep]
        parts_i.append(win.sources(t, off).astype(np.int32))
        parts_j.append(t.astype(np.int32))
        parts_w.append(w)
        parts_d.append(d)
    return Connections(np.concatenate(parts_i), np.concatenate(parts_j),
                       np.concatenate(parts_w), np.concatenate(parts_d))


def gaussian_probability(source: Lattice, target: Lattice, p_max: float, sigma: float, *,
                         seed=None, allow_self: bool = True, same_population=None,
                         chunk: int = 20_000_000) -> Connections:
    """Each pair connects independently with probability ``p_max exp(-d**2/(2 sigma**2))``.

    Parameters
    ----------
    source, target : Lattice
        On one torus.
    p_max : float
        Probability at distance 0, in (0, 1].
    sigma : float
        Standard deviation of the Gaussian.
    seed : int or numpy.random.Generator, optional
        Seed of the draws.
    allow_self : bool
        Whether a neuron may connect to itself (same population only).
    same_population : bool, optional
        Whether source and target are one population (default: equal lattices).
    chunk : int
        Candidate pairs processed at once (bounds memory).

    Returns
    -------
    Connections
        Without weights.
    """
    if not 0 < p_max <= 1:
        raise ValueError(f"p_max must be in (0, 1], got {p_max!r}")
    rng = _rng(seed)
    conn = _pairwise(source, target, sigma, None, allow_self, same_population, chunk,
                     lambda w: rng.random(len(w)) < p_max * w)
    conn.weight = None
    return conn


def gaussian_kernel(source: Lattice, target: Lattice, sigma: float, *, cutoff: float | None = None,
                    allow_self: bool = True, same_population=None,
                    chunk: int = 20_000_000) -> Connections:
    """All pairs within ``cutoff``, weighted ``exp(-d**2/(2 sigma**2))``.

    The dense Gaussian convolution of the CMSA lab report; use it for small sheets.

    Parameters
    ----------
    source, target : Lattice
        On one torus.
    sigma : float
        Standard deviation of the Gaussian.
    cutoff : float, optional
        Largest distance connected (default ~5.3 sigma, where the weight is 1e-6).
    allow_self : bool
        Whether a neuron connects to itself (same population only).
    same_population : bool, optional
        Whether source and target are one population (default: equal lattices).
    chunk : int
        Candidate pairs processed at once (bounds memory).

    Returns
    -------
    Connections
        With ``weight`` and ``distance``.
    """
    return _pairwise(source, target, sigma, cutoff, allow_self, same_population, chunk,
                     lambda w: np.ones(len(w), dtype=bool))


def expected_indegree(rule: str, source: Lattice, target: Lattice, sigma: float,
                      p_max: float = 1.0) -> float:
    """Sources a target receives under a Gaussian rule without a fixed in-degree.

    ``kernel``: every source within :data:`CUTOFF_SIGMAS` sigma (the disc's area in
    source spacings, at most the whole source lattice); ``probability``: ``p_max`` times
    the kernel's sum (:func:`kernel_sum`), the expected count. The one estimate behind
    ``CMSAParams.n_synapses`` and ``NetworkFile.expected_synapses``.

    Parameters
    ----------
    rule : {"kernel", "probability"}
    source, target : Lattice
    sigma : float
        Gaussian width in the torus' length units.
    p_max : float
        Peak probability (``probability``).

    Returns
    -------
    float
    """
    if rule == "kernel":
        radius = CUTOFF_SIGMAS * sigma / source.spacing
        return min(float(source.side**2), np.pi * radius**2)
    if rule == "probability":
        return p_max * kernel_sum(source, target, sigma)
    raise ValueError(f"expected rule 'kernel' or 'probability', got {rule!r}")
