"""Generative classifiers: model ``p(x | y) p(y)`` and classify with Bayes' rule (L6.1).

A *generative* classifier learns how each class produces its data, then inverts::

    p(y = c | x) = p(x | y = c) p(y = c) / sum_c' p(x | y = c') p(y = c')

Because it has a full model of ``x``, it can do two things a discriminative
classifier cannot:

* **sample** class-conditional images ``x ~ p(x | y = c)``;
* **classify with missing features** by marginalising them out: with ``x = (x_o, x_m)``
  observed and missing parts, ``p(x_o | c) = integral p(x_o, x_m | c) dx_m``. For the
  models below this integral is closed-form:

  - Naive Bayes (features independent given the class): the missing factors
    integrate to 1, so we simply *leave them out of the product*;
  - a Gaussian ``N(mu, Sigma)``: the marginal of ``x_o`` is ``N(mu_o, Sigma_oo)`` --
    *keep the observed rows/columns* of the mean and covariance.

All ``predict*`` methods take ``mask`` (boolean, True = observed) or treat NaN in ``X``
as missing.

``score(X, y=None)`` is the average log-likelihood per sample: ``log p(x, y)`` when labels
are given, ``log p(x) = log sum_c p(x | c) p(c)`` otherwise. (scikit-learn's classifiers
return accuracy from ``score``; here that is :meth:`accuracy`.)
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import cholesky, solve_triangular
from scipy.special import logsumexp

from ._base import (BaseEstimator, check_array, check_labels, check_mask, check_n_features,
                    check_random_state)

LOG_2PI = np.log(2.0 * np.pi)


class _GenerativeClassifier(BaseEstimator):
    """Bayes' rule on top of a class-conditional log-density.

    Subclasses implement ``_fit_classes(X, y_index)`` and
    ``_class_log_likelihood(X_filled, observed) -> (n, n_classes)`` holding
    ``log p(x_o | y = c)``, and ``_sample_class(c, n, rng)``.
    """

    _fitted_attr = "classes_"

    # ---------------------------------------------------------------- fitting
    def fit(self, X, y) -> "_GenerativeClassifier":
        """Estimate the class priors ``p(c) = n_c / n`` and the class-conditional densities."""
        X = self._check_X(check_array(X))
        y = check_labels(y, X.shape[0])
        self.classes_, y_index = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"need at least 2 classes to classify, got {len(self.classes_)}")
        counts = np.bincount(y_index, minlength=len(self.classes_))
        self.class_count_ = counts
        self.class_log_prior_ = np.log(counts / counts.sum())
        self.n_features_in_ = X.shape[1]
        self._fit_classes(X, y_index)
        return self

    def _check_X(self, X: np.ndarray) -> np.ndarray:
        """Hook for model-specific value checks (e.g. binary inputs)."""
        return X

    def _prepare(self, X, mask):
        """Validate ``X`` for prediction and split it into (filled values, observed mask)."""
        self._check_fitted()
        X = check_array(X, allow_nan=True)
        check_n_features(X, self.n_features_in_)
        X_filled, observed = check_mask(X, mask)
        self._check_X(X_filled)
        return X_filled, observed

    # ---------------------------------------------------------------- Bayes' rule
    def joint_log_likelihood(self, X, mask=None) -> np.ndarray:
        """``log p(x_o, y = c) = log p(x_o | c) + log p(c)`` for every class: shape ``(n, n_classes)``."""
        X_filled, observed = self._prepare(X, mask)
        return self._class_log_likelihood(X_filled, observed) + self.class_log_prior_

    def predict_log_proba(self, X, mask=None) -> np.ndarray:
        """``log p(c | x_o)``: the joint normalised by ``log p(x_o) = logsumexp_c log p(x_o, c)``."""
        jll = self.joint_log_likelihood(X, mask)
        return jll - logsumexp(jll, axis=1, keepdims=True)

    def predict_proba(self, X, mask=None) -> np.ndarray:
        """Posterior class probabilities ``p(c | x_o)``, rows sum to 1."""
        return np.exp(self.predict_log_proba(X, mask))

    def predict(self, X, mask=None) -> np.ndarray:
        """The most probable class (argmax of the joint; normalising does not change it)."""
        jll = self.joint_log_likelihood(X, mask)             # checks fitted first
        return self.classes_[np.argmax(jll, axis=1)]

    def accuracy(self, X, y, mask=None) -> float:
        """Fraction of correctly classified samples."""
        y = check_labels(y, np.asarray(X).shape[0])
        return float(np.mean(self.predict(X, mask) == y))

    def score(self, X, y=None, mask=None) -> float:
        """Average log-likelihood per sample: ``log p(x, y)`` if ``y`` is given, else ``log p(x)``."""
        jll = self.joint_log_likelihood(X, mask)
        if y is None:
            return float(np.mean(logsumexp(jll, axis=1)))
        y = check_labels(y, jll.shape[0])
        index = np.searchsorted(self.classes_, y)
        index = np.clip(index, 0, len(self.classes_) - 1)
        if not np.all(self.classes_[index] == y):
            raise ValueError("y contains labels not seen during fit")
        return float(np.mean(jll[np.arange(len(y)), index]))

    # ---------------------------------------------------------------- sampling
    def sample(self, n: int = 1, y=None, random_state=None) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``n`` samples ``(X, y)``.

        With ``y=None`` labels come from the prior ``p(c)`` (ancestral sampling
        ``c ~ p(c)``, then ``x ~ p(x | c)``); with a class label, all ``n`` samples are
        drawn from that class.
        """
        self._check_fitted()
        rng = check_random_state(random_state)
        n = int(n)
        if y is None:
            index = rng.choice(len(self.classes_), size=n, p=np.exp(self.class_log_prior_))
        else:
            where = np.flatnonzero(self.classes_ == y)
            if where.size == 0:
                raise ValueError(f"unknown class {y!r}; classes are {self.classes_.tolist()}")
            index = np.full(n, where[0])
        X = np.empty((n, self.n_features_in_))
        for c in np.unique(index):
            rows = np.flatnonzero(index == c)
            X[rows] = self._sample_class(c, len(rows), rng)
        return X, self.classes_[index]


