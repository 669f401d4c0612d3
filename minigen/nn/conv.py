"""Conv2d, ConvTranspose2d and Upsample: the image layers.

Default initialisation as in PyTorch: weight by kaiming_uniform_(a=sqrt(5)), i.e.
U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and bias from the same uniform, where fan_in is
computed from the weight's shape as `init.calculate_fan_in_and_fan_out` does:

    Conv2d           weight (out, in/groups, kh, kw)   fan_in = in/groups * kh * kw
    ConvTranspose2d  weight (in, out/groups, kh, kw)   fan_in = out/groups * kh * kw
                     (PyTorch reads dim 1 of the weight, which for a transposed conv
                      is its *output* channels; we copy that so that known
                      hyperparameters behave the same)
"""

from minigen import functional as F
from minigen.nn import init
from minigen.nn._factory import pair, register_weight_and_bias
from minigen.nn.module import Module


class _ConvNd(Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 groups, bias, weight_shape, device, dtype):
        super().__init__()
        if groups < 1 or in_channels % groups or out_channels % groups:
            raise ValueError(f"in_channels ({in_channels}) and out_channels ({out_channels}) must "
                             f"both be divisible by groups ({groups})")
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = pair(kernel_size, "kernel_size")
        self.stride = pair(stride, "stride")
        self.padding = pair(padding, "padding")
        self.dilation = pair(dilation, "dilation")
        self.groups = int(groups)
        register_weight_and_bias(self, weight_shape + self.kernel_size,
                                 (self.out_channels,) if bias else None, device, dtype)
        self.reset_parameters()

    def reset_parameters(self):
        init.linear_default_(self.weight, self.bias)

    def extra_repr(self):
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if getattr(self, "output_padding", (0, 0)) != (0, 0):
            text += f", output_padding={self.output_padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text


class Conv2d(_ConvNd):
    """2-D convolution (cross-correlation) of (N, C_in, H, W) input.

    Output size per spatial axis: (H + 2 padding - dilation (k - 1) - 1) // stride + 1.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                         bias, (out_channels, in_channels // groups), device, dtype)

    def forward(self, x):
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                        self.groups)


class ConvTranspose2d(_ConvNd):
    """Transposed 2-D convolution (the gradient of Conv2d with respect to its input).

    Output size per spatial axis:
        (H - 1) stride - 2 padding + dilation (k - 1) + output_padding + 1
    so kernel 4, stride 2, padding 1 doubles H, the usual decoder step.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                         bias, (in_channels, out_channels // groups), device, dtype)
        self.output_padding = pair(output_padding, "output_padding")

    def forward(self, x):
        return F.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding,
                                  self.output_padding, self.groups, self.dilation)


class Upsample(Module):
    """Resize images: Upsample(scale_factor=2) or Upsample(size=(H, W)); mode 'nearest'
    or 'bilinear' (see F.interpolate)."""

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None):
        super().__init__()
        if (size is None) == (scale_factor is None):
            raise ValueError("Upsample: give exactly one of size and scale_factor")
        self.size, self.scale_factor = size, scale_factor
        self.mode, self.align_corners = mode, align_corners

    def forward(self, x):
        return F.interpolate(x, size=self.size, scale_factor=self.scale_factor, mode=self.mode,
                             align_corners=self.align_corners)

    def extra_repr(self):
        what = f"size={self.size}" if self.size is not None else f"scale_factor={self.scale_factor}"
        return f"{what}, mode='{self.mode}'"
