"""The forward (noising) process of a diffusion model and its noise schedules.

Ho et al. (2020), "Denoising Diffusion Probabilistic Models" (DDPM).  A schedule of
variances β_1 … β_T defines a Markov chain that adds a little Gaussian noise per step:

    q(x_t | x_{t-1}) = N(x_t; √(1 − β_t) x_{t-1}, β_t I),        α_t = 1 − β_t.

Composing t of those Gaussians gives the closed form (no need to run the chain)

    ᾱ_t = ∏_{s ≤ t} α_s,
    q(x_t | x_0) = N(x_t; √ᾱ_t x_0, (1 − ᾱ_t) I)
    ⇔  x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε,   ε ~ N(0, I)                      (q_sample)

and, by Bayes' rule on two Gaussians, the posterior the reverse model imitates

    q(x_{t-1} | x_t, x_0) = N(x_{t-1}; μ̃_t(x_t, x_0), β̃_t I),
    μ̃_t = √ᾱ_{t-1} β_t / (1 − ᾱ_t) · x_0  +  √α_t (1 − ᾱ_{t-1}) / (1 − ᾱ_t) · x_t,
    β̃_t = (1 − ᾱ_{t-1}) / (1 − ᾱ_t) · β_t.                                   (q_posterior)

Indexing: the papers count t = 1 … T; arrays here count t = 0 … T − 1, so array entry
``t`` is the paper's step t + 1 (``alpha_bars[0]`` = ᾱ_1 = α_1, and ᾱ_0 := 1 is
``alpha_bars_prev[0]``).  A t outside [0, T) is an error, never a silent wrap-around.

Schedules:

* ``linear`` (Ho et al.): β_t linear from 1e-4 to 0.02 over T = 1000 steps;
* ``cosine`` (Nichol & Dhariwal 2021): ᾱ_t = f(t) / f(0), f(t) = cos²((t/T + s)/(1 + s) · π/2),
  s = 0.008, β_t = 1 − ᾱ_t / ᾱ_{t-1} clipped at 0.999.  It destroys information more
  slowly at the start, which matters at low resolution.

The signal-to-noise ratio SNR(t) = ᾱ_t / (1 − ᾱ_t) (Kingma et al. 2021) falls monotonically
from ~10⁴ to ~0 for both; ``snr`` returns it.

All coefficient arrays are float64 NumPy; when applied to data they are cast to the
data's dtype and device, so float32 stays float32.  Every function accepts NumPy arrays
or minigen Tensors (then the result is built from engine ops and keeps its graph).
"""
from __future__ import annotations

import math

import numpy as np

from minigen import backend
from minigen.tensor import Tensor

__all__ = ["NoiseSchedule", "linear_betas", "cosine_betas", "make_schedule", "coefficient", "SCHEDULES"]

SCHEDULES = ("linear", "cosine")


def linear_betas(T: int = 1000, beta_start: float = 1e-4, beta_end: float = 0.02) -> np.ndarray:
    """β_t evenly spaced from beta_start to beta_end (Ho et al.'s values for T = 1000)."""
    return np.linspace(beta_start, beta_end, T, dtype=np.float64)


def cosine_betas(T: int = 1000, s: float = 0.008, max_beta: float = 0.999) -> np.ndarray:
    """β_t = 1 − ᾱ_t / ᾱ_{t-1} with ᾱ_t = f(t)/f(0), f(t) = cos²(((t/T + s)/(1 + s)) π/2)."""
    f = lambda t: np.cos((t / T + s) / (1 + s) * math.pi / 2) ** 2
    t = np.arange(T + 1, dtype=np.float64)
    alpha_bar = f(t) / f(0)                                   # ᾱ_0 = 1 … ᾱ_T ≈ 0
    return np.clip(1 - alpha_bar[1:] / alpha_bar[:-1], 0, max_beta)   # clip: β_T would be 1


def coefficient(values: np.ndarray, t, x):
    """values[t] shaped (B, 1, …, 1) to broadcast against x, with x's dtype and device."""
    shape = (len(t),) + (1,) * (x.ndim - 1)
    data = x.data if isinstance(x, Tensor) else x
    c = backend.as_array(values[t].reshape(shape), dtype=data.dtype, like=data)
    return Tensor(c) if isinstance(x, Tensor) else c


