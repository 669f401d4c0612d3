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


def one_of(op, default=None, **spellings):
    """The value of whichever spelling of one argument was given, e.g. PyTorch's `dim`
    or NumPy's `axis`, `keepdim` or `keepdims`; `default` when none was; both raise.

        axis = one_of("sum", dim=dim, axis=axis)
    """
    given, result = None, default
    for name, value in spellings.items():
        if value is not None:
            if given is not None:
                raise TypeError(f"{op}: got both {given}= and {name}=, which mean the same; "
                                f"give one")
            given, result = name, value
    return result


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


def reshape(x, shape):
    """y = x with a new shape (the same elements in the same order).

    dy/dx = 1 (the gradient reshaped back).
    """
    if isinstance(shape, int):
        shape = (shape,)
    shape = tuple(int(s) for s in shape)
    if shape == x.shape:
        return x
    known = int(np.prod([s for s in shape if s != -1]))
    if (shape.count(-1) > 1 or (-1 not in shape and known != x.numel())
            or (-1 in shape and (known == 0 or x.numel() % known))):
        raise ShapeError(f"reshape: cannot reshape a tensor of shape {x.shape} "
                         f"({x.numel()} elements) into {shape} at {user_line()}")
    return Reshape(shape)(x)


class Transpose(Function):
    """y = x with its axes permuted.   gx = gy permuted by the inverse permutation."""

    def __init__(self, axes=None):
        self.axes = None if axes is None else tuple(axes)

    def forward(self, x):
        return x.transpose(self.axes)

    def backward(self, gy):
        if self.axes is None:
            return permute(gy, None)
        inverse = tuple(np.argsort([a % gy.ndim for a in self.axes]))
        return permute(gy, inverse)


def permute(x, *dims):
    """y = x with its dims permuted.

    dy/dx = 1 (the gradient permuted back by the inverse permutation).

    x with its axes reordered: permute(x, 2, 0, 1) or permute(x, (2, 0, 1)) (PyTorch's
    permute = NumPy's transpose(x, axes)); no dims (or None) reverses them all."""
    if len(dims) == 1 and (dims[0] is None or isinstance(dims[0], (tuple, list))):
        dims = dims[0]
    if dims is not None and len(dims):
        dims = tuple(int(a) for a in dims)
        if len(dims) != x.ndim or sorted(a % x.ndim for a in dims) != list(range(x.ndim)):
            raise ShapeError(f"permute: dims {dims} are not a permutation of the "
                             f"{x.ndim} dims of shape {x.shape} at {user_line()}")
    else:
        dims = None
    return Transpose(dims)(x)


def transpose(x, *dims):
    """PyTorch's transpose: transpose(x, 0, 1) swaps two dims (any number of dims).

    The forms PyTorch does not have keep NumPy's meaning, as they are unambiguous:
    transpose(x) reverses all dims (like x.T), and a full permutation, transpose(x,
    (2, 0, 1)) or transpose(x, 2, 0, 1), reorders them (like permute). Beware that
    NumPy's np.transpose(a, (0, 1)) on a 2-D array is the identity, while
    transpose(x, 0, 1) here swaps, as in PyTorch.
    """
    if len(dims) == 2 and all(isinstance(d, (int, np.integer)) for d in dims):
        d0, d1 = (_normalize_axis(int(d), max(x.ndim, 1), "transpose") for d in dims)
        if d0 == d1:
            return x
        order = list(range(x.ndim))
        order[d0], order[d1] = order[d1], order[d0]
        return Transpose(order)(x)
    return permute(x, *dims)


class BroadcastTo(Function):
    """y = x repeated along new or size-1 axes.   gx = gy summed over those axes."""

    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, x):
        return _xp(x).broadcast_to(x, self.shape)

    def backward(self, gy):
        return sum_to(gy, self.inputs[0].shape)


