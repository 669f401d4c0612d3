"""minigen: a readable reverse-mode autodiff engine for learning generative models.

    import minigen as mg
    x = mg.tensor([[1.0, 2.0]], requires_grad=True)
    y = (x * x).sum()
    y.backward()          # x.grad == 2 x
"""
import os

# Numba's OpenMP workers spin after a parallel kernel and slow the next NumPy call
# many times over; "passive" makes them sleep. Must be set before numba loads.
os.environ.setdefault("OMP_WAIT_POLICY", "passive")

from minigen.autograd import no_grad, enable_grad, set_grad_enabled, is_grad_enabled, grad  # noqa: E402,F401
from minigen.tensor import Tensor  # noqa: E402,F401
from minigen.function import Function, ShapeError, DTypeError, DeviceError  # noqa: E402,F401
from minigen.backend import (  # noqa: E402,F401
    manual_seed, get_rng_state, set_rng_state, get_array_module, cupy_available)
from minigen.ops import (  # noqa: E402,F401
    add, sub, mul, div, neg, pow, exp, log, log1p, sqrt, abs, sin, cos, erf, clip, maximum,
    minimum, where, tanh, sigmoid, relu, sum, mean, var, std, max, min, logsumexp, softmax,
    log_softmax, matmul, reshape, transpose, permute, broadcast_to, concatenate, cat, stack,
    split, pad, flatten, squeeze, unsqueeze)
from minigen.creation import (  # noqa: E402,F401
    tensor, as_tensor, zeros, ones, full, zeros_like, ones_like, full_like, arange, eye,
    rand, randn, randint, normal, rand_like, randn_like, normal_like, randint_like)

__version__ = "0.1.0"

from minigen.backend import set_default_device  # noqa: E402,F401
from minigen.autograd import GraphFreedError  # noqa: E402,F401
from minigen.gradcheck import gradcheck, gradgradcheck, GradcheckError  # noqa: E402,F401
from minigen.serialization import save, load, CheckpointError  # noqa: E402,F401
from minigen import functional, nn, optim  # noqa: E402,F401
from minigen.inspect.anomaly import detect_anomaly  # noqa: E402,F401
