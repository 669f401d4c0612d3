"""Gradient utilities: clip_grad_norm_ and clip_grad_value_ (as torch.nn.utils).

Both work on the `.grad` of parameters after `backward()` and before `optimizer.step()`:

    loss.backward()
    total = nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    optimizer.step()
"""
import math

from minigen import backend
from minigen.autograd import no_grad
from minigen.tensor import Tensor


def _with_grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p for p in parameters if p.grad is not None]


def _norm(array, norm_type):
    """The norm_type-norm of all entries of `array`, as a Python float."""
    xp = backend.get_array_module(array)
    a = xp.abs(array)
    if norm_type == math.inf:
        return float(a.max()) if a.size else 0.0
    return float((a.astype(xp.float64) ** norm_type).sum() ** (1.0 / norm_type))


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale all gradients together so that their joint norm is at most `max_norm`.

    The joint norm is the norm of the vector of all gradient entries of all
    parameters (norm_type 2 by default, or math.inf for the largest |entry|). When it
    exceeds max_norm every gradient is multiplied by max_norm / (norm + 1e-6), so the
    direction of the update is kept. Returns the norm *before* clipping, as a 0-d
    float32 Tensor (call .item() for a number), as PyTorch does.
    """
    norm_type, max_norm = float(norm_type), float(max_norm)
    params = _with_grads(parameters)
    if not params:
        return Tensor(backend.as_array(0.0, dtype="float32"))
    norms = [_norm(p.grad.data, norm_type) for p in params]
    if norm_type == math.inf:
        total = max(norms)
    else:
        total = sum(n ** norm_type for n in norms) ** (1.0 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of the gradients is {total}; "
                           "pass error_if_nonfinite=False to clip anyway")
    coef = max_norm / (total + 1e-6)
    if coef < 1.0:
        with no_grad():
            for p in params:
                p.grad = Tensor(p.grad.data * coef)   # Python float: the dtype is kept
    xp = backend.get_array_module(params[0].grad.data)
    return Tensor(xp.asarray(total, dtype=params[0].grad.dtype))


def clip_grad_value_(parameters, clip_value):
    """Clip every gradient entry into [-clip_value, clip_value]."""
    clip_value = float(clip_value)
    with no_grad():
        for p in _with_grads(parameters):
            xp = backend.get_array_module(p.grad.data)
            p.grad = Tensor(xp.clip(p.grad.data, -clip_value, clip_value))


def parameters_to_vector(parameters):
    """All parameters' arrays flattened and concatenated (a copy; no gradient)."""
    arrays = [p.data.reshape(-1) for p in parameters]
    xp = backend.get_array_module(*arrays)
    return xp.concatenate(arrays)


def vector_to_parameters(vector, parameters):
    """Write consecutive slices of `vector` back into the parameters (shapes kept)."""
    vector = vector.data if isinstance(vector, Tensor) else vector
    offset = 0
    with no_grad():
        for p in parameters:
            n = p.numel()
            p.data = vector[offset:offset + n].reshape(p.shape).astype(p.dtype, copy=True)
            offset += n
    if offset != vector.size:
        raise ValueError(f"vector_to_parameters: vector has {vector.size} entries, the "
                         f"parameters {offset}")
