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
engine's gradients |d logit(r, c) / d x|.

:class:`GatedPixelCNN` (van den Oord et al. 2016, "Conditional image generation with
PixelCNN decoders") removes it with two stacks per layer:

    vertical    v' = tanh(a) * sigmoid(b),  [a, b] = k x k conv of v, masked to the rows
                <= r (mask 'V'), so it sees a full-width band above -- no blind spot
    horizontal  h' = h + 1x1( tanh(a) * sigmoid(b) ),
                [a, b] = 1 x k conv of h (type A first, then B: the pixels left of (r, c))
                         + 1x1( v features shifted down one row: rows < r only )

The down-shift is what keeps it causal: the vertical stack has seen row r in full (the
pixels right of c included), so the horizontal stack of row r may only take it from
row r - 1.  The multiplicative tanh * sigmoid gate replaces the ReLU.

Single-channel (binary) images: the masks do not split channels into colours.
"""
from __future__ import annotations

import numpy as np

import minigen as mg
import minigen.functional as F
import minigen.nn as nn

from .base import AutoregressiveModel

__all__ = ["PixelCNN", "GatedPixelCNN", "ResidualBlock", "GatedLayer", "receptive_field"]


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


class _RasterConvModel(AutoregressiveModel):
    """Convolutional models in raster order: a logit sees at most ``reach`` rows up and
    ``reach`` columns to either side, so sampling can look at that window only."""

    reach: int

    def conditional_logit(self, x, d):
        """The logit of pixel d = (r, c) from the window it can see (rows r - reach .. r,
        columns c - reach .. c + reach): the same number as the full forward's."""
        width = self.event_shape[2]
        r, c = divmod(int(d), width)
        top, left = max(0, r - self.reach), max(0, c - self.reach)
        window = x[:, :, top:r + 1, left:c + self.reach + 1]
        return self.logits(window)[:, 0, r - top, c - left]


class PixelCNN(_RasterConvModel):
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



def _gate(t):
    """tanh(a) * sigmoid(b) for t = [a, b] split along the channels."""
    half = t.shape[1] // 2
    return mg.tanh(t[:, :half]) * mg.sigmoid(t[:, half:])


def _shift_down(t):
    """Row r of the result is row r - 1 of t (zeros in row 0)."""
    return F.pad(t, (0, 0, 1, 0))[:, :, :-1, :]


class GatedLayer(nn.Module):
    """One layer of the gated PixelCNN: vertical stack, horizontal stack, the link between."""

    def __init__(self, in_channels, channels, kernel_size, first=False):
        super().__init__()
        self.vertical = nn.MaskedConv2d(in_channels, 2 * channels, kernel_size, mask_type="V")
        self.horizontal = nn.MaskedConv2d(in_channels, 2 * channels, (1, kernel_size),
                                          mask_type="A" if first else "B")
        self.link = nn.Conv2d(2 * channels, 2 * channels, 1)
        self.out = nn.Conv2d(channels, channels, 1)
        self.first = first

    def forward(self, v, h):
        v_pre = self.vertical(v)
        h_pre = self.horizontal(h) + self.link(_shift_down(v_pre))
        h_new = self.out(_gate(h_pre))
        return _gate(v_pre), (h_new if self.first else h + h_new)


class GatedPixelCNN(_RasterConvModel):
    """Gated PixelCNN (no blind spot) for (N, 1, image_size, image_size) binary images:
    a first gated layer with a k x k vertical / 1 x k type-A horizontal kernel, then
    ``num_layers`` gated 3 x 3 layers, then ReLU, 1x1, ReLU, 1x1 on the horizontal stack."""

    def __init__(self, image_size=28, channels=32, num_layers=4, kernel_size=7):
        super().__init__()
        if kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd, got {kernel_size}")
        self.event_shape = (1, int(image_size), int(image_size))
        self.order = np.arange(self.num_dims)
        self.layers = nn.ModuleList([GatedLayer(1, channels, kernel_size, first=True)] +
                                    [GatedLayer(channels, channels, 3) for _ in range(num_layers)])
        self.head = nn.Sequential(nn.ReLU(), nn.Conv2d(channels, channels, 1), nn.ReLU(),
                                  nn.Conv2d(channels, 1, 1))
        # rows up: the shift (1) + k // 2 + one per 3x3 layer; columns: k // 2 + one per layer
        self.reach = 1 + kernel_size // 2 + num_layers

    def logits(self, x):
        v, h = x, x
        for layer in self.layers:
            v, h = layer(v, h)
        return self.head(h)


def receptive_field(model, row, col, n=8, seed=0):
    """sum over n random inputs of |d logit(row, col) / d x|, an (H, W) NumPy map: the
    input pixels the logit of (row, col) depends on (the engine's gradients, made visible).
    Inputs are Gaussian, not binary, so that no connection hides behind a zero pixel."""
    rng = np.random.default_rng(seed)
    x = mg.tensor(rng.standard_normal((n,) + model.event_shape), dtype=model.dtype,
                  device=model.device, requires_grad=True)
    (g,) = mg.grad([model.logits(x)[:, 0, row, col].sum()], [x])
    return np.abs(g.numpy()).sum(axis=(0, 1))
