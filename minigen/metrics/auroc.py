"""AUROC for anomaly scores: how well a score separates normal from anomalous inputs.

AUROC = P(score(anomaly) > score(normal)) + 1/2 P(equal), over independent pairs:
1 is perfect, 0.5 is chance.  That probability is the Mann-Whitney U statistic divided
by the number of pairs, which average ranks give in O(N log N) without any threshold.
"""
from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

__all__ = ["auroc", "roc_curve"]


def auroc(scores_normal, scores_anomalous) -> float:
    """Area under the ROC curve; higher scores must mean "more anomalous".

    With all scores ranked together (ties get their average rank),
        U = sum(ranks of the anomalies) - n_a (n_a + 1) / 2,   AUROC = U / (n_a n_n).
    """
    normal = np.asarray(scores_normal, dtype=np.float64).ravel()
    anomalous = np.asarray(scores_anomalous, dtype=np.float64).ravel()
    if len(normal) == 0 or len(anomalous) == 0:
        raise ValueError("auroc needs at least one normal and one anomalous score")
    ranks = rankdata(np.concatenate([normal, anomalous]))
    n_a = len(anomalous)
    u = ranks[len(normal):].sum() - n_a * (n_a + 1) / 2
    return float(u / (n_a * len(normal)))


def roc_curve(scores_normal, scores_anomalous) -> tuple[np.ndarray, np.ndarray]:
    """False- and true-positive rates at every threshold (for plotting), from (0,0) to (1,1)."""
    normal = np.asarray(scores_normal, dtype=np.float64).ravel()
    anomalous = np.asarray(scores_anomalous, dtype=np.float64).ravel()
    thresholds = np.unique(np.concatenate([normal, anomalous]))[::-1]
    fpr = [(normal >= t).mean() for t in thresholds]
    tpr = [(anomalous >= t).mean() for t in thresholds]
    return np.array([0.0, *fpr]), np.array([0.0, *tpr])
