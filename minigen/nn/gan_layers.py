"""The layers of the GANs beyond DCGAN (lecture L6.4), as compositions of engine ops.

    MinibatchDiscrimination   Salimans et al. 2016: D compares each sample with the batch
    MinibatchStdDev           Karras et al. 2018: the batch's standard deviation as a feature
    EqualizedLinear/Conv2d    Karras et al. 2018: weights N(0, 1), scaled by He's constant at run time
    PixelNorm                 Karras et al. 2018: each pixel's feature vector to unit length
    AdaIN                     Karras et al. 2019: instance norm, then a scale and bias from the style w
    NoiseInjection            Karras et al. 2019: per-pixel noise with learned per-channel scales

Every forward is built from engine ops, so gradients (and gradients of gradients, as
WGAN-GP needs) come from the ops' own backward rules; tests/nn/test_gan_layers.py
checks them to first and second order.
"""
import math

from minigen.creation import randn
from minigen import functional as F
from minigen.function import ShapeError
from minigen.nn import init
from minigen.nn._factory import empty_parameter, pair
from minigen.nn.module import Module
from minigen.ops import broadcast_to, concatenate, exp


class MinibatchDiscrimination(Module):
    """Salimans et al. 2016, section 3.2: features that say how close a sample is to the others.

    For f(x_i) in R^A (the input row) and a learned tensor T in R^{A x B x C}:

        M_i = f(x_i) T                                  (B rows of C numbers)
        c_b(x_i, x_j) = exp(-||M_{i,b} - M_{j,b}||_1)   (L1 distance across the batch)
        o(x_i)_b = sum_{j != i} c_b(x_i, x_j)

    and the output is [f(x_i), o(x_i)], of width A + B. A collapsed generator makes all
    o(x_i) large, which D can see and punish. The sum leaves out j = i (its term is
    always exp(0) = 1, a constant). Memory: N x N x B x C for a batch of N.
    """

    def __init__(self, in_features, out_features, kernel_dims, device=None, dtype=None):
        super().__init__()
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.kernel_dims = int(kernel_dims)
        self.T = empty_parameter((self.in_features, self.out_features * self.kernel_dims),
                                 device, dtype)
        self.reset_parameters()

    def reset_parameters(self):
        init.normal_(self.T, 0.0, 1.0 / math.sqrt(self.in_features))

    def forward(self, x):
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ShapeError(f"MinibatchDiscrimination({self.in_features}, ...) expects "
                             f"(N, {self.in_features}) input, got shape {x.shape}")
        n = x.shape[0]
        m = (x @ self.T).reshape(n, self.out_features, self.kernel_dims)       # M_i: (N, B, C)
        l1 = (m.unsqueeze(1) - m.unsqueeze(0)).abs().sum(axis=3)               # (N, N, B)
        o = exp(-l1).sum(axis=1) - 1.0                                      # drop j = i
        return concatenate([x, o], axis=1)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"kernel_dims={self.kernel_dims}")


