"""Principal Component Analysis by SVD, with the probabilistic-PCA likelihood (L6.2).

**PCA** finds orthogonal directions of largest variance. Centre the data
``Xc = X - mean`` and take the thin SVD ``Xc = U S V^T``. Then

* the rows of ``V^T`` are the principal axes (eigenvectors of the covariance
  ``C = Xc^T Xc / (n - 1) = V diag(S^2 / (n - 1)) V^T``), sorted by variance;
* the variance along axis ``i`` is ``lambda_i = S_i^2 / (n - 1)``;
* the latent code of ``x`` is its projection ``z = W^T (x - mean)`` with ``W`` the first
  ``k`` axes as columns, and ``x_hat = mean + W z`` is the best rank-``k`` reconstruction
  in squared error.

The SVD avoids forming ``C`` explicitly (better conditioned, and cheaper when
``n << d``).

**Probabilistic PCA** (Tipping & Bishop, 1999) turns this into a density: ``z ~ N(0, I_k)``,
``x = mean + W z + eps``, ``eps ~ N(0, sigma^2 I)``, so ``x ~ N(mean, W W^T + sigma^2 I)``.
Its maximum-likelihood solution is closed-form in the PCA quantities::

    sigma^2 = mean of the discarded eigenvalues lambda_{k+1..d}
    W       = V_k diag(lambda_1..k - sigma^2)^{1/2}        (up to a rotation)

so the model covariance has eigenvalues ``lambda_1..lambda_k`` on the principal axes and
``sigma^2`` on the remaining ``d - k`` directions. ``score`` is the average
``log N(x; mean, W W^T + sigma^2 I)``, computed in that eigenbasis in ``O(d k)`` per sample.
"""

from __future__ import annotations

import numpy as np

from ._base import BaseEstimator, check_array, check_n_features, check_random_state

LOG_2PI = np.log(2.0 * np.pi)


