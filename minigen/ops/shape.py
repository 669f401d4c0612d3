"""Operations that move values around without changing them.

Their derivatives are the "opposite" moves: reshape back, transpose back, broadcasting
becomes summing, slicing becomes scattering into zeros, concatenating becomes
splitting. Each pair is written so that the backward op's own backward is the forward
op again, which is why second derivatives through them are exact.
"""
import numpy as np

from minigen import backend
from minigen.function import Function, ShapeError, user_line
from minigen.tensor import Tensor


def _xp(a):
    return backend.get_array_module(a)


def _normalize_axis(axis, ndim, op):
    if not -ndim <= axis < ndim:
        raise ShapeError(f"{op}: axis {axis} is out of range for a tensor with {ndim} dims")
    return axis % ndim


class Reshape(Function):
    """y = x viewed with a new shape.   gx = gy reshaped to x's shape."""

    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, x):
        return x.reshape(self.shape)

    def backward(self, gy):
        return reshape(gy, self.inputs[0].shape)


class Transpose(Function):
    """y = x with its axes permuted.   gx = gy permuted by the inverse permutation."""

    def __init__(self, axes=None):
        self.axes = None if axes is None else tuple(axes)

    def forward(self, x):
        return x.transpose(self.axes)

    def backward(self, gy):
        if self.axes is None:
            return transpose(gy, None)
        inverse = tuple(np.argsort([a % gy.ndim for a in self.axes]))
        return transpose(gy, inverse)


class BroadcastTo(Function):
    """y = x repeated along new or size-1 axes.   gx = gy summed over those axes."""

    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, x):
        return _xp(x).broadcast_to(x, self.shape)

    def backward(self, gy):
        return sum_to(gy, self.inputs[0].shape)


class SumTo(Function):
    """y = x summed down to `shape` (undoes broadcasting).   gx = gy broadcast back to x's shape."""

    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, x):
        lead = x.ndim - len(self.shape)
        axes = tuple(range(lead)) + tuple(
            lead + i for i, n in enumerate(self.shape) if n == 1 and x.shape[lead + i] != 1)
        y = x.sum(axis=axes, keepdims=True) if axes else x
        if lead:
            y = y.reshape(self.shape)
        return y

    def backward(self, gy):
        return broadcast_to(gy, self.inputs[0].shape)


class GetItem(Function):
    """y = x[index] (slices, integer arrays, boolean masks).

    gx = zeros like x with gy added at `index`; an index that appears twice receives
    the sum of its gradients (np.add.at, not assignment).
    """

    def __init__(self, index):
        self.index = index

    def forward(self, x):
        return x[self.index]

    def backward(self, gy):
        x, = self.inputs
        return GetItemGrad(self.index, x.shape)(gy)


class GetItemGrad(Function):
    """y = zeros(shape) with x added at `index` (the scatter-add adjoint of GetItem).

    gx = gy[index].
    """

    def __init__(self, index, shape):
        self.index, self.shape = index, shape

    def forward(self, gy):
        xp = _xp(gy)
        gx = xp.zeros(self.shape, dtype=gy.dtype)
        if xp is np:
            np.add.at(gx, self.index, gy)
        else:
            import cupyx
            cupyx.scatter_add(gx, self.index, gy)
        return gx

    def backward(self, ggx):
        return getitem(ggx, self.index)


class Concatenate(Function):
    """y = the inputs joined along `axis`.   g_i = the matching slice of gy."""

    def __init__(self, axis):
        self.axis = axis

    def forward(self, *xs):
        return _xp(xs[0]).concatenate(xs, axis=self.axis)

    def backward(self, gy):
        sizes = [x.shape[self.axis] for x in self.inputs]
        return split(gy, list(np.cumsum(sizes)[:-1]), self.axis)


class Split(Function):
    """(y_1, ..., y_k) = x cut along `axis` at `indices`.   gx = the gradients concatenated."""

    def __init__(self, indices, axis):
        self.indices, self.axis = [int(i) for i in indices], axis

    def forward(self, x):
        return tuple(_xp(x).split(x, self.indices, axis=self.axis))

    def backward(self, *gys):
        return concatenate(gys, self.axis)


class Pad(Function):
    """y = x surrounded by a constant; pad_width = ((before, after), ...) per axis.

    gx = the centre of gy (the slice that x occupies).
    """

    def __init__(self, pad_width, value=0.0):
        self.pad_width, self.value = tuple(tuple(int(v) for v in p) for p in pad_width), value

    def forward(self, x):
        return _xp(x).pad(x, self.pad_width, mode="constant", constant_values=self.value)

    def backward(self, gy):
        index = tuple(slice(before, n - after) for (before, after), n in zip(self.pad_width, gy.shape))
        return getitem(gy, index)


# ------------------------------------------------------------------ functions
def reshape(x, shape):
    if isinstance(shape, int):
        shape = (shape,)
    shape = tuple(int(s) for s in shape)
    if shape == x.shape:
        return x
    known = int(np.prod([s for s in shape if s != -1]))
    if (shape.count(-1) > 1 or (-1 not in shape and known != x.size)
            or (-1 in shape and (known == 0 or x.size % known))):
        raise ShapeError(f"reshape: cannot reshape a tensor of shape {x.shape} "
                         f"({x.size} elements) into {shape} at {user_line()}")
    return Reshape(shape)(x)


