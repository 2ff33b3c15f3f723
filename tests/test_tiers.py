"""The two tiers of brianlab (docs/architecture.md, "Tiers").

Tier 1 modules never import Brian2 (nor sympy, nor brian2cuda), directly or through what
they import at module level: a repeated cached command, a ``--help`` and every plan or
results file work without Brian2's import time. Tier 2 modules build with Brian2. A
tier-1 module imports only tier-1 modules, the standard library, numpy, scipy, matplotlib
and the optional packages at the top; it reaches tier 2 only from inside the functions
that ``ALLOWED_UP`` names, each with its reason.

The lists are today's (issue 25, slices S1 and S2a), measured in a fresh interpreter per
module; the issue's later slices move modules between them as they split the mixed ones. The
import scan (``test_no_import_points_up_a_tier``) covers tier-1 modules only for now:
tier 2's function-level imports (``catalogue``, ``gallery``, ``networkfile``,
``builder``, ...) are left for a later slice of the issue, which extends the scan to them.
Dynamic imports (``importlib.import_module``: the package's lazy public names) are not
scanned; the fresh-interpreter test covers what they do at import.
"""

from __future__ import annotations

import ast
import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import brianlab

PACKAGE = Path(brianlab.__file__).resolve().parent

TIER1 = {
    "brianlab", "brianlab.__main__", "brianlab.errors", "brianlab.store", "brianlab.toolchain",
    "brianlab.seeds",
    "brianlab.cache", "brianlab.results", "brianlab.sweeps", "brianlab.leanbuild",
    "brianlab.resources", "brianlab.space", "brianlab.inputs", "brianlab.plot", "brianlab.lazy",
    "brianlab.tutorial",
    "brianlab.analysis", "brianlab.analysis.population", "brianlab.analysis.spikes",
    "brianlab.analysis.patterns", "brianlab.analysis.decoding",
    "brianlab.cmsa", "brianlab.cmsa.__main__", "brianlab.cmsa.cached", "brianlab.cmsa.presets",
    "brianlab.cmsa.reduce", "brianlab.cmsa.arguments", "brianlab.cmsa.execute",
    "brianlab.cmsa.report", "brianlab.cmsa.figures",
    "brianlab.pipeline",
    "brianlab.runargs",
    "brianlab.modelformat", "brianlab.netformat",
    "brianlab.pipeline.plan",
    "brianlab.pipeline.plans",
    "brianlab.pipeline.builds",
    "brianlab.pipeline.reductions",
    "brianlab.pipeline.save",
    "brianlab.pipeline.grid",
    "brianlab.pipeline.request",
    "brianlab.pipeline.execute",
    "brianlab.pipeline.flow",
    "brianlab.pipeline.cli",
    "brianlab.pipeline.api",
    "brianlab.pipeline.figures",
}

TIER2 = {
    "brianlab.units", "brianlab.ranges", "brianlab.modelfile", "brianlab.library",
    "brianlab.networkfile", "brianlab.compose", "brianlab.devices", "brianlab.characterize",
    "brianlab.gallery", "brianlab.catalogue", "brianlab.analysis.dynamics",
    "brianlab.networks", "brianlab.networks.builder", "brianlab.networks.cann",
    "brianlab.networks.fi", "brianlab.networks.pattern_detection", "brianlab.networks.sheet",
    "brianlab.networks.indegree",
    "brianlab.cmsa.params", "brianlab.cmsa.protocol", "brianlab.cmsa.experiment",
    "brianlab.cmsa.nest_sheet",
    "brianlab.cmsa.plan", "brianlab.cmsa.commands",
    "brianlab.pipeline.planner",
    "brianlab.pipeline.compile",
    "brianlab.pipeline.inprocess",
}

#: (tier-1 module, qualified function, imported module): why the function reaches tier 2.
#: The CMSA command has one: its plan miss (``cmsa.__main__.main`` -> ``cmsa.commands``).
ALLOWED_UP = {
    ("brianlab.pipeline.flow", "_make_plan", "brianlab.pipeline.planner"):
        "a plan miss: the network read and the values converted with Brian2",
    ("brianlab.pipeline.flow", "_compile_build", "brianlab.pipeline.compile"):
        "a build miss: the network built and compiled with Brian2",
    ("brianlab.pipeline.flow", "_run_in_process", "brianlab.pipeline.inprocess"):
        "the runtime device: points built and run in this process",
    ("brianlab.__main__", "dispatch", "brianlab.library"):
        "models list|show|check|lock parse model files (Brian2's equations and units)",
    ("brianlab.cmsa.__main__", "main", "brianlab.cmsa.commands"):
        "a plan miss: the command planned, run and reported with Brian2",
    ("brianlab.cmsa.reduce", "PointSettings.of", "brian2"): "reads a CMSAParams' Quantities",
    ("brianlab.sweeps", "CompiledNetwork.from_session", "brian2"):
        "reads the session's Brian2 preferences and device",
}

#: Packages a tier-1 module may import anywhere besides tier 1 and the standard library
#: (Pillow: a dependency of brianlab and of matplotlib, Brian2-free).
BASE = {"numpy", "scipy", "matplotlib", "PIL"}
#: Optional packages (extras), imported where they are used.
OPTIONAL = {"dask", "distributed", "tqdm", "nest", "playwright", "brian2cuda", "resource"}
#: Packages no tier-1 module may have imported after its own import.
HEAVY = ("brian2", "sympy", "brian2cuda")


