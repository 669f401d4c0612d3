"""DDPM: the simple noise-prediction objective and ancestral sampling (Ho et al. 2020).

Training.  Pick t ~ U{0, …, T−1}, ε ~ N(0, I), form x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε and
regress the noise:

    L_simple = E_{t, x_0, ε} ‖ε − ε_θ(x_t, t)‖²                         (ddpm_loss)

(the variational bound with its per-t weights dropped; see :mod:`.likelihood`).

Sampling.  The reverse model is p_θ(x_{t-1} | x_t) = N(μ_θ(x_t, t), σ_t² I) with the
posterior mean written through the predicted noise,

    μ_θ(x_t, t) = (x_t − β_t / √(1 − ᾱ_t) · ε_θ(x_t, t)) / √α_t,

and σ_t² = β_t ("large", Ho et al.'s choice for CIFAR-10) or σ_t² = β̃_t ("posterior",
the exact variance when x_0 is a point).  Start from x_T ~ N(0, I) and step down

    x_{t-1} = μ_θ(x_t, t) + σ_t z,   z ~ N(0, I)   (no noise at the last step).  (ddpm_sample)

``eps_fn`` everywhere is any callable (x_t: Tensor, t: int array) -> Tensor: a trained
network, or the exact ε* of :class:`~.analytic.GaussianMixture` to test the sampler.
"""
from __future__ import annotations

import numpy as np

import minigen as mg
from minigen.autograd import no_grad

from .schedules import coefficient

__all__ = ["ddpm_loss", "p_mean_variance", "ddpm_step", "ddpm_sample", "VARIANCES"]

VARIANCES = ("beta", "posterior")


def ddpm_loss(eps_fn, schedule, x0, t=None, eps=None):
    """L_simple: the mean over the batch and dimensions of (ε − ε_θ(x_t, t))².

    t and ε are drawn (seeded, mg.manual_seed) unless given; give them to get a
    deterministic loss (gradchecks).
    """
    if t is None:
        t = mg.randint(0, schedule.T, size=(len(x0),)).numpy()
    t = schedule.check_t(t, len(x0))
    if eps is None:
        eps = mg.randn(*x0.shape, dtype=x0.dtype, device=x0.device)
    if tuple(eps.shape) != tuple(x0.shape):
        raise ValueError(f"ddpm_loss: eps has shape {tuple(eps.shape)}, x0 {tuple(x0.shape)}")
    xt = schedule.q_sample(x0, t, eps)              # x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε
    residual = eps - eps_fn(xt, t)                  # ε − ε_θ(x_t, t)
    return (residual * residual).mean()             # ‖·‖² averaged


def _variance(schedule, variance):
    if variance == "beta":
        return schedule.betas                       # σ_t² = β_t
    if variance == "posterior":
        return schedule.posterior_variance          # σ_t² = β̃_t
    raise ValueError(f"unknown reverse variance {variance!r}; choose one of {VARIANCES}")


def p_mean_variance(eps_fn, schedule, xt, t, variance="beta"):
    """μ_θ(x_t, t) and σ_t² of p_θ(x_{t-1} | x_t); also returns ε_θ."""
    t = schedule.check_t(t, len(xt))
    eps = eps_fn(xt, t)
    coef = coefficient(schedule.betas / schedule.sqrt_one_minus_alpha_bars, t, xt)   # β_t / √(1 − ᾱ_t)
    mean = (xt - coef * eps) / coefficient(np.sqrt(schedule.alphas), t, xt)          # (x_t − …ε)/√α_t
    return mean, coefficient(_variance(schedule, variance), t, xt), eps


def ddpm_step(eps_fn, schedule, xt, t: int, variance="beta", noise=None):
    """One ancestral step x_t -> x_{t-1} (every sample at the same integer t)."""
    mean, var, _ = p_mean_variance(eps_fn, schedule, xt, np.full(len(xt), int(t)), variance)
    if t == 0:
        return mean                                 # x_0 = μ_θ(x_1, 1): no noise added
    if noise is None:
        noise = mg.randn(*xt.shape, dtype=xt.dtype, device=xt.device)
    return mean + mg.sqrt(var) * noise              # x_{t-1} = μ_θ + σ_t z


def ddpm_sample(eps_fn, schedule, shape, *, dtype=np.float32, device="cpu", x_T=None,
                variance="beta", trajectory_every: int = 0, progress=None):
    """Ancestral sampling from x_T ~ N(0, I) down to x_0.

    Returns x_0 (a Tensor), or (x_0, trajectory) when ``trajectory_every`` > 0: the list
    of (t, x_t as NumPy) every that many steps, x_T first and x_0 last.
    """
    _variance(schedule, variance)                   # fail before the loop on a bad name
    with no_grad():
        x = mg.randn(*shape, dtype=dtype, device=device) if x_T is None else x_T
        trajectory = [(schedule.T, x.numpy())] if trajectory_every else None
        steps = range(schedule.T - 1, -1, -1)
        for t in (progress(steps) if progress else steps):
            x = ddpm_step(eps_fn, schedule, x, t, variance)
            if trajectory_every and (t % trajectory_every == 0):
                trajectory.append((t, x.numpy()))
    return (x, trajectory) if trajectory_every else x
