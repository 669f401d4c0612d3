"""The Numba CUDA kernels, run in the CUDA simulator, equal the NumPy reference.

The simulator must be switched on before numba is first imported, so these tests only
run in a process started with NUMBA_ENABLE_CUDASIM=1 (tests/kernels/test_kernels_cuda_sim.py
starts one as part of the normal test run):

    NUMBA_ENABLE_CUDASIM=1 python -m pytest tests/cuda_sim

The simulator runs every GPU thread as a Python thread (about a millisecond each), so
the shapes stay tiny.
"""

import os
import sys

import numpy as np
import pytest


def _simulator_enabled():
    if "numba" in sys.modules:                 # too late to switch: ask numba
        return bool(sys.modules["numba"].config.ENABLE_CUDASIM)
    return os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"


if not _simulator_enabled():
    pytest.skip("CUDA simulator tests need NUMBA_ENABLE_CUDASIM=1 set before numba is imported; "
                "they run in their own process via tests/kernels/test_kernels_cuda_sim.py",
                allow_module_level=True)

from kernels import cuda as kc                         # noqa: E402
from kernels import reference as ref                   # noqa: E402
from kernel_cases import (DTYPES, check_close, conv_all, conv_out_shape, noncontiguous,
                          random_conv_case)  # noqa: E402


def test_simulator_is_really_on():
    from numba import config
    assert config.ENABLE_CUDASIM


def _arrays(rng, case, dtype):
    xs, ws, s, p, d, g = case
    return (rng.standard_normal(xs).astype(dtype), rng.standard_normal(ws).astype(dtype),
            rng.standard_normal(conv_out_shape(xs, ws, s, p, d)).astype(dtype))


CONV_CASES = [
    # (x_shape, w_shape, stride, padding, dilation, groups)
    ((1, 2, 5, 4), (3, 2, 3, 3), (1, 1), (1, 1), (1, 1), 1),      # batch 1, odd sizes, padding
    ((2, 2, 6, 6), (2, 2, 4, 4), (2, 2), (1, 1), (1, 1), 1),      # k4 s2 p1 (DCGAN)
    ((1, 4, 5, 5), (4, 2, 2, 3), (2, 1), (0, 2), (2, 1), 2),      # groups, dilation, asymmetric
    ((2, 3, 4, 3), (3, 1, 3, 3), (1, 1), (1, 1), (1, 1), 3),      # depthwise
    ((1, 1, 7, 7), (1, 1, 3, 3), (3, 3), (2, 2), (2, 2), 1),      # padding beyond the reach
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CONV_CASES)
def test_cuda_conv_matches_reference(case, dtype):
    rng = np.random.default_rng(1)
    x, w, gy = _arrays(rng, case, dtype)
    for a, e in zip(conv_all(kc, x, w, gy, case), conv_all(ref, x, w, gy, case)):
        check_close(a, e, dtype)


@pytest.mark.parametrize("seed", range(4))
def test_cuda_conv_matches_reference_random(seed):
    rng = np.random.default_rng(100 + seed)
    case = random_conv_case(rng, max_hw=5, max_ch=2, max_k=3)
    dtype = DTYPES[seed % 2]
    x, w, gy = _arrays(rng, case, dtype)
    for a, e in zip(conv_all(kc, x, w, gy, case), conv_all(ref, x, w, gy, case)):
        check_close(a, e, dtype)


def test_cuda_conv_noncontiguous_and_output_padding():
    rng = np.random.default_rng(2)
    case = ((1, 2, 4, 5), (2, 2, 3, 3), (2, 2), (1, 1), (1, 1), 1)
    x, w, gy = _arrays(rng, case, np.float64)
    expected = conv_all(ref, x, w, gy, case)
    for a, e in zip(conv_all(kc, noncontiguous(x), noncontiguous(w), noncontiguous(gy), case),
                    expected):
        check_close(a, e, np.float64)
    # conv_transpose2d with output_padding: x one row/column larger than the minimum
    xs = (1, 2, 3, 6)     # H=3 and H=4, W=5 and W=6 all give the same 2x3 output
    check_close(kc.conv2d_grad_input(gy, w, xs, 2, 1, 1, 1),
           ref.conv2d_grad_input(gy, w, xs, 2, 1, 1, 1), np.float64)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(5, 3), (1, 2, 3), (3, 2, 4, 3)])
