"""Numba CPU kernels for conv2d and batch norm.

Convolution: channels-last im2col + BLAS
----------------------------------------
A direct convolution loop reaches ~5 GFLOP/s naively and ~65 GFLOP/s with the channel
loop innermost; a BLAS matrix multiply is faster still. So each convolution is a
gather (Numba), one matrix multiply per group (``numpy.matmul`` -> OpenBLAS), and
layout shuffles (Numba). Everything in between is *channels-last* (NHWC): the innermost
loops of the gather/scatter then copy C contiguous values instead of a short image row,
which made im2col 5-10x faster than an NCHW version on 7x7 and 14x14 feature maps.

With G groups, Cg = C/G input and Og = O/G output channels per group, K = kh*kw*Cg,
L = Ho*Wo output pixels per image and M = N*L output pixels in all::

    xh[n, h, v, c]                 = x[n, c, h, v]                       (_to_channels_last)
    cols[g, (n, i, j), (p, q, c)]  = xh[n, i*sh - ph + p*dh, j*sw - pw + q*dw, g*Cg + c]
                                                               (_im2col; 0 in the padding)
    wr[g, o, (p, q, c)]            = w[g*Og + o, c, p, q]                (numpy, small)
    yh[(n, i, j), g*Og + o]        = y[n, g*Og + o, i, j]    (y channels-last: (M, O))

    forward      yh[:, g]  = cols[g] @ wr[g].T      (M, Og)   then y = NCHW of yh (+ bias)
    grad-weight  gwr[g].T  = cols[g].T @ gyh[:, g]  (K, Og)   gyh = gy channels-last
    grad-input   gcols[g]  = gyh[:, g] @ wr[g]      (M, K)    then _col2im, the adjoint
                 of _im2col: every input pixel sums the column entries that were read from it.

(``yh[:, g]`` is the column block of group g.) Every product has the long dimension
M (or K) as the rows of its result. That orientation matters with several BLAS threads:
OpenBLAS splits the work over the rows of the result, and a result with only Og = 64
rows (``wr[g] @ cols[g].T``) ran 1.5-4x slower on 2 threads here, same flops. The
``.T`` are views: BLAS reads a transposed operand in place.

Few input channels (K = Cg*kh*kw <= DIRECT_MAX_K): direct loops per image instead,
gathering each image's K x L patch matrix through one index map (see the section below).

Batch norm: direct loops
------------------------
Memory-bound, so one loop per statistic over each channel, channels in parallel,
float64 accumulators (also for float32 data), sums reassociated by LLVM into SIMD.

Index arithmetic comes from :mod:`kernels.indexing`, shared with the CUDA kernels.
"""

import os

import numba
import numpy as np
from numba import njit, prange

# kernels/__init__.py may choose the threading layer (workqueue when an OpenMP runtime
# was loaded before it) through the environment; numba reads that when it is first
# imported, so repeat it here for a numba the user imported earlier. Workqueue's one
# limit: two Python threads must not run parallel kernels at the same moment.
if "NUMBA_THREADING_LAYER" in os.environ:
    numba.config.THREADING_LAYER = os.environ["NUMBA_THREADING_LAYER"]

from . import indexing
from .checks import bn_params, check_grad_output, common_dtype, conv_params

# The shared index helpers, compiled for the CPU and inlined into the kernels below.
in_coord = njit(inline="always", cache=True)(indexing.in_coord)
out_coord = njit(inline="always", cache=True)(indexing.out_coord)
valid_range = njit(inline="always", cache=True)(indexing.valid_range)

# Let LLVM reorder the sums so the reduction loops use SIMD (5x faster here). No
# "nnan"/"ninf": NaN and inf still propagate as usual.
REDUCE_MATH = {"reassoc", "contract", "nsz", "arcp"}

# Conv2d.forward and ConvTranspose2d.forward may pass their bias to the kernel, which
# adds it while it rewrites the result to NCHW (no extra pass over the output).
FUSED_BIAS = True


# ------------------------------------------------------------------ conv2d kernels

