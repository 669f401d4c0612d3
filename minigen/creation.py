"""Making tensors: from data, filled with a constant, or random.

Every constructor takes `dtype` (default float32, like PyTorch) and `device`
(default: `backend.default_device()`, normally 'cpu'). Random ones draw from the
seeded generator of that device (`mg.manual_seed`).
"""
import numpy as np

from minigen import backend
from minigen.tensor import Tensor

DEFAULT_DTYPE = np.float32


def _device(device):
    return backend.check_device_name(device) if device is not None else backend.default_device()


def _shape(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new leaf tensor holding a copy of `data` (list, scalar, numpy or cupy array).

    Python floats become float32 (like PyTorch); arrays keep their dtype unless given.
    """
    if isinstance(data, Tensor):
        data = data.data
    if dtype is None and not hasattr(data, "dtype"):
        array = np.asarray(data)
        dtype = DEFAULT_DTYPE if array.dtype == np.float64 else array.dtype
    array = backend.get_array_module(data).array(data, dtype=dtype, copy=True)
    if device is not None or not hasattr(data, "dtype"):     # an array stays where it is
        array = backend.to_device(array, _device(device))
    return Tensor(array, requires_grad=requires_grad)


def as_tensor(data, dtype=None, device=None):
    """`data` if it already is a Tensor (of that dtype and device), else a new tensor."""
    if isinstance(data, Tensor):
        return data.to(device=device, dtype=dtype)
    return tensor(data, dtype=dtype, device=device)


def full(shape, fill_value, dtype=DEFAULT_DTYPE, device=None, requires_grad=False):
    xp = backend.array_module_for(_device(device))
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    return Tensor(xp.full(shape, fill_value, dtype=dtype), requires_grad=requires_grad)


def zeros(*shape, dtype=DEFAULT_DTYPE, device=None, requires_grad=False):
    return full(_shape(shape), 0, dtype, device, requires_grad)


def ones(*shape, dtype=DEFAULT_DTYPE, device=None, requires_grad=False):
    return full(_shape(shape), 1, dtype, device, requires_grad)


def zeros_like(x, dtype=None, requires_grad=False):
    return full(x.shape, 0, dtype or x.dtype, x.device, requires_grad)


def ones_like(x, dtype=None, requires_grad=False):
    return full(x.shape, 1, dtype or x.dtype, x.device, requires_grad)


def full_like(x, fill_value, dtype=None, requires_grad=False):
    return full(x.shape, fill_value, dtype or x.dtype, x.device, requires_grad)


def arange(*args, dtype=None, device=None, requires_grad=False):
    """Like torch.arange: integer arguments give int64, a float argument float32 (NumPy's
    np.arange would give float64)."""
    xp = backend.array_module_for(_device(device))
    if dtype is None:
        dtype = DEFAULT_DTYPE if any(isinstance(a, float) for a in args) else np.int64
    return Tensor(xp.arange(*args, dtype=dtype), requires_grad=requires_grad)


def eye(n, m=None, dtype=DEFAULT_DTYPE, device=None):
    xp = backend.array_module_for(_device(device))
    return Tensor(xp.eye(n, m, dtype=dtype))


# ------------------------------------------------------------------ random
def _random(draw, shape, dtype, device, requires_grad):
    device = _device(device)
    gen = backend.generator(device)
    return Tensor(draw(gen, _shape(shape)).astype(dtype, copy=False), requires_grad=requires_grad)


def rand(*shape, dtype=DEFAULT_DTYPE, device=None, requires_grad=False):
    """Uniform on [0, 1)."""
    return _random(lambda g, s: g.random(s, dtype=dtype), shape, dtype, device, requires_grad)


def randn(*shape, dtype=DEFAULT_DTYPE, device=None, requires_grad=False):
    """Standard normal."""
    return _random(lambda g, s: g.standard_normal(s, dtype=dtype), shape, dtype, device, requires_grad)


def normal(mean=0.0, std=1.0, size=(), dtype=DEFAULT_DTYPE, device=None, requires_grad=False):
    """Normal with the given mean and standard deviation."""
    size = (size,) if isinstance(size, int) else size
    return _random(lambda g, s: mean + std * g.standard_normal(s, dtype=dtype),
                   (tuple(size),), dtype, device, requires_grad)


def randint(low, high=None, size=(), dtype=np.int64, device=None):
    """Integers in [low, high) (or [0, low) when high is omitted)."""
    if high is None:
        low, high = 0, low
    size = (size,) if isinstance(size, int) else size
    return _random(lambda g, s: g.integers(low, high, size=s), (tuple(size),), dtype, device, False)


def rand_like(x, dtype=None, requires_grad=False):
    return rand(x.shape, dtype=dtype or x.dtype, device=x.device, requires_grad=requires_grad)


def randn_like(x, dtype=None, requires_grad=False):
    return randn(x.shape, dtype=dtype or x.dtype, device=x.device, requires_grad=requires_grad)


def normal_like(x, mean=0.0, std=1.0, dtype=None, requires_grad=False):
    return normal(mean, std, x.shape, dtype=dtype or x.dtype, device=x.device, requires_grad=requires_grad)


def randint_like(x, low, high=None, dtype=None):
    return randint(low, high, x.shape, dtype=dtype or x.dtype, device=x.device)


# ------------------------------------------------------------------ more PyTorch names
def from_numpy(array):
    """A tensor sharing `array`'s memory (torch.from_numpy); its dtype is kept."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expects a numpy.ndarray, got {type(array).__name__}")
    return Tensor(array)


def is_tensor(obj):
    return isinstance(obj, Tensor)


def empty(*shape, dtype=DEFAULT_DTYPE, device=None, requires_grad=False):
    """torch.empty: here filled with zeros (a NumPy array is never left uninitialised)."""
    return full(_shape(shape), 0, dtype, device, requires_grad)


def linspace(start, end, steps, dtype=DEFAULT_DTYPE, device=None, requires_grad=False):
    """`steps` evenly spaced values from start to end, both included (torch.linspace)."""
    xp = backend.array_module_for(_device(device))
    return Tensor(xp.linspace(start, end, int(steps), dtype=dtype), requires_grad=requires_grad)


def randperm(n, dtype=np.int64, device=None):
    """A random permutation of 0..n-1 from the device's seeded generator."""
    gen = backend.generator(_device(device))
    return Tensor(gen.permutation(int(n)).astype(dtype, copy=False))