class PCA(BaseEstimator):
    """Principal Component Analysis via the SVD of the centred data.

    Parameters
    ----------
    n_components : int ``k``, or a float in (0, 1) meaning "the fewest components
        that explain at least this fraction of the variance", or None for all
        ``min(n, d)`` components.
    whiten : if True, ``transform`` divides each coordinate by ``sqrt(lambda_i)``
        so that the codes have unit variance.

    Attributes (after ``fit``)
    --------------------------
    mean_ : (d,) the data mean.
    components_ : (k, d) principal axes as rows, orthonormal, sorted by variance.
    explained_variance_ : (k,) eigenvalues ``lambda_i`` of the covariance.
    explained_variance_ratio_ : (k,) ``lambda_i / sum of all eigenvalues``.
    singular_values_ : (k,) singular values of the centred data.
    noise_variance_ : PPCA ``sigma^2``, the mean discarded eigenvalue (0 if none discarded).
    n_components_ : the number of components kept.
    """

    _fitted_attr = "components_"

    def __init__(self, n_components=None, whiten: bool = False):
        if n_components is not None:
            if isinstance(n_components, (float, np.floating)) and not float(n_components).is_integer():
                if not 0.0 < n_components < 1.0:
                    raise ValueError(f"a float n_components must lie in (0, 1), got {n_components}")
            elif int(n_components) < 1:
                raise ValueError(f"n_components must be >= 1, got {n_components}")
        self.n_components = n_components
        self.whiten = whiten

    # ------------------------------------------------------------------ fitting
    def fit(self, X, y=None) -> "PCA":
        """Centre ``X`` and take its SVD; keep the top ``k`` right singular vectors."""
        X = check_array(X, min_rows=2)
        n, d = X.shape
        self.mean_ = X.mean(axis=0)
        _, S, Vt = np.linalg.svd(X - self.mean_, full_matrices=False)
        Vt = _fix_signs(Vt)
        all_var = S ** 2 / (n - 1)                           # every eigenvalue of the covariance
        total = all_var.sum()
        ratio = all_var / total if total > 0 else np.zeros_like(all_var)

        k = self._choose_k(ratio, max_k=min(n, d))
        self.n_components_ = k
        self.n_features_in_ = d
        self.n_samples_ = n
        self.components_ = Vt[:k]
        self.singular_values_ = S[:k]
        self.explained_variance_ = all_var[:k]
        self.explained_variance_ratio_ = ratio[:k]
        # PPCA noise: the covariance has d eigenvalues, min(n, d) from the SVD and the rest 0
        discarded = d - k
        self.noise_variance_ = float(all_var[k:].sum() / discarded) if discarded > 0 else 0.0
        self._all_variance = all_var                         # the whole spectrum, for truncate()
        return self

    def truncate(self, k: int) -> "PCA":
        """A fitted copy keeping only the first ``k`` components (no new SVD).

        The principal axes of a k-component PCA are the first k axes of a larger one, and
        the PPCA noise variance is the mean of the eigenvalues beyond k -- so one SVD serves
        every k (handy for choosing k by held-out ``score``).
        """
        self._check_fitted()
        k = int(k)
        if not 1 <= k <= self.n_components_:
            raise ValueError(f"k must lie in 1..{self.n_components_}, got {k}")
        new = PCA(k, whiten=self.whiten)
        new.mean_, new.n_features_in_, new.n_samples_ = self.mean_, self.n_features_in_, self.n_samples_
        new.n_components_ = k
        for name in ("components_", "singular_values_", "explained_variance_", "explained_variance_ratio_"):
            setattr(new, name, getattr(self, name)[:k])
        discarded = self.n_features_in_ - k
        new.noise_variance_ = float(self._all_variance[k:].sum() / discarded) if discarded > 0 else 0.0
        new._all_variance = self._all_variance
        return new

    def _choose_k(self, ratio: np.ndarray, max_k: int) -> int:
        nc = self.n_components
        if nc is None:
            return max_k
        if isinstance(nc, (float, np.floating)) and not float(nc).is_integer():
            # smallest k whose cumulative explained variance reaches the requested fraction
            return int(min(np.searchsorted(np.cumsum(ratio), nc) + 1, max_k))
        if int(nc) > max_k:
            raise ValueError(f"n_components={nc} exceeds min(n_samples, n_features)={max_k}")
        return int(nc)

    # ------------------------------------------------------------------ the latent space
    def transform(self, X) -> np.ndarray:
        """Latent codes ``z = (x - mean) V_k^T`` (divided by ``sqrt(lambda)`` if whitening)."""
        self._check_fitted()
        X = check_array(X)
        check_n_features(X, self.n_features_in_)
        Z = (X - self.mean_) @ self.components_.T
        if self.whiten:
            Z = Z / np.sqrt(self.explained_variance_)
        return Z

    def fit_transform(self, X, y=None) -> np.ndarray:
        return self.fit(X).transform(X)

    def inverse_transform(self, Z) -> np.ndarray:
        """Map codes back to data space: ``x_hat = mean + z V_k`` (the rank-``k`` reconstruction)."""
        self._check_fitted()
        Z = check_array(Z, "Z")
        if Z.shape[1] != self.n_components_:
            raise ValueError(f"Z has {Z.shape[1]} columns, but the model has {self.n_components_} components")
        if self.whiten:
            Z = Z * np.sqrt(self.explained_variance_)
        return Z @ self.components_ + self.mean_

    def reconstruct(self, X, k: int | None = None) -> np.ndarray:
        """Project onto the first ``k`` components (default: all kept) and map back."""
        self._check_fitted()
        X = check_array(X)
        check_n_features(X, self.n_features_in_)
        k = self.n_components_ if k is None else int(k)
        if not 0 <= k <= self.n_components_:
            raise ValueError(f"k must lie in 0..{self.n_components_}, got {k}")
        V = self.components_[:k]
        return (X - self.mean_) @ V.T @ V + self.mean_

    # ------------------------------------------------------------------ probabilistic PCA
    def get_covariance(self) -> np.ndarray:
        """PPCA model covariance ``W W^T + sigma^2 I = V_k diag(lambda - sigma^2) V_k^T + sigma^2 I``."""
        self._check_fitted()
        V = self.components_
        C = (V.T * (self.explained_variance_ - self.noise_variance_)) @ V
        C[np.diag_indices_from(C)] += self.noise_variance_
        return C

    def score_samples(self, X) -> np.ndarray:
        """PPCA log-density of each sample: ``log N(x; mean, W W^T + sigma^2 I)``.

        In the eigenbasis the covariance is diagonal: ``lambda_i`` along the ``k`` principal
        axes and ``sigma^2`` in the ``d - k`` orthogonal directions, so with ``z = V_k (x - mean)``::

            x^T C^{-1} x = sum_i z_i^2 / lambda_i + (|x - mean|^2 - |z|^2) / sigma^2
            log det C    = sum_i log lambda_i + (d - k) log sigma^2
        """
        self._check_fitted()
        X = check_array(X)
        check_n_features(X, self.n_features_in_)
        d, k = self.n_features_in_, self.n_components_
        lam, s2 = self.explained_variance_, self.noise_variance_
        tiny = 1e-12 * lam.max(initial=0.0)                 # round-off level relative to the data
        if lam.min(initial=1.0) <= tiny or (k < d and s2 <= tiny):
            raise ValueError("the PPCA covariance is singular (zero variance in some direction); "
                             "use fewer components or data with variance in every direction")
        Xc = X - self.mean_
        Z = Xc @ self.components_.T
        mahal = np.sum(Z ** 2 / lam, axis=1)
        logdet = np.sum(np.log(lam))
        if k < d:
            residual = np.sum(Xc ** 2, axis=1) - np.sum(Z ** 2, axis=1)
            mahal = mahal + np.maximum(residual, 0.0) / s2   # clip tiny negative round-off
            logdet = logdet + (d - k) * np.log(s2)
        return -0.5 * (mahal + logdet + d * LOG_2PI)

    def score(self, X, y=None) -> float:
        """Average PPCA log-likelihood per sample (nats)."""
        return float(np.mean(self.score_samples(X)))

    def sample(self, n: int = 1, random_state=None) -> np.ndarray:
        """Draw from the PPCA model: ``x = mean + W z + sigma eps`` with ``z, eps`` standard normal."""
        self._check_fitted()
        rng = check_random_state(random_state)
        n = int(n)
        scale = np.sqrt(np.maximum(self.explained_variance_ - self.noise_variance_, 0.0))
        Z = rng.standard_normal((n, self.n_components_))
        X = self.mean_ + (Z * scale) @ self.components_
        if self.noise_variance_ > 0:
            X = X + np.sqrt(self.noise_variance_) * rng.standard_normal((n, self.n_features_in_))
        return X


def _fix_signs(Vt: np.ndarray) -> np.ndarray:
    """Make each axis' largest-magnitude entry positive.

    Singular vectors are only defined up to sign; fixing a convention makes the
    results reproducible across LAPACK builds and easier to compare in tests.
    """
    idx = np.argmax(np.abs(Vt), axis=1)
    signs = np.sign(Vt[np.arange(Vt.shape[0]), idx])
    signs[signs == 0] = 1.0
    return Vt * signs[:, None]