_TILE = 32      # pixels per task of the layout kernels: C rows x 32 pixels stay in L1


@njit(parallel=True, cache=True)
def _to_channels_last(x, xh):
    """xh[n, l, c] = x[n, c, l]: (N, C, L) -> (N, L, C). One task per (image, tile of pixels);
    inside a tile the writes are contiguous and the reads touch C short rows."""
    N, C, L = x.shape
    tiles = (L + _TILE - 1) // _TILE
    for t in prange(N * tiles):
        n, l0 = t // tiles, (t % tiles) * _TILE
        l1 = min(l0 + _TILE, L)
        for l in range(l0, l1):
            for c in range(C):
                xh[n, l, c] = x[n, c, l]


@njit(parallel=True, cache=True)
def _to_channels_first(yh, bias, y):
    """y[n, c, l] = yh[n, l, c] (+ bias[c]): (N, L, C) -> (N, C, L). bias may be None
    (Numba compiles that case separately and drops the add)."""
    N, L, C = yh.shape
    tiles = (L + _TILE - 1) // _TILE
    for t in prange(N * tiles):
        n, l0 = t // tiles, (t % tiles) * _TILE
        l1 = min(l0 + _TILE, L)
        for c in range(C):
            for l in range(l0, l1):
                if bias is None:
                    y[n, c, l] = yh[n, l, c]
                else:
                    y[n, c, l] = yh[n, l, c] + bias[c]


def to_channels_last(x):
    """(N, C, H, W) -> C-contiguous (N*H*W, C). With one channel (or one pixel) the two
    layouts hold the same bytes in the same order: a free reshape, no copy."""
    N, C = x.shape[:2]
    L = x.size // max(N * C, 1)
    if C == 1 or L == 1:
        return x.reshape(N * L, C)
    xh = np.empty((N, L, C), dtype=x.dtype)
    _to_channels_last(x.reshape(N, C, L), xh)
    return xh.reshape(N * L, C)


def to_channels_first(yh, shape, bias=None):
    """(N*H*W, C) channels-last -> a new C-contiguous (N, C, H, W), adding bias[c] if given."""
    N, C = shape[:2]
    L = yh.size // max(N * C, 1)
    y = np.empty(shape, dtype=yh.dtype)
    if C == 1 or L == 1:                     # same bytes in both layouts
        np.copyto(y.reshape(N * L, C), yh)
        if bias is not None:
            y += bias.reshape(1, C, *([1] * (len(shape) - 2)))
        return y
    _to_channels_first(yh.reshape(N, L, C), bias, y.reshape(N, C, L))
    return y


@njit(parallel=True, cache=True)
def _im2col(xh, geom, cols):
    """cols[g, n, i, j, p, q, c] = xh[n, i*sh - ph + p*dh, j*sw - pw + q*dw, g*Cg + c], 0 outside.

    xh: (N, H, W, C) channels-last; cols: (G, N, Ho, Wo, kh, kw, Cg). One task per (g, n, i)."""
    kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo = geom
    N, H, W, C = xh.shape
    G, Cg = cols.shape[0], cols.shape[6]
    for t in prange(G * N * Ho):
        g, n, i = t // (N * Ho), (t // Ho) % N, t % Ho
        c0 = g * Cg
        for j in range(Wo):
            for p in range(kh):
                h = in_coord(i, p, sh, ph, dh)
                for q in range(kw):
                    v = in_coord(j, q, sw, pw, dw)
                    inside = 0 <= h < H and 0 <= v < W
                    if Cg >= 8:                 # long runs: vectorised slice copies
                        if inside:
                            cols[g, n, i, j, p, q, :] = xh[n, h, v, c0:c0 + Cg]
                        else:
                            cols[g, n, i, j, p, q, :] = 0
                    else:                       # short runs: plain loops (no slice overhead)
                        for c in range(Cg):
                            cols[g, n, i, j, p, q, c] = xh[n, h, v, c0 + c] if inside else 0


