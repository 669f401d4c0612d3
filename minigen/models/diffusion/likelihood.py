"""The variational bound of a DDPM in nats and bits/dim (Ho et al. 2020, eq. 5).

    −log p_θ(x_0) ≤ L_vlb = L_T + Σ_{t=2}^{T} L_{t−1} + L_0,
    L_T     = KL( q(x_T | x_0) ‖ N(0, I) )                         (prior; no parameters)
    L_{t−1} = E_q KL( q(x_{t−1} | x_t, x_0) ‖ p_θ(x_{t−1} | x_t) )  (denoising terms)
    L_0     = −E_q log p_θ(x_0 | x_1)                               (discretised decoder)

Both Gaussians in L_{t−1} have isotropic covariances, so per dimension

    KL = ½ [ log(σ_t² / β̃_t) + (β̃_t + (μ̃_t − μ_θ)²) / σ_t² − 1 ],

and the decoder puts on each of the 256 grey levels (data scaled to [−1, 1], bins of
width 2/255) the mass of N(μ_θ(x_1, 1), σ_1²) over its bin, the outer bins reaching
±∞ (Ho et al., section 3.3):

    p(x | x_1) = Φ((x + 1/255 − μ)/σ_1) − Φ((x − 1/255 − μ)/σ_1),   Φ(u) = ½(1 + erf(u/√2)).

So L_vlb is an upper bound on the NLL of the *discrete* 8-bit images: in nats per
image, and bits/dim = L_vlb / (D ln 2), comparable with the other models' numbers.

Indexing as in :mod:`.schedules`: array step t = 0 is the paper's t = 1 (the decoder),
array steps 1 … T−1 give L_1 … L_{T−1}.  Evaluating all terms costs T network calls
per image; ``steps=K`` draws K array steps uniformly from 1 … T−1 and rescales their
sum by (T − 1)/K, an unbiased estimate of Σ L_{t−1}.
"""
from __future__ import annotations

import math

import numpy as np

import minigen as mg
from minigen.autograd import no_grad

from .ddpm import p_mean_variance
from .schedules import coefficient

__all__ = ["prior_kl", "denoising_kl", "discretized_gaussian_log_likelihood", "decoder_nll",
           "vlb_terms", "vlb_per_image", "vlb_bits_per_dim"]


def prior_kl(schedule, x0):
    """L_T = KL(N(√ᾱ_T x_0, (1 − ᾱ_T) I) ‖ N(0, I)) per image (nats)."""
    a = float(schedule.alpha_bars[-1])
    per_dim = 0.5 * (a * x0 * x0 + (1 - a) - 1 - math.log(1 - a))     # ½(μ² + s² − 1 − log s²)
    return per_dim.reshape(len(x0), -1).sum(axis=1)


def denoising_kl(eps_fn, schedule, x0, t, eps):
    """L_{t−1} at array steps t ≥ 1 (per image, nats): x_t from (x_0, ε), σ_t² = β̃_t."""
    xt = schedule.q_sample(x0, t, eps)
    true_mean, true_var = schedule.q_posterior(x0, xt, t)              # μ̃_t, β̃_t
    mean, var, _ = p_mean_variance(eps_fn, schedule, xt, t, variance="posterior")
    d = true_mean - mean
    per_dim = 0.5 * (mg.log(var / true_var) + (true_var + d * d) / var - 1)
    return per_dim.reshape(len(x0), -1).sum(axis=1)


def _std_normal_cdf(u):
    return 0.5 * (1 + mg.erf(u * (1 / math.sqrt(2))))                 # Φ(u)


