"""Fixed in-degree connectivity drawn by the compiled binary (issue 26).

:func:`brianlab.space.fixed_indegree` draws each target's ``k`` sources in Python from
``numpy.random.default_rng(seed)``: at a million neurons the index arrays, their copies and
the static array files are most of a build's memory, and a new connectivity seed means a
new build. Here the same draw is a Brian2 :class:`~brian2.core.functions.Function` called
by ``Synapses.connect``'s generator syntax, one call per synapse, target after target::

    S.connect(i="draw_ee(j, k, conn_seed_post) for k in range(K)", namespace={"draw_ee": f})

Its C++ is numpy's own generator: ``SeedSequence`` (a pool of four 32-bit words) and
``PCG64`` (128-bit LCG, XSL-RR output) seeded from the connectivity seed, ``random()`` as
``(next64 >> 11) * 2**-53``, jumped ahead to the pathway's first number (``first``: the
numbers the pathways before it took from the same stream) and then stepped once per call;
the number picks a window offset from the target's table and the source lattice's wrapped
index (:class:`brianlab.space.IndegreeTables`). So the binary creates the synapses
:func:`~brianlab.space.fixed_indegree` returns for the same seed, in the same order
(``tests/test_indegree.py``), Python never holds them, and the seed is a value of the
target group that ``run_args`` can change (one build for every connectivity seed).
"""

from __future__ import annotations

import numpy as np
from brian2 import Function, get_device
from brian2.devices.cpp_standalone.device import CPPStandaloneDevice

from ..space import IndegreeTables

__all__ = ["PCG64_CPP", "draw_function", "guide_table", "reference_stream", "Draws", "in_binary",
           "drawn_in_binary", "SEED_VARIABLE", "SEED_EQUATION", "MAX_SEED"]

#: numpy's SeedSequence and PCG64 in C++ (``brianlab_pcg::PCG64``: ``seed``, ``advance``,
#: ``next64``, ``random``), once per code object however many functions use it.
PCG64_CPP = """#ifndef BRIANLAB_PCG64
#define BRIANLAB_PCG64
namespace brianlab_pcg {
typedef __uint128_t u128;
static inline uint32_t hashmix(uint32_t value, uint32_t &hash_const) {
    value ^= hash_const;
    hash_const *= 0x931e8875u;
    value *= hash_const;
    value ^= value >> 16;
    return value;
}
static inline uint32_t mix(uint32_t x, uint32_t y) {
    uint32_t result = 0xca01f9ddu * x - 0x4973f715u * y;
    result ^= result >> 16;
    return result;
}
struct PCG64 {
    u128 state, inc;
    inline void step() {
        const u128 mult = (((u128)2549297995355413924ULL) << 64) + 4865540595714422341ULL;
        state = state * mult + inc;
    }
    inline uint64_t next64() {
        step();
        uint64_t x = ((uint64_t)(state >> 64)) ^ (uint64_t)state;
        unsigned rot = (unsigned)(state >> 122);
        return (x >> rot) | (x << ((-rot) & 63));
    }
    inline double random() { return (next64() >> 11) * (1.0 / 9007199254740992.0); }
    // numpy.random.PCG64(seed) for 0 <= seed < 2**64 (SeedSequence entropy = seed)
    void seed(uint64_t s) {
        uint32_t entropy[2] = {(uint32_t)s, (uint32_t)(s >> 32)};
        int n_entropy = (s >> 32) ? 2 : 1;
        uint32_t pool[4];
        uint32_t hash_const = 0x43b0d7e5u;
        for (int i = 0; i < 4; i++)
            pool[i] = hashmix(i < n_entropy ? entropy[i] : 0u, hash_const);
        for (int i_src = 0; i_src < 4; i_src++)
            for (int i_dst = 0; i_dst < 4; i_dst++)
                if (i_src != i_dst)
                    pool[i_dst] = mix(pool[i_dst], hashmix(pool[i_src], hash_const));
        uint32_t words[8];
        uint32_t hash_b = 0x8b51f9ddu;
        for (int i = 0; i < 8; i++) {
            uint32_t v = pool[i % 4];
            v ^= hash_b;
            hash_b *= 0x58f38dedu;
            v *= hash_b;
            v ^= v >> 16;
            words[i] = v;
        }
        uint64_t val[4];
        for (int i = 0; i < 4; i++) val[i] = (uint64_t)words[2 * i] | ((uint64_t)words[2 * i + 1] << 32);
        u128 initstate = (((u128)val[0]) << 64) + val[1];
        u128 initseq = (((u128)val[2]) << 64) + val[3];
        state = 0;
        inc = (initseq << 1) | 1;
        step();
        state += initstate;
        step();
    }
    // jump ahead by delta draws (as numpy's PCG64.advance)
    void advance(u128 delta) {
        const u128 mult = (((u128)2549297995355413924ULL) << 64) + 4865540595714422341ULL;
        u128 acc_mult = 1, acc_plus = 0, cur_mult = mult, cur_plus = inc;
        while (delta > 0) {
            if (delta & 1) { acc_mult *= cur_mult; acc_plus = acc_plus * cur_mult + cur_plus; }
            cur_plus = (cur_mult + 1) * cur_plus;
            cur_mult *= cur_mult;
            delta >>= 1;
        }
        state = acc_mult * state + acc_plus;
    }
};
}
#endif
"""

