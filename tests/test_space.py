"""Torus lattices and Gaussian connectivity: in-degree, distance distribution, mean input."""

import numpy as np
import pytest
from scipy import stats

from brianlab.space import (Lattice, course_sigma, fixed_indegree, gaussian_kernel,
                            gaussian_probability, kernel_sum, periodic_distance)


def distances(conn, source, target):
    return periodic_distance(source.positions()[conn.i], target.positions()[conn.j],
                             source.extent)


def test_lattices_share_one_torus():
    e, i = Lattice(150), Lattice(75, 150.0)
    assert (e.n, e.spacing, i.n, i.spacing) == (22500, 1.0, 5625, 2.0)
    np.testing.assert_allclose(i.positions()[76], [2.0, 2.0])  # row 1, col 1
    assert e.index(-1, 150) == 149 * 150  # wraps around both edges
    with pytest.raises(ValueError):
        Lattice(0)
    with pytest.raises(ValueError):
        Lattice(10, -1.0)


def test_periodic_distance_wraps():
    d = periodic_distance(np.array([[0.5, 0.5]]), np.array([[99.5, 0.5]]), 100.0)
    assert d[0] == pytest.approx(1.0)
    assert periodic_distance(np.array([0.0, 0.0]), np.array([50.0, 50.0]), 100.0) == \
        pytest.approx(np.hypot(50, 50))


def test_course_kernel_sigma():
    # exp(-d^2/18) == exp(-d^2/(2 sigma^2)) with sigma = 3; I kernel in I units (spacing 2)
    assert course_sigma(18) == pytest.approx(3.0)
    assert course_sigma(400, unit=2.0) == pytest.approx(2 * np.sqrt(200))


def test_fixed_indegree_gives_exactly_k_and_no_self():
    lat = Lattice(40)
    conn = fixed_indegree(lat, lat, 50, 3.0, seed=1, allow_self=False)
    assert len(conn) == 40 * 40 * 50
    np.testing.assert_array_equal(np.bincount(conn.j, minlength=lat.n), 50)
    assert conn.i.min() >= 0 and conn.i.max() < lat.n
    assert not np.any(conn.i == conn.j)
    with_self = fixed_indegree(lat, lat, 50, 1.0, seed=1)
    assert np.any(with_self.i == with_self.j)


def brute_force_distances(source, target, sigma, n, seed=0):
    """Reference sampler: random targets, sources drawn over the whole lattice with
    probability exp(-d^2 / (2 sigma^2)) from plain periodic distances."""
    rng = np.random.default_rng(seed)
    targets = rng.integers(0, target.n, n)
    d = periodic_distance(target.positions()[targets][:, None, :],
                          source.positions()[None, :, :], source.extent)
    w = np.exp(-(d**2) / (2 * sigma**2))
    cum = np.cumsum(w, axis=1)
    pick = (cum < rng.random((n, 1)) * cum[:, -1:]).sum(axis=1)
    return d[np.arange(n), pick]


@pytest.mark.parametrize("source, target, sigma", [
    (Lattice(60), Lattice(60), 5.0),                  # E -> E
    (Lattice(30, 60.0), Lattice(60), 7.0),            # I (spacing 2) -> E
    (Lattice(60), Lattice(30, 60.0), 6.0),            # E -> I
])
def test_fixed_indegree_distances_follow_the_gaussian(source, target, sigma):
    conn = fixed_indegree(source, target, 20, sigma, seed=7)
    d = distances(conn, source, target)
    sample = np.random.default_rng(0).choice(d, 3000, replace=False)
    reference = brute_force_distances(source, target, sigma, 3000)
    assert stats.ks_2samp(sample, reference).pvalue > 0.01
    # the shape is the 2D Gaussian's (Rayleigh distances), up to the lattice's discreteness
    assert stats.kstest(sample, stats.rayleigh(scale=sigma).cdf).statistic < 0.05
    assert np.sqrt(np.mean(d**2) / 2) == pytest.approx(sigma, rel=0.03)


