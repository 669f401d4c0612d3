"""Counting modes: the mode-collapse metrics of VEEGAN (Srivastava et al. 2017) and
PacGAN (Lin et al. 2018) for 2-D mixtures, and class coverage for images.

Protocol for a mixture of K Gaussians with means mu_k and standard deviation sigma:

* each sample is assigned to its nearest mode;
* it is *high quality* when it lies within 3 sigma of that mode;
* a mode is *covered* when at least ``min_count`` high-quality samples fall on it
  (VEEGAN: 1; PacGAN: 20 out of 2,500 samples for the 25-Gaussian grid);
* the *reverse KL* KL(p_gen || p_true) compares the histogram of high-quality samples
  over modes with the true weights (uniform): 0 when every mode gets its share,
  log K when all samples sit on one mode.
"""
from __future__ import annotations

import numpy as np

__all__ = ["mode_stats", "histogram_stats", "reverse_kl"]


def reverse_kl(counts, weights=None) -> float:
    """KL(p || q) = sum_k p_k log(p_k / q_k) with p = counts / sum(counts), q = weights
    (uniform when None); terms with p_k = 0 contribute 0.  No counts at all -> inf."""
    counts = np.asarray(counts, dtype=np.float64)
    if counts.sum() == 0:
        return float("inf")
    q = np.full(len(counts), 1 / len(counts)) if weights is None else np.asarray(weights, float)
    p = counts / counts.sum()
    nz = p > 0
    return float(np.sum(p[nz] * np.log(p[nz] / q[nz])))


def histogram_stats(labels, num_classes: int, min_count: int = 1) -> dict:
    """Coverage of ``num_classes`` classes by a set of (predicted) labels.

    Returns ``counts`` per class, ``covered`` (classes with >= min_count samples) and
    ``reverse_kl`` of the label histogram against the uniform distribution.
    """
    labels = np.asarray(labels).astype(np.int64).ravel()
    counts = np.bincount(labels, minlength=num_classes)[:num_classes]
    return {"counts": counts, "covered": int((counts >= min_count).sum()),
            "reverse_kl": reverse_kl(counts)}


def mode_stats(samples, modes, std: float, min_count: int = 1, n_sigma: float = 3.0) -> dict:
    """VEEGAN/PacGAN mode statistics of 2-D (or any-D) ``samples`` for a Gaussian mixture.

    Returns a dict: ``modes_covered`` (int, of ``num_modes``), ``high_quality`` (fraction
    of samples within n_sigma * std of their nearest mode), ``reverse_kl`` (of the
    high-quality samples' mode histogram vs uniform), ``counts`` (high-quality samples
    per mode) and ``nearest`` (each sample's nearest mode).
    """
    x = np.asarray(samples, dtype=np.float64)
    mu = np.asarray(modes, dtype=np.float64)
    dist = np.linalg.norm(x[:, None, :] - mu[None, :, :], axis=2)     # (N, K)
    nearest = dist.argmin(axis=1)
    good = dist[np.arange(len(x)), nearest] <= n_sigma * std
    stats = histogram_stats(nearest[good], len(mu), min_count)
    return {"modes_covered": stats["covered"], "num_modes": len(mu),
            "high_quality": float(good.mean()) if len(x) else 0.0,
            "reverse_kl": stats["reverse_kl"], "counts": stats["counts"], "nearest": nearest}
