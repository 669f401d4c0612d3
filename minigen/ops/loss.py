"""Loss functions, built from engine ops (their gradients follow from those ops).

Every loss takes `reduction`: 'mean' (default), 'sum', or 'none' (one value per
element or sample), with PyTorch's argument names.
"""

import math

import numpy as np

from minigen import backend

from minigen.function import Function, ShapeError, user_line

from minigen.tensor import Tensor

from minigen.ops import elementwise, reduce

from minigen.ops.elementwise import clip, exp, log, log1p, softplus, constant, where, _only_needed

from minigen.ops.reduce import log_softmax

from minigen.ops.shape import getitem, reshape, transpose

REDUCTIONS = ("mean", "sum", "none")


def reduce_loss(loss, reduction):
    if reduction == "mean":
        return reduce.mean(loss)
    if reduction == "sum":
        return reduce.sum(loss)
    if reduction == "none":
        return loss
    raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")


def _as_target(target, like, op):
    """A float target as a constant Tensor of the input's dtype; shape must match."""
    if isinstance(target, (bool, int, float)):
        # one number for every element (nn.BCELoss()(p, 1.0)): a full tensor of input's dtype
        xp = backend.get_array_module(like.data)
        target = Tensor(xp.full(like.shape, target, dtype=like.dtype if like.dtype.kind == "f" else None))
    if not isinstance(target, Tensor):
        target = Tensor(backend.as_array(target, like=like.data))
    if target.dtype.kind not in "fb":
        raise TypeError(f"{op}: target must be float (probabilities or values), got dtype "
                        f"{target.dtype}; integer class labels belong to cross_entropy/nll_loss")
    if target.dtype != like.dtype and not target.requires_grad:
        target = Tensor(target.data.astype(like.dtype))
    if target.shape != like.shape:
        raise ShapeError(f"{op}: input of shape {like.shape} and target of shape {target.shape} "
                         f"differ at {user_line()}")
    return target


def mse_loss(input, target, reduction="mean"):
    """loss = mean((input - target)^2) (or sum / none).

    dloss/dinput = 2 (input - target) / n, dloss/dtarget = -dloss/dinput.

    (input - target)^2."""
    diff = input - _as_target(target, input, "mse_loss")
    return reduce_loss(diff * diff, reduction)


def l1_loss(input, target, reduction="mean"):
    """loss = mean(|input - target|) (or sum / none).

    dloss/dinput = sign(input - target) / n; d2loss/dinput2 = 0.

    |input - target|."""
    return reduce_loss(elementwise.abs(input - _as_target(target, input, "l1_loss")), reduction)


LOG_FLOOR = -100.0        # PyTorch clamps the logs of binary_cross_entropy here

BCE_EPS = 1e-12          # ... and bounds the denominator of its gradient by this


def _clamped_log(x, log1p=False):
    """max(log x, -100) (or max(log(1 + x), -100)) on arrays; -inf is expected, no warning."""
    xp = backend.get_array_module(x)
    with np.errstate(divide="ignore"):
        return xp.maximum(xp.log1p(x) if log1p else xp.log(x), LOG_FLOOR)


class BinaryCrossEntropy(Function):
    """l = -(t log p + (1 - t) log(1 - p)), each log clamped at -100 (as PyTorch; log(1 - p)
    is computed as log1p(-p), exact for small p).

        dp = gy (p - t) / max(p (1 - p), 1e-12)
        dt = gy (log(1 - p) - log p)            (the clamped logs)

    The derivative in p is (p - t) / (p (1 - p)); its denominator is bounded below like
    PyTorch's, so a saturated probability (p = 1 or 0 exactly, which a float32 sigmoid
    reaches at |x| > 17) gets a finite gradient: 0 where it already equals the target,
    (p - t) / 1e-12 otherwise. Written with the clamped logs composed from `log` and
    `clip`, the same p = 1 would give 0 * inf = NaN.
    """

    def forward(self, p, t):
        return -(t * _clamped_log(p) + (1.0 - t) * _clamped_log(-p, log1p=True))

    def backward(self, gy):
        p, t = self.inputs
        gp = _only_needed(p, lambda: gy * (p - t) / clip(p * (1.0 - p), BCE_EPS, None))
        gt = _only_needed(t, lambda: gy * (_log_floor(-p, log1p) - _log_floor(p, log)))
        return gp, gt


