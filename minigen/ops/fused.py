"""Fused ops: a layer and the (leaky) ReLU after it in one kernel pass.

    conv2d_leaky_relu(x, W, b)         = leaky_relu(conv2d(x, W, b))
    batch_norm_leaky_relu(x, ..., s)   = leaky_relu(batch_norm(x, ...))

Same values as the two ops one after the other (the kernels apply the activation while
they write the layer's output, so the output is written and read once instead of twice).

Each is exactly differentiable to any order. With z the layer's output before the
activation and s >= 0 the negative slope, y = z if z > 0 else s z, so

    gz = gy * m,   m = 1 where y > 0, s elsewhere      (y > 0 exactly where z > 0)

m is piecewise constant: its own derivative is zero wherever it is defined, so the
backward is "multiply by a constant mask, then the layer's own backward" — built from
Functions (Mul, ConvTranspose2d, Conv2dGradWeight, BatchNormGrad) that differentiate
again. A negative slope would break "y > 0 exactly where z > 0"; it is refused.
"""
import kernels

from minigen import autograd, backend
from minigen.function import Function, ShapeError, user_line
from minigen.ops.conv import Conv2d, _check_conv_inputs, _pair
from minigen.ops.elementwise import constant, leaky_relu
from minigen.ops.norm import BatchNormGrad, batch_norm
from minigen.tensor import Tensor


def _slope_mask(positive, slope, like):
    """m = 1 where y > 0, slope elsewhere, as a constant Tensor of like's dtype. The node
    keeps only the boolean y > 0 (1 byte a value, not 4 or 8) until its backward."""
    xp = backend.get_array_module(positive)
    # max(positive, slope) = 1 or slope exactly (0 <= slope <= 1), without np.where's
    # branch per value (it mispredicts on mixed signs: ~20x slower here)
    if slope <= 1.0:
        return constant(xp.maximum(positive.astype(like.dtype), like.dtype.type(slope)), like)
    return constant(xp.where(positive, 1.0, slope), like)


def _check_slope(op, negative_slope):
    slope = float(negative_slope)
    if not slope >= 0.0:
        raise ValueError(f"{op}: the fused op needs negative_slope >= 0, got {negative_slope} "
                         f"(use the unfused ops for a negative slope)")
    return slope


class Conv2dLeakyReLU(Conv2d):
    """y = leaky_relu(conv2d(x, W) + b, s), bias and activation in the kernel's write-back.

    gz = gy * m (m: 1 where y > 0, s elsewhere), then Conv2d's backward on gz:
    gx = conv_transpose2d(gz, W),  gW = Conv2dGradWeight(x, gz),  gb = sum of gz.
    """

    def __init__(self, stride, padding, dilation, groups, negative_slope):
        super().__init__(stride, padding, dilation, groups)
        self.slope = negative_slope

    def forward(self, x, w, b=None):
        out = kernels.conv2d_forward(x, w, *self.params, bias=b, negative_slope=self.slope,
                                     keep_columns=self.keep_columns)
        y, columns = out if self.keep_columns else (out, None)
        self.save_for_backward(columns, y > 0)       # saved[0] is what Conv2d's backward reads
        return y

    def backward(self, gy):
        positive = self.saved[1]
        return super().backward(gy * _slope_mask(positive, self.slope, gy))


class BatchNormLeakyReLU(Function):
    """Training-mode y = leaky_relu(batch_norm(x, gamma, beta), s) in one kernel pass.

    gz = gy * m (m: 1 where y > 0, s elsewhere); (gx, ggamma, gbeta) = BatchNormGrad(gz, x, gamma).
    """

    def __init__(self, eps, negative_slope):
        self.eps, self.slope = eps, negative_slope

    def forward(self, x, gamma, beta):
        y, mean, invstd = kernels.batchnorm_forward_train(x, gamma, beta, self.eps,
                                                          negative_slope=self.slope)
        self.save_for_backward(mean, invstd, y > 0)
        return y

    def backward(self, gy):
        x, gamma, _ = self.inputs
        mean, invstd, positive = self.saved
        gz = gy * _slope_mask(positive, self.slope, gy)
        return BatchNormGrad(self.eps, mean, invstd)(gz, x, gamma)


