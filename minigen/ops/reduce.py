"""Reductions over axes: sum, mean, var, max/min, logsumexp, softmax, log_softmax.

A reduction's gradient has the reduced shape; `_expand` puts the reduced axes back
(size 1) and broadcasts to the input's shape, so every input element receives the
gradient of the value it contributed to.
"""
import builtins

import numpy as np

from minigen import backend
from minigen.function import Function, ShapeError, user_line
from minigen.tensor import Tensor
from minigen.ops.shape import broadcast_to, reshape
from minigen.ops.elementwise import constant, exp


def _axes(axis, ndim, op):
    """axis (None, int or tuple) as a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    for a in axes:
        if not -ndim <= a < builtins.max(ndim, 1):
            raise ShapeError(f"{op}: axis {a} is out of range for a tensor with {ndim} dims "
                             f"at {user_line()}")
    return tuple(sorted(int(a) % builtins.max(ndim, 1) for a in axes))


def _kept_shape(shape, axes):
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _expand(gy, x_shape, axes):
    """Bring a gradient of the reduced shape back to x's shape (keepdims, then broadcast)."""
    return broadcast_to(reshape(gy, _kept_shape(x_shape, axes)), x_shape)


def _count(shape, axes):
    return int(np.prod([shape[a] for a in axes])) if axes else 1


class Sum(Function):
    """y = sum of x over `axes`.   gx = gy broadcast back over those axes."""

    def __init__(self, axes, keepdims):
        self.axes, self.keepdims = axes, keepdims

    def forward(self, x):
        return x.sum(axis=self.axes, keepdims=self.keepdims)

    def backward(self, gy):
        return _expand(gy, self.inputs[0].shape, self.axes)


class Mean(Function):
    """y = mean of x over `axes` (n elements each).   gx = gy / n broadcast back."""

    def __init__(self, axes, keepdims):
        self.axes, self.keepdims = axes, keepdims

    def forward(self, x):
        return x.mean(axis=self.axes, keepdims=self.keepdims)

    def backward(self, gy):
        x, = self.inputs
        return _expand(gy, x.shape, self.axes) * (1.0 / _count(x.shape, self.axes))


class Var(Function):
    """y = sum((x - mean)^2) / (n - ddof).   gx = gy * 2 (x - mean) / (n - ddof).

    (The mean's own dependence on x drops out, since sum(x - mean) = 0.)
    """

    def __init__(self, axes, keepdims, ddof):
        self.axes, self.keepdims, self.ddof = axes, keepdims, ddof

    def forward(self, x):
        return x.var(axis=self.axes, keepdims=self.keepdims, ddof=self.ddof)

    def backward(self, gy):
        x, = self.inputs
        centred = x - mean(x, self.axes, keepdims=True)
        scale = 2.0 / (_count(x.shape, self.axes) - self.ddof)
        return _expand(gy, x.shape, self.axes) * centred * scale


class _Extreme(Function):
    """Shared by Max and Min: gx = gy at the positions of the extreme value.

    Ties share the gradient equally (each of k tied positions receives gy / k).
    """

    def __init__(self, axes, keepdims):
        self.axes, self.keepdims = axes, keepdims

    def backward(self, gy):
        x = self.inputs[0]
        xp = backend.get_array_module(x.data)
        extreme = self.reduce(x.data, axis=self.axes, keepdims=True)
        mask = (x.data == extreme)
        share = mask / mask.sum(axis=self.axes, keepdims=True)
        return _expand(gy, x.shape, self.axes) * constant(xp.asarray(share), x)


class Max(_Extreme):
    """y = max of x over `axes`.   gx = gy where x is the maximum (ties share)."""

    reduce = staticmethod(lambda a, **kw: a.max(**kw))

    def forward(self, x):
        return x.max(axis=self.axes, keepdims=self.keepdims)


class Min(_Extreme):
    """y = min of x over `axes`.   gx = gy where x is the minimum (ties share)."""

    reduce = staticmethod(lambda a, **kw: a.min(**kw))

    def forward(self, x):
        return x.min(axis=self.axes, keepdims=self.keepdims)


class LogSumExp(Function):
    """y = log(sum(exp(x))) over `axes`, computed as m + log(sum(exp(x - m))) with m = max x.

    gx = gy * exp(x - y)   (that is, gy times the softmax of x).
    """

    def __init__(self, axes, keepdims):
        self.axes, self.keepdims = axes, keepdims

    def forward(self, x):
        xp = backend.get_array_module(x)
        m = x.max(axis=self.axes, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)   # all -inf along an axis: avoid inf - inf
        y = xp.log(xp.exp(x - m).sum(axis=self.axes, keepdims=True)) + m
        return y if self.keepdims else y.reshape([n for i, n in enumerate(x.shape) if i not in self.axes])

    def backward(self, gy):
        x, = self.inputs
        y = _expand(self.output(), x.shape, self.axes)
        return _expand(gy, x.shape, self.axes) * exp(x - y)


class Softmax(Function):
    """y = exp(x) / sum(exp(x)) along `axis`.   gx = y * (gy - sum(gy * y))."""

    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        xp = backend.get_array_module(x)
        e = xp.exp(x - x.max(axis=self.axis, keepdims=True))
        return e / e.sum(axis=self.axis, keepdims=True)

    def backward(self, gy):
        y = self.output()
        return y * (gy - sum(gy * y, self.axis, keepdims=True))


class LogSoftmax(Function):
    """y = x - logsumexp(x) along `axis`.   gx = gy - exp(y) * sum(gy)."""

    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        xp = backend.get_array_module(x)
        shifted = x - x.max(axis=self.axis, keepdims=True)
        return shifted - xp.log(xp.exp(shifted).sum(axis=self.axis, keepdims=True))

    def backward(self, gy):
        y = self.output()
        return gy - exp(y) * sum(gy, self.axis, keepdims=True)


# ------------------------------------------------------------------ functions
def _reduce(cls, name, x, axis, keepdims, *extra):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: expected a Tensor, got {type(x).__name__}")
    axes = _axes(axis, x.ndim, name)
    return cls(axes, keepdims, *extra)(x)


def sum(x, axis=None, keepdims=False):
    return _reduce(Sum, "sum", x, axis, keepdims)


def mean(x, axis=None, keepdims=False):
    return _reduce(Mean, "mean", x, axis, keepdims)


def var(x, axis=None, keepdims=False, ddof=0):
    """Variance with NumPy's `ddof` (0: biased, 1: unbiased; PyTorch's default is 1)."""
    return _reduce(Var, "var", x, axis, keepdims, ddof)


def std(x, axis=None, keepdims=False, ddof=0):
    """Standard deviation = sqrt(var); its gradient follows from Var and Sqrt."""
    from minigen.ops.elementwise import sqrt
    return sqrt(var(x, axis, keepdims, ddof))


def max(x, axis=None, keepdims=False):
    return _reduce(Max, "max", x, axis, keepdims)


def min(x, axis=None, keepdims=False):
    return _reduce(Min, "min", x, axis, keepdims)


def logsumexp(x, axis=None, keepdims=False):
    return _reduce(LogSumExp, "logsumexp", x, axis, keepdims)


def softmax(x, axis=-1):
    axis = _axes(axis, x.ndim, "softmax")[0]
    return Softmax(axis)(x)


def log_softmax(x, axis=-1):
    axis = _axes(axis, x.ndim, "log_softmax")[0]
    return LogSoftmax(axis)(x)
