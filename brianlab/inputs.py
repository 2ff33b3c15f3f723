"""Inputs on a lattice: images (a built-in cross, any 2D array, a PNG file).

Pure numpy/scipy/matplotlib; images become per-neuron values in [0, 1] for a
``side x side`` lattice, neuron ``k`` at row ``k // side``, column ``k % side``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import ndimage

__all__ = ["cross_image", "image_on_lattice", "load_image", "stimulus_image"]


def cross_image(side: int, width: int | None = None) -> np.ndarray:
    """A centred cross (two bars of ``width`` pixels, default side // 20) as a 0/1 array."""
    if side < 3:
        raise ValueError(f"side must be at least 3, got {side}")
    width = max(1, side // 20) if width is None else int(width)
    if not 1 <= width <= side:
        raise ValueError(f"width must be between 1 and {side}, got {width}")
    image = np.zeros((side, side))
    lo = (side - width) // 2
    image[lo:lo + width, :] = 1.0
    image[:, lo:lo + width] = 1.0
    return image


def image_on_lattice(image, side: int) -> np.ndarray:
    """Resize a 2D array (grey values, or RGB(A) averaged) to ``side x side``, scaled to [0, 1]."""
    image = np.asarray(image, dtype=float)
    if image.ndim == 3:
        image = image[..., :3].mean(axis=2)
    if image.ndim != 2 or min(image.shape) < 1:
        raise ValueError(f"an image is a 2D (or RGB) array, got shape {image.shape}")
    if image.shape != (side, side):
        image = ndimage.zoom(image, (side / image.shape[0], side / image.shape[1]), order=1,
                             grid_mode=True, mode="nearest")
    low, high = float(image.min()), float(image.max())
    return np.zeros_like(image) if high == low else (image - low) / (high - low)


def load_image(path, side: int) -> np.ndarray:
    """Read a PNG (or any format matplotlib reads) onto a ``side x side`` lattice.

    Bright pixels are the stimulus. Raises ``ValueError`` naming the file when it is
    missing or unreadable.
    """
    import matplotlib.image

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"image file {str(path)!r} does not exist")
    try:
        data = matplotlib.image.imread(str(path))
    except Exception as exc:  # noqa: BLE001 - any reader error is reported with the name
        raise ValueError(f"cannot read image file {str(path)!r}: {exc}") from None
    return image_on_lattice(data, side)


def stimulus_image(spec, side: int) -> np.ndarray:
    """``"cross"``, a path to an image file, or a 2D array -> values in [0, 1] on the lattice."""
    if isinstance(spec, str) and spec == "cross":
        return cross_image(side)
    if isinstance(spec, (str, Path)):
        return load_image(spec, side)
    return image_on_lattice(spec, side)
