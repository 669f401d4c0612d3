"""Tensor: an array plus what autodiff needs to know about it.

    data           the numpy (CPU) or cupy (GPU) array
    grad           a Tensor with d(loss)/d(self) after backward, or None
    requires_grad  whether gradients should flow to this tensor
    creator        the Function that produced it (None for a leaf the user made)
    name           an optional label, shown by the inspection tools

Every arithmetic operator and method below is one line that calls an op from
`minigen.ops`; the derivatives live there, next to each forward.
"""
import numpy as np

from minigen import autograd, backend
from minigen.autograd import root_gradient, run_backward


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


class Tensor:
    # Make NumPy hand `ndarray + Tensor` to Tensor.__radd__ instead of looping itself.
    __array_ufunc__ = None

    def __init__(self, data, requires_grad=False, name=None):
        if isinstance(data, Tensor):
            raise TypeError("Tensor(data) expects an array; use tensor.detach() to copy a Tensor")
        if not (isinstance(data, np.ndarray) or backend.device_of(data) == "cuda"):
            # lists, Python and NumPy scalars become arrays (np.float32(1.0) -> 0-d array)
            data = np.asarray(data, dtype=_default_dtype(data))
        if data.dtype.kind == "c":
            raise TypeError(_COMPLEX_MESSAGE.format(what=f"{data.dtype} data"))
        self._data = data
        self._version_offset = 0      # see `_version` (versions and in-place helpers, below)
        self._last_change = None
        self.grad = None
        self.requires_grad = False
        self.creator = None
        self.name = name
        self._hooks = []
        self._retains_grad = False
        if requires_grad:
            self.requires_grad_(True)

    # -------------------------------------------------------------- array facts
    @property
    def shape(self):
        return tuple(self.data.shape)

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def size(self):
        return int(self.data.size)

    @property
    def device(self):
        return backend.device_of(self.data)

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
        if self.size != 1:
            raise ValueError(f"the truth value of a tensor of shape {self.shape} is ambiguous")
        return bool(self.item())

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    __hash__ = object.__hash__

    # ------------------------------------------------------------ conversions
    def item(self):
        if self.size != 1:
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

    def to(self, device=None, dtype=None):
        """A tensor on another device and/or with another dtype (differentiable).

        Like PyTorch, a dtype may come first: x.to(np.float64), x.to("cuda", np.float32).
        """
        if device is not None and not isinstance(device, str):
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
        grad = root_gradient(self, grad, "backward")
        if retain_graph is None:
            retain_graph = create_graph   # a graph of gradients still needs the forward graph
        run_backward([self], [grad], retain_graph=retain_graph, create_graph=create_graph)

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

    # ------------------------------------------------------------ methods (NumPy names)
    def sum(self, axis=None, keepdims=False):
        return _ops.sum(self, axis, keepdims)

    def mean(self, axis=None, keepdims=False):
        return _ops.mean(self, axis, keepdims)

    def var(self, axis=None, keepdims=False, ddof=0):
        return _ops.var(self, axis, keepdims, ddof)

    def std(self, axis=None, keepdims=False, ddof=0):
        return _ops.std(self, axis, keepdims, ddof)

    def max(self, axis=None, keepdims=False):
        return _ops.max(self, axis, keepdims)

    def min(self, axis=None, keepdims=False):
        return _ops.min(self, axis, keepdims)

    def argmax(self, axis=None):
        return Tensor(self.data.argmax(axis=axis))

    def argmin(self, axis=None):
        return Tensor(self.data.argmin(axis=axis))

    def logsumexp(self, axis=None, keepdims=False):
        return _ops.logsumexp(self, axis, keepdims)

    def softmax(self, axis=-1):
        return _ops.softmax(self, axis)

    def log_softmax(self, axis=-1):
        return _ops.log_softmax(self, axis)

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

    view = reshape

    def transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = axes[0]
        return _ops.transpose(self, axes or None)

    def permute(self, *axes):
        return self.transpose(*axes)

    @property
    def T(self):
        return _ops.transpose(self, None)

    def swapaxes(self, axis1, axis2):
        axes = list(range(self.ndim))
        axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
        return _ops.transpose(self, axes)

    def flatten(self, start_axis=0, end_axis=-1):
        return _ops.flatten(self, start_axis, end_axis)

    def squeeze(self, axis=None):
        return _ops.squeeze(self, axis)

    def unsqueeze(self, axis):
        return _ops.unsqueeze(self, axis)

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
    @property
    def data(self):
        return self._data

    @data.setter
    def data(self, value):
        if getattr(value, "dtype", None) is not None and value.dtype.kind == "c":
            raise TypeError(_COMPLEX_MESSAGE.format(what=f"{value.dtype} data"))
        old = self._version
        self._data = value
        # keep `_version` increasing whatever writes the new array has already seen
        self._version_offset = old + 1 - autograd.storage_version(value)
        self._last_change = autograd.note_change(".data = ...")

    @property
    def _version(self):
        """How many times this tensor's values were changed (PyTorch's `_version`)."""
        return self._version_offset + autograd.storage_version(self._data)

    def _in_place(self, what, write):
        """Run write(array) on this tensor's memory, after checking that no graph is
        being recorded through it, and count the change."""
        if autograd.is_grad_enabled() and self.requires_grad:
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
        change = autograd.note_change(what)
        if not autograd.bump_storage(self._data, change):
            self._version_offset += 1
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
            if value.size != 1:
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


class _HookHandle:
    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


# Imported last: the ops modules import this one (Function builds Tensors).
from minigen import ops as _ops  # noqa: E402
