"""2-D convolution and its two adjoints, as three Functions that differentiate each other.

Write y = B(x, W) for the convolution (cross-correlation, as in PyTorch):

    y[n, o, i, j] = sum_{c, p, q} x[n, c, i*s + p*d - pad, j*s + q*d - pad] * W[o, c, p, q]

B is linear in x and linear in W, so both partial derivatives are again linear maps:

    gx = B_x^T(gy, W)  = conv_transpose2d(gy, W)       -> Function ConvTranspose2d
    gW = B_W^T(x, gy)                                 -> Function Conv2dGradWeight

and the derivatives of those are convolutions again:

    ConvTranspose2d(g, W):  d/dg = Conv2d(., W),          d/dW = Conv2dGradWeight(., g)
    Conv2dGradWeight(x, g): d/dx = ConvTranspose2d(g, .), d/dg = Conv2d(x, .)

So the three classes below close under differentiation, and gradients of any order
through a convolution are exact. The array work is done by `kernels` (Numba on the
CPU, Numba CUDA on the GPU, a NumPy reference).
"""

import kernels

from minigen import autograd
from minigen.function import Function, ShapeError, user_line

from minigen.ops import reduce


def _pair(v, name, op):
    if isinstance(v, int):
        return (v, v)
    v = tuple(int(a) for a in v)
    if len(v) != 2:
        raise ValueError(f"{op}: {name} must be an int or a pair, got {v}")
    return v


class _ConvParams:
    """stride, padding, dilation, groups: what all three Functions share."""

    def __init__(self, stride, padding, dilation, groups):
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, groups

    @property
    def params(self):
        return (self.stride, self.padding, self.dilation, self.groups)


def _bias_grad(gy):
    return reduce.sum(gy, axis=(0, 2, 3))


def _check_conv_inputs(op, x, w, b, groups, in_channels):
    if x.ndim != 4:
        raise ShapeError(f"{op}: input must be 4-D (N, C, H, W), got shape {x.shape} at {user_line()}")
    if w.ndim != 4:
        raise ShapeError(f"{op}: weight must be 4-D, got shape {w.shape} at {user_line()}")
    if groups < 1 or x.shape[1] % groups:
        raise ShapeError(f"{op}: {x.shape[1]} input channels are not divisible by groups={groups} "
                         f"at {user_line()}")
    if in_channels != x.shape[1]:
        raise ShapeError(f"{op}: input of shape {x.shape} has {x.shape[1]} channels but weight of "
                         f"shape {w.shape} with groups={groups} expects {in_channels} at {user_line()}")
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: input must be a float tensor, got {x.dtype}")


