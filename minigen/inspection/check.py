"""check_graph(loss): every gradient of a graph beside its finite-difference estimate.

    loss = F.mse_loss(model.double()(x), y)       # float64: differences need the digits
    inspect.check_graph(loss, names=model)

The backward pass gives dL/dy for every tensor y of the graph: the output of each
node and each leaf. To check one of them without trusting any backward rule, nudge
one entry of y by +-eps and recompute the loss from there on:

    numerical dL/dy[i] = (L(y + eps e_i) - L(y - eps e_i)) / (2 eps)

No model code has to run again: the graph remembers every node and its inputs, and
each node's `forward` works on plain arrays, so the part of the graph after y is
*replayed* with the nudged value. The table lists the nodes in the order of `trace`
(backward order), so its rows line up with the trace's.

The replay assumes that each op's forward is a function of its inputs only. Ops with
side effects (batch norm's running statistics in training mode, dropout drawing a new
mask in forward) would be replayed with them: check a model in eval mode, or without
those layers. The graph is kept (retain_graph) and is left as it was found.
"""
import sys

import numpy as np

from minigen import backend
from minigen.autograd import grad
from minigen.inspection.trace import backward_order, describe, leaves_of, name_map, shape_text


class Row:
    """One checked tensor: its label, shape, gradient norm and the worst disagreement.

    index: the node's number in the trace (None for a leaf).
    """

    def __init__(self, index, label, shape, analytic, numerical, entries, size, ok):
        self.index, self.label, self.shape = index, label, shape
        self.analytic, self.numerical = analytic, numerical     # the checked entries
        self.entries, self.size, self.ok = entries, size, ok
        self.norm = 0.0                                          # of the whole gradient

    @property
    def max_abs_error(self):
        return float(np.abs(self.analytic - self.numerical).max()) if self.entries else 0.0


class GraphCheck:
    """The result of check_graph: .rows (nodes then leaves), .ok, .text."""

    def __init__(self, rows, text):
        self.rows, self.text = rows, text

    @property
    def ok(self):
        return all(r.ok for r in self.rows)

    @property
    def max_abs_error(self):
        return max((r.max_abs_error for r in self.rows), default=0.0)

    def __str__(self):
        return self.text

    def __repr__(self):
        return f"<GraphCheck: {len(self.rows)} tensors, max abs error {self.max_abs_error:.1e}>"


class _Replay:
    """Recomputes the graph forward from the recorded nodes, with one tensor changed."""

    def __init__(self, loss):
        self.nodes = list(reversed(backward_order([loss])))      # inputs first
        where = {}                                               # id(tensor) -> key
        for i, node in enumerate(self.nodes):
            for j, ref in enumerate(node.outputs):
                y = ref()
                if y is not None:
                    where[id(y)] = (i, j)
        self.where = where
        self.input_keys = [[where.get(id(x), ("leaf", id(x))) for x in node.inputs]
                           for node in self.nodes]
        self.base = {("leaf", id(x)): x.data for node in self.nodes for x in node.inputs
                     if id(x) not in where}
        self.loss_key = where[id(loss)]
        self._run(self.base, 0)                                  # fills the node outputs

    def key(self, tensor):
        return self.where.get(id(tensor), ("leaf", id(tensor)))

    def first_use(self, key):
        """Index of the first node whose result can change when `key` changes."""
        if key[0] != "leaf":
            return key[0] + 1
        return min(i for i, keys in enumerate(self.input_keys) if key in keys)

    def _run(self, values, start):
        for i in range(start, len(self.nodes)):
            outputs = self.nodes[i].forward(*[values[k] for k in self.input_keys[i]])
            for j, out in enumerate(outputs if isinstance(outputs, tuple) else (outputs,)):
                values[(i, j)] = out
        return values

    def loss_with(self, key, array, start):
        """The loss (a float) when the tensor at `key` holds `array`."""
        values = dict(self.base)
        values[key] = array
        return float(self._run(values, start)[self.loss_key].sum())

    def restore(self):
        """Replay once more with the true values (ops may keep state from their forward)."""
        self._run(dict(self.base), 0)


def _entries(size, max_entries, rng):
    """Which entries to check: all of them, or `max_entries` drawn at random."""
    if size <= max_entries:
        return np.arange(size)
    return np.sort(rng.choice(size, max_entries, replace=False))