_DRAW_CPP = """
static inline int32_t %NAME%(const int32_t j, const int32_t k, const int32_t seed)
{
    static brianlab_pcg::PCG64 generator;
    static long long following = -1;
    static int32_t seeded = -1;
    const long long n = %FIRST%LL + (long long)j * %K%LL + k;
    if (seed != seeded || n != following) {  // the first call, or out of order
        generator.seed((uint64_t)seed);
        generator.advance((brianlab_pcg::u128)n);
        seeded = seed;
    }
    following = n + 1;
    const double u = generator.random();
    const long long row0 = (long long)_namespace%NAME%_class_of[j] * %WINDOW%LL;
    const double *cumulative = _namespace%NAME%_cumulative + row0;
    // the first entry above u (numpy's side='right'): from the guide table's entry of the
    // bucket below u's (b/W <= u whatever the rounding of u*W), a short scan up
    long long bucket = (long long)(u * %WINDOW%);
    if (bucket >= %WINDOW%LL) bucket = %WINDOW%LL - 1;
    if (bucket > 0) bucket -= 1;
    long long low = _namespace%NAME%_guide[row0 + bucket];
    while (low < %WINDOW%LL && cumulative[low] <= u) low++;
    const long long offset = low < %WINDOW%LL - 1 ? low : %WINDOW%LL - 1;
    long long row = ((long long)_namespace%NAME%_base_row[j] + _namespace%NAME%_d_row[offset]) %% %SIDE%LL;
    long long col = ((long long)_namespace%NAME%_base_col[j] + _namespace%NAME%_d_col[offset]) %% %SIDE%LL;
    if (row < 0) row += %SIDE%LL;
    if (col < 0) col += %SIDE%LL;
    return (int32_t)(row * %SIDE%LL + col);
}
"""


def guide_table(cumulative: np.ndarray) -> np.ndarray:
    """Where the search for a uniform number starts: ``guide[c, b]`` is the first window
    offset whose cumulative weight exceeds ``b / W`` (``W`` the window's length, ``b < W``),
    for each target class ``c``.

    The compiled draw starts at the bucket below the number's and steps up while the
    cumulative weight is at most the number: the offset ``searchsorted(..., side='right')``
    finds, exactly, after two steps on average whatever the weights (the buckets have equal
    probability), where a bisection over a window of thousands of offsets takes a dozen
    dependent loads.

    Parameters
    ----------
    cumulative : ndarray, shape (classes, window)
        :attr:`~brianlab.space.IndegreeTables.cumulative`.

    Returns
    -------
    ndarray of int32, shape (classes, window)
    """
    window = cumulative.shape[1]
    thresholds = np.arange(window) / window
    # (one searchsorted per target class: a handful of classes, each vectorised)
    return np.stack([np.searchsorted(row, thresholds, side="right") for row in cumulative]
                    ).astype(np.int32)


def draw_function(name: str, tables: IndegreeTables, first: int = 0) -> Function:
    """The compiled draw of one pathway, for ``Synapses.connect``'s generator syntax.

    Parameters
    ----------
    name : str
        The function's name in the generated code (unique per pathway of a network).
    tables : IndegreeTables
        The pathway's tables (:func:`brianlab.space.indegree_tables`).
    first : int
        Numbers the stream gave before this pathway (the pathways drawn before it from the
        same seed, :attr:`IndegreeTables.draws` each).

    Returns
    -------
    brian2.Function
        ``name(j, k, seed) -> i``: the source of target ``j``'s ``k``-th synapse
        (C++ only: the runtime device draws in Python, :func:`brianlab.space.fixed_indegree`).
    """
    if not name.isidentifier():
        raise ValueError(f"{name!r}: expected a C identifier")
    code = (_DRAW_CPP.replace("%NAME%", name).replace("%FIRST%", str(int(first)))
            .replace("%K%", str(tables.k)).replace("%WINDOW%", str(tables.cumulative.shape[1]))
            .replace("%SIDE%", str(tables.side)).replace("%%", "%"))
    namespace = {f"{name}_cumulative": np.ascontiguousarray(tables.cumulative.ravel()),
                 f"{name}_guide": guide_table(tables.cumulative).ravel(),
                 f"{name}_class_of": tables.class_of, f"{name}_base_row": tables.base_row,
                 f"{name}_base_col": tables.base_col, f"{name}_d_row": tables.d_row,
                 f"{name}_d_col": tables.d_col}
    function = Function(pyfunc=None, arg_units=[1, 1, 1], arg_names=["j", "k", "seed"],
                        return_unit=1, arg_types=["integer", "integer", "integer"],
                        return_type="integer", stateless=False)
    function.implementations.add_implementation(
        "cpp", {"support_code": PCG64_CPP + code}, namespace=namespace, name=name)
    return function


