"""Array backends: NumPy on the CPU, CuPy on the GPU.

The engine never asks "are we on the GPU?". It asks the arrays: `get_array_module(a)`
returns the module (numpy or cupy) that owns `a`, and every op computes with that
module. Moving data between devices is the only place that names a device.

Random numbers come from one seeded generator per device (`manual_seed`), so that a
seeded CPU run repeats bit for bit.
"""
import json

import numpy as np

_cupy = None          # the cupy module once imported successfully
_cupy_error = None    # why importing cupy failed, to repeat in error messages


def _import_cupy():
    """Import cupy lazily: importing it is slow, and most users never need it."""
    global _cupy, _cupy_error
    if _cupy is None and _cupy_error is None:
        try:
            import cupy
            _cupy = cupy
        except Exception as exc:  # ImportError, or a CUDA library that fails to load
            _cupy_error = f"{type(exc).__name__}: {exc}"
    return _cupy


def cupy_available():
    """True when cupy imports *and* a CUDA device answers."""
    cp = _import_cupy()
    if cp is None:
        return False
    try:
        return bool(cp.cuda.is_available())
    except Exception:
        return False


def _is_cupy_array(a):
    # Checked by type name first so that numpy-only users never import cupy.
    return type(a) is not np.ndarray and type(a).__module__.startswith("cupy")


def get_array_module(*arrays):
    """numpy or cupy, whichever owns the arrays (numpy for Python scalars)."""
    for a in arrays:
        if type(a) is not np.ndarray and _is_cupy_array(a):     # (the test: every op asks)
            return _import_cupy()
    return np


def device_of(a):
    """'cuda' for a cupy array, 'cpu' for anything else."""
    return "cuda" if type(a) is not np.ndarray and _is_cupy_array(a) else "cpu"


class device(str):
    """PyTorch's torch.device: device("cpu"), device("cuda"), device("cuda", 0), device("cuda:0").

    It is a str ("cpu", "cuda" or "cuda:0"), so `t.device == "cpu"` and dict keys work as
    with plain names; `.type` is "cpu" or "cuda", `.index` the GPU number or None.
    """

    def __new__(cls, type, index=None):
        if isinstance(type, device) and index is None:
            return type
        name = str(type)
        kind, _, number = name.partition(":")
        if kind not in ("cpu", "cuda"):
            raise ValueError(f"unknown device {name!r}: expected 'cpu' or 'cuda'")
        if number and index is not None:
            raise ValueError(f"device {name!r} already names an index; do not also give index={index}")
        index = int(number) if number else (None if index is None else int(index))
        self = super().__new__(cls, kind if index is None else f"{kind}:{index}")
        self.type, self.index = kind, index
        return self

    def __eq__(self, other):
        """Same type, and the same index where both name one: a tensor's device is
        "cuda" (minigen uses the current GPU), which equals "cuda:0" as well."""
        if not isinstance(other, str):
            return NotImplemented
        try:
            other = device(other)
        except ValueError:
            return False
        return self.type == other.type and (None in (self.index, other.index) or self.index == other.index)

    def __ne__(self, other):
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self):
        return hash(self.type)

    def __repr__(self):
        return f"device(type={self.type!r}" + ("" if self.index is None else f", index={self.index}") + ")"


# The two devices a tensor can report (made once: Tensor.device is asked on every op).
CPU, CUDA = device("cpu"), device("cuda")


def check_device_name(device):
    device = str(device)
    if device.startswith("cuda"):
        return "cuda"
    if device == "cpu":
        return "cpu"
    raise ValueError(f"unknown device {device!r}: expected 'cpu' or 'cuda'")


def to_device(a, device):
    """Copy an array to 'cpu' (numpy) or 'cuda' (cupy); no copy if already there."""
    device = check_device_name(device)
    if device == "cpu":
        if _is_cupy_array(a):
            return a.get()
        return np.asarray(a)
    if not cupy_available():
        reason = _cupy_error or "cupy is installed but no CUDA device is available"
        raise RuntimeError(
            "cannot move data to 'cuda': " + reason +
            ". Install the GPU extra (pip install -e '.[gpu]') on a machine with a GPU.")
    return _cupy.asarray(a)


def as_array(value, dtype=None, like=None):
    """Turn a Python scalar, list or array into an array of the backend of `like`."""
    xp = get_array_module(like) if like is not None else get_array_module(value)
    return xp.asarray(value, dtype=dtype)


# ----------------------------------------------------------------------------- RNG
_DEFAULT_SEED = 0
_generators = {}


def manual_seed(seed):
    """Seed every device's generator; a seeded CPU run is reproducible bit for bit."""
    seed = int(seed)
    _generators["cpu"] = np.random.Generator(np.random.PCG64(seed))
    _generators.pop("cuda", None)
    _generators["_cuda_seed"] = seed


def generator(device="cpu"):
    """The random generator of a device (numpy.random.Generator or cupy's)."""
    device = check_device_name(device)
    if device == "cpu":
        if "cpu" not in _generators:
            _generators["cpu"] = np.random.Generator(np.random.PCG64(_DEFAULT_SEED))
        return _generators["cpu"]
    if "cuda" not in _generators:
        to_device(np.zeros(1), "cuda")  # raises the clear "no cuda" error
        seed = _generators.get("_cuda_seed", _DEFAULT_SEED)
        _generators["cuda"] = _cupy.random.Generator(_cupy.random.XORWOW(seed))
    return _generators["cuda"]


def get_rng_state():
    """The CPU generator's state as a JSON string (saved inside checkpoints)."""
    return json.dumps(generator("cpu").bit_generator.state)


def set_rng_state(state):
    """Restore a state returned by `get_rng_state`."""
    if not isinstance(state, str):
        raise TypeError(f"set_rng_state expects the string from get_rng_state, got {type(state).__name__}")
    bit_generator = np.random.PCG64()
    bit_generator.state = json.loads(state)
    _generators["cpu"] = np.random.Generator(bit_generator)


# ------------------------------------------------------------------- default device
_default_device = "cpu"


def set_default_device(device):
    """Where constructors (zeros, randn, ...) put tensors when no device is named."""
    global _default_device
    _default_device = check_device_name(device)


def default_device():
    return _default_device


def array_module_for(device):
    """numpy for 'cpu', cupy for 'cuda' (with a clear error when there is no GPU)."""
    if check_device_name(device) == "cpu":
        return np
    to_device(np.zeros(1), "cuda")   # raises the clear "no cuda" error
    return _cupy
