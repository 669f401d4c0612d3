"""Array-level kernels for conv2d and batch norm, with a small dispatcher.

These functions take and return raw arrays (NumPy or CuPy), never Tensors; the
autodiff ops in ``minigen.ops`` call them. Three implementations exist:

* ``kernels.reference`` — plain NumPy/CuPy code (im2col + tensordot), the ground truth;
* ``kernels.cpu``       — Numba CPU kernels (``njit(parallel=True, cache=True)``);
* ``kernels.cuda``      — Numba CUDA kernels (CuPy arrays go in via ``__cuda_array_interface__``).

Dispatch: NumPy arrays -> ``cpu``; CuPy arrays -> ``cuda``. Setting the environment
variable ``MINIGEN_KERNELS=reference`` forces the reference (read at every call). If
Numba cannot be imported the reference is used, with a single warning.
"""

import os

# Numba's OpenMP worker threads busy-wait ("spin") for a while after every parallel
# kernel. The next NumPy/BLAS call then fights them for the cores and can run up to
# 40x slower. OMP_WAIT_POLICY=passive makes them sleep instead -- but the OpenMP runtime
# reads it once, when it loads. If one is loaded already (PyTorch or scikit-learn was
# imported first), it is too late (measured: a Numba kernel + sgemm pair took 8.0 ms
# instead of 2.5 ms), and the kernels run on Numba's "workqueue" layer, whose workers
# always sleep between kernels. That layer is not the default because waking its
# workers costs ~0.1 ms per kernel (batch norm 0.17 -> 0.31 ms). A user's own
# NUMBA_THREADING_LAYER or OMP_WAIT_POLICY is never overridden.


def _openmp_runtime_loaded():
    """Is an OpenMP runtime already mapped into this process? (Linux; elsewhere: no.)"""
    try:
        with open("/proc/self/maps") as maps:
            return any(name in line for line in maps for name in ("libgomp", "libiomp", "libomp"))
    except OSError:
        return False


if "NUMBA_THREADING_LAYER" not in os.environ and _openmp_runtime_loaded():
    os.environ["NUMBA_THREADING_LAYER"] = "workqueue"
os.environ.setdefault("OMP_WAIT_POLICY", "passive")

import warnings  # noqa: E402

import numpy as np  # noqa: E402

from . import reference  # noqa: E402
from .reference import array_module  # noqa: E402

__all__ = [
    "conv2d_forward", "conv2d_grad_input", "conv2d_grad_weight",
    "batchnorm_forward_train", "batchnorm_forward_eval", "batchnorm_backward",
    "backend_for", "reference",
]

_MODES = ("", "auto", "numba", "reference")
_loaded = {}      # "cpu" / "cuda" -> module, or None when it could not be loaded
_warned = set()


def _load(name):
    """Import kernels.cpu / kernels.cuda once; None (and one warning) if Numba is missing."""
    if name not in _loaded:
        try:
            if name == "cpu":
                from . import cpu as mod
            else:
                from . import cuda as mod
        except ImportError as exc:          # numba (or numba.cuda) not importable
            mod = None
            if name not in _warned:
                _warned.add(name)
                warnings.warn(
                    f"kernels: Numba {name.upper()} kernels unavailable ({exc}); "
                    f"using the slower NumPy/CuPy reference implementation",
                    RuntimeWarning, stacklevel=3)
        _loaded[name] = mod
    return _loaded[name]


def backend_for(*arrays):
    """The module that will run an op on these arrays: kernels.cpu, kernels.cuda or kernels.reference."""
    mode = os.environ.get("MINIGEN_KERNELS", "").strip().lower()
    if mode not in _MODES:
        raise ValueError(f"MINIGEN_KERNELS={mode!r} is not one of 'reference', 'numba', 'auto'")
    if mode == "reference":
        return reference
    first = next(a for a in arrays if a is not None)
    name = "cpu" if array_module(first) is np else "cuda"
    return _load(name) or reference


def _add_bias(y, bias):
    """y[:, c] += bias[c], in place (y is a fresh kernel output)."""
    if bias is not None:
        y += bias.reshape((1, -1) + (1,) * (y.ndim - 2)).astype(y.dtype, copy=False)
    return y


