"""Plain array reference for the conv2d and batch-norm kernels.

Readable first, fast second. Works on NumPy arrays and on CuPy arrays (``xp`` is the
array module of the inputs). Every other backend is tested against this file.

Convolution (cross-correlation, as in every DL library), one group::

    y[n, o, i, j] = sum_{c, p, q} w[o, c, p, q] * xpad[n, c, i*sh + p*dh, j*sw + q*dw]

We gather the input patches into a "column" array (im2col)::

    cols[n, c, p, q, i, j] = xpad[n, c, i*sh + p*dh, j*sw + q*dw]

after which the convolution is a single tensordot over (c, p, q). The two gradients
are the adjoints of that linear map: grad-input contracts gy with w and scatters the
columns back (col2im); grad-weight contracts gy with the columns.
"""

import numpy as np

from .checks import (bn_params, check_grad_output, common_dtype, conv_params, pair)


def array_module(a):
    """``numpy`` for NumPy arrays, ``cupy`` for CuPy arrays (cupy imported only then)."""
    if type(a).__module__.split(".")[0] == "cupy":
        import cupy
        return cupy
    return np


# ----------------------------------------------------------------------------- conv2d

def _windows(Ho, Wo, stride, dilation, p, q):
    """Slices of the padded input that kernel tap (p, q) sees for all outputs (i, j)."""
    (sh, sw), (dh, dw) = stride, dilation
    rows = slice(p * dh, p * dh + sh * (Ho - 1) + 1, sh)
    cols = slice(q * dw, q * dw + sw * (Wo - 1) + 1, sw)
    return rows, cols


def im2col(x, kh, kw, stride, padding, dilation, out_hw):
    """cols[n, c, p, q, i, j] = xpad[n, c, i*sh + p*dh, j*sw + q*dw]."""
    xp = array_module(x)
    (ph, pw), (Ho, Wo) = padding, out_hw
    N, C, H, W = x.shape
    xpad = xp.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=x.dtype)
    xpad[:, :, ph:ph + H, pw:pw + W] = x
    cols = xp.empty((N, C, kh, kw, Ho, Wo), dtype=x.dtype)
    for p in range(kh):
        for q in range(kw):
            r, c = _windows(Ho, Wo, stride, dilation, p, q)
            cols[:, :, p, q] = xpad[:, :, r, c]
    return cols


def col2im(cols, x_shape, stride, padding, dilation):
    """Adjoint of im2col: add every column entry back where it was read from."""
    xp = array_module(cols)
    N, C, kh, kw, Ho, Wo = cols.shape
    (ph, pw) = padding
    _, _, H, W = x_shape
    xpad = xp.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=cols.dtype)
    for p in range(kh):
        for q in range(kw):
            r, c = _windows(Ho, Wo, stride, dilation, p, q)
            xpad[:, :, r, c] += cols[:, :, p, q]
    return xpad[:, :, ph:ph + H, pw:pw + W]


def conv2d_forward(x, w, stride=1, padding=0, dilation=1, groups=1):
    """y[n, g*Og + o, i, j] = sum_{c,p,q} w[g*Og + o, c, p, q] * cols[n, g*Cg + c, p, q, i, j]."""
    op = "conv2d_forward"
    stride, padding, dilation, groups, (Ho, Wo) = conv_params(
        op, x.shape, w.shape, stride, padding, dilation, groups)
    xp = array_module(x)
    dt = common_dtype(op, x, w)
    x, w = x.astype(dt, copy=False), w.astype(dt, copy=False)
    N, C, _, _ = x.shape
    O, Cg, kh, kw = w.shape
    Og = O // groups
    cols = im2col(x, kh, kw, stride, padding, dilation, (Ho, Wo))
    y = xp.empty((N, O, Ho, Wo), dtype=dt)
    for g in range(groups):
        wg = w[g * Og:(g + 1) * Og]                      # (Og, Cg, kh, kw)
        cg = cols[:, g * Cg:(g + 1) * Cg]                # (N, Cg, kh, kw, Ho, Wo)
        yg = xp.tensordot(wg, cg, axes=([1, 2, 3], [1, 2, 3]))   # (Og, N, Ho, Wo)
        y[:, g * Og:(g + 1) * Og] = yg.transpose(1, 0, 2, 3)
    return y


def conv2d_grad_input(gy, w, x_shape, stride=1, padding=0, dilation=1, groups=1):
    """gx = col2im(sum_o w[o, c, p, q] * gy[n, o, i, j]) — the transposed convolution."""
    op = "conv2d_grad_input"
    x_shape = tuple(int(s) for s in x_shape)
    stride, padding, dilation, groups, (Ho, Wo) = conv_params(
        op, x_shape, w.shape, stride, padding, dilation, groups)
    check_grad_output(op, gy.shape, x_shape[0], w.shape[0], Ho, Wo, x_name="x_shape")
    xp = array_module(gy)
    dt = common_dtype(op, gy, w)
    gy, w = gy.astype(dt, copy=False), w.astype(dt, copy=False)
    N, C, _, _ = x_shape
    O, Cg, kh, kw = w.shape
    Og = O // groups
    gcols = xp.empty((N, C, kh, kw, Ho, Wo), dtype=dt)
    for g in range(groups):
        wg = w[g * Og:(g + 1) * Og]                      # (Og, Cg, kh, kw)
        gyg = gy[:, g * Og:(g + 1) * Og]                 # (N, Og, Ho, Wo)
        gc = xp.tensordot(wg, gyg, axes=([0], [1]))      # (Cg, kh, kw, N, Ho, Wo)
        gcols[:, g * Cg:(g + 1) * Cg] = gc.transpose(3, 0, 1, 2, 4, 5)
    return xp.ascontiguousarray(col2im(gcols, x_shape, stride, padding, dilation))


