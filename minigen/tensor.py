"""Tensor: an array plus what autodiff needs to know about it.

    data           the numpy (CPU) or cupy (GPU) array
    grad           a Tensor with d(loss)/d(self) after backward, or None
    requires_grad  whether gradients should flow to this tensor
    creator        the Function that produced it (None for a leaf the user made)
    name           an optional label, shown by the inspection tools

Every arithmetic operator and method below is one line that calls an op from
`minigen.ops`; the derivatives live there, next to each forward.
"""
import operator

import numpy as np

from minigen import backend, grad_mode, versions


def _default_dtype(value):
    """Python floats become float32, like PyTorch; arrays keep their dtype."""
    if type(value) is float or isinstance(value, (list, tuple)):
        arr = np.asarray(value)
        if arr.dtype == np.float64:
            return np.float32
    return None


# minigen tensors hold real numbers (bool, int, float): complex values would need complex
# derivatives everywhere; refusing them means no imaginary part is ever dropped silently.
_COMPLEX_MESSAGE = ("minigen tensors hold real numbers, got {what}: complex values are not "
                    "supported. Work on the real and imaginary parts as two real tensors "
                    "(np.real / np.imag), or use NumPy for the complex step")


def _as_data(data):
    """`data` as the array a Tensor holds: NumPy or CuPy arrays as they are, lists and
    Python and NumPy scalars as NumPy arrays (np.float32(1.0) -> 0-d array); no complex."""
    if isinstance(data, Tensor):
        raise TypeError("Tensor(data) expects an array; use tensor.detach() to copy a Tensor")
    if isinstance(data, np.generic):         # what a NumPy reduction returns: keep its dtype
        data = np.asarray(data)
    elif not (isinstance(data, np.ndarray) or backend.device_of(data) == "cuda"):
        data = np.asarray(data, dtype=_default_dtype(data))
    if data.dtype.kind == "c":
        raise TypeError(_COMPLEX_MESSAGE.format(what=f"{data.dtype} data"))
    return data