def reference_stream(seed: int, first: int, count: int) -> np.ndarray:
    """``count`` numbers of ``default_rng(seed).random()`` from the ``first``-th on (the
    stream the compiled draw takes; for tests).

    Parameters
    ----------
    seed : int
        The stream's seed.
    first : int
        Numbers of the stream skipped.
    count : int
        Numbers returned.

    Returns
    -------
    ndarray of float64, shape (count,)
        Uniform in [0, 1).
    """
    generator = np.random.PCG64(seed)
    generator.advance(first)
    return np.random.Generator(generator).random(count)


#: The variable of each target group that holds the connectivity seed: a value of the
#: group, so ``run_args`` can change it (applied before the synapses are created, see
#: :class:`Draws`).
SEED_VARIABLE = "conn_seed"
#: Its equation.
SEED_EQUATION = f"{SEED_VARIABLE} : integer (constant, shared)"
#: The largest seed the variable holds (an int32).
MAX_SEED = 2**31 - 1


def drawn_in_binary(device: str, seed) -> bool:
    """Whether a fixed in-degree draw of ``seed`` on the device named ``device`` runs in
    the binary: Brian2's ``cpp_standalone`` (not brian2cuda's, whose generated code does
    not take brianlab's functions yet) with a fixed seed the variable holds.

    Parameters
    ----------
    device : str
        A device name (:data:`brianlab.toolchain.DEVICES`).
    seed : int or None
        The connectivity seed.

    Returns
    -------
    bool
    """
    return device == "cpp_standalone" and seed is not None and 0 <= int(seed) <= MAX_SEED


def in_binary(seed) -> bool:
    """:func:`drawn_in_binary` on the active Brian2 device.

    Parameters
    ----------
    seed : int or None
        The connectivity seed.

    Returns
    -------
    bool
    """
    device = "cpp_standalone" if type(get_device()) is CPPStandaloneDevice else "other"
    return drawn_in_binary(device, seed)


class Draws:
    """The compiled fixed in-degree draws of one network, from one stream.

    The pathways are drawn in the order :meth:`connect` is called, each taking
    :attr:`~brianlab.space.IndegreeTables.draws` numbers of ``default_rng(seed)`` after
    those of the pathways before it, as :func:`brianlab.space.fixed_indegree` does with one
    generator. The first call inserts Brian2's run-time values into ``main`` before the
    synapses are created (``set_from_command_line``), so a run's ``conn_seed`` decides the
    synapses; Brian2 applies the values again just before the run, so a value the build
    sets in between is replaced by the run's as before.

    Parameters
    ----------
    seed : int
        The connectivity seed (each target group's ``conn_seed`` is set to it; a run can
        change it).
    """

    def __init__(self, seed: int):
        self.seed = int(seed)
        self.first = 0
        self._started = False

    def connect(self, synapses, tables: IndegreeTables):
        """Create ``synapses`` by the compiled draw of ``tables``.

        The index arrays are allocated at their final size first (``reserve``: no copies
        while they grow, and no moment with the old and the grown array both held).

        Parameters
        ----------
        synapses : brian2.Synapses
            Not yet connected; its target group has :data:`SEED_EQUATION`.
        tables : IndegreeTables
            The pathway's tables (:func:`brianlab.space.indegree_tables`).
        """
        if not self._started:
            get_device().insert_code("main", "set_from_command_line(args);")
            self._started = True
        device = get_device()
        for var in ("_synaptic_pre", "_synaptic_post"):  # the final size, allocated once
            array = device.get_array_name(synapses.variables[var], access_data=False)
            device.insert_code("main", f"{array}.reserve({array}.size() + {tables.draws}LL);")
        name = f"_draw_{synapses.name}"
        function = draw_function(name, tables, self.first)
        synapses.connect(i=f"{name}(j, k, {SEED_VARIABLE}_post) for k in range({tables.k})",
                         namespace={name: function})
        self.first += tables.draws