class MinibatchStdDev(Module):
    """Karras et al. 2018, section 3: one more feature, the batch's spread.

    The batch is split into groups of G = min(group_size, N) samples (sample i goes
    to group i mod N/G, as in the paper's code). In each group, per feature (and pixel)

        s = sqrt(Var_group[x] + 1e-8)

    is averaged over features (and pixels) to one number, appended as an extra channel
    (images (N, C, H, W) -> (N, C+1, H, W), the number repeated over H x W) or an extra
    column (rows (N, F) -> (N, F+1)). A collapsed generator shows a small s.
    """

    def __init__(self, group_size=4, eps=1e-8):
        super().__init__()
        if int(group_size) < 1:
            raise ValueError(f"MinibatchStdDev: group_size must be >= 1, got {group_size}")
        self.group_size, self.eps = int(group_size), float(eps)

    def forward(self, x):
        if x.ndim not in (2, 4):
            raise ShapeError(f"MinibatchStdDev expects (N, F) or (N, C, H, W) input, got {x.shape}")
        n = x.shape[0]
        g = min(self.group_size, n)
        if n % g:
            raise ValueError(f"MinibatchStdDev: group_size {g} does not divide the batch of {n}; "
                             f"use a batch that is a multiple of {g}")
        groups = x.reshape(g, n // g, *x.shape[1:])
        std = (groups.var(axis=0, ddof=0) + self.eps).sqrt()              # (N/G, ...), biased
        s = std.reshape(n // g, -1).mean(axis=1)                           # (N/G,)
        extra_shape = (g, n // g) + (1,) + x.shape[2:]                    # one channel/column
        s = broadcast_to(s.reshape((1, n // g) + (1,) * (x.ndim - 1)), extra_shape)
        return concatenate([x, s.reshape((n, 1) + x.shape[2:])], axis=1)

    def extra_repr(self):
        return f"group_size={self.group_size}"


def he_constant(fan_in, gain=math.sqrt(2.0)):
    """He's per-layer constant gain / sqrt(fan_in) (gain sqrt(2) for (leaky) ReLU layers)."""
    return gain / math.sqrt(fan_in)


class EqualizedLinear(Module):
    """Karras et al. 2018, section 4.1, equalized learning rate: y = x (c W)^T + b.

    W is stored N(0, 1 / lr_multiplier^2) and multiplied at run time by
    c = lr_multiplier * gain / sqrt(in_features), so every layer's weights move at the
    same speed under Adam (whose steps do not depend on the gradient's scale).
    lr_multiplier < 1 slows a layer down (StyleGAN's mapping network: 0.01); the bias
    is stored divided by it too. gain=1 for output layers, sqrt(2) before a ReLU.
    """

    def __init__(self, in_features, out_features, bias=True, gain=math.sqrt(2.0),
                 lr_multiplier=1.0, bias_init=0.0, device=None, dtype=None):
        super().__init__()
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.gain, self.lr_multiplier, self.bias_init = float(gain), float(lr_multiplier), float(bias_init)
        self.scale = self.lr_multiplier * he_constant(self.in_features, self.gain)
        self.weight = empty_parameter((self.out_features, self.in_features), device, dtype)
        self.bias = empty_parameter((self.out_features,), device, dtype) if bias else None
        self.reset_parameters()

    def reset_parameters(self):
        init.normal_(self.weight, 0.0, 1.0 / self.lr_multiplier)
        if self.bias is not None:
            init.constant_(self.bias, self.bias_init / self.lr_multiplier)

    def forward(self, x):
        bias = None if self.bias is None else self.bias * self.lr_multiplier
        return F.linear(x, self.weight * self.scale, bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}, scale={self.scale:.4g}")


class EqualizedConv2d(Module):
    """Karras et al. 2018, equalized learning rate for a convolution: y = conv(x, c W) + b,
    W stored N(0, 1), c = gain / sqrt(in_channels * kh * kw) applied at run time; b starts at 0."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True,
                 gain=math.sqrt(2.0), device=None, dtype=None):
        super().__init__()
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = pair(kernel_size, "kernel_size")
        self.stride, self.padding = pair(stride, "stride"), pair(padding, "padding")
        self.gain = float(gain)
        fan_in = self.in_channels * self.kernel_size[0] * self.kernel_size[1]
        self.scale = he_constant(fan_in, self.gain)
        self.weight = empty_parameter((self.out_channels, self.in_channels) + self.kernel_size,
                                      device, dtype)
        self.bias = empty_parameter((self.out_channels,), device, dtype) if bias else None
        self.reset_parameters()

    def reset_parameters(self):
        init.normal_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, x):
        return F.conv2d(x, self.weight * self.scale, self.bias, self.stride, self.padding)

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}, scale={self.scale:.4g}")


class PixelNorm(Module):
    """Karras et al. 2018, section 4.2: b_{x,y} = a_{x,y} / sqrt(mean_c (a_{x,y,c})^2 + eps).

    Normalises the feature vector of each pixel (axis 1) to unit root-mean-square; on
    (N, F) rows it normalises each row (StyleGAN does this to z before the mapping)."""

    def __init__(self, eps=1e-8):
        super().__init__()
        self.eps = float(eps)

    def forward(self, x):
        if x.ndim < 2:
            raise ShapeError(f"PixelNorm expects (N, C, ...) input, got shape {x.shape}")
        return x / ((x * x).mean(axis=1, keepdims=True) + self.eps).sqrt()


class AdaIN(Module):
    """Karras et al. 2019, adaptive instance normalisation:

        AdaIN(x_i, w) = y_{s,i} (x_i - mu(x_i)) / sigma(x_i) + y_{b,i},   (y_s, y_b) = A w

    x: (N, C, H, W) feature maps, w: (N, style_dim) styles; A is a learned affine map
    (an EqualizedLinear, gain 1) whose bias starts at y_s = 1, y_b = 0. With w = 0 the
    layer is an instance norm whose weight and bias are A's bias (a plain one when fresh).
    """

    def __init__(self, num_features, style_dim, eps=1e-5, device=None, dtype=None):
        super().__init__()
        self.num_features, self.style_dim, self.eps = int(num_features), int(style_dim), float(eps)
        self.affine = EqualizedLinear(self.style_dim, 2 * self.num_features, gain=1.0,
                                      device=device, dtype=dtype)
        self.affine.bias.data[: self.num_features] = 1.0        # y_s starts at 1, y_b at 0

    def forward(self, x, w):
        c = self.num_features
        if x.ndim != 4 or x.shape[1] != c:
            raise ShapeError(f"AdaIN({c}, ...) expects (N, {c}, H, W) features, got shape {x.shape}")
        if w.ndim != 2 or w.shape != (x.shape[0], self.style_dim):
            raise ShapeError(f"AdaIN(..., {self.style_dim}) expects styles of shape "
                             f"({x.shape[0]}, {self.style_dim}), got {w.shape}")
        style = self.affine(w).reshape(x.shape[0], 2 * c, 1, 1)
        scale, bias = style[:, :c], style[:, c:]
        return F.instance_norm(x, eps=self.eps) * scale + bias

    def extra_repr(self):
        return f"{self.num_features}, style_dim={self.style_dim}"


class NoiseInjection(Module):
    """Karras et al. 2019: x + B * noise, one N(0, 1) noise image per sample (shared by the
    channels), scaled by a learned weight per channel (B, starting at 0: the generator
    learns how much stochastic detail each channel gets). Pass `noise` of shape
    (N, 1, H, W) to fix it (tests, figures); otherwise it is drawn from minigen's seeded RNG."""

    def __init__(self, num_channels, device=None, dtype=None):
        super().__init__()
        self.num_channels = int(num_channels)
        self.weight = empty_parameter((self.num_channels,), device, dtype)

    def forward(self, x, noise=None):
        if x.ndim != 4 or x.shape[1] != self.num_channels:
            raise ShapeError(f"NoiseInjection({self.num_channels}) expects (N, {self.num_channels}, "
                             f"H, W) input, got shape {x.shape}")
        n, _, h, w = x.shape
        if noise is None:
            noise = randn(n, 1, h, w, dtype=x.dtype, device=x.device)
        elif tuple(noise.shape) != (n, 1, h, w):
            raise ShapeError(f"NoiseInjection: noise must have shape {(n, 1, h, w)}, got {noise.shape}")
        return x + self.weight.reshape(1, self.num_channels, 1, 1) * noise

    def extra_repr(self):
        return f"{self.num_channels}"
