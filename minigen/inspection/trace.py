"""trace(loss): print the graph in the order backward visits it, with its gradients.

    with inspect.record():             # optional: remember the line that made each node
        loss = F.mse_loss(model(x), y)
    t = inspect.trace(loss, names=model)   # prints the nodes; hooks their outputs
    loss.backward()
    t.show()                            # prints again, now with |dL/d out|, min, max

or in one go: `inspect.trace(loss, names=model, backward=True)`.

One row per node (one Function call): its op, the user line that created it (when made
inside `record()` or `detect_anomaly()`), the shapes going in and out, and the gradient
of the loss with respect to the node's output (its norm, min and max): the gradient
that flows *through* the node on its way back to the parameters. After the nodes come
the leaves that receive a gradient (parameters, inputs with requires_grad).

How the gradients are caught: `trace` registers a hook (`Tensor.register_hook`) on
each node's output and on each leaf; the backward walk calls it with the complete
gradient of that tensor. Nothing else changes in backward, and nothing at all when no
trace is alive: the hooks go away when the trace is shown after backward, closed, or
garbage-collected.

A graph of thousands of nodes is summarised: the first and last rows, then one line
per kind of op (count, median and largest gradient norm) and the nodes whose gradient
is zero or not finite.
"""
import sys
import weakref

import numpy as np

from minigen import backend
from minigen import autograd
from minigen.autograd import GraphFreedError
from minigen.inspection.origin import origin_of

# Attributes every node has; the others (axis, slope, exponent, ...) describe the op.
_ENGINE_ATTRS = {"inputs", "outputs", "output_meta", "generation", "origin", "saved"}


# ------------------------------------------------------------------ small helpers
def describe(node):
    """'Sum(axes=(1,), keepdims=True)': the op's name and its small settings."""
    parts = []
    for key, value in vars(node).items():
        if key in _ENGINE_ATTRS or key.startswith("_") or value is None:
            continue
        if isinstance(value, np.dtype):
            value = str(value)
        if isinstance(value, (bool, int, float, str)) or (
                isinstance(value, tuple) and all(isinstance(v, (int, float)) for v in value)):
            text = repr(value) if not isinstance(value, float) else f"{value:g}"
            parts.append(f"{key}={text}")
    if not parts:
        return node.name
    return f"{node.name}({', '.join(parts[:3])}{', ...' if len(parts) > 3 else ''})"


def shape_text(shape):
    """(64, 2) -> '(64, 2)', () -> '()' (a scalar)."""
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


class GradStats:
    """Norm, min and max of one gradient (computed in float64)."""

    __slots__ = ("norm", "min", "max", "size", "finite")

    def __init__(self, norm, lo, hi, size, finite):
        self.norm, self.min, self.max, self.size, self.finite = norm, lo, hi, size, finite

    @classmethod
    def of(cls, array):
        a = backend.to_device(array, "cpu").astype(np.float64, copy=False)
        if a.size == 0:
            return cls(0.0, 0.0, 0.0, 0, True)
        return cls(float(np.sqrt(np.sum(a * a))), float(a.min()), float(a.max()), int(a.size),
                   bool(np.isfinite(a).all()))

    @classmethod
    def combine(cls, parts):
        """The stats of several outputs' gradients taken together (a split, a multi-output op)."""
        parts = [p for p in parts if p is not None]
        if not parts:
            return None
        if len(parts) == 1:
            return parts[0]
        return cls(float(np.sqrt(sum(p.norm ** 2 for p in parts))), min(p.min for p in parts),
                   max(p.max for p in parts), sum(p.size for p in parts), all(p.finite for p in parts))

    def __repr__(self):
        return f"GradStats(norm={self.norm:.4g}, min={self.min:.4g}, max={self.max:.4g})"


class NodeRecord:
    """What the trace keeps of one node: descriptions only, never the arrays."""

    def __init__(self, index, node):
        origin = origin_of(node)
        self.index = index
        self.op = node.name
        self.description = describe(node)
        self.line = origin.short_line if origin is not None else "?"
        self.made_by_backward = origin is not None and origin.backward_of is not None
        self.input_shapes = [x.shape for x in node.inputs]
        self.output_shapes = [shape for shape, _ in node.output_meta]
        self.grad_parts = [None] * len(self.output_shapes)   # filled by the hooks

    @property
    def grad(self):
        """GradStats of dL/d(output), or None before backward (or if none reached it)."""
        return GradStats.combine(self.grad_parts)


class LeafRecord:
    def __init__(self, tensor, name):
        self.name = name
        self.shape = tensor.shape
        self.grad = None


