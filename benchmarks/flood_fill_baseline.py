"""The source document's pattern detection, pixel by pixel (the baseline to beat).

Written from the algorithm's description: a stack-based flood fill over the 8-neighbourhood
with wrap-around, regions kept if one pixel exceeds ``high``; centres by unwrapping
coordinates that span more than half the torus. Used by benchmarks and tests only.
"""

import numpy as np


def flood_fill_centres(frame, low, high):
    rows, cols = frame.shape
    seen = np.zeros(frame.shape, dtype=bool)
    centres = []
    for r0 in range(rows):
        for c0 in range(cols):
            if seen[r0, c0] or frame[r0, c0] <= low:
                continue
            stack, region, strong = [(r0, c0)], [], False
            seen[r0, c0] = True
            while stack:
                r, c = stack.pop()
                region.append((r, c))
                strong |= frame[r, c] > high
                for dr in (-1, 0, 1):
                    for dc in (-1, 0, 1):
                        nr, nc = (r + dr) % rows, (c + dc) % cols
                        if not seen[nr, nc] and frame[nr, nc] > low:
                            seen[nr, nc] = True
                            stack.append((nr, nc))
            if not strong:
                continue
            pts = np.array(region, dtype=float)
            for axis, size in ((0, rows), (1, cols)):
                if pts[:, axis].max() - pts[:, axis].min() > size / 2:
                    pts[pts[:, axis] < size / 2, axis] += size
            centres.append([pts[:, 0].mean() % rows, pts[:, 1].mean() % cols])
    return np.array(centres).reshape(-1, 2)
