"""The model catalogue: one documentation page per model, generated from the model files.

:func:`write_catalogue` writes MyST Markdown pages (an index filterable by kind, and one
page per model listing every version: summary, equations typeset from the file through
sympy, a parameter table, initial values, threshold/reset/refractoriness, sha256, notes,
references, the diff to the previous version and the cross-simulator checks of the test
suite) and one figure per version computed by :mod:`brianlab.characterize`:

- neurons: voltage during current steps around the rheobase, and the f-I curve;
- receptors: input variable, current and PSP after one spike onto ``lif`` at -60 mV;
- synapses: the STDP window (plastic models) and the weight each spike of a 20 Hz
  train transmits;
- rate models: the time course from the initial values, and the phase plane (two
  states) or the rate of change against the state (one state) with the fixed points;
  the continuous-attractor models their bump.

Figures are cached by the sha256 of the model file, of the models the protocol uses and
of the code that draws them: an unchanged file is never simulated again, a changed one
always is. The documentation build (``docs/conf.py``) calls :func:`write_catalogue`.
"""

from __future__ import annotations

import ast
import difflib
import functools
import hashlib
import inspect
import re
import textwrap
import tomllib
from pathlib import Path

import numpy as np
import sympy
from brian2 import Network, SpikeMonitor, ms, nA, pA, prefs
from brian2.equations.equations import DIFFERENTIAL_EQUATION, PARAMETER, SUBEXPRESSION
from brian2.utils.logger import BrianLogger
from brian2.utils.stringtools import get_identifiers
from matplotlib.figure import Figure

from . import characterize, plot
from .analysis import dynamics
from .compose import neuron_group
from .library import ModelEntry, list_models, load_model, load_network
from .modelfile import Model
from .networks.cann import build_cann
from .networks.fi import simulate_fi
from .plot import fi_curve, phase_plane, raster, traces
from .units import ModelError, unit_string

__all__ = ["write_catalogue", "model_figure", "equations_latex", "cross_checks",
           "figure_key"]

KIND_ORDER = ("neuron", "receptor", "synapse", "rate")
#: models whose catalogue figure is drawn by a network builder rather than one unit
CANN_MODELS = {"cann_1d": 1, "cann_2d": 2}
_UNIT_LATEX = {"1": "", "volt": r"\mathrm{V}", "amp": r"\mathrm{A}", "siemens": r"\mathrm{S}",
               "second": r"\mathrm{s}", "farad": r"\mathrm{F}", "hertz": r"\mathrm{Hz}"}


# ---------------------------------------------------------------------------
# equations


def _latex(code: str) -> str:
    """LaTeX of a Brian2 expression as written (numbers are not evaluated).

    Parsed by sympy with every name a symbol or a function of its own, unevaluated; not
    through Brian2's ``str_to_sympy``, whose cache may return an evaluated form.
    """
    known = {"exp": sympy.exp, "log": sympy.log, "sqrt": sympy.sqrt, "sin": sympy.sin,
             "cos": sympy.cos, "tan": sympy.tan, "tanh": sympy.tanh, "abs": sympy.Abs}
    names = {}
    for name in get_identifiers(code):
        if re.search(rf"\b{re.escape(name)}\s*\(", code):
            names[name] = known.get(name, sympy.Function(name))
        else:
            names[name] = sympy.Symbol(name)
    try:
        return sympy.latex(sympy.parse_expr(code, local_dict=names, evaluate=False))
    except Exception:  # an expression sympy cannot take is shown verbatim, never changed
        return r"\texttt{" + code.replace("_", r"\_").replace("*", r"\ast ") + "}"


def _symbol(name: str) -> str:
    return sympy.latex(sympy.Symbol(name))


def equations_latex(model: Model) -> str:
    """The model's equations as one LaTeX ``aligned`` block.

    Parameters
    ----------
    model : Model
        Any model with equations.

    Returns
    -------
    str
        One line per equation: ``d x/dt = ...``, ``name = ...`` (subexpressions) or a
        declared variable, each with its unit and flags.
    """
    lines = []
    for name, eq in model.equations.items():
        unit = unit_string(eq.dim)
        unit_tex = _UNIT_LATEX.get(unit, r"\mathrm{" + unit.replace("**", "^") + "}")
        tail = (r"\quad [" + unit_tex + "]") if unit_tex else r"\quad [1]"
        if eq.flags:
            tail += r"\quad \text{(" + ", ".join(eq.flags) + ")}"
        if eq.type == DIFFERENTIAL_EQUATION:
            lhs = r"\frac{\mathrm{d}" + _symbol(name) + r"}{\mathrm{d}t}"
            lines.append(lhs + " &= " + _latex(eq.expr.code) + tail)
        elif eq.type == SUBEXPRESSION:
            lines.append(_symbol(name) + " &= " + _latex(eq.expr.code) + tail)
        else:
            lines.append(_symbol(name) + r" &\quad \text{(set by the user or a network)}" + tail)
    return "\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}"