class NoiseSchedule:
    """β_t and every quantity derived from it, with the forward-process formulas.

    ``NoiseSchedule.linear(T)``, ``NoiseSchedule.cosine(T)`` or ``make_schedule(name, T)``.
    """

    def __init__(self, betas, name: str = "custom"):
        betas = np.asarray(betas, dtype=np.float64)
        if betas.ndim != 1 or len(betas) < 1:
            raise ValueError(f"NoiseSchedule: betas must be a non-empty 1-D array, got shape {betas.shape}")
        if not np.all((betas > 0) & (betas < 1)):
            raise ValueError("NoiseSchedule: every β_t must lie in (0, 1)")
        self.name = name
        self.T = len(betas)
        self.betas = betas                                           # β_t
        self.alphas = 1.0 - betas                                    # α_t = 1 − β_t
        self.alpha_bars = np.cumprod(self.alphas)                    # ᾱ_t = ∏_{s≤t} α_s
        self.alpha_bars_prev = np.append(1.0, self.alpha_bars[:-1])  # ᾱ_{t-1}, ᾱ_0 = 1
        self.sqrt_alpha_bars = np.sqrt(self.alpha_bars)              # √ᾱ_t
        self.sqrt_one_minus_alpha_bars = np.sqrt(1 - self.alpha_bars)  # √(1 − ᾱ_t)
        # posterior q(x_{t-1} | x_t, x_0) = N(μ̃_t, β̃_t I)
        self.posterior_variance = (1 - self.alpha_bars_prev) / (1 - self.alpha_bars) * betas  # β̃_t
        self.posterior_mean_coef_x0 = np.sqrt(self.alpha_bars_prev) * betas / (1 - self.alpha_bars)
        self.posterior_mean_coef_xt = np.sqrt(self.alphas) * (1 - self.alpha_bars_prev) / (1 - self.alpha_bars)

    @classmethod
    def linear(cls, T: int = 1000, beta_start: float = 1e-4, beta_end: float = 0.02):
        return cls(linear_betas(T, beta_start, beta_end), name="linear")

    @classmethod
    def cosine(cls, T: int = 1000, s: float = 0.008):
        return cls(cosine_betas(T, s), name="cosine")

    def __repr__(self):
        return f"NoiseSchedule({self.name!r}, T={self.T})"

    # -- argument checks -------------------------------------------------------------
    def check_t(self, t, batch: int | None = None) -> np.ndarray:
        """t as a 1-D int64 NumPy array of length ``batch``; raise when outside [0, T)."""
        t = backend.to_device(t.data if isinstance(t, Tensor) else t, "cpu")
        if t.dtype.kind not in "iu":
            raise TypeError(f"diffusion: t must hold integers (time step indices), got {t.dtype}")
        if t.ndim == 0:
            t = np.full(batch if batch is not None else 1, int(t))
        if t.ndim != 1:
            raise ValueError(f"diffusion: t must be a scalar or 1-D, got shape {t.shape}")
        if batch is not None and len(t) != batch:
            raise ValueError(f"diffusion: {len(t)} time steps for a batch of {batch}")
        if len(t) and (t.min() < 0 or t.max() >= self.T):
            raise ValueError(f"diffusion: t must lie in [0, T) = [0, {self.T}), got values in "
                             f"[{t.min()}, {t.max()}]")
        return t.astype(np.int64)

    # -- the forward process ---------------------------------------------------------
    def q_sample(self, x0, t, eps):
        """x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε: a draw of q(x_t | x_0) given the noise ε."""
        if tuple(x0.shape) != tuple(eps.shape):
            raise ValueError(f"q_sample: x0 has shape {tuple(x0.shape)} but eps {tuple(eps.shape)}")
        t = self.check_t(t, len(x0))
        return (coefficient(self.sqrt_alpha_bars, t, x0) * x0
                + coefficient(self.sqrt_one_minus_alpha_bars, t, x0) * eps)

    def q_mean_variance(self, x0, t):
        """Mean √ᾱ_t x_0 and variance (1 − ᾱ_t) (per sample, broadcastable) of q(x_t | x_0)."""
        t = self.check_t(t, len(x0))
        return (coefficient(self.sqrt_alpha_bars, t, x0) * x0,
                coefficient(1 - self.alpha_bars, t, x0))

    def q_posterior(self, x0, xt, t):
        """Mean μ̃_t(x_t, x_0) and variance β̃_t of q(x_{t-1} | x_t, x_0)."""
        if tuple(x0.shape) != tuple(xt.shape):
            raise ValueError(f"q_posterior: x0 has shape {tuple(x0.shape)} but x_t {tuple(xt.shape)}")
        t = self.check_t(t, len(x0))
        mean = (coefficient(self.posterior_mean_coef_x0, t, x0) * x0
                + coefficient(self.posterior_mean_coef_xt, t, x0) * xt)
        return mean, coefficient(self.posterior_variance, t, x0)

    def predict_x0(self, xt, t, eps):
        """x̂_0 = (x_t − √(1 − ᾱ_t) ε) / √ᾱ_t: the clean point a noise guess ε implies."""
        t = self.check_t(t, len(xt))
        return ((xt - coefficient(self.sqrt_one_minus_alpha_bars, t, xt) * eps)
                / coefficient(self.sqrt_alpha_bars, t, xt))

    def snr(self, t=None) -> np.ndarray:
        """SNR(t) = ᾱ_t / (1 − ᾱ_t) (all t when None)."""
        a = self.alpha_bars if t is None else self.alpha_bars[self.check_t(t)]
        return a / (1 - a)


def make_schedule(name: str = "linear", T: int = 1000) -> NoiseSchedule:
    """The schedule called ``name`` (one of SCHEDULES) with T steps."""
    if name not in SCHEDULES:
        raise ValueError(f"unknown noise schedule {name!r}; choose one of {SCHEDULES}")
    if int(T) < 1:
        raise ValueError(f"a schedule needs T >= 1 steps, got {T}")
    return getattr(NoiseSchedule, name)(int(T))
