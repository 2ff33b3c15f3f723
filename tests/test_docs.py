"""The documentation: docstrings of the public API, the generated catalogue and format
reference, the protocols behind the catalogue's figures (against analytic results), and
the built site in a real browser."""

import ast
import functools
import http.server
import importlib
import inspect
import os
import pkgutil
import re
import subprocess
import sys
import threading
import tomllib
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from brian2 import ms, pA, prefs

import brianlab
from brianlab import characterize as ch
from brianlab.catalogue import cross_checks, equations_latex, write_catalogue
from brianlab.library import list_models, load_model
from brianlab.modelfile import KEY_DOCS, _COMMON_KEYS, _KIND_KEYS, format_reference

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
SITE = DOCS / "_build" / "html"
TESTS = sorted((ROOT / "tests").glob("test_*.py"))

# ---------------------------------------------------------------------------
# docstrings

#: (object, numpydoc code) pairs that cannot apply, with the reason
EXEMPT = {
    # its constructor is Brian2's Synapses.__init__ (documented there); built by synapses()
    ("brianlab.compose.ModelSynapses", "PR01"),
    ("brianlab.compose.ModelSynapses", "PR02"),
}
CODES = {"GL08": "no docstring", "PR01": "a parameter is not documented",
         "PR02": "a documented parameter does not exist", "RT01": "no Returns section"}


def _modules():
    yield brianlab
    for info in pkgutil.walk_packages(brianlab.__path__, "brianlab."):
        if not info.name.endswith("__main__"):
            yield importlib.import_module(info.name)


def _public_objects():
    seen = set()
    for module in _modules():
        names = getattr(module, "__all__", None) or [n for n in vars(module)
                                                     if not n.startswith("_")]
        for name in names:
            obj = getattr(module, name, None)
            if not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue
            if not getattr(obj, "__module__", "").startswith("brianlab"):
                continue
            qual = f"{obj.__module__}.{obj.__qualname__}"
            if qual in seen:
                continue
            seen.add(qual)
            yield qual
            if inspect.isclass(obj):
                for member, value in vars(obj).items():
                    if not member.startswith("_") and (
                            inspect.isfunction(value) or isinstance(value, property)):
                        yield f"{qual}.{member}"


def test_every_public_function_class_and_method_has_a_numpydoc_docstring():
    """numpydoc's own validator on every public object of every module: a docstring,
    every parameter documented (and none that does not exist), a Returns section where
    the code returns a value. The list of objects is found, not written down, so a new
    function without a docstring fails here."""
    import numpydoc.validate

    problems, checked = [], 0
    for qual in _public_objects():
        checked += 1
        for code, message in numpydoc.validate.validate(qual)["errors"]:
            if code in CODES and (qual, code) not in EXEMPT:
                problems.append(f"{qual}: {code} {message}")
    assert checked > 150  # the walk found the package
    assert not problems, "\n".join(problems)


def test_docstrings_speak_of_the_project_only():
    """No docstring points at files outside the repository (the source documents are
    named by what they are, e.g. the CMSA lab report, never by path)."""
    outside = re.compile(r"source document|shared/|seeds/|\.\./|000_\w+|/work/")
    found = []
    for path in (ROOT / "brianlab").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef)):
                doc = ast.get_docstring(node) or ""
                for match in outside.finditer(doc):
                    found.append(f"{path.relative_to(ROOT)}: {match.group()!r}")
    assert not found, found


# ---------------------------------------------------------------------------
# generated reference material


def test_format_reference_documents_every_key_the_parser_accepts():
    allowed = set(_COMMON_KEYS).union(*_KIND_KEYS.values())
    assert set(KEY_DOCS) == allowed
    table = format_reference()
    for key in allowed:
        assert f"| `{key}` |" in table
    assert "| `target` | synapse (required) |" in table
    assert "| `threshold` | neuron |" in table


def _model_entries():
    """The library's models (network files are not in the model catalogue)."""
    return [e for e in list_models() if e.kind != "network"]


def test_every_parameter_of_every_model_has_a_meaning():
    """The catalogue's parameter tables take meanings from docs/_data; a new model (or a
    new parameter) without one fails here instead of showing an empty cell."""
    glossary = tomllib.loads((DOCS / "_data" / "parameter_meanings.toml").read_text())
    missing = []
    for entry in _model_entries():
        for version in entry.versions:
            model = load_model(f"{entry.name}@{version}")
            for name in model.parameters:
                if name not in glossary.get(entry.name, {}) and name not in glossary["default"]:
                    missing.append(f"{model.ref}: {name}")
    assert not missing, missing