class Tensor:
    # Make NumPy hand `ndarray + Tensor` to Tensor.__radd__ instead of looping itself.
    __array_ufunc__ = None

    # Defaults shared by every tensor until one sets its own: an op makes one Tensor per
    # output, so __init__ stores only the array.
    grad = None
    requires_grad = False
    creator = None
    name = None
    _hooks = ()                   # a list once a hook is registered
    _retains_grad = False
    _version_offset = 0           # see `_version` (versions and in-place helpers, below)
    _changed_at = 0               # the tick of the last change of this tensor itself
    _last_change = None

    def __init__(self, data, requires_grad=False, name=None):
        if type(data) is not np.ndarray:
            data = _as_data(data)
        elif data.dtype.kind == "c":
            raise TypeError(_COMPLEX_MESSAGE.format(what=f"{data.dtype} data"))
        self._data = data
        if name is not None:
            self.name = name
        if requires_grad:
            self.requires_grad_(True)

    # -------------------------------------------------------------- array facts
    # attrgetters (C, no Python frame): these are read on every op
    shape = property(operator.attrgetter("_data.shape"), doc="The shape, a tuple of ints.")
    dtype = property(operator.attrgetter("_data.dtype"))
    ndim = property(operator.attrgetter("_data.ndim"))

    @property
    def size(self):
        """PyTorch's method: t.size() is the shape, t.size(d) the length of dim d
        (NumPy's `a.size`, the element count, is t.numel()); see _SizeMethod."""
        return _SizeMethod(self)

    @property
    def device(self):
        """Where the data lives: mg.device('cpu') or ('cuda'), equal to those strings too."""
        return backend.CUDA if backend._is_cupy_array(self.data) else backend.CPU

    @property
    def is_leaf(self):
        return self.creator is None

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __repr__(self):
        body = np.array2string(backend.to_device(self.data, "cpu"), precision=4,
                               separator=", ", prefix="tensor(")
        extra = []
        if self.device != "cpu":
            extra.append(f"device='{self.device}'")
        if self.dtype != np.float32:
            extra.append(f"dtype={self.dtype}")
        if self.creator is not None:
            extra.append(f"creator={self.creator.name}")
        elif self.requires_grad:
            extra.append("requires_grad=True")
        return "tensor(" + ", ".join([body] + extra) + ")"

    def __bool__(self):
        if self.numel() != 1:
            raise ValueError(f"the truth value of a tensor of shape {self.shape} is ambiguous")
        return bool(self.item())

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    __hash__ = object.__hash__

    # ------------------------------------------------------------ conversions
    def item(self):
        if self.numel() != 1:
            raise ValueError(f"item() needs a tensor with one element, got shape {self.shape}")
        return self.data.reshape(()).item() if self.device == "cpu" else self.data.get().reshape(()).item()

    def numpy(self):
        """The data as a NumPy array (copied from the GPU when needed; no gradient)."""
        return backend.to_device(self.data, "cpu")

    def __array__(self, dtype=None, copy=None):
        """np.asarray(tensor) gives the data (so matplotlib and NumPy accept tensors)."""
        data = self.numpy()
        return data if dtype is None else data.astype(dtype)

    def tolist(self):
        return self.numpy().tolist()

    def to(self, device=None, dtype=None, non_blocking=False, copy=False):
        """A tensor on another device and/or with another dtype (differentiable).

        Like PyTorch, `device` is a string or mg.device, and a dtype may come first:
        x.to(np.float64), x.to(mg.device("cuda"), np.float32), x.to(other_tensor)
        (other's device and dtype). `non_blocking` and `copy` are accepted and ignored
        (transfers are synchronous; a result that needs no change is `self`).
        """
        if isinstance(device, Tensor):
            device, dtype = device.device, device.dtype
        elif device is not None and not isinstance(device, str):
            device, dtype = None, device
        out = self
        if dtype is not None and np.dtype(dtype) != self.dtype:
            out = out.astype(dtype)
        if device is not None and backend.check_device_name(device) != self.device:
            out = _ops.to_device(out, device)
        return out

    def cpu(self):
        return self.to("cpu")

    def cuda(self):
        return self.to("cuda")

    def astype(self, dtype):
        return _ops.cast(self, dtype)

    def float(self):
        return self.astype(np.float32)

    def double(self):
        return self.astype(np.float64)

    # ------------------------------------------------------------ autodiff API
    def requires_grad_(self, requires_grad=True):
        if requires_grad and self.dtype.kind != "f":
            raise TypeError(f"only float tensors can require grad, this one is {self.dtype}")
        if not requires_grad and self.creator is not None:
            raise RuntimeError("requires_grad_(False) on a non-leaf tensor: use .detach()")
        self.requires_grad = bool(requires_grad)
        return self

    def detach(self):
        """The same data, cut from the graph (a new leaf that does not require grad)."""
        return Tensor(self.data, name=self.name)

    def retain_grad(self):
        """Keep `.grad` on this non-leaf tensor after backward (leaves always keep it)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad() on a tensor that does not require grad")
        self._retains_grad = True
        return self

    def register_hook(self, hook):
        """Call hook(grad) when this tensor's gradient is complete; a returned Tensor replaces it.

        Returns a handle whose `remove()` takes the hook away again.
        """
        if not self.requires_grad:
            raise RuntimeError("register_hook on a tensor that does not require grad")
        if not self._hooks:
            self._hooks = []
        self._hooks.append(hook)
        return _HookHandle(self._hooks, hook)

    def zero_grad(self):
        self.grad = None

    def backward(self, grad=None, retain_graph=None, create_graph=False):
        """Compute d(self)/d(leaf) for every leaf that requires grad, into `leaf.grad`.

        grad: d(loss)/d(self); may be omitted only when self has one element.
        retain_graph: keep the graph so that backward can run through it again
            (default: False, or True when create_graph is True).
        create_graph: record the gradient computation itself (for gradients of gradients).
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward on a tensor that does not require grad: no input of the "
                "computation had requires_grad=True (or it ran under no_grad)")
        from minigen import autograd           # imported here: autograd builds on Tensor
        grad = autograd.root_gradient(self, grad, "backward")
        if retain_graph is None:
            retain_graph = create_graph   # a graph of gradients still needs the forward graph
        autograd.run_backward([self], [grad], retain_graph=retain_graph, create_graph=create_graph)

    # ------------------------------------------------------------ arithmetic
    def __add__(self, other):
        return _ops.add(self, other)

    def __radd__(self, other):
        return _ops.add(other, self)

    def __sub__(self, other):
        return _ops.sub(self, other)

    def __rsub__(self, other):
        return _ops.sub(other, self)

    def __mul__(self, other):
        return _ops.mul(self, other)

    def __rmul__(self, other):
        return _ops.mul(other, self)

    def __truediv__(self, other):
        return _ops.div(self, other)

    def __rtruediv__(self, other):
        return _ops.div(other, self)

    def __neg__(self):
        return _ops.neg(self)

    def __pos__(self):
        return self

    def __pow__(self, exponent):
        return _ops.pow(self, exponent)

    def __rpow__(self, base):
        return _ops.pow(base, self)

    def __matmul__(self, other):
        return _ops.matmul(self, other)

    def __rmatmul__(self, other):
        return _ops.matmul(other, self)

    def __abs__(self):
        return _ops.abs(self)

    def __getitem__(self, index):
        return _ops.getitem(self, index)

    def __setitem__(self, index, value):
        raise TypeError(
            "minigen tensors are not modified in place (it would silently break the "
            "gradients that depend on the old values); build a new tensor with "
            "mg.where(mask, new, old) or mg.concatenate instead")

    # Comparisons give boolean tensors outside the graph (they have no gradient).
    def _compare(self, other, ufunc_name):
        other = other.data if isinstance(other, Tensor) else other
        return Tensor(getattr(backend.get_array_module(self.data), ufunc_name)(self.data, other))

    def __lt__(self, other):
        return self._compare(other, "less")

    def __le__(self, other):
        return self._compare(other, "less_equal")

    def __gt__(self, other):
        return self._compare(other, "greater")

    def __ge__(self, other):
        return self._compare(other, "greater_equal")

    def __eq__(self, other):
        return self._compare(other, "equal")

    def __ne__(self, other):
        return self._compare(other, "not_equal")

    # ------------------------------------------------------------ PyTorch names
    # The methods a PyTorch program types. Each takes PyTorch's `dim` / `keepdim` or
    # NumPy's `axis` / `keepdims`; where the two disagree on the same call (transpose,
    # var/std, max/min, split, squeeze, repeat, size) PyTorch's meaning wins, see the
    # function in minigen.ops and the README's "PyTorch or NumPy meaning".
    def numel(self):
        """The number of elements (NumPy's a.size)."""
        return int(self.data.size)

    nelement = numel

    def dim(self):
        return self.data.ndim

    ndimension = dim

    def eq(self, other):
        return self == other

    def ne(self, other):
        return self != other

    def lt(self, other):
        return self < other

    def le(self, other):
        return self <= other

    def gt(self, other):
        return self > other

    def ge(self, other):
        return self >= other

    def add(self, other, alpha=1):
        return _ops.add(self, other if alpha == 1 else other * alpha)

    def sub(self, other, alpha=1):
        return _ops.sub(self, other if alpha == 1 else other * alpha)

    def mul(self, other):
        return _ops.mul(self, other)

    def div(self, other):
        return _ops.div(self, other)

    def neg(self):
        return _ops.neg(self)

    def pow(self, exponent):
        return _ops.pow(self, exponent)

    def square(self):
        return _ops.mul(self, self)

    def matmul(self, other):
        return _ops.matmul(self, other)

    def mm(self, other):
        return _ops.mm(self, other)

    def bmm(self, other):
        return _ops.bmm(self, other)

    def sum(self, dim=None, keepdim=None, *, axis=None, keepdims=None):
        return _ops.sum(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def mean(self, dim=None, keepdim=None, *, axis=None, keepdims=None):
        return _ops.mean(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def var(self, dim=None, unbiased=None, keepdim=None, **numpy_spellings):
        return _ops.var(self, dim, unbiased, keepdim, **numpy_spellings)

    def std(self, dim=None, unbiased=None, keepdim=None, **numpy_spellings):
        return _ops.std(self, dim, unbiased, keepdim, **numpy_spellings)

    def max(self, dim=None, keepdim=None, *, axis=None, keepdims=None):
        return _ops.max(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def min(self, dim=None, keepdim=None, *, axis=None, keepdims=None):
        return _ops.min(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def amax(self, dim=None, keepdim=None, *, axis=None, keepdims=None):
        return _ops.amax(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def amin(self, dim=None, keepdim=None, *, axis=None, keepdims=None):
        return _ops.amin(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def argmax(self, dim=None, keepdim=None, *, axis=None, keepdims=None):
        return _ops.argmax(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def argmin(self, dim=None, keepdim=None, *, axis=None, keepdims=None):
        return _ops.argmin(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def all(self, dim=None, keepdim=False):
        return _ops.all(self, dim, keepdim)

    def any(self, dim=None, keepdim=False):
        return _ops.any(self, dim, keepdim)

    def norm(self, p=2, dim=None, keepdim=False):
        return _ops.reduce.norm(self, p, dim, keepdim)

    def logsumexp(self, dim=None, keepdim=None, *, axis=None, keepdims=None):
        return _ops.logsumexp(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def softmax(self, dim=None, *, axis=None):
        return _ops.softmax(self, dim, axis=axis)

    def log_softmax(self, dim=None, *, axis=None):
        return _ops.log_softmax(self, dim, axis=axis)

    def view(self, *shape):
        """PyTorch's view = reshape (NumPy's a.view(dtype) reinterpretation does not exist here)."""
        return self.reshape(*shape)

    def view_as(self, other):
        return _ops.reshape(self, other.shape)

    reshape_as = view_as

    def expand(self, *sizes):
        return _ops.expand(self, *sizes)

    def expand_as(self, other):
        return _ops.broadcast_to(self, other.shape)

    def repeat(self, *repeats):
        """PyTorch's repeat = np.tile (NumPy's a.repeat is `repeat_interleave`)."""
        return _ops.repeat(self, *repeats)

    def repeat_interleave(self, repeats, dim=None):
        return _ops.repeat_interleave(self, repeats, dim)

    def t(self):
        """The transpose of a tensor with at most 2 dims (torch.Tensor.t)."""
        if self.ndim > 2:
            raise ValueError(f"t() expects a tensor with <= 2 dims, this one has shape {self.shape}; "
                             "use transpose(d0, d1) or permute")
        return _ops.permute(self, None)

    def split(self, split_size_or_sections, dim=0):
        return _ops.split(self, split_size_or_sections, dim)

    def chunk(self, chunks, dim=0):
        return _ops.chunk(self, chunks, dim)

    def clone(self):
        """A differentiable copy (a cast to its own dtype copies the array)."""
        return _ops.cast(self, self.dtype)

    def contiguous(self):
        """Every minigen tensor is usable as it is; returns self (PyTorch's memory layout
        call has nothing to do here)."""
        return self

    def type_as(self, other):
        return self.to(dtype=other.dtype)

    def long(self):
        """int64 copy, outside the graph (integers carry no gradient)."""
        return Tensor(self.data.astype(np.int64))

    def int(self):
        """int32 copy, outside the graph."""
        return Tensor(self.data.astype(np.int32))

    def bool(self):
        """bool copy, outside the graph."""
        return Tensor(self.data.astype(bool))

    @property
    def is_cuda(self):
        return self.device == "cuda"

    def new_zeros(self, *shape):
        from minigen.creation import zeros
        return zeros(*shape, dtype=self.dtype, device=self.device)

    def new_ones(self, *shape):
        from minigen.creation import ones
        return ones(*shape, dtype=self.dtype, device=self.device)

    # ------------------------------------------------------------ methods (NumPy names)

    def exp(self):
        return _ops.exp(self)

    def log(self):
        return _ops.log(self)

    def log1p(self):
        return _ops.log1p(self)

    def sqrt(self):
        return _ops.sqrt(self)

    def abs(self):
        return _ops.abs(self)

    def sin(self):
        return _ops.sin(self)

    def cos(self):
        return _ops.cos(self)

    def tanh(self):
        return _ops.tanh(self)

    def sigmoid(self):
        return _ops.sigmoid(self)

    def relu(self):
        return _ops.relu(self)

    def clip(self, min=None, max=None):
        return _ops.clip(self, min, max)

    clamp = clip

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = shape[0]
        return _ops.reshape(self, shape)

    def transpose(self, *dims, dim0=None, dim1=None):
        """x.transpose(0, 1) (or dim0=0, dim1=1) swaps two dims (PyTorch); x.transpose()
        reverses all and x.transpose(2, 0, 1) / x.transpose((2, 0, 1)) permutes (NumPy's
        forms, which PyTorch lacks). See minigen.ops.shape.transpose."""
        if dim0 is not None or dim1 is not None:
            if dims or dim0 is None or dim1 is None:
                raise TypeError("transpose: give both dim0= and dim1= (and no positional dims)")
            dims = (dim0, dim1)
        return _ops.transpose(self, *dims)

    def permute(self, *dims):
        return _ops.permute(self, *dims)

    @property
    def T(self):
        return _ops.permute(self, None)

    def swapaxes(self, axis0, axis1):
        return _ops.transpose(self, axis0, axis1)

    swapdims = swapaxes

    def flatten(self, start_dim=0, end_dim=-1):
        return _ops.flatten(self, start_dim, end_dim)

    def squeeze(self, dim=None, *, axis=None):
        """Drop dims of length 1 (a named dim of another length stays, as in PyTorch)."""
        return _ops.squeeze(self, dim, axis=axis)

    def unsqueeze(self, dim=None, *, axis=None):
        return _ops.unsqueeze(self, dim, axis=axis)

    expand_dims = unsqueeze

    def broadcast_to(self, shape):
        return _ops.broadcast_to(self, shape)

    # ------------------------------------------------ versions and in-place helpers
    # Every change of a tensor's values after a forward is counted, so that backward
    # can refuse to differentiate with values the forward did not see (StaleTensorError,
    # see minigen.autograd). Three kinds of change are counted:
    #   * rebinding `x.data = new` (what every optimizer step does): bumps this tensor;
    #   * the in-place helpers below (fill_, zero_, add_, ...): bump the storage, so
    #     every tensor sharing that memory (views, detach()) sees the change;
    #   * writes straight into the array (`x.data[0] = 10`): not seen (NumPy does not
    #     say); use `x.data = ...` or an in-place helper instead (see the README).
    def _set_data(self, value):
        if getattr(value, "dtype", None) is not None and value.dtype.kind == "c":
            raise TypeError(_COMPLEX_MESSAGE.format(what=f"{value.dtype} data"))
        old = self._version
        self._data = value
        # keep `_version` increasing whatever writes the new array has already seen
        self._version_offset = old + 1 - versions.storage_version(value)
        self._changed_at = versions.tick()
        self._last_change = versions.note_change(".data = ...")

    # The getter is attrgetter (C, no Python frame): `t.data` is read everywhere.
    data = property(operator.attrgetter("_data"), _set_data,
                    doc="The numpy/cupy array; assigning a new one counts as a change.")

    @property
    def _version(self):
        """How many times this tensor's values were changed (PyTorch's `_version`)."""
        return self._version_offset + versions.storage_version(self._data)

    def _in_place(self, what, write):
        """Run write(array) on this tensor's memory, after checking that no graph is
        being recorded through it, and count the change."""
        if grad_mode.enabled and self.requires_grad:
            if self.creator is None:
                raise RuntimeError(
                    f"{what} on a leaf tensor that requires grad (shape {self.shape}): the "
                    "change would not be recorded. Wrap it in `with mg.no_grad():`, as an "
                    "optimizer update is.")
            raise RuntimeError(
                f"{what} on a tensor made by {self.creator.name} (shape {self.shape}) while "
                "gradients are recorded: minigen records no in-place ops. Write the result "
                "to a new tensor (y = x + 1, mg.where(...)) instead.")
        if self.device == "cpu" and not self._data.flags.writeable:
            raise ValueError(f"{what}: this tensor's array is read-only (a broadcast view or "
                             "a read-only NumPy array); make a copy first")
        write(self._data)
        change = versions.note_change(what)
        if not versions.bump_storage(self._data, change):     # memory that cannot be tracked
            self._version_offset += 1
            self._changed_at = versions.tick()
        self._last_change = change
        return self

    def _operand(self, value, what):
        """A Tensor or number as an array for an in-place write (same device)."""
        if isinstance(value, Tensor):
            if value.device != self.device:
                raise RuntimeError(f"{what}: the other tensor lives on {value.device}, this "
                                   f"one on {self.device}; move it with .to() first")
            return value._data
        if isinstance(value, complex) and self.dtype.kind != "c":
            raise TypeError(f"{what}: a complex value for a {self.dtype} tensor")
        return value

    def fill_(self, value):
        """Set every element to `value` (in place, outside any graph)."""
        if isinstance(value, Tensor):
            if value.numel() != 1:
                raise ValueError(f"fill_ takes a number or a one-element tensor, got shape {value.shape}")
            value = value.item()
        value = self._operand(value, "fill_")
        return self._in_place("fill_", lambda a: a.fill(value))

    def zero_(self):
        """Set every element to 0 (in place, outside any graph)."""
        return self._in_place("zero_", lambda a: a.fill(0))

    def add_(self, other, alpha=1):
        """self += alpha * other (in place, outside any graph; keeps self's dtype)."""
        other = self._operand(other, "add_")
        return self._in_place("add_", lambda a: a.__iadd__(other if alpha == 1 else alpha * other))

    def sub_(self, other, alpha=1):
        """self -= alpha * other (in place, outside any graph; keeps self's dtype)."""
        other = self._operand(other, "sub_")
        return self._in_place("sub_", lambda a: a.__isub__(other if alpha == 1 else alpha * other))

    def mul_(self, other):
        """self *= other (in place, outside any graph; keeps self's dtype)."""
        other = self._operand(other, "mul_")
        return self._in_place("mul_", lambda a: a.__imul__(other))

    def div_(self, other):
        """self /= other (in place, outside any graph; keeps self's dtype)."""
        other = self._operand(other, "div_")
        return self._in_place("div_", lambda a: a.__itruediv__(other))

    def copy_(self, src):
        """Copy src's values into self (broadcast to self's shape, cast to self's dtype;
        a NumPy array or a tensor on another device is moved here first)."""
        if isinstance(src, Tensor):
            src = src._data
        src = backend.to_device(src, self.device) if hasattr(src, "shape") else src
        xp = backend.get_array_module(self._data)
        try:
            xp.broadcast_to(xp.asarray(src), self.shape)
        except ValueError:
            from minigen.function import ShapeError
            raise ShapeError(f"copy_: source of shape {tuple(xp.asarray(src).shape)} does not "
                             f"broadcast to this tensor's shape {self.shape}") from None
        return self._in_place("copy_", lambda a: xp.copyto(a, xp.asarray(src), casting="unsafe"))

    def clamp_(self, min=None, max=None):
        """Clip every element into [min, max] (in place, outside any graph)."""
        if min is None and max is None:
            raise ValueError("clamp_: give at least one of min and max")
        return self._in_place("clamp_", lambda a: backend.get_array_module(a).clip(a, min, max, out=a))

    clip_ = clamp_

    # `a += b` and its kin, with PyTorch's meaning where minigen can give it: in place
    # (so `with mg.no_grad(): p -= lr * p.grad` updates the parameter itself, and every
    # alias of `a` sees it) whenever the in-place helpers are allowed. While a graph is
    # recorded through `a`, it is `a = a + b` instead: a new node, the name rebound, the
    # gradient right (minigen records no in-place ops).
    def _augmented(self, other, in_place, out_of_place):
        if grad_mode.enabled and self.requires_grad:
            return out_of_place(self, other)
        return in_place(self, other)

    def __iadd__(self, other):
        return self._augmented(other, Tensor.add_, Tensor.__add__)

    def __isub__(self, other):
        return self._augmented(other, Tensor.sub_, Tensor.__sub__)

    def __imul__(self, other):
        return self._augmented(other, Tensor.mul_, Tensor.__mul__)

    def __itruediv__(self, other):
        return self._augmented(other, Tensor.div_, Tensor.__truediv__)


class _SizeMethod:
    """What `t.size` is: call it, t.size() -> the shape tuple, t.size(d) -> one length.

    Why not a plain method: code written for NumPy's `a.size` (the element count) would
    then compare a bound method with a number (`t.size != 1` is always True) and go on
    silently. Used as a number, this object raises and names t.numel() instead.
    """

    __slots__ = ("_tensor",)

    def __init__(self, tensor):
        self._tensor = tensor

    def __call__(self, dim=None):
        shape = self._tensor.shape
        if dim is None:
            return shape
        ndim = max(len(shape), 1)
        if not -ndim <= dim < ndim:
            raise IndexError(f"size: dim {dim} is out of range for a tensor of shape {shape}")
        return shape[dim % ndim] if shape else 1

    def _as_number(self, *args):
        raise TypeError("Tensor.size is PyTorch's method: t.size() is the shape, t.size(d) the "
                        "length of dim d; NumPy's a.size (the number of elements) is t.numel()")

    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = _as_number
    __int__ = __index__ = __float__ = __bool__ = _as_number
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _as_number
    __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = _as_number
    __hash__ = None

    def __repr__(self):
        return f"<method size of a tensor of shape {self._tensor.shape}>"


class _HookHandle:
    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


# Imported last: the ops modules import this one (Function builds Tensors).
from minigen import ops as _ops  # noqa: E402