def broadcast_to(x, shape):
    """y = x repeated along new or size-1 dims to `shape`.

    dy/dx = 1 per copy (the gradient summed over the copies).
    """
    shape = tuple(map(int, shape))
    if x.shape == shape:
        return x
    try:
        np.broadcast_shapes(x.shape, shape)
    except ValueError:
        raise ShapeError(f"broadcast_to: cannot broadcast shape {x.shape} to {shape} "
                         f"at {user_line()}") from None
    return BroadcastTo(shape)(x)


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


def sum_to(x, shape):
    """y = x summed down to `shape` (the gradient of broadcasting `shape` up to x.shape).

    dy/dx = 1 (the gradient broadcast back).

    Sum x down to `shape` (the gradient of broadcasting `shape` up to x.shape)."""
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


def getitem(x, index):
    """y = x[index] (slices, integer and boolean arrays).

    dy/dx = 1 at the picked positions (the gradient scattered into zeros; repeats add).
    """
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
        return split(gy, sizes, self.axis)


def concatenate(xs, dim=None, *, axis=None):
    """y = the tensors joined along dim.

    dy/dx_k = 1 on x_k's slice (the gradient split back).

    The tensors joined along an existing dim (torch.cat / np.concatenate)."""
    axis = one_of("cat", 0, dim=dim, axis=axis)
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


class Split(Function):
    """(y_1, ..., y_k) = x cut along `axis` at `indices`.   gx = the gradients concatenated."""

    def __init__(self, indices, axis):
        self.indices, self.axis = [int(i) for i in indices], axis

    def forward(self, x):
        return tuple(_xp(x).split(x, self.indices, axis=self.axis))

    def backward(self, *gys):
        return concatenate(gys, self.axis)