def test_cross_simulator_tests_are_all_listed_in_the_catalogue():
    """Every test of tests/test_cross_*.py carries a compares mark naming library models,
    so the catalogue lists it on their pages."""
    checks = cross_checks(TESTS)
    names = {e.name: e.versions for e in list_models()}
    listed = {record["test"] for records in checks.values() for record in records}
    for path in sorted((ROOT / "tests").glob("test_cross_*.py")):
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                assert f"tests/{path.name}::{node.name}" in listed, node.name
    for records in checks.values():
        for record in records:
            for ref in record["models"]:
                name, version = ref.split("@")
                assert int(version) in names[name], ref
    assert {"lif", "hh", "tsodyks_markram", "cann_1d", "nmda"} <= set(checks)


def test_equations_are_typeset_from_the_file():
    """The file's form is kept even where Brian2's str_to_sympy cache holds the evaluated
    form of the same expression (which the full test run produced once)."""
    from brian2.parsing.sympytools import str_to_sympy

    model = load_model("lif@2")
    str_to_sympy(model.equations["v"].expr.code)
    latex = equations_latex(model)
    assert r"\frac{\mathrm{d}v}{\mathrm{d}t}" in latex
    assert r"\xi" in latex and r"\sigma" in latex and "(unless refractory)" in latex
    assert "1.414" not in latex  # the file's (2*g_L/C)**0.5 is kept, not evaluated
    assert r"I_{ext}" in latex


# ---------------------------------------------------------------------------
# the protocols behind the catalogue's figures, against analytic results


@pytest.fixture
def numpy_target():
    target = prefs.codegen.target
    prefs.codegen.target = "numpy"
    yield
    prefs.codegen.target = target


def test_rheobase_of_lif_is_the_analytic_one(numpy_target):
    """lif@2: I_rh = g_L (V_th - E_L) = 200 pA; the scan's grid is log-spaced with a
    ratio of (5000/1)**(1/59) = 1.155 between neighbours, so the first firing current
    lies in [200, 231) pA."""
    found = float(ch.rheobase("lif@2") / pA)
    assert 200.0 <= found < 200.0 * 5000 ** (1 / 59)


def test_psp_of_an_exponential_current_is_the_analytic_one(numpy_target):
    """current_exp (tau_s = 2 ms, 100 pA) onto lif (tau_m = C/g_L = 20 ms), exact
    integration: V(t) = I tau_m tau_s / (C (tau_m - tau_s)) (exp(-t/tau_m) -
    exp(-t/tau_s)); within 0.1 % of the peak once Brian2's arrival step is aligned."""
    d = ch.psp("current_exp")
    tau_m, tau_s, amp, c = 20.0, 2.0, 100e-12, 200e-12
    t = d["t"] - 10.0
    for shift in (0.0, 0.1):
        ts = np.clip(t - shift, 0, None)
        analytic = amp / c * tau_m * tau_s / (tau_m - tau_s) * (
            np.exp(-ts / tau_m) - np.exp(-ts / tau_s))
        if np.max(np.abs(d["psp"] - analytic)) < 1e-3 * analytic.max():
            break
    else:
        pytest.fail(f"PSP differs from the analytic one by {np.max(np.abs(d['psp'] - analytic))}")
    assert d["current"].max() == pytest.approx(100.0, rel=1e-9)
    assert d["psp"].max() == pytest.approx(analytic.max(), rel=1e-3)


def test_stdp_window_of_the_pair_rule_is_the_exponential_one(numpy_target):
    """stdp_pair: dw = A_plus exp(-lag/tau_plus) after, -A_minus exp(lag/tau_minus)
    before (0.005, 0.00525, 20 ms); the weight starts at 0.5, far from the bounds, so
    the window is exact to rounding."""
    lags = np.array([-40.0, -10.0, -1.0, 1.0, 10.0, 40.0])
    dw = ch.stdp_window("stdp_pair", lags * ms)
    expected = np.where(lags > 0, 0.005 * np.exp(-lags / 20.0),
                        -0.00525 * np.exp(lags / 20.0))
    np.testing.assert_allclose(dw, expected, rtol=1e-9)


def test_catalogue_protocols_of_the_new_synapses(numpy_target):
    """istdp_vogels: the window is eta*(exp(-|lag|/tau_stdp) - 2*rho0*tau_stdp) (Vogels et
    al. 2011; 0.01, 20 ms, 3 Hz), from w = 1, far from the bounds; delta and delta_gated
    (onto a timed group with a refractory period of 0, which delta_gated needs) add
    w = 0.1 mV to v at each spike."""
    lags = np.array([-40.0, -10.0, -1.0, 1.0, 10.0, 40.0])
    dw = ch.stdp_window("istdp_vogels", lags * ms)
    np.testing.assert_allclose(dw, 0.01 * (np.exp(-np.abs(lags) / 20.0) - 0.12), rtol=1e-9)
    for name in ("delta", "delta_gated"):
        _, increments = ch.train_response(name, n_spikes=3)
        np.testing.assert_allclose(increments, 1e-4, rtol=1e-9)


