"""Reductions over axes: sum, mean, var, max/min, logsumexp, softmax, log_softmax.

Every function takes PyTorch's `dim` / `keepdim` or NumPy's `axis` / `keepdims` (the
same meaning; `one_of` refuses both at once). Where the two libraries disagree on the
same call, PyTorch's meaning wins (the README's "PyTorch or NumPy meaning"): `var`/`std`
are unbiased unless told otherwise (`correction=0`, `unbiased=False` or NumPy's
`ddof=0`), and `max(x, dim)` / `min(x, dim)` return (values, indices); `amax` / `amin`
give the values alone.

A reduction's gradient has the reduced shape; `_expand` puts the reduced axes back
(size 1) and broadcasts to the input's shape, so every input element receives the
gradient of the value it contributed to.
"""

import builtins

from collections import namedtuple

import numpy as np

from minigen import backend

from minigen.function import Function, ShapeError, user_line

from minigen.tensor import Tensor

from minigen.ops.shape import broadcast_to, reshape, one_of

from minigen.ops import elementwise

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
    """Bring a gradient of the reduced shape back to x's shape (keepdims, then broadcast;
    reduced leading axes need no reshape: broadcasting puts them back)."""
    if gy.ndim != len(x_shape) and axes != tuple(range(len(axes))):
        gy = reshape(gy, _kept_shape(x_shape, axes))
    return broadcast_to(gy, x_shape)


def _count(shape, axes):
    return int(np.prod([shape[a] for a in axes])) if axes else 1


def _reduce(cls, name, x, axis, keepdims, *extra):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: expected a Tensor, got {type(x).__name__}")
    axes = _axes(axis, x.ndim, name)
    return cls(axes, bool(keepdims), *extra)(x)


def _correction(op, correction, unbiased, ddof, axis):
    """How many degrees of freedom var/std subtract: PyTorch's default 1 (unbiased).

    NumPy's spelling `axis=` without a correction is refused: np.var(a, axis=0) is the
    biased estimate, torch.var(x, dim=0) the unbiased one, and code written with NumPy's
    habits would otherwise change its numbers silently.
    """
    if axis is not None and correction is None and unbiased is None and ddof is None:
        raise TypeError(f"{op}(axis=...): NumPy's default is the biased estimate (ddof=0), "
                        f"PyTorch's the unbiased one (correction=1); say which: ddof=0 or "
                        f"ddof=1 (or use dim=, which means PyTorch's unbiased default)")
    if unbiased is not None:
        unbiased = int(bool(unbiased))
    return int(one_of(op, 1, correction=correction, unbiased=unbiased, ddof=ddof))


class Sum(Function):
    """y = sum of x over `axes`.   gx = gy broadcast back over those axes."""

    def __init__(self, axes, keepdims):
        self.axes, self.keepdims = axes, keepdims

    def forward(self, x):
        return x.sum(axis=self.axes, keepdims=self.keepdims)

    def backward(self, gy):
        return _expand(gy, self.inputs[0].shape, self.axes)


def sum(x, dim=None, keepdim=None, *, axis=None, keepdims=None):
    """y = sum of x over dim (all elements when None).

    dy/dx = 1 for every summed element (the gradient broadcast back).
    """
    return _reduce(Sum, "sum", x, one_of("sum", dim=dim, axis=axis),
                   one_of("sum", False, keepdim=keepdim, keepdims=keepdims))


class Mean(Function):
    """y = mean of x over `axes` (n elements each).   gx = gy / n broadcast back."""

    def __init__(self, axes, keepdims):
        self.axes, self.keepdims = axes, keepdims

    def forward(self, x):
        return x.mean(axis=self.axes, keepdims=self.keepdims)

    def backward(self, gy):
        x, = self.inputs
        return _expand(gy, x.shape, self.axes) * (1.0 / _count(x.shape, self.axes))


def mean(x, dim=None, keepdim=None, *, axis=None, keepdims=None):
    """y = mean of x over dim (n elements each).

    dy/dx = 1 / n (the gradient broadcast back).
    """
    return _reduce(Mean, "mean", x, one_of("mean", dim=dim, axis=axis),
                   one_of("mean", False, keepdim=keepdim, keepdims=keepdims))


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


def var(x, dim=None, unbiased=None, keepdim=None, *, correction=None, ddof=None, axis=None,
        keepdims=None):
    """y = sum((x - mean)^2) / (n - correction).

    dy/dx = 2 (x - mean) / (n - correction).

    Variance sum((x - mean)^2) / (n - correction), unbiased (correction=1) by default
    like torch.var; `unbiased=False`, `correction=0` or NumPy's `ddof=0` give the biased one
    (np.var's default). NumPy's `axis=` needs an explicit ddof (see `_correction`)."""
    return _reduce(Var, "var", x, one_of("var", dim=dim, axis=axis),
                   one_of("var", False, keepdim=keepdim, keepdims=keepdims),
                   _correction("var", correction, unbiased, ddof, axis))