def conv_output_size(size, kernel, stride, padding, dilation=1):
    """The output length of conv2d along one axis (floor((size + 2 pad - d (k - 1) - 1) / s) + 1)."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


class Conv2d(_ConvParams, Function):
    """y = conv2d(x, W) + b.

    gx = conv_transpose2d(gy, W),  gW = Conv2dGradWeight(x, gy),  gb = sum of gy over n, i, j.

    With keep_columns the CPU kernel's column matrix of x (im2col) is saved for gW
    (`saved[0]`), which then skips its own im2col (set by conv2d() when W will need a
    gradient); saved[0] is None (or nothing is saved) when the kernel made none.
    """

    keep_columns = False

    def forward(self, x, w, b=None):
        if not self.keep_columns:                                    # bias added in the kernel
            return kernels.conv2d_forward(x, w, *self.params, bias=b)
        y, columns = kernels.conv2d_forward(x, w, *self.params, bias=b, keep_columns=True)
        self.save_for_backward(columns)
        return y

    def backward(self, gy):
        x, w = self.inputs[0], self.inputs[1]
        columns = self.saved[0] if self.saved else None
        gx = ConvTranspose2d(*self.params, out_shape=x.shape)(gy, w)
        gw = Conv2dGradWeight(*self.params, w_shape=w.shape, columns=columns)(x, gy)
        return (gx, gw) if len(self.inputs) == 2 else (gx, gw, _bias_grad(gy))


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """y[n, o, i, j] = sum over c, p, q of w[o, c, p, q] x[n, c, s i + d p - pad, s j + d q - pad] + b[o].

    dy/dx = conv_transpose2d(gy, w), dy/dw = the correlation of x with gy (Conv2dGradWeight),
    dy/db = sum of gy.

    torch.nn.functional.conv2d: input (N, C, H, W), weight (O, C/groups, kh, kw), bias (O,)."""
    stride, padding, dilation = (_pair(v, n, "conv2d") for v, n in
                                 ((stride, "stride"), (padding, "padding"), (dilation, "dilation")))
    _check_conv_inputs("conv2d", input, weight, bias, groups, weight.shape[1] * groups)
    if weight.shape[0] % groups:
        raise ShapeError(f"conv2d: {weight.shape[0]} output channels are not divisible by "
                         f"groups={groups} at {user_line()}")
    for axis in (0, 1):
        span = dilation[axis] * (weight.shape[2 + axis] - 1) + 1
        if input.shape[2 + axis] + 2 * padding[axis] < span:
            raise ShapeError(f"conv2d: input of shape {input.shape} (padded by {padding}) is smaller "
                             f"than the kernel {tuple(weight.shape[2:])} (dilation {dilation}) at {user_line()}")
    fn = Conv2d(stride, padding, dilation, groups)
    fn.keep_columns = autograd.is_grad_enabled() and weight.requires_grad
    return fn(input, weight) if bias is None else fn(input, weight, bias)


class ConvTranspose2d(_ConvParams, Function):
    """y = conv_transpose2d(x, W) + b: the adjoint of conv2d in its input (out_shape given).

    gx = conv2d(gy, W),  gW = Conv2dGradWeight(gy, x),  gb = sum of gy over n, i, j.
    """

    def __init__(self, stride, padding, dilation, groups, out_shape):
        super().__init__(stride, padding, dilation, groups)
        self.out_shape = tuple(out_shape)

    def forward(self, x, w, b=None):
        return kernels.conv2d_grad_input(x, w, self.out_shape, *self.params, bias=b)

    def backward(self, gy):
        x, w = self.inputs[0], self.inputs[1]
        gx = Conv2d(*self.params)(gy, w)
        gw = Conv2dGradWeight(*self.params, w_shape=w.shape)(gy, x)
        return (gx, gw) if len(self.inputs) == 2 else (gx, gw, _bias_grad(gy))


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """y = the transpose (adjoint) of conv2d applied to x: each input pixel adds w times itself to its window.

    dy/dx = conv2d(gy, w), dy/dw = the correlation of gy with x (Conv2dGradWeight), dy/db = sum of gy.

    torch.nn.functional.conv_transpose2d: weight (C_in, C_out/groups, kh, kw).

    Output size: (H - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1.
    """
    stride, padding, dilation, output_padding = (
        _pair(v, n, "conv_transpose2d") for v, n in
        ((stride, "stride"), (padding, "padding"), (dilation, "dilation"), (output_padding, "output_padding")))
    _check_conv_inputs("conv_transpose2d", input, weight, bias, groups, weight.shape[0])
    for axis in (0, 1):
        if output_padding[axis] >= max(stride[axis], dilation[axis]):
            raise ValueError(f"conv_transpose2d: output_padding {output_padding} must be smaller than "
                             f"stride {stride} or dilation {dilation}")
    out_hw = tuple((input.shape[2 + a] - 1) * stride[a] - 2 * padding[a]
                   + dilation[a] * (weight.shape[2 + a] - 1) + output_padding[a] + 1 for a in (0, 1))
    if min(out_hw) < 1:
        raise ShapeError(f"conv_transpose2d: output size {out_hw} is empty for input {input.shape} "
                         f"at {user_line()}")
    out_shape = (input.shape[0], weight.shape[1] * groups) + out_hw
    fn = ConvTranspose2d(stride, padding, dilation, groups, out_shape)
    return fn(input, weight) if bias is None else fn(input, weight, bias)


class Conv2dGradWeight(_ConvParams, Function):
    """gW = B_W^T(x, gy): the gradient of conv2d with respect to its weight.

    It is bilinear in (x, gy); with G the gradient arriving for gW:
    gx = conv_transpose2d(gy, G),  g_gy = conv2d(x, G).
    """

    def __init__(self, stride, padding, dilation, groups, w_shape, columns=None):
        super().__init__(stride, padding, dilation, groups)
        self.w_shape = tuple(w_shape)
        self.columns = columns                   # im2col of x from the forward, or None

    def forward(self, x, gy):
        columns, self.columns = self.columns, None       # used once, then not held
        return kernels.conv2d_grad_weight(x, gy, self.w_shape, *self.params, columns=columns)

    def backward(self, g):
        x, gy = self.inputs
        gx = ConvTranspose2d(*self.params, out_shape=x.shape)(gy, g)
        ggy = Conv2d(*self.params)(x, g)
        return gx, ggy


# ------------------------------------------------------------------------ cases
# Checked forward (against kernels/reference.py where given), first and second order
# by the test-suite; collected by minigen/op_cases.py.
from minigen.op_cases import OpCase  # noqa: E402


def _np_conv2d(x, w, b=None, **settings):
    from kernels import reference
    y = reference.conv2d_forward(x, w, **settings)
    return y if b is None else y + b.reshape(1, -1, 1, 1)


CASES = [
    OpCase("conv2d (stride 2, pad 1, bias)",
           lambda x, w, b: conv2d(x, w, b, stride=2, padding=1), [(2, 3, 5, 5), (4, 3, 3, 3), (4,)],
           reference=lambda x, w, b: _np_conv2d(x, w, b, stride=2, padding=1)),
    OpCase("conv2d (dilation 2, groups 2)",
           lambda x, w: conv2d(x, w, dilation=2, groups=2, padding=(1, 2)), [(1, 4, 5, 6), (2, 2, 2, 3)],
           reference=lambda x, w: _np_conv2d(x, w, dilation=2, groups=2, padding=(1, 2))),
    OpCase("conv_transpose2d (stride 2, output_padding 1)",
           lambda x, w, b: conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
           [(2, 3, 3, 3), (3, 2, 3, 3), (2,)]),
    OpCase("conv_transpose2d (groups 2, dilation 2)",
           lambda x, w: conv_transpose2d(x, w, groups=2, dilation=2), [(1, 4, 3, 2), (4, 1, 2, 2)]),
]
