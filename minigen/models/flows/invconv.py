"""The invertible 1x1 convolution of Glow (Kingma & Dhariwal 2018), LU-parameterised.

A learned C x C matrix W mixes the channels at every pixel (for vectors: z = W x), a
learned generalisation of the fixed permutations between coupling layers.  Its log-det
is H W log |det W|, which costs O(C^3) in general -- but with W written as

    W = P L (U + diag(sign(s) exp(log|s|)))      (P fixed permutation, L unit lower
                                                  triangular, U strictly upper)
    log |det W| = sum_c log|s_c|                 (the determinant of a triangular matrix)

it is a sum, and W is invertible as long as every exp(log|s_c|) is a positive finite
number.  W starts as a random rotation (QR of a Gaussian matrix), LU-decomposed once.

Singular: a W given to :meth:`InvConv1x1.from_weight` that is singular has no such
parameterisation (a zero on U's diagonal) -- refused with a clear error; a layer whose
log|s| left the representable range during training (exp underflows to 0 or overflows)
is singular in floating point -- its forward and inverse raise naming the channel.
"""
from __future__ import annotations

import numpy as np
import scipy.linalg

import minigen as mg
import minigen.functional as F
import minigen.nn as nn

from .base import Flow, _constant_log_det

__all__ = ["InvConv1x1", "SingularWeightError"]


class SingularWeightError(ValueError):
    """The 1x1 convolution's matrix is singular (not invertible)."""


class InvConv1x1(Flow):
    """z = W x over the channels (axis 1) of (N, C) or (N, C, H, W) inputs."""

    def __init__(self, num_channels, weight=None, dtype=None):
        super().__init__()
        c = self.num_channels = int(num_channels)
        if weight is None:                       # a random rotation, from minigen's RNG
            weight = np.linalg.qr(mg.randn(c, c, dtype=np.float64).numpy())[0]
        weight = np.asarray(weight, dtype=np.float64)
        if weight.shape != (c, c):
            raise ValueError(f"InvConv1x1({c}): weight must be ({c}, {c}), got {weight.shape}")
        if not np.all(np.isfinite(weight)):
            raise SingularWeightError("InvConv1x1: the weight holds NaN or Inf")
        p, lower, upper = scipy.linalg.lu(weight)
        s = np.diag(upper)
        # zero up to rounding (the tolerance of numpy's matrix_rank)
        if np.any(np.abs(s) <= np.finfo(np.float64).eps * c * np.abs(weight).max()):
            raise SingularWeightError(
                f"InvConv1x1: the weight is singular (rank {np.linalg.matrix_rank(weight)} < {c}): "
                f"U of its LU decomposition has a zero on the diagonal, so log|det W| = -inf")
        f32 = np.dtype(dtype) if dtype is not None else np.dtype(np.float32)
        self.register_buffer("permutation", p.astype(f32))
        self.register_buffer("sign_s", np.sign(s).astype(f32))
        self.register_buffer("lower_mask", np.tril(np.ones((c, c)), -1).astype(f32))
        self.register_buffer("identity", np.eye(c, dtype=f32))
        self.lower = nn.Parameter(lower.astype(f32))
        self.upper = nn.Parameter(np.triu(upper, 1).astype(f32))
        self.log_s = nn.Parameter(np.log(np.abs(s)).astype(f32))

    @classmethod
    def from_weight(cls, weight, dtype=None):
        """The layer with exactly this C x C matrix (refused when it is singular)."""
        weight = np.asarray(weight)
        return cls(weight.shape[0], weight=weight, dtype=dtype)

    def _check_invertible(self):
        log_s = self.log_s.data
        xp = mg.get_array_module(log_s)
        limit = np.log(np.finfo(log_s.dtype).max) - 1        # exp(+-limit) stays finite, non-zero
        bad = ~xp.isfinite(log_s) | (xp.abs(log_s) > limit)
        if bool(bad.any()):
            c = int(xp.argmax(bad))
            raise SingularWeightError(
                f"InvConv1x1: the 1x1 convolution became singular in floating point: "
                f"log|s| of channel {c} is {float(log_s[c]):g} (|log|s|| must stay below {limit:.0f}); "
                f"lower the learning rate or clip the gradients")

    def weight(self):
        """W = P L (U + diag(sign(s) exp(log|s|))) as engine ops (its gradient reaches L, U, log|s|)."""
        self._check_invertible()
        lower = self.lower * self.lower_mask + self.identity
        upper = self.upper * self.lower_mask.T + self.identity * (self.sign_s * mg.exp(self.log_s))
        return self.permutation @ (lower @ upper)

    def _apply(self, x, w):
        if x.ndim < 2 or x.shape[1] != self.num_channels:
            raise ValueError(f"InvConv1x1({self.num_channels}) needs inputs (N, {self.num_channels}, ...), "
                             f"got {tuple(x.shape)}")
        if x.ndim == 2:
            return x @ w.T
        return F.conv2d(x, w.reshape(self.num_channels, self.num_channels, 1, 1))

    def forward(self, x):
        z = self._apply(x, self.weight())
        spatial = int(np.prod(x.shape[2:]))
        return z, _constant_log_det(self.log_s.sum() * spatial, len(x))

    def inverse(self, z):
        w = self.weight().data
        xp = mg.get_array_module(w)
        w_inv = mg.Tensor(xp.linalg.inv(w.astype(np.float64)).astype(w.dtype))
        return self._apply(z, w_inv)

    def extra_repr(self):
        return f"{self.num_channels}, LU-parameterised"
