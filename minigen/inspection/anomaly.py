"""Anomaly mode: stop at the first NaN or Inf, and say which op and which line made it.

A NaN deep inside training usually shows up many steps and hundreds of ops after the
op that made it (a log of 0, a division by 0, a sqrt's infinite slope at 0), when the
loss is already NaN and every gradient with it. Inside

    with minigen.inspection.detect_anomaly():
        loss = model(x) ...
        loss.backward()

every node remembers the user line that created it (see `origin.py`), every forward
output and every gradient a backward rule returns is checked, and the first non-finite
value raises an AnomalyError naming the op, the user line and stack that created the
node, and a likely cause. It is slow (a stack walk and a check per op): use it to find
a bug, not to train.

What it can see: nodes of the graph (ops run while gradients are recorded on an input
that requires grad). A NaN made under `no_grad`, or from tensors that need no gradient,
is reported where it first enters the graph ("input 0 of Mul already holds nan").
"""
import contextlib

from minigen import autograd, backend
from minigen.inspection import origin as _origin

# Likely causes, per op, to put in the message (students meet these again and again).
_HINTS = {
    "Log": "log(x) is -inf at x = 0 and nan for x < 0 (add an epsilon, or use log_softmax / "
           "binary_cross_entropy_with_logits, which never take log(0))",
    "Div": "a division by zero (or 0/0): add an epsilon to the denominator",
    "Sqrt": "sqrt(x) is nan for x < 0, and its slope 1/(2 sqrt(x)) is infinite at x = 0 "
            "(the norm of a zero vector: use sqrt(x + eps))",
    "Exp": "exp overflows for inputs above ~88 in float32 (use logsumexp / softplus)",
    "Pow": "a negative base with a fractional exponent, or 0 to a negative power",
    "PowScalar": "a negative base with a fractional exponent, or 0 to a negative power",
    "Log1p": "log1p(x) is -inf at x = -1 and nan below it",
}


class AnomalyError(RuntimeError):
    """A NaN or Inf appeared; the message names the op and where it was made."""

    def __init__(self, message, node=None, phase=None):
        super().__init__(message)
        self.node, self.phase = node, phase


def _bad_values(array):
    """'2 inf, 1 nan of 12 values' or None when every value is finite."""
    if array.dtype.kind not in "fc":
        return None
    xp = backend.get_array_module(array)
    if bool(xp.isfinite(array).all()):
        return None
    nan = int(xp.isnan(array).sum())
    inf = int(array.size - nan - int(xp.isfinite(array).sum()))
    parts = [f"{n} {kind}" for n, kind in ((nan, "nan"), (inf, "inf")) if n]
    return f"{', '.join(parts)} of {array.size} values"


def _where(node):
    """The 'created at' part of the message, with the user stack when recorded."""
    origin = _origin.origin_of(node)
    if origin is None:
        return "  (where it was created is unknown: it was made outside detect_anomaly())"
    lines = [f"  {node.name} was created at {origin.line}"]
    made_by = origin.backward_of
    if made_by is not None:
        lines[0] += f", by the backward of {made_by.name}"
        if made_by.line is not None:
            lines[0] += f" (created at {made_by.line})"
    if origin.stack:
        lines.append("  stack where it was created (innermost first):")
        lines.append(origin.format_stack(indent="    "))
    return "\n".join(lines)


def _message(node, phase, what):
    hint = _HINTS.get(node.name)
    text = f"{node.name} produced {what} in its {phase}.\n{_where(node)}"
    if hint:
        text += f"\n  likely cause: {hint}"
    return text


def _check_forward(node, outputs):
    """Called for every new node: its inputs made outside the graph, then its outputs."""
    for i, x in enumerate(node.inputs):
        # Inputs made by a node were checked when that node ran; leaves and constants
        # were not, so a NaN coming from outside the graph is caught where it enters.
        if x.creator is None:
            bad = _bad_values(x.data)
            if bad:
                raise AnomalyError(_message(
                    node, "forward", f"nothing new: its input {i} (shape {x.shape}, made "
                    f"outside the graph) already holds {bad}"), node, "forward")
    for i, y in enumerate(outputs):
        bad = _bad_values(y.data)
        if bad:
            which = f" (output {i})" if len(outputs) > 1 else ""
            raise AnomalyError(_message(
                node, "forward", f"{bad}{which} of shape {y.shape}"), node, "forward")


def _check_backward(node, input_grads):
    """Called by the backward walk after each backward rule with the gradients it returned."""
    for i, g in enumerate(input_grads):
        if g is None:
            continue
        bad = _bad_values(g.data)
        if bad:
            raise AnomalyError(_message(
                node, "backward", f"{bad} in the gradient for its input {i} "
                f"(shape {g.shape})"), node, "backward")


_depth = 0


@contextlib.contextmanager
def detect_anomaly(check_forward=True):
    """Raise AnomalyError at the first NaN/Inf made by an op in forward or backward.

    `with detect_anomaly():` around the forward and the backward pass; the error names
    the op, the user line that created the node and a likely cause.
    check_forward=False checks only the gradients (like torch.autograd.detect_anomaly),
    for models that produce infinities on purpose (masked attention scores).
    """
    global _depth
    check = _check_forward if check_forward else None
    _origin._start()                          # recording where each node was made
    if check is not None:
        _origin._node_checks.append(check)
    _depth += 1
    previous_backward_hook = autograd._backward_hook
    autograd._backward_hook = _check_backward
    try:
        yield
    finally:
        _depth -= 1
        autograd._backward_hook = previous_backward_hook if _depth else None
        if check is not None:
            _origin._node_checks.remove(check)
        _origin._stop()


def is_anomaly_enabled():
    return _depth > 0
