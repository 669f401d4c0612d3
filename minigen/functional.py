"""The user-facing functions, under the names (and argument names) of torch.nn.functional.

    import minigen.functional as F
    loss = F.binary_cross_entropy_with_logits(model(x), target)

Every function here is an op of `minigen.ops` or a few of them combined; open the op to
read its derivative. Axis arguments accept PyTorch's `dim` as well as NumPy's `axis`.
"""
from minigen.ops.elementwise import (  # noqa: F401
    relu, leaky_relu, elu, softplus, silu, gelu, sigmoid, tanh)
from minigen.ops.matmul import linear  # noqa: F401
from minigen.ops.shape import pad as _pad_numpy, getitem
from minigen.ops.reduce import softmax, log_softmax, logsumexp  # noqa: F401
from minigen.ops.conv import conv2d, conv_transpose2d  # noqa: F401
from minigen.ops.pool import max_pool2d, avg_pool2d, interpolate, upsample  # noqa: F401
from minigen.ops.norm import batch_norm, layer_norm, group_norm, instance_norm, dropout  # noqa: F401
from minigen.ops.loss import (  # noqa: F401
    mse_loss, l1_loss, binary_cross_entropy, binary_cross_entropy_with_logits, nll_loss,
    cross_entropy, gaussian_nll_loss, kl_normal)


def pad(input, pad, mode="constant", value=0.0):
    """torch.nn.functional.pad: `pad` lists (before, after) pairs from the LAST axis backwards,
    e.g. (left, right, top, bottom) for an image. Only mode='constant'."""
    if mode != "constant":
        raise ValueError(f"pad: only mode='constant' is supported, got {mode!r}")
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(f"pad: needs an even number of values, at most 2 per axis; got {pad}")
    pairs = [(0, 0)] * input.ndim
    for k in range(len(pad) // 2):
        pairs[input.ndim - 1 - k] = (pad[2 * k], pad[2 * k + 1])
    return _pad_numpy(input, pairs, value)


def embedding(input, weight):
    """Rows of `weight` picked by the integer indices in `input` (repeated rows add gradients)."""
    from minigen.tensor import Tensor
    indices = input.data if isinstance(input, Tensor) else input
    if getattr(indices, "dtype", None) is None or indices.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got {getattr(indices, 'dtype', type(indices))}")
    return getitem(weight, indices)


# ------------------------------------------------------------------------ cases
# The functions composed here, checked like the ops (collected by minigen/op_cases.py).
import numpy as _np  # noqa: E402

from minigen.op_cases import OpCase  # noqa: E402

_EMBEDDING_INDEX = _np.array([[0, 2], [2, 2]])

CASES = [
    OpCase("embedding", lambda w: embedding(_EMBEDDING_INDEX, w), [(3, 4)], reference=lambda w: w[_EMBEDDING_INDEX]),
    OpCase("pad (torch order)", lambda x: pad(x, (1, 2, 0, 1), value=-1.0), [(2, 2, 3)],
           reference=lambda x: _np.pad(x, ((0, 0), (0, 1), (1, 2)), constant_values=-1.0)),
]