# ---------------------------------------------------------------------------
# figures


def _figure(ncols: int, width: float = 4.2, height: float = 3.0):
    fig = Figure(figsize=(width * ncols, height), layout="constrained")
    return fig, fig.subplots(1, ncols, squeeze=False)[0]


def _neuron_figure(model: Model):
    if "I_ext" not in model.equations:  # e.g. a Poisson source: its spikes
        return _source_figure(model)
    rheo = characterize.rheobase(model)
    spontaneous = rheo <= 1.01 * pA
    top = 1 * nA if spontaneous else 3 * rheo
    fig, (ax_v, ax_f) = _figure(2)
    amps = np.array([0.0, 0.3, 0.6]) * nA if spontaneous else np.array([0.8, 1.2, 2.0]) * rheo
    t, v = characterize.step_response(model, amps)
    traces(t, v, ax_v, labels=[f"{float(a / pA):.0f} pA" for a in amps], ylabel="v (mV)", lw=0.8)
    ax_v.axvspan(20, 170, color="0.92", zorder=0)
    ax_v.set_title("current steps (shaded: input on)", fontsize=9)
    currents = np.linspace(0, float(top / pA), 25) * pA
    rates = simulate_fi(model, currents, 1000 * ms, t_start=200 * ms)
    fi_curve(currents / nA, rates, ax_f, label=model.ref)
    ax_f.set_title("f-I curve (1 s, rate from the mean interspike interval)", fontsize=9)
    return fig


def _source_figure(model: Model):
    group = neuron_group(model, 50)
    spikes = SpikeMonitor(group)
    Network(group, spikes).run(1000 * ms)
    fig, (ax,) = _figure(1, width=6)
    raster(spikes.t / ms, spikes.i[:], ax, markersize=2)
    ax.set_title(f"50 units with the initial values, 1 s ({spikes.num_spikes} spikes)",
                 fontsize=9)
    return fig


def _receptor_figure(model: Model):
    d = characterize.psp(model)
    fig, axes = _figure(3, width=3.4)
    axes[0].plot(d["t"], d["input"], "C0")
    axes[0].set_ylabel(f"{d['input_name']} (input variable)")
    axes[1].plot(d["t"], d["current"], "C1")
    axes[1].set_ylabel("receptor current (pA)")
    axes[2].plot(d["t"], d["psp"], "C2")
    axes[2].set_ylabel("PSP: v - (-60 mV) (mV)")
    for ax in axes:
        ax.set_xlabel("time (ms)")
        ax.axvline(10, color="0.7", lw=0.8, ls="--")
    axes[1].set_title("one spike at 10 ms, weight 1, onto lif at -60 mV", fontsize=9)
    return fig


def _synapse_figure(model: Model):
    plastic = model.on_post is not None
    fig, axes = _figure(2 if plastic else 1, width=4.6)
    if plastic:
        lags = np.linspace(-60, 60, 49)
        lags = lags[lags != 0]
        dw = characterize.stdp_window(model, lags * ms)
        axes[0].plot(lags, dw, "o-", ms=3)
        axes[0].axhline(0, color="0.6", lw=0.8)
        axes[0].set_xlabel("t_post - t_pre (ms)")
        axes[0].set_ylabel("weight change")
        axes[0].set_title("one spike pair per synapse, from the initial weight", fontsize=9)
    times, increments = characterize.train_response(model)
    unit = "" if model.target_unit == "1" else f" ({model.target_unit})"
    if model.target_unit == "volt":
        increments, unit = np.asarray(increments) * 1e3, " (mV)"
    ax = axes[-1]
    ax.bar(np.arange(1, len(times) + 1), increments, color="C1")
    ax.set_xlabel("spike number (regular train, 20 Hz)")
    ax.set_ylabel(f"increment of {model.target}_post{unit}")
    ax.set_title("what each presynaptic spike transmits", fontsize=9)
    return fig