# ------------------------------------------------------------------ functions
def conv2d_leaky_relu(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1,
                      negative_slope=0.01):
    """leaky_relu(conv2d(input, weight, bias, ...), negative_slope) in one pass (0.0: ReLU)."""
    op = "conv2d_leaky_relu"
    slope = _check_slope(op, negative_slope)
    stride, padding, dilation = (_pair(v, n, op) for v, n in
                                 ((stride, "stride"), (padding, "padding"), (dilation, "dilation")))
    _check_conv_inputs(op, input, weight, bias, groups, weight.shape[1] * groups)
    # (the rest of conv2d's checks -- output channels, kernel size -- the kernel makes)
    fn = Conv2dLeakyReLU(stride, padding, dilation, groups, slope)
    fn.keep_columns = autograd.is_grad_enabled() and weight.requires_grad
    return fn(input, weight) if bias is None else fn(input, weight, bias)


def batch_norm_leaky_relu(input, running_mean, running_var, weight=None, bias=None,
                          training=False, momentum=0.1, eps=1e-5, negative_slope=0.01):
    """leaky_relu(batch_norm(input, ...), negative_slope), in one kernel pass when training
    (the running statistics are updated as batch_norm does). In eval mode batch norm is a
    per-channel affine map and the two ops run one after the other."""
    slope = _check_slope("batch_norm_leaky_relu", negative_slope)
    if not training:
        return leaky_relu(batch_norm(input, running_mean, running_var, weight, bias, False,
                                     momentum, eps), slope)
    if input.ndim < 2 or input.numel() // input.shape[1] < 2:
        raise ShapeError(f"batch_norm_leaky_relu: input must be (N, C, ...) with more than one "
                         f"value per channel, got shape {input.shape} at {user_line()}")
    xp = backend.get_array_module(input.data)
    channels = input.shape[1]
    weight = weight if weight is not None else Tensor(xp.ones(channels, dtype=input.dtype))
    bias = bias if bias is not None else Tensor(xp.zeros(channels, dtype=input.dtype))
    fn = BatchNormLeakyReLU(eps, slope)
    y = fn(input, weight, bias)
    if running_mean is not None and running_var is not None:      # as batch_norm does
        m = input.numel() // channels
        batch_mean, invstd, _ = fn.saved
        unbiased = (1.0 / invstd.astype(xp.float64) ** 2 - eps) * (m / (m - 1))
        for stat, batch in ((running_mean, batch_mean), (running_var, unbiased)):
            array = stat.data if isinstance(stat, Tensor) else stat
            array[...] = (1 - momentum) * array + momentum * batch
    return y


# ------------------------------------------------------------------------ cases
# Checked first and second order by the test-suite; collected by minigen/op_cases.py.
from minigen.op_cases import OpCase  # noqa: E402

CASES = [
    OpCase("conv2d_leaky_relu (fused, stride 2, bias)",
           lambda x, w, b: conv2d_leaky_relu(x, w, b, stride=2, padding=1, negative_slope=0.2),
           [(2, 3, 5, 5), (4, 3, 3, 3), (4,)]),
    OpCase("conv2d_leaky_relu (fused relu, groups 2)",
           lambda x, w: conv2d_leaky_relu(x, w, groups=2, padding=1, negative_slope=0.0),
           [(1, 4, 4, 5), (2, 2, 3, 3)]),
    OpCase("batch_norm_leaky_relu (fused, training)",
           lambda x, w, b: batch_norm_leaky_relu(x, None, None, w, b, training=True,
                                                 negative_slope=0.2),
           [(4, 3, 2, 2), (3,), (3,)]),
]
