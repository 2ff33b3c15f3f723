"""Population decoding on rings and tori, bump width, against known answers."""

import numpy as np
import pytest

from brianlab.analysis.decoding import (bump_width, circular_error, decode_torus,
                                        population_vector)

X = -np.pi + 2 * np.pi * np.arange(256) / 256


def gaussian_bump(centre, sigma=0.4):
    d = circular_error(X, centre)
    return np.exp(-d**2 / (2 * sigma**2))


@pytest.mark.parametrize("centre", [0.0, 1.0, -3.0, 3.1])
def test_population_vector_finds_the_bump_centre(centre):
    assert circular_error(population_vector(gaussian_bump(centre), X), centre) == \
        pytest.approx(0, abs=1e-6)


def test_decoding_over_time_and_on_a_torus():
    activity = np.array([gaussian_bump(c) for c in (0.2, 0.4, 0.6)])
    np.testing.assert_allclose(population_vector(activity, X), [0.2, 0.4, 0.6], atol=1e-6)
    xs = -np.pi + 2 * np.pi * np.arange(32) / 32
    pos = np.column_stack([np.tile(xs, 32), np.repeat(xs, 32)])
    d = circular_error(pos, np.array([1.0, -2.0]))
    bump = np.exp(-(d**2).sum(axis=1) / (2 * 0.5**2))
    np.testing.assert_allclose(decode_torus(bump, pos), [1.0, -2.0], atol=1e-4)


def test_bump_width_is_the_fwhm():
    sigma = 0.4
    assert bump_width(gaussian_bump(2.9, sigma), X) == pytest.approx(
        2 * np.sqrt(2 * np.log(2)) * sigma, rel=1e-3)  # across the +-pi seam
    assert bump_width(np.ones(256), X) == pytest.approx(2 * np.pi)