def _driven_states(system) -> list[str]:
    """States whose rate of change depends on another state or non-linearly on itself."""
    out = []
    for state in system.states:
        expr = system.rhs[state]
        others = {s.name for s in expr.free_symbols} - {state}
        me = [s for s in expr.free_symbols if s.name == state]
        nonlinear = bool(me) and sympy.diff(expr, me[0], 2) != 0
        if others or nonlinear:
            out.append(state)
    return out


def _rate_figure(model: Model):
    if model.name in CANN_MODELS:
        return _cann_figure(model)
    t, values = characterize.rate_trajectory(model)
    system = model.ode_system()
    driven = _driven_states(system)
    inputs = [name for name, eq in model.equations.items()
              if name.startswith("I_ext") and eq.type == PARAMETER]
    fig, axes = _figure(3 if inputs else 2, width=3.9)
    ax_t, ax_p = axes[:2]
    for name, trace in values.items():
        ax_t.plot(t, trace, label=name)
    ax_t.set_xlabel("time (ms)")
    ax_t.set_ylabel("state (SI units)")
    ax_t.legend(fontsize=8)
    ax_t.set_title("from the initial values, no input", fontsize=9)
    span = [min(0.0, *(v.min() for v in values.values())) - 0.1,
            max(1.0, *(v.max() for v in values.values())) + 0.1]
    grid = np.linspace(span[0], span[1], 121)
    if len(driven) >= 2:
        x, y = driven[:2]
        dx, dy = dynamics.vector_field(system, x, y, grid, grid)
        order = [system.states.index(x), system.states.index(y)]
        guesses = np.zeros((len(grid[::20]) ** 2, len(system.states)))
        guesses[:, order] = [[a, b] for a in grid[::20] for b in grid[::20]]
        points = dynamics.fixed_points(system, guesses)
        kinds = [dynamics.classify(dynamics.eigenvalues(system, p)) for p in points]
        phase_plane(grid, grid, dx, dy, ax_p, points=points[:, order] if len(points) else (),
                    kinds=kinds, names=(x, y))
        ax_p.plot(values[x], values[y], "k-", lw=0.8)
    else:
        x = driven[0] if driven else system.states[0]
        dx, _ = dynamics.vector_field(system, x, x, grid, grid[:1])
        ax_p.plot(grid, dx[0] / 1000.0, "C0")
        ax_p.axhline(0, color="0.6", lw=0.8)
        guesses = np.zeros((len(grid[::6]), len(system.states)))
        guesses[:, system.states.index(x)] = grid[::6]
        points = dynamics.fixed_points(system, guesses)
        for p in points:
            kind = dynamics.classify(dynamics.eigenvalues(system, p))
            ax_p.plot(p[system.states.index(x)], 0, "o", mec="k",
                      color="k" if kind == "stable" else "w")
        ax_p.set_xlabel(x)
        ax_p.set_ylabel(f"d{x}/dt (per ms)")
        ax_p.set_title("fixed points: filled stable, open unstable", fontsize=9)
    if inputs:
        _transfer(model, inputs[0], driven[0] if driven else system.states[0], grid, axes[2])
    return fig


def _transfer(model: Model, name: str, state: str, grid, ax):
    """Steady states of ``state`` against a constant input ``name``: the model's transfer
    function, every branch (stable filled, unstable open) where it is multistable."""
    rows = characterize.steady_states(model, name, state, np.linspace(-2.0, 8.0, 41), grid[::10])
    for stable, face in ((True, "k"), (False, "w")):
        chosen = rows[rows[:, 2] == stable]
        ax.plot(chosen[:, 0], chosen[:, 1], "o", ms=3.5, mec="k", color=face,
                label="stable" if stable else "unstable")
    ax.set_xlabel(f"constant input {name}")
    ax.set_ylabel(f"steady {state}")
    ax.legend(fontsize=7)
    ax.set_title("transfer function: fixed points against input", fontsize=9)