@njit(parallel=True, cache=True)
def _col2im(gcols, geom, gxh):
    """Adjoint of _im2col: gxh[n, h, v, g*Cg + c] = sum of the entries gcols[g, n, i, j, p, q, c]
    that _im2col filled from (n, h, v, g*Cg + c), i.e. with in_coord(i, p) == h, in_coord(j, q) == v.

    gcols: (G, N, Ho, Wo, kh, kw, Cg); gxh: (N, H, W, C). One task per input row (n, h), which
    only writes that row, so tasks never collide."""
    kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo = geom
    N, H, W, C = gxh.shape
    G, Cg = gcols.shape[0], gcols.shape[6]
    for t in prange(N * H):
        n, h = t // H, t % H
        row = gxh[n, h]                              # (W, C)
        row[:, :] = 0
        for p in range(kh):
            i = out_coord(h, p, sh, ph, dh, Ho)      # the output row whose tap p reads row h
            if i < 0:
                continue
            for q in range(kw):
                j0, j1 = valid_range(W, Wo, q, sw, pw, dw)
                for g in range(G):
                    for j in range(j0, j1):
                        v = in_coord(j, q, sw, pw, dw)
                        for c in range(Cg):
                            row[v, g * Cg + c] += gcols[g, n, i, j, p, q, c]


# ------------------------------------------- direct kernels for short columns (few channels)
#
# When a column is short (K = Cg*kh*kw small: the 1->64 first layer of a discriminator
# has K = 16, its adjoint is the 64->1 last layer of a generator), the matrix products
# above do only K multiply-adds per output value: BLAS gains little, and the layout
# shuffles around it (NCHW <-> NHWC, a K-times larger column array in memory) cost more
# than the product. These kernels instead take one image (and group) per task, build
# its K x L patch matrix in w's own (c, p, q) order in cache, and multiply with loops
# whose innermost index runs over the L output pixels of the image (contiguous, SIMD).
# No transposes, no BLAS threads; y and gx are written in NCHW directly.

DIRECT_MAX_K = 64        # use the direct kernels when Cg*kh*kw is at most this


@njit(cache=True)
def patch_index(Cg, H, W, geom):
    """index[(c, p, q), (i, j)] = (c*H + h)*W + v with h = i*sh - ph + p*dh, v = j*sw - pw + q*dw:
    where in one image's Cg channels (flattened) each entry of its K x L patch matrix is
    read from; -1 in the padding. im2col reads through this map and col2im, its adjoint,
    adds back through the same map."""
    kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo = geom
    index = np.full((Cg * kh * kw, Ho * Wo), -1, dtype=np.int64)
    for c in range(Cg):
        for p in range(kh):
            i0, i1 = valid_range(H, Ho, p, sh, ph, dh)
            for q in range(kw):
                k = (c * kh + p) * kw + q
                j0, j1 = valid_range(W, Wo, q, sw, pw, dw)
                for i in range(i0, i1):
                    h = in_coord(i, p, sh, ph, dh)
                    for j in range(j0, j1):
                        index[k, i * Wo + j] = (c * H + h) * W + in_coord(j, q, sw, pw, dw)
    return index


@njit(cache=True)
def _gather(src, index, patch):
    """patch[k, l] = src[index[k, l]], 0 where the index is -1: im2col of one image."""
    K, L = index.shape
    for k in range(K):
        for l in range(L):
            s = index[k, l]
            patch[k, l] = src[s] if s >= 0 else 0


@njit(parallel=True, cache=True, fastmath=REDUCE_MATH)
def _direct_forward(x, wk, index, bias, y):
    """y[n, g*Og + o, l] = sum_k wk[g, o, k] * patch[k, l] (+ bias), wk = w as (G, Og, K).

    x: (N, G, Cg*H*W); y: (N, O, L). One task per (image, group)."""
    G, Og, K = wk.shape
    N, O, L = y.shape
    for t in prange(N * G):
        n, g = t // G, t % G
        patch = np.empty((K, L), dtype=x.dtype)
        _gather(x[n, g], index, patch)
        for o in range(Og):
            out = y[n, g * Og + o]
            out[:] = 0
            for k in range(K):
                a = wk[g, o, k]
                for l in range(L):
                    out[l] += a * patch[k, l]
            if bias is not None:
                out += bias[g * Og + o]