# ======================================================================== Naive Bayes
class BernoulliNB(_GenerativeClassifier):
    """Naive Bayes for binary features: ``p(x | c) = prod_j theta_cj^x_j (1 - theta_cj)^(1 - x_j)``.

    ``theta_cj = (count of x_j = 1 in class c + alpha) / (n_c + 2 alpha)`` (Laplace smoothing,
    so no probability is exactly 0 or 1).

    Parameters
    ----------
    alpha : smoothing pseudo-count.
    binarize : threshold applied to inputs (``x > binarize`` -> 1); None means the
        inputs must already be 0/1.

    Attributes: ``classes_``, ``class_log_prior_``, ``feature_prob_`` ``(n_classes, n_features)``.
    """

    def __init__(self, alpha: float = 1.0, binarize: float | None = 0.5):
        if alpha <= 0:
            raise ValueError(f"alpha must be > 0, got {alpha}")
        self.alpha = alpha
        self.binarize = binarize

    def _check_X(self, X):
        if self.binarize is not None:
            return (X > self.binarize).astype(np.float64)
        if not np.isin(X, (0.0, 1.0)).all():
            raise ValueError("X must be binary (0/1) when binarize=None")
        return X

    def _prepare(self, X, mask):
        X_filled, observed = super()._prepare(X, mask)
        return self._check_X(X_filled) * observed, observed

    def _fit_classes(self, X, y_index):
        n_classes = len(self.classes_)
        ones = np.zeros((n_classes, X.shape[1]))
        np.add.at(ones, y_index, X)                          # per-class counts of x_j = 1
        self.feature_prob_ = (ones + self.alpha) / (self.class_count_[:, None] + 2 * self.alpha)

    def _class_log_likelihood(self, X, observed):
        """``sum_{j observed} x_j log theta_cj + (1 - x_j) log(1 - theta_cj)`` as two matmuls.

        ``X`` is 0 at missing entries and ``observed - X`` is ``1 - x_j`` on observed and 0 on
        missing entries, so missing features drop out of both sums (marginalisation).
        """
        log_p, log_q = np.log(self.feature_prob_), np.log1p(-self.feature_prob_)
        return X @ log_p.T + (observed - X) @ log_q.T

    def _sample_class(self, c, n, rng):
        return (rng.random((n, self.n_features_in_)) < self.feature_prob_[c]).astype(np.float64)