def _cann_figure(model: Model):
    dims = CANN_MODELS[model.name]
    cann = build_cann(model, n=128 if dims == 1 else 32, name="catalogue")
    net = Network(*cann.objects)
    cann.group.I_ext = cann.gaussian_input(0.0 if dims == 1 else [0.0, 0.0])
    net.run(20 * ms)
    cann.group.I_ext = 0
    net.run(50 * ms)
    u = np.asarray(cann.group.u[:], dtype=float)
    fig, axes = _figure(2 if dims == 1 else 1, width=4.6)
    if dims == 1:
        bump = cann.stationary_bump()
        x = cann.positions
        axes[0].plot(x, u, "C0", label="simulated, 50 ms after the input")
        axes[0].plot(x, bump["height"] * np.exp(-x**2 / (4 * cann._value("a") ** 2)), "k--",
                     lw=0.8, label="analytic stationary bump")
        axes[0].set_xlabel("preferred position (rad)")
        axes[0].set_ylabel("synaptic input u")
        axes[0].legend(fontsize=7)
        axes[1].plot(x, np.asarray(cann.group.r[:], dtype=float), "C1")
        axes[1].set_xlabel("preferred position (rad)")
        axes[1].set_ylabel("firing rate r")
    else:
        image = axes[0].imshow(u.reshape(32, 32), origin="lower", extent=(-np.pi, np.pi) * 2,
                               cmap="viridis")
        axes[0].set_xlabel("x (rad)")
        axes[0].set_ylabel("y (rad)")
        fig.colorbar(image, ax=axes[0], label="synaptic input u")
    axes[0].set_title("the bump that stays after a 20 ms Gaussian input", fontsize=9)
    return fig


_DRAW = {"neuron": _neuron_figure, "receptor": _receptor_figure, "synapse": _synapse_figure,
         "rate": _rate_figure}


def model_figure(model: Model):
    """Simulate the standard protocol of a model's kind and draw it.

    Parameters
    ----------
    model : Model
        A model of any kind.

    Returns
    -------
    matplotlib.figure.Figure
        Not attached to pyplot (no backend is touched).
    """
    fig = _DRAW[model.kind](model)
    width = min(110, int(fig.get_figwidth() * 12.5))  # characters that fit across the figure
    fig.suptitle(textwrap.fill(f"{model.ref}: {model.summary}", width), fontsize=9)
    return fig


