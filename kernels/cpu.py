"""Numba CPU kernels for conv2d and batch norm.

* Convolution: im2col from a channels-last copy of x, then one BLAS product per group
  (``numpy.matmul`` -> OpenBLAS), then back to NCHW with the bias and an optional fused
  (leaky) ReLU; the adjoints reuse the same pieces (see "conv2d kernels" below). Few
  input channels (K = Cg*kh*kw <= PER_IMAGE_MAX_K): per-image patches and batched products.
* Batch norm: direct loops per channel, float64 accumulators, optional fused (leaky) ReLU.
* Every kernel exists twice, parallel and serial; small calls run on the calling thread
  (see "serial and parallel twins"), so no worker thread wakes up for them.

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


# ------------------------------------------------- serial and parallel twins of each kernel
#
# A parallel Numba kernel wakes its worker threads every call: ~0.1 ms on the workqueue
# layer (the one used when PyTorch loaded OpenMP first), more than a small kernel's
# whole work. So every kernel below is one *task* function (one iteration of the
# parallel loop, inlined) and two thin loops over the tasks: ``*_par`` (prange, the
# threads) and ``*_ser`` (range, the calling thread). ``_loop`` picks the serial one
# when only one thread is allowed or when the kernel touches fewer than
# PARALLEL_MIN_WORK values -- then no worker thread wakes up, and none spins after.

NO_ACT = float("nan")           # "no activation" for the kernels' negative-slope argument
PARALLEL_MIN_WORK = 1 << 17     # values touched; ~0.1-0.2 ms of serial work here


def _loop(par, ser, work):
    """The parallel kernel for big work when more than one thread is allowed, else the serial one."""
    if work >= PARALLEL_MIN_WORK and numba.get_num_threads() > 1:
        return par
    return ser


# ------------------------------------------------------------------ conv2d kernels
#
# A direct convolution loop reaches ~5 GFLOP/s naively and ~65 GFLOP/s with the channel
# loop innermost; a BLAS matrix multiply is faster still. So each convolution is a
# gather (Numba, im2col), one matrix multiply per group (numpy.matmul -> OpenBLAS) and
# the copies around it. With G groups, Cg = C/G input and Og = O/G output channels per
# group, K = kh*kw*Cg, L = Ho*Wo output pixels per image and M = N*L in all::
#
#     xh[n, h, v, c]                 = x[n, c, h, v]              (_to_channels_last, one pass)
#     cols[g, (n, i, j), (p, q, c)]  = xh[n, i*sh - ph + p*dh, j*sw - pw + q*dw, g*Cg + c]
#     wr[g, o, (p, q, c)]            = w[g*Og + o, c, p, q]                    (small)
#     gyT[g, o, (n, l)]              = gy[n, g*Og + o, l]         (_swap: whole rows of L)
#
#     forward      yh[:, g]  = cols[g]   @ wr[g].T     (M, Og) -> NCHW y (+ bias, activation)
#     grad-weight  gwr[g].T  = cols[g].T @ gyT[g].T    (K, Og) (the forward's cols if kept)
#     grad-input   gcols[g]  = gyT[g].T  @ wr[g]       (M, K)  -> _col2im, then NCHW (+ bias)
#
# im2col gathers from channels-last xh: its innermost loop copies Cg contiguous values
# (5-10x faster than gathering short rows from NCHW on 7x7 and 14x14 maps; a one-pass
# gather from NCHW into a K-major column matrix measured 3x slower than this two-pass
# one). Every product has the long dimension M (or K) as the rows of its result: with
# 2 BLAS threads a result with only Og rows ran 2-4x slower here (same flops, OpenBLAS
# splits the rows of the result), with 1 thread the two were equal. The .T are views
# that BLAS reads in place. gy goes to the channel-major gyT with whole rows of L values
# copied (``swap01``), cheaper than a channels-last transpose of single values, and
# both backward products read it. The forward's layout pass back to NCHW also adds the
# bias and applies a fused (leaky) ReLU. The forward's column matrix can be kept for
# the grad-weight product (keep_columns): no second im2col then. Big column matrices
# are built a run of images at a time (COLUMN_CHUNK_BYTES), each run's product writing
# its own rows of the result (grad-weight: summing the runs' products), so no call holds
# more than one chunk of columns. Stride-1 layers with O <= C compute the grad-input as
# the convolution of gy with the flipped weight (_Conv.adjoint_as_conv): no col2im.

_TILE = 32      # pixels per task of the layout kernels: C rows x 32 pixels stay in L1


@njit(inline="always", cache=True)
def _to_channels_last_task(x, xh, t):
    """xh[n, l, c] = x[n, c, l] for task t = (image, tile of pixels): contiguous writes,
    reads from C short rows."""
    N, C, L = x.shape
    tiles = (L + _TILE - 1) // _TILE
    n, l0 = t // tiles, (t % tiles) * _TILE
    for l in range(l0, min(l0 + _TILE, L)):
        for c in range(C):
            xh[n, l, c] = x[n, c, l]


@njit(parallel=True, cache=True)
def _to_channels_last_par(x, xh):
    for t in prange(x.shape[0] * ((x.shape[2] + _TILE - 1) // _TILE)):
        _to_channels_last_task(x, xh, t)


@njit(cache=True)
def _to_channels_last_ser(x, xh):
    for t in range(x.shape[0] * ((x.shape[2] + _TILE - 1) // _TILE)):
        _to_channels_last_task(x, xh, t)


@njit(inline="always", cache=True)
def _to_channels_first_task(yh, bias, slope, y, t):
    """y[n, c, l] = act(yh[n, l, c] + bias[c]) for task t = (image, tile of pixels); bias
    may be None, slope is a fused (leaky) ReLU's negative slope or NaN for none."""
    N, L, C = yh.shape
    tiles = (L + _TILE - 1) // _TILE
    n, l0 = t // tiles, (t % tiles) * _TILE
    l1 = min(l0 + _TILE, L)
    for c in range(C):
        b = 0.0 if bias is None else bias[c]
        if slope != slope:                   # NaN: no activation
            for l in range(l0, l1):
                y[n, c, l] = yh[n, l, c] + b
        else:
            for l in range(l0, l1):
                v = yh[n, l, c] + b
                y[n, c, l] = v if v > 0 else v * slope


