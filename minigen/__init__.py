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

from minigen.grad_mode import no_grad, enable_grad, set_grad_enabled, is_grad_enabled  # noqa: E402,F401
from minigen.tensor import Tensor  # noqa: E402,F401  (first: the ops and autograd build on it)
from minigen.autograd import grad  # noqa: E402,F401
from minigen.function import Function, ShapeError, DTypeError, DeviceError  # noqa: E402,F401
from minigen.backend import (  # noqa: E402,F401
    manual_seed, get_rng_state, set_rng_state, get_array_module, cupy_available, device)
from minigen.ops import (  # noqa: E402,F401
    add, sub, mul, div, neg, pow, exp, log, log1p, sqrt, abs, sin, cos, erf, clip, maximum,
    minimum, where, tanh, sigmoid, relu, sum, mean, var, std, max, min, amax, amin, argmax,
    argmin, logsumexp, softmax, log_softmax, matmul, mm, bmm, reshape, transpose, permute,
    swapaxes, broadcast_to, concatenate, cat, stack, split, tensor_split, chunk, pad, flatten,
    squeeze, unsqueeze, repeat_interleave)
from minigen.ops.reduce import norm  # noqa: E402,F401
clamp = clip
from minigen.creation import (  # noqa: E402,F401
    tensor, as_tensor, zeros, ones, full, zeros_like, ones_like, full_like, arange, eye,
    rand, randn, randint, normal, rand_like, randn_like, normal_like, randint_like, from_numpy,
    is_tensor, empty, linspace, randperm)

__version__ = "0.1.0"

from minigen.backend import set_default_device  # noqa: E402,F401
from minigen.autograd import GraphFreedError  # noqa: E402,F401
from minigen.gradcheck import gradcheck, gradgradcheck, GradcheckError  # noqa: E402,F401
from minigen.serialization import save, load, CheckpointError  # noqa: E402,F401
from minigen import functional, nn, optim  # noqa: E402,F401
from minigen.inspection.anomaly import detect_anomaly  # noqa: E402,F401
from minigen import cuda  # noqa: E402,F401

# dtypes under PyTorch's names (x.to(mg.float64), mg.zeros(3, dtype=mg.long))
import numpy as _np  # noqa: E402
float32, float64, float16 = _np.float32, _np.float64, _np.float16
int64, int32, uint8 = _np.int64, _np.int32, _np.uint8
long, double, half = _np.int64, _np.float64, _np.float16
globals().update({"float": _np.float32, "int": _np.int32, "bool": _np.bool_})   # torch.float etc.
