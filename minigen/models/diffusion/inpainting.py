"""RePaint: in-painting with an unconditional diffusion model (Lugmayr et al. 2022).

Given an image x_0 whose pixels are known where ``observed`` is True, run the reverse
process and, at every step, overwrite the known region with a forward-noised copy of
the truth at the same noise level:

    x_{t−1}^known   = √ᾱ_{t−1} x_0 + √(1 − ᾱ_{t−1}) ε          (q_sample of the known pixels)
    x_{t−1}^unknown ~ p_θ(x_{t−1} | x_t)                         (one reverse step)
    x_{t−1}         = m ⊙ x_{t−1}^known + (1 − m) ⊙ x_{t−1}^unknown

The known and generated parts are noised independently, so they disagree at the seam;
RePaint's *resampling* harmonises them: after every ``jump_length`` reverse steps it
goes back up ``jump_length`` steps with the forward process,

    x_{t+1} ~ q(x_{t+1} | x_t) = N(√α_{t+1} x_t, β_{t+1} I),

and denoises again — ``resample`` times in all at each jump point.  The jumps start at
the *current* step and go back from there (not to a fixed t).

To keep the network calls affordable on a CPU the loop runs on S kept steps
τ_1 < … < τ_S (DDIM's subsequence; S = T is the original algorithm): a reverse step
τ_i → τ_{i−1} is the DDIM step with η = 1 (= the DDPM step when S = T) and a forward
jump τ_{i−1} → τ_i draws from q(x_{τ_i} | x_{τ_{i−1}}) = N(√(ᾱ_{τ_i}/ᾱ_{τ_{i−1}}) x,
(1 − ᾱ_{τ_i}/ᾱ_{τ_{i−1}}) I).  The last step writes the observed pixels exactly.
"""
from __future__ import annotations

import numpy as np

import minigen as mg
from minigen import backend
from minigen.autograd import no_grad
from minigen.tensor import Tensor

from .ddim import _alpha_bar, ddim_step, ddim_timesteps

__all__ = ["repaint_schedule", "repaint", "network_calls"]


def repaint_schedule(S: int, jump_length: int = 10, resample: int = 10) -> list[int]:
    """The walk over kept-step indices S−1 … −1 (−1 = clean), with the jumps back.

    From index i the walk steps down; at every multiple of ``jump_length`` (below the
    top) it goes back up ``jump_length`` indices ``resample − 1`` times.
    """
    if jump_length < 1 or resample < 1:
        raise ValueError(f"RePaint: jump_length and resample must be >= 1, got {jump_length}, {resample}")
    jumps = {i: resample - 1 for i in range(0, S - jump_length, jump_length)}
    i, walk = S - 1, [S - 1]
    while i >= 0:
        i -= 1
        walk.append(i)
        if i >= 0 and jumps.get(i, 0) > 0:
            jumps[i] -= 1
            for _ in range(jump_length):
                i += 1
                walk.append(i)
    return walk


def network_calls(S: int, jump_length: int = 10, resample: int = 10) -> int:
    """ε_θ evaluations per image: one per downward step of the walk."""
    walk = repaint_schedule(S, jump_length, resample)
    return sum(b < a for a, b in zip(walk, walk[1:]))


def repaint(eps_fn, schedule, x0, observed, *, S: int | None = None, jump_length: int = 10,
            resample: int = 10, spacing: str = "uniform", clip_x0=None):
    """In-paint x0 (B, C, H, W) Tensor in the model's space ([−1, 1]) where ``observed``
    (a boolean array of x0's shape) is False; ``clip_x0`` clips each step's x̂_0 (see
    :mod:`.ddim`).  Returns the completed images (Tensor)."""
    observed = np.asarray(backend.to_device(observed.data if isinstance(observed, Tensor) else observed, "cpu"))
    if observed.shape != tuple(x0.shape):
        raise ValueError(f"repaint: mask of shape {observed.shape} for images of shape {tuple(x0.shape)}")
    if observed.dtype != bool:
        raise TypeError(f"repaint: the mask must be boolean (True = observed), got {observed.dtype}")
    S = schedule.T if S is None else S
    tau = ddim_timesteps(schedule.T, S, spacing)
    step_of = lambda i: int(tau[i]) if i >= 0 else -1              # kept index -> array step
    m = Tensor(backend.as_array(observed, dtype=x0.dtype, like=x0.data))
    randn = lambda: mg.randn(*x0.shape, dtype=x0.dtype, device=x0.device)
    walk = repaint_schedule(S, jump_length, resample)
    with no_grad():
        x = randn()
        for a, b in zip(walk, walk[1:]):
            t, s = step_of(a), step_of(b)
            if b < a:                                                   # reverse: τ_a -> τ_b
                unknown = ddim_step(eps_fn, schedule, x, t, s, eta=1.0, clip_x0=clip_x0)
                a_s = _alpha_bar(schedule, s)
                known = x0 if s < 0 else (float(np.sqrt(a_s)) * x0 + float(np.sqrt(1 - a_s)) * randn())
                x = m * known + (1 - m) * unknown
            else:                                                       # jump back up: τ_a -> τ_b
                ratio = _alpha_bar(schedule, s) / _alpha_bar(schedule, t)
                x = float(np.sqrt(ratio)) * x + float(np.sqrt(1 - ratio)) * randn()
        return mg.where(observed, x0, x)                                # known pixels exact
