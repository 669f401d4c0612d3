"""Pooling and resizing: max_pool2d, avg_pool2d, interpolate (nearest, bilinear).

Only max pooling needs a Function of its own: its backward sends each output gradient
to the position that won the max, a scatter-add written with engine ops (GetItemGrad),
so second derivatives work (the winners depend on x with derivative 0: `depends_on`).
Average pooling is a depthwise convolution with a constant kernel and resizing is
indexing (nearest) or two matrix products (bilinear): they are built from existing ops
and inherit their derivatives.
"""

import numpy as np

from minigen import backend

from minigen.function import Function, ShapeError, user_line

from minigen.tensor import Tensor

from minigen.ops.shape import GetItemGrad, broadcast_to, getitem, reshape, transpose

from minigen.ops.conv import conv2d, _pair

from minigen.ops.matmul import matmul

from minigen.ops.elementwise import PassThrough, depends_on


def _pool_geometry(op, x, kernel_size, stride, padding):
    if x.ndim != 4:
        raise ShapeError(f"{op}: input must be 4-D (N, C, H, W), got shape {x.shape} at {user_line()}")
    k = _pair(kernel_size, "kernel_size", op)
    s = _pair(stride if stride is not None else k, "stride", op)
    p = _pair(padding, "padding", op)
    if p[0] > k[0] // 2 or p[1] > k[1] // 2:
        raise ValueError(f"{op}: padding {p} must be at most half the kernel size {k}")
    out = tuple((x.shape[2 + a] + 2 * p[a] - k[a]) // s[a] + 1 for a in (0, 1))
    if min(out) < 1:
        raise ShapeError(f"{op}: input of shape {x.shape} is smaller than the kernel {k} at {user_line()}")
    return k, s, p, out


class MaxPool2d(Function):
    """y[n, c, i, j] = max over the window of x at (i, j).

    gx = gy added at the argmax position of each window (zero elsewhere); windows that
    overlap and share a winner add up.
    """

    def __init__(self, kernel, stride, padding, out_hw):
        self.kernel, self.stride, self.padding, self.out_hw = kernel, stride, padding, out_hw

    def forward(self, x):
        xp = backend.get_array_module(x)
        (kh, kw), (sh, sw), (ph, pw) = self.kernel, self.stride, self.padding
        padded = xp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=-np.inf)
        windows = xp.lib.stride_tricks.sliding_window_view(padded, (kh, kw), axis=(2, 3))
        windows = windows[:, :, ::sh, ::sw][:, :, :self.out_hw[0], :self.out_hw[1]]
        flat = windows.reshape(windows.shape[:4] + (kh * kw,))
        winner = flat.argmax(axis=-1)
        rows = xp.arange(self.out_hw[0]).reshape(-1, 1) * sh + winner // kw
        cols = xp.arange(self.out_hw[1]).reshape(1, -1) * sw + winner % kw
        self.padded_shape = padded.shape
        self.save_for_backward(rows * padded.shape[3] + cols)   # winners in the padded H*W plane
        return xp.take_along_axis(flat, winner[..., None], axis=-1)[..., 0]

    def backward(self, gy):
        flat_index, = self.saved
        n, c, hp, wp = self.padded_shape
        xp = backend.get_array_module(gy.data)
        index = (xp.arange(n).reshape(-1, 1, 1, 1), xp.arange(c).reshape(1, -1, 1, 1), flat_index)
        g_padded = reshape(GetItemGrad(index, (n, c, hp * wp))(gy), self.padded_shape)
        (ph, pw) = self.padding
        gx = getitem(g_padded, (slice(None), slice(None), slice(ph, hp - ph), slice(pw, wp - pw)))
        return depends_on(gx, self.inputs[0])      # the winners depend on x (derivative 0)


def max_pool2d(input, kernel_size, stride=None, padding=0):
    """y[n, c, i, j] = max of x over the window at (i, j).

    dy/dx = 1 at each window's maximum, 0 elsewhere (overlapping windows add); d2y/dx2 = 0.

    torch.nn.functional.max_pool2d (no dilation, floor mode)."""
    k, s, p, out = _pool_geometry("max_pool2d", input, kernel_size, stride, padding)
    return MaxPool2d(k, s, p, out)(input)


def avg_pool2d(input, kernel_size, stride=None, padding=0, count_include_pad=True):
    """y[n, c, i, j] = mean of x over the window at (i, j) (a depthwise conv2d).

    dy/dx = 1 / (kh kw) for each window that contains x (or 1 / real pixels); d2y/dx2 = 0.

    torch.nn.functional.avg_pool2d as a depthwise convolution with weights 1 / (kh kw).

    count_include_pad=False divides by the number of real (unpadded) pixels instead.
    """
    k, s, p, _ = _pool_geometry("avg_pool2d", input, kernel_size, stride, padding)
    xp = backend.get_array_module(input.data)
    channels = input.shape[1]
    weight = Tensor(xp.full((channels, 1) + k, 1.0 / (k[0] * k[1]), dtype=input.dtype))
    # PassThrough: the gradient, linear in gy, is recorded as depending on the input too
    y = conv2d(PassThrough()(input), weight, stride=s, padding=p, groups=channels)
    if count_include_pad or p == (0, 0):
        return y
    ones = Tensor(xp.ones((1, 1) + input.shape[2:], dtype=input.dtype))
    fraction = conv2d(ones, weight[:1], stride=s, padding=p)   # share of real pixels
    return y / fraction


def _nearest_index(n_in, n_out, xp):
    """PyTorch's 'nearest': source index floor(dst * n_in / n_out)."""
    return xp.minimum((xp.arange(n_out) * (n_in / n_out)).astype(np.int64), n_in - 1)


