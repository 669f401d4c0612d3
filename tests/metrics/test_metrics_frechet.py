"""Fréchet distance and KID against closed forms and brute force."""
import itertools

import numpy as np
import pytest
import scipy.linalg

from minigen.metrics import frechet_distance, frechet_distance_from_stats, gaussian_stats, kid


def _random_cov(rng, d):
    a = rng.standard_normal((d, d))
    return a @ a.T / d + 0.1 * np.eye(d)


def test_identical_sets_give_zero():
    f = np.random.default_rng(0).standard_normal((500, 16))
    assert frechet_distance(f, f) == pytest.approx(0, abs=1e-8)


def test_one_dimensional_closed_form():
    """In 1-D: d^2 = (m1 - m2)^2 + (s1 - s2)^2."""
    d2 = frechet_distance_from_stats([1.0], [[4.0]], [-2.0], [[9.0]])
    assert d2 == pytest.approx(9 + 1)


def test_diagonal_closed_form():
    """Commuting (diagonal) covariances: d^2 = |dm|^2 + sum (sqrt(a_i) - sqrt(b_i))^2."""
    a, b = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.25])
    m1, m2 = np.array([0.0, 1, 2]), np.array([1.0, 1, 0])
    want = np.sum((m1 - m2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert frechet_distance_from_stats(m1, np.diag(a), m2, np.diag(b)) == pytest.approx(want)


def test_general_covariances_match_scipy_sqrtm():
    rng = np.random.default_rng(1)
    for d in (2, 5, 20):
        s1, s2 = _random_cov(rng, d), _random_cov(rng, d)
        m1, m2 = rng.standard_normal(d), rng.standard_normal(d)
        cross = scipy.linalg.sqrtm(s1 @ s2).real
        want = np.sum((m1 - m2) ** 2) + np.trace(s1 + s2 - 2 * cross)
        got = frechet_distance_from_stats(m1, s1, m2, s2)
        assert got == pytest.approx(want, rel=1e-8)
        assert got == pytest.approx(frechet_distance_from_stats(m2, s2, m1, s1), rel=1e-8)


def test_samples_converge_to_the_closed_form():
    rng = np.random.default_rng(2)
    s1, s2 = _random_cov(rng, 4), _random_cov(rng, 4)
    m2 = np.array([1.0, 0, 0, -1])
    x = rng.multivariate_normal(np.zeros(4), s1, size=100000)
    y = rng.multivariate_normal(m2, s2, size=100000)
    want = frechet_distance_from_stats(np.zeros(4), s1, m2, s2)
    assert frechet_distance(x, y) == pytest.approx(want, rel=0.02)
    mu, sigma = gaussian_stats(x)
    np.testing.assert_allclose(sigma, s1, atol=0.05)


def test_shape_errors():
    with pytest.raises(ValueError, match="shape mismatch"):
        frechet_distance_from_stats(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3))
    with pytest.raises(ValueError, match="features"):
        frechet_distance(np.zeros(5), np.zeros(5))


def _mmd2_brute_force(x, y, d):
    k = lambda a, b: (a @ b / d + 1) ** 3
    m = len(x)
    kxx = sum(k(x[i], x[j]) for i, j in itertools.permutations(range(m), 2)) / (m * (m - 1))
    kyy = sum(k(y[i], y[j]) for i, j in itertools.permutations(range(m), 2)) / (m * (m - 1))
    kxy = sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / m ** 2
    return kxx + kyy - 2 * kxy


def test_kid_is_the_unbiased_mmd_of_the_cubic_kernel():
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((7, 3)), rng.standard_normal((7, 3)) + 0.5
    mean, std = kid(x, y, n_subsets=3, subset_size=7)     # subset = whole set, 3 times
    assert mean == pytest.approx(_mmd2_brute_force(x, y, 3), rel=1e-10) and std < 1e-12


def test_kid_centres_on_zero_for_one_distribution_and_grows_with_shift():
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((1000, 8)), rng.standard_normal((1000, 8))
    same_mean, same_std = kid(x, y, n_subsets=10, subset_size=300)
    assert abs(same_mean) < 3 * same_std / np.sqrt(10) + 1e-4
    near, _ = kid(x, y + 0.3, n_subsets=10, subset_size=300)
    far, _ = kid(x, y + 1.0, n_subsets=10, subset_size=300)
    assert 0.01 < near < far
    assert kid(x, y + 1.0, n_subsets=5, subset_size=100, seed=1) == \
        kid(x, y + 1.0, n_subsets=5, subset_size=100, seed=1)