class GaussianNB(_GenerativeClassifier):
    """Naive Bayes with a Gaussian per feature and class: ``p(x | c) = prod_j N(x_j; mu_cj, var_cj)``.

    ``var_smoothing`` adds ``var_smoothing * max_j var(x_j)`` to every variance so that
    constant pixels (the black border of an image) do not give zero variance.  The
    default 1e-9 is scikit-learn's (the predictions agree with its ``GaussianNB``); on
    images, where a pixel that is constant within a class makes any other value in it
    almost impossible, a larger value such as 1e-2 classifies better (the demo uses it).

    Attributes: ``classes_``, ``class_log_prior_``, ``theta_`` (means) and ``var_``
    (variances), both ``(n_classes, n_features)``.
    """

    def __init__(self, var_smoothing: float = 1e-9):
        if var_smoothing < 0:
            raise ValueError(f"var_smoothing must be >= 0, got {var_smoothing}")
        self.var_smoothing = var_smoothing

    def _fit_classes(self, X, y_index):
        n_classes = len(self.classes_)
        self.theta_ = np.stack([X[y_index == c].mean(axis=0) for c in range(n_classes)])
        var = np.stack([X[y_index == c].var(axis=0) for c in range(n_classes)])
        self.epsilon_ = self.var_smoothing * X.var(axis=0).max()
        if self.epsilon_ == 0:
            self.epsilon_ = 1e-12                            # fully constant data: avoid 1/0
        self.var_ = var + self.epsilon_

    def _class_log_likelihood(self, X, observed):
        """``-1/2 sum_{j observed} [log(2 pi var_cj) + (x_j - mu_cj)^2 / var_cj]``.

        Expanding the square, ``(x - mu)^2 / var = x^2/var - 2 x mu/var + mu^2/var``, turns the
        masked sum over features into three matrix products (missing ``x_j`` are 0 and the
        terms without ``x`` are multiplied by the mask).
        """
        inv_var = 1.0 / self.var_
        mahal = (X ** 2) @ inv_var.T - 2.0 * X @ (self.theta_ * inv_var).T \
            + observed @ (self.theta_ ** 2 * inv_var).T
        log_norm = observed @ (LOG_2PI + np.log(self.var_)).T
        return -0.5 * (mahal + log_norm)

    def _sample_class(self, c, n, rng):
        return self.theta_[c] + np.sqrt(self.var_[c]) * rng.standard_normal((n, self.n_features_in_))


