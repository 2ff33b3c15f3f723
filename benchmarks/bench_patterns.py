"""Frames per second of pattern detection + tracking (Phi) on 150 x 150 frames, one core.

Baseline, measured in the same run: the source document's pixel-by-pixel flood fill
(benchmarks/flood_fill_baseline.py). Target: at least 200 frames/s for brianlab.

    python benchmarks/bench_patterns.py [--frames 200] [--patterns 30]
"""

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from benchmarks.flood_fill_baseline import flood_fill_centres  # noqa: E402
from brianlab.analysis import order_parameter, pattern_centres  # noqa: E402


def make_frames(n_frames, n_patterns, side=150, seed=0):
    """Blobs (rest -70 mV, peak -50 mV, width 2.5 px) drifting at random velocities."""
    rng = np.random.default_rng(seed)
    starts = rng.uniform(0, side, (n_patterns, 2))
    velocity = rng.normal(0, 1.0, (n_patterns, 2))
    rows = np.arange(side, dtype=np.float32)
    frames = np.empty((n_frames, side, side), dtype=np.float32)
    for t in range(n_frames):  # synthetic data only
        frame = np.full((side, side), -70.0, dtype=np.float32)
        for r, c in (starts + t * velocity) % side:
            dr = (rows - r + side / 2) % side - side / 2
            dc = (rows - c + side / 2) % side - side / 2
            blob = -70 + 20 * np.exp(-(dr[:, None] ** 2 + dc[None, :] ** 2) / (2 * 2.5**2))
            np.maximum(frame, blob, out=frame)
        frames[t] = frame
    return frames


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--patterns", type=int, default=30)
    args = parser.parse_args()
    frames = make_frames(args.frames, args.patterns)
    low, high = -65.0, -55.0

    start = time.perf_counter()
    result = order_parameter(frames, low, high)
    ours = time.perf_counter() - start
    start = time.perf_counter()
    for frame in frames[:20]:
        pattern_centres(frame, low, high)
    ours_centres = (time.perf_counter() - start) / 20

    n_base = min(10, args.frames)
    start = time.perf_counter()
    for frame in frames[:n_base]:
        flood_fill_centres(frame, low, high)
    base = (time.perf_counter() - start) / n_base

    print(f"frames 150x150, {args.patterns} patterns, Phi = {result.phi:.3f}, "
          f"{result.pairs} tracked pairs")
    print(f"brianlab order_parameter: {args.frames / ours:8.1f} frames/s (detection + tracking)")
    print(f"brianlab pattern_centres: {1 / ours_centres:8.1f} frames/s")
    print(f"flood-fill baseline:      {1 / base:8.1f} frames/s (detection only)")
    print(f"speed-up over baseline:   {base / ours_centres:8.1f} x")


if __name__ == "__main__":
    main()
