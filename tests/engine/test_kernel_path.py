"""The engine's conv and batch-norm ops run on the Numba kernels by default, and the
chain conv -> batch norm -> leaky_relu is exact to second order on that path."""
import numpy as np
import pytest

import kernels
import minigen as mg
import minigen.functional as F
from minigen.gradcheck import gradcheck, gradgradcheck


def test_numpy_arrays_dispatch_to_the_numba_cpu_kernels(monkeypatch):
    monkeypatch.delenv("MINIGEN_KERNELS", raising=False)
    assert kernels.backend_for(np.ones(3)) is kernels.cpu


def _chain(x, w, b, gamma, beta):
    h = F.conv2d(x, w, b, stride=2, padding=1)
    h = F.batch_norm(h, None, None, gamma, beta, training=True)
    return F.leaky_relu(h, 0.2)


def _transpose_chain(x, w, gamma, beta):
    h = F.conv_transpose2d(x, w, stride=2, padding=1)
    return F.leaky_relu(F.batch_norm(h, None, None, gamma, beta, training=True), 0.2)


@pytest.mark.parametrize("mode", ["numba", "reference"])
def test_conv_batchnorm_leaky_relu_chain_first_and_second_order(mode, monkeypatch):
    monkeypatch.setenv("MINIGEN_KERNELS", mode)
    rng = np.random.default_rng(0)
    shapes = [(2, 2, 5, 5), (3, 2, 3, 3), (3,), (3,), (3,)]
    inputs = [mg.tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]
    gradcheck(_chain, inputs)
    gradgradcheck(_chain, inputs)
    shapes = [(2, 3, 3, 3), (3, 2, 4, 4), (2,), (2,)]
    inputs = [mg.tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]
    gradcheck(_transpose_chain, inputs)
    gradgradcheck(_transpose_chain, inputs)


def test_kernel_and_reference_paths_agree_in_float32(monkeypatch):
    rng = np.random.default_rng(1)
    x, w = (rng.standard_normal(s).astype(np.float32) for s in [(4, 3, 9, 9), (5, 3, 4, 4)])
    results = {}
    for mode in ("numba", "reference"):
        monkeypatch.setenv("MINIGEN_KERNELS", mode)
        xt, wt = mg.tensor(x, requires_grad=True), mg.tensor(w, requires_grad=True)
        y = F.batch_norm(F.conv2d(xt, wt, stride=2, padding=1), None, None, training=True)
        (y * y).sum().backward()
        results[mode] = (y.data, xt.grad.data, wt.grad.data)
        assert y.dtype == xt.grad.dtype == wt.grad.dtype == np.float32
    for a, b in zip(results["numba"], results["reference"]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)
