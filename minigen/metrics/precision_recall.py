"""Improved precision and recall of samples (Kynkäänniemi et al., NeurIPS 2019).

The support of each distribution is estimated as a union of balls: around every
point, a ball reaching to its k-th nearest neighbour in the same set.

    precision = fraction of generated points inside the real manifold   (quality)
    recall    = fraction of real points inside the generated manifold   (coverage)

A mode-collapsed generator has high precision and low recall; a blurry one the reverse.
"""
from __future__ import annotations

import numpy as np

__all__ = ["precision_recall", "knn_radii"]


def _sq_dists(a, b):
    """Squared Euclidean distances (len(a), len(b)) via |a|^2 + |b|^2 - 2 a.b, clipped at 0."""
    d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T
    return np.maximum(d, 0)


def knn_radii(points, k: int = 3, chunk: int = 1024) -> np.ndarray:
    """Distance from every point to its k-th nearest *other* point in the same set."""
    x = np.asarray(points, dtype=np.float64)
    if len(x) <= k:
        raise ValueError(f"need more than k={k} points, got {len(x)}")
    radii = np.empty(len(x))
    for start in range(0, len(x), chunk):
        d = _sq_dists(x[start:start + chunk], x)
        # column k of the sorted row: column 0 is the point itself (distance 0)
        radii[start:start + chunk] = np.sqrt(np.partition(d, k, axis=1)[:, k])
    return radii


def _inside_manifold(queries, points, radii, chunk: int = 1024) -> np.ndarray:
    """For every query q: is there a point p with |q - p| <= radius(p)?"""
    inside = np.empty(len(queries), dtype=bool)
    r2 = radii ** 2
    for start in range(0, len(queries), chunk):
        d = _sq_dists(queries[start:start + chunk], points)
        inside[start:start + chunk] = (d <= r2[None, :]).any(axis=1)
    return inside


def precision_recall(real, fake, k: int = 3) -> tuple[float, float]:
    """``(precision, recall)`` of generated features ``fake`` against ``real`` (both (N, D))."""
    real = np.asarray(real, dtype=np.float64)
    fake = np.asarray(fake, dtype=np.float64)
    precision = _inside_manifold(fake, real, knn_radii(real, k)).mean()
    recall = _inside_manifold(real, fake, knn_radii(fake, k)).mean()
    return float(precision), float(recall)
