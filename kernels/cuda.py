"""Numba CUDA kernels for conv2d and batch norm.

CuPy arrays are passed straight into the kernels: Numba reads their
``__cuda_array_interface__`` (pointer, shape, strides, stream), so nothing is copied
to the host. Under the CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``) the same kernels run
on NumPy arrays, which is how the tests check them without a GPU.

Kernels (one thread = one output value unless said otherwise):

* ``_conv_forward``     thread per y[n, o, i, j]:  sum_{c,p,q} w[o, c, p, q] * x[n, g*Cg + c, h, v]
                        with h = i*sh - ph + p*dh, v = j*sw - pw + q*dw (skipping the padding).
* ``_conv_grad_input``  thread per gx[n, c, h, v]: the same sum read backwards — for each tap
                        (p, q) the output (i, j) that reads (h, v) is ``out_coord`` (if any).
                        A gather, so no atomics.
* ``_conv_grad_weight`` thread per gw[o, c, p, q]: sum over (n, i, j) of gy * x.
* ``_bn_train`` / ``_bn_backward``: block per channel; the block's threads split the sums
                        over (n, spatial) and add their partial sums in shared memory.
* ``_bn_eval``          thread per element.

Conv sums accumulate in the data's dtype (float32 stays fast on GPUs with slow float64);
batch-norm statistics accumulate in float64. Index arithmetic comes from
:mod:`kernels.indexing`, shared with the CPU kernels.
"""

import math

import numpy as np
from numba import config, cuda, float64

from . import indexing
from .checks import bn_params, check_grad_output, common_dtype, conv_params
from .reference import array_module

# The shared index helpers, compiled as CUDA device functions.
in_coord = cuda.jit(device=True)(indexing.in_coord)
out_coord = cuda.jit(device=True)(indexing.out_coord)
unravel4 = cuda.jit(device=True)(indexing.unravel4)

THREADS = 32 if config.ENABLE_CUDASIM else 128    # threads per block, one-value-per-thread kernels
# Threads per block of the reduction kernels (a power of two). The simulator runs every
# thread as a Python thread, so keep its blocks small.
RED = 16 if config.ENABLE_CUDASIM else 256


def _blocks(n):
    return (n + THREADS - 1) // THREADS


@cuda.jit(device=True)
def block_sum(buf, value):
    """Sum ``value`` over the threads of the block (tree reduction in shared ``buf``).
    Every thread of the block must call it; every thread gets the total."""
    tid = cuda.threadIdx.x
    buf[tid] = value
    cuda.syncthreads()
    step = RED // 2
    while step > 0:
        if tid < step:
            buf[tid] += buf[tid + step]
        cuda.syncthreads()
        step //= 2
    total = buf[0]
    cuda.syncthreads()          # everyone has read buf[0] before buf is reused
    return total


# ------------------------------------------------------------------ conv2d kernels