@njit(parallel=True, cache=True)
def _to_channels_first_par(yh, bias, slope, y):
    for t in prange(yh.shape[0] * ((yh.shape[1] + _TILE - 1) // _TILE)):
        _to_channels_first_task(yh, bias, slope, y, t)


@njit(cache=True)
def _to_channels_first_ser(yh, bias, slope, y):
    for t in range(yh.shape[0] * ((yh.shape[1] + _TILE - 1) // _TILE)):
        _to_channels_first_task(yh, bias, slope, y, t)


def to_channels_last(x):
    """(N, C, H, W) -> C-contiguous (N*H*W, C). With one channel (or one pixel) the two
    layouts hold the same bytes in the same order: a free reshape, no copy."""
    N, C = x.shape[:2]
    L = x.size // max(N * C, 1)
    if C == 1 or L == 1:
        return x.reshape(N * L, C)
    xh = np.empty((N, L, C), dtype=x.dtype)
    _loop(_to_channels_last_par, _to_channels_last_ser, x.size)(x.reshape(N, C, L), xh)
    return xh.reshape(N * L, C)


def to_channels_first(yh, shape, bias=None, slope=NO_ACT):
    """(N*H*W, C) channels-last -> a new C-contiguous (N, C, H, W), adding bias[c] if given
    and applying a (leaky) ReLU of negative slope `slope` unless it is NaN."""
    N, C = shape[:2]
    L = yh.size // max(N * C, 1)
    y = np.empty(shape, dtype=yh.dtype)
    if C == 1 or L == 1:                     # same bytes in both layouts: a copy, then the
        y[...] = yh.reshape(shape)           # bias and activation per (image, channel) row
        if bias is not None or slope == slope:
            _loop(_bias_act_par, _bias_act_ser, y.size)(y.reshape(N, C, L), bias, slope)
        return y
    _loop(_to_channels_first_par, _to_channels_first_ser, y.size)(
        yh.reshape(N, L, C), bias, slope, y.reshape(N, C, L))
    return y


@njit(inline="always", cache=True)
def _im2col_task(xh, geom, cols, t):
    """cols[g, n, i, j, p, q, c] = xh[n, i*sh - ph + p*dh, j*sw - pw + q*dw, g*Cg + c], 0 outside,
    for one output row: task t = (g, n, i). xh: (N, H, W, C); cols: (G, N, Ho, Wo, kh, kw, Cg).

    Indexes the task's own views (dst: one output row, src: one image) in plain loops:
    slice copies of the Cg values cost a view each (~3x slower for 16 channels here,
    ~2x for 32), and 7-index addressing in the inner loop kept LLVM from vectorising it."""
    kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo = geom
    N, H, W, C = xh.shape
    Cg = cols.shape[6]
    g, n, i = t // (N * Ho), (t // Ho) % N, t % Ho
    c0 = g * Cg
    dst = cols[g, n, i]                      # (Wo, kh, kw, Cg)
    src = xh[n]                              # (H, W, C)
    for j in range(Wo):
        for p in range(kh):
            h = in_coord(i, p, sh, ph, dh)
            row_inside = 0 <= h < H
            for q in range(kw):
                v = in_coord(j, q, sw, pw, dw)
                if row_inside and 0 <= v < W:
                    for c in range(Cg):
                        dst[j, p, q, c] = src[h, v, c0 + c]
                else:
                    for c in range(Cg):
                        dst[j, p, q, c] = 0


@njit(parallel=True, cache=True)
def _im2col_par(xh, geom, cols):
    for t in prange(cols.shape[0] * cols.shape[1] * cols.shape[2]):
        _im2col_task(xh, geom, cols, t)


@njit(cache=True)
def _im2col_ser(xh, geom, cols):
    for t in range(cols.shape[0] * cols.shape[1] * cols.shape[2]):
        _im2col_task(xh, geom, cols, t)


@njit(inline="always", cache=True)
def _col2im_task(gcols, geom, gxh, t):
    """Adjoint of _im2col: gxh[n, h, v, g*Cg + c] = sum of the entries gcols[g, n, i, j, p, q, c]
    that _im2col filled from (n, h, v, g*Cg + c). Task t = input row (n, h), which only
    writes that row, so tasks never collide. gxh: (N, H, W, C)."""
    kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo = geom
    N, H, W, C = gxh.shape
    G, Cg = gcols.shape[0], gcols.shape[6]
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


@njit(parallel=True, cache=True)
def _col2im_par(gcols, geom, gxh):
    for t in prange(gxh.shape[0] * gxh.shape[1]):
        _col2im_task(gcols, geom, gxh, t)


@njit(cache=True)
def _col2im_ser(gcols, geom, gxh):
    for t in range(gxh.shape[0] * gxh.shape[1]):
        _col2im_task(gcols, geom, gxh, t)


@njit(inline="always", cache=True)
def _swap_task(a, bias, slope, out, t):
    """out[n, o] = act(a[o, n] + bias[o]) for t = n*O + o: one whole row of L values.

    bias may be None; slope is the negative slope of a fused (leaky) ReLU, NaN for none
    (0.0 is ReLU). With bias None and slope NaN it is the plain (O, N) <-> (N, O) swap."""
    N, O = out.shape[0], out.shape[1]
    n, o = t // O, t % O
    src, dst = a[o, n], out[n, o]
    b = 0.0 if bias is None else bias[o]
    if slope != slope:                       # NaN: no activation
        if bias is None:
            dst[:] = src
        else:
            for l in range(src.shape[0]):
                dst[l] = src[l] + b
    else:
        for l in range(src.shape[0]):
            v = src[l] + b
            dst[l] = v if v > 0 else v * slope


@njit(parallel=True, cache=True)
def _swap_par(a, bias, slope, out):
    for t in prange(out.shape[0] * out.shape[1]):
        _swap_task(a, bias, slope, out, t)


@njit(cache=True)
def _swap_ser(a, bias, slope, out):
    for t in range(out.shape[0] * out.shape[1]):
        _swap_task(a, bias, slope, out, t)


def swap01(a, bias=None, slope=NO_ACT):
    """(A, B, L) -> a new C-contiguous (B, A, L): out[b, a] = act(a[a, b] + bias[a])."""
    out = np.empty((a.shape[1], a.shape[0], a.shape[2]), dtype=a.dtype)
    _loop(_swap_par, _swap_ser, a.size)(a, bias, slope, out)
    return out


# ------------------------------------- per-image patches for short columns (few channels)
#
# When a column is short (K = Cg*kh*kw small: the 1->64 first layer of a discriminator
# has K = 16, its adjoint is the 64->1 last layer of a generator), the layout shuffles
# around one big product (NCHW <-> NHWC, a K-times larger column array in memory) cost
# more than the product. Instead each image (and group) gets its K x L patch matrix in
# w's own (c, p, q) order, gathered through one index map straight from NCHW, and the
# products are batched BLAS calls, one small matrix product per image::
#
#     forward      y[n, g]       = wk[g] @ patch[n, g]               (Og, L) = NCHW already
#     grad-input   gpatch[n, g]  = wk[g].T @ gy[n, g]                then scattered back
#     grad-weight  gw[g]         = sum_n gy[n, g] @ patch[n, g].T    (Og, K) = w's layout
#
# Measured on the 1->64 k4s2 layer (batch 64, 1 thread): forward 0.76 ms against 1.38 ms
# for the loop kernels this replaced, grad-weight 0.82 against 1.56 ms.

PER_IMAGE_MAX_K = 64        # use per-image patches when Cg*kh*kw is at most this
# (For longer columns the two paths measured the same here on one thread -- 3x3 layers
# 16->32 on 28x28 and 32->32, 64->64 on 14x14: 0.89-1.09x -- and the per-image one,
# one small BLAS call per image, 1.3-7x slower on two threads.)


@njit(cache=True)
def patch_index(Cg, H, W, geom):
    """index[(c, p, q), (i, j)] = (c*H + h)*W + v with h = i*sh - ph + p*dh, v = j*sw - pw + q*dw:
    where in one image's Cg channels (flattened) each entry of its K x L patch matrix is
    read from; -1 in the padding. The gather reads through this map and the scatter, its
    adjoint, adds back through the same map."""
    kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo = geom
    index = np.full((Cg * kh * kw, Ho * Wo), -1, dtype=np.int32)     # half the bytes of int64
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


@njit(inline="always", cache=True)
def _gather_task(x, index, patches, t):
    """patches[n, g, k, l] = x[n, g, index[k, l]], 0 where the index is -1, for t = (n, g).
    x: (N, G, Cg*H*W); patches: (N, G, K, L)."""
    G = x.shape[1]
    n, g = t // G, t % G
    src, patch = x[n, g], patches[n, g]
    K, L = index.shape
    for k in range(K):
        for l in range(L):
            s = index[k, l]
            patch[k, l] = src[s] if s >= 0 else 0


@njit(parallel=True, cache=True)
def _gather_par(x, index, patches):
    for t in prange(x.shape[0] * x.shape[1]):
        _gather_task(x, index, patches, t)


@njit(cache=True)
def _gather_ser(x, index, patches):
    for t in range(x.shape[0] * x.shape[1]):
        _gather_task(x, index, patches, t)


@njit(inline="always", cache=True)
def _scatter_task(gpatches, index, bias, gx, t):
    """The adjoint of _gather: gx[n, g] = sum of gpatches[n, g] added back through the
    map (+ bias[g*Cg + c] on channel c), for t = (n, g); a task writes only its own rows."""
    G = gx.shape[1]
    n, g = t // G, t % G
    gpatch, img = gpatches[n, g], gx[n, g]
    img[:] = 0
    K, L = index.shape
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


@njit(parallel=True, cache=True)
def _scatter_par(gpatches, index, bias, gx):
    for t in prange(gx.shape[0] * gx.shape[1]):
        _scatter_task(gpatches, index, bias, gx, t)


@njit(cache=True)
def _scatter_ser(gpatches, index, bias, gx):
    for t in range(gx.shape[0] * gx.shape[1]):
        _scatter_task(gpatches, index, bias, gx, t)


@njit(inline="always", cache=True)
def _bias_act_task(y, bias, slope, t):
    """y[n, o] = act(y[n, o] + bias[o]) in place for t = (n, o) (bias None: no bias;
    slope NaN: no activation)."""
    O = y.shape[1]
    row = y[t // O, t % O]
    b = 0.0 if bias is None else bias[t % O]
    if slope != slope:
        for l in range(row.shape[0]):
            row[l] += b
    else:
        for l in range(row.shape[0]):
            v = row[l] + b
            row[l] = v if v > 0 else v * slope


@njit(parallel=True, cache=True)
def _bias_act_par(y, bias, slope):
    for t in prange(y.shape[0] * y.shape[1]):
        _bias_act_task(y, bias, slope, t)


@njit(cache=True)
def _bias_act_ser(y, bias, slope):
    for t in range(y.shape[0] * y.shape[1]):
        _bias_act_task(y, bias, slope, t)


class _Conv:
    """Checked geometry of one conv2d call, and the array helpers around the products."""

    def __init__(self, op, x_shape, w_shape, stride, padding, dilation, groups):
        stride, padding, dilation, groups, (Ho, Wo) = conv_params(
            op, x_shape, w_shape, stride, padding, dilation, groups)
        self.N, self.C, self.H, self.W = (int(s) for s in x_shape)
        self.O, self.Cg, self.kh, self.kw = (int(s) for s in w_shape)
        self.G, self.Ho, self.Wo = groups, Ho, Wo
        self.Og = self.O // groups
        self.L = Ho * Wo                             # output pixels of one image
        self.M = self.N * self.L                     # output pixels in the whole batch
        self.K = self.kh * self.kw * self.Cg         # length of one column
        self.M_in = self.N * self.H * self.W         # input pixels in the whole batch
        self.geom = (self.kh, self.kw, stride[0], stride[1], padding[0], padding[1],
                     dilation[0], dilation[1], Ho, Wo)

    @property
    def adjoint_as_conv(self):
        """Stride 1 with padding p <= d*(k-1): the grad-input is the "full" convolution of gy
        with the flipped, transposed weight (padding d*(k-1) - p), and its im2col costs
        less than col2im's scattered sums when its columns are no longer (O <= C). Batch
        64, 3x3, one thread here: 48->16 on 28x28 110 -> 41 ms, 16->16 28 -> 22 ms; but
        16->32 on 14x14 6.5 -> 8.8 ms (gy has more channels than x), so not then."""
        kh, kw, sh, sw, ph, pw, dh, dw = self.geom[:8]
        return (sh == 1 and sw == 1 and ph <= dh * (kh - 1) and pw <= dw * (kw - 1)
                and self.O <= self.C)

    def adjoint_conv_args(self, w):
        """(w_adj, padding, dilation) of that convolution: w_adj (C, Og, kh, kw),
        w_adj[g*Cg + c, o, p, q] = w[g*Og + o, c, kh-1-p, kw-1-q]."""
        kh, kw, sh, sw, ph, pw, dh, dw = self.geom[:8]
        w5 = w.reshape(self.G, self.Og, self.Cg, kh, kw).transpose(0, 2, 1, 3, 4)[:, :, :, ::-1, ::-1]
        w_adj = np.ascontiguousarray(w5).reshape(self.C, self.Og, kh, kw)
        return w_adj, (dh * (kh - 1) - ph, dw * (kw - 1) - pw), (dh, dw)

    @property
    def per_image(self):
        """Short columns: per-image patch matrices and batched products (see above)."""
        return self.K <= PER_IMAGE_MAX_K

    def patches(self, x):
        """The per-image patch matrices of a C-contiguous x: (N, G, K, L)."""
        patches = np.empty((self.N, self.G, self.K, self.L), dtype=x.dtype)
        _loop(_gather_par, _gather_ser, patches.size)(self.per_group(x), self.patch_index(), patches)
        return patches

    def channels_last(self, x):
        return to_channels_last(x).reshape(self.N, self.H, self.W, self.C)

    @property
    def pointwise(self):
        """A 1x1 conv with stride 1, no padding and one group: its columns are x's
        channels-last rows themselves (PixelCNN's and attention's 1x1 layers)."""
        kh, kw, sh, sw, ph, pw = self.geom[:6]
        return kh == kw == sh == sw == 1 and ph == pw == 0 and self.G == 1

    def image_chunks(self, itemsize):
        """(n0, n1) runs of images whose column matrix fits in COLUMN_CHUNK_BYTES (at
        least one image each); one run for the whole batch when all of it fits."""
        if self.pointwise:
            return [(0, self.N)]                 # the columns are a view: nothing to build
        per_image = self.G * self.L * self.K * itemsize
        step = max(1, COLUMN_CHUNK_BYTES // max(per_image, 1))
        return [(n0, min(n0 + step, self.N)) for n0 in range(0, self.N, step)]

    def chunk_cols(self, xh, n0, n1, buf=None):
        """im2col of images n0..n1 of xh (N, H, W, C): (G, (n1-n0)*L, K), written into the
        front of the flat buffer buf when one is given (reused across chunks)."""
        if self.pointwise:                       # 1x1, stride 1, no padding: cols = xh rows
            return xh[n0:n1].reshape(1, (n1 - n0) * self.L, self.K)
        shape = (self.G, n1 - n0, self.Ho, self.Wo, self.kh, self.kw, self.Cg)
        size = self.G * (n1 - n0) * self.L * self.K
        cols = np.empty(shape, xh.dtype) if buf is None else buf[:size].reshape(shape)
        _loop(_im2col_par, _im2col_ser, size)(xh[n0:n1], self.geom, cols)
        return cols.reshape(self.G, (n1 - n0) * self.L, self.K)

    def rows(self, n0, n1):
        """The rows (n, i, j) of images n0..n1 in an (M, .) matrix."""
        return slice(n0 * self.L, n1 * self.L)

    def chunk_buffer(self, chunks, dt):
        """A flat buffer for the biggest chunk's columns, or None for a single chunk."""
        if len(chunks) == 1:
            return None
        return np.empty(self.G * (chunks[0][1] - chunks[0][0]) * self.L * self.K, dt)

    def wr(self, w):
        """w (O, Cg, kh, kw) -> wr (G, Og, K): wr[g, o, (p, q, c)] = w[g*Og + o, c, p, q]."""
        w5 = w.reshape(self.G, self.Og, self.Cg, self.kh, self.kw)
        return np.ascontiguousarray(w5.transpose(0, 1, 3, 4, 2)).reshape(self.G, self.Og, self.K)

    def w_from_wr(self, gwr):
        """The inverse of wr: (G, Og, K) in (p, q, c) order -> (O, Cg, kh, kw)."""
        w6 = gwr.reshape(self.G, self.Og, self.kh, self.kw, self.Cg).transpose(0, 1, 4, 2, 3)
        return np.ascontiguousarray(w6).reshape(self.O, self.Cg, self.kh, self.kw)

    def wk(self, w):
        """w (O, Cg, kh, kw) C-contiguous -> the view (G, Og, K), k = (c, p, q) (per-image patches)."""
        return w.reshape(self.G, self.Og, self.K)

    def group(self, g):
        """The columns of group g's output channels in a channels-last (M, O) array."""
        return slice(g * self.Og, (g + 1) * self.Og)

    def channel_major(self, gy):
        """gy (N, O, Ho, Wo) -> gyT (G, Og, M): gyT[g, o, (n, l)] = gy[n, g*Og + o, l]."""
        return swap01(gy.reshape(self.N, self.O, self.L)).reshape(self.G, self.Og, self.M)

    def patch_index(self):
        """The gather/scatter map of the per-image patches (see patch_index)."""
        return patch_index(self.Cg, self.H, self.W, self.geom)

    def per_group(self, a):
        """(N, C, H, W) C-contiguous -> the view (N, G, Cg*H*W): one row per image and group."""
        return a.reshape(self.N, self.G, self.Cg * self.H * self.W)

    def check_columns(self, cols, dt):
        expected = (self.N, self.G, self.K, self.L) if self.per_image else (self.G, self.M, self.K)
        if cols.shape != expected or cols.dtype != dt:
            raise ValueError(f"conv2d_grad_weight: columns of shape {cols.shape} ({cols.dtype}) "
                             f"do not belong to this convolution, which needs {expected} ({dt})")


def _bias(bias, O, dt):
    if bias is None:
        return None
    if tuple(bias.shape) != (O,):
        raise ValueError(f"bias must have shape ({O},), got {tuple(bias.shape)}")
    return np.ascontiguousarray(bias, dtype=dt)


def _slope(negative_slope):
    return NO_ACT if negative_slope is None else float(negative_slope)


# Keep the forward's column matrix for the grad-weight product when it is at most this
# big (bytes). Memory decides, not speed: keeping the 12.8 MB columns of the DCGAN
# discriminator's 64->128 layer (batch 64) saves one im2col per backward (~1-1.5 ms of a
# ~200 ms DCGAN step here) but raised the step's peak resident-set growth from 46 to
# 73 MB (PyTorch: 32 MB), and the WGAN-GP critic step's from 76 to 109 MB. At 4 MiB the
# big layers recompute their columns and the small ones (the per-image patches of
# few-channel layers, 0.8 MB for 1->64 on 28x28) are kept.
KEEP_COLUMNS_MAX_BYTES = 4 * 2 ** 20


# Column matrices are built this many bytes at a time (runs of whole images, at least
# one): a U-Net layer 48->16 on 28x28 at batch 64 has 87 MB of columns, which made the
# step's peak memory ~5x PyTorch's (its oneDNN kernels build none), and a fresh 87 MB
# array is page-faulted in on every call. A chunk is built, used by its product and
# overwritten by the next one. The products keep ~2.4k rows per chunk at K = 432.
COLUMN_CHUNK_BYTES = 4 * 2 ** 20


def conv2d_forward(x, w, stride=1, padding=0, dilation=1, groups=1, bias=None,
                   negative_slope=None, keep_columns=False):
    """y = act(conv2d(x, w) + bias); act is a (leaky) ReLU with negative_slope if given.

    yh[:, g] = cols[g] @ wr[g].T (BLAS), then back to NCHW with the bias and the activation
    on the way. With keep_columns=True returns (y, columns): the column matrix
    for conv2d_grad_weight(columns=...) (the per-image patches on that path), or None
    when it is over KEEP_COLUMNS_MAX_BYTES."""
    cv = _Conv("conv2d_forward", x.shape, w.shape, stride, padding, dilation, groups)
    dt = common_dtype("conv2d_forward", x, w)
    x = np.ascontiguousarray(x, dtype=dt)
    w = np.ascontiguousarray(w, dtype=dt)
    bias, slope = _bias(bias, cv.O, dt), _slope(negative_slope)
    if cv.per_image:
        cols = cv.patches(x)
        y = np.empty((cv.N, cv.O, cv.Ho, cv.Wo), dtype=dt)
        y4 = y.reshape(cv.N, cv.G, cv.Og, cv.L)
        np.matmul(cv.wk(w)[None], cols, out=y4)                   # one product per image
        if bias is not None or slope == slope:
            y3 = y.reshape(cv.N, cv.O, cv.L)
            _loop(_bias_act_par, _bias_act_ser, y.size)(y3, bias, slope)
    else:
        xh, wr = cv.channels_last(x), cv.wr(w)
        yh = np.empty((cv.M, cv.O), dtype=dt)
        chunks = cv.image_chunks(x.itemsize)
        buf = cv.chunk_buffer(chunks, dt)
        for n0, n1 in chunks:
            cols, rows = cv.chunk_cols(xh, n0, n1, buf), cv.rows(n0, n1)
            for g in range(cv.G):                # out=: BLAS writes straight into the block
                np.matmul(cols[g], wr[g].T, out=yh[rows, cv.group(g)])
        if len(chunks) > 1:
            cols = None                          # only a whole column matrix can be kept
        y = to_channels_first(yh, (cv.N, cv.O, cv.Ho, cv.Wo), bias, slope)
    if not keep_columns:
        return y
    return y, (cols if cols is not None and cols.nbytes <= KEEP_COLUMNS_MAX_BYTES else None)


def conv2d_grad_input(gy, w, x_shape, stride=1, padding=0, dilation=1, groups=1, bias=None):
    """gx = col2im(gyT[g].T @ wr[g]) (+ bias) — the transposed convolution."""
    op = "conv2d_grad_input"
    cv = _Conv(op, tuple(int(s) for s in x_shape), w.shape, stride, padding, dilation, groups)
    check_grad_output(op, gy.shape, cv.N, cv.O, cv.Ho, cv.Wo, x_name="x_shape")
    dt = common_dtype(op, gy, w)
    gy = np.ascontiguousarray(gy, dtype=dt)
    w = np.ascontiguousarray(w, dtype=dt)
    bias = _bias(bias, cv.C, dt)
    if cv.per_image:
        gpatches = np.matmul(cv.wk(w).transpose(0, 2, 1)[None], gy.reshape(cv.N, cv.G, cv.Og, cv.L))
        gx = np.empty((cv.N, cv.C, cv.H, cv.W), dtype=dt)
        _loop(_scatter_par, _scatter_ser, gpatches.size)(
            gpatches, cv.patch_index(), bias, cv.per_group(gx))
        return gx
    if cv.adjoint_as_conv:
        w_adj, pad, dil = cv.adjoint_conv_args(w)
        return conv2d_forward(gy, w_adj, 1, pad, dil, cv.G, bias)
    gyT, wr = cv.channel_major(gy), cv.wr(w)
    gxh = np.empty((cv.N, cv.H, cv.W, cv.C), dtype=dt)
    chunks = cv.image_chunks(gy.itemsize)
    buf = np.empty(cv.G * (chunks[0][1] - chunks[0][0]) * cv.L * cv.K, dt)
    for n0, n1 in chunks:                        # col2im's task (n, h) reads image n only
        rows, size = cv.rows(n0, n1), cv.G * (n1 - n0) * cv.L * cv.K
        gcols = buf[:size].reshape(cv.G, (n1 - n0) * cv.L, cv.K)
        for g in range(cv.G):
            np.matmul(gyT[g][:, rows].T, wr[g], out=gcols[g])
        gcols7 = gcols.reshape(cv.G, n1 - n0, cv.Ho, cv.Wo, cv.kh, cv.kw, cv.Cg)
        _loop(_col2im_par, _col2im_ser, size)(gcols7, cv.geom, gxh[n0:n1])
    return to_channels_first(gxh.reshape(cv.M_in, cv.C), (cv.N, cv.C, cv.H, cv.W), bias)


def conv2d_grad_weight(x, gy, w_shape, stride=1, padding=0, dilation=1, groups=1, columns=None):
    """gwr[g].T = cols[g].T @ gyT[g].T (BLAS), reordered to w's (O, Cg, kh, kw).

    columns: the forward's column matrix (conv2d_forward(keep_columns=True)) to reuse."""
    op = "conv2d_grad_weight"
    w_shape = tuple(int(s) for s in w_shape)
    cv = _Conv(op, x.shape, w_shape, stride, padding, dilation, groups)
    check_grad_output(op, gy.shape, cv.N, cv.O, cv.Ho, cv.Wo)
    dt = common_dtype(op, x, gy)
    x = np.ascontiguousarray(x, dtype=dt)
    gy = np.ascontiguousarray(gy, dtype=dt)
    if cv.per_image:
        if columns is None:
            patches = cv.patches(x)                               # (N, G, K, L)
        else:
            cv.check_columns(columns, dt)
            patches = columns
        per_image = np.matmul(gy.reshape(cv.N, cv.G, cv.Og, cv.L), patches.transpose(0, 1, 3, 2))
        return per_image.sum(axis=0).reshape(w_shape)             # (N, G, Og, K) -> (G, Og, K)
    gyT = cv.channel_major(gy)
    gwrT = np.empty((cv.G, cv.K, cv.Og), dtype=dt)
    if columns is not None:
        cv.check_columns(columns, dt)
        chunks = [(0, cv.N)]
    else:
        xh = cv.channels_last(x)
        chunks = cv.image_chunks(x.itemsize)
        buf = cv.chunk_buffer(chunks, dt)
    for k, (n0, n1) in enumerate(chunks):        # gwrT = sum over chunks of their products
        cols = columns if columns is not None else cv.chunk_cols(xh, n0, n1, buf)
        rows = cv.rows(n0, n1)
        for g in range(cv.G):
            if k == 0:
                np.matmul(cols[g].T, gyT[g][:, rows].T, out=gwrT[g])
            else:
                gwrT[g] += cols[g].T @ gyT[g][:, rows].T
    return cv.w_from_wr(gwrT.transpose(0, 2, 1))



# -------------------------------------------------------------- batch-norm kernels
#
# Memory-bound, so one loop per statistic over each channel, channels in parallel (one
# task per channel), float64 accumulators (also for float32 data), sums reassociated by
# LLVM into SIMD. The training forward can apply a (leaky) ReLU while it writes y: the
# fused batch norm + activation of minigen.ops.fused, one pass over y instead of two.

@njit(inline="always", cache=True)
def _bn_train_task(x, gamma, beta, eps, slope, y, mean, invstd, c):
    """Channel c of x (N, C, S): mean = sum x / M; var = sum (x - mean)^2 / M;
    y = act((x - mean) * invstd * gamma + beta), act a leaky ReLU unless slope is NaN."""
    N, C, S = x.shape
    M = N * S
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
    if slope != slope:                   # NaN: no activation
        for n in range(N):
            for k in range(S):
                y[n, c, k] = x[n, c, k] * a + b
    else:
        for n in range(N):
            for k in range(S):
                v = x[n, c, k] * a + b
                y[n, c, k] = v if v > 0 else v * slope


@njit(parallel=True, cache=True, fastmath=REDUCE_MATH)
def _bn_train_par(x, gamma, beta, eps, slope, y, mean, invstd):
    for c in prange(x.shape[1]):
        _bn_train_task(x, gamma, beta, eps, slope, y, mean, invstd, c)


@njit(cache=True, fastmath=REDUCE_MATH)
def _bn_train_ser(x, gamma, beta, eps, slope, y, mean, invstd):
    for c in range(x.shape[1]):
        _bn_train_task(x, gamma, beta, eps, slope, y, mean, invstd, c)


@njit(inline="always", cache=True)
def _bn_eval_task(x, scale, shift, y, t):
    """y[n, c, :] = x[n, c, :] * scale[c] + shift[c] for task t = (n, c)."""
    C, S = x.shape[1], x.shape[2]
    n, c = t // C, t % C
    a, b = scale[c], shift[c]
    for k in range(S):
        y[n, c, k] = x[n, c, k] * a + b


@njit(parallel=True, cache=True, fastmath=REDUCE_MATH)
def _bn_eval_par(x, scale, shift, y):
    for t in prange(x.shape[0] * x.shape[1]):
        _bn_eval_task(x, scale, shift, y, t)


@njit(cache=True, fastmath=REDUCE_MATH)
def _bn_eval_ser(x, scale, shift, y):
    for t in range(x.shape[0] * x.shape[1]):
        _bn_eval_task(x, scale, shift, y, t)


@njit(inline="always", cache=True)
def _bn_backward_task(gy, x, gamma, mean, invstd, gx, ggamma, gbeta, c):
    """Channel c, with xhat = (x - mean) * invstd and M = N*S values:
    gbeta = sum gy; ggamma = sum gy*xhat; gx = gamma*invstd/M * (M*gy - gbeta - xhat*ggamma)."""
    N, C, S = x.shape
    M = N * S
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


@njit(parallel=True, cache=True, fastmath=REDUCE_MATH)
def _bn_backward_par(gy, x, gamma, mean, invstd, gx, ggamma, gbeta):
    for c in prange(x.shape[1]):
        _bn_backward_task(gy, x, gamma, mean, invstd, gx, ggamma, gbeta, c)


@njit(cache=True, fastmath=REDUCE_MATH)
def _bn_backward_ser(gy, x, gamma, mean, invstd, gx, ggamma, gbeta):
    for c in range(x.shape[1]):
        _bn_backward_task(gy, x, gamma, mean, invstd, gx, ggamma, gbeta, c)


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


def batchnorm_forward_train(x, gamma, beta, eps=1e-5, negative_slope=None):
    """(y, mean, invstd) with batch statistics over every axis but 1 (biased variance);
    y goes through a leaky ReLU of that negative slope if one is given (0.0: ReLU)."""
    op = "batchnorm_forward_train"
    C, _ = bn_params(op, x, ("gamma", gamma), ("beta", beta))
    dt = common_dtype(op, x)
    x3 = _ncs(x, dt)
    y3 = np.empty(x3.shape, dtype=dt)
    mean, invstd = np.empty(C, dtype=dt), np.empty(C, dtype=dt)
    _loop(_bn_train_par, _bn_train_ser, x3.size)(
        x3, _param(gamma, C, 1, dt), _param(beta, C, 0, dt), float(eps), _slope(negative_slope),
        y3, mean, invstd)
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
    _loop(_bn_eval_par, _bn_eval_ser, x3.size)(x3, scale.astype(dt), shift.astype(dt), y3)
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
    _loop(_bn_backward_par, _bn_backward_ser, x3.size)(
        gy3, x3, _param(gamma, C, 1, dt), _param(mean, C, 0, dt), _param(invstd, C, 1, dt),
        gx3, ggamma, gbeta)
    return _from_ncs(gx3, x.shape), ggamma, gbeta
