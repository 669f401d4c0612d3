"""Making empty parameters for layers, on a device and with a dtype (PyTorch's factory kwargs)."""
import numpy as np

from minigen import backend
from minigen.nn.parameter import Parameter


def empty_parameter(shape, device=None, dtype=None):
    """A Parameter of `shape`, filled with zeros until the layer's reset_parameters runs."""
    device = backend.check_device_name(device) if device is not None else backend.default_device()
    dtype = np.dtype(dtype) if dtype is not None else np.dtype(np.float32)
    if dtype.kind != "f":
        raise TypeError(f"parameters must have a float dtype, got {dtype}")
    xp = backend.array_module_for(device)
    return Parameter(xp.zeros(shape, dtype=dtype))


def register_weight_and_bias(module, weight_shape, bias_shape, device=None, dtype=None):
    """Give `module` a `weight` and a `bias` Parameter of these shapes (still empty);
    a shape of None registers None instead: a layer without that parameter."""
    for name, shape in (("weight", weight_shape), ("bias", bias_shape)):
        module.register_parameter(name, None if shape is None else empty_parameter(shape, device, dtype))


def empty_buffer(shape, fill, device=None, dtype=None):
    """A raw array buffer (numpy or cupy) of `shape` filled with `fill`."""
    device = backend.check_device_name(device) if device is not None else backend.default_device()
    dtype = np.dtype(dtype) if dtype is not None else np.dtype(np.float32)
    return backend.array_module_for(device).full(shape, fill, dtype=dtype)


def pair(value, name):
    """An int or a pair of ints as a pair (kernel_size=3 -> (3, 3))."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
        return tuple(int(v) for v in value)
    return (int(value), int(value))