def discretized_gaussian_log_likelihood(x, mean, std, bins: int = 256):
    """log of the mass of N(mean, std²) over the bin of each value of x ∈ [−1, 1]
    (``bins`` levels; the outer bins extend to ±∞), elementwise."""
    half = 1.0 / (bins - 1)                                            # half a bin: 1/255
    upper = _std_normal_cdf((x + half - mean) / std)                   # Φ at the bin's upper edge
    lower = _std_normal_cdf((x - half - mean) / std)                   # … and at its lower edge
    xd = x.data
    # outer bins: [1 − 1/255, ∞) has mass 1 − Φ(lower edge); (−∞, −1 + 1/255] has Φ(upper edge)
    mass = mg.where(xd > 1 - half, 1 - lower, mg.where(xd < -1 + half, upper, upper - lower))
    return mg.log(mg.maximum(mass, 1e-12))


def decoder_nll(eps_fn, schedule, x0, eps):
    """L_0 = −log p_θ(x_0 | x_1) per image (nats): decoder mean μ_θ(x_1, 1), std σ_1 = √β_1."""
    t = np.zeros(len(x0), dtype=np.int64)
    x1 = schedule.q_sample(x0, t, eps)
    mean, _, _ = p_mean_variance(eps_fn, schedule, x1, t)
    std = coefficient(np.sqrt(schedule.betas), t, x0)
    return -discretized_gaussian_log_likelihood(x0, mean, std).reshape(len(x0), -1).sum(axis=1)


def vlb_terms(eps_fn, schedule, x0, steps: int | None = None, seed: int = 0):
    """(prior, Σ denoising, decoder) per image as float64 NumPy arrays; x0 in [−1, 1].

    The noise (and the sampled steps, with ``steps``) come from a NumPy generator seeded
    with ``seed``: the estimate is reproducible and leaves minigen's RNG alone."""
    rng = np.random.default_rng(seed)
    T = schedule.T
    ts = np.arange(1, T) if steps is None or steps >= T - 1 else np.sort(rng.choice(np.arange(1, T), steps, replace=False))
    scale = (T - 1) / len(ts) if len(ts) else 0.0
    noise = lambda: mg.tensor(rng.standard_normal(x0.shape).astype(x0.dtype), device=x0.device)
    with no_grad():
        prior = prior_kl(schedule, x0).numpy().astype(np.float64)
        total = np.zeros(len(x0))
        for t in ts:
            total += denoising_kl(eps_fn, schedule, x0, np.full(len(x0), t), noise()).numpy()
        decoder = decoder_nll(eps_fn, schedule, x0, noise()).numpy().astype(np.float64)
    return prior, total * scale, decoder


def vlb_per_image(eps_fn, schedule, images, steps: int | None = None, seed: int = 0, batch: int = 100):
    """(prior, Σ denoising, decoder) per image, in nats, of images with values in [0, 1]
    (multiples of 1/255), in batches; their sum is L_vlb of each image."""
    images = np.asarray(images, dtype=np.float32)
    parts = [[], [], []]
    device = next(iter(eps_fn.parameters())).device if hasattr(eps_fn, "parameters") else "cpu"
    for i in range(0, len(images), batch):
        x0 = mg.tensor(images[i:i + batch] * 2 - 1, device=device)          # [0, 1] -> [−1, 1]
        for part, values in zip(parts, vlb_terms(eps_fn, schedule, x0, steps, seed + i)):
            part.append(values)
    return tuple(np.concatenate(p) for p in parts)


def vlb_bits_per_dim(eps_fn, schedule, images, steps: int | None = None, seed: int = 0, batch: int = 100):
    """L_vlb of images with values in [0, 1] (multiples of 1/255): a dict with ``nats``
    (per image), ``bits_per_dim`` and the mean of each of the three parts."""
    dims = int(np.prod(np.shape(images)[1:]))
    prior, denoising, decoder = vlb_per_image(eps_fn, schedule, images, steps, seed, batch)
    nats = prior + denoising + decoder
    return {"nats": float(nats.mean()), "bits_per_dim": float(nats.mean() / (dims * math.log(2))),
            "nats_stderr": float(nats.std(ddof=1) / np.sqrt(len(nats))) if len(nats) > 1 else 0.0,
            "prior": float(prior.mean()), "denoising": float(denoising.mean()), "decoder": float(decoder.mean())}