# ------------------------------------------------------------------ the graph walk
def backward_order(roots):
    """The nodes reachable from `roots`, in the order `run_backward` visits them: the
    walk's own `Schedule`, an input's creator scheduled when the input needs a gradient."""
    schedule, order = autograd.Schedule(), []
    for root in roots:
        schedule.push(root.creator)
    while schedule.heap:
        node = schedule.heap[0][2]
        if node.inputs is None:
            raise GraphFreedError(
                f"trace: the graph through {node.name} was already freed by a backward pass; "
                "call trace(loss) before loss.backward() (or pass retain_graph=True to it)")
        order.append(schedule.pop())
        for x in node.inputs:
            if x.requires_grad:
                schedule.push(x.creator)
    return order


def leaves_of(order):
    """Leaf tensors that require grad, in the order the walk first meets them."""
    seen, leaves = set(), []
    for node in order:
        for x in node.inputs:
            if x.creator is None and x.requires_grad and id(x) not in seen:
                seen.add(id(x))
                leaves.append(x)
    return leaves


def name_map(names):
    """id(tensor) -> name, from a Module (its named_parameters) or a dict name -> Tensor."""
    if names is None:
        return {}
    if hasattr(names, "named_parameters"):
        names = dict(names.named_parameters())
    return {id(t): name for name, t in dict(names).items()}


def _remove_all(handles):
    for handle in handles:
        handle.remove()
    handles.clear()


# ------------------------------------------------------------------ the trace
class Trace:
    """The nodes of a graph in backward order, filled with gradient statistics by hooks."""

    def __init__(self, roots, names=None):
        roots = [roots] if not isinstance(roots, (list, tuple)) else list(roots)
        order = backward_order(roots)
        known = name_map(names)
        self.root_shapes = [r.shape for r in roots]
        self.nodes = [NodeRecord(i + 1, node) for i, node in enumerate(order)]
        leaves = leaves_of(order)
        self.leaves = [LeafRecord(t, known.get(id(t)) or t.name or f"leaf {i + 1}")
                       for i, t in enumerate(leaves)]
        self._handles = []
        # If the trace is dropped, its hooks go with it (the handles do not point back).
        self._finalizer = weakref.finalize(self, _remove_all, self._handles)
        self._hook(order, leaves)

    def _hook(self, order, leaves):
        for record, node in zip(self.nodes, order):
            for k, ref in enumerate(node.outputs):
                y = ref()
                if y is not None:        # an output nobody kept (an unused split piece)
                    self._handles.append(y.register_hook(_node_hook(record, k)))
        for record, leaf in zip(self.leaves, leaves):
            self._handles.append(leaf.register_hook(_leaf_hook(record)))

    @property
    def has_grads(self):
        return any(r.grad is not None for r in self.nodes + self.leaves)

    def close(self):
        """Remove the hooks (done for you when the trace is shown after backward)."""
        _remove_all(self._handles)

    # ---------------------------------------------------------------- printing
    def format(self, limit=40):
        """The table as text; graphs longer than `limit` nodes are summarised."""
        if self.has_grads:
            self.close()                  # backward has run: the hooks have done their job
        n = len(self.nodes)
        lines = [f"trace: {n} node{'s' * (n != 1)} in the order backward visits them, "
                 f"{len(self.leaves)} lea{'ves' if len(self.leaves) != 1 else 'f'} "
                 f"(|dL/d out|: norm of the gradient flowing through each node)"]
        lines.append(_NODE_HEADER)
        if limit is None or n <= limit:
            lines += [_node_row(r) for r in self.nodes]
        else:
            head, tail = limit // 2, limit - limit // 2
            lines += [_node_row(r) for r in self.nodes[:head]]
            lines.append(f"  ... {n - head - tail:,} nodes not shown "
                         f"(trace(..., limit=None) prints them all) ...")
            lines += [_node_row(r) for r in self.nodes[-tail:]]
        if self.leaves:
            lines.append("leaves (tensors the gradient is for):")
            lines.append(_LEAF_HEADER)
            shown = self.leaves if limit is None or len(self.leaves) <= limit else self.leaves[:limit]
            lines += [_leaf_row(r) for r in shown]
            if len(shown) < len(self.leaves):
                lines.append(f"  ... {len(self.leaves) - len(shown)} more leaves ...")
        if limit is not None and n > limit:
            lines += self._summary()
        lines += self._notes()
        return "\n".join(lines)

    def _summary(self):
        """One line per kind of op: how many, and their gradient norms."""
        by_op = {}
        for r in self.nodes:
            by_op.setdefault(r.op, []).append(r)
        lines = ["summary by op:", f"  {'op':<22} {'count':>7} {'median |dL/d out|':>18} "
                 f"{'max |dL/d out|':>15}  made at"]
        for op, records in sorted(by_op.items(), key=lambda kv: -len(kv[1])):
            norms = [r.grad.norm for r in records if r.grad is not None]
            med = f"{np.median(norms):18.3e}" if norms else f"{'-':>18}"
            top = f"{max(norms):15.3e}" if norms else f"{'-':>15}"
            where = sorted({r.line for r in records})
            where_text = ", ".join(where[:3]) + (f", +{len(where) - 3}" if len(where) > 3 else "")
            lines.append(f"  {op:<22} {len(records):>7,} {med} {top}  {where_text}")
        return lines

    def _notes(self):
        notes = []
        if not self.has_grads:
            notes.append("no gradients yet: call loss.backward(), then show() this trace again")
        else:
            zero = [r for r in self.nodes if r.grad is not None and r.grad.norm == 0.0]
            bad = [r for r in self.nodes if r.grad is not None and not r.grad.finite]
            if bad:
                notes.append(f"{len(bad)} node(s) have a non-finite gradient, first #{bad[0].index} "
                             f"{bad[0].op} at {bad[0].line} (find the cause with detect_anomaly())")
            if zero:
                notes.append(f"{len(zero)} node(s) pass an all-zero gradient, first #{zero[0].index} "
                             f"{zero[0].op} at {zero[0].line}")
        if any(r.line == "?" for r in self.nodes):
            notes.append("created at '?': build the graph inside `with minigen.inspection.record():` "
                         "to see the line of each node")
        if any(r.made_by_backward for r in self.nodes):
            notes.append("ops marked * were built by a backward pass (create_graph=True)")
        return ["note: " + n for n in notes]

    def show(self, limit=40, file=None):
        """Print the table (see `format`)."""
        print(self.format(limit), file=file or sys.stdout)

    def __str__(self):
        return self.format()

    def __repr__(self):
        state = "with gradients" if self.has_grads else "before backward"
        return f"<Trace: {len(self.nodes)} nodes, {len(self.leaves)} leaves, {state}>"