def test_cuda_batchnorm_matches_reference(shape, dtype):
    rng = np.random.default_rng(3)
    x = (rng.standard_normal(shape) * 2 + 1).astype(dtype)
    C = shape[1]
    gamma, beta = rng.standard_normal(C).astype(dtype), rng.standard_normal(C).astype(dtype)
    exp = ref.batchnorm_forward_train(x, gamma, beta, 1e-5)
    for a, e in zip(kc.batchnorm_forward_train(x, gamma, beta, 1e-5), exp):
        check_close(a, e, dtype)
    _, mean, invstd = exp
    gy = rng.standard_normal(shape).astype(dtype)
    for a, e in zip(kc.batchnorm_backward(gy, x, gamma, mean, invstd),
                    ref.batchnorm_backward(gy, x, gamma, mean, invstd)):
        check_close(a, e, dtype)
    rv = (rng.random(C) + 0.5).astype(dtype)
    check_close(kc.batchnorm_forward_eval(x, gamma, beta, mean, rv, 1e-3),
           ref.batchnorm_forward_eval(x, gamma, beta, mean, rv, 1e-3), dtype)


def test_cuda_batchnorm_without_affine_and_noncontiguous():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 2, 2, 4))
    xv = noncontiguous(x)
    exp = ref.batchnorm_forward_train(x, None, None, 1e-5)
    for a, e in zip(kc.batchnorm_forward_train(xv, None, None, 1e-5), exp):
        check_close(a, e, np.float64)
    gy = rng.standard_normal(x.shape)
    for a, e in zip(kc.batchnorm_backward(noncontiguous(gy), xv, None, exp[1], exp[2]),
                    ref.batchnorm_backward(gy, x, None, exp[1], exp[2])):
        check_close(a, e, np.float64)
    check_close(kc.batchnorm_forward_eval(xv, None, None, exp[1], exp[2], 1e-5),
           ref.batchnorm_forward_eval(x, None, None, exp[1], exp[2], 1e-5), np.float64)


def test_cuda_argument_errors():
    with pytest.raises(ValueError, match="conv2d_forward: weight shape"):
        kc.conv2d_forward(np.zeros((1, 4, 5, 5)), np.zeros((2, 3, 3, 3)), 1, 0, 1, 1)
    with pytest.raises(ValueError, match="batchnorm_forward_train: gamma must have shape"):
        kc.batchnorm_forward_train(np.zeros((4, 3)), np.ones(4), None)


def test_cuda_conv_empty_batch():
    x, w, gy = np.zeros((0, 3, 5, 5)), np.ones((2, 3, 3, 3)), np.zeros((0, 2, 3, 3))
    assert kc.conv2d_forward(x, w, 1, 0, 1, 1).shape == (0, 2, 3, 3)
    assert kc.conv2d_grad_input(gy, w, x.shape, 1, 0, 1, 1).shape == (0, 3, 5, 5)
    gw = kc.conv2d_grad_weight(x, gy, w.shape, 1, 0, 1, 1)
    assert gw.shape == w.shape and not gw.any()


def _leaky(a, slope):
    return np.where(a > 0, a, a * slope)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("slope", [None, 0.0, 0.2])
def test_cuda_conv_fused_bias_and_leaky_relu(slope, dtype):
    """The fused epilogue of conv2d_forward (bias + leaky ReLU in each thread)."""
    rng = np.random.default_rng(5)
    case = ((2, 4, 5, 4), (6, 2, 3, 3), (2, 1), (1, 1), (1, 1), 2)
    x, w, _ = _arrays(rng, case, dtype)
    b = rng.standard_normal(6).astype(dtype)
    expected = ref.conv2d_forward(noncontiguous(x), w, *case[2:]) + b.reshape(1, -1, 1, 1)
    if slope is not None:
        expected = _leaky(expected, slope)
    check_close(kc.conv2d_forward(noncontiguous(x), w, *case[2:], bias=b, negative_slope=slope),
                expected, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(5, 3), (1, 2, 3), (3, 2, 4, 3)])
def test_cuda_batchnorm_fused_leaky_relu(shape, dtype):
    rng = np.random.default_rng(6)
    x = rng.standard_normal(shape).astype(dtype)
    gamma, beta = rng.standard_normal((2, shape[1])).astype(dtype)
    y, mean, invstd = ref.batchnorm_forward_train(x, gamma, beta, 1e-5)
    got = kc.batchnorm_forward_train(noncontiguous(x), gamma, beta, 1e-5, negative_slope=0.1)
    for a, e in zip(got, (_leaky(y, 0.1), mean, invstd)):
        check_close(a, e, dtype)