def test_train_response_of_short_term_plasticity_is_the_recursion(numpy_target):
    """tsodyks_markram defaults (U = 0.5, tau_rec = 800 ms, tau_fac = 1 ms) at 20 Hz:
    the increments follow the recursion of the model's notes (first spike: w U = 0.5)."""
    times, increments = ch.train_response("tsodyks_markram", n_spikes=8)
    U, tau_rec, tau_fac, h = 0.5, 800.0, 1.0, 50.0
    x, u, expected = 1.0, U, []
    for k in range(8):
        if k:
            x = 1 + (x - x * u - 1) * np.exp(-h / tau_rec)
            u = U + u * (1 - U) * np.exp(-h / tau_fac)
        expected.append(u * x)
    np.testing.assert_allclose(increments, expected, rtol=1e-9)
    np.testing.assert_allclose(np.diff(times), 50.0)
    _, static = ch.train_response("static", n_spikes=4)
    np.testing.assert_allclose(static, 1.0)


def test_step_response_holds_the_analytic_steady_state(numpy_target):
    """lif@2 below rheobase (150 pA): v approaches E_L + I/g_L = -55 mV; after 150 ms
    (7.5 tau_m) within 0.03 mV."""
    t, v = ch.step_response("lif@2", [150.0] * pA)
    at = np.searchsorted(t, 169.9)
    assert v[0, at] == pytest.approx(-55.0, abs=0.03)
    assert v[0, 0] == pytest.approx(-70.0)


# ---------------------------------------------------------------------------
# the catalogue and the built site


@functools.cache
def built_site() -> Path:
    """The site CI built (``docs/_build/html``), or build it now (cached figures and
    notebooks make a second build fast)."""
    if not (SITE / "index.html").is_file():
        proc = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b",
                               "html", str(DOCS), str(SITE)], capture_output=True, text=True,
                              timeout=3000)
        assert proc.returncode == 0, proc.stderr[-5000:]
    return SITE


@pytest.mark.slow
def test_catalogue_has_a_page_with_a_figure_for_every_version(tmp_path):
    """Pages and figures from the figure cache of the docs build when there is one (the
    cache is keyed by the files' hashes, so sharing it is safe)."""
    cache = DOCS / "_build" / ".catalogue-cache"
    counts = write_catalogue(tmp_path, cache_dir=cache if cache.is_dir() else tmp_path / "c",
                             meanings=DOCS / "_data" / "parameter_meanings.toml",
                             test_files=TESTS, progress=lambda line: None)
    entries = _model_entries()
    assert len(counts["pages"]) == len(entries)
    for entry in entries:
        page = (tmp_path / f"{entry.name}.md").read_text()
        for version in entry.versions:
            model = load_model(f"{entry.name}@{version}")
            assert f"## Version {version}" in page and model.sha256 in page
            assert (tmp_path / "figures" / f"{entry.name}-{version}.png").stat().st_size > 5000
        assert "### Equations" in page and "```{math}" in page
    lif = (tmp_path / "lif.md").read_text()
    assert "### Changes from version 1" in lif and "+version = 2" in lif
    assert "NEST iaf_psc_delta" in lif and "tests/test_cross_nest.py::" in lif
    assert "| `C` | `200 pF` | membrane capacitance |" in lif
    index = (tmp_path / "index.md").read_text()
    assert all(f"[{e.name}](model-{e.name})" in index for e in entries)
    networks = [e for e in list_models() if e.kind == "network"]
    assert len(networks) >= 6  # cuba, coba, cobahh, brunel2000, vogels2011, cmsa_sheet
    assert all(f"| [{e.name}](network-{e.name}) |" in index for e in networks)


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links = []

    def handle_starttag(self, tag, attrs):
        for key, value in attrs:
            if key in ("href", "src") and value:
                self.links.append(value)


@pytest.mark.slow
def test_the_site_has_no_broken_internal_link():
    """Every relative href/src of every built page points at a file of the site."""
    site = built_site()
    broken = []
    for page in site.rglob("*.html"):
        parser = _Links()
        parser.feed(page.read_text(errors="replace"))
        for link in parser.links:
            if re.match(r"^[a-z]+:|^//|^#", link):
                continue
            target = (page.parent / link.split("#")[0].split("?")[0]).resolve()
            if not target.exists():
                broken.append(f"{page.relative_to(site)} -> {link}")
    assert not broken, broken[:20]
    assert len(list((site / "catalogue").glob("*.html"))) == len(_model_entries()) + 1


