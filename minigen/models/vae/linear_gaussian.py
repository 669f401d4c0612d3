"""A VAE whose log p(x) is known exactly: the linear-Gaussian model (probabilistic PCA).

    p(z)     = N(0, I_d)
    p(x | z) = N(W z + b, sigma^2 I_D)
    =>  p(x) = N(b, W W^T + sigma^2 I_D)                        (closed form)
        p(z | x) = N(S W^T (x - b) / sigma^2,  S),  S = (I + W^T W / sigma^2)^-1

It is an ordinary :class:`~minigen.models.vae.VAE` -- a linear encoder (mu and logvar
linear in x), a linear decoder, a fixed-sigma Gaussian likelihood -- so the ELBO, the
IWAE bound and the importance-sampled estimate run through exactly the same code as
for images.  Here we can *check* them against the truth:

    ELBO(x) <= E[L_K(x)] <= log p(x),   and   L_K(x) -> log p(x) as K grows.

The encoder's q(z | x) is diagonal while the true posterior covariance S is not
(unless W has orthogonal columns), so the ELBO stays strictly below log p(x) and only
importance sampling closes the gap.
"""
from __future__ import annotations

import numpy as np

import minigen.nn as nn

from .model import VAE

__all__ = ["LinearGaussianVAE"]


class LinearGaussianVAE(VAE):
    """x_dim-dimensional data, latent_dim-dimensional z, decoder noise ``sigma`` (fixed)."""

    def __init__(self, x_dim=5, latent_dim=2, sigma=0.5):
        super().__init__(nn.Linear(x_dim, 2 * latent_dim), nn.Linear(latent_dim, x_dim),
                         latent_dim, (x_dim,), likelihood="gaussian", sigma=sigma)
        self.sigma = float(sigma)

    # -- the generative model's matrices, as float64 NumPy ----------------------------------
    def _decoder_params(self):
        W = self.decoder.weight.numpy().astype(np.float64)         # (D, d)
        b = self.decoder.bias.numpy().astype(np.float64)           # (D,)
        return W, b

    def marginal(self):
        """(mean b, covariance W W^T + sigma^2 I) of p(x)."""
        W, b = self._decoder_params()
        return b, W @ W.T + self.sigma ** 2 * np.eye(len(b))

    def exact_log_likelihood(self, x):
        """log p(x) = log N(x; b, C) per row, C = W W^T + sigma^2 I (Cholesky, float64):

            -0.5 (D log 2 pi + log det C + (x - b)^T C^-1 (x - b))
        """
        x = np.asarray(x.numpy() if hasattr(x, "numpy") else x, dtype=np.float64)
        b, C = self.marginal()
        L = np.linalg.cholesky(C)
        r = np.linalg.solve(L, (x - b).T)                          # L^-1 (x - b)
        log_det = 2 * np.log(np.diag(L)).sum()
        return -0.5 * (len(b) * np.log(2 * np.pi) + log_det + (r * r).sum(axis=0))

    def exact_posterior(self, x):
        """(means (N, d), covariance S (d, d)) of p(z | x)."""
        x = np.asarray(x.numpy() if hasattr(x, "numpy") else x, dtype=np.float64)
        W, b = self._decoder_params()
        S = np.linalg.inv(np.eye(W.shape[1]) + W.T @ W / self.sigma ** 2)
        return (x - b) @ W @ S.T / self.sigma ** 2, S

    def set_encoder(self, mean_shift=0.0, logvar_shift=0.0):
        """Make q(z | x) the exact posterior's mean and *diagonal*, then spoil it on purpose:
        mean + ``mean_shift``, log-variance + ``logvar_shift`` (a deliberately imperfect q
        for testing the estimator)."""
        W, b = self._decoder_params()
        d = W.shape[1]
        S = np.linalg.inv(np.eye(d) + W.T @ W / self.sigma ** 2)
        A = S @ W.T / self.sigma ** 2                               # mu = A (x - b)
        weight = np.concatenate([A, np.zeros_like(A)], axis=0)      # rows: mu, then logvar
        bias = np.concatenate([-A @ b + mean_shift, np.log(np.diag(S)) + logvar_shift])
        dtype = self.encoder.weight.dtype
        self.encoder.weight.data = weight.astype(dtype)
        self.encoder.bias.data = bias.astype(dtype)
        return self

    def sample_data(self, n, rng):
        """n draws of x from the model (NumPy float64), via z ~ N(0, I), x = W z + b + sigma eps."""
        W, b = self._decoder_params()
        z = rng.standard_normal((n, W.shape[1]))
        return z @ W.T + b + self.sigma * rng.standard_normal((n, len(b)))
