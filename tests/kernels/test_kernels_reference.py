"""The NumPy reference is itself checked: against naive loops and the adjoint identity."""

import numpy as np
import pytest

from kernels import reference as ref
from kernel_cases import conv_out_shape, naive_conv2d, random_conv_case


def _vdot(a, b):
    return float(np.sum(np.asarray(a, np.float64) * np.asarray(b, np.float64)))


@pytest.mark.parametrize("seed", range(25))
def test_reference_conv_forward_matches_naive_loop(seed):
    rng = np.random.default_rng(seed)
    xs, ws, s, p, d, g = random_conv_case(rng)
    x, w = rng.standard_normal(xs), rng.standard_normal(ws)
    y = ref.conv2d_forward(x, w, s, p, d, g)
    assert y.shape == conv_out_shape(xs, ws, s, p, d)
    np.testing.assert_allclose(y, naive_conv2d(x, w, s, p, d, g), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("seed", range(40))
def test_reference_conv_adjoint_identity(seed):
    """<conv(x, w), gy> == <x, grad_input(gy, w)> == <w, grad_weight(x, gy)>."""
    rng = np.random.default_rng(1000 + seed)
    xs, ws, s, p, d, g = random_conv_case(rng, max_hw=12)
    x, w = rng.standard_normal(xs), rng.standard_normal(ws)
    gy = rng.standard_normal(conv_out_shape(xs, ws, s, p, d))
    gx = ref.conv2d_grad_input(gy, w, xs, s, p, d, g)
    gw = ref.conv2d_grad_weight(x, gy, ws, s, p, d, g)
    assert gx.shape == xs and gw.shape == ws
    lhs = _vdot(ref.conv2d_forward(x, w, s, p, d, g), gy)
    assert _vdot(x, gx) == pytest.approx(lhs, rel=1e-10, abs=1e-10)
    assert _vdot(w, gw) == pytest.approx(lhs, rel=1e-10, abs=1e-10)


def test_reference_grad_input_with_output_padding_shape():
    """conv_transpose2d with output_padding asks for a larger x_shape than the minimum."""
    rng = np.random.default_rng(7)
    w = rng.standard_normal((3, 2, 3, 3))
    gy = rng.standard_normal((2, 3, 4, 4))
    # k3 s2 p1: x of 7 or 8 both give 4 outputs; the extra row/column gets only padding.
    for H in (7, 8):
        xs = (2, 2, H, H)
        gx = ref.conv2d_grad_input(gy, w, xs, 2, 1, 1, 1)
        x = rng.standard_normal(xs)
        lhs = _vdot(ref.conv2d_forward(x, w, 2, 1, 1, 1), gy)
        assert gx.shape == xs
        assert _vdot(x, gx) == pytest.approx(lhs, rel=1e-10)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_reference_keeps_dtype_and_contiguity(dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4, 6, 5)).astype(dtype)[:, :, ::-1]       # negative strides
    w = rng.standard_normal((6, 2, 3, 3)).astype(dtype)
    y = ref.conv2d_forward(x, w, 1, 1, 1, 2)
    gy = np.ones_like(y)
    outs = [y, ref.conv2d_grad_input(gy, w, x.shape, 1, 1, 1, 2),
            ref.conv2d_grad_weight(x, gy, w.shape, 1, 1, 1, 2)]
    xb = rng.standard_normal((3, 4, 2)).astype(dtype)
    gamma, beta = np.ones(4, dtype), np.zeros(4, dtype)
    yb, mean, invstd = ref.batchnorm_forward_train(xb, gamma, beta, 1e-5)
    outs += [yb, mean, invstd, ref.batchnorm_forward_eval(xb, gamma, beta, mean, invstd, 1e-5)]
    outs += list(ref.batchnorm_backward(np.ones_like(xb), xb, gamma, mean, invstd))
    for o in outs:
        assert o.dtype == dtype
        assert o.flags.c_contiguous


# ------------------------------------------------------------------------- batch norm

def _naive_bn_train(x, gamma, beta, eps):
    C = x.shape[1]
    xc = np.moveaxis(x, 1, 0).reshape(C, -1)
    mean = xc.mean(axis=1)
    var = ((xc - mean[:, None]) ** 2).mean(axis=1)
    invstd = 1 / np.sqrt(var + eps)
    yc = (xc - mean[:, None]) * invstd[:, None] * gamma[:, None] + beta[:, None]
    shape = (C, x.shape[0]) + x.shape[2:]
    return np.moveaxis(yc.reshape(shape), 0, 1), mean, invstd


@pytest.mark.parametrize("shape", [(5, 3), (1, 2, 3), (4, 3, 5, 2), (2, 1, 3, 2, 2)])
def test_reference_batchnorm_forward(shape):
    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape) * 3 + 1
    C = shape[1]
    gamma, beta = rng.standard_normal(C), rng.standard_normal(C)
    y, mean, invstd = ref.batchnorm_forward_train(x, gamma, beta, 1e-3)
    ye, me, ie = _naive_bn_train(x, gamma, beta, 1e-3)
    np.testing.assert_allclose(y, ye, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(mean, me, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(invstd, ie, rtol=1e-12)
    # eval mode with the batch statistics as running statistics reproduces training mode
    var = 1 / invstd ** 2 - 1e-3
    np.testing.assert_allclose(ref.batchnorm_forward_eval(x, gamma, beta, mean, var, 1e-3), y,
                               rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("shape", [(6, 3), (2, 2, 3, 3), (1, 2, 5)])
def test_reference_batchnorm_backward_finite_differences(shape):
    """Backward of L = sum(y * r) by central differences through the training forward."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal(shape)
    C = shape[1]
    gamma, beta = rng.standard_normal(C), rng.standard_normal(C)
    r = rng.standard_normal(shape)
    eps = 1e-2

    def loss(x_, g_, b_):
        return float(np.sum(ref.batchnorm_forward_train(x_, g_, b_, eps)[0] * r))

    _, mean, invstd = ref.batchnorm_forward_train(x, gamma, beta, eps)
    gx, gg, gb = ref.batchnorm_backward(r, x, gamma, mean, invstd)
    h = 1e-6
    for arr, grad, args in ((x, gx, 0), (gamma, gg, 1), (beta, gb, 2)):
        num = np.zeros_like(arr)
        for idx in np.ndindex(arr.shape):
            vals = [x.copy(), gamma.copy(), beta.copy()]
            vals[args][idx] += h
            up = loss(*vals)
            vals[args][idx] -= 2 * h
            num[idx] = (up - loss(*vals)) / (2 * h)
        np.testing.assert_allclose(grad, num, rtol=1e-6, atol=1e-7)


def test_reference_batchnorm_without_affine():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 3, 2))
    y, mean, invstd = ref.batchnorm_forward_train(x, None, None, 1e-5)
    y1, _, _ = ref.batchnorm_forward_train(x, np.ones(3), np.zeros(3), 1e-5)
    np.testing.assert_allclose(y, y1)
    gy = rng.standard_normal(x.shape)
    for a, b in zip(ref.batchnorm_backward(gy, x, None, mean, invstd),
                    ref.batchnorm_backward(gy, x, np.ones(3), mean, invstd)):
        np.testing.assert_allclose(a, b)
