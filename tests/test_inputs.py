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


def _png(path, array, mode="L"):
    from PIL import Image

    Image.fromarray(np.asarray(array, dtype=np.uint8), mode=mode).save(path)
    return path


@pytest.mark.parametrize("case, match", [
    ("black", "marks no stimulus region"),
    ("white", "marks no stimulus region"),
    ("one_pixel", "1 x 1 pixels"),
    ("mostly_bright", "covers 75% of the sheet"),
])
def test_stimulus_images_that_cannot_make_an_experiment(tmp_path, case, match):
    arrays = {"black": np.zeros((40, 40)), "white": np.full((40, 40), 255),
              "one_pixel": np.full((1, 1), 255),
              "mostly_bright": np.pad(np.zeros((20, 20)), ((0, 20), (0, 20)),
                                      constant_values=255)}
    path = _png(tmp_path / f"{case}.png", arrays[case])
    with pytest.raises(ValueError, match=match) as info:
        stimulus_image(str(path), 30)
    assert f"{case}.png" in str(info.value)  # named


def test_nan_image_array_is_refused():
    image = cross_image(20)
    image[3, 3] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        stimulus_image(image, 20)


def test_huge_image_is_refused_from_its_header(tmp_path):
    from PIL import Image

    path = tmp_path / "huge.png"
    Image.new("1", (6000, 5000)).save(path)  # 30 M pixels, a few kB on disk
    with pytest.raises(ValueError, match="6000 x 5000 pixels; at most 25,000,000"):
        stimulus_image(str(path), 30)


def test_a_sane_image_is_accepted(tmp_path):
    array = np.zeros((40, 40))
    array[15:25, :] = 255
    lattice = stimulus_image(str(_png(tmp_path / "bar.png", array)), 40)
    assert (lattice > 0.5).mean() == pytest.approx(0.25, abs=0.01)
