"""Parameter values outside their physical range are errors, in files and in overrides."""

import numpy as np
import pytest
from brian2 import mV, ms, nS, pA, pF

from brianlab import ModelError, load_model
from brianlab.ranges import range_problem


@pytest.mark.parametrize("name, value", [
    ("tau_ref", -1 * ms),         # a negative refractory period used to run like a short one
    ("tau_ref", "-0.5 ms"),
    ("C", -200 * pF),
    ("C", 0 * pF),
    ("g_L", -10 * nS),
    ("E_L", np.nan * mV),
    ("E_L", np.inf * mV),
    ("V_th", "1e999 mV"),
])
def test_impossible_overrides_are_refused(name, value):
    with pytest.raises(ModelError, match=name):
        load_model("lif").neuron_group(2, **{name: value})


def test_impossible_time_constants_of_receptors_and_synapses():
    with pytest.raises(ModelError, match="tau_ampa .*must be positive"):
        load_model("lif").neuron_group(2, receptors=["ampa_exp"], tau_ampa=0 * ms)
    G = load_model("lif").neuron_group(2, receptors=["ampa_exp"])
    with pytest.raises(ModelError, match="tau_plus .*must be positive"):
        load_model("stdp_pair").synapses(G, G, target_var="s_ampa", tau_plus=-20 * ms)


def test_non_finite_initial_value_is_refused():
    with pytest.raises(ModelError, match="I_ext .*not a finite number"):
        load_model("lif").neuron_group(2, I_ext=np.inf * pA)


def test_what_is_allowed():
    G = load_model("lif").neuron_group(2, tau_ref=0 * ms, g_L=0 * nS)  # no refractoriness
    assert G.tau_ref[:] == 0 * ms
    # the subthreshold coupling a of lif_adapt is a conductance that may be negative
    H = load_model("lif_adapt").neuron_group(2, a=-1 * nS)
    assert H.a[:] == -1 * nS


@pytest.mark.parametrize("name, value, expected", [
    ("tau", 10 * ms, None),
    ("tau", 0 * ms, "must be positive"),
    ("tau_ref", 0 * ms, None),
    ("x", 3.0, None),
    ("x", float("nan"), "not a finite number"),
    ("C_m", -1 * pF, "capacitance must be positive"),
    ("g_K", -1 * nS, "conductance cannot be negative"),
    ("a", -1 * nS, None),
])
def test_the_rules(name, value, expected):
    problem = range_problem(name, value, refractory="tau_ref")
    assert problem is None if expected is None else expected in problem


def test_impossible_rerun_values_are_refused():
    from brian2 import Network, SpikeMonitor

    from brianlab import use_device

    with use_device("runtime") as dev:
        G = load_model("lif").neuron_group(2, I_ext="250 pA")
        dev.run(Network(G, SpikeMonitor(G)), 5 * ms)
        with pytest.raises(ModelError, match="tau_ref .*refractory period cannot be negative"):
            dev.rerun({G.tau_ref: -1 * ms})
        with pytest.raises(ModelError, match="C .*capacitance must be positive"):
            dev.rerun({G.C: 0 * pF})
        dev.rerun({G.tau_ref: 0 * ms})  # allowed: no refractoriness


def test_validity_rules_by_model_name():
    """ranges.VALIDITY: poisson's rate*dt <= 0.1 (MAX_RATE_DT), for every version; other
    models and names the rule does not mention pass."""
    from brian2 import Hz, kHz

    from brianlab.ranges import MAX_RATE_DT, validity_problem

    assert MAX_RATE_DT == 0.1
    assert validity_problem("poisson", {"rate": 1 * kHz}, 0.1 * ms) is None
    problem = validity_problem("poisson", {"rate": 1.5 * kHz}, 0.1 * ms, label="poisson@7")
    assert problem.startswith("poisson@7: rate = 1.5 kHz at dt = 0.1 ms gives rate*dt = 0.15")
    assert validity_problem("poisson", {"rate": np.array([1.0, -2000.0]) * Hz}, 0.1 * ms)
    assert validity_problem("lif", {"rate": 1 * kHz}, 1 * ms) is None
    assert validity_problem("poisson", {"other": 1 * kHz}, 1 * ms) is None
