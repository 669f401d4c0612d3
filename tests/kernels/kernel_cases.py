"""Shared helpers for the kernel tests: naive loops and random conv/batch-norm cases.

(No ``__init__.py`` in this folder on purpose: it would make a package named
``kernels`` that shadows the real one. Test files are named ``test_kernels_*``.)
"""

import numpy as np

from kernels.checks import out_size


def naive_conv2d(x, w, stride, padding, dilation, groups):
    """The textbook seven-loop convolution, in float64 (slow; small shapes only)."""
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    N, C, H, W = x.shape
    O, Cg, kh, kw = w.shape
    Og = O // groups
    Ho, Wo = out_size(H, kh, sh, ph, dh), out_size(W, kw, sw, pw, dw)
    y = np.zeros((N, O, Ho, Wo))
    for n in range(N):
        for o in range(O):
            g = o // Og
            for i in range(Ho):
                for j in range(Wo):
                    s = 0.0
                    for c in range(Cg):
                        for p in range(kh):
                            for q in range(kw):
                                h, v = i * sh - ph + p * dh, j * sw - pw + q * dw
                                if 0 <= h < H and 0 <= v < W:
                                    s += float(w[o, c, p, q]) * float(x[n, g * Cg + c, h, v])
                    y[n, o, i, j] = s
    return y


def random_conv_case(rng, max_hw=9, max_ch=4, max_k=4):
    """A random valid conv configuration: (x_shape, w_shape, stride, padding, dilation, groups)."""
    while True:
        groups = int(rng.choice([1, 1, 2, 3]))
        C = groups * int(rng.integers(1, max_ch + 1))
        O = groups * int(rng.integers(1, max_ch + 1))
        N = int(rng.integers(1, 4))
        H, W = (int(v) for v in rng.integers(1, max_hw + 1, size=2))
        kh, kw = (int(v) for v in rng.integers(1, max_k + 1, size=2))
        stride = tuple(int(v) for v in rng.integers(1, 4, size=2))
        dilation = tuple(int(v) for v in rng.integers(1, 3, size=2))
        padding = tuple(int(v) for v in rng.integers(0, 3, size=2))
        Ho = out_size(H, kh, stride[0], padding[0], dilation[0])
        Wo = out_size(W, kw, stride[1], padding[1], dilation[1])
        if Ho >= 1 and Wo >= 1:
            return (N, C, H, W), (O, C // groups, kh, kw), stride, padding, dilation, groups


def conv_out_shape(x_shape, w_shape, stride, padding, dilation):
    N, _, H, W = x_shape
    O, _, kh, kw = w_shape
    return (N, O, out_size(H, kh, stride[0], padding[0], dilation[0]),
            out_size(W, kw, stride[1], padding[1], dilation[1]))


def noncontiguous(a, rng=None):
    """The same values as ``a`` in a non-contiguous view (every other element of a bigger array)."""
    big = np.empty(a.shape[:-1] + (2 * a.shape[-1],), dtype=a.dtype)
    big[..., ::2] = a
    big[..., 1::2] = np.nan           # poison: a kernel reading the gaps produces NaNs
    view = big[..., ::2]
    assert not view.flags.c_contiguous or a.shape[-1] <= 1
    return view


# Tolerances of "equals the reference": float64 to round-off, float32 to a few ulps of the
# largest value (sums of up to a few hundred products).
TOL = {np.float64: dict(rtol=1e-10, atol=1e-11), np.float32: dict(rtol=2e-5, atol=2e-5)}
DTYPES = [np.float64, np.float32]


def check_close(actual, expected, dtype):
    """A kernel's result equals the reference's: same dtype, shape, C-contiguous, close."""
    assert isinstance(actual, np.ndarray)
    assert actual.dtype == dtype
    assert actual.shape == expected.shape
    assert actual.flags.c_contiguous
    scale = max(1.0, float(np.abs(expected).max(initial=0)))
    np.testing.assert_allclose(actual, expected, rtol=TOL[dtype]["rtol"],
                               atol=TOL[dtype]["atol"] * scale)


def conv_all(mod, x, w, gy, case):
    """The three conv kernels of module ``mod`` on one case: forward, grad-input, grad-weight."""
    xs, ws, s, p, d, g = case
    return (mod.conv2d_forward(x, w, s, p, d, g),
            mod.conv2d_grad_input(gy, w, xs, s, p, d, g),
            mod.conv2d_grad_weight(x, gy, ws, s, p, d, g))
