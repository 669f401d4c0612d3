"""DDIM: sampling a DDPM-trained ε_θ in S ≪ T steps, deterministic or not (Song et al. 2021).

DDIM keeps the marginals q(x_t | x_0) of DDPM but uses a non-Markovian forward process,
so the same ε_θ serves any subsequence τ_1 < … < τ_S of the steps.  With
x̂_0 = (x_t − √(1 − ᾱ_t) ε_θ(x_t, t)) / √ᾱ_t, one step from t to the previous kept step s is

    x_s = √ᾱ_s x̂_0  +  √(1 − ᾱ_s − σ²) ε_θ(x_t, t)  +  σ z,      z ~ N(0, I),
    σ  = η √((1 − ᾱ_s) / (1 − ᾱ_t)) √(1 − ᾱ_t / ᾱ_s)                       (ddim_step)

(ᾱ_s := 1 after the last kept step, which gives x_0 = x̂_0).

``clip_x0=c`` clips x̂_0 to [−c, c] (the data range: 1 for images in [−1, 1]) and uses the
ε that agrees with it, ε̂ = (x_t − √ᾱ_t x̂_0) / √(1 − ᾱ_t), as Ho et al.'s sampler does.
Without it a step from a very noisy x_t divides the network's error by √ᾱ_t (the cosine
schedule's ᾱ_{T−1} = 2.4e-9: a factor 2·10⁴) and few-step samples saturate.

* η = 0: no noise — a deterministic map x_T -> x_0 (an ODE discretisation), which
  can be run backwards to *encode* x_0 -> x_T (:func:`ddim_encode`);
* η = 1 with all T steps: σ² = (1 − ᾱ_{t-1}) / (1 − ᾱ_t) · β_t = β̃_t, the DDPM
  ancestral sampler with the posterior variance.

Spacing of the S kept steps (paper, Appendix D.2): ``uniform`` τ_i ≈ i (T − 1)/(S − 1);
``quadratic`` τ_i ≈ (i / (S − 1))² (T − 1), denser near t = 0 where detail is decided.
"""
from __future__ import annotations

import numpy as np

import minigen as mg
from minigen.autograd import no_grad

__all__ = ["ddim_timesteps", "ddim_sigma", "ddim_step", "ddim_sample", "ddim_encode", "SPACINGS"]

SPACINGS = ("uniform", "quadratic")


def ddim_timesteps(T: int, S: int, spacing: str = "uniform") -> np.ndarray:
    """S distinct increasing steps in [0, T), the last one T − 1."""
    if spacing not in SPACINGS:
        raise ValueError(f"unknown DDIM spacing {spacing!r}; choose one of {SPACINGS}")
    S = int(S)
    if not 1 <= S <= T:
        raise ValueError(f"DDIM: the number of steps S must lie in [1, T] = [1, {T}], got {S}")
    if S == 1:
        return np.array([T - 1])
    u = np.arange(S) / (S - 1)
    tau = np.round((u if spacing == "uniform" else u ** 2) * (T - 1)).astype(np.int64)
    for i in range(1, S):                          # quadratic crowds t ≈ 0: keep the steps distinct
        tau[i] = max(tau[i], tau[i - 1] + 1)
    assert tau[-1] == T - 1 and np.all(np.diff(tau) > 0), tau
    return tau


def _alpha_bar(schedule, t: int) -> float:
    """ᾱ_t as a Python float (a NumPy scalar times a Tensor would turn it into an array),
    with ᾱ := 1 for t = −1 (the clean data after the last step)."""
    return 1.0 if t < 0 else float(schedule.alpha_bars[t])


def ddim_sigma(schedule, t: int, s: int, eta: float) -> float:
    """σ = η √((1 − ᾱ_s)/(1 − ᾱ_t)) √(1 − ᾱ_t/ᾱ_s) for the step t -> s (s < t)."""
    a_t, a_s = _alpha_bar(schedule, t), _alpha_bar(schedule, s)
    return float(eta * np.sqrt((1 - a_s) / (1 - a_t)) * np.sqrt(1 - a_t / a_s))