def conv2d_grad_weight(x, gy, w_shape, stride=1, padding=0, dilation=1, groups=1):
    """gw[o, c, p, q] = sum_{n,i,j} gy[n, o, i, j] * cols[n, c, p, q, i, j] (per group)."""
    op = "conv2d_grad_weight"
    w_shape = tuple(int(s) for s in w_shape)
    stride, padding, dilation, groups, (Ho, Wo) = conv_params(
        op, x.shape, w_shape, stride, padding, dilation, groups)
    check_grad_output(op, gy.shape, x.shape[0], w_shape[0], Ho, Wo)
    xp = array_module(x)
    dt = common_dtype(op, x, gy)
    x, gy = x.astype(dt, copy=False), gy.astype(dt, copy=False)
    O, Cg, kh, kw = w_shape
    Og = O // groups
    cols = im2col(x, kh, kw, stride, padding, dilation, (Ho, Wo))
    gw = xp.empty(w_shape, dtype=dt)
    for g in range(groups):
        gyg = gy[:, g * Og:(g + 1) * Og]                 # (N, Og, Ho, Wo)
        cg = cols[:, g * Cg:(g + 1) * Cg]                # (N, Cg, kh, kw, Ho, Wo)
        gw[g * Og:(g + 1) * Og] = xp.tensordot(gyg, cg, axes=([0, 2, 3], [0, 4, 5]))
    return gw


# ------------------------------------------------------------------------- batch norm

def _bcast(v, ndim):
    """(C,) -> (1, C, 1, ..., 1) so it broadcasts against an (N, C, *spatial) array."""
    return v.reshape((1, -1) + (1,) * (ndim - 2))


def _reduce_axes(ndim):
    return (0,) + tuple(range(2, ndim))


def batchnorm_forward_train(x, gamma, beta, eps=1e-5):
    """Batch statistics over every axis but 1 (biased variance)::

        mean = E[x],  invstd = 1 / sqrt(E[(x - mean)^2] + eps)
        y = (x - mean) * invstd * gamma + beta

    gamma / beta may be None (no affine transform). Returns (y, mean, invstd).
    """
    op = "batchnorm_forward_train"
    bn_params(op, x, ("gamma", gamma), ("beta", beta))
    xp = array_module(x)
    dt = common_dtype(op, x)
    x = x.astype(dt, copy=False)
    axes = _reduce_axes(x.ndim)
    mean = x.mean(axis=axes)
    xc = x - _bcast(mean, x.ndim)
    var = (xc * xc).mean(axis=axes)
    invstd = (1.0 / xp.sqrt(var + eps)).astype(dt, copy=False)
    y = xc * _bcast(invstd, x.ndim)
    if gamma is not None:
        y *= _bcast(gamma.astype(dt, copy=False), x.ndim)
    if beta is not None:
        y += _bcast(beta.astype(dt, copy=False), x.ndim)
    return xp.ascontiguousarray(y), mean, invstd


def batchnorm_forward_eval(x, gamma, beta, running_mean, running_var, eps=1e-5):
    """y = (x - running_mean) / sqrt(running_var + eps) * gamma + beta."""
    op = "batchnorm_forward_eval"
    bn_params(op, x, ("gamma", gamma), ("beta", beta),
              ("running_mean", running_mean), ("running_var", running_var))
    xp = array_module(x)
    dt = common_dtype(op, x)
    x = x.astype(dt, copy=False)
    scale = 1.0 / xp.sqrt(running_var.astype(dt, copy=False) + eps)
    if gamma is not None:
        scale = scale * gamma.astype(dt, copy=False)
    shift = -running_mean.astype(dt, copy=False) * scale
    if beta is not None:
        shift = shift + beta.astype(dt, copy=False)
    y = x * _bcast(scale.astype(dt, copy=False), x.ndim) + _bcast(shift.astype(dt, copy=False), x.ndim)
    return xp.ascontiguousarray(y)


def batchnorm_backward(gy, x, gamma, mean, invstd):
    """Training-mode backward, with xhat = (x - mean) * invstd and M values per channel::

        gbeta  = sum gy
        ggamma = sum gy * xhat
        gx     = gamma * invstd / M * (M * gy - gbeta - xhat * ggamma)

    (sums over every axis but 1). gamma may be None (treated as ones).
    Returns (gx, ggamma, gbeta).
    """
    op = "batchnorm_backward"
    C, M = bn_params(op, x, ("gamma", gamma), ("mean", mean), ("invstd", invstd))
    if gy.shape != x.shape:
        raise ValueError(f"{op}: grad_output shape {gy.shape} differs from input shape {x.shape}")
    xp = array_module(x)
    dt = common_dtype(op, x, gy)
    x, gy = x.astype(dt, copy=False), gy.astype(dt, copy=False)
    nd = x.ndim
    axes = _reduce_axes(nd)
    mean, invstd = mean.astype(dt, copy=False), invstd.astype(dt, copy=False)
    xhat = (x - _bcast(mean, nd)) * _bcast(invstd, nd)
    gbeta = gy.sum(axis=axes)
    ggamma = (gy * xhat).sum(axis=axes)
    k = invstd / M if gamma is None else gamma.astype(dt, copy=False) * invstd / M
    gx = _bcast(k, nd) * (M * gy - _bcast(gbeta, nd) - xhat * _bcast(ggamma, nd))
    return xp.ascontiguousarray(gx.astype(dt, copy=False)), ggamma, gbeta


__all__ = [
    "conv2d_forward", "conv2d_grad_input", "conv2d_grad_weight",
    "batchnorm_forward_train", "batchnorm_forward_eval", "batchnorm_backward",
    "im2col", "col2im", "array_module", "pair",
]
