"""Normalisation: batch norm (kernels), group / instance norm (batch norm of the groups as
rows), layer norm (engine ops), dropout.

Batch norm in training mode normalises each channel with the statistics of the batch:

    mean = E[x],  invstd = 1 / sqrt(Var[x] + eps),  xhat = (x - mean) invstd,
    y = gamma xhat + beta                      (E, Var over every axis but the channel)

Its backward, with m values per channel and sums over the same axes, is

    gbeta  = sum(gy)
    ggamma = sum(gy xhat)
    gx     = gamma invstd / m (m gy - gbeta - xhat ggamma)

Forward and backward each run as one kernel (`kernels.batchnorm_*`). The backward is a
Function of its own, BatchNormGrad, whose derivative is obtained by differentiating the
formula above written in engine ops: that is how double backward through batch norm
(a gradient penalty on a discriminator with batch norm) stays exact.
"""

import kernels

from minigen import backend

from minigen.autograd import differentiate_formula

from minigen.function import Function, ShapeError, user_line

from minigen.tensor import Tensor

from minigen.ops.elementwise import sqrt

from minigen.ops import reduce
from minigen.ops.reduce import mean, var

from minigen.ops.shape import reshape


def _channel_axes(ndim):
    return (0,) + tuple(range(2, ndim))


def _per_channel(t, ndim):
    """(C,) -> (1, C, 1, ...) so that it broadcasts against (N, C, ...)."""
    return reshape(t, (1, -1) + (1,) * (ndim - 2))


def _array(t):
    """The array of a Tensor (running statistics may be given as either)."""
    return t.data if isinstance(t, Tensor) else t


class BatchNorm(Function):
    """Training-mode batch norm, y = gamma (x - mean) invstd + beta (see the module docstring)."""

    def __init__(self, eps):
        self.eps = eps

    def forward(self, x, gamma, beta):
        y, mean, invstd = kernels.batchnorm_forward_train(x, gamma, beta, self.eps)
        self.save_for_backward(mean, invstd)         # two numbers a channel, not a full-size array
        return y

    def backward(self, gy):
        x, gamma, _ = self.inputs
        mean, invstd = self.saved
        return BatchNormGrad(self.eps, mean, invstd)(gy, x, gamma)


class BatchNormGrad(Function):
    """(gx, ggamma, gbeta) of training-mode batch norm, from (gy, x, gamma) in one kernel.

    Its own backward differentiates `formula` (the same three expressions in engine ops).
    """

    def __init__(self, eps, mean, invstd):
        self.eps, self.mean, self.invstd = eps, mean, invstd

    def forward(self, gy, x, gamma):
        return kernels.batchnorm_backward(gy, x, gamma, self.mean, self.invstd)

    def formula(self, gy, x, gamma):
        axes, ndim = _channel_axes(x.ndim), x.ndim
        m = x.numel() // x.shape[1]
        centred = x - mean(x, axes, keepdims=True)
        invstd = 1.0 / sqrt(var(x, axes, keepdims=True, correction=0) + self.eps)
        xhat = centred * invstd
        gbeta = reduce.sum(gy, axes)
        ggamma = reduce.sum(gy * xhat, axes)
        gx = (_per_channel(gamma, ndim) * invstd * (1.0 / m)) * (
            gy * float(m) - _per_channel(gbeta, ndim) - xhat * _per_channel(ggamma, ndim))
        return gx, ggamma, gbeta

    def backward(self, ggx, gggamma, ggbeta):
        return differentiate_formula(self.formula, self.inputs, (ggx, gggamma, ggbeta))


