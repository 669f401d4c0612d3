"""ActNorm (Glow, Kingma & Dhariwal 2018): a per-channel affine map with data-dependent
initialisation -- batch norm's benefit at the start, without its batch dependence.

    z = (x + b) * exp(log_s)          per channel (axis 1)
    log |det J| = H W sum_c log_s_c   (H W = 1 for vectors)
    inverse:  x = z * exp(-log_s) - b

At the first forward pass b and log_s are set from that batch so that z has zero mean
and unit variance per channel: b = -mean, log_s = -log(std).  After that they are
ordinary parameters.  The ``initialized`` buffer is saved with the state dict, so a
loaded model is not initialised again.
"""
from __future__ import annotations

import numpy as np

import minigen as mg
import minigen.nn as nn

from .base import Flow, _constant_log_det

__all__ = ["ActNorm"]


class ActNorm(Flow):
    """ActNorm over ``num_features`` channels of (N, C) or (N, C, H, W) inputs."""

    def __init__(self, num_features, eps=1e-6):
        super().__init__()
        self.num_features, self.eps = int(num_features), float(eps)
        self.bias = nn.Parameter(mg.zeros(self.num_features).data)
        self.log_scale = nn.Parameter(mg.zeros(self.num_features).data)
        self.register_buffer("initialized", np.zeros((), dtype=np.float32))

    def _shape(self, x):
        if x.ndim < 2 or x.shape[1] != self.num_features:
            raise ValueError(f"ActNorm({self.num_features}) needs inputs (N, {self.num_features}, ...), "
                             f"got {tuple(x.shape)}")
        return (1, self.num_features) + (1,) * (x.ndim - 2)

    def initialize(self, x):
        """b = -mean, log_s = -log(std) per channel, from the batch x (data-dependent init)."""
        data = x.data
        xp = mg.get_array_module(data)
        axes = (0,) + tuple(range(2, data.ndim))
        mean, std = data.mean(axis=axes), data.std(axis=axes)
        self.bias.data = (-mean).astype(self.bias.dtype)
        self.log_scale.data = (-xp.log(std + self.eps)).astype(self.log_scale.dtype)
        self.initialized = xp.ones((), dtype=self.initialized.dtype)

    def forward(self, x):
        shape = self._shape(x)
        if not bool(self.initialized):
            self.initialize(x)
        log_s = self.log_scale.reshape(shape)
        z = (x + self.bias.reshape(shape)) * mg.exp(log_s)
        spatial = int(np.prod(x.shape[2:]))
        return z, _constant_log_det(self.log_scale.sum() * spatial, len(x))

    def inverse(self, z):
        shape = self._shape(z)
        return z * mg.exp(-self.log_scale.reshape(shape)) - self.bias.reshape(shape)

    def extra_repr(self):
        return f"{self.num_features}, initialized={bool(self.initialized)}"