def _activate(y, negative_slope):
    """y = leaky_relu(y, negative_slope) in place (ReLU for 0); None: unchanged."""
    if negative_slope is not None:
        xp = array_module(y)
        y[...] = xp.where(y > 0, y, y * y.dtype.type(negative_slope))
    return y


def conv2d_forward(x, w, stride=1, padding=0, dilation=1, groups=1, bias=None,
                   negative_slope=None, keep_columns=False):
    """y = act(conv2d(x, w) (cross-correlation) + bias). x: (N, C, H, W); w: (O, C/groups, kh, kw);
    bias: (O,) or None; y: (N, O, Ho, Wo) with Ho = (H + 2*ph - dh*(kh-1) - 1)//sh + 1.

    negative_slope: a fused leaky ReLU (0.0: ReLU), None: no activation.
    keep_columns=True returns (y, columns): the CPU kernel's column matrix, to hand to
    conv2d_grad_weight(columns=...) so that it skips its own im2col; None where the
    backend has none or it is too big to keep (kernels.cpu.KEEP_COLUMNS_MAX_BYTES)."""
    mod = backend_for(x)
    if getattr(mod, "FUSED_BIAS", False):    # the CPU kernel adds it while writing y
        return mod.conv2d_forward(x, w, stride, padding, dilation, groups, bias=bias,
                                  negative_slope=negative_slope, keep_columns=keep_columns)
    if getattr(mod, "FUSED_EPILOGUE", False):           # the CUDA kernel: in each thread
        y = mod.conv2d_forward(x, w, stride, padding, dilation, groups, bias=bias,
                               negative_slope=negative_slope)
    else:
        y = _activate(_add_bias(mod.conv2d_forward(x, w, stride, padding, dilation, groups), bias),
                      negative_slope)
    return (y, None) if keep_columns else y


def conv2d_grad_input(gy, w, x_shape, stride=1, padding=0, dilation=1, groups=1, bias=None):
    """Adjoint of conv2d_forward in x (= conv_transpose2d forward); returns gx of shape x_shape,
    plus bias (shape (x_shape[1],)) if given — the bias of a transposed convolution."""
    mod = backend_for(gy)
    if getattr(mod, "FUSED_BIAS", False):
        return mod.conv2d_grad_input(gy, w, x_shape, stride, padding, dilation, groups, bias=bias)
    return _add_bias(mod.conv2d_grad_input(gy, w, x_shape, stride, padding, dilation, groups), bias)


def conv2d_grad_weight(x, gy, w_shape, stride=1, padding=0, dilation=1, groups=1, columns=None):
    """Adjoint of conv2d_forward in w; returns gw of shape w_shape. columns: what
    conv2d_forward(x, ..., keep_columns=True) returned for this x, or None."""
    mod = backend_for(x)
    if columns is not None and getattr(mod, "FUSED_BIAS", False):
        return mod.conv2d_grad_weight(x, gy, w_shape, stride, padding, dilation, groups,
                                      columns=columns)
    return mod.conv2d_grad_weight(x, gy, w_shape, stride, padding, dilation, groups)


def batchnorm_forward_train(x, gamma, beta, eps=1e-5, negative_slope=None):
    """(y, mean, invstd): normalise with batch statistics over every axis but 1; y goes
    through a leaky ReLU of negative_slope (0.0: ReLU) in the same pass if one is given."""
    mod = backend_for(x)
    if mod is reference:
        y, mean, invstd = mod.batchnorm_forward_train(x, gamma, beta, eps)
        return _activate(y, negative_slope), mean, invstd
    return mod.batchnorm_forward_train(x, gamma, beta, eps, negative_slope=negative_slope)


def batchnorm_forward_eval(x, gamma, beta, running_mean, running_var, eps=1e-5):
    """y = (x - running_mean) / sqrt(running_var + eps) * gamma + beta."""
    return backend_for(x).batchnorm_forward_eval(x, gamma, beta, running_mean, running_var, eps)


def batchnorm_backward(gy, x, gamma, mean, invstd):
    """(gx, ggamma, gbeta) of training-mode batch norm."""
    return backend_for(x).batchnorm_backward(gy, x, gamma, mean, invstd)
