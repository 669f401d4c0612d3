"""Index arithmetic shared by the CPU and the CUDA kernels — written once, compiled twice.

These are plain Python functions on ints. ``kernels.cpu`` wraps them with
``numba.njit(inline="always")`` and ``kernels.cuda`` with ``numba.cuda.jit(device=True)``,
so the convolution geometry lives in exactly one place (the MiniTorch pattern).

Geometry of one spatial axis of a convolution (stride s, padding pad, dilation d)::

    output i, kernel tap p  reads  input  h = i*s - pad + p*d
"""


def in_coord(i, p, stride, pad, dil):
    """Input coordinate read by output ``i`` through kernel tap ``p``: ``i*stride - pad + p*dil``.

    May be negative or past the end: those positions are the zero padding."""
    return i * stride - pad + p * dil


def out_coord(h, p, stride, pad, dil, n_out):
    """Inverse of :func:`in_coord`: the output ``i`` whose tap ``p`` reads input ``h``,
    or -1 if there is none (``h + pad - p*dil`` negative, not a multiple of the stride,
    or past the last output)."""
    t = h + pad - p * dil
    if t < 0 or t % stride != 0:
        return -1
    i = t // stride
    if i >= n_out:
        return -1
    return i


def valid_range(n_in, n_out, p, stride, pad, dil):
    """The outputs ``lo <= i < hi`` whose tap ``p`` reads a real input (``0 <= h < n_in``);
    the others read zero padding. Solves ``0 <= i*stride - pad + p*dil < n_in`` for i."""
    a = pad - p * dil                        # need i*stride >= a and i*stride <= n_in - 1 + a
    lo = -((-a) // stride)                   # ceil(a / stride)
    hi = (n_in - 1 + a) // stride + 1        # floor((n_in - 1 + a) / stride) + 1
    lo = max(lo, 0)
    hi = min(hi, n_out)
    if hi < lo:
        hi = lo
    return lo, hi


def unravel3(t, d1, d2):
    """Flat index ``t`` of an array shaped (d0, d1, d2) -> (a, b, c)."""
    c = t % d2
    t = t // d2
    return t // d1, t % d1, c


def unravel4(t, d1, d2, d3):
    """Flat index ``t`` of an array shaped (d0, d1, d2, d3) -> (a, b, c, d)."""
    d = t % d3
    t = t // d3
    c = t % d2
    t = t // d2
    return t // d1, t % d1, c, d


HELPERS = ("in_coord", "out_coord", "valid_range", "unravel3", "unravel4")
