"""The exact score of a noised Gaussian mixture: ground truth for samplers and score nets.

If x_0 ~ Σ_k w_k N(μ_k, c² I) and x = a x_0 + s n with n ~ N(0, I), then x is again a
mixture, x ~ Σ_k w_k N(a μ_k, v I) with v = a² c² + s², and its score is

    ∇_x log p(x) = Σ_k r_k(x) (a μ_k − x) / v,
    r_k(x) = softmax_k( log w_k − ‖x − a μ_k‖² / (2 v) )      (the responsibilities).

Two parameterisations use it:

* DDPM (a = √ᾱ_t, s = √(1 − ᾱ_t)): the ideal noise predictor is
  ε*(x_t, t) = −√(1 − ᾱ_t) ∇ log q_t(x_t)  (Tweedie; :meth:`GaussianMixture.eps`);
* NCSN / annealed Langevin (a = 1, s = σ): s*(x, σ) = ∇ log p_σ(x) (:meth:`GaussianMixture.score`).

Computed on arrays (no graph): these are fixed functions, never trained.
"""
from __future__ import annotations

import numpy as np

from minigen import backend
from minigen.tensor import Tensor

__all__ = ["GaussianMixture"]


class GaussianMixture:
    """Σ_k w_k N(μ_k, c² I) in any dimension, with its noised scores."""

    def __init__(self, means, std: float, weights=None):
        self.means = np.asarray(means, dtype=np.float64)
        if self.means.ndim != 2:
            raise ValueError(f"GaussianMixture: means must be (K, D), got shape {self.means.shape}")
        k = len(self.means)
        w = np.full(k, 1.0 / k) if weights is None else np.asarray(weights, dtype=np.float64)
        if w.shape != (k,) or np.any(w <= 0) or not np.isclose(w.sum(), 1.0):
            raise ValueError(f"GaussianMixture: weights must be {k} positive numbers summing to 1, got {w}")
        self.weights, self.std = w, float(std)

    @classmethod
    def from_toy(cls, toy):
        """The mixture behind a minigen.data toy (``8gaussians``, ``25gaussians``)."""
        if toy.modes is None:
            raise ValueError(f"{toy.name} is not a Gaussian mixture")
        return cls(toy.modes, toy.std)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        k = rng.choice(len(self.weights), size=n, p=self.weights)
        return (self.means[k] + self.std * rng.standard_normal((n, self.means.shape[1]))).astype(np.float32)

    def _score(self, x, a, s):
        """∇ log of the law of a x_0 + s n at the rows of x (arrays (B, D); a, s: (B, 1))."""
        v = a ** 2 * self.std ** 2 + s ** 2                                   # v = a² c² + s²
        centres = a[:, :, None] * self.means.T[None]                          # (B, D, K): a μ_k
        d2 = ((x[:, :, None] - centres) ** 2).sum(axis=1)                     # ‖x − a μ_k‖²
        logits = np.log(self.weights)[None] - d2 / (2 * v)                    # log w_k − ‖·‖²/2v
        r = np.exp(logits - logits.max(axis=1, keepdims=True))
        r /= r.sum(axis=1, keepdims=True)                                     # r_k(x)
        return ((centres - x[:, :, None]) * r[:, None, :]).sum(axis=2) / v    # Σ r_k (aμ_k − x)/v

    @staticmethod
    def _host(x):
        data = x.data if isinstance(x, Tensor) else x
        return data, np.asarray(backend.to_device(data, "cpu"), dtype=np.float64)

    @staticmethod
    def _back(values, like):
        """Host float64 values as an array of ``like``'s dtype and device."""
        return backend.as_array(values, dtype=like.dtype, like=like)

    def score(self, x, sigma):
        """∇_x log p_σ(x) where p_σ = p * N(0, σ² I); ``sigma`` a scalar or (B,)."""
        data, xh = self._host(x)
        s = np.broadcast_to(np.asarray(sigma, dtype=np.float64).reshape(-1, 1), (len(xh), 1))
        out = self._back(self._score(xh, np.ones_like(s), s), data)
        return Tensor(out) if isinstance(x, Tensor) else out

    def eps(self, schedule, x, t):
        """ε*(x_t, t) = −√(1 − ᾱ_t) ∇ log q_t(x_t) for a DDPM schedule."""
        data, xh = self._host(x)
        t = schedule.check_t(t, len(xh))
        a = schedule.sqrt_alpha_bars[t][:, None]
        s = schedule.sqrt_one_minus_alpha_bars[t][:, None]
        out = self._back(-s * self._score(xh, a, s), data)
        return Tensor(out) if isinstance(x, Tensor) else out

    def eps_fn(self, schedule):
        """ε*(·, ·) as the (x_t, t) -> ε callable the samplers take."""
        return lambda x, t: self.eps(schedule, x, t)

    def log_prob(self, x):
        """log p(x) of the clean mixture (float64 NumPy)."""
        xh = np.asarray(backend.to_device(x.data if isinstance(x, Tensor) else x, "cpu"), dtype=np.float64)
        d = xh.shape[1]
        d2 = ((xh[:, None, :] - self.means[None]) ** 2).sum(axis=2)
        logits = np.log(self.weights)[None] - d2 / (2 * self.std ** 2) - d / 2 * np.log(2 * np.pi * self.std ** 2)
        m = logits.max(axis=1, keepdims=True)
        return (m + np.log(np.exp(logits - m).sum(axis=1, keepdims=True)))[:, 0]
