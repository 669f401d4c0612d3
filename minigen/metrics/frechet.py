"""Fréchet distance (the "F" of FID) and kernel distance (KID) between two feature sets.

Both compare *features* of real and generated images (here: the penultimate layer of
the small Fashion-MNIST classifier in ``minigen.metrics.classifier``), never pixels.
"""
from __future__ import annotations

import numpy as np

__all__ = ["gaussian_stats", "frechet_distance", "frechet_distance_from_stats", "kid"]


def gaussian_stats(features) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of an (N, D) feature array (float64, unbiased covariance)."""
    f = np.asarray(features, dtype=np.float64)
    if f.ndim != 2 or len(f) < 2:
        raise ValueError(f"features must be (N >= 2, D), got shape {f.shape}")
    return f.mean(axis=0), np.cov(f, rowvar=False)


def _sqrtm_psd(a: np.ndarray) -> np.ndarray:
    """Square root of a symmetric positive semi-definite matrix by eigen-decomposition:
    A = V diag(w) V^T  =>  A^(1/2) = V diag(sqrt(w)) V^T  (tiny negative w from rounding -> 0)."""
    w, v = np.linalg.eigh(a)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def frechet_distance_from_stats(mu1, sigma1, mu2, sigma2) -> float:
    """Fréchet (2-Wasserstein) distance between N(mu1, S1) and N(mu2, S2):

        d^2 = |mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2)).

    tr((S1 S2)^(1/2)) is computed as tr((S1^(1/2) S2 S1^(1/2))^(1/2)): the two matrices
    are similar (same eigenvalues), and the second is symmetric PSD, so a symmetric
    eigen-decomposition gives it without the complex round-off of a general ``sqrtm``.
    The result is d^2 (what "FID" reports), clipped at 0.
    """
    mu1, mu2 = np.atleast_1d(mu1).astype(np.float64), np.atleast_1d(mu2).astype(np.float64)
    s1, s2 = np.atleast_2d(sigma1).astype(np.float64), np.atleast_2d(sigma2).astype(np.float64)
    if mu1.shape != mu2.shape or s1.shape != s2.shape or s1.shape != mu1.shape * 2:
        raise ValueError(f"shape mismatch: mu {mu1.shape} vs {mu2.shape}, "
                         f"sigma {s1.shape} vs {s2.shape}")
    root1 = _sqrtm_psd(s1)
    middle = root1 @ s2 @ root1
    middle = (middle + middle.T) / 2          # symmetric up to round-off; make it exact
    tr_cross = np.sqrt(np.clip(np.linalg.eigvalsh(middle), 0, None)).sum()
    d2 = np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * tr_cross
    return float(max(d2, 0.0))


def frechet_distance(features1, features2) -> float:
    """Fréchet distance between Gaussians fitted to two (N, D) feature sets (FID's formula)."""
    return frechet_distance_from_stats(*gaussian_stats(features1), *gaussian_stats(features2))


def _poly_kernel(x, y, degree=3, gamma=None, coef0=1.0):
    """k(x, y) = (gamma x.y + coef0)^degree, gamma = 1/D by default (the KID kernel)."""
    gamma = 1.0 / x.shape[1] if gamma is None else gamma
    return (gamma * (x @ y.T) + coef0) ** degree


def _mmd2_unbiased(x, y, **kernel) -> float:
    """Unbiased estimate of the squared MMD between samples x (m) and y (m):

        MMD^2 = 1/(m(m-1)) sum_{i != j} [k(x_i,x_j) + k(y_i,y_j)] - 2/m^2 sum_{i,j} k(x_i,y_j)

    (the diagonal k(x_i, x_i) is left out of the within-set terms: that removes the bias).
    """
    m = len(x)
    kxx, kyy, kxy = _poly_kernel(x, x, **kernel), _poly_kernel(y, y, **kernel), _poly_kernel(x, y, **kernel)
    within = (kxx.sum() - np.trace(kxx) + kyy.sum() - np.trace(kyy)) / (m * (m - 1))
    return float(within - 2 * kxy.mean())


def kid(features1, features2, n_subsets: int = 50, subset_size: int = 1000, seed: int = 0,
        degree: int = 3, gamma: float | None = None, coef0: float = 1.0) -> tuple[float, float]:
    """Kernel Inception-style Distance (Bińkowski et al. 2018): unbiased MMD^2 with the
    cubic polynomial kernel, averaged over ``n_subsets`` random subsets of
    ``subset_size`` from each set.  Returns ``(mean, std)`` over the subsets.

    Unlike FD it is unbiased: it centres on 0 for two samples of the same distribution
    (so it can come out slightly negative), whatever the sample size.
    """
    f1 = np.asarray(features1, dtype=np.float64)
    f2 = np.asarray(features2, dtype=np.float64)
    m = min(subset_size, len(f1), len(f2))
    if m < 2:
        raise ValueError("kid needs at least 2 samples in each set")
    rng = np.random.default_rng(seed)
    values = [
        _mmd2_unbiased(f1[rng.choice(len(f1), m, replace=False)],
                       f2[rng.choice(len(f2), m, replace=False)],
                       degree=degree, gamma=gamma, coef0=coef0)
        for _ in range(n_subsets)
    ]
    return float(np.mean(values)), float(np.std(values))
