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


def _fused_chain(x, w, b, gamma, beta):
    """conv -> batch norm + LeakyReLU fused (minigen.ops.fused)."""
    from minigen.ops.fused import batch_norm_leaky_relu
    h = F.conv2d(x, w, b, stride=2, padding=1)
    return batch_norm_leaky_relu(h, None, None, gamma, beta, training=True, negative_slope=0.2)


def _fused_conv_chain(x, w, b, gamma, beta):
    """conv + bias + LeakyReLU fused, then batch norm (also fused with a ReLU)."""
    from minigen.ops.fused import batch_norm_leaky_relu, conv2d_leaky_relu
    h = conv2d_leaky_relu(x, w, b, padding=1, negative_slope=0.2)
    return batch_norm_leaky_relu(h, None, None, gamma, beta, training=True, negative_slope=0.0)


@pytest.mark.parametrize("mode", ["numba", "reference"])
@pytest.mark.parametrize("chain, shapes", [
    (_fused_chain, [(2, 2, 5, 5), (3, 2, 3, 3), (3,), (3,), (3,)]),        # direct conv kernels
    (_fused_chain, [(1, 8, 4, 4), (3, 8, 3, 3), (3,), (3,), (3,)]),        # BLAS path, kept columns
    (_fused_conv_chain, [(1, 8, 4, 4), (3, 8, 3, 3), (3,), (3,), (3,)]),
])
def test_fused_chains_first_and_second_order(mode, chain, shapes, monkeypatch):
    monkeypatch.setenv("MINIGEN_KERNELS", mode)
    rng = np.random.default_rng(2)
    inputs = [mg.tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]
    gradcheck(chain, inputs)
    gradgradcheck(chain, inputs)


def test_fused_ops_equal_the_unfused_chain_in_float32():
    """Same values and gradients as conv -> batch norm -> leaky_relu one op at a time."""
    from minigen.ops.fused import batch_norm_leaky_relu, conv2d_leaky_relu
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal(s).astype(np.float32)
              for s in [(4, 8, 9, 9), (6, 8, 4, 4), (6,), (6,), (6,)]]

    def run(fused):
        x, w, b, gamma, beta = (mg.tensor(a, requires_grad=True) for a in arrays)
        rm, rv = np.zeros(6, np.float32), np.ones(6, np.float32)
        if fused:
            h = conv2d_leaky_relu(x, w, b, stride=2, padding=1, negative_slope=0.1)
            y = batch_norm_leaky_relu(h, rm, rv, gamma, beta, training=True, negative_slope=0.2)
        else:
            h = F.leaky_relu(F.conv2d(x, w, b, stride=2, padding=1), 0.1)
            y = F.leaky_relu(F.batch_norm(h, rm, rv, gamma, beta, training=True), 0.2)
        (y * y).sum().backward()
        return [y.data, rm, rv] + [t.grad.data for t in (x, w, b, gamma, beta)]

    for a, b in zip(run(True), run(False)):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


def test_fused_ops_refuse_a_negative_slope():
    from minigen.ops.fused import batch_norm_leaky_relu, conv2d_leaky_relu
    x, w = mg.tensor(np.ones((2, 1, 3, 3))), mg.tensor(np.ones((1, 1, 2, 2)))
    with pytest.raises(ValueError, match="negative_slope >= 0"):
        conv2d_leaky_relu(x, w, negative_slope=-0.1)
    with pytest.raises(ValueError, match="negative_slope >= 0"):
        batch_norm_leaky_relu(x, None, None, training=True, negative_slope=-1.0)


def test_conv_keeps_its_columns_only_for_a_weight_gradient(monkeypatch):
    monkeypatch.delenv("MINIGEN_KERNELS", raising=False)
    rng = np.random.default_rng(4)
    x = mg.tensor(rng.standard_normal((2, 8, 6, 6)).astype(np.float32), requires_grad=True)
    w = mg.tensor(rng.standard_normal((4, 8, 3, 3)).astype(np.float32), requires_grad=True)
    y = F.conv2d(x, w, padding=1)
    assert y.creator.saved[0] is not None             # K = 72: the BLAS path keeps them
    w_frozen = mg.tensor(w.data)
    assert F.conv2d(x, w_frozen, padding=1).creator.saved == ()
    gy = mg.tensor(rng.standard_normal(y.shape).astype(np.float32))
    y.backward(gy, retain_graph=True)                 # first backward uses the columns
    first = w.grad.data.copy()
    w.grad = None
    y.backward(gy)                                    # retained: used once more
    np.testing.assert_allclose(w.grad.data, first, rtol=1e-6, atol=1e-6)
    expected = kernels.reference.conv2d_grad_weight(x.data, gy.data, w.shape, 1, 1, 1, 1)
    np.testing.assert_allclose(first, expected, rtol=1e-4, atol=1e-4)