@njit(parallel=True, cache=True, fastmath=REDUCE_MATH)
def _direct_grad_input(gy, wk, index, bias, gx):
    """gx[n, group g] = col2im(wk[g].T @ gy[n, group g]) (+ bias): the adjoint of _direct_forward.

    gy: (N, O, L); gx: (N, G, Cg*H*W). One task per (image, group); it writes only its image."""
    G, Og, K = wk.shape
    N, L = gy.shape[0], gy.shape[2]
    for t in prange(N * G):
        n, g = t // G, t % G
        gpatch = np.zeros((K, L), dtype=gx.dtype)        # gpatch = wk[g].T @ gy[n, group]
        for o in range(Og):
            src = gy[n, g * Og + o]
            for k in range(K):
                a = wk[g, o, k]
                for l in range(L):
                    gpatch[k, l] += a * src[l]
        img = gx[n, g]                                    # col2im: add back through the map
        img[:] = 0
        for k in range(K):
            for l in range(L):
                s = index[k, l]
                if s >= 0:
                    img[s] += gpatch[k, l]
        if bias is not None:
            Cg = bias.shape[0] // G
            HW = img.shape[0] // Cg
            for c in range(Cg):
                img[c * HW:(c + 1) * HW] += bias[g * Cg + c]


@njit(parallel=True, cache=True, fastmath=REDUCE_MATH)
def _direct_grad_weight(x, gy, index, per_chunk, partial):
    """partial[b, g, o, k] = sum over the images n of chunk b of sum_l gy[n, g*Og + o, l] * patch[k, l].

    x: (N, G, Cg*H*W); gy: (N, O, L). The images are split into fixed chunks (not one per
    thread), so the sum is the same for every thread count; the caller adds the chunks
    up. float64 accumulators."""
    chunks, G, Og, K = partial.shape
    N, L = x.shape[0], gy.shape[2]
    for t in prange(chunks * G):
        b, g = t // G, t % G
        patch = np.empty((K, L), dtype=x.dtype)
        for n in range(b * per_chunk, min(N, (b + 1) * per_chunk)):
            _gather(x[n, g], index, patch)
            for o in range(Og):
                src = gy[n, g * Og + o]
                for k in range(K):
                    s = 0.0
                    for l in range(L):
                        s += src[l] * patch[k, l]
                    partial[b, g, o, k] += s


class _Conv:
    """Checked geometry of one conv2d call, and the layout helpers around the matmuls."""

    def __init__(self, op, x_shape, w_shape, stride, padding, dilation, groups):
        stride, padding, dilation, groups, (Ho, Wo) = conv_params(
            op, x_shape, w_shape, stride, padding, dilation, groups)
        self.N, self.C, self.H, self.W = (int(s) for s in x_shape)
        self.O, self.Cg, self.kh, self.kw = (int(s) for s in w_shape)
        self.G, self.Ho, self.Wo = groups, Ho, Wo
        self.Og = self.O // groups
        self.M = self.N * Ho * Wo                    # output pixels in the whole batch
        self.K = self.kh * self.kw * self.Cg         # length of one column
        self.geom = (self.kh, self.kw, stride[0], stride[1], padding[0], padding[1],
                     dilation[0], dilation[1], Ho, Wo)

    def cols(self, x):
        """im2col of x (N, C, H, W) as a stack of matrices (G, M, K)."""
        N, C, H, W = x.shape
        xh = to_channels_last(x).reshape(N, H, W, C)
        cols = np.empty((self.G, N, self.Ho, self.Wo, self.kh, self.kw, self.Cg), dtype=x.dtype)
        _im2col(xh, self.geom, cols)
        return cols.reshape(self.G, self.M, self.K)

    def wr(self, w):
        """w (O, Cg, kh, kw) -> wr (G, Og, K): wr[g, o, (p, q, c)] = w[g*Og + o, c, p, q]."""
        w5 = w.reshape(self.G, self.Og, self.Cg, self.kh, self.kw)
        wr = np.ascontiguousarray(w5.transpose(0, 1, 3, 4, 2))
        return wr.reshape(self.G, self.Og, self.K)

    def patch_index(self):
        """The gather/scatter map of the direct kernels (see patch_index)."""
        return patch_index(self.Cg, self.H, self.W, self.geom)

    def per_group(self, a):
        """(N, C, H, W) C-contiguous -> the view (N, G, Cg*H*W): one row per image and group."""
        return a.reshape(self.N, self.G, self.Cg * self.H * self.W)

    def group(self, g):
        """The columns of group g's output channels in a channels-last (M, O) array."""
        return slice(g * self.Og, (g + 1) * self.Og)


