"""PixelCNN (van den Oord et al. 2016): an autoregressive model made of masked convolutions.

Pixels are generated in raster order (row by row, left to right).  A convolution whose
kernel is masked to the pixels above and to the left of the centre keeps that order:

    input x (N, 1, H, W), binary
      -> MaskedConv2d 7x7, type A (excludes the centre: output i never sees x_i)
      -> residual blocks:  h + 1x1( ReLU( 3x3 type B( ReLU( 1x1( ReLU(h) ) ) ) ) )
         (type B includes the centre: feature i already depends only on pixels < i)
      -> ReLU, 1x1, ReLU, 1x1 -> one logit per pixel,   p(x_i = 1 | x_<i) = sigmoid(l_i)

All H*W conditionals come out of one forward pass, so log p(x) is exact and as cheap as
a classifier's forward.  Sampling is not: H*W passes, one per pixel.  Here each pass
looks only at the window pixel (r, c) can see -- rows r - reach .. r, columns
c - reach .. c + reach, reach = k // 2 + (number of 3x3 blocks) -- which gives the same
logit (what is cut off lies outside its receptive field) at a fraction of the cost.

The blind spot.  Stacking 3x3 type-B kernels grows the receptive field as a triangle:
each layer reaches one row up and one column right *of the row above*, so pixels above
and to the right of the centre's column, at more than a diagonal's distance, are never
seen although they come earlier in the order.  :func:`receptive_field` shows it with the
engine's gradients |d logit(r, c) / d x|.  The gated PixelCNN's vertical and horizontal
stacks remove it; this module implements the plain version only.

Single-channel (binary) images: the masks do not split channels into colours.
"""
from __future__ import annotations

import numpy as np

import minigen as mg
import minigen.nn as nn

from .base import AutoregressiveModel

__all__ = ["PixelCNN", "ResidualBlock", "receptive_field"]


class ResidualBlock(nn.Module):
    """h + 1x1(ReLU(3x3 masked B(ReLU(1x1(ReLU(h)))))): halve the channels, look around
    (causally), restore them, add to the input."""

    def __init__(self, channels):
        super().__init__()
        half = max(1, channels // 2)
        self.reduce = nn.Conv2d(channels, half, 1)
        self.conv = nn.MaskedConv2d(half, half, 3, mask_type="B")
        self.expand = nn.Conv2d(half, channels, 1)

    def forward(self, h):
        return h + self.expand(mg.relu(self.conv(mg.relu(self.reduce(mg.relu(h))))))


class PixelCNN(AutoregressiveModel):
    """PixelCNN for (N, 1, image_size, image_size) binary images."""

    def __init__(self, image_size=28, channels=64, num_blocks=5, kernel_size=7, head_channels=None):
        super().__init__()
        if kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd, got {kernel_size}")
        self.event_shape = (1, int(image_size), int(image_size))
        self.order = np.arange(self.num_dims)                       # raster order
        head = head_channels or channels
        self.input_conv = nn.MaskedConv2d(1, channels, kernel_size, mask_type="A")
        self.blocks = nn.ModuleList([ResidualBlock(channels) for _ in range(num_blocks)])
        self.head = nn.Sequential(nn.ReLU(), nn.Conv2d(channels, head, 1), nn.ReLU(),
                                  nn.Conv2d(head, 1, 1))
        # how far up / left / right a logit can look: k // 2 from the first layer, one
        # per 3x3 block
        self.reach = kernel_size // 2 + num_blocks

    def logits(self, x):
        h = self.input_conv(x)
        for block in self.blocks:
            h = block(h)
        return self.head(h)

    def conditional_logit(self, x, d):
        """The logit of pixel d = (r, c) from the window it can see (rows r - reach .. r,
        columns c - reach .. c + reach): the same number as the full forward's."""
        width = self.event_shape[2]
        r, c = divmod(int(d), width)
        top, left = max(0, r - self.reach), max(0, c - self.reach)
        window = x[:, :, top:r + 1, left:c + self.reach + 1]
        return self.logits(window)[:, 0, r - top, c - left]


def receptive_field(model, row, col, n=8, seed=0):
    """sum over n random inputs of |d logit(row, col) / d x|, an (H, W) NumPy map: the
    input pixels the logit of (row, col) depends on (the engine's gradients, made visible).
    Inputs are Gaussian, not binary, so that no connection hides behind a zero pixel."""
    rng = np.random.default_rng(seed)
    x = mg.tensor(rng.standard_normal((n,) + model.event_shape), dtype=model.dtype,
                  device=model.device, requires_grad=True)
    (g,) = mg.grad([model.logits(x)[:, 0, row, col].sum()], [x])
    return np.abs(g.numpy()).sum(axis=(0, 1))
