"""The CUDA kernels on a real GPU with CuPy arrays (skipped without one)."""

import os

import numpy as np
import pytest

import kernels
from kernels import reference as ref
from kernel_cases import conv_out_shape


def _cupy_or_skip():
    try:
        import cupy
    except ImportError:
        pytest.skip("needs CuPy (pip install 'minigen[gpu]'); cupy is not installed")
    try:
        available = cupy.cuda.is_available()
    except Exception as exc:                       # broken driver / runtime
        pytest.skip(f"cupy.cuda.is_available() failed: {exc}")
    if not available:
        pytest.skip("needs a CUDA device: cupy.cuda.is_available() is False")
    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        pytest.skip("NUMBA_ENABLE_CUDASIM=1 replaces the GPU with the simulator in this process")
    return cupy


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", [
    ((2, 4, 9, 7), (6, 4, 3, 3), (1, 1), (1, 1), (1, 1), 1),
    ((3, 6, 14, 14), (8, 3, 4, 4), (2, 2), (1, 1), (1, 1), 2),
    ((1, 3, 10, 11), (3, 1, 3, 2), (2, 1), (2, 0), (2, 3), 3),
])
def test_gpu_kernels_match_reference(case, dtype, monkeypatch):
    cp = _cupy_or_skip()
    monkeypatch.delenv("MINIGEN_KERNELS", raising=False)
    from kernels import cuda as kc
    rng = np.random.default_rng(0)
    xs, ws, s, p, d, g = case
    x = rng.standard_normal(xs).astype(dtype)
    w = rng.standard_normal(ws).astype(dtype)
    gy = rng.standard_normal(conv_out_shape(xs, ws, s, p, d)).astype(dtype)
    X, Wt, GY = cp.asarray(x), cp.asarray(w), cp.asarray(gy)
    assert kernels.backend_for(X) is kc
    got = [kernels.conv2d_forward(X, Wt, s, p, d, g),
           kernels.conv2d_grad_input(GY, Wt, xs, s, p, d, g),
           kernels.conv2d_grad_weight(X, GY, ws, s, p, d, g)]
    exp = [ref.conv2d_forward(x, w, s, p, d, g), ref.conv2d_grad_input(gy, w, xs, s, p, d, g),
           ref.conv2d_grad_weight(x, gy, ws, s, p, d, g)]
    tol = 1e-10 if dtype == np.float64 else 1e-4
    for a, e in zip(got, exp):
        assert isinstance(a, cp.ndarray) and a.dtype == dtype      # stayed on the device
        np.testing.assert_allclose(cp.asnumpy(a), e, rtol=tol, atol=tol)

    xb = (rng.standard_normal((8, 5, 3, 3)) * 2 + 1).astype(dtype)
    gamma, beta = rng.standard_normal(5).astype(dtype), rng.standard_normal(5).astype(dtype)
    XB, GA, BE = cp.asarray(xb), cp.asarray(gamma), cp.asarray(beta)
    yb, mean, invstd = kernels.batchnorm_forward_train(XB, GA, BE, 1e-5)
    eyb, emean, einv = ref.batchnorm_forward_train(xb, gamma, beta, 1e-5)
    for a, e in ((yb, eyb), (mean, emean), (invstd, einv)):
        np.testing.assert_allclose(cp.asnumpy(a), e, rtol=tol, atol=tol)
    for a, e in zip(kernels.batchnorm_backward(XB, XB, GA, mean, invstd),
                    ref.batchnorm_backward(xb, xb, gamma, emean, einv)):
        np.testing.assert_allclose(cp.asnumpy(a), e, rtol=tol, atol=tol)
    np.testing.assert_allclose(
        cp.asnumpy(kernels.batchnorm_forward_eval(XB, GA, BE, mean, invstd, 1e-5)),
        ref.batchnorm_forward_eval(xb, gamma, beta, emean, einv, 1e-5), rtol=tol, atol=tol)


@pytest.mark.gpu
def test_gpu_reference_mode_runs_on_cupy(monkeypatch):
    cp = _cupy_or_skip()
    monkeypatch.setenv("MINIGEN_KERNELS", "reference")
    x = cp.ones((1, 1, 3, 3), dtype=cp.float32)
    y = kernels.conv2d_forward(x, cp.ones((1, 1, 2, 2), dtype=cp.float32))
    assert isinstance(y, cp.ndarray) and float(y.sum()) == 16.0
