"""Toy 2-D distributions: seeding, geometry, and known coverage numbers."""
import math

import numpy as np
import pytest

from minigen.data import TOY_2D_NAMES, toy_2d


@pytest.mark.parametrize("name", TOY_2D_NAMES)
def test_seeded_shape_and_dtype(name):
    dist = toy_2d(name)
    a, b, c = dist.sample(500, seed=3), dist.sample(500, seed=3), dist.sample(500, seed=4)
    assert a.shape == (500, 2) and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    rng = np.random.default_rng(3)
    np.testing.assert_array_equal(dist.sample(500, rng=rng), a)


def test_eight_gaussians_geometry():
    ring = toy_2d("8gaussians")
    assert ring.modes.shape == (8, 2) and ring.std == 0.02
    np.testing.assert_allclose(np.linalg.norm(ring.modes, axis=1), 2.0)
    gaps = np.linalg.norm(ring.modes - np.roll(ring.modes, 1, axis=0), axis=1)
    np.testing.assert_allclose(gaps, 2 * 2.0 * math.sin(math.pi / 8))


def test_twenty_five_gaussians_grid():
    grid = toy_2d("25gaussians")
    assert grid.modes.shape == (25, 2) and grid.std == 0.05
    assert sorted(set(grid.modes[:, 0])) == [-4, -2, 0, 2, 4]
    assert len({tuple(m) for m in grid.modes}) == 25


@pytest.mark.parametrize("name", ["8gaussians", "25gaussians"])
def test_real_samples_cover_every_mode_with_the_3_sigma_rate(name):
    """For a 2-D isotropic Gaussian P(|x - mu| <= 3 sigma) = 1 - exp(-9/2) = 0.98889."""
    dist = toy_2d(name)
    stats = dist.mode_stats(dist.sample(20000, seed=0))
    assert stats["modes_covered"] == stats["num_modes"]
    assert abs(stats["high_quality"] - (1 - math.exp(-4.5))) < 0.004
    assert stats["reverse_kl"] < 0.01


def test_rings_radii():
    rings = toy_2d("rings", radii=(1.0, 3.0), std=0.01)
    r = np.linalg.norm(rings.sample(4000, seed=0), axis=1)
    near_one = np.abs(r - 1) < 0.05
    assert np.all(near_one | (np.abs(r - 3) < 0.05))
    assert 0.45 < near_one.mean() < 0.55
    with pytest.raises(ValueError, match="no isolated modes"):
        rings.mode_stats(r)


def test_moons_are_two_half_circles():
    moons = toy_2d("moons", std=0.0)
    x = moons.sample(2000, seed=0) / 2 + np.array([0.5, 0.25])     # undo centring / scaling
    upper = np.abs(np.linalg.norm(x, axis=1) - 1) < 1e-5
    lower = np.abs(np.linalg.norm(x - np.array([1, 0.5]), axis=1) - 1) < 1e-5
    assert np.all(upper | lower) and 0.45 < upper.mean() < 0.55
    assert np.all(x[upper, 1] >= -1e-6) and np.all(x[lower, 1] <= 0.5 + 1e-6)


def test_swiss_roll_radius_grows_with_angle():
    x = toy_2d("swissroll", std=0.0).sample(2000, seed=0).astype(np.float64) * 5
    t = np.linalg.norm(x, axis=1)                      # |(t cos t, t sin t)| = t
    assert t.min() >= 1.5 * np.pi - 1e-3 and t.max() <= 4.5 * np.pi + 1e-3
    np.testing.assert_allclose(np.cos(t) * t, x[:, 0], atol=1e-3)


def test_checkerboard_fills_black_squares_evenly():
    x = toy_2d("checkerboard").sample(40000, seed=0)
    assert np.all(np.abs(x) <= 4)
    col, row = np.floor(x[:, 0] / 2).astype(int), np.floor(x[:, 1] / 2).astype(int)
    assert np.all((col + row) % 2 == 0)                # only "black" squares
    counts = np.unique(col * 10 + row, return_counts=True)[1]
    assert len(counts) == 8 and counts.min() > 0.9 * 40000 / 8


def test_unknown_name():
    with pytest.raises(ValueError, match="8gaussians"):
        toy_2d("spiral")
