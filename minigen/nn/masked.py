"""Masked layers: the connectivity of an autoregressive model, written into the weights.

An autoregressive model p(x) = prod_d p(x_d | x_<d) needs a network whose output d sees
only the inputs before d (in some order).  Multiplying the weight by a fixed 0/1 mask
removes the forbidden connections:

    MaskedLinear     y = x (M * W)^T + b           M (out, in), used by MADE / FVSBN
    MaskedConv2d     y = conv(x, M * W) + b        M (out, in, kh, kw), used by PixelCNN

The product M * W is an ordinary engine op (Mul), so the gradient of a masked weight is
M * dL/d(M W): a forbidden weight gets exactly zero gradient and never moves from where
it started; it is multiplied by zero in every forward, so its value does not matter.

The bias and the mask: b_j adds a constant to output j and connects it to *no* input,
so it cannot break the autoregressive property and is not masked.  An output whose
row of M is empty (in MADE: the first dimension in the order) is its bias alone -- that
is how the unconditional p(x_1) is learned.  The masks are buffers: they travel with
``to(device)`` and are saved in the state dict (a MADE's random masks are part of the
model).
"""
import numpy as np

from minigen import backend
from minigen import functional as F
from minigen.nn.conv import Conv2d
from minigen.nn.linear import Linear

__all__ = ["MaskedLinear", "MaskedConv2d", "causal_conv_mask"]


def _as_mask(mask, shape, what):
    """A 0/1 float array of exactly ``shape`` (a clear error otherwise)."""
    mask = backend.to_device(getattr(mask, "data", mask), "cpu")
    if mask.shape != tuple(shape):
        raise ValueError(f"{what}: the mask must have shape {tuple(shape)} (that of the weight), "
                         f"got {mask.shape}")
    if not np.isin(mask, (0, 1)).all():
        raise ValueError(f"{what}: the mask must hold only 0 and 1")
    return mask


class MaskedLinear(Linear):
    """y = x (M * W)^T + b: a Linear layer whose weight is multiplied by a fixed 0/1 mask.

    mask: (out_features, in_features), M[j, i] = 1 when output j may see input i;
    default all ones (an ordinary Linear) until :meth:`set_mask` is called.
    """

    def __init__(self, in_features, out_features, bias=True, mask=None, device=None, dtype=None):
        super().__init__(in_features, out_features, bias=bias, device=device, dtype=dtype)
        self.register_buffer("mask", self._mask_array(np.ones((out_features, in_features))))
        if mask is not None:
            self.set_mask(mask)

    def _mask_array(self, mask):
        mask = _as_mask(mask, self.weight.shape, type(self).__name__)
        return backend.as_array(mask, dtype=self.weight.dtype, like=self.weight.data)

    def set_mask(self, mask):
        """Replace the mask (same shape as the weight); returns self."""
        self.mask = self._mask_array(mask)
        return self

    def forward(self, x):
        return F.linear(x, self.weight * self.mask, self.bias)

    def extra_repr(self):
        allowed = int(self.mask.sum())
        return super().extra_repr() + f", connections={allowed}/{self.mask.size}"


def causal_conv_mask(out_channels, in_channels, kernel_size, mask_type):
    """The PixelCNN mask (out, in, kh, kw) of a raster-order (row by row) model:

        type A            type B            1 = the weight is kept
        1 1 1 1 1         1 1 1 1 1
        1 1 1 1 1         1 1 1 1 1         rows above the centre: all kept;
        1 1 0 0 0         1 1 1 0 0         centre row: left of the centre kept,
        0 0 0 0 0         0 0 0 0 0         the centre itself only in type B;
        0 0 0 0 0         0 0 0 0 0         rows below: none.

    Type A is for the first layer: output pixel i must not see input pixel i.  Type B
    (the centre included) is for later layers, whose feature at i already depends only
    on pixels before i.  Type 'V' keeps the whole centre row as well: the vertical stack
    of the gated PixelCNN, whose output is shifted down one row before the pixels of
    that row may use it.  Single-channel images: no split of the channels into colours.
    """
    if mask_type not in ("A", "B", "V"):
        raise ValueError(f"mask_type must be 'A' or 'B' (or 'V'), got {mask_type!r}")
    kh, kw = kernel_size
    if kh % 2 == 0 or kw % 2 == 0:
        raise ValueError(f"a causal mask needs an odd kernel size (a centre), got {kernel_size}")
    mask = np.zeros((kh, kw))
    mask[:kh // 2, :] = 1
    if mask_type == "V":                      # the gated PixelCNN's vertical stack: the
        mask[kh // 2, :] = 1                  # whole centre row too (used shifted down a row)
    else:
        mask[kh // 2, :kw // 2 + (mask_type == "B")] = 1
    return np.broadcast_to(mask, (out_channels, in_channels, kh, kw)).copy()


class MaskedConv2d(Conv2d):
    """Conv2d with a causal mask of type 'A' or 'B' (see :func:`causal_conv_mask`).

    Stride 1 and padding (k - 1) / 2 by default, so the image keeps its size and pixel
    (r, c) of the output sits on pixel (r, c) of the input.
    """

    def __init__(self, in_channels, out_channels, kernel_size, mask_type="B", padding=None,
                 bias=True, device=None, dtype=None):
        kh, kw = kernel_size if isinstance(kernel_size, (tuple, list)) else (kernel_size,) * 2
        if padding is None:
            padding = (kh // 2, kw // 2)
        super().__init__(in_channels, out_channels, (kh, kw), stride=1, padding=padding,
                         bias=bias, device=device, dtype=dtype)
        self.mask_type = mask_type
        mask = causal_conv_mask(out_channels, in_channels, (kh, kw), mask_type)
        self.register_buffer("mask", backend.as_array(mask, dtype=self.weight.dtype,
                                                      like=self.weight.data))

    def forward(self, x):
        return F.conv2d(x, self.weight * self.mask, self.bias, self.stride, self.padding,
                        self.dilation, self.groups)

    def extra_repr(self):
        return super().extra_repr() + f", mask_type={self.mask_type!r}"
