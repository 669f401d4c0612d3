"""Matrix products: matmul (batched, broadcasting) and linear (x W^T + b)."""

from minigen.function import Function, ShapeError, user_line

from minigen.tensor import Tensor

from minigen.ops.shape import reshape, sum_to, transpose, squeeze, unsqueeze

from minigen.ops import reduce


def _swap_last(x):
    axes = list(range(x.ndim))
    axes[-1], axes[-2] = axes[-2], axes[-1]
    return transpose(x, axes)


class MatMul(Function):
    """y = a @ b over the last two axes; leading (batch) axes broadcast.

    da = gy @ b^T,  db = a^T @ gy   (each summed back over broadcast batch axes).
    """

    def forward(self, a, b):
        return a @ b

    def backward(self, gy):
        a, b = self.inputs
        return sum_to(MatMul()(gy, _swap_last(b)), a.shape), sum_to(MatMul()(_swap_last(a), gy), b.shape)


def matmul(a, b):
    """y = a @ b (batched and broadcasting like np.matmul; 1-D operands as vectors).

    dy/da = gy @ b^T, dy/db = a^T @ gy (summed over broadcast batch dims).

    NumPy's matmul: 1-D operands are promoted to a row / column and squeezed after."""
    if not isinstance(a, Tensor):
        a = Tensor(_constant_like(a, b))
    if not isinstance(b, Tensor):
        b = Tensor(_constant_like(b, a))
    a_vec, b_vec = a.ndim == 1, b.ndim == 1
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError(f"matmul: operands must have at least 1 dim, got shapes {a.shape} and "
                         f"{b.shape} at {user_line()}")
    if a.shape[-1] != (b.shape[0] if b_vec else b.shape[-2]):
        raise ShapeError(f"matmul: inner dimensions differ: {a.shape} @ {b.shape} "
                         f"({a.shape[-1]} != {b.shape[0] if b_vec else b.shape[-2]}) at {user_line()}")
    a = unsqueeze(a, 0) if a_vec else a
    b = unsqueeze(b, -1) if b_vec else b
    y = MatMul()(a, b)
    if a_vec:
        y = squeeze(y, -2)
    if b_vec:
        y = squeeze(y, -1)
    return y


class Linear(Function):
    """y = x W^T + b, x of shape (..., in), W (out, in), b (out,).

    gx = gy W,   gW = gy^T x (summed over all leading axes),   gb = gy summed over them.
    """

    def forward(self, x, w, b=None):
        y = x @ w.T
        return y if b is None else y + b

    def backward(self, gy):
        x, w = self.inputs[0], self.inputs[1]
        gy2 = reshape(gy, (-1, gy.shape[-1]))
        gx = MatMul()(gy, w)
        gw = MatMul()(transpose(gy2), reshape(x, (-1, x.shape[-1])))
        if len(self.inputs) == 2:
            return gx, gw
        return gx, gw, reduce.sum(gy2, axis=0)


def linear(input, weight, bias=None):
    """y = input @ weight^T + bias (torch.nn.functional.linear).

    dy/dinput = gy @ weight, dy/dweight = gy^T @ input, dy/dbias = sum of gy over the batch.

    torch.nn.functional.linear: input (..., in) @ weight (out, in)^T + bias (out,)."""
    if not isinstance(input, Tensor):
        raise TypeError("linear: input must be a Tensor")
    if weight.ndim != 2 or input.shape[-1] != weight.shape[1]:
        raise ShapeError(f"linear: input of shape {input.shape} does not fit weight of shape "
                         f"{weight.shape} (expected input (..., {weight.shape[-1]})) at {user_line()}")
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ShapeError(f"linear: bias of shape {bias.shape}, expected ({weight.shape[0]},) "
                         f"at {user_line()}")
    return Linear()(input, weight) if bias is None else Linear()(input, weight, bias)


def _constant_like(value, ref):
    from minigen import backend
    dtype = ref.dtype if ref.dtype.kind == "f" else None
    return backend.as_array(value, dtype=dtype, like=ref.data)


def mm(a, b):
    """torch.mm: the product of two 2-D tensors (no broadcasting)."""
    if a.ndim != 2 or b.ndim != 2:
        raise ShapeError(f"mm: expects two 2-D tensors, got shapes {a.shape} and {b.shape} "
                         f"at {user_line()}")
    return matmul(a, b)


def bmm(a, b):
    """torch.bmm: batched products of (B, n, m) and (B, m, p) tensors (no broadcasting)."""
    if a.ndim != 3 or b.ndim != 3 or a.shape[0] != b.shape[0]:
        raise ShapeError(f"bmm: expects (B, n, m) and (B, m, p) tensors with the same B, got "
                         f"shapes {a.shape} and {b.shape} at {user_line()}")
    return matmul(a, b)


# ------------------------------------------------------------------------ cases
# Checked forward (against NumPy), first and second order by the test-suite; collected
# by minigen/op_cases.py.
import numpy as np  # noqa: E402

from minigen.op_cases import OpCase  # noqa: E402

CASES = [
    OpCase("matmul (2-D)", lambda a, b: a @ b, [(3, 4), (4, 2)], reference=np.matmul),
    OpCase("matmul (batched, broadcast)", lambda a, b: a @ b, [(2, 1, 3, 4), (3, 4, 2)], reference=np.matmul),
    OpCase("matmul (vector)", lambda a, b: a @ b, [(4,), (4, 3)], reference=np.matmul),
    OpCase("linear", linear, [(5, 4), (3, 4), (3,)], reference=lambda x, w, b: x @ w.T + b),
    OpCase("linear (no bias, 3-D input)", linear, [(2, 5, 4), (3, 4)], reference=lambda x, w: x @ w.T),
]
