"""Factor Analysis fitted by Expectation-Maximisation (L6.2).

The model: a few unobserved *factors* ``z`` generate the observed features ``x``
linearly, plus independent noise with its own variance per feature::

    z ~ N(0, I_k),      x = mu + W z + eps,      eps ~ N(0, Psi),  Psi = diag(psi_1..psi_d)

so ``x ~ N(mu, W W^T + Psi)``. ``W`` (d x k) are the *loadings*: how strongly each feature
depends on each factor. Unlike probabilistic PCA (``Psi = sigma^2 I``) every feature keeps
its own noise level, which is what lets FA separate shared structure from
feature-specific noise.

EM alternates two closed-form steps. With ``S`` the sample covariance of the centred data:

E-step -- the posterior of the factors is Gaussian,
    ``p(z | x) = N(beta (x - mu), G)`` with ``G = (I + W^T Psi^{-1} W)^{-1}`` and
    ``beta = G W^T Psi^{-1}``. Averaged over the data, the expected statistics are
    ``E[z x^T] = beta S`` and ``E[z z^T] = G + beta S beta^T``.

M-step -- regress ``x`` on the expected factors:
    ``W   <- (S beta^T) (G + beta S beta^T)^{-1}``
    ``Psi <- diag(S - W beta S)``

Each iteration cannot decrease the log-likelihood (the EM guarantee), which the tests
check. The loadings are identifiable only up to a rotation ``W R`` (``R R^T = I``): the
likelihood depends on ``W W^T`` only. :func:`align_loadings` finds the rotation that best
matches known loadings.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import orthogonal_procrustes

from ._base import BaseEstimator, check_array, check_n_features, check_random_state

LOG_2PI = np.log(2.0 * np.pi)
#: the smallest noise variance psi_j (scikit-learn's SMALL): a constant feature gets it
NOISE_FLOOR = 1e-12


class FactorAnalysis(BaseEstimator):
    """Linear-Gaussian factor model fitted by EM.

    Parameters
    ----------
    n_components : number of factors ``k``; None (the default, as in scikit-learn): one
        per feature.
    max_iter : maximum EM iterations.
    tol : stop when the *average* log-likelihood improves by less than this (nats per
        sample).  scikit-learn's ``tol=1e-2`` is on the *total* log-likelihood, so the
        same number means another stopping point; this default stops later (closer to
        the optimum).
    min_noise : floor on each ``psi_j`` as a fraction of the feature's variance, against
        "Heywood cases" where a noise variance collapses to 0.  Every ``psi_j`` is also
        kept >= 1e-12, scikit-learn's absolute floor; the default 0 keeps only that one,
        so a constant feature gets ``psi_j = 1e-12`` as there (and the scores agree).
    random_state : seed for the random initial loadings (0 by default, as in scikit-learn;
        the EM path differs from its SVD-based one, the fitted likelihood agrees).

    Attributes (after ``fit``)
    --------------------------
    mean_ : (d,) data mean ``mu``.
    components_ : (k, d) loadings ``W^T`` (scikit-learn's layout: one factor per row).
    noise_variance_ : (d,) the diagonal of ``Psi``.
    loglike_ : list of the average log-likelihood after each EM iteration.
    n_iter_ : iterations run.
    """

    _fitted_attr = "components_"

    def __init__(self, n_components: int | None = None, max_iter: int = 1000, tol: float = 1e-6,
                 min_noise: float = 0.0, random_state=0):
        if n_components is not None and int(n_components) < 1:
            raise ValueError(f"n_components must be >= 1, got {n_components}")
        if int(max_iter) < 1:
            raise ValueError(f"max_iter must be >= 1, got {max_iter}")
        if min_noise < 0:
            raise ValueError(f"min_noise must be >= 0, got {min_noise}")
        self.n_components = None if n_components is None else int(n_components)
        self.max_iter = int(max_iter)
        self.tol = tol
        self.min_noise = min_noise
        self.random_state = random_state

    # ------------------------------------------------------------------ EM
    def fit(self, X, y=None) -> "FactorAnalysis":
        """Run EM from random loadings until the log-likelihood stops improving."""
        X = check_array(X, min_rows=2)
        n, d = X.shape
        k = d if self.n_components is None else self.n_components
        if k > d:
            raise ValueError(f"n_components={k} exceeds the number of features {d}")
        rng = check_random_state(self.random_state)

        self.mean_ = X.mean(axis=0)
        Xc = X - self.mean_
        S = Xc.T @ Xc / n                                     # ML covariance (divide by n)
        var = np.diag(S).copy()
        floor = np.maximum(self.min_noise * var, NOISE_FLOOR)

        # start: small random loadings, noise = half of each feature's variance
        W = rng.standard_normal((d, k)) * np.sqrt(np.maximum(var, 1e-12)).mean() * 0.1
        psi = np.maximum(var / 2, floor)

        self.loglike_ = []
        for it in range(self.max_iter):
            G, beta = self._posterior(W, psi)                # E-step
            W, psi = self._m_step(S, G, beta, floor)         # M-step
            self.loglike_.append(self._avg_loglike(S, W, psi))
            if it > 0 and abs(self.loglike_[-1] - self.loglike_[-2]) < self.tol:
                break
        self.n_iter_ = it + 1
        self.n_components_ = k
        self.components_ = W.T
        self.noise_variance_ = psi
        self.n_features_in_ = d
        return self

    @staticmethod
    def _posterior(W, psi):
        """E-step: ``G = (I + W^T Psi^-1 W)^-1`` and ``beta = G W^T Psi^-1``; ``E[z|x] = beta (x - mu)``."""
        k = W.shape[1]
        W_psi = W.T / psi                                    # W^T Psi^{-1}  (k x d)
        G = np.linalg.inv(np.eye(k) + W_psi @ W)
        return G, G @ W_psi

    @staticmethod
    def _m_step(S, G, beta, floor):
        """M-step: ``W = S beta^T (G + beta S beta^T)^-1``, ``Psi = diag(S - W beta S)``."""
        S_beta = S @ beta.T                                  # E[x z^T] averaged  (d x k)
        Ezz = G + beta @ S_beta                              # E[z z^T] averaged  (k x k)
        W = np.linalg.solve(Ezz, S_beta.T).T                 # Ezz is symmetric
        psi = np.diag(S) - np.sum(W * S_beta, axis=1)        # diag(W beta S) without the d x d product
        return W, np.maximum(psi, floor)

    @staticmethod
    def _avg_loglike(S, W, psi):
        """Average log-likelihood from the covariance ``S`` alone:
        ``-1/2 [d log 2 pi + log det C + trace(C^-1 S)]`` with ``C = W W^T + Psi``."""
        C = W @ W.T + np.diag(psi)
        _, logdet = np.linalg.slogdet(C)
        return -0.5 * (S.shape[0] * LOG_2PI + logdet + np.trace(np.linalg.solve(C, S)))

    # ------------------------------------------------------------------ using the model
    def get_covariance(self) -> np.ndarray:
        """Model covariance ``W W^T + Psi``."""
        self._check_fitted()
        W = self.components_.T
        return W @ W.T + np.diag(self.noise_variance_)

    def get_precision(self) -> np.ndarray:
        """``(W W^T + Psi)^-1`` by the Woodbury identity (inverts only a k x k matrix):
        ``Psi^-1 - Psi^-1 W (I + W^T Psi^-1 W)^-1 W^T Psi^-1``."""
        self._check_fitted()
        W, psi = self.components_.T, self.noise_variance_
        G, beta = self._posterior(W, psi)
        return np.diag(1.0 / psi) - (W / psi[:, None]) @ beta

    def transform(self, X) -> np.ndarray:
        """Posterior mean of the factors, ``E[z | x] = beta (x - mu)``, one row per sample."""
        X = self._check_X(X)
        _, beta = self._posterior(self.components_.T, self.noise_variance_)
        return (X - self.mean_) @ beta.T

    def fit_transform(self, X, y=None) -> np.ndarray:
        return self.fit(X).transform(X)

    def score_samples(self, X) -> np.ndarray:
        """Exact ``log N(x; mu, W W^T + Psi)`` of each sample.

        Uses the matrix determinant lemma, ``log det C = log det Psi + log det(I + W^T Psi^-1 W)``,
        and the Woodbury precision above, so the cost is ``O(d k)`` per sample plus a
        one-off ``O(d k^2)``.
        """
        X = self._check_X(X)
        W, psi = self.components_.T, self.noise_variance_
        d = W.shape[0]
        Xc = X - self.mean_
        G, beta = self._posterior(W, psi)
        # x^T C^-1 x = x^T Psi^-1 x - (W^T Psi^-1 x)^T G (W^T Psi^-1 x)
        proj = Xc @ (W / psi[:, None])                       # rows: (W^T Psi^-1 x)^T
        mahal = np.sum(Xc ** 2 / psi, axis=1) - np.einsum("ni,ij,nj->n", proj, G, proj)
        logdet = np.sum(np.log(psi)) - np.linalg.slogdet(G)[1]   # det(I + W^T Psi^-1 W) = 1/det G
        return -0.5 * (mahal + logdet + d * LOG_2PI)

    def score(self, X, y=None) -> float:
        """Average log-likelihood per sample (nats)."""
        return float(np.mean(self.score_samples(X)))

    def sample(self, n: int = 1, random_state=None) -> np.ndarray:
        """Ancestral sampling: ``z ~ N(0, I)``, then ``x = mu + W z + eps``, ``eps ~ N(0, Psi)``."""
        self._check_fitted()
        rng = check_random_state(random_state)
        n = int(n)
        Z = rng.standard_normal((n, self.n_components_))
        eps = rng.standard_normal((n, self.n_features_in_)) * np.sqrt(self.noise_variance_)
        return self.mean_ + Z @ self.components_ + eps

    def _check_X(self, X) -> np.ndarray:
        self._check_fitted()
        X = check_array(X)
        check_n_features(X, self.n_features_in_)
        return X


def align_loadings(W_est: np.ndarray, W_true: np.ndarray) -> np.ndarray:
    """Rotate estimated loadings ``(d, k)`` to best match known ones.

    FA's likelihood depends on ``W W^T`` only, so any ``W R`` with ``R`` orthogonal fits
    equally well. The orthogonal Procrustes problem ``min_R |W_est R - W_true|_F`` has the
    closed-form solution ``R = U V^T`` from the SVD ``W_est^T W_true = U S V^T``.
    """
    W_est, W_true = np.asarray(W_est, float), np.asarray(W_true, float)
    if W_est.shape != W_true.shape:
        raise ValueError(f"loadings have different shapes: {W_est.shape} vs {W_true.shape}")
    R, _ = orthogonal_procrustes(W_est, W_true)
    return W_est @ R