def split(x, split_size_or_sections, dim=None, *, axis=None):
    """y = pieces of x along dim.

    dy_k/dx = 1 on piece k's slice (the gradients concatenated back).

    PyTorch's split: an int is the length of each piece (the last may be shorter), a
    list gives the length of every piece. (NumPy's np.split, where an int is the *number*
    of pieces and a list the cut points, is `tensor_split`; NumPy's `axis=` spelling is
    refused here, as it would silently take the other meaning.)"""
    if axis is not None:
        raise TypeError("split(axis=...): np.split(a, n, axis) cuts n pieces (or at cut points), "
                        "torch.split(x, n, dim) pieces of length n; use tensor_split(x, n, axis=...) "
                        "for NumPy's meaning, or dim= for PyTorch's")
    axis = _normalize_axis(0 if dim is None else dim, x.ndim, "split")
    n = x.shape[axis]
    if isinstance(split_size_or_sections, (int, np.integer)):
        size = int(split_size_or_sections)
        if size <= 0:
            raise ShapeError(f"split: the piece length must be positive, got {size} at {user_line()}")
        sizes = [size] * (n // size) + ([n % size] if n % size else [])
    else:
        sizes = [int(k) for k in split_size_or_sections]
        if sum(sizes) != n or min(sizes, default=0) < 0:
            raise ShapeError(f"split: piece lengths {sizes} do not add up to the length {n} of "
                             f"dim {axis} (shape {x.shape}) at {user_line()}")
    return Split(list(np.cumsum(sizes)[:-1]), axis)(x)


def tensor_split(x, indices_or_sections, dim=None, *, axis=None):
    """NumPy's split (np.array_split; torch.tensor_split): an int n gives n pieces as equal
    as possible, a list gives the cut points."""
    axis = _normalize_axis(one_of("tensor_split", 0, dim=dim, axis=axis), x.ndim, "tensor_split")
    n = x.shape[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        parts = int(indices_or_sections)
        if parts <= 0:
            raise ShapeError(f"tensor_split: needs at least one piece, got {parts} at {user_line()}")
        sizes = [n // parts + (1 if k < n % parts else 0) for k in range(parts)]
        indices = list(np.cumsum(sizes)[:-1])
    else:
        indices = [int(i) for i in indices_or_sections]
    return Split(indices, axis)(x)


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


def pad(x, pad_width, value=0.0):
    """y = x padded with `value` (pad_width in NumPy's order: one (before, after) per dim).

    dy/dx = 1 inside (the gradient cropped back).

    NumPy-style constant padding: pad_width is ((before, after), ...) for each axis.
    (torch.nn.functional.pad's order, last dim first, is minigen.functional.pad.)"""
    pad_width = tuple(tuple(p) for p in pad_width)
    if len(pad_width) != x.ndim:
        raise ShapeError(f"pad: pad_width has {len(pad_width)} entries for a tensor with "
                         f"{x.ndim} dims at {user_line()}")
    return Pad(pad_width, value)(x)


# --------------------------------------- composed of the ops above (derivatives follow)
def swapaxes(x, axis0, axis1):
    """NumPy's name for transpose(x, axis0, axis1) (PyTorch: swapaxes / swapdims too)."""
    return transpose(x, int(axis0), int(axis1))


cat = concatenate


def stack(xs, dim=None, *, axis=None):
    """Join tensors of equal shape along a new axis (unsqueeze each, then concatenate)."""
    axis = one_of("stack", 0, dim=dim, axis=axis)
    xs = list(xs)
    if not xs:
        raise ValueError("stack: needs at least one tensor")
    for i, x in enumerate(xs):
        if x.shape != xs[0].shape:
            raise ShapeError(f"stack: tensor {i} has shape {x.shape}, tensor 0 has {xs[0].shape} "
                             f"at {user_line()}")
    axis = _normalize_axis(axis, xs[0].ndim + 1, "stack")
    return concatenate([unsqueeze(x, axis) for x in xs], axis)


def chunk(x, chunks, dim=0):
    """PyTorch's chunk: `chunks` pieces of length ceil(n / chunks) (fewer when they run out)."""
    n = x.shape[_normalize_axis(dim, x.ndim, "chunk")]
    if int(chunks) <= 0:
        raise ShapeError(f"chunk: needs at least one piece, got {chunks} at {user_line()}")
    return split(x, max(-(-n // int(chunks)), 1), dim)


def flatten(x, start_dim=0, end_dim=-1):
    """Dims start_dim..end_dim (inclusive) merged into one (torch.flatten)."""
    start, end = start_dim % max(x.ndim, 1), end_dim % max(x.ndim, 1)
    shape = x.shape[:start] + (-1,) + x.shape[end + 1:]
    if x.numel() == 0:
        shape = x.shape[:start] + (int(np.prod(x.shape[start:end + 1])),) + x.shape[end + 1:]
    return reshape(x, shape)


def squeeze(x, dim=None, *, axis=None):
    """Drop dims of length 1: all of them, or those of `dim` (an int or a tuple).

    PyTorch's meaning: a named dim whose length is not 1 is left as it is (NumPy raises).
    """
    axis = one_of("squeeze", dim=dim, axis=axis)
    if axis is None:
        return reshape(x, tuple(n for n in x.shape if n != 1))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    axes = {_normalize_axis(int(a), max(x.ndim, 1), "squeeze") for a in axes}
    return reshape(x, tuple(n for i, n in enumerate(x.shape) if not (i in axes and n == 1)))


def unsqueeze(x, dim=None, *, axis=None):
    axis = _normalize_axis(one_of("unsqueeze", dim=dim, axis=axis), x.ndim + 1, "unsqueeze")
    return reshape(x, x.shape[:axis] + (1,) + x.shape[axis:])


def expand(x, *sizes):
    """PyTorch's expand: broadcast_to, where -1 keeps a dim's length: x.expand(4, -1)."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = sizes[0]
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise ShapeError(f"expand: {len(sizes)} sizes for a tensor with {x.ndim} dims "
                         f"at {user_line()}")
    shape = tuple(x.shape[i - lead] if int(s) == -1 and i >= lead else int(s)
                  for i, s in enumerate(sizes))
    return broadcast_to(x, shape)


def repeat(x, *repeats):
    """PyTorch's repeat = np.tile: x.repeat(2, 3) lays out 2 x 3 copies of x.

    (NumPy's a.repeat(k, axis), each element k times, is `repeat_interleave`.) Built from
    reshape + broadcast_to, so the gradient sums over the copies.
    """
    if len(repeats) == 1 and isinstance(repeats[0], (tuple, list)):
        repeats = repeats[0]
    repeats = tuple(int(r) for r in repeats)
    if len(repeats) < x.ndim:
        raise ShapeError(f"repeat: {len(repeats)} repeat counts for a tensor with {x.ndim} dims "
                         f"(give at least one per dim) at {user_line()}")
    shape = (1,) * (len(repeats) - x.ndim) + x.shape
    spread = reshape(x, tuple(v for n in shape for v in (1, n)))          # (1, n0, 1, n1, ...)
    copies = broadcast_to(spread, tuple(v for r, n in zip(repeats, shape) for v in (r, n)))
    return reshape(copies, tuple(r * n for r, n in zip(repeats, shape)))


def repeat_interleave(x, repeats, dim=None):
    """Each element `repeats` times in a row along `dim` (np.repeat; flattened when dim is
    None). Only an int count."""
    if not isinstance(repeats, (int, np.integer)):
        raise TypeError("repeat_interleave: only an int number of repeats is supported")
    if dim is None:
        x, dim = reshape(x, (-1,)), 0
    dim = _normalize_axis(dim, x.ndim, "repeat_interleave")
    spread = unsqueeze(x, dim + 1)
    target = x.shape[:dim + 1] + (int(repeats),) + x.shape[dim + 1:]
    merged = x.shape[:dim] + (x.shape[dim] * int(repeats),) + x.shape[dim + 1:]
    return reshape(broadcast_to(spread, target), merged)


# ------------------------------------------------------------------------ cases
# Checked forward (against NumPy), first and second order by the test-suite; collected
# by minigen/op_cases.py.
from minigen.op_cases import OpCase  # noqa: E402

CASES = [
    OpCase("reshape", lambda x: x.reshape(4, 3) * x.reshape(4, 3), [(3, 4)], reference=lambda x: x.reshape(4, 3) ** 2),
    OpCase("transpose", lambda x: x.transpose(2, 0, 1), [(2, 3, 4)], reference=lambda x: x.transpose(2, 0, 1)),
    OpCase("broadcast_to", lambda x: broadcast_to(x, (2, 3, 4)), [(3, 1)],
           reference=lambda x: np.broadcast_to(x, (2, 3, 4))),
    OpCase("squeeze / unsqueeze / flatten",
           lambda x: x.unsqueeze(0).squeeze(0).flatten() ** 2, [(2, 3)], reference=lambda x: x.reshape(-1) ** 2),
    OpCase("getitem (slices)", lambda x: x[1:, ::2], [(3, 4)], reference=lambda x: x[1:, ::2]),
    OpCase("getitem (repeated integer index)", lambda x: x[np.array([0, 2, 0, 0])], [(3, 4)],
           reference=lambda x: x[[0, 2, 0, 0]]),
    OpCase("getitem (boolean mask)", lambda x: x[np.array([True, False, True])], [(3, 4)],
           reference=lambda x: x[[0, 2]]),
    OpCase("concatenate", lambda a, b: concatenate([a, b], axis=1), [(2, 3), (2, 2)],
           reference=lambda a, b: np.concatenate([a, b], axis=1)),
    OpCase("stack", lambda a, b: stack([a, b], axis=-1), [(2, 3), (2, 3)],
           reference=lambda a, b: np.stack([a, b], axis=-1)),
    OpCase("split", lambda x: split(x, [1, 2, 1], dim=1), [(2, 4)],
           reference=lambda x: tuple(np.split(x, [1, 3], axis=1))),
    OpCase("repeat (tile)", lambda x: x.repeat(2, 1, 3), [(2, 3)], reference=lambda x: np.tile(x, (2, 1, 3))),
    OpCase("transpose (swap two dims)", lambda x: x.transpose(0, 2), [(2, 3, 4)],
           reference=lambda x: np.swapaxes(x, 0, 2)),
    OpCase("pad", lambda x: pad(x, ((1, 0), (2, 1)), value=0.5), [(2, 3)],
           reference=lambda x: np.pad(x, ((1, 0), (2, 1)), constant_values=0.5)),
]
