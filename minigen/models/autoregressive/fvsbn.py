"""FVSBN: the fully visible sigmoid belief network -- one logistic regression per pixel.

    p(x_d = 1 | x_<d) = sigmoid(b_d + sum_{i<d} W_di x_i)            (d = 1..D)

The simplest autoregressive model: no hidden units, D(D-1)/2 + D parameters, the joint
table of L6.1 (2^D - 1 numbers) replaced by D conditionals that share nothing.  All D
logits at once are one masked linear layer, l = x (M * W)^T + b with M strictly lower
triangular (in the order): row d of M keeps only the inputs before d.  The first pixel's
row is empty, so its logit is b_1 alone -- the marginal p(x_1).
"""
from __future__ import annotations

import numpy as np

import minigen.nn as nn

from .base import AutoregressiveModel

__all__ = ["FVSBN"]


class FVSBN(AutoregressiveModel):
    """FVSBN over inputs of ``event_shape`` (e.g. (784,) or (1, 28, 28)); raster order."""

    def __init__(self, event_shape=(784,)):
        super().__init__()
        self.event_shape = tuple(event_shape)
        d = self.num_dims
        self.order = np.arange(d)
        self.net = nn.MaskedLinear(d, d, mask=np.tril(np.ones((d, d)), k=-1))

    def logits(self, x):
        n = len(x)
        return self.net(x.reshape(n, -1)).reshape((n,) + self.event_shape)