class BatchNormEval(Function):
    """Eval-mode batch norm with fixed running statistics (a per-channel affine map):

    y = gamma (x - running_mean) s + beta,  s = 1 / sqrt(running_var + eps).
    gx = gy gamma s,  ggamma = sum(gy (x - running_mean) s),  gbeta = sum(gy).
    """

    def __init__(self, running_mean, running_var, eps):
        self.running_mean, self.running_var, self.eps = running_mean, running_var, eps

    def forward(self, x, gamma, beta):
        return kernels.batchnorm_forward_eval(x, gamma, beta, self.running_mean, self.running_var, self.eps)

    def backward(self, gy):
        x, gamma, _ = self.inputs
        xp = backend.get_array_module(x.data)
        scale = Tensor((1.0 / xp.sqrt(self.running_var + self.eps)).astype(x.dtype))
        shift = Tensor(self.running_mean.astype(x.dtype))
        axes, ndim = _channel_axes(x.ndim), x.ndim
        gx = gy * _per_channel(gamma * scale, ndim)
        ggamma = reduce.sum(gy * (x - _per_channel(shift, ndim)), axes) * scale
        return gx, ggamma, reduce.sum(gy, axes)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """y = (x - mean) / sqrt(var + eps) * weight + bias, per channel (batch statistics in training,
    the running ones in eval).

    dy/dx (training) = weight invstd (gy - mean(gy) - xhat mean(gy xhat)) per channel;
    dy/dweight = sum(gy xhat), dy/dbias = sum(gy).

    torch.nn.functional.batch_norm for (N, C) or (N, C, ...) input.

    training=True normalises with batch statistics and, when running_mean/running_var
    arrays are given, updates them in place:  r <- (1 - momentum) r + momentum * stat
    (the running variance uses the unbiased batch variance, as PyTorch does).
    training=False uses the running statistics.
    """
    if input.ndim < 2:
        raise ShapeError(f"batch_norm: input must be (N, C, ...), got shape {input.shape} at {user_line()}")
    channels = input.shape[1]
    xp = backend.get_array_module(input.data)
    weight = weight if weight is not None else Tensor(xp.ones(channels, dtype=input.dtype))
    bias = bias if bias is not None else Tensor(xp.zeros(channels, dtype=input.dtype))
    for name, t in (("weight", weight), ("bias", bias), ("running_mean", running_mean),
                    ("running_var", running_var)):
        if t is not None and tuple(t.shape) != (channels,):
            raise ShapeError(f"batch_norm: {name} of shape {tuple(t.shape)} does not match the "
                             f"{channels} channels of input {input.shape} at {user_line()}")
    if not training:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: training=False needs running_mean and running_var")
        return BatchNormEval(_array(running_mean), _array(running_var), eps)(input, weight, bias)
    m = input.numel() // channels
    if m < 2:
        raise ValueError(f"batch_norm: training needs more than one value per channel, got input "
                         f"of shape {input.shape}")
    fn = BatchNorm(eps)
    y = fn(input, weight, bias)
    if running_mean is not None and running_var is not None:
        batch_mean, invstd = fn.saved
        batch_var = 1.0 / invstd.astype(xp.float64) ** 2 - eps
        unbiased = batch_var * (m / (m - 1))
        _array(running_mean)[...] = (1 - momentum) * _array(running_mean) + momentum * batch_mean
        _array(running_var)[...] = (1 - momentum) * _array(running_var) + momentum * unbiased
    return y


def _normalize(x, axes, eps):
    """(x - mean) / sqrt(var + eps) over `axes`, in engine ops (gradients follow)."""
    centred = x - mean(x, axes, keepdims=True)
    return centred / sqrt(var(x, axes, keepdims=True, correction=0) + eps)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """y = (x - mean) / sqrt(var + eps) * weight + bias over the last dims (normalized_shape).

    dy/dx = invstd (g - mean(g) - xhat mean(g xhat)), g = gy weight, means over the last dims;
    dy/dweight = sum(gy xhat), dy/dbias = sum(gy).

    Built from engine ops (mean, var, sqrt, div), which give that derivative and the next.

    torch.nn.functional.layer_norm: normalise over the last len(normalized_shape) axes."""
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(normalized_shape)
    if input.shape[input.ndim - k:] != normalized_shape:
        raise ShapeError(f"layer_norm: input of shape {input.shape} does not end in "
                         f"normalized_shape {normalized_shape} at {user_line()}")
    y = _normalize(input, tuple(range(input.ndim - k, input.ndim)), eps)
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """y = (x - mean) / sqrt(var + eps) * weight + bias, statistics per sample and group of channels.

    dy/dx = invstd (g - mean(g) - xhat mean(g xhat)), g = gy weight, means over each group;
    dy/dweight = sum(gy xhat), dy/dbias = sum(gy).

    That is batch norm's derivative (BatchNorm, BatchNormGrad) on the (1, N*groups, -1) view,
    followed by the per-channel affine map.

    torch.nn.functional.group_norm: statistics over each group of C / num_groups channels."""
    n, c = input.shape[:2]
    if c % num_groups:
        raise ShapeError(f"group_norm: {c} channels are not divisible by num_groups={num_groups} "
                         f"at {user_line()}")
    rows = reshape(input, (1, n * num_groups, -1))      # one row per (sample, group)
    if rows.shape[2] >= 2:
        # Training-mode batch norm of the rows, each row a "channel": the same statistics,
        # in one kernel, keeping only x and two numbers a row for backward (the
        # composition below kept ~3 full-size arrays per layer: 3x a U-Net's peak memory).
        xp = backend.get_array_module(input.data)
        ones = Tensor(xp.ones(rows.shape[1], dtype=input.dtype))
        zeros = Tensor(xp.zeros(rows.shape[1], dtype=input.dtype))
        y = BatchNorm(eps)(rows, ones, zeros)
    else:                                               # one value a group: y = 0
        y = _normalize(rows, (2,), eps)
    y = reshape(y, input.shape)
    if weight is not None:
        y = y * _per_channel(weight, input.ndim)
    if bias is not None:
        y = y + _per_channel(bias, input.ndim)
    return y


