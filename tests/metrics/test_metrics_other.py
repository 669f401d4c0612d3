"""Precision/recall, mode counting, likelihood bookkeeping and AUROC on known answers."""
import math

import numpy as np
import pytest

from minigen.data import toy_2d
from minigen.metrics import (auroc, bits_per_dim, dequantized_nll, histogram_stats, iwae_nll,
                             knn_radii, mode_stats, nats_per_image, nll_report,
                             precision_recall, reverse_kl, roc_curve)


# -- precision / recall --------------------------------------------------------------------
def test_knn_radii_match_brute_force():
    x = np.random.default_rng(0).standard_normal((60, 3))
    d = np.linalg.norm(x[:, None] - x[None], axis=2)
    want = np.sort(d, axis=1)[:, 3]                # column 0 is the point itself
    np.testing.assert_allclose(knn_radii(x, k=3, chunk=7), want, rtol=1e-6)


def test_precision_recall_extremes_and_mode_collapse():
    rng = np.random.default_rng(1)
    real = np.concatenate([rng.standard_normal((400, 2)) - 10, rng.standard_normal((400, 2)) + 10])
    assert precision_recall(real, real) == (1.0, 1.0)
    assert precision_recall(real, rng.standard_normal((300, 2)) + 100) == (0.0, 0.0)
    collapsed = rng.standard_normal((400, 2)) - 10         # only one of the two modes
    p, r = precision_recall(real, collapsed)
    assert p > 0.9 and 0.4 < r < 0.52


# -- modes -----------------------------------------------------------------------------------
def test_reverse_kl_known_values():
    assert reverse_kl([5, 5, 5, 5]) == pytest.approx(0)
    assert reverse_kl([7, 0, 0, 0]) == pytest.approx(math.log(4))
    assert reverse_kl([1, 1, 0, 0]) == pytest.approx(math.log(2))
    assert reverse_kl([0, 0]) == math.inf
    assert reverse_kl([1, 3], weights=[0.25, 0.75]) == pytest.approx(0)


def test_mode_collapse_on_the_ring():
    ring = toy_2d("8gaussians")
    rng = np.random.default_rng(0)
    collapsed = ring.modes[2] + 0.02 * rng.standard_normal((1000, 2))
    stats = mode_stats(collapsed, ring.modes, ring.std)
    assert stats["modes_covered"] == 1 and stats["reverse_kl"] == pytest.approx(math.log(8))
    # half of the modes, evenly: KL = log 2
    half = ring.modes[rng.integers(0, 4, 4000)] + 0.02 * rng.standard_normal((4000, 2))
    stats = mode_stats(half, ring.modes, ring.std)
    assert stats["modes_covered"] == 4 and stats["reverse_kl"] == pytest.approx(math.log(2), abs=0.01)


def test_blurry_samples_are_low_quality_and_min_count():
    ring = toy_2d("8gaussians")
    rng = np.random.default_rng(0)
    far = rng.uniform(-0.5, 0.5, (500, 2))                  # the hole in the middle
    stats = mode_stats(far, ring.modes, ring.std)
    assert stats["high_quality"] == 0 and stats["modes_covered"] == 0
    assert stats["reverse_kl"] == math.inf
    few = np.concatenate([ring.modes[:1].repeat(30, 0), ring.modes[1:2].repeat(5, 0)])
    assert mode_stats(few, ring.modes, ring.std, min_count=20)["modes_covered"] == 1
    assert mode_stats(few, ring.modes, ring.std, min_count=1)["modes_covered"] == 2


def test_class_histogram():
    stats = histogram_stats([0, 0, 1, 9, 9, 9], num_classes=10)
    assert stats["counts"].tolist() == [2, 1, 0, 0, 0, 0, 0, 0, 0, 3] and stats["covered"] == 3
    assert histogram_stats(np.arange(10), 10)["reverse_kl"] == pytest.approx(0)


# -- likelihood ------------------------------------------------------------------------------
def test_bits_per_dim_and_dequantisation():
    assert bits_per_dim(784 * math.log(2), 784) == pytest.approx(1.0)
    # a uniform density on [0,1]^D has NLL 0; as a model of 256-level pixels: 8 bits/dim
    assert bits_per_dim(dequantized_nll(0.0, 784), 784) == pytest.approx(8.0)
    # on [-1, 1] the uniform density is 2^-D: NLL D log 2; bins of width 2/256: still 8 bits
    assert bits_per_dim(dequantized_nll(784 * math.log(2), 784, 2 / 256), 784) == pytest.approx(8.0)
    assert nats_per_image([1.0, 2.0, 6.0]) == pytest.approx(3.0)
    report = nll_report([100.0, 102.0], 784)
    assert report["nats_per_image"] == 101 and report["stderr"] == pytest.approx(1.0)
    assert report["bits_per_dim"] == pytest.approx(101 / (784 * math.log(2)))


def test_iwae_nll():
    lw = np.log(np.array([[1.0, 3.0], [2.0, 2.0]]))
    np.testing.assert_allclose(iwae_nll(lw), [-math.log(2), -math.log(2)])
    np.testing.assert_allclose(iwae_nll(np.array([[-3.0]])), [3.0])           # K = 1: -ELBO
    assert np.isfinite(iwae_nll(np.array([[-800.0, -801.0]]))).all()         # no underflow


# -- AUROC -----------------------------------------------------------------------------------
def _auroc_pairs(normal, anomalous):
    wins = sum((a > n) + 0.5 * (a == n) for a in anomalous for n in normal)
    return wins / (len(normal) * len(anomalous))


def test_auroc_equals_the_pair_count_with_ties():
    rng = np.random.default_rng(0)
    for _ in range(5):
        normal = rng.integers(0, 10, 40)              # integers: many ties
        anomalous = rng.integers(3, 13, 25)
        assert auroc(normal, anomalous) == pytest.approx(_auroc_pairs(normal, anomalous))


def test_auroc_extremes_and_curve_area():
    assert auroc([0, 1, 2], [3, 4]) == 1.0 and auroc([3, 4], [0, 1, 2]) == 0.0
    assert auroc([1, 1], [1, 1, 1]) == 0.5
    rng = np.random.default_rng(1)
    normal, anomalous = rng.standard_normal(3000), rng.standard_normal(2000) + 1
    fpr, tpr = roc_curve(normal, anomalous)
    assert fpr[0] == tpr[0] == 0 and fpr[-1] == tpr[-1] == 1
    area = np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2)
    assert area == pytest.approx(auroc(normal, anomalous))
    # two unit Gaussians one sigma apart: AUROC = Phi(1/sqrt(2)) = 0.760
    assert abs(auroc(normal, anomalous) - 0.760) < 0.03
    with pytest.raises(ValueError):
        auroc([], [1.0])