# ======================================================================== Gaussian DA
class GaussianDiscriminantAnalysis(_GenerativeClassifier):
    """Gaussian discriminant analysis: ``p(x | c) = N(x; mu_c, Sigma_c)``.

    covariance : ``"shared"`` -- one pooled covariance for all classes (linear
        discriminant analysis, LDA: linear decision boundaries);
        ``"per_class"`` -- one covariance per class (quadratic discriminant analysis, QDA).
    shrinkage : ``lambda`` in ``Sigma = (1 - lambda) S + lambda (trace(S) / d) I``, pulling the
        sample covariance ``S`` towards a scaled identity. Needed in high dimension (784
        pixels, some constant): without it ``S`` is singular and the density is undefined.

    Attributes: ``classes_``, ``class_log_prior_``, ``means_`` ``(n_classes, d)``,
    ``covariances_`` ``(n_classes, d, d)`` (the same matrix repeated when shared).
    """

    def __init__(self, covariance: str = "shared", shrinkage: float = 0.1):
        if covariance not in ("shared", "per_class"):
            raise ValueError(f"covariance must be 'shared' or 'per_class', got {covariance!r}")
        if not 0.0 <= shrinkage <= 1.0:
            raise ValueError(f"shrinkage must lie in [0, 1], got {shrinkage}")
        self.covariance = covariance
        self.shrinkage = shrinkage

    def _shrink(self, S: np.ndarray) -> np.ndarray:
        d = S.shape[0]
        target = np.trace(S) / d
        if target == 0:
            target = 1.0                                     # all-constant data
        return (1.0 - self.shrinkage) * S + self.shrinkage * target * np.eye(d)

    def _fit_classes(self, X, y_index):
        n_classes = len(self.classes_)
        self.means_ = np.stack([X[y_index == c].mean(axis=0) for c in range(n_classes)])
        centred = X - self.means_[y_index]
        if self.covariance == "shared":
            # pooled within-class covariance: every sample centred on its own class mean
            S = centred.T @ centred / X.shape[0]
            self.covariances_ = np.repeat(self._shrink(S)[None], n_classes, axis=0)
        else:
            covs = []
            for c in range(n_classes):
                Zc = centred[y_index == c]
                covs.append(self._shrink(Zc.T @ Zc / len(Zc)))
            self.covariances_ = np.stack(covs)
        # Cholesky factors of the full covariances, reused for complete data and sampling
        self._chol = [_cholesky(S) for S in self._unique_covariances()]

    def _unique_covariances(self):
        return [self.covariances_[0]] if self.covariance == "shared" else list(self.covariances_)

    @staticmethod
    def _gaussian_logpdf(Z: np.ndarray, L: np.ndarray) -> np.ndarray:
        """``log N(z; 0, L L^T)`` for rows ``z``: solve ``L u = z``, then ``-1/2 (|u|^2 + log|2 pi Sigma|)``.

        ``log det Sigma = 2 sum log diag(L)``; solving with the triangular factor is cheaper
        and more stable than inverting ``Sigma``.
        """
        U = solve_triangular(L, Z.T, lower=True, check_finite=False)
        logdet = 2.0 * np.sum(np.log(np.diag(L)))
        return -0.5 * (np.sum(U ** 2, axis=0) + logdet + Z.shape[1] * LOG_2PI)

    def _class_log_likelihood(self, X, observed):
        """``log N(x_o; mu_c,o, Sigma_c,oo)``, grouping samples that share a missingness pattern.

        Every distinct mask needs its own Cholesky factor of ``Sigma_oo`` (``d_o^3 / 3`` flops),
        so rows with the same mask (e.g. all complete rows) are handled together.
        """
        n, n_classes = X.shape[0], len(self.classes_)
        out = np.empty((n, n_classes))
        patterns, group = np.unique(observed, axis=0, return_inverse=True)
        group = group.ravel()
        covs = self._unique_covariances()
        for g, pattern in enumerate(patterns):
            rows = np.flatnonzero(group == g)
            obs = np.flatnonzero(pattern)
            if obs.size == 0:                                 # nothing observed: p(x_o) = 1
                out[rows] = 0.0
                continue
            full = obs.size == X.shape[1]
            chols = self._chol if full else [_cholesky(S[np.ix_(obs, obs)]) for S in covs]
            for c in range(n_classes):
                L = chols[0] if self.covariance == "shared" else chols[c]
                Z = X[np.ix_(rows, obs)] - self.means_[c, obs]
                out[rows, c] = self._gaussian_logpdf(Z, L)
        return out

    def _sample_class(self, c, n, rng):
        """``x = mu_c + L_c eps`` with ``eps ~ N(0, I)`` has covariance ``L_c L_c^T = Sigma_c``."""
        L = self._chol[0] if self.covariance == "shared" else self._chol[c]
        return self.means_[c] + rng.standard_normal((n, self.n_features_in_)) @ L.T


def _cholesky(S: np.ndarray) -> np.ndarray:
    """Lower Cholesky factor ``L`` with ``L L^T = S`` (raises if ``S`` is not positive definite)."""
    return cholesky(S, lower=True, check_finite=False)


__all__ = ["BernoulliNB", "GaussianNB", "GaussianDiscriminantAnalysis"]