def _bias(bias, O, dt):
    if bias is None:
        return None
    if tuple(bias.shape) != (O,):
        raise ValueError(f"bias must have shape ({O},), got {tuple(bias.shape)}")
    return np.ascontiguousarray(bias, dtype=dt)


def conv2d_forward(x, w, stride=1, padding=0, dilation=1, groups=1, bias=None):
    """y = conv2d(x, w) (+ bias): yh[:, g] = cols[g] @ wr[g].T (BLAS), then back to NCHW."""
    cv = _Conv("conv2d_forward", x.shape, w.shape, stride, padding, dilation, groups)
    dt = common_dtype("conv2d_forward", x, w)
    x = np.ascontiguousarray(x, dtype=dt)
    w = np.ascontiguousarray(w, dtype=dt)
    if cv.K <= DIRECT_MAX_K:
        y = np.empty((cv.N, cv.O, cv.Ho, cv.Wo), dtype=dt)
        _direct_forward(cv.per_group(x), w.reshape(cv.G, cv.Og, cv.K), cv.patch_index(),
                        _bias(bias, cv.O, dt), y.reshape(cv.N, cv.O, cv.Ho * cv.Wo))
        return y
    cols, wr = cv.cols(x), cv.wr(w)
    yh = np.empty((cv.M, cv.O), dtype=dt)
    for g in range(cv.G):                    # out=: BLAS writes straight into the block
        np.matmul(cols[g], wr[g].T, out=yh[:, cv.group(g)])
    return to_channels_first(yh, (cv.N, cv.O, cv.Ho, cv.Wo), _bias(bias, cv.O, dt))


def conv2d_grad_input(gy, w, x_shape, stride=1, padding=0, dilation=1, groups=1, bias=None):
    """gx = col2im(gyh[:, g] @ wr[g]) (+ bias) — the transposed convolution."""
    op = "conv2d_grad_input"
    cv = _Conv(op, tuple(int(s) for s in x_shape), w.shape, stride, padding, dilation, groups)
    check_grad_output(op, gy.shape, cv.N, cv.O, cv.Ho, cv.Wo, x_name="x_shape")
    dt = common_dtype(op, gy, w)
    gy = np.ascontiguousarray(gy, dtype=dt)
    w = np.ascontiguousarray(w, dtype=dt)
    if cv.K <= DIRECT_MAX_K:
        gx = np.empty((cv.N, cv.C, cv.H, cv.W), dtype=dt)
        _direct_grad_input(gy.reshape(cv.N, cv.O, cv.Ho * cv.Wo), w.reshape(cv.G, cv.Og, cv.K),
                           cv.patch_index(), _bias(bias, cv.C, dt), cv.per_group(gx))
        return gx
    gyh = to_channels_last(gy)                                          # (M, O)
    wr = cv.wr(w)
    gcols = np.empty((cv.G, cv.M, cv.K), dtype=dt)
    for g in range(cv.G):
        np.matmul(gyh[:, cv.group(g)], wr[g], out=gcols[g])
    N, C, H, W = cv.N, cv.C, cv.H, cv.W
    gxh = np.empty((N, H, W, C), dtype=dt)
    _col2im(gcols.reshape(cv.G, N, cv.Ho, cv.Wo, cv.kh, cv.kw, cv.Cg), cv.geom, gxh)
    return to_channels_first(gxh.reshape(N * H * W, C), (N, C, H, W), _bias(bias, C, dt))


