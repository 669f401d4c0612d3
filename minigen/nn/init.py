"""Weight initialisation, with PyTorch's names and formulas.

Every function fills a Tensor (usually a Parameter) in place, without recording a
graph, and returns it:

    nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
    nn.init.zeros_(layer.bias)

Random values come from minigen's seeded generator of the tensor's device
(`mg.manual_seed`), or from `generator=` (a numpy.random.Generator) when given, so
seeded runs repeat exactly. "In place" means the Tensor object is kept and its
`.data` replaced by an array of the same shape, dtype and device.

Fans (for a weight of shape (out, in, k1, k2, ...)):
    fan_in  = in  * k1 * k2 * ...       (inputs feeding one output unit)
    fan_out = out * k1 * k2 * ...
Xavier/Glorot keeps the variance of activations and gradients ~constant for linear
/ tanh units: Var = gain^2 * 2 / (fan_in + fan_out). Kaiming/He does it for
ReLU-like units on one side: Var = gain^2 / fan.  U(-b, b) has variance b^2 / 3,
hence the sqrt(3) in the uniform versions.
"""
import math

import numpy as np

from minigen import backend
from minigen.autograd import no_grad
from minigen.tensor import Tensor


def _target(tensor, fn):
    if not isinstance(tensor, Tensor):
        raise TypeError(f"nn.init.{fn} expects a Tensor (e.g. a Parameter), got {type(tensor).__name__}")
    if tensor.dtype.kind != "f":
        raise TypeError(f"nn.init.{fn}: tensor has dtype {tensor.dtype}; initialisers fill float tensors")
    return tensor


def _draw_dtype(tensor):
    # numpy draws float32 and float64 directly; other floats (float16) go through float32
    return tensor.dtype if tensor.dtype in (np.float32, np.float64) else np.dtype(np.float32)


def _gen(tensor, generator):
    return generator if generator is not None else backend.generator(tensor.device)


def _fill(tensor, values):
    with no_grad():
        tensor.data = values.astype(tensor.dtype, copy=False).reshape(tensor.shape)
    return tensor


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill with U(a, b)."""
    _target(tensor, "uniform_")
    dt = _draw_dtype(tensor)
    u = _gen(tensor, generator).random(tensor.shape, dtype=dt)
    return _fill(tensor, a + (b - a) * u)


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill with N(mean, std^2)."""
    _target(tensor, "normal_")
    z = _gen(tensor, generator).standard_normal(tensor.shape, dtype=_draw_dtype(tensor))
    return _fill(tensor, mean + std * z)


def constant_(tensor, val):
    """Fill with the constant `val`."""
    _target(tensor, "constant_")
    xp = backend.get_array_module(tensor.data)
    return _fill(tensor, xp.full(tensor.shape, val, dtype=tensor.dtype))


def zeros_(tensor):
    """Fill with 0."""
    return constant_(tensor, 0.0)


def ones_(tensor):
    """Fill with 1."""
    return constant_(tensor, 1.0)


def calculate_gain(nonlinearity, param=None):
    """The gain that keeps activations' scale through `nonlinearity` (PyTorch's table).

        linear, conv*, sigmoid: 1    tanh: 5/3    relu: sqrt(2)
        leaky_relu: sqrt(2 / (1 + slope^2)), slope = param (default 0.01)    selu: 3/4
    """
    linear_fns = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                  "conv_transpose2d", "conv_transpose3d"]
    if nonlinearity in linear_fns or nonlinearity == "sigmoid":
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = float(param)
        else:
            raise ValueError(f"calculate_gain: negative slope {param!r} is not a number")
        return math.sqrt(2.0 / (1.0 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4.0
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def calculate_fan_in_and_fan_out(tensor):
    """(fan_in, fan_out) of a weight of shape (out, in, *kernel); needs >= 2 dims."""
    shape = tensor.shape
    if len(shape) < 2:
        raise ValueError(f"fan in and fan out need a tensor with at least 2 dims, got shape {shape}")
    receptive_field = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive_field, shape[0] * receptive_field


_calculate_fan_in_and_fan_out = calculate_fan_in_and_fan_out   # PyTorch's private name


def _fan(tensor, mode):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """Glorot uniform: U(-b, b), b = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(_target(tensor, "xavier_uniform_"))
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """Glorot normal: N(0, std^2), std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(_target(tensor, "xavier_normal_"))
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def kaiming_uniform_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He uniform: U(-b, b), b = gain * sqrt(3 / fan), gain = calculate_gain(nonlinearity, a).

    With a = sqrt(5) (what Linear and Conv2d use by default) gain = sqrt(1/3), so
    b = 1 / sqrt(fan_in).
    """
    _target(tensor, "kaiming_uniform_")
    if 0 in tensor.shape:
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He normal: N(0, std^2), std = gain / sqrt(fan), gain = calculate_gain(nonlinearity, a)."""
    _target(tensor, "kaiming_normal_")
    if 0 in tensor.shape:
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    return normal_(tensor, 0.0, std, generator)


def linear_default_(weight, bias=None):
    """PyTorch's default for Linear and convolution layers: kaiming_uniform_(a=sqrt(5)) for
    the weight, which is U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the same uniform for the bias."""
    kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = calculate_fan_in_and_fan_out(weight)
        bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        uniform_(bias, -bound, bound)


def norm_default_(weight, bias=None):
    """Normalisation layers start as the identity map: weight 1, bias 0 (either may be None)."""
    if weight is not None:
        ones_(weight)
    if bias is not None:
        zeros_(bias)


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """N(mean, std^2) restricted to [a, b] (absolute bounds, as PyTorch), by redrawing."""
    _target(tensor, "trunc_normal_")
    gen = _gen(tensor, generator)
    xp = backend.get_array_module(tensor.data)
    dt = _draw_dtype(tensor)
    values = mean + std * gen.standard_normal(tensor.shape, dtype=dt)
    bad = (values < a) | (values > b)
    while bool(bad.any()):
        redraw = mean + std * gen.standard_normal(tensor.shape, dtype=dt)
        values = xp.where(bad, redraw, values)
        bad = (values < a) | (values > b)
    return _fill(tensor, values)