def _path(module: str) -> Path:
    parts = module.split(".")[1:]
    folder = PACKAGE.joinpath(*parts)
    return folder / "__init__.py" if folder.is_dir() else folder.with_suffix(".py")


def _package(module: str) -> str:
    return module if _path(module).name == "__init__.py" else module.rpartition(".")[0]


def _is_module(name: str) -> bool:
    if name == "brianlab":
        return True
    if not name.startswith("brianlab."):
        return False
    return _path(name).is_file()


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports(module: str):
    """``(qualified function or None, imported module)`` for every import statement of
    ``module`` (parsed, not imported), relative imports resolved; ``from X import name``
    counts as an import of ``X.name`` where that is a brianlab module."""
    tree = ast.parse(_path(module).read_text(), filename=str(_path(module)))
    found = []

    def targets(node):
        if isinstance(node, ast.Import):
            return [alias.name for alias in node.names]
        if node.level:
            base = _package(module).split(".")
            base = base[:len(base) - (node.level - 1)]
            source = ".".join(base + ([node.module] if node.module else []))
        else:
            source = node.module
        out = []
        for alias in node.names:
            sub = f"{source}.{alias.name}"
            out.append(sub if _is_module(sub) else source)
        return out

    def visit(node, scope: list[str], in_function: bool):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _type_checking(child):
                for other in child.orelse:
                    visit_one(other, scope, in_function)
                continue
            visit_one(child, scope, in_function)

    def visit_one(node, scope, in_function):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            where = ".".join(scope) if in_function else None
            found.extend((where, target) for target in targets(node))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            visit(node, scope + [node.name], True)
        elif isinstance(node, ast.ClassDef):
            visit(node, scope + [node.name], in_function)
        else:
            visit(node, scope, in_function)

    visit(tree, [], False)
    return found


def _allowed_anywhere(target: str) -> bool:
    top = target.split(".")[0]
    if top == "brianlab":
        return target in TIER1
    return top in sys.stdlib_module_names or top in BASE or top in OPTIONAL


@pytest.mark.parametrize("module", sorted(TIER1))
def test_tier1_module_imports_no_brian2(module):
    """Imported alone in a fresh interpreter, a tier-1 module leaves Brian2, sympy and
    brian2cuda unimported."""
    code = ("import importlib, json, sys; importlib.import_module(sys.argv[1]); "
            f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})))")
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.run([sys.executable, "-c", code, module], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    heavy = json.loads(proc.stdout.strip().splitlines()[-1])
    assert heavy == [], f"importing {module} imports {', '.join(heavy[:5])}"


def test_every_module_is_in_a_tier():
    """A new module must be placed in a tier (and no module in both)."""
    walked = {"brianlab"} | {m.name for m in pkgutil.walk_packages([str(PACKAGE)], "brianlab.")}
    assert not TIER1 & TIER2
    assert walked - (TIER1 | TIER2) == set(), "modules in no tier"
    assert (TIER1 | TIER2) - walked == set(), "tiers list modules that do not exist"


def test_no_import_points_up_a_tier():
    """A tier-1 module imports, at the top, only tier 1, the standard library, numpy, scipy,
    matplotlib and optional packages; inside a function also what ``ALLOWED_UP`` names."""
    problems = []
    for module in sorted(TIER1):
        for where, target in imports(module):
            if _allowed_anywhere(target):
                continue
            if where is not None and (module, where, target) in ALLOWED_UP:
                continue
            problems.append(f"{module}{'' if where is None else ':' + where} imports {target}")
    assert problems == []


def test_allowed_up_entries_exist():
    """Every permission in ``ALLOWED_UP`` is still used (no dead entries)."""
    used = {(module, where, target) for module in TIER1
            for where, target in imports(module) if where is not None}
    assert set(ALLOWED_UP) - used == set()


#: The imports a tier-2 module makes inside a function, each with its reason: an import
#: cycle (the module is imported by the one it needs) or an optional package. Every other
#: import of a tier-2 module is at its top, where a reader finds what it depends on.
TIER2_LAZY = {
    ("brianlab.compose", "_as_model", "brianlab.library"):
        "cycle: library -> modelfile -> compose",
    ("brianlab.modelfile", "Model.neuron_group", "brianlab.compose"):
        "cycle: compose imports modelfile",
    ("brianlab.modelfile", "Model.synapses", "brianlab.compose"):
        "cycle: compose imports modelfile",
    ("brianlab.networkfile", "_library_loader", "brianlab.library"):
        "cycle: library imports networkfile",
    ("brianlab.networkfile", "NetworkFile.build", "brianlab.networks.builder"):
        "cycle: the builder imports networkfile",
    ("brianlab.devices", "DeviceSession._setup_cuda", "brian2cuda"):
        "optional: brian2cuda only for cuda_standalone",
    ("brianlab.cmsa.nest_sheet", "build_nest_sheet", "nest"): "optional: NEST (validate extra)",
    ("brianlab.cmsa.nest_sheet", "simulate_nest", "nest"): "optional: NEST (validate extra)",
}


def test_tier2_imports_are_at_the_top():
    """A tier-2 module imports inside a function only what ``TIER2_LAZY`` names (and every
    entry is still used)."""
    lazy = {(module, where, target) for module in sorted(TIER2)
            for where, target in imports(module) if where is not None}
    assert sorted(lazy - set(TIER2_LAZY)) == []
    assert sorted(set(TIER2_LAZY) - lazy) == []
