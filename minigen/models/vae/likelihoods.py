"""Decoder distributions p(x | z): what the decoder's output *means*.

The decoder network maps a latent z to numbers; a likelihood turns those numbers into
a probability distribution over images and scores a real image under it:

    BernoulliLikelihood   pixels in {0, 1};  the decoder outputs logits l
        log p(x | z) = sum_pixels  x l - softplus(l)          (= -BCE-with-logits)

    GaussianLikelihood    real pixels;  the decoder outputs means m, sigma fixed or learned
        log p(x | z) = sum_pixels  -(x - m)^2 / (2 sigma^2) - log sigma - log(2 pi) / 2

Both sum over *every* pixel of the image (the last ``event_ndim`` axes), so the result
is one number per image, in nats.  This is deliberate: averaging over pixels while
summing the KL over latent dimensions (as DeZero's VAE does) silently weights the KL
784 times more than the ELBO says.

Everything is written with engine ops, so the gradient with respect to the decoder's
output (and to a learned sigma) comes out of ``backward()``.
"""
from __future__ import annotations

import math

import numpy as np

import minigen as mg
import minigen.functional as F
import minigen.nn as nn

__all__ = ["BernoulliLikelihood", "GaussianLikelihood", "make_likelihood", "sum_event"]

LOG_2PI = math.log(2 * math.pi)


def sum_event(t, event_ndim):
    """Sum a per-pixel Tensor over its last ``event_ndim`` axes: one value per image."""
    if event_ndim == 0:
        return t
    return t.sum(axis=tuple(range(t.ndim - event_ndim, t.ndim)))


class BernoulliLikelihood(nn.Module):
    """Independent Bernoulli pixels with probabilities sigmoid(logits).

        log p(x | z) = sum_i  x_i log s(l_i) + (1 - x_i) log(1 - s(l_i))
                     = sum_i  x_i l_i - softplus(l_i)

    The second form (what ``binary_cross_entropy_with_logits`` computes) never takes
    the log of 0, so a confident decoder (|l| = 50) still gives finite numbers.
    Defined for x in {0, 1}: train on (dynamically) binarised images.
    """

    name = "bernoulli"

    def log_prob(self, x, logits, event_ndim):
        """log p(x | z) per image; ``x`` broadcasts against ``logits`` (..., *event)."""
        if x.shape != logits.shape:
            x = mg.broadcast_to(x, logits.shape)
        per_pixel = -F.binary_cross_entropy_with_logits(logits, x, reduction="none")
        return sum_event(per_pixel, event_ndim)

    def mean(self, logits):
        """E[x | z] = sigmoid(logits): the grey picture of the pixel probabilities."""
        return mg.sigmoid(logits)

    def sample(self, logits):
        """x ~ Bernoulli(sigmoid(logits)), a binary image (no gradient)."""
        p = mg.sigmoid(logits).data
        u = mg.rand(*p.shape, dtype=p.dtype, device=logits.device).data
        return mg.Tensor((u < p).astype(p.dtype))


class GaussianLikelihood(nn.Module):
    """Independent Gaussian pixels N(m_i, sigma_i^2) around the decoder's output m.

        log p(x | z) = sum_i  -(x_i - m_i)^2 / (2 sigma_i^2) - log sigma_i - log(2 pi) / 2

    sigma: a number keeps sigma fixed (then maximising log p(x|z) is least squares
    weighted by 1 / (2 sigma^2) -- the "MSE VAE"); ``None`` learns one log sigma per
    pixel (a Parameter of shape ``event_shape``, starting at ``init_sigma``), clipped
    below at ``min_sigma`` so that a constant pixel cannot drive its density to infinity.
    Adam moves log sigma by about lr per step, so the start matters: 0.1 is near where
    trained Fashion-MNIST decoders end up; 1.0 would need thousands of steps to get there.

    A density of continuous x is only comparable with a discrete likelihood after
    dequantisation: train on (pixel + uniform noise) / 256 and convert with
    ``minigen.metrics.dequantized_nll`` (see the demo).
    """

    name = "gaussian"

    def __init__(self, event_shape=(784,), sigma=None, min_sigma=1e-3, init_sigma=0.1):
        super().__init__()
        self.fixed_sigma = None if sigma is None else float(sigma)
        self.min_log_sigma = math.log(min_sigma)
        if self.fixed_sigma is None:
            self.log_sigma = nn.Parameter(np.full(tuple(event_shape), math.log(init_sigma),
                                                  dtype=np.float32))

    def _log_sigma(self, like):
        if self.fixed_sigma is not None:
            return math.log(self.fixed_sigma)
        return mg.clip(self.log_sigma, self.min_log_sigma, None)

    def log_prob(self, x, mean, event_ndim):
        """log p(x | z) per image; ``x`` broadcasts against ``mean`` (..., *event)."""
        log_sigma = self._log_sigma(mean)
        inv_var = mg.exp(-2.0 * log_sigma) if isinstance(log_sigma, mg.Tensor) \
            else math.exp(-2.0 * log_sigma)
        diff = x - mean
        per_pixel = -0.5 * diff * diff * inv_var - log_sigma - 0.5 * LOG_2PI
        if per_pixel.shape != mean.shape:         # a fixed sigma on a scalar broadcast
            per_pixel = mg.broadcast_to(per_pixel, mean.shape)
        return sum_event(per_pixel, event_ndim)

    def mean(self, mean):
        """E[x | z] is the decoder's output itself."""
        return mean

    def sample(self, mean):
        """x = m + sigma * noise (no gradient)."""
        log_sigma = self._log_sigma(mean)
        sigma = math.exp(log_sigma) if not isinstance(log_sigma, mg.Tensor) else mg.exp(log_sigma).data
        noise = mg.randn(*mean.shape, dtype=mean.dtype, device=mean.device).data
        return mg.Tensor(mean.data + sigma * noise)

    def extra_repr(self):
        return f"sigma={self.fixed_sigma}" if self.fixed_sigma is not None else "sigma=learned per pixel"


def make_likelihood(kind, event_shape=(784,), sigma=None):
    """'bernoulli' or 'gaussian' (or a likelihood module, returned as is)."""
    if isinstance(kind, nn.Module):
        return kind
    if kind == "bernoulli":
        return BernoulliLikelihood()
    if kind == "gaussian":
        return GaussianLikelihood(event_shape, sigma=sigma)
    raise ValueError(f"likelihood must be 'bernoulli' or 'gaussian', got {kind!r}")