def ddim_step(eps_fn, schedule, xt, t: int, s: int, eta: float = 0.0, noise=None, clip_x0=None):
    """x_t -> x_s (s < t; s = −1 means x_0), every sample at the same step; ``clip_x0``:
    clip x̂_0 to [−clip_x0, clip_x0] (see the module)."""
    if not -1 <= s < t < schedule.T:
        raise ValueError(f"DDIM step needs -1 <= s < t < T, got t={t}, s={s}, T={schedule.T}")
    a_t, a_s = _alpha_bar(schedule, t), _alpha_bar(schedule, s)
    eps = eps_fn(xt, np.full(len(xt), t))
    x0_hat = (xt - float(np.sqrt(1 - a_t)) * eps) / float(np.sqrt(a_t))          # x̂_0
    if clip_x0 is not None:
        x0_hat = mg.clamp(x0_hat, -float(clip_x0), float(clip_x0))
        eps = (xt - float(np.sqrt(a_t)) * x0_hat) / float(np.sqrt(1 - a_t))     # the ε of the clipped x̂_0
    sigma = ddim_sigma(schedule, t, s, eta)
    x = float(np.sqrt(a_s)) * x0_hat + float(np.sqrt(max(1 - a_s - sigma ** 2, 0.0))) * eps   # √ᾱ_s x̂_0 + √(1−ᾱ_s−σ²) ε
    if sigma > 0:
        if noise is None:
            noise = mg.randn(*xt.shape, dtype=xt.dtype, device=xt.device)
        x = x + sigma * noise                                       # + σ z
    return x


def ddim_sample(eps_fn, schedule, shape=None, *, S: int = 50, eta: float = 0.0,
                spacing: str = "uniform", dtype=np.float32, device="cpu", x_T=None,
                trajectory: bool = False, clip_x0=None):
    """Sample with S DDIM steps from x_T ~ N(0, I) (or the given x_T); ``clip_x0`` as in
    :func:`ddim_step`.

    Returns x_0, or (x_0, [(t, x_t as NumPy), …]) with ``trajectory=True`` (x_T first).
    """
    if eta < 0:
        raise ValueError(f"DDIM: eta must be >= 0, got {eta}")
    tau = ddim_timesteps(schedule.T, S, spacing)
    with no_grad():
        x = mg.randn(*shape, dtype=dtype, device=device) if x_T is None else x_T
        path = [(schedule.T, x.numpy())] if trajectory else None
        previous = np.append(-1, tau[:-1])                           # the step after τ_i is τ_{i-1}
        for t, s in zip(tau[::-1], previous[::-1]):
            x = ddim_step(eps_fn, schedule, x, int(t), int(s), eta, clip_x0=clip_x0)
            if trajectory:
                path.append((int(s) + 1, x.numpy()))                 # x after step τ_i ~ x_{τ_{i-1}}
    return (x, path) if trajectory else x


def ddim_encode(eps_fn, schedule, x0, *, S: int = 50, spacing: str = "uniform"):
    """Run the η = 0 map backwards, x_0 -> x_T: from step s to the next kept step t,

        x_t = √ᾱ_t x̂_0 + √(1 − ᾱ_t) ε_θ(x_s, s),   x̂_0 = (x_s − √(1 − ᾱ_s) ε_θ(x_s, s)) / √ᾱ_s

    (ε evaluated at the point we have; at x_0 itself at the first kept step).  Decoding
    the result with ``ddim_sample(..., eta=0, x_T=...)`` gives x_0 back up to the
    discretisation error, which shrinks as S grows.
    """
    tau = ddim_timesteps(schedule.T, S, spacing)
    with no_grad():
        x = x0
        previous = np.append(-1, tau[:-1])
        for s, t in zip(previous, tau):
            a_s, a_t = _alpha_bar(schedule, int(s)), _alpha_bar(schedule, int(t))
            eps = eps_fn(x, np.full(len(x), max(int(s), int(tau[0]))))
            x0_hat = (x - float(np.sqrt(1 - a_s)) * eps) / float(np.sqrt(a_s))
            x = float(np.sqrt(a_t)) * x0_hat + float(np.sqrt(1 - a_t)) * eps
    return x