class _Extreme(Function):
    """Shared by Max and Min: gx = gy at the positions of the extreme value.

    Ties share the gradient equally (each of k tied positions receives gy / k).
    """

    def __init__(self, axes, keepdims):
        self.axes, self.keepdims = axes, keepdims

    def forward(self, x):
        return self.reduce(x, axis=self.axes, keepdims=self.keepdims)

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


def _extreme(cls, name, x, dim, keepdim, axis, keepdims):
    from minigen.ops.elementwise import maximum, minimum
    if isinstance(dim, Tensor):     # torch.max(a, b): the elementwise maximum
        return (maximum if cls is Max else minimum)(x, dim)
    if axis is not None:    # NumPy's spelling, whose meaning differs: say which one is meant
        raise TypeError(f"{name}(axis=...): np.{name}(a, axis) gives the values, torch.{name}(x, dim) "
                        f"(values, indices); use a{name}(x, axis=...) for the values alone, or "
                        f"dim= for both")
    keep = one_of(name, False, keepdim=keepdim, keepdims=keepdims)
    if dim is None:
        return _reduce(cls, name, x, None, keep)
    if not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{name}: dim must be one int (the result has indices); for the "
                        f"values over several dims use a{name}(x, dim={dim!r})")
    values = _reduce(cls, name, x, dim, keep)
    arg = argmax if cls is Max else argmin
    return ValuesIndices(values, arg(x, dim, keep))


def max(x, dim=None, keepdim=None, *, axis=None, keepdims=None):
    """y = max of x over dim.

    dy/dx = 1 at the maximum, 0 elsewhere (k tied maxima: 1/k each).

    torch.max: max(x) is the largest value; max(x, dim) is (values, indices) along dim;
    max(x, other_tensor) is the elementwise maximum. (np.max(a, axis) is `amax`.)"""
    return _extreme(Max, "max", x, dim, keepdim, axis, keepdims)


def amax(x, dim=None, keepdim=None, *, axis=None, keepdims=None):
    """y = max of x over dim.

    dy/dx = 1 at the maximum, 0 elsewhere (k tied maxima: 1/k each).

    The largest values over `dim` (an int or a tuple), without indices (np.max)."""
    return _reduce(Max, "amax", x, one_of("amax", dim=dim, axis=axis),
                   one_of("amax", False, keepdim=keepdim, keepdims=keepdims))


class Min(_Extreme):
    """y = min of x over `axes`.   gx = gy where x is the minimum (ties share)."""

    reduce = staticmethod(lambda a, **kw: a.min(**kw))


def min(x, dim=None, keepdim=None, *, axis=None, keepdims=None):
    """y = min of x over dim.

    dy/dx = 1 at the minimum, 0 elsewhere (k tied minima: 1/k each).

    torch.min: like `max` (values and indices along a dim); np.min(a, axis) is `amin`."""
    return _extreme(Min, "min", x, dim, keepdim, axis, keepdims)


def amin(x, dim=None, keepdim=None, *, axis=None, keepdims=None):
    """y = min of x over dim.

    dy/dx = 1 at the minimum, 0 elsewhere (k tied minima: 1/k each).

    The smallest values over `dim` (an int or a tuple), without indices (np.min)."""
    return _reduce(Min, "amin", x, one_of("amin", dim=dim, axis=axis),
                   one_of("amin", False, keepdim=keepdim, keepdims=keepdims))


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


def logsumexp(x, dim=None, keepdim=None, *, axis=None, keepdims=None):
    """y = log(sum(exp(x))) over dim (computed as m + log(sum(exp(x - m))), m = max x).

    dy/dx = exp(x - y) = softmax(x).
    """
    return _reduce(LogSumExp, "logsumexp", x, one_of("logsumexp", dim=dim, axis=axis),
                   one_of("logsumexp", False, keepdim=keepdim, keepdims=keepdims))


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


def softmax(x, dim=None, *, axis=None):
    """y = exp(x) / sum(exp(x)) over dim.

    dy_i/dx_j = y_i (delta_ij - y_j); the VJP is y (gy - sum(gy y)).
    """
    axis = _axes(one_of("softmax", -1, dim=dim, axis=axis), x.ndim, "softmax")[0]
    return Softmax(axis)(x)


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


def log_softmax(x, dim=None, *, axis=None):
    """y = x - logsumexp(x) over dim.

    dy_i/dx_j = delta_ij - softmax(x)_j; the VJP is gy - softmax(x) sum(gy).
    """
    axis = _axes(one_of("log_softmax", -1, dim=dim, axis=axis), x.ndim, "log_softmax")[0]
    return LogSoftmax(axis)(x)


# --------------------------------------- composed of the ops above (derivatives follow)
def std(x, dim=None, unbiased=None, keepdim=None, *, correction=None, ddof=None, axis=None,
        keepdims=None):
    """Standard deviation = sqrt(var), unbiased by default like torch.std (see `var`);
    its gradient follows from Var and Sqrt."""
    from minigen.ops.elementwise import sqrt
    return sqrt(var(x, dim, unbiased, keepdim, correction=correction, ddof=ddof, axis=axis,
                    keepdims=keepdims))