def _log_floor(x, log_fn):
    """max(log_fn(x), -100) as engine ops, log_fn being log or log1p: the log where its
    value is above -100, else the constant -100 (the log only ever sees safe values, so
    its own gradient stays finite too)."""
    xp = backend.get_array_module(x.data)
    safe_point = 0.0 if log_fn is log1p else 1.0
    with np.errstate(divide="ignore"):
        above = _clamped_log(x.data, log1p=log_fn is log1p) > LOG_FLOOR
    safe = where(above, x, constant(xp.full_like(x.data, safe_point), x))
    return where(above, log_fn(safe), constant(xp.full_like(x.data, LOG_FLOOR), x))


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """loss = -mean(t log p + (1 - t) log(1 - p)), the logs clamped at -100.

    dloss/dp = (p - t) / (p (1 - p)) / n, dloss/dt = (log(1 - p) - log p) / n.

    -(t log p + (1 - t) log(1 - p)) for probabilities p; logs are clamped at -100 and
    the gradient in p is bounded like PyTorch's (see BinaryCrossEntropy).

    Prefer binary_cross_entropy_with_logits: it never takes the log of 0.
    """
    target = _as_target(target, input, "binary_cross_entropy")
    if input.device == "cpu" and (np.any(input.data < 0) or np.any(input.data > 1)):
        raise ValueError("binary_cross_entropy: input must hold probabilities in [0, 1] "
                         "(for raw scores use binary_cross_entropy_with_logits)")
    loss = BinaryCrossEntropy()(input, target)
    if weight is not None:
        loss = loss * weight
    return reduce_loss(loss, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean", pos_weight=None):
    """loss = mean(softplus(x) - t x) (with pos_weight w: w t softplus(-x) + (1 - t) softplus(x)).

    dloss/dx = (sigmoid(x) - t) / n without pos_weight; dloss/dt = -x / n.

    Binary cross-entropy of sigmoid(x) against t, computed stably from the logit x:

        -(t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))) = softplus(x) - t x

    softplus never overflows, so logits of any size (1e4, -1e4) give finite losses and
    gradients sigmoid(x) - t. With pos_weight w: (1 - t) x + (1 + (w - 1) t) softplus(-x).
    """
    target = _as_target(target, input, "binary_cross_entropy_with_logits")
    if pos_weight is None:
        loss = softplus(input) - target * input
    else:
        loss = (1.0 - target) * input + (1.0 + (pos_weight - 1.0) * target) * softplus(-input)
    if weight is not None:
        loss = loss * weight
    return reduce_loss(loss, reduction)


def _class_axis_last(x):
    """(N, C, d1, ...) -> (N * d1 * ..., C); (N, C) stays."""
    if x.ndim == 2:
        return x
    axes = (0,) + tuple(range(2, x.ndim)) + (1,)
    return reshape(transpose(x, axes), (-1, x.shape[1]))


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """loss = -mean over the batch of input[n, target[n]] (weighted; ignore_index skipped).

    dloss/dinput[n, c] = -1 / n where c = target[n], else 0.

    -input[n, target[n]] for log-probabilities `input` (N, C) or (N, C, d1, ...).

    target holds integer class indices (N) or (N, d1, ...). With class weights w, 'mean'
    divides by the sum of w[target] over the counted samples (as PyTorch does).
    """
    labels = target.data if isinstance(target, Tensor) else np.asarray(target)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"nll_loss: target must hold integer class indices, got dtype {labels.dtype}")
    if input.ndim < 2 or labels.shape != (input.shape[0],) + input.shape[2:]:
        raise ShapeError(f"nll_loss: input of shape {input.shape} needs target of shape "
                         f"{(input.shape[0],) + input.shape[2:]}, got {labels.shape} at {user_line()}")
    xp = backend.get_array_module(input.data)
    labels = xp.asarray(labels).reshape(-1)
    classes = input.shape[1]
    counted = labels != ignore_index
    safe = xp.where(counted, labels, 0)
    if bool(((safe < 0) | (safe >= classes)).any()):
        raise IndexError(f"nll_loss: target values must lie in [0, {classes}), got "
                         f"min {int(labels.min())} and max {int(labels.max())}")
    flat = _class_axis_last(input)
    picked = -getitem(flat, (xp.arange(flat.shape[0]), safe))
    w = counted.astype(input.dtype)
    if weight is not None:
        w = w * (weight.data if isinstance(weight, Tensor) else xp.asarray(weight))[safe].astype(input.dtype)
    loss = picked * constant(w, input)
    if reduction == "mean":
        total = float(w.sum())
        if total == 0:
            _check_not_empty_mean(input, reduction, "nll_loss")
            raise ValueError(f"nll_loss: every target is ignore_index ({ignore_index}) or has "
                             "weight 0, and the mean over no counted samples is undefined "
                             "(PyTorch returns nan); use reduction='sum' or 'none'")
        return reduce.sum(loss) * (1.0 / total)
    if reduction == "none":
        return reshape(loss, labels.shape if input.ndim == 2 else (input.shape[0],) + input.shape[2:])
    return reduce_loss(loss, reduction)


