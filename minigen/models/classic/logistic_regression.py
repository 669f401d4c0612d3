"""Multinomial logistic regression: the *discriminative* rival of the generative classifiers.

It models ``p(y | x)`` directly and nothing else::

    p(y = c | x) = softmax(x W + b)_c = exp(x . w_c + b_c) / sum_c' exp(x . w_c' + b_c')

trained by minimising the cross-entropy (the negative conditional log-likelihood) plus an
L2 penalty, with the minigen engine: the loss is built from engine ops and
``loss.backward()`` gives ``dL/dW`` and ``dL/db``.

Because it has no model of ``x``, it cannot marginalise a missing feature: the score
``x . w_c`` needs a number in every slot. So with missing pixels it must **impute** --
here, fill them with the training mean of that pixel (or 0). The generative classifiers in
:mod:`.generative_classifiers` instead integrate the missing pixels out; the demo
``demos/classic_classifiers.py`` compares the two as the fraction of missing pixels grows.
"""

from __future__ import annotations

import numpy as np
from scipy.special import log_softmax

from ._base import (BaseEstimator, check_array, check_labels, check_mask, check_n_features,
                    check_random_state)


class LogisticRegression(BaseEstimator):
    """Softmax regression trained with the minigen engine (mini-batch Adam or SGD).

    Parameters
    ----------
    lr : learning rate.
    n_epochs : passes over the training set.
    batch_size : samples per gradient step.
    weight_decay : L2 penalty ``weight_decay / 2 * |W|^2`` added to the mean cross-entropy.
    optimizer : ``"adam"`` or ``"sgd"``.
    impute : how missing features are filled at prediction time: ``"mean"`` (the
        training mean of the feature) or ``"zero"``.
    random_state : seed for initialisation and shuffling.

    Attributes: ``classes_``, ``coef_`` ``(n_features, n_classes)``, ``intercept_``
    ``(n_classes,)``, ``feature_mean_`` (used for imputation), ``loss_history_`` (mean loss per
    epoch).
    """

    _fitted_attr = "coef_"

    def __init__(self, lr: float = 0.01, n_epochs: int = 10, batch_size: int = 128,
                 weight_decay: float = 1e-4, optimizer: str = "adam", impute: str = "mean",
                 random_state=None):
        if optimizer not in ("adam", "sgd"):
            raise ValueError(f"optimizer must be 'adam' or 'sgd', got {optimizer!r}")
        if impute not in ("mean", "zero"):
            raise ValueError(f"impute must be 'mean' or 'zero', got {impute!r}")
        if lr <= 0 or weight_decay < 0 or int(n_epochs) < 1 or int(batch_size) < 1:
            raise ValueError("need lr > 0, weight_decay >= 0, n_epochs >= 1 and batch_size >= 1")
        self.lr = lr
        self.n_epochs = int(n_epochs)
        self.batch_size = int(batch_size)
        self.weight_decay = weight_decay
        self.optimizer = optimizer
        self.impute = impute
        self.random_state = random_state

    # ------------------------------------------------------------------ training (engine)
    def fit(self, X, y) -> "LogisticRegression":
        """Minimise ``mean cross-entropy(x W + b, y) + weight_decay / 2 |W|^2`` by mini-batches."""
        import minigen as mg                                  # the engine, imported when needed
        import minigen.functional as F
        import minigen.nn as nn
        import minigen.optim as optim

        X = check_array(X)
        y = check_labels(y, X.shape[0])
        self.classes_, y_index = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"need at least 2 classes to classify, got {len(self.classes_)}")
        rng = check_random_state(self.random_state)
        n, d = X.shape
        self.n_features_in_ = d
        self.feature_mean_ = X.mean(axis=0)

        W = nn.Parameter(np.zeros((d, len(self.classes_))))  # convex problem: zeros are a fine start
        b = nn.Parameter(np.zeros(len(self.classes_)))
        opt = (optim.Adam([W, b], lr=self.lr) if self.optimizer == "adam"
               else optim.SGD([W, b], lr=self.lr))

        self.loss_history_ = []
        for _ in range(self.n_epochs):
            order = rng.permutation(n)
            total = 0.0
            for start in range(0, n, self.batch_size):
                idx = order[start:start + self.batch_size]
                logits = mg.tensor(X[idx]) @ W + b
                loss = F.cross_entropy(logits, y_index[idx])
                if self.weight_decay:
                    loss = loss + 0.5 * self.weight_decay * (W * W).sum()
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += float(np.asarray(_to_numpy(loss.data))) * len(idx)
            self.loss_history_.append(total / n)
        self.coef_ = np.array(_to_numpy(W.data), dtype=np.float64)
        self.intercept_ = np.array(_to_numpy(b.data), dtype=np.float64)
        return self

    # ------------------------------------------------------------------ prediction (NumPy)
    def impute_missing(self, X, mask=None) -> np.ndarray:
        """Fill missing entries (NaN, or ``mask`` False) with the training mean or 0."""
        self._check_fitted()
        X = check_array(X, allow_nan=True)
        check_n_features(X, self.n_features_in_)
        X_filled, observed = check_mask(X, mask)
        fill = self.feature_mean_ if self.impute == "mean" else np.zeros(self.n_features_in_)
        return np.where(observed, X_filled, fill)

    def decision_function(self, X, mask=None) -> np.ndarray:
        """Logits ``x W + b`` after imputation."""
        return self.impute_missing(X, mask) @ self.coef_ + self.intercept_

    def predict_log_proba(self, X, mask=None) -> np.ndarray:
        return log_softmax(self.decision_function(X, mask), axis=1)

    def predict_proba(self, X, mask=None) -> np.ndarray:
        return np.exp(self.predict_log_proba(X, mask))

    def predict(self, X, mask=None) -> np.ndarray:
        logits = self.decision_function(X, mask)             # checks fitted first
        return self.classes_[np.argmax(logits, axis=1)]

    def accuracy(self, X, y, mask=None) -> float:
        y = check_labels(y, np.asarray(X).shape[0])
        return float(np.mean(self.predict(X, mask) == y))

    def score(self, X, y, mask=None) -> float:
        """Average conditional log-likelihood ``log p(y | x)`` -- a discriminative model has no ``p(x)``."""
        logp = self.predict_log_proba(X, mask)
        y = check_labels(y, logp.shape[0])
        index = np.searchsorted(self.classes_, y).clip(0, len(self.classes_) - 1)
        if not np.all(self.classes_[index] == y):
            raise ValueError("y contains labels not seen during fit")
        return float(np.mean(logp[np.arange(len(y)), index]))


def _to_numpy(a):
    """An engine array as NumPy (CuPy arrays are copied to the host)."""
    return a.get() if hasattr(a, "get") else a