def _numerical(replay, key, value, entries, eps):
    """Central differences of the loss in the chosen entries of the tensor at `key`."""
    start = replay.first_use(key)
    base = backend.to_device(value, "cpu").astype(np.float64)
    xp = backend.get_array_module(value)

    def nudged(i, step):                  # a copy with entry i moved, on the tensor's device
        array = base.copy()
        array.reshape(-1)[i] += step
        return xp.asarray(array.astype(value.dtype))

    estimates = np.empty(len(entries))
    for n, i in enumerate(entries):
        estimates[n] = (replay.loss_with(key, nudged(i, eps), start)
                        - replay.loss_with(key, nudged(i, -eps), start)) / (2 * eps)
    return estimates


def _targets(order, leaves, known):
    """(trace number or None, label, tensor): every node output that is alive, every leaf."""
    targets = []
    for i, node in enumerate(order):
        outputs = [ref() for ref in node.outputs]
        for j, y in enumerate(outputs):
            if y is not None:
                suffix = f" [output {j}]" if len(outputs) > 1 else ""
                targets.append((i + 1, describe(node) + suffix, y))
    targets += [(None, known.get(id(x)) or x.name or "leaf", x) for x in leaves]
    return targets


def check_graph(loss, names=None, eps=1e-6, atol=1e-6, rtol=1e-4, max_entries=256, seed=0,
                show=True, file=None):
    """Check dL/d(every node output) and dL/d(every leaf) against finite differences.

    loss: a float64 scalar whose graph is still alive (call before loss.backward(), or
        after backward(retain_graph=True)); .grad is not touched.
    max_entries: check at most this many entries of each tensor (drawn at random).
    Returns a GraphCheck; prints its table unless show=False.
    """
    if loss.dtype != np.float64:
        raise TypeError(f"check_graph: the loss is {loss.dtype}; finite differences need "
                        "float64 (build the model with .double() and float64 inputs)")
    if loss.numel() != 1:
        raise ValueError(f"check_graph: needs a scalar loss, got shape {loss.shape}")
    order = backward_order([loss])
    leaves = leaves_of(order)
    known = name_map(names)
    targets = _targets(order, leaves, known)
    grads = grad(loss, [t for _, _, t in targets], retain_graph=True, allow_unused=True)

    replay = _Replay(loss)
    rng = np.random.default_rng(seed)
    rows = []
    try:
        for (index, label, tensor), g in zip(targets, grads):
            analytic = (np.zeros(tensor.numel()) if g is None
                        else backend.to_device(g.data, "cpu").astype(np.float64).reshape(-1))
            entries = _entries(tensor.numel(), max_entries, rng)
            numerical = _numerical(replay, replay.key(tensor), tensor.data, entries, eps)
            picked = analytic[entries]
            ok = bool(np.all(np.abs(picked - numerical) <= atol + rtol * np.abs(numerical)))
            row = Row(index, label, tensor.shape, picked, numerical, len(entries), tensor.numel(), ok)
            row.norm = float(np.linalg.norm(analytic))
            rows.append(row)
    finally:
        replay.restore()
    result = GraphCheck(rows, _table(rows, eps))
    if show:
        print(result.text, file=file or sys.stdout)
    return result


def _first(values):
    text = " ".join(f"{v:+.5f}" for v in values[:2])
    return text + (" .." if len(values) > 2 else "")


def _table(rows, eps):
    lines = [f"check: every gradient of the graph against finite differences (float64, eps {eps:g});"
             " nodes in trace order, then leaves",
             f"  {'#':>5}  {'op / leaf':<24} {'shape':<11} {'|dL/d out|':>11}  "
             f"{'analytic (first)':<20} {'numerical (first)':<20} {'checked':>9} {'max |diff|':>10}"]
    for k, r in enumerate(rows):
        if r.index is None and (k == 0 or rows[k - 1].index is not None):
            lines.append("  leaves:")
        label = r.label if len(r.label) <= 24 else r.label[:21] + "..."
        number = "" if r.index is None else r.index
        lines.append(f"  {number:>5}  {label:<24} {shape_text(r.shape):<11} {r.norm:11.4e}  "
                     f"{_first(r.analytic):<20} "
                     f"{_first(r.numerical):<20} {f'{r.entries}/{r.size}':>9} {r.max_abs_error:10.1e}"
                     f"  {'ok' if r.ok else 'FAIL'}")
    bad = [r for r in rows if not r.ok]
    worst = max((r.max_abs_error for r in rows), default=0.0)
    lines.append(f"all {len(rows)} gradients agree with finite differences (largest difference "
                 f"{worst:.1e})" if not bad else
                 f"{len(bad)} of {len(rows)} gradients DISAGREE with finite differences: first "
                 f"{bad[0].label}: an op that takes this tensor as input has a wrong backward "
                 "rule (explain() it)")
    return "\n".join(lines)
