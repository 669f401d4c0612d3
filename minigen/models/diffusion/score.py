"""Score matching and Langevin dynamics: NCSN (Song & Ermon 2019, 2020).

The score of a density is s(x) = ∇_x log p(x): it needs no normalising constant.

Denoising score matching (Vincent 2011).  Perturb data with x̃ = x + σ z, z ~ N(0, I);
the score of the perturbed density is matched by regressing the conditional score
∇ log q_σ(x̃ | x) = −(x̃ − x)/σ² = −z/σ.  Over L noise levels σ_1 > … > σ_L
(geometric, here 1 → 0.01, L = 10) with the weights λ(σ) = σ²:

    L(θ) = 1/L Σ_i  ½ E ‖σ_i s_θ(x + σ_i z, σ_i) + z‖²                   (dsm_loss)

The network is noise-conditional, s_θ(x, σ) = f_θ(x, i)/σ_i (Song & Ermon 2020,
"Improved techniques"): f_θ has outputs of order one at every level.

Langevin dynamics.  With a step ε and z_k ~ N(0, I),

    x_{k+1} = x_k + (ε/2) s(x_k) + √ε z_k                                 (langevin)

samples p as ε → 0 and k → ∞ — but between well-separated modes the mixing time is
astronomical, and the score is blind to the relative weights of separated modes
(locally, ∇ log(w p_1) = ∇ log p_1).  So plain Langevin returns the modes in the
proportions of their *basins of attraction* from the start points, not their weights.

Annealed Langevin (Song & Ermon 2019, Algorithm 1) runs T steps at each level, from
the broadest σ_1 (where the perturbed modes overlap and the weights are felt) down
to σ_L, with the step α_i = ε σ_i² / σ_L² scaled to the level:

    for i = 1 … L:  for k = 1 … T:  x ← x + (α_i/2) s(x, σ_i) + √α_i z     (annealed_langevin)

and optionally a last denoising step x ← x + σ_L² s(x, σ_L) (Tweedie's formula).
"""
from __future__ import annotations

import numpy as np

import minigen as mg
import minigen.nn as nn
from minigen.autograd import no_grad

from .nets import ToyEpsNet
from .schedules import coefficient

__all__ = ["geometric_sigmas", "NoiseConditionalScoreNet", "dsm_loss", "langevin", "annealed_langevin"]


def geometric_sigmas(sigma_max: float = 1.0, sigma_min: float = 0.01, L: int = 10) -> np.ndarray:
    """σ_1 > … > σ_L in a geometric progression (a constant ratio σ_{i+1}/σ_i)."""
    if not 0 < sigma_min < sigma_max:
        raise ValueError(f"need 0 < sigma_min < sigma_max, got {sigma_min}, {sigma_max}")
    if L < 2:
        raise ValueError(f"need at least L = 2 noise levels, got {L}")
    return np.geomspace(sigma_max, sigma_min, L)


def _levels(levels, n, L):
    levels = np.asarray(levels.numpy() if hasattr(levels, "numpy") else levels)
    if levels.ndim == 0:
        levels = np.full(n, int(levels))
    if levels.dtype.kind not in "iu" or levels.shape != (n,):
        raise ValueError(f"noise levels must be {n} integers, got {levels.dtype} of shape {levels.shape}")
    if levels.min() < 0 or levels.max() >= L:
        raise ValueError(f"noise level index must lie in [0, L) = [0, {L}), got [{levels.min()}, {levels.max()}]")
    return levels.astype(np.int64)


class NoiseConditionalScoreNet(nn.Module):
    """s_θ(x, σ_i) = f_θ(x, i) / σ_i with f_θ the toy residual MLP (the level i embedded
    sinusoidally as the DDPM step is)."""

    def __init__(self, sigmas, dim: int = 2, hidden: int = 128, depth: int = 3, fourier: int = 0):
        super().__init__()
        self.sigmas = np.asarray(sigmas, dtype=np.float64)
        self.f = ToyEpsNet(dim=dim, hidden=hidden, depth=depth, fourier=fourier)

    def forward(self, x, levels):
        levels = _levels(levels, len(x), len(self.sigmas))
        spread = 1000 // len(self.sigmas)               # spread the level codes like DDPM's t
        return self.f(x, levels * spread) / coefficient(self.sigmas, levels, x)


def dsm_loss(score_fn, x, sigmas, levels=None, z=None):
    """½ E ‖σ s_θ(x + σ z, σ) + z‖² (summed over dimensions, averaged over the batch),
    with a level drawn uniformly per example unless given."""
    sigmas = np.asarray(sigmas, dtype=np.float64)
    if levels is None:
        levels = mg.randint(0, len(sigmas), size=(len(x),)).numpy()
    levels = _levels(levels, len(x), len(sigmas))
    if z is None:
        z = mg.randn(*x.shape, dtype=x.dtype, device=x.device)
    sigma = coefficient(sigmas, levels, x)
    residual = sigma * score_fn(x + sigma * z, levels) + z      # σ s_θ(x̃, σ) + z
    return 0.5 * (residual * residual).sum(axis=1).mean()


def langevin(score_fn, x, step: float, n_steps: int, trajectory_every: int = 0):
    """x_{k+1} = x_k + (ε/2) s(x_k) + √ε z_k for n_steps; ``score_fn(x) -> Tensor``."""
    if step <= 0:
        raise ValueError(f"Langevin step must be positive, got {step}")
    path = [x.numpy()] if trajectory_every else None
    with no_grad():
        for k in range(n_steps):
            z = mg.randn(*x.shape, dtype=x.dtype, device=x.device)
            x = x + (step / 2) * score_fn(x) + float(np.sqrt(step)) * z
            if trajectory_every and (k + 1) % trajectory_every == 0:
                path.append(x.numpy())
    return (x, path) if trajectory_every else x


def annealed_langevin(score_fn, x, sigmas, eps: float = 2e-5, steps_per_level: int = 100,
                      denoise: bool = True, trajectory: bool = False):
    """Song & Ermon's Algorithm 1; ``score_fn(x, level_indices) -> Tensor``.

    Returns x (and, with ``trajectory``, the points at the end of each level)."""
    sigmas = np.asarray(sigmas, dtype=np.float64)
    path = [x.numpy()] if trajectory else None
    with no_grad():
        for i, sigma in enumerate(sigmas):
            alpha = eps * sigma ** 2 / sigmas[-1] ** 2              # α_i = ε σ_i² / σ_L²
            levels = np.full(len(x), i)
            x = langevin(lambda y: score_fn(y, levels), x, alpha, steps_per_level)
            if trajectory:
                path.append(x.numpy())
        if denoise:                                                  # x + σ_L² s(x, σ_L)
            x = x + float(sigmas[-1] ** 2) * score_fn(x, np.full(len(x), len(sigmas) - 1))
    return (x, path) if trajectory else x
