"""Argument checks shared by every backend (reference, Numba CPU, Numba CUDA).

Each check raises a ``ValueError`` / ``TypeError`` that names the op and the shapes,
so a wrong call fails with a readable message instead of deep inside a kernel.
"""

import numpy as np

SUPPORTED_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def pair(v, name, op):
    """``3 -> (3, 3)``; ``(2, 1) -> (2, 1)``; anything else is an error."""
    if isinstance(v, (int, np.integer)):
        return (int(v), int(v))
    try:
        a, b = v
        return (int(a), int(b))
    except (TypeError, ValueError):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {v!r}") from None


def out_size(size, k, stride, pad, dil):
    """Output length of a convolution along one axis:
    ``floor((size + 2*pad - dil*(k-1) - 1) / stride) + 1``."""
    return (size + 2 * pad - dil * (k - 1) - 1) // stride + 1


def common_dtype(op, *arrays):
    """The dtype the op computes in: float32 or float64 (mixed -> float64)."""
    dt = np.result_type(*[a.dtype for a in arrays if a is not None])
    if dt not in SUPPORTED_DTYPES:
        names = ", ".join(str(a.dtype) for a in arrays if a is not None)
        raise TypeError(f"{op}: expected float32 or float64 arrays, got dtypes ({names})")
    return dt


def conv_params(op, x_shape, w_shape, stride, padding, dilation, groups):
    """Check a conv2d configuration; return ``(stride, padding, dilation, groups, (Ho, Wo))``.

    x_shape is (N, C, H, W), w_shape is (O, C // groups, kh, kw).
    """
    stride = pair(stride, "stride", op)
    padding = pair(padding, "padding", op)
    dilation = pair(dilation, "dilation", op)
    if not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    groups = int(groups)
    if len(x_shape) != 4:
        raise ValueError(f"{op}: input must be 4-D (N, C, H, W), got shape {tuple(x_shape)}")
    if len(w_shape) != 4:
        raise ValueError(f"{op}: weight must be 4-D (O, C/groups, kh, kw), got shape {tuple(w_shape)}")
    if min(stride) < 1 or min(dilation) < 1 or min(padding) < 0:
        raise ValueError(
            f"{op}: need stride >= 1, dilation >= 1, padding >= 0; "
            f"got stride={stride}, padding={padding}, dilation={dilation}")
    N, C, H, W = x_shape
    O, Cg, kh, kw = w_shape
    if C % groups or O % groups:
        raise ValueError(
            f"{op}: input channels ({C}) and output channels ({O}) must both be divisible "
            f"by groups ({groups}); input shape {tuple(x_shape)}, weight shape {tuple(w_shape)}")
    if Cg != C // groups:
        raise ValueError(
            f"{op}: weight shape {tuple(w_shape)} expects {Cg * groups} input channels "
            f"with groups={groups}, but the input shape {tuple(x_shape)} has {C}")
    if kh < 1 or kw < 1:
        raise ValueError(f"{op}: empty kernel in weight shape {tuple(w_shape)}")
    Ho = out_size(H, kh, stride[0], padding[0], dilation[0])
    Wo = out_size(W, kw, stride[1], padding[1], dilation[1])
    if Ho < 1 or Wo < 1:
        raise ValueError(
            f"{op}: input shape {tuple(x_shape)} is too small for kernel {(kh, kw)} with "
            f"stride={stride}, padding={padding}, dilation={dilation} (output would be {Ho}x{Wo})")
    return stride, padding, dilation, groups, (Ho, Wo)


def check_grad_output(op, gy_shape, N, O, Ho, Wo, x_name="input"):
    """gy must have the shape the forward would have produced: (N, O, Ho, Wo)."""
    if tuple(gy_shape) != (N, O, Ho, Wo):
        raise ValueError(
            f"{op}: grad_output has shape {tuple(gy_shape)}, but the forward with this "
            f"{x_name} and weight gives (N, O, Ho, Wo) = {(N, O, Ho, Wo)}")


def bn_params(op, x, *params):
    """Check batch-norm shapes: x is (N, C) or (N, C, *spatial); each param is (C,) or None."""
    if x.ndim < 2:
        raise ValueError(f"{op}: input must be (N, C) or (N, C, *spatial), got shape {x.shape}")
    C = x.shape[1]
    for name, p in params:
        if p is not None and tuple(p.shape) != (C,):
            raise ValueError(
                f"{op}: {name} must have shape ({C},) for input shape {x.shape}, got {tuple(p.shape)}")
    count = x.size // C if C else 0
    if count == 0:
        raise ValueError(f"{op}: no elements per channel in input shape {x.shape}")
    return C, count
