"""The time embedding and the small ε-predictor for 2-D toys.

Sinusoidal time embedding (Vaswani et al. 2017, used by Ho et al. 2020 for t): for a
step t and an even width d,

    emb(t)_{2i}   = sin(t · ω_i),   emb(t)_{2i+1} = cos(t · ω_i),   ω_i = 10000^{-i / (d/2)},

so that nearby steps get nearby codes and every t in [0, T) a distinct one.  It is a
fixed function of the integer t (nothing to learn, no gradient), computed on the host
and handed to the network as a constant of the data's dtype and device.

:class:`ToyEpsNet` is ε_θ(x_t, t): an MLP whose hidden state receives a learned
projection of emb(t) in every residual block, the toy version of the U-Net's
"time embedding added in each block".
"""
from __future__ import annotations

import math

import numpy as np

import minigen as mg
import minigen.nn as nn
from minigen import backend
from minigen.tensor import Tensor

__all__ = ["timestep_embedding", "ToyEpsNet"]


def timestep_embedding(t, dim: int, like=None, max_period: float = 10000.0) -> Tensor:
    """(B, dim) sinusoidal codes of the integer steps ``t`` (B,), dtype/device of ``like``."""
    if dim < 2 or dim % 2:
        raise ValueError(f"timestep_embedding: dim must be even and >= 2, got {dim}")
    t = np.asarray(backend.to_device(t.data if isinstance(t, Tensor) else t, "cpu"), dtype=np.float64)
    if t.ndim != 1:
        raise ValueError(f"timestep_embedding: t must be 1-D (one step per sample), got shape {t.shape}")
    half = dim // 2
    omega = np.exp(-math.log(max_period) * np.arange(half) / half)         # ω_i = 10000^{-i/half}
    angles = t[:, None] * omega[None, :]                                   # t · ω_i
    emb = np.stack([np.sin(angles), np.cos(angles)], axis=2).reshape(len(t), dim)   # interleaved
    data = like.data if isinstance(like, Tensor) else like
    dtype = data.dtype if data is not None else np.float32
    return Tensor(backend.as_array(emb, dtype=dtype, like=data if data is not None else emb))


class ToyEpsNet(nn.Module):
    """ε_θ(x, t) for low-dimensional data: residual MLP blocks, emb(t) added in each one.

        h_0 = W_in x + time(emb(t))
        h_{k+1} = h_k + W_2 SiLU(W_1 SiLU(h_k) + V_k time(emb(t)))
        ε_θ = W_out SiLU(h_K)
    """

    def __init__(self, dim: int = 2, hidden: int = 128, depth: int = 3, time_dim: int = 64,
                 fourier: int = 0):
        super().__init__()
        self.dim, self.time_dim, self.fourier = int(dim), int(time_dim), int(fourier)
        self.time = nn.Sequential(nn.Linear(time_dim, hidden), nn.SiLU(), nn.Linear(hidden, hidden))
        self.inp = nn.Linear(dim * (1 + 2 * self.fourier), hidden)
        self.first = nn.ModuleList([nn.Linear(hidden, hidden) for _ in range(depth)])
        self.time_proj = nn.ModuleList([nn.Linear(hidden, hidden) for _ in range(depth)])
        self.second = nn.ModuleList([nn.Linear(hidden, hidden) for _ in range(depth)])
        self.out = nn.Linear(hidden, dim)

    def forward(self, x, t):
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"ToyEpsNet: expected x of shape (B, {self.dim}), got {tuple(x.shape)}")
        temb = self.time(timestep_embedding(t, self.time_dim, like=x))
        h = self.inp(self.features(x)) + temb
        for first, proj, second in zip(self.first, self.time_proj, self.second):
            h = h + second(mg.functional.silu(first(mg.functional.silu(h)) + proj(temb)))
        return self.out(mg.functional.silu(h))

    def features(self, x):
        """[x, sin(2^k π x), cos(2^k π x)] for k < fourier (Tancik et al. 2020): Fourier
        features let a small MLP draw the sharp ε field around narrow modes."""
        if not self.fourier:
            return x
        freqs = np.pi * 2.0 ** np.arange(self.fourier)
        f = x.reshape(x.shape[0], x.shape[1], 1) * Tensor(backend.as_array(freqs, dtype=x.dtype, like=x.data))
        f = f.reshape(x.shape[0], -1)
        return mg.concatenate([x, mg.sin(f), mg.cos(f)], axis=1)
