"""Negative log-likelihood bookkeeping: nats per image, bits per dimension.

Conventions (the DeZero VAE pitfall in DESIGN.md is why this is spelt out):
* a model's loss per image is a *sum* over its D pixels, in nats (natural log);
* bits per dimension = nats per image / (D ln 2);
* a density on continuous pixels must be corrected by the bin width before it is
  compared with a discrete likelihood: for pixels x in {0..255} rescaled to y with
  bins of width w (w = 1/256 for [0, 1]), -log P(x) ~= -log p(y) - D log w.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.special import logsumexp

__all__ = ["bits_per_dim", "nats_per_image", "dequantized_nll", "iwae_nll", "nll_report"]


def nats_per_image(nll_per_image) -> float:
    """Mean NLL per image in nats, from an array of per-image NLLs (each summed over pixels)."""
    return float(np.mean(np.asarray(nll_per_image, dtype=np.float64)))


def bits_per_dim(nats_per_image_value, num_dims: int) -> float:
    """bits/dim = NLL_nats / (D ln 2)."""
    return float(nats_per_image_value) / (num_dims * math.log(2))


def dequantized_nll(nll_continuous_nats, num_dims: int, bin_width: float = 1 / 256):
    """Discrete NLL of quantised data from a continuous density's NLL:
    -log P(x) = -log p(y) - D log(bin_width)  (bin_width = 1/256 for data in [0, 1],
    2/256 for data in [-1, 1]).  Works on numbers or arrays."""
    return nll_continuous_nats - num_dims * math.log(bin_width)


def iwae_nll(log_weights) -> np.ndarray:
    """Importance-weighted NLL estimate from (N, K) log weights log p(x, z_k) - log q(z_k | x):

        -log p(x) ~= -log (1/K) sum_k exp(log w_k)  =  -(logsumexp_k(log w_k) - log K)

    (logsumexp keeps it finite when the log weights are around -500).  K = 1 gives the
    ELBO; the estimate tightens towards the true NLL as K grows.
    """
    lw = np.asarray(log_weights, dtype=np.float64)
    return -(logsumexp(lw, axis=-1) - math.log(lw.shape[-1]))


def nll_report(nll_per_image, num_dims: int) -> dict:
    """Mean NLL in nats/image and bits/dim, with the standard error of the mean."""
    nll = np.asarray(nll_per_image, dtype=np.float64)
    mean = float(nll.mean())
    stderr = float(nll.std(ddof=1) / math.sqrt(len(nll))) if len(nll) > 1 else float("nan")
    return {"nats_per_image": mean, "stderr": stderr,
            "bits_per_dim": bits_per_dim(mean, num_dims)}