def _bilinear_matrix(n_in, n_out, align_corners, dtype, xp):
    """The (n_out, n_in) matrix that linearly interpolates along one axis."""
    dst = np.arange(n_out, dtype=np.float64)
    if align_corners:
        src = dst * ((n_in - 1) / (n_out - 1)) if n_out > 1 else np.zeros(n_out)
    else:
        src = np.maximum((dst + 0.5) * (n_in / n_out) - 0.5, 0.0)
    lo = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    hi = np.minimum(lo + 1, n_in - 1)
    frac = src - lo
    m = np.zeros((n_out, n_in))
    np.add.at(m, (np.arange(n_out), lo), 1.0 - frac)
    np.add.at(m, (np.arange(n_out), hi), frac)
    return Tensor(xp.asarray(m.astype(dtype)))


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """torch.nn.functional.interpolate for 4-D input: mode 'nearest' or 'bilinear'."""
    if input.ndim != 4:
        raise ShapeError(f"interpolate: input must be 4-D (N, C, H, W), got {input.shape} at {user_line()}")
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    h, w = input.shape[2:]
    if size is not None:
        out_h, out_w = _pair(size, "size", "interpolate")
    else:
        fh, fw = (scale_factor, scale_factor) if np.isscalar(scale_factor) else scale_factor
        out_h, out_w = int(np.floor(h * fh)), int(np.floor(w * fw))
    xp = backend.get_array_module(input.data)
    if mode == "nearest":
        if align_corners is not None:
            raise ValueError("interpolate: align_corners only applies to mode='bilinear'")
        rows, cols = _nearest_index(h, out_h, xp), _nearest_index(w, out_w, xp)
        fh, fw = out_h // max(h, 1), out_w // max(w, 1)
        if (fh * h == out_h and fw * w == out_w and bool((rows == xp.arange(out_h) // fh).all())
                and bool((cols == xp.arange(out_w) // fw).all())):
            # Whole-number factors: each value repeated fh x fw times, a broadcast whose
            # backward is a sum over the copies (the scatter-add of getitem's backward,
            # np.add.at, took ~8 ms per U-Net upsampling layer here).
            n, c = input.shape[:2]
            tiles = broadcast_to(reshape(input, (n, c, h, 1, w, 1)), (n, c, h, fh, w, fw))
            return reshape(tiles, (n, c, out_h, out_w))
        return getitem(input, (slice(None), slice(None), rows[:, None], cols[None, :]))
    if mode == "bilinear":
        a_h = _bilinear_matrix(h, out_h, bool(align_corners), input.dtype, xp)
        a_w = _bilinear_matrix(w, out_w, bool(align_corners), input.dtype, xp)
        return matmul(matmul(a_h, input), transpose(a_w))
    raise ValueError(f"interpolate: mode must be 'nearest' or 'bilinear', got {mode!r}")


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    return interpolate(input, size, scale_factor, mode, align_corners)


# ------------------------------------------------------------------------ cases
# Checked forward (against NumPy), first and second order by the test-suite; collected
# by minigen/op_cases.py.
from minigen.op_cases import OpCase  # noqa: E402


def _np_pool(x, k, s, p, reduce, fill):
    """Windows of (N, C, H, W) padded with `fill`, reduced by `reduce` (NumPy reference)."""
    padded = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=fill)
    windows = np.lib.stride_tricks.sliding_window_view(padded, (k, k), axis=(2, 3))[:, :, ::s, ::s]
    return reduce(windows, axis=(-2, -1))


CASES = [
    OpCase("max_pool2d (2x2)", lambda x: max_pool2d(x, 2), [(2, 2, 4, 5)], "distinct",
           reference=lambda x: _np_pool(x[..., :4], 2, 2, 0, np.max, -np.inf)),
    OpCase("max_pool2d (3x3, stride 2, pad 1)", lambda x: max_pool2d(x, 3, 2, 1), [(1, 2, 5, 5)], "distinct",
           reference=lambda x: _np_pool(x, 3, 2, 1, np.max, -np.inf)),
    OpCase("avg_pool2d (3x3, stride 2, pad 1, count_include_pad=False)",
           lambda x: avg_pool2d(x, 3, 2, 1, count_include_pad=False), [(1, 2, 5, 4)],
           reference=lambda x: _np_pool(x, 3, 2, 1, np.nanmean, np.nan)[..., :2]),
    OpCase("interpolate (nearest, x2)", lambda x: interpolate(x, scale_factor=2) ** 2, [(1, 2, 2, 3)],
           reference=lambda x: x.repeat(2, axis=2).repeat(2, axis=3) ** 2),
    OpCase("interpolate (nearest, x3 by x2)", lambda x: interpolate(x, scale_factor=(3, 2)),
           [(2, 1, 2, 3)], reference=lambda x: x.repeat(3, axis=2).repeat(2, axis=3)),
    OpCase("interpolate (nearest, size 5x4)", lambda x: interpolate(x, size=(5, 4)) ** 2, [(1, 1, 3, 3)],
           reference=lambda x: x[:, :, [0, 0, 1, 1, 2]][:, :, :, [0, 0, 1, 2]] ** 2),
    OpCase("interpolate (bilinear)", lambda x: interpolate(x, size=(5, 3), mode="bilinear"), [(1, 2, 3, 4)]),
    OpCase("interpolate (bilinear, align_corners)",
           lambda x: interpolate(x, scale_factor=2, mode="bilinear", align_corners=True), [(1, 1, 2, 3)]),
]