def transpose(x, axes=None):
    if axes is not None:
        axes = tuple(int(a) for a in axes)
        if sorted(a % x.ndim for a in axes) != list(range(x.ndim)) or len(axes) != x.ndim:
            raise ShapeError(f"transpose: axes {axes} are not a permutation of the "
                             f"{x.ndim} axes of shape {x.shape} at {user_line()}")
    return Transpose(axes)(x)


def permute(x, *axes):
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = axes[0]
    return transpose(x, axes)


def broadcast_to(x, shape):
    shape = tuple(int(s) for s in shape)
    if x.shape == shape:
        return x
    try:
        np.broadcast_shapes(x.shape, shape)
    except ValueError:
        raise ShapeError(f"broadcast_to: cannot broadcast shape {x.shape} to {shape} "
                         f"at {user_line()}") from None
    return BroadcastTo(shape)(x)


def sum_to(x, shape):
    """Sum x down to `shape` (the gradient of broadcasting `shape` up to x.shape)."""
    shape = tuple(shape)
    if x.shape == shape:
        return x
    return SumTo(shape)(x)


def _to_index(index):
    """Tensors inside an index become their arrays (indices carry no gradient)."""
    if isinstance(index, tuple):
        return tuple(_to_index(i) for i in index)
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, list):
        return np.asarray(index)
    return index


def getitem(x, index):
    index = _to_index(index)
    if not isinstance(x, Tensor):
        raise TypeError("getitem: x must be a Tensor")
    xp = _xp(x.data)
    if xp is not np:   # integer/boolean index arrays must live on the same device
        index = tuple(xp.asarray(i) if isinstance(i, np.ndarray) else i for i in index) \
            if isinstance(index, tuple) else (xp.asarray(index) if isinstance(index, np.ndarray) else index)
    try:
        return GetItem(index)(x)
    except IndexError as exc:
        raise IndexError(f"getitem: {exc} (tensor shape {x.shape}) at {user_line()}") from None


def concatenate(xs, axis=0):
    xs = list(xs)
    if not xs:
        raise ValueError("concatenate: needs at least one tensor")
    ndim = xs[0].ndim
    axis = _normalize_axis(axis, ndim, "concatenate")
    for i, x in enumerate(xs):
        if x.ndim != ndim or any(a != b for k, (a, b) in enumerate(zip(x.shape, xs[0].shape)) if k != axis):
            raise ShapeError(f"concatenate: tensor {i} has shape {x.shape}, which does not match "
                             f"shape {xs[0].shape} outside axis {axis} at {user_line()}")
    return Concatenate(axis)(*xs)


cat = concatenate


def stack(xs, axis=0):
    """Join tensors of equal shape along a new axis (unsqueeze each, then concatenate)."""
    xs = list(xs)
    if not xs:
        raise ValueError("stack: needs at least one tensor")
    for i, x in enumerate(xs):
        if x.shape != xs[0].shape:
            raise ShapeError(f"stack: tensor {i} has shape {x.shape}, tensor 0 has {xs[0].shape} "
                             f"at {user_line()}")
    axis = _normalize_axis(axis, xs[0].ndim + 1, "stack")
    return concatenate([unsqueeze(x, axis) for x in xs], axis)


def split(x, indices_or_sections, axis=0):
    """NumPy's split: an int gives that many equal parts, a list gives cut points."""
    axis = _normalize_axis(axis, x.ndim, "split")
    n = x.shape[axis]
    if isinstance(indices_or_sections, int):
        if indices_or_sections <= 0 or n % indices_or_sections:
            raise ShapeError(f"split: axis {axis} of length {n} does not divide into "
                             f"{indices_or_sections} equal parts at {user_line()}")
        step = n // indices_or_sections
        indices = list(range(step, n, step))
    else:
        indices = [int(i) for i in indices_or_sections]
    return Split(indices, axis)(x)


def pad(x, pad_width, value=0.0):
    """NumPy-style constant padding: pad_width is ((before, after), ...) for each axis."""
    pad_width = tuple(tuple(p) for p in pad_width)
    if len(pad_width) != x.ndim:
        raise ShapeError(f"pad: pad_width has {len(pad_width)} entries for a tensor with "
                         f"{x.ndim} dims at {user_line()}")
    return Pad(pad_width, value)(x)


def flatten(x, start_axis=0, end_axis=-1):
    start, end = start_axis % max(x.ndim, 1), end_axis % max(x.ndim, 1)
    shape = x.shape[:start] + (-1,) + x.shape[end + 1:]
    if x.size == 0:
        shape = x.shape[:start] + (int(np.prod(x.shape[start:end + 1])),) + x.shape[end + 1:]
    return reshape(x, shape)


def squeeze(x, axis=None):
    if axis is None:
        return reshape(x, tuple(n for n in x.shape if n != 1))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    axes = {_normalize_axis(a, x.ndim, "squeeze") for a in axes}
    for a in axes:
        if x.shape[a] != 1:
            raise ShapeError(f"squeeze: axis {a} of shape {x.shape} has length {x.shape[a]}, not 1")
    return reshape(x, tuple(n for i, n in enumerate(x.shape) if i not in axes))


def unsqueeze(x, axis):
    axis = _normalize_axis(axis, x.ndim + 1, "unsqueeze")
    return reshape(x, x.shape[:axis] + (1,) + x.shape[axis:])