def test_fixed_indegree_matches_the_dense_kernel_in_mean_input():
    """Course set-up on a small sheet: total weight W pi s_c per target, split over k draws,
    against the dense kernel W exp(-d^2/s_c); inputs from a smooth activity map."""
    lat = Lattice(60)
    W, s_c, k = 0.02, 18.0, 200
    sigma = course_sigma(s_c)
    rng = np.random.default_rng(3)
    pos = lat.positions()
    activity = 1 + np.sin(2 * np.pi * pos[:, 0] / 60) * np.cos(2 * np.pi * pos[:, 1] / 30) \
        + 0.2 * rng.random(lat.n)
    dense = gaussian_kernel(lat, lat, sigma)
    dense_in = np.bincount(dense.j, weights=W * dense.weight * activity[dense.i], minlength=lat.n)
    sparse = fixed_indegree(lat, lat, k, sigma, seed=4)
    sparse_in = np.bincount(sparse.j, weights=(W * np.pi * s_c / k) * activity[sparse.i],
                            minlength=lat.n)
    assert sparse_in.mean() == pytest.approx(dense_in.mean(), rel=0.05)
    assert sparse_in.mean() == pytest.approx(dense_in.mean(), rel=0.01)  # measured: < 0.5 %
    # neuron by neuron the sparse input scatters around the dense one by ~1/sqrt(k)
    rel = (sparse_in - dense_in) / dense_in
    assert abs(rel.mean()) < 0.01 and rel.std() < 1.5 / np.sqrt(k)


def test_dense_kernel_weights_and_total():
    lat = Lattice(50)
    conn = gaussian_kernel(lat, lat, 3.0)
    d = distances(conn, lat, lat)
    np.testing.assert_allclose(conn.weight, np.exp(-d**2 / 18))
    total = np.bincount(conn.j, weights=conn.weight)
    np.testing.assert_allclose(total, 2 * np.pi * 9, rtol=1e-4)  # the Gaussian's integral
    no_self = gaussian_kernel(lat, lat, 3.0, allow_self=False)
    assert len(no_self) == len(conn) - lat.n
    assert kernel_sum(lat, lat, 3.0) == pytest.approx(total.mean(), rel=1e-12)
    assert kernel_sum(lat, lat, 3.0, allow_self=False) == pytest.approx(total.mean() - 1)
    e, i = Lattice(60), Lattice(30, 60.0)  # I sources (spacing 2) onto E: four offset classes
    dense = gaussian_kernel(i, e, 7.0)
    assert kernel_sum(i, e, 7.0) == pytest.approx(
        np.bincount(dense.j, weights=dense.weight).mean(), rel=1e-12)


def test_probability_rule_mean_in_degree():
    lat = Lattice(60)
    p_max, sigma = 0.5, 4.0
    conn = gaussian_probability(lat, lat, p_max, sigma, seed=5)
    expected = p_max * 2 * np.pi * sigma**2  # sum of the kernel over the lattice
    assert np.bincount(conn.j, minlength=lat.n).mean() == pytest.approx(expected, rel=0.02)
    d = distances(conn, lat, lat)
    assert np.sqrt(np.mean(d**2) / 2) == pytest.approx(sigma, rel=0.03)


def test_wide_kernel_on_a_small_torus_counts_each_source_once():
    lat = Lattice(8)
    conn = gaussian_kernel(lat, lat, 50.0)
    assert len(conn) == lat.n**2
    assert len(set(zip(conn.i.tolist(), conn.j.tolist()))) == lat.n**2


def test_impossible_requests():
    e, i = Lattice(20), Lattice(10)
    with pytest.raises(ValueError, match="larger than the source population"):
        fixed_indegree(e, e, 401, 2.0)
    with pytest.raises(ValueError, match="share one torus"):
        fixed_indegree(i, e, 5, 2.0)
    with pytest.raises(ValueError, match="sigma must be positive"):
        gaussian_kernel(e, e, 0.0)
    with pytest.raises(ValueError, match="positive integer"):
        fixed_indegree(e, e, 0, 2.0)
    with pytest.raises(ValueError, match="p_max"):
        gaussian_probability(e, e, 1.5, 2.0)