def _chromium() -> str:
    for name in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if Path(name).is_file():
            return name
    pytest.fail("no Chromium: .ci/run installs Debian's chromium (apt-get install chromium)")


@pytest.mark.slow
def test_pages_render_in_a_real_browser(tmp_path):
    """Headless Chromium (Debian's, driven by playwright) opens the index, a tutorial and a
    catalogue page served on localhost: each renders its title, every image has loaded
    (natural width > 0), and MathJax has typeset the math (no raw TeX left). Screenshots
    of each page are saved in the test's temporary folder."""
    from playwright.sync_api import sync_playwright

    site = built_site()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    pages = {"index": ("index.html", "brianlab", False),
             "tutorial": ("tutorials/01_intro_neurons.html", "Introduction to Brian", False),
             "catalogue": ("catalogue/lif.html", "lif", True)}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=_chromium(), args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run"])
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            for key, (path, title, has_math) in pages.items():
                page.goto(f"{base}/{path}", wait_until="load")
                assert title in page.title(), (path, page.title())
                images = page.eval_on_selector_all(
                    "img", "els => els.map(e => [e.src, e.complete && e.naturalWidth > 0])")
                assert images or key == "index", path
                assert all(ok for _, ok in images), [src for src, ok in images if not ok]
                if has_math:
                    page.wait_for_selector("mjx-container", timeout=20000)
                    assert page.locator("mjx-container").count() >= 1
                    text = page.inner_text("article")
                    assert "\\frac" not in text and "\\begin{aligned}" not in text
                page.screenshot(path=str(tmp_path / f"{key}.png"), full_page=False)
            # the kind filter of the catalogue's index hides the other kinds
            page.goto(f"{base}/catalogue/index.html", wait_until="load")
            page.click(".catalogue-filter button[data-kind='receptor']")
            visible = page.eval_on_selector_all(
                ".catalogue-index tbody tr", "rows => rows.filter(r => !r.hidden).map("
                "r => r.cells[1].textContent.trim())")
            assert visible and set(visible) == {"receptor"}
            page.screenshot(path=str(tmp_path / "catalogue-filter.png"))
            browser.close()
    finally:
        server.shutdown()
    for key in list(pages) + ["catalogue-filter"]:
        assert (tmp_path / f"{key}.png").stat().st_size > 10_000
    print(f"screenshots: {tmp_path}")
    keep = os.environ.get("BRIANLAB_KEEP_SCREENSHOTS")
    if keep:  # where a person wants to look at them
        subprocess.run(["cp", "-r", str(tmp_path), keep], check=True)


def test_figure_cache_key_follows_code_not_documentation():
    """Editing a docstring or comment keeps the cached figures; editing code or the model
    file does not."""
    from brianlab.catalogue import _code_digest, figure_key

    code = 'def f(x):\n    """Twice x."""\n    return 2 * x  # doubled\n'
    assert _code_digest(code) == _code_digest(code.replace("Twice x.", "Two times x.")
                                              .replace("# doubled", ""))
    assert _code_digest(code) != _code_digest(code.replace("2 * x", "3 * x"))
    assert figure_key(load_model("lif@1")) != figure_key(load_model("lif@2"))


def test_steady_states_of_one_population_are_its_transfer_function():
    """wilson_cowan_1d with w = 0 (its default): the only fixed point is r = F(I) =
    1/(1 + exp(-a (I - theta))) - 1/(1 + exp(a theta)) with a = 1.2, theta = 2.8, stable;
    the root finder converges to 1e-9."""
    inputs = np.linspace(-2.0, 8.0, 11)
    rows = ch.steady_states("wilson_cowan_1d", "I_ext", "r", inputs, np.linspace(-0.1, 1.1, 7))
    a, theta = 1.2, 2.8
    expected = 1 / (1 + np.exp(-a * (inputs - theta))) - 1 / (1 + np.exp(a * theta))
    np.testing.assert_allclose(rows[:, 0], inputs)  # one fixed point per input
    np.testing.assert_allclose(rows[:, 1], expected, atol=1e-9)
    assert np.all(rows[:, 2] == 1.0)


def test_the_excitatory_inhibitory_model_is_bistable_at_zero_input():
    """wilson_cowan (w_EE 9, w_EI 4, w_IE 13, w_II 11): at I_ext_E = 0 a low stable state,
    a saddle and a high stable state, as its phase plane shows (r_E about 0, 0.33 and
    0.95)."""
    rows = ch.steady_states("wilson_cowan", "I_ext_E", "r_E", [0.0], np.linspace(-0.1, 1.1, 13))
    assert len(rows) == 3
    np.testing.assert_allclose(rows[:, 2], [1.0, 0.0, 1.0])
    assert rows[0, 1] == pytest.approx(0.0, abs=1e-6) and rows[2, 1] > 0.9
