"""Two small invertible maps around the couplings of an image flow.

* :class:`Squeeze`: (C, H, W) -> (4C, H/2, W/2), each 2x2 block of pixels becomes 4
  channels.  A permutation of the variables: log |det J| = 0.  After it, channel masks
  split every 2x2 neighbourhood in half.
* :class:`LogitTransform`: data in [0, 1] -> the whole real line, where a Gaussian base
  fits better (RealNVP, section 4.1):

      p = alpha + (1 - 2 alpha) y,   w = logit(p) = log p - log(1 - p)
      log |dw/dy| = sum_i [log(1 - 2 alpha) - log p_i - log(1 - p_i)]

  alpha keeps p away from 0 and 1 (where the logit is infinite).  This Jacobian is part
  of the model: a likelihood of y counts it, else the number would be a density of w.
"""
from __future__ import annotations

import math

import numpy as np

import minigen as mg

from .base import Flow, per_example_sum

__all__ = ["Squeeze", "LogitTransform"]


class Squeeze(Flow):
    """(N, C, H, W) -> (N, 4C, H/2, W/2): z[:, 4c + 2a + b, i, j] = x[:, c, 2i + a, 2j + b]."""

    def forward(self, x):
        n, c, h, w = x.shape
        if h % 2 or w % 2:
            raise ValueError(f"Squeeze needs an even height and width, got {h}x{w}")
        z = x.reshape(n, c, h // 2, 2, w // 2, 2).transpose(0, 1, 3, 5, 2, 4)
        return z.reshape(n, 4 * c, h // 2, w // 2), mg.zeros(n, dtype=x.dtype, device=x.device)

    def inverse(self, z):
        n, c4, h, w = z.shape
        c = c4 // 4
        x = z.reshape(n, c, 2, 2, h, w).transpose(0, 1, 4, 2, 5, 3)
        return x.reshape(n, c, 2 * h, 2 * w)


class LogitTransform(Flow):
    """y in [0, 1] -> w = logit(alpha + (1 - 2 alpha) y), with its log-det."""

    def __init__(self, alpha=0.05):
        super().__init__()
        if not 0 < alpha < 0.5:
            raise ValueError(f"alpha must lie in (0, 0.5), got {alpha}")
        self.alpha = float(alpha)

    def forward(self, y):
        data = y.data
        if float(data.min()) < 0 or float(data.max()) > 1:
            raise ValueError(f"LogitTransform expects data in [0, 1] (dequantised pixels), got "
                             f"values in [{float(data.min()):g}, {float(data.max()):g}]")
        p = self.alpha + (1 - 2 * self.alpha) * y
        log_p, log_1mp = mg.log(p), mg.log(1 - p)
        d = int(np.prod(y.shape[1:]))
        log_det = d * math.log(1 - 2 * self.alpha) - per_example_sum(log_p + log_1mp)
        return log_p - log_1mp, log_det

    def inverse(self, w):
        return (mg.sigmoid(w) - self.alpha) / (1 - 2 * self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}"
