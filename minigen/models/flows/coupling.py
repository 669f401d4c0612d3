"""Affine coupling (RealNVP, Dinh et al. 2017): half the variables steer the other half.

Split x by a fixed 0/1 mask b (1 = passed through, 0 = transformed):

    z = b * x + (1 - b) * (x * exp(s(b * x)) + t(b * x))

s and t are any networks of the passed-through part only, so the Jacobian dz/dx is
triangular (after reordering) with diagonal 1 on the kept part and exp(s) on the rest:

    log |det J| = sum_i (1 - b_i) s_i(b * x)           -- no determinant to compute
    inverse:     x = b * z + (1 - b) * (z - t(b * z)) * exp(-s(b * z))   (b * z = b * x)

Here s and t are zeroed on the kept part, so z = x * exp(s) + t everywhere.

The scale s is bounded for stability (an exp of a large network output overflows):
``scale='tanh'``: s = w * tanh(raw) with a learned per-dimension w (RealNVP's choice);
``scale='soft_clamp'``: s = c tanh(raw / c), about raw near 0 and never beyond +-c.

Masks: :func:`alternating_mask` for vectors (every other coordinate), :func:`checkerboard_mask`
for images (pixel (i, j) kept when i + j is even), :func:`channel_mask` for images after a
squeeze (the first half of the channels kept).  Alternate the parity between layers so
every variable gets transformed.
"""
from __future__ import annotations

import numpy as np

import minigen as mg
import minigen.nn as nn

from .base import Flow, per_example_sum

__all__ = ["AffineCoupling", "alternating_mask", "checkerboard_mask", "channel_mask",
           "mlp_net", "conv_net"]


def alternating_mask(dim, parity=0):
    """(dim,) with 1 on coordinates i where i % 2 == parity."""
    return (np.arange(dim) % 2 == parity).astype(np.float32)


def checkerboard_mask(shape, parity=0):
    """(C, H, W) with 1 where (i + j) % 2 == parity, the same in every channel."""
    c, h, w = shape
    board = (np.add.outer(np.arange(h), np.arange(w)) % 2 == parity).astype(np.float32)
    return np.broadcast_to(board, (c, h, w)).copy()


def channel_mask(shape, parity=0):
    """(C, H, W) with 1 on the first half of the channels (parity 0) or the second (1)."""
    c, h, w = shape
    if c % 2:
        raise ValueError(f"a channel mask needs an even number of channels, got {c}")
    first = np.arange(c) < c // 2
    keep = first if parity == 0 else ~first
    return np.broadcast_to(keep[:, None, None], (c, h, w)).astype(np.float32)


def mlp_net(dim, hidden=64, layers=2):
    """The s, t network of a vector coupling: dim -> hidden (ReLU) x layers -> 2 dim."""
    widths = [dim] + [hidden] * layers
    mods = []
    for a, b in zip(widths[:-1], widths[1:]):
        mods += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*mods, nn.Linear(widths[-1], 2 * dim))


def conv_net(channels, hidden=64):
    """The s, t network of an image coupling: 3x3 conv -> 1x1 -> 3x3 to 2 C channels."""
    return nn.Sequential(nn.Conv2d(channels, hidden, 3, padding=1), nn.ReLU(),
                         nn.Conv2d(hidden, hidden, 1), nn.ReLU(),
                         nn.Conv2d(hidden, 2 * channels, 3, padding=1))


class AffineCoupling(Flow):
    """z = x * exp(s) + t with (s, t) = net(b * x), zero on the kept part (b = 1).

    mask: (D,) or (C, H, W) array; net: maps (N, *mask.shape) to (N, 2 * first axis, ...)
    (the raw s stacked on t along axis 1).  zero_init: start the last layer of the net
    at zero, so that the coupling starts as the identity (stable deep flows).
    """

    def __init__(self, mask, net, scale="tanh", clamp=2.0, zero_init=True):
        super().__init__()
        if scale not in ("tanh", "soft_clamp"):
            raise ValueError(f"scale must be 'tanh' or 'soft_clamp', got {scale!r}")
        mask = np.asarray(mask, dtype=np.float32)
        self.register_buffer("mask", mask)
        self.net = net
        self.scale, self.clamp = scale, float(clamp)
        if scale == "tanh":
            self.scale_weight = nn.Parameter(mg.ones(*mask.shape).data)
        if zero_init:
            last = [m for m in net.modules() if getattr(m, "weight", None) is not None][-1]
            nn.init.zeros_(last.weight)
            if last.bias is not None:
                nn.init.zeros_(last.bias)

    def _scale_and_shift(self, kept):
        raw = self.net(kept)
        half = raw.shape[1] // 2
        raw_s, t = raw[:, :half], raw[:, half:]
        if self.scale == "tanh":
            s = self.scale_weight * mg.tanh(raw_s)
        else:
            s = self.clamp * mg.tanh(raw_s / self.clamp)
        free = 1.0 - self.mask
        return s * free, t * free

    def forward(self, x):
        s, t = self._scale_and_shift(x * self.mask)
        return x * mg.exp(s) + t, per_example_sum(s)

    def inverse(self, z):
        s, t = self._scale_and_shift(z * self.mask)       # b * z = b * x: the same s, t
        return (z - t) * mg.exp(-s)

    def extra_repr(self):
        kept = int(self.mask.sum())
        return f"kept={kept}/{self.mask.size}, scale={self.scale!r}"
