"""The pipeline refuses a network that would not fit in memory before it builds anything
(``planner.check_network_memory``, ``NetworkFile.expected_synapses``,
``resources.check_memory``: one estimate shared with the CMSA command)."""

import pytest

from brianlab.cmsa.params import CMSAParams
from brianlab.library import load_network
from brianlab.networkfile import with_structure
from brianlab.pipeline.cli import main
from brianlab.pipeline.planner import check_network_memory
from brianlab.resources import BASE_BYTES, BYTES_PER_SYNAPSE, MemoryLimit

GiB = 2**30


@pytest.mark.parametrize("name, synapses", [
    ("cuba", 0.02 * 4000 * 4000),                        # probability 0.02, all pairs
    ("brunel2000", 1000 * 12500 + 250 * 12500),          # in-degrees 1000 (E), 250 (I)
    ("vogels2011", 0.02 * 10000 * 10000),
])
def test_expected_synapses_of_the_released_files(name, synapses):
    assert load_network(name).expected_synapses() == int(synapses)


def test_expected_synapses_of_the_sheet_is_the_cmsa_commands_count():
    net = load_network("cmsa_sheet")
    assert net.expected_synapses() == CMSAParams().n_synapses == 22500 * 600 + 5625 * 600
    small = with_structure(net, {"populations.E.lattice.side": "50",
                                 "populations.I.lattice.side": "25",
                                 "populations.I.lattice.extent": "50"})
    assert small.expected_synapses() == CMSAParams(e_side=50, i_side=25).n_synapses


def test_a_network_too_large_is_refused_with_the_estimate():
    net = load_network("brunel2000")
    need = BYTES_PER_SYNAPSE * 15_625_000 + BASE_BYTES  # spikes: 12,500 neurons, 1 s
    check_network_memory(net, available=need + 0.1 * GiB)
    with pytest.raises(ValueError) as info:
        check_network_memory(net, available=MemoryLimit(need / 2, "a test's limit"))
    message = str(info.value)
    # 43 B x 15.6 M synapses, 12,500 x 100 Hz x 1 s x 24 B of spikes, 0.3 GiB base
    assert message.startswith("brunel2000@1 (12,500 neurons, 15,625,000 synapses, 1 s) needs "
                              "about 1.0 GiB of memory (synapses 0.6, spikes 0.0, base 0.3 GiB)")
    assert "a test's limit" in message and "with --set" in message
    with pytest.raises(ValueError, match=r"x 3 at once.*fewer --workers"):
        check_network_memory(net, available=need * 2, copies=3)


def test_the_command_refuses_it_before_building(tmp_path, capsys):
    out = tmp_path / "huge"
    assert main(["run", "brunel2000", "--set", "populations.E.size=9000000",
                 "--set", "populations.I.size=2000000", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "13,750,000,000 synapses" in err and "GiB of memory" in err
    assert not out.exists()


def test_synapses_the_binary_creates_count_as_the_cmsa_command_counts_them():
    """The sheet at side 1000 (750 M synapses): where the binary draws them (cpp_standalone,
    fixed in-degree) 12.5 B each and the smaller base, as ``CMSAParams.memory_parts``
    counts them (tests/test_sheet_memory.py measures them); elsewhere 43 B each. So
    ``python -m brianlab run cmsa_sheet`` and ``cmsa sweep --grid`` accept a sheet that
    ``cmsa run`` accepts, and refuse the Python draw that would not fit."""
    from brianlab.networks.builder import synapses_drawn_in_binary
    from brianlab.resources import BINARY_BASE_BYTES, BINARY_BYTES_PER_SYNAPSE

    net = with_structure(load_network("cmsa_sheet"), {
        "populations.E.lattice.side": "1000", "populations.I.lattice.side": "500",
        "populations.I.lattice.extent": "1000"})
    synapses = net.expected_synapses()
    assert synapses == CMSAParams(e_side=1000, i_side=500).n_synapses == 750_000_000
    assert sorted(synapses_drawn_in_binary(net, "cpp_standalone")) == ["ee", "ei", "ie", "ii"]
    assert synapses_drawn_in_binary(net, "cuda_standalone") == []
    assert synapses_drawn_in_binary(net, "runtime") == []
    binary = BINARY_BYTES_PER_SYNAPSE * synapses + BINARY_BASE_BYTES
    python = BYTES_PER_SYNAPSE * synapses + BASE_BYTES
    spikes = 1_250_000 * 100 * float(net.duration) * 24 + 1 * GiB  # (an upper bound)
    check_network_memory(net, available=binary + spikes, device="cpp_standalone")
    for device in ("runtime", "cuda_standalone", None):
        with pytest.raises(ValueError, match=r"750,000,000 synapses.*\(synapses 30\.0,"):
            check_network_memory(net, available=python / 2, device=device)
    with pytest.raises(ValueError, match=r"\(synapses 8\.7, spikes [0-9.]+, base 0\.2 GiB\)"):
        check_network_memory(net, available=binary / 2, device="cpp_standalone")
    # another rule on one lattice projection: every index passes through Python again
    mixed = with_structure(net, {}, {"projections.ii.connector": {
        "rule": "gaussian_probability", "sigma": 28.0, "p_max": 0.5}})
    assert synapses_drawn_in_binary(mixed, "cpp_standalone") == []