def conv2d_grad_weight(x, gy, w_shape, stride=1, padding=0, dilation=1, groups=1):
    """gw[o, c, p, q] = sum_{n,i,j} gy[n, o, i, j] * cols[(n,i,j), (p,q,c)]: gwr[g].T = cols[g].T @ gyh[:, g]."""
    op = "conv2d_grad_weight"
    w_shape = tuple(int(s) for s in w_shape)
    cv = _Conv(op, x.shape, w_shape, stride, padding, dilation, groups)
    check_grad_output(op, gy.shape, cv.N, cv.O, cv.Ho, cv.Wo)
    dt = common_dtype(op, x, gy)
    x = np.ascontiguousarray(x, dtype=dt)
    gy = np.ascontiguousarray(gy, dtype=dt)
    if cv.K <= DIRECT_MAX_K:
        per_chunk = 4
        partial = np.zeros((-(-cv.N // per_chunk), cv.G, cv.Og, cv.K))
        _direct_grad_weight(cv.per_group(x), gy.reshape(cv.N, cv.O, cv.Ho * cv.Wo),
                            cv.patch_index(), per_chunk, partial)
        return partial.sum(axis=0).astype(dt).reshape(w_shape)
    cols = cv.cols(x)
    gyh = to_channels_last(gy)                                          # (M, O)
    gwrT = np.empty((cv.G, cv.K, cv.Og), dtype=dt)
    for g in range(cv.G):
        np.matmul(cols[g].T, gyh[:, cv.group(g)], out=gwrT[g])
    # gwrT[g, (p, q, c), o] -> gw[g*Og + o, c, p, q]
    gw6 = gwrT.reshape(cv.G, cv.kh, cv.kw, cv.Cg, cv.Og).transpose(0, 4, 3, 1, 2)
    return np.ascontiguousarray(gw6).reshape(w_shape)


# -------------------------------------------------------------- batch-norm kernels

@njit(parallel=True, cache=True, fastmath=REDUCE_MATH)
def _bn_train(x, gamma, beta, eps, y, mean, invstd):
    """Per channel c (in parallel), over x[:, c, :] (shape (N, C, S)):
    mean = sum x / M; var = sum (x - mean)^2 / M; y = (x - mean) * invstd * gamma + beta."""
    N, C, S = x.shape
    M = N * S
    for c in prange(C):
        s = 0.0
        for n in range(N):
            for k in range(S):
                s += x[n, c, k]
        mu = s / M
        s2 = 0.0
        for n in range(N):
            for k in range(S):
                d = x[n, c, k] - mu
                s2 += d * d
        istd = 1.0 / np.sqrt(s2 / M + eps)
        mean[c] = mu
        invstd[c] = istd
        a = istd * gamma[c]                  # y = x * a + b
        b = beta[c] - mu * a
        for n in range(N):
            for k in range(S):
                y[n, c, k] = x[n, c, k] * a + b


@njit(parallel=True, cache=True, fastmath=REDUCE_MATH)
def _bn_eval(x, scale, shift, y):
    """y[n, c, :] = x[n, c, :] * scale[c] + shift[c], one task per (n, c)."""
    N, C, S = x.shape
    for t in prange(N * C):
        n, c = t // C, t % C
        a, b = scale[c], shift[c]
        for k in range(S):
            y[n, c, k] = x[n, c, k] * a + b


@njit(parallel=True, cache=True, fastmath=REDUCE_MATH)
def _bn_backward(gy, x, gamma, mean, invstd, gx, ggamma, gbeta):
    """Per channel c, with xhat = (x - mean) * invstd and M = N*S values:
    gbeta = sum gy; ggamma = sum gy*xhat; gx = gamma*invstd/M * (M*gy - gbeta - xhat*ggamma)."""
    N, C, S = x.shape
    M = N * S
    for c in prange(C):
        mu, istd = mean[c], invstd[c]
        sb = 0.0
        sg = 0.0
        for n in range(N):
            for k in range(S):
                g = gy[n, c, k]
                sb += g
                sg += g * (x[n, c, k] - mu) * istd
        gbeta[c] = sb
        ggamma[c] = sg
        k_ = gamma[c] * istd / M
        for n in range(N):
            for k in range(S):
                xhat = (x[n, c, k] - mu) * istd
                gx[n, c, k] = k_ * (M * gy[n, c, k] - sb - xhat * sg)


def _ncs(a, dt):
    """(N, C, *spatial) -> C-contiguous (N, C, S) of dtype dt, the layout of the kernels.

    An (N, C) input becomes (1, C, N): its transpose, so that each channel's values are
    contiguous (read as (N, C, 1) the kernels would stride through memory by C)."""
    if a.ndim == 2:
        return np.ascontiguousarray(a.T, dtype=dt)[None]
    a = np.ascontiguousarray(a, dtype=dt)
    return a.reshape(a.shape[0], a.shape[1], -1)


def _from_ncs(a3, shape):
    """Inverse of _ncs for a kernel output a3: back to shape, C-contiguous."""
    if len(shape) == 2:
        return np.ascontiguousarray(a3[0].T)
    return a3.reshape(shape)


def _param(p, C, fill, dt):
    return np.full(C, fill, dtype=dt) if p is None else np.ascontiguousarray(p, dtype=dt)


def batchnorm_forward_train(x, gamma, beta, eps=1e-5):
    """(y, mean, invstd) with batch statistics over every axis but 1 (biased variance)."""
    op = "batchnorm_forward_train"
    C, _ = bn_params(op, x, ("gamma", gamma), ("beta", beta))
    dt = common_dtype(op, x)
    x3 = _ncs(x, dt)
    y3 = np.empty(x3.shape, dtype=dt)
    mean, invstd = np.empty(C, dtype=dt), np.empty(C, dtype=dt)
    _bn_train(x3, _param(gamma, C, 1, dt), _param(beta, C, 0, dt), float(eps), y3, mean, invstd)
    return _from_ncs(y3, x.shape), mean, invstd


def batchnorm_forward_eval(x, gamma, beta, running_mean, running_var, eps=1e-5):
    """y = (x - running_mean) / sqrt(running_var + eps) * gamma + beta."""
    op = "batchnorm_forward_eval"
    C, _ = bn_params(op, x, ("gamma", gamma), ("beta", beta),
                     ("running_mean", running_mean), ("running_var", running_var))
    dt = common_dtype(op, x)
    x3 = _ncs(x, dt)
    # per-channel scale and shift, computed in float64 on C values
    scale = 1.0 / np.sqrt(np.asarray(running_var, np.float64) + eps)
    if gamma is not None:
        scale = scale * np.asarray(gamma, np.float64)
    shift = -np.asarray(running_mean, np.float64) * scale
    if beta is not None:
        shift = shift + np.asarray(beta, np.float64)
    y3 = np.empty(x3.shape, dtype=dt)
    _bn_eval(x3, scale.astype(dt), shift.astype(dt), y3)
    return _from_ncs(y3, x.shape)


def batchnorm_backward(gy, x, gamma, mean, invstd):
    """(gx, ggamma, gbeta) of training-mode batch norm (gamma None means ones)."""
    op = "batchnorm_backward"
    C, _ = bn_params(op, x, ("gamma", gamma), ("mean", mean), ("invstd", invstd))
    if gy.shape != x.shape:
        raise ValueError(f"{op}: grad_output shape {gy.shape} differs from input shape {x.shape}")
    dt = common_dtype(op, x, gy)
    x3, gy3 = _ncs(x, dt), _ncs(gy, dt)
    gx3 = np.empty(x3.shape, dtype=dt)
    ggamma, gbeta = np.empty(C, dtype=dt), np.empty(C, dtype=dt)
    _bn_backward(gy3, x3, _param(gamma, C, 1, dt), _param(mean, C, 0, dt),
                 _param(invstd, C, 1, dt), gx3, ggamma, gbeta)
    return _from_ncs(gx3, x.shape), ggamma, gbeta