def _node_hook(record, k):
    def hook(g):
        record.grad_parts[k] = GradStats.of(g.data)
    return hook


def _leaf_hook(record):
    def hook(g):
        record.grad = GradStats.of(g.data)
    return hook


def _stats_text(stats):
    if stats is None:
        return f"{'-':>11} {'-':>11} {'-':>11}"
    return f"{stats.norm:11.4e} {stats.min:11.3e} {stats.max:11.3e}"


def _clip(text, width):
    return text if len(text) <= width else text[:width - 3] + "..."


def _clip_left(text, width):
    """Keep the end ('...long_name.py:42'): the line number matters most."""
    return text if len(text) <= width else "..." + text[-(width - 3):]


_NODE_HEADER = (f"  {'#':>5}  {'op':<26} {'created at':<28} {'input shapes -> output shape':<40}"
                f" {'|dL/d out|':>11} {'min':>11} {'max':>11}")
_LEAF_HEADER = f"  {'':>5}  {'name':<26} {'shape':<69} {'|dL/dx|':>11} {'min':>11} {'max':>11}"


def _node_row(r):
    shapes = ", ".join(shape_text(s) for s in r.input_shapes) + " -> " + \
        ", ".join(shape_text(s) for s in r.output_shapes)
    op = ("*" if r.made_by_backward else "") + r.description
    return (f"  {r.index:>5}  {_clip(op, 26):<26} {_clip_left(r.line, 28):<28} {_clip(shapes, 40):<40} "
            f"{_stats_text(r.grad)}")


def _leaf_row(r):
    return f"  {'':>5}  {_clip(r.name, 26):<26} {shape_text(r.shape):<69} {_stats_text(r.grad)}"


def trace(output, names=None, backward=False, limit=40, show=True, file=None):
    """Trace the graph that made `output` (see the module docstring).

    names: a Module or a dict name -> Tensor, to name the leaves (parameters).
    backward: run `output.backward()` now (a scalar output) and show the gradients.
    limit: most rows printed; longer graphs are summarised (None prints every node).
    show: print the table (always returns the Trace; print it again after backward).
    """
    t = Trace(output, names)
    if backward:
        if isinstance(output, (list, tuple)):
            raise TypeError("trace(..., backward=True) needs one scalar output; for several, "
                            "call backward yourself and then show() the trace")
        output.backward()
    if show:
        t.show(limit, file)
    return t
