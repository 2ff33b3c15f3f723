"""Analysis of recorded data: pure numpy/scipy, no Brian2 objects (runs on saved results)."""

from .decoding import bump_width, circular_error, decode_torus, population_vector
from .patterns import (PhiResult, displacements, find_patterns, order_parameter,
                       pattern_centres, smooth_frames, spike_count_frames, track)
from .population import (FanoFactors, fano_factor, isi_cv_distribution, peak_frequency,
                         population_rate, population_statistics, rate_spectrum, synchrony,
                         voltage_synchrony)

__all__ = ["bump_width", "circular_error", "decode_torus", "population_vector", "PhiResult", "displacements", "find_patterns", "order_parameter", "pattern_centres",
           "smooth_frames", "spike_count_frames", "track",
           "FanoFactors", "fano_factor", "isi_cv_distribution", "peak_frequency",
           "population_rate", "population_statistics", "rate_spectrum", "synchrony",
           "voltage_synchrony"]