ValuesIndices = namedtuple("ValuesIndices", ["values", "indices"])

ValuesIndices.__doc__ = "What max(x, dim) / min(x, dim) return, like torch.return_types.max."


def _arg_extreme(name, x, dim, keepdim, axis, keepdims):
    """Indices of the extreme values (an int64 tensor outside the graph)."""
    dim = one_of(name, dim=dim, axis=axis)
    keep = bool(one_of(name, False, keepdim=keepdim, keepdims=keepdims))
    if dim is not None:
        dim = _axes(dim, x.ndim, name)[0]
    data = getattr(x.data, name)(axis=dim, keepdims=keep)
    if dim is None and keep:
        data = data.reshape((1,) * x.ndim)
    return Tensor(data.astype(np.int64))


def argmax(x, dim=None, keepdim=None, *, axis=None, keepdims=None):
    """Index of the largest value along dim (of the flattened tensor when dim is None)."""
    return _arg_extreme("argmax", x, dim, keepdim, axis, keepdims)


def argmin(x, dim=None, keepdim=None, *, axis=None, keepdims=None):
    """Index of the smallest value along dim (of the flattened tensor when dim is None)."""
    return _arg_extreme("argmin", x, dim, keepdim, axis, keepdims)


def norm(x, p=2, dim=None, keepdim=False):
    """The p-norm over `dim` (all elements when None): (sum |x|^p)^(1/p); p may be 'fro'
    (= 2), inf or -inf. Built from abs, pow and sum, so its gradient follows from theirs
    (at x = 0 the 2-norm's gradient is NaN, where PyTorch gives 0)."""
    if p == "fro":
        p = 2
    if p == np.inf:
        return amax(elementwise.abs(x), dim, keepdim)
    if p == -np.inf:
        return amin(elementwise.abs(x), dim, keepdim)
    if p == 2:
        return elementwise.sqrt(sum(x * x, dim, keepdim))
    if p == 1:
        return sum(elementwise.abs(x), dim, keepdim)
    if not isinstance(p, (int, float)) or p <= 0:
        raise ValueError(f"norm: p must be a positive number, 'fro', inf or -inf; got {p!r}")
    return sum(elementwise.abs(x) ** float(p), dim, keepdim) ** (1.0 / p)


def all(x, dim=None, keepdim=False):
    """True where every element along dim is nonzero (a bool tensor outside the graph)."""
    return Tensor(x.data.all(axis=dim if dim is None else _axes(dim, x.ndim, "all"), keepdims=keepdim))


def any(x, dim=None, keepdim=False):
    """True where some element along dim is nonzero (a bool tensor outside the graph)."""
    return Tensor(x.data.any(axis=dim if dim is None else _axes(dim, x.ndim, "any"), keepdims=keepdim))


# ------------------------------------------------------------------------ cases
# Checked forward (against NumPy), first and second order by the test-suite; collected
# by minigen/op_cases.py (see there for the domains).
from minigen.op_cases import OpCase  # noqa: E402


def _np_log_softmax(x, axis):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


CASES = [
    OpCase("sum (all)", lambda x: x.sum(), [(3, 4)], reference=np.sum),
    OpCase("sum (axis=1, keepdims)", lambda x: x.sum(axis=1, keepdims=True), [(3, 4, 2)],
           reference=lambda x: x.sum(axis=1, keepdims=True)),
    OpCase("mean (axis=(0, 2))", lambda x: x.mean(axis=(0, 2)), [(3, 4, 2)], reference=lambda x: x.mean(axis=(0, 2))),
    OpCase("var (axis=0, biased)", lambda x: x.var(axis=0, ddof=0), [(4, 3)], reference=lambda x: x.var(axis=0)),
    OpCase("var (unbiased, keepdim)", lambda x: x.var(dim=1, keepdim=True), [(3, 4)],
           reference=lambda x: x.var(axis=1, ddof=1, keepdims=True)),
    OpCase("std (dim=1)", lambda x: x.std(dim=1), [(3, 4)], reference=lambda x: x.std(axis=1, ddof=1)),
    OpCase("max (dim=1, values)", lambda x: x.max(dim=1).values, [(3, 4)], "distinct",
           reference=lambda x: x.max(axis=1)),
    OpCase("amax (axis=(0, 1))", lambda x: x.amax(axis=(0, 1)), [(3, 4, 2)], "distinct",
           reference=lambda x: x.max(axis=(0, 1))),
    OpCase("min (all)", lambda x: x.min(), [(3, 4)], "distinct", reference=np.min),
    OpCase("logsumexp (axis=-1)", lambda x: logsumexp(x, axis=-1), [(3, 4)],
           reference=lambda x: np.log(np.exp(x).sum(axis=-1))),
    OpCase("softmax (axis=1)", lambda x: softmax(x, axis=1), [(3, 4)],
           reference=lambda x: np.exp(_np_log_softmax(x, 1))),
    OpCase("log_softmax (axis=0)", lambda x: log_softmax(x, axis=0), [(3, 4)],
           reference=lambda x: _np_log_softmax(x, 0)),
]