def _check_not_empty_mean(input, reduction, op):
    if reduction == "mean" and input.ndim >= 1 and input.shape[0] == 0:
        raise ValueError(f"{op}: the batch is empty (input of shape {input.shape}), and the mean "
                         "over no samples is undefined (PyTorch returns nan); skip empty "
                         "batches, or use reduction='sum' (0) or 'none'")


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """loss = nll_loss(log_softmax(input), target) (or -sum(t log_softmax) for probability targets).

    dloss/dinput = (softmax(input) - onehot(target)) / n.

    Softmax cross-entropy of raw scores `input` (N, C, ...).

    target: integer class indices (N, ...) -> nll_loss(log_softmax(input, axis=1), target);
    or, as in PyTorch, class probabilities of the input's shape (float) ->
    -sum_c w_c t_c log_softmax(input)_c, where label smoothing first mixes t with the
    uniform distribution, t (1 - eps) + eps / C, and 'mean' divides by the number of
    samples (N times the extra dims).
    """
    _check_not_empty_mean(input, reduction, "cross_entropy")
    if input.ndim < 2:
        raise ShapeError(f"cross_entropy: input must be (N, C) or (N, C, d1, ...), got shape "
                         f"{input.shape} at {user_line()}")
    log_p = log_softmax(input, axis=1)
    dtype = getattr(target, "dtype", None)
    if isinstance(target, (list, tuple)):
        dtype = np.asarray(target).dtype
    if dtype is not None and dtype.kind == "f":
        labels_shape = (input.shape[0],) + input.shape[2:]
        if tuple(np.shape(target)) == labels_shape and labels_shape != input.shape:
            raise TypeError(
                f"cross_entropy: target of shape {labels_shape} must hold integer class indices, "
                f"got dtype {dtype}: cast it with .long() / .astype('int64') (a float target "
                f"holds class probabilities and has the input's shape {input.shape})")
        if tuple(np.shape(target)) != input.shape:
            raise ShapeError(
                f"cross_entropy: a float target holds class probabilities and must have the "
                f"input's shape {input.shape}, got {tuple(np.shape(target))} (integer class "
                f"indices would have shape {labels_shape})")
        target = _as_target(target, input, "cross_entropy")
        classes = input.shape[1]
        if label_smoothing:
            target = target * (1.0 - label_smoothing) + label_smoothing / classes
        terms = target * log_p
        if weight is not None:
            w = weight.data if isinstance(weight, Tensor) else backend.as_array(weight, like=input.data)
            terms = terms * constant(w.reshape((1, classes) + (1,) * (input.ndim - 2)), input)
        return reduce_loss(-reduce.sum(terms, axis=1), reduction)
    loss = nll_loss(log_p, target, weight, ignore_index, reduction)
    if label_smoothing:
        smooth = -reduce.mean(log_p, axis=1)
        loss = (1.0 - label_smoothing) * loss + label_smoothing * reduce_loss(smooth, reduction)
    return loss


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """loss = mean(0.5 (log var + (input - target)^2 / var)) (+ 0.5 log(2 pi) when full).

    dloss/dinput = (input - target) / (var n), dloss/dvar = 0.5 (1 / var - (input - target)^2 / var^2) / n.

    Negative log-likelihood of target under N(input, var):

        0.5 (log max(var, eps) + (input - target)^2 / max(var, eps))  [+ 0.5 log(2 pi) if full]
    """
    target = _as_target(target, input, "gaussian_nll_loss")
    if not isinstance(var, Tensor):
        var = Tensor(backend.as_array(var, dtype=input.dtype, like=input.data))
    var = clip(var, eps, None)
    diff = input - target
    loss = 0.5 * (log(var) + diff * diff / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return reduce_loss(loss, reduction)


def kl_normal(mu, logvar, mu2=None, logvar2=None, reduction="sum"):
    """KL(N(mu, exp(logvar)) || N(mu2, exp(logvar2))), N(0, 1) when mu2, logvar2 are None:
    0.5 (logvar2 - logvar + (exp(logvar) + (mu - mu2)^2) / exp(logvar2) - 1).

    dKL/dmu = (mu - mu2) / exp(logvar2), dKL/dlogvar = 0.5 (exp(logvar - logvar2) - 1).

    Analytic KL( N(mu, exp(logvar)) || N(mu2, exp(logvar2)) ) of diagonal Gaussians, per element:

        0.5 (logvar2 - logvar + (exp(logvar) + (mu - mu2)^2) / exp(logvar2) - 1)

    With mu2 = 0, logvar2 = 0 (the standard normal prior of a VAE) this is
    0.5 (exp(logvar) + mu^2 - 1 - logvar). reduction: 'sum', 'mean', 'none', or
    'batchmean' (sum divided by the batch size: nats per sample).
    """
    if mu.shape != logvar.shape:
        raise ShapeError(f"kl_normal: mu of shape {mu.shape} and logvar of shape {logvar.shape} differ")
    if mu2 is None and logvar2 is None:
        kl = 0.5 * (exp(logvar) + mu * mu - 1.0 - logvar)
    else:
        mu2 = 0.0 if mu2 is None else mu2
        logvar2 = 0.0 if logvar2 is None else logvar2
        diff = mu - mu2
        inv_var2 = exp(-logvar2) if isinstance(logvar2, Tensor) else math.exp(-logvar2)
        kl = 0.5 * (logvar2 - logvar + (exp(logvar) + diff * diff) * inv_var2 - 1.0)
    if reduction == "batchmean":
        return reduce.sum(kl) * (1.0 / mu.shape[0])
    return reduce_loss(kl, reduction)


# ------------------------------------------------------------------------ cases
# Every loss, with every input that can carry a gradient; checked forward (against
# NumPy), first and second order by the test-suite; collected by minigen/op_cases.py.
from minigen.op_cases import OpCase  # noqa: E402


def _labels(*shape, classes=3):
    return np.random.default_rng(7).integers(0, classes, shape)


def _np_softplus(x):
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def _np_log_softmax(x, axis):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


_NLL_TARGET = np.array([0, 2, -100, 1])


def _np_nll_none(x):
    picked = x[np.arange(4), np.where(_NLL_TARGET < 0, 0, _NLL_TARGET)]
    return np.where(_NLL_TARGET == -100, 0.0, -picked)


CASES = [
    OpCase("mse_loss", mse_loss, [(3, 4), (3, 4)], reference=lambda x, t: ((x - t) ** 2).mean()),
    OpCase("l1_loss (sum)", lambda x, t: l1_loss(x, t, reduction="sum"), [(3, 4), (3, 4)], ("away", "real"),
           reference=lambda x, t: np.abs(x - t).sum()),
    OpCase("binary_cross_entropy", binary_cross_entropy, [(3, 4), (3, 4)], "prob",
           reference=lambda p, t: -(t * np.log(p) + (1 - t) * np.log(1 - p)).mean()),
    OpCase("binary_cross_entropy_with_logits", binary_cross_entropy_with_logits,
           [(3, 4), (3, 4)], ("real", "prob"), reference=lambda x, t: (_np_softplus(x) - t * x).mean()),
    OpCase("binary_cross_entropy_with_logits (pos_weight, none)",
           lambda x, t: binary_cross_entropy_with_logits(x, t, pos_weight=2.5, reduction="none"),
           [(3, 4), (3, 4)], ("real", "prob"),
           reference=lambda x, t: 2.5 * t * _np_softplus(-x) + (1 - t) * _np_softplus(x)),
    OpCase("cross_entropy", lambda x: cross_entropy(x, _labels(5)), [(5, 3)],
           reference=lambda x: -_np_log_softmax(x, 1)[np.arange(5), _labels(5)].mean()),
    OpCase("cross_entropy (4-D, weights, label_smoothing)",
           lambda x: cross_entropy(x, _labels(2, 2, 2), weight=np.array([1.0, 2.0, 0.5]),
                                   label_smoothing=0.1), [(2, 3, 2, 2)]),
    OpCase("cross_entropy (probability targets)", lambda x, t: cross_entropy(x, t), [(4, 3), (4, 3)],
           ("real", "prob"), reference=lambda x, t: -(t * _np_log_softmax(x, 1)).sum(axis=1).mean()),
    OpCase("nll_loss (ignore_index, none)",
           lambda x: nll_loss(x, _NLL_TARGET, reduction="none"), [(4, 3)], reference=_np_nll_none),
    OpCase("gaussian_nll_loss (full)", lambda x, t, v: gaussian_nll_loss(x, t, v, full=True),
           [(3, 4), (3, 4), (3, 4)], ("real", "real", "positive"),
           reference=lambda x, t, v: (0.5 * (np.log(v) + (x - t) ** 2 / v) + 0.5 * math.log(2 * math.pi)).mean()),
    OpCase("kl_normal (standard prior)", lambda m, lv: kl_normal(m, lv, reduction="batchmean"),
           [(3, 4), (3, 4)], reference=lambda m, lv: -0.5 * (1 + lv - m ** 2 - np.exp(lv)).sum() / 3),
    OpCase("kl_normal (two Gaussians)", lambda m, lv, m2, lv2: kl_normal(m, lv, m2, lv2, reduction="mean"),
           [(3, 4), (3, 4), (3, 4), (3, 4)],
           reference=lambda m, lv, m2, lv2: (0.5 * (lv2 - lv + (np.exp(lv) + (m - m2) ** 2) / np.exp(lv2) - 1)).mean()),
]