@cuda.jit
def _conv_forward(x, w, geom, bias, slope, zero, y):
    """y[n, o, i, j] = act(sum_{c, p, q} w[o, c, p, q] * x[n, g*Cg + c, i*sh - ph + p*dh, j*sw - pw + q*dw]
    + bias[o]): the CPU kernel's fused epilogue. bias has length O (zeros for none); act is
    a leaky ReLU of negative slope `slope` unless slope is NaN."""
    kh, kw, sh, sw, ph, pw, dh, dw, G = geom
    N, O, Ho, Wo = y.shape
    _, C, H, W = x.shape
    t = cuda.grid(1)
    if t >= N * O * Ho * Wo:
        return
    n, o, i, j = unravel4(t, O, Ho, Wo)
    Cg = C // G
    c0 = (o // (O // G)) * Cg                    # first input channel of o's group
    acc = zero
    for c in range(Cg):
        for p in range(kh):
            h = in_coord(i, p, sh, ph, dh)
            if 0 <= h < H:
                for q in range(kw):
                    v = in_coord(j, q, sw, pw, dw)
                    if 0 <= v < W:
                        acc += w[o, c, p, q] * x[n, c0 + c, h, v]
    acc += bias[o]
    if slope == slope and acc <= 0:          # slope NaN: no activation
        acc *= slope
    y[n, o, i, j] = acc


@cuda.jit
def _conv_grad_input(gy, w, geom, zero, gx):
    """gx[n, c, h, v] = sum over o in c's group and taps (p, q) of w[o, c - c0, p, q] * gy[n, o, i, j]
    where (i, j) = (out_coord(h, p), out_coord(v, q)) is the output that read (h, v)."""
    kh, kw, sh, sw, ph, pw, dh, dw, G = geom
    N, C, H, W = gx.shape
    _, O, Ho, Wo = gy.shape
    t = cuda.grid(1)
    if t >= N * C * H * W:
        return
    n, c, h, v = unravel4(t, C, H, W)
    Cg, Og = C // G, O // G
    g = c // Cg
    acc = zero
    for p in range(kh):
        i = out_coord(h, p, sh, ph, dh, Ho)
        if i >= 0:
            for q in range(kw):
                j = out_coord(v, q, sw, pw, dw, Wo)
                if j >= 0:
                    for o in range(g * Og, (g + 1) * Og):
                        acc += w[o, c - g * Cg, p, q] * gy[n, o, i, j]
    gx[n, c, h, v] = acc


@cuda.jit
def _conv_grad_weight(x, gy, geom, zero, gw):
    """gw[o, c, p, q] = sum_{n, i, j} gy[n, o, i, j] * x[n, g*Cg + c, i*sh - ph + p*dh, j*sw - pw + q*dw].

    One thread per weight value, looping over the batch and the output pixels."""
    kh, kw, sh, sw, ph, pw, dh, dw, G = geom
    O, Cg, _, _ = gw.shape
    N, C, H, W = x.shape
    _, _, Ho, Wo = gy.shape
    t = cuda.grid(1)
    if t >= O * Cg * kh * kw:
        return
    o, c, p, q = unravel4(t, Cg, kh, kw)
    ch = (o // (O // G)) * Cg + c                 # the input channel this weight reads
    acc = zero
    for i in range(Ho):
        h = in_coord(i, p, sh, ph, dh)
        if 0 <= h < H:
            for j in range(Wo):
                v = in_coord(j, q, sw, pw, dw)
                if 0 <= v < W:
                    for n in range(N):
                        acc += gy[n, o, i, j] * x[n, ch, h, v]
    gw[o, c, p, q] = acc


class _Geometry:
    def __init__(self, op, x_shape, w_shape, stride, padding, dilation, groups):
        stride, padding, dilation, groups, (self.Ho, self.Wo) = conv_params(
            op, x_shape, w_shape, stride, padding, dilation, groups)
        kh, kw = int(w_shape[2]), int(w_shape[3])
        self.geom = (kh, kw, stride[0], stride[1], padding[0], padding[1],
                     dilation[0], dilation[1], groups)


FUSED_EPILOGUE = True       # conv2d_forward takes bias and negative_slope


def conv2d_forward(x, w, stride=1, padding=0, dilation=1, groups=1, bias=None, negative_slope=None):
    """y = act(conv2d(x, w) + bias) on the GPU, one thread per output value (act: a leaky
    ReLU with negative_slope, none if None)."""
    op = "conv2d_forward"
    gm = _Geometry(op, x.shape, w.shape, stride, padding, dilation, groups)
    xp, dt = array_module(x), common_dtype(op, x, w)
    x = xp.ascontiguousarray(x, dtype=dt)
    w = xp.ascontiguousarray(w, dtype=dt)
    O = w.shape[0]
    if bias is not None and tuple(bias.shape) != (O,):
        raise ValueError(f"bias must have shape ({O},), got {tuple(bias.shape)}")
    bias = xp.zeros(O, dtype=dt) if bias is None else xp.ascontiguousarray(bias, dtype=dt)
    slope = dt.type("nan" if negative_slope is None else negative_slope)
    y = xp.empty((x.shape[0], O, gm.Ho, gm.Wo), dtype=dt)
    if y.size:
        _conv_forward[_blocks(y.size), THREADS](x, w, gm.geom, bias, slope, dt.type(0), y)
    return y


def conv2d_grad_input(gy, w, x_shape, stride=1, padding=0, dilation=1, groups=1):
    """gx = conv2d_transpose(gy, w) on the GPU, one thread per input value (gather)."""
    op = "conv2d_grad_input"
    x_shape = tuple(int(s) for s in x_shape)
    gm = _Geometry(op, x_shape, w.shape, stride, padding, dilation, groups)
    check_grad_output(op, gy.shape, x_shape[0], w.shape[0], gm.Ho, gm.Wo, x_name="x_shape")
    xp, dt = array_module(gy), common_dtype(op, gy, w)
    gy = xp.ascontiguousarray(gy, dtype=dt)
    w = xp.ascontiguousarray(w, dtype=dt)
    gx = xp.empty(x_shape, dtype=dt)
    if gx.size:
        _conv_grad_input[_blocks(gx.size), THREADS](gy, w, gm.geom, dt.type(0), gx)
    return gx


def conv2d_grad_weight(x, gy, w_shape, stride=1, padding=0, dilation=1, groups=1):
    """gw on the GPU, one thread per weight value (a sum over the batch and the output pixels)."""
    op = "conv2d_grad_weight"
    w_shape = tuple(int(s) for s in w_shape)
    gm = _Geometry(op, x.shape, w_shape, stride, padding, dilation, groups)
    check_grad_output(op, gy.shape, x.shape[0], w_shape[0], gm.Ho, gm.Wo)
    xp, dt = array_module(x), common_dtype(op, x, gy)
    x = xp.ascontiguousarray(x, dtype=dt)
    gy = xp.ascontiguousarray(gy, dtype=dt)
    gw = xp.empty(w_shape, dtype=dt)
    _conv_grad_weight[_blocks(gw.size), THREADS](x, gy, gm.geom, dt.type(0), gw)
    return gw


# -------------------------------------------------------------- batch-norm kernels

@cuda.jit
def _bn_train(x, gamma, beta, eps, slope, y, mean, invstd):
    """Block per channel c of x (N, C, S): mean, biased variance, y = act((x - mean)*invstd*gamma + beta),
    act a leaky ReLU of negative slope `slope` unless it is NaN (the fused batch norm + activation)."""
    N, C, S = x.shape
    M = N * S
    c = cuda.blockIdx.x
    buf = cuda.shared.array(RED, dtype=float64)
    part = 0.0
    for k in range(cuda.threadIdx.x, M, RED):
        part += x[k // S, c, k % S]
    mu = block_sum(buf, part) / M
    part = 0.0
    for k in range(cuda.threadIdx.x, M, RED):
        d = x[k // S, c, k % S] - mu
        part += d * d
    istd = 1.0 / math.sqrt(block_sum(buf, part) / M + eps)
    if cuda.threadIdx.x == 0:
        mean[c] = mu
        invstd[c] = istd
    a = istd * gamma[c]                          # y = x * a + b
    b = beta[c] - mu * a
    for k in range(cuda.threadIdx.x, M, RED):
        v = x[k // S, c, k % S] * a + b
        if slope == slope and v <= 0:
            v *= slope
        y[k // S, c, k % S] = v


@cuda.jit
def _bn_eval(x, scale, shift, y):
    """y[n, c, s] = x[n, c, s] * scale[c] + shift[c]."""
    N, C, S = x.shape
    t = cuda.grid(1)
    if t < N * C * S:
        c = (t // S) % C
        y[t // (C * S), c, t % S] = x[t // (C * S), c, t % S] * scale[c] + shift[c]


@cuda.jit
def _bn_backward(gy, x, gamma, mean, invstd, gx, ggamma, gbeta):
    """Block per channel: gbeta = sum gy, ggamma = sum gy*xhat,
    gx = gamma*invstd/M * (M*gy - gbeta - xhat*ggamma) with xhat = (x - mean)*invstd."""
    N, C, S = x.shape
    M = N * S
    c = cuda.blockIdx.x
    buf = cuda.shared.array(RED, dtype=float64)
    mu, istd = mean[c], invstd[c]
    pb = 0.0
    pg = 0.0
    for k in range(cuda.threadIdx.x, M, RED):
        g = gy[k // S, c, k % S]
        pb += g
        pg += g * (x[k // S, c, k % S] - mu) * istd
    sb = block_sum(buf, pb)
    sg = block_sum(buf, pg)
    if cuda.threadIdx.x == 0:
        gbeta[c] = sb
        ggamma[c] = sg
    scale = gamma[c] * istd / M
    for k in range(cuda.threadIdx.x, M, RED):
        n, s = k // S, k % S
        xhat = (x[n, c, s] - mu) * istd
        gx[n, c, s] = scale * (M * gy[n, c, s] - sb - xhat * sg)


def _ncs(xp, a, dt):
    a = xp.ascontiguousarray(a, dtype=dt)
    return a.reshape(a.shape[0], a.shape[1], -1)


def _param(xp, p, C, fill, dt):
    return xp.full(C, fill, dtype=dt) if p is None else xp.ascontiguousarray(p, dtype=dt)


def batchnorm_forward_train(x, gamma, beta, eps=1e-5, negative_slope=None):
    """(y, mean, invstd) with batch statistics, one block per channel; y through a leaky
    ReLU of negative_slope if given."""
    op = "batchnorm_forward_train"
    C, _ = bn_params(op, x, ("gamma", gamma), ("beta", beta))
    xp, dt = array_module(x), common_dtype(op, x)
    x3 = _ncs(xp, x, dt)
    y = xp.empty(x.shape, dtype=dt)
    mean, invstd = xp.empty(C, dtype=dt), xp.empty(C, dtype=dt)
    _bn_train[C, RED](x3, _param(xp, gamma, C, 1, dt), _param(xp, beta, C, 0, dt),
                      float(eps), float("nan" if negative_slope is None else negative_slope),
                      y.reshape(x3.shape), mean, invstd)
    return y, mean, invstd


def batchnorm_forward_eval(x, gamma, beta, running_mean, running_var, eps=1e-5):
    """y = (x - running_mean) / sqrt(running_var + eps) * gamma + beta, one thread per value."""
    op = "batchnorm_forward_eval"
    C, _ = bn_params(op, x, ("gamma", gamma), ("beta", beta),
                     ("running_mean", running_mean), ("running_var", running_var))
    xp, dt = array_module(x), common_dtype(op, x)
    x3 = _ncs(xp, x, dt)
    # per-channel scale and shift: C values, computed with array ops in float64
    scale = 1.0 / xp.sqrt(running_var.astype(np.float64) + eps)
    if gamma is not None:
        scale = scale * gamma.astype(np.float64)
    shift = -running_mean.astype(np.float64) * scale
    if beta is not None:
        shift = shift + beta.astype(np.float64)
    y = xp.empty(x.shape, dtype=dt)
    _bn_eval[_blocks(x3.size), THREADS](x3, scale.astype(dt), shift.astype(dt), y.reshape(x3.shape))
    return y


def batchnorm_backward(gy, x, gamma, mean, invstd):
    """(gx, ggamma, gbeta) of training-mode batch norm, one block per channel."""
    op = "batchnorm_backward"
    C, _ = bn_params(op, x, ("gamma", gamma), ("mean", mean), ("invstd", invstd))
    if gy.shape != x.shape:
        raise ValueError(f"{op}: grad_output shape {gy.shape} differs from input shape {x.shape}")
    xp, dt = array_module(x), common_dtype(op, x, gy)
    x3, gy3 = _ncs(xp, x, dt), _ncs(xp, gy, dt)
    gx = xp.empty(x.shape, dtype=dt)
    ggamma, gbeta = xp.empty(C, dtype=dt), xp.empty(C, dtype=dt)
    _bn_backward[C, RED](gy3, x3, _param(xp, gamma, C, 1, dt), _param(xp, mean, C, 0, dt),
                         _param(xp, invstd, C, 1, dt), gx.reshape(x3.shape), ggamma, gbeta)
    return gx, ggamma, gbeta