def instance_norm(input, weight=None, bias=None, eps=1e-5):
    """y = (x - mean) / sqrt(var + eps) (* weight + bias), statistics per sample and channel.

    dy/dx = invstd (g - mean(g) - xhat mean(g xhat)), g = gy weight, means over each (n, c) plane;
    dy/dweight = sum(gy xhat), dy/dbias = sum(gy)  (group_norm with one channel a group).

    torch.nn.functional.instance_norm (no running statistics): group norm with one channel per group."""
    if input.ndim < 3:
        raise ShapeError(f"instance_norm: input must be (N, C, ...) with spatial axes, got {input.shape}")
    return group_norm(input, input.shape[1], weight, bias, eps)


def dropout(input, p=0.5, training=True):
    """y = x * mask / (1 - p) in training (mask ~ Bernoulli(1 - p)), y = x in eval.

    dy/dx = mask / (1 - p).

    Zero each value with probability p and scale the rest by 1 / (1 - p) (identity when not training).

    The mask is drawn from minigen's seeded generator, so seeded runs repeat exactly.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    gen = backend.generator(input.device)
    keep = gen.random(input.shape, dtype=input.dtype) >= p
    return input * Tensor(keep.astype(input.dtype) * input.dtype.type(1.0 / (1.0 - p)))


# ------------------------------------------------------------------------ cases
# Checked forward (against NumPy), first and second order by the test-suite; collected
# by minigen/op_cases.py.
import numpy as np  # noqa: E402

from minigen.op_cases import OpCase  # noqa: E402


def _dropout(x):
    backend.manual_seed(3)   # the same mask at every evaluation
    return dropout(x, p=0.4, training=True)


def _batch_norm_train(x, w, b):
    return batch_norm(x, None, None, w, b, training=True)


_RUNNING_MEAN, _RUNNING_VAR = np.array([0.1, -0.2, 0.3]), np.array([0.5, 1.5, 2.0])


def _batch_norm_eval(x, w, b):
    return batch_norm(x, _RUNNING_MEAN, _RUNNING_VAR, w, b, training=False)


def _np_normalize(x, axes, eps=1e-5):
    return (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(x.var(axis=axes, keepdims=True) + eps)


def _np_channel(v, ndim):
    return v.reshape((1, -1) + (1,) * (ndim - 2))


def _np_batch_norm_train(x, w, b):
    axes = (0,) + tuple(range(2, x.ndim))
    return _np_normalize(x, axes) * _np_channel(w, x.ndim) + _np_channel(b, x.ndim)


def _np_batch_norm_eval(x, w, b):
    xhat = (x - _np_channel(_RUNNING_MEAN, x.ndim)) / np.sqrt(_np_channel(_RUNNING_VAR, x.ndim) + 1e-5)
    return xhat * _np_channel(w, x.ndim) + _np_channel(b, x.ndim)


def _np_group_norm(x, groups, w, b):
    n, c = x.shape[:2]
    xhat = _np_normalize(x.reshape(n, groups, -1), (2,)).reshape(x.shape)
    return xhat * _np_channel(w, x.ndim) + _np_channel(b, x.ndim)


CASES = [
    OpCase("batch_norm (training, 4-D)", _batch_norm_train, [(4, 3, 2, 2), (3,), (3,)],
           reference=_np_batch_norm_train),
    OpCase("batch_norm (training, 2-D)", _batch_norm_train, [(5, 3), (3,), (3,)], reference=_np_batch_norm_train),
    OpCase("batch_norm (eval)", _batch_norm_eval, [(2, 3, 2, 2), (3,), (3,)], reference=_np_batch_norm_eval),
    OpCase("layer_norm", lambda x, w, b: layer_norm(x, (4,), w, b), [(3, 4), (4,), (4,)],
           reference=lambda x, w, b: _np_normalize(x, (1,)) * w + b),
    OpCase("group_norm", lambda x, w, b: group_norm(x, 2, w, b), [(2, 4, 2, 2), (4,), (4,)],
           reference=lambda x, w, b: _np_group_norm(x, 2, w, b)),
    OpCase("group_norm (2-D, 3 channels a group)", lambda x, w, b: group_norm(x, 2, w, b),
           [(3, 6), (6,), (6,)], reference=lambda x, w, b: _np_group_norm(x, 2, w, b)),
    OpCase("group_norm (one value a group: y = bias)", lambda x, w, b: group_norm(x, 3, w, b),
           [(2, 3), (3,), (3,)], reference=lambda x, w, b: 0 * x + b),
    OpCase("instance_norm", lambda x: instance_norm(x), [(2, 2, 3, 2)], reference=lambda x: _np_normalize(x, (2, 3))),
    OpCase("dropout", _dropout, [(4, 5)]),
]
