"""viz: the grid layout exactly, and every plot writes a real PNG/GIF at the returned path."""
import os

import matplotlib
import numpy as np
import pytest

from minigen import viz
from minigen.data import FashionMNIST, toy_2d

PNG = b"\x89PNG\r\n\x1a\n"


def _is_png(path):
    with open(path, "rb") as f:
        return f.read(8) == PNG


def test_agg_backend_always():
    assert matplotlib.get_backend().lower() == "agg"


def test_make_grid_places_each_image():
    images = np.stack([np.full((2, 3), v, np.float32) for v in (0.1, 0.2, 0.3)])
    grid = viz.make_grid(images, nrow=2, padding=1, pad_value=1.0, value_range=(0, 1))
    assert grid.shape == (1 + 2 * 3, 1 + 2 * 4, 1)
    g = grid[..., 0]
    assert np.all(g[1:3, 1:4] == pytest.approx(0.1))       # image 0: row 0, col 0
    assert np.all(g[1:3, 5:8] == pytest.approx(0.2))       # image 1: row 0, col 1
    assert np.all(g[4:6, 1:4] == pytest.approx(0.3))       # image 2: row 1, col 0
    assert np.all(g[4:6, 5:8] == 1.0)                      # empty cell keeps pad_value
    assert np.all(g[0] == 1.0) and np.all(g[:, 4] == 1.0)  # padding lines


def test_make_grid_value_ranges_and_layouts():
    u8 = np.array([[[0, 255]]], np.uint8)                  # guessed as 0..255
    assert viz.make_grid(u8, padding=0)[..., 0].tolist() == [[0.0, 1.0]]
    sym = np.array([[[-1.0, 1.0]]])                        # guessed as [-1, 1]
    assert viz.make_grid(sym, padding=0)[..., 0].tolist() == [[0.0, 1.0]]
    chw = np.zeros((4, 3, 5, 6))
    assert viz.make_grid(chw, nrow=4, padding=0).shape == (5, 24, 3)
    nchw1 = np.zeros((4, 1, 5, 6))
    assert viz.make_grid(nchw1, nrow=2, padding=0).shape == (10, 12, 1)
    with pytest.raises(ValueError, match="cannot read images"):
        viz.make_grid(np.zeros((2, 5, 5, 7, 7)))


def test_every_plot_writes_a_png(tmp_path):
    ds = FashionMNIST("test", source="embedded", verbose=False)
    ring = toy_2d("8gaussians")
    x = ring.sample(500, seed=0)
    rng = np.random.default_rng(0)
    paths = [
        viz.image_grid(ds.images[:16], str(tmp_path / "a" / "grid.png")),
        viz.image_grid(ds.images[:8], str(tmp_path / "labels.png"), labels=ds.labels[:8],
                       class_names=ds.classes, title="t"),
        viz.image_grid(ds.images[:4], str(tmp_path / "strlabels.png"), labels=["a", "b", "c", "d"]),
        viz.interpolation_strip(ds.images[:20].reshape(2, 10, 28, 28), str(tmp_path / "i.png"),
                                row_labels=["x", "y"]),
        viz.curves({"loss": np.linspace(2, 1, 50), "acc": np.linspace(0, 1, 50)},
                   str(tmp_path / "c.png"), smooth=5, separate=True),
        viz.curves([{"step": 1, "loss": 3.0}, {"step": 2, "loss": 2.0, "kl": 1.0}],
                   str(tmp_path / "c2.png"), logy=True),
        viz.scatter_2d(x, str(tmp_path / "s.png"), modes=ring.modes, real=x, lim=3),
        viz.density_2d(x, str(tmp_path / "d.png"), modes=ring.modes),
        viz.density_grid(lambda p: -0.5 * (p ** 2).sum(1), str(tmp_path / "g.png"), n=50),
        viz.latent_scatter(rng.standard_normal((100, 6)), rng.integers(0, 10, 100),
                           str(tmp_path / "z.png"), class_names=ds.classes),
    ]
    for p in paths:
        assert os.path.isfile(p) and _is_png(p), p