def _code_digest(source: str) -> str:
    """sha256 of Python code without its docstrings and comments (its abstract syntax tree):
    editing documentation does not invalidate the cached figures, editing code does."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(body, list) and body and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            body[0] = ast.Pass()
    return hashlib.sha256(ast.dump(tree).encode()).hexdigest()


def figure_key(model: Model) -> str:
    """The cache key of a model's figure.

    Parameters
    ----------
    model : Model
        A model loaded from a file.

    Returns
    -------
    str
        sha256 of the model file, of the helper models the protocols use (``lif``,
        ``static``) and of the code (docstrings and comments aside) of this module,
        :mod:`brianlab.characterize` and :mod:`brianlab.plot`.
    """
    digest = hashlib.sha256(model.sha256.encode())
    for helper in ("lif", "static"):
        digest.update(load_model(helper).sha256.encode())
    digest.update(_drawing_code_digest().encode())
    return digest.hexdigest()[:16]


@functools.cache
def _drawing_code_digest() -> str:
    """:func:`_code_digest` of this module, :mod:`brianlab.characterize` and
    :mod:`brianlab.plot` together (the code cannot change within one process)."""
    parts = [inspect.getsource(module) for module in (characterize, plot)]
    return "".join(_code_digest(part) for part in parts + [Path(__file__).read_text()])


# ---------------------------------------------------------------------------
# cross-simulator checks recorded on the tests


def cross_checks(test_files) -> dict[str, list[dict]]:
    """The ``@pytest.mark.compares(...)`` records of test files, by model name.

    Parameters
    ----------
    test_files : iterable of path
        Test modules; they are parsed, not imported.

    Returns
    -------
    dict
        Model name to a list of records (``models``, ``reference``, ``compared``,
        ``tolerance``, ``measured`` and the test's ``file::name``).
    """
    out: dict[str, list[dict]] = {}
    for path in map(Path, test_files):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef):
                continue
            for deco in node.decorator_list:
                if not (isinstance(deco, ast.Call) and ast.unparse(deco.func).endswith(
                        "mark.compares")):
                    continue
                record = {kw.arg: ast.literal_eval(kw.value) for kw in deco.keywords}
                record["test"] = f"tests/{path.name}::{node.name}"
                for ref in record["models"]:
                    out.setdefault(ref.split("@")[0], []).append(record)
    return out


# ---------------------------------------------------------------------------
# pages


def _md_escape(text: str) -> str:
    return text.replace("|", r"\|").replace("\n", " ")


def _raw_table(path: Path, key: str) -> dict:
    return tomllib.loads(path.read_text()).get(key, {})


def _version_section(entry: ModelEntry, version: int, figure: str, meanings: dict) -> str:
    model = load_model(f"{entry.name}@{version}")
    path = entry.path(version)
    raw_params = _raw_table(path, "parameters")
    raw_initial = _raw_table(path, "initial")
    own = meanings.get(entry.name, {})
    common = meanings.get("default", {})
    out = [f"## Version {version}", ""]
    if model.summary != load_model(f"{entry.name}@{entry.newest}").summary:
        out += [model.summary, ""]
    out += [f"- file: `{entry.kind}s/{entry.name}/{version}.toml` ({model.status})",
            f"- sha256: `{model.sha256}`"]
    for key, label in (("threshold", "threshold"), ("reset", "reset"),
                       ("refractory", "refractory period"), ("method", "integration method"),
                       ("on_pre", "on a presynaptic spike"), ("on_post", "on a postsynaptic spike"),
                       ("target", "drives the target variable"), ("input", "input variable"),
                       ("current", "current"), ("synaptic_current", "synaptic current")):
        value = getattr(model, key)
        if value:
            value = "; ".join(line.strip() for line in str(value).strip().splitlines())
            out.append(f"- {label}: `{value}`")
    if model.method is None and model.kind in ("neuron", "rate"):
        out.append("- integration method: Brian2's choice (exact where the equations are "
                   "linear, else Euler)")
    out += ["", "### Equations", "", "```{math}", equations_latex(model), "```", ""]
    if raw_params:
        out += ["### Parameters", "", "| name | value | meaning |", "|---|---|---|"]
        for name, value in raw_params.items():
            meaning = own.get(name, common.get(name, ""))
            out.append(f"| `{name}` | `{value}` | {_md_escape(meaning)} |")
        out.append("")
    if raw_initial:
        out += ["### Initial values", "", "| variable | value |", "|---|---|"]
        out += [f"| `{k}` | `{v}` |" for k, v in raw_initial.items()]
        out.append("")
    out += ["### Response", "", f"```{{image}} {figure}",
            f":alt: response of {model.ref} to its kind's standard protocol", "```", "",
            "Computed by `brianlab.catalogue.model_figure` at documentation build time "
            "(cached by the file's sha256).", ""]
    if model.notes.strip():
        out += ["### Notes", "", "```text", model.notes.strip(), "```", ""]
    if model.references:
        out += ["### References", ""] + [f"- {_md_escape(r)}" for r in model.references] + [""]
    if version > entry.versions[0]:
        previous = entry.versions[entry.versions.index(version) - 1]
        diff = difflib.unified_diff(entry.path(previous).read_text().splitlines(),
                                    path.read_text().splitlines(), f"{previous}.toml",
                                    f"{version}.toml", lineterm="")
        out += [f"### Changes from version {previous}", "", "```diff", *diff, "```", ""]
    return "\n".join(out)


def _page(entry: ModelEntry, figures: dict, meanings: dict, checks: list[dict]) -> str:
    newest = load_model(f"{entry.name}@{entry.newest}")
    out = [f"(model-{entry.name})=", f"# `{entry.name}`", "",
           f"**{entry.kind}** model · versions "
           + ", ".join(str(v) for v in entry.versions)
           + f" · `load_model(\"{entry.name}\")` gives version {entry.newest}", "",
           newest.summary, ""]
    if checks:
        out += ["## Checked against independent references", "",
                "| versions | reference | compared | tolerance | measured | test |",
                "|---|---|---|---|---|---|"]
        for c in checks:
            out.append(" | ".join([
                "", ", ".join(f"`{m}`" for m in c["models"]), c["reference"], c["compared"],
                c["tolerance"], c["measured"], f"`{c['test']}` |"]).strip())
        out.append("")
    for version in reversed(entry.versions):
        out.append(_version_section(entry, version, figures[version], meanings))
    return "\n".join(out) + "\n"


def _index(entries: list[ModelEntry]) -> str:
    out = ["# Model catalogue", "",
           "Every model file of the library, generated from `models/` when the documentation "
           "is built: equations, parameters, hashes and a figure that brianlab computes for "
           "each version. Choose a kind to filter the table.", "",
           ":::{container} catalogue-index", "", "| model | kind | versions | summary |",
           "|---|---|---|---|"]
    for e in entries:
        summary = load_model(f"{e.name}@{e.newest}").summary
        out.append(f"| [{e.name}](model-{e.name}) | {e.kind} | "
                   f"{', '.join(map(str, e.versions))} | {_md_escape(summary)} |")
    out += ["", ":::", ""]
    networks = sorted((e for e in list_models() if e.kind == "network"), key=lambda e: e.name)
    if networks:
        out += ["## Network files", "",
                "Networks made of these models (populations, projections, inputs, protocol, "
                "seeds) are files too (see the networks guide); each has a page in the "
                "network gallery: the file, a run, its statistics and the published "
                "behaviour.", "", "| network | versions | summary |", "|---|---|---|"]
        for e in networks:
            summary = load_network(f"{e.name}@{e.newest}").summary
            out.append(f"| [{e.name}](network-{e.name}) | {', '.join(map(str, e.versions))} "
                       f"| {_md_escape(summary)} |")
        out.append("")
    out += ["```{toctree}", ":hidden:", ""]
    out += [e.name for e in entries] + ["```", ""]
    return "\n".join(out)


def _write_if_changed(path: Path, data: str | bytes):
    """Write ``data`` (text as UTF-8) unless the file already holds exactly it, so that
    Sphinx's incremental build re-reads only what changed."""
    data = data.encode() if isinstance(data, str) else data
    if not path.exists() or path.read_bytes() != data:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def write_catalogue(out_dir, *, cache_dir, meanings=None, test_files=(), progress=print):
    """Write the catalogue's pages and figures (figures from the cache where they are current).

    Parameters
    ----------
    out_dir : path
        Folder of the pages (``index.md`` and ``<name>.md``) and their ``figures/``.
    cache_dir : path
        Folder of cached figures, named by :func:`figure_key`.
    meanings : path, optional
        TOML file of parameter meanings: a ``[default]`` table and one table per model name.
    test_files : iterable of path
        Test modules whose ``compares`` marks are listed on the pages.
    progress : callable
        Called with one line per figure that is computed.

    Returns
    -------
    dict
        ``computed`` and ``cached`` figure counts and the ``pages`` written.
    """
    out_dir, cache_dir = Path(out_dir), Path(cache_dir)
    (out_dir / "figures").mkdir(parents=True, exist_ok=True)
    cache_dir.mkdir(parents=True, exist_ok=True)
    glossary = tomllib.loads(Path(meanings).read_text()) if meanings else {}
    checks = cross_checks(test_files)
    entries = sorted((e for e in list_models() if e.kind in KIND_ORDER),  # not networks
                     key=lambda e: (KIND_ORDER.index(e.kind), e.name))
    counts = {"computed": 0, "cached": 0, "pages": []}
    target = prefs.codegen.target
    prefs.codegen.target = "numpy"  # a few short runs: no compilation
    console = BrianLogger.console_handler
    level = console.level if console is not None else None
    if console is not None and console.level < 30:
        console.setLevel(30)  # Brian2's INFO notes on method choice would drown the progress
    try:
        for entry in entries:
            figures = {}
            for version in entry.versions:
                model = load_model(f"{entry.name}@{version}")
                name = f"{entry.name}-{version}.png"
                cached = cache_dir / f"{entry.name}-{version}-{figure_key(model)}.png"
                if cached.exists():
                    counts["cached"] += 1
                else:
                    progress(f"catalogue: computing the figure of {model.ref}")
                    fig = model_figure(model)
                    tmp = cached.with_suffix(".tmp.png")
                    fig.savefig(tmp, dpi=110)
                    tmp.replace(cached)
                    counts["computed"] += 1
                    for stale in cache_dir.glob(f"{entry.name}-{version}-*.png"):
                        if stale != cached:
                            stale.unlink()
                _write_if_changed(out_dir / "figures" / name, cached.read_bytes())
                figures[version] = f"figures/{name}"
            page = out_dir / f"{entry.name}.md"
            _write_if_changed(page, _page(entry, figures, glossary, checks.get(entry.name, [])))
            counts["pages"].append(page)
    finally:
        prefs.codegen.target = target
        if console is not None:
            console.setLevel(level)
    _write_if_changed(out_dir / "index.md", _index(entries))
    known = {e.name for e in entries}
    for page in out_dir.glob("*.md"):
        if page.stem != "index" and page.stem not in known:
            page.unlink()  # a model that left the library leaves the catalogue
    unknown = sorted(set(checks) - known)
    if unknown:
        raise ModelError(f"tests compare models that are not in the library: {unknown}")
    return counts
