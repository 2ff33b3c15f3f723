"""Images on a lattice."""

import numpy as np
import pytest

from brianlab.inputs import cross_image, image_on_lattice, load_image, stimulus_image


def test_cross():
    image = cross_image(100, width=10)
    assert image.sum() == 2 * 10 * 100 - 100
    assert image[50, 0] == 1 and image[0, 50] == 1 and image[0, 0] == 0
    assert cross_image(150).sum() == 2 * 7 * 150 - 49


def test_png_round_trip(tmp_path):
    import matplotlib.image

    picture = np.zeros((30, 30, 3))
    picture[10:20, 5:25] = 1.0
    path = tmp_path / "bar.png"
    matplotlib.image.imsave(path, picture)
    lattice = load_image(path, 60)
    assert lattice.shape == (60, 60)
    assert lattice.min() == 0 and lattice.max() == pytest.approx(1)
    assert lattice[30, 30] == pytest.approx(1) and lattice[5, 30] == pytest.approx(0)
    assert (lattice > 0.5).mean() == pytest.approx(200 / 900, abs=0.02)


def test_bad_images(tmp_path):
    with pytest.raises(ValueError, match="nope.png"):
        stimulus_image(str(tmp_path / "nope.png"), 10)
    broken = tmp_path / "broken.png"
    broken.write_text("not a png")
    with pytest.raises(ValueError, match="cannot read image file .*broken.png"):
        load_image(broken, 10)
    with pytest.raises(ValueError, match="2D"):
        image_on_lattice(np.zeros(5), 10)