def test_curves_read_a_csv_log(tmp_path):
    log = tmp_path / "log.csv"
    log.write_text("step,loss,fd\n1,2.0,\n2,1.5,30\n3,1.0,\n")
    cols = viz.read_csv_log(str(log))
    assert cols["loss"].tolist() == [2.0, 1.5, 1.0] and np.isnan(cols["fd"][0])
    assert _is_png(viz.curves(str(log), str(tmp_path / "c.png")))


def test_smoothing_is_a_running_mean():
    np.testing.assert_allclose(viz._smooth(np.array([1.0, 3, 5, 7]), 2), [1, 2, 4, 6])


def test_gif_has_every_frame(tmp_path):
    from PIL import Image
    frames = [np.full((8, 8), v) for v in (0.0, 0.5, 1.0)]
    path = viz.save_gif(frames, str(tmp_path / "g" / "a.gif"), duration_ms=50)
    pngs = [viz.image_grid(np.full((4, 8, 8), v), str(tmp_path / f"p{v}.png"), value_range=(0, 1))
            for v in (0.0, 1.0)]
    with Image.open(path) as im:
        assert im.n_frames == 3
    with Image.open(viz.save_gif(pngs, str(tmp_path / "b.gif"))) as im:
        assert im.n_frames == 2
    with pytest.raises(ValueError):
        viz.save_gif([], str(tmp_path / "c.gif"))


# -- save_image: torchvision's grid, pixel for pixel ------------------------------------------
def _png(path):
    from matplotlib import image
    return np.round(image.imread(path)[..., :3] * 255).astype(int)


def test_save_image_layout_and_pixels_like_torchvision(tmp_path):
    from minigen.viz import save_image
    import minigen as mg
    x = np.zeros((5, 1, 3, 4), np.float32)
    for i in range(5):
        x[i] = i / 4                                    # image i is flat at i / 4
    path = save_image(mg.tensor(x), str(tmp_path / "grid.png"), nrow=3, padding=1)
    png = _png(path)
    assert png.shape == (2 * (3 + 1) + 1, 3 * (4 + 1) + 1, 3)      # 2 rows of 3, padded
    for i in range(5):
        top, left = 1 + (i // 3) * 4, 1 + (i % 3) * 5
        assert (png[top:top + 3, left:left + 4] == int(i / 4 * 255 + 0.5)).all()
    assert (png[0] == 0).all() and (png[:, 0] == 0).all()          # pad_value 0
    assert (png[5:8, 11:15] == 0).all()                             # the empty sixth cell


def test_save_image_normalize_value_range_and_clipping(tmp_path):
    from minigen.viz import save_image
    x = np.array([-1.0, 0.0, 1.0, 3.0]).reshape(1, 1, 1, 4)
    assert _png(save_image(x, str(tmp_path / "a.png")))[0, :, 0].tolist() == [0, 0, 255, 255]
    assert _png(save_image(x, str(tmp_path / "b.png"), normalize=True))[0, :, 0].tolist() == \
        [0, 64, 128, 255]                                           # min -1, max 3
    assert _png(save_image(x, str(tmp_path / "c.png"), normalize=True, value_range=(-1, 1))
                )[0, :, 0].tolist() == [0, 128, 255, 255]
    few = save_image(np.ones((2, 3, 2, 2)), str(tmp_path / "d.png"), nrow=8, padding=2)
    assert _png(few).shape == (2 + 2 + 2, 2 * 4 + 2, 3)             # 2 columns, not 8
    with pytest.raises(ValueError, match=r"x\[:, None\]"):
        save_image(np.zeros((10, 28, 28)), str(tmp_path / "e.png"))
    with pytest.raises(ValueError, match="nrow must be at least 1"):
        save_image(np.zeros((2, 1, 4, 4)), str(tmp_path / "f.png"), nrow=0)
