"""Reverse-mode automatic differentiation: the walk over the graph.

The forward pass leaves a graph behind: every Tensor made by an op remembers its
`creator` Function, and every Function remembers its `inputs`. `backward` walks that
graph from the output back to the leaves:

    1. start with d(out)/d(out) = 1 (or the gradient the caller gives);
    2. visit Functions so that a Function runs only after *all* gradients of its
       outputs have arrived: a Function's `generation` is one more than the largest
       generation among its inputs' creators, so visiting in decreasing generation
       order is a valid reverse topological order (`Schedule`). The walk is a loop,
       never a recursion (a chain of 100,000 ops is fine);
    3. each Function turns output gradients into input gradients (its `backward`);
       gradients of a tensor used twice are summed;
    4. leaves (tensors made by the user with requires_grad=True) receive `.grad`
       (`Tensor.backward`), or the gradients are returned (`mg.grad`): `Delivery`.

Gradients are Tensors computed by engine ops. With `create_graph=True` the walk
records them as a graph of their own, so they can be differentiated again.

`run_backward` is the loop; each other concern is one small helper below it:
`Schedule` (the visiting order, also used by minigen.inspection.trace), `graph_nodes`
(what is reachable, also used by minigen.inspection.explain), `functions_needed`
(the part `mg.grad` differentiates), `Delivery` (hooks, retain_grad, `.grad` or the
results), `call_backward` (the checks around one backward rule).
"""
import heapq

from minigen import backend, versions
from minigen.tensor import Tensor
# The grad-mode switches and the version checks live in leaf modules; their names are
# kept here too (minigen.autograd.no_grad, .StaleTensorError, ... are public).
from minigen.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled  # noqa: F401
from minigen.versions import (  # noqa: F401
    Change, StaleTensorError, bump_storage, changes_described, check_unchanged, checksum, note_change,
    stale_error, storage_change, storage_root, storage_version)


class GraphFreedError(RuntimeError):
    pass


# Set by minigen.inspection's anomaly mode: called with (function, input_grads) after
# each backward rule runs. None (the default) costs one comparison per node.
_backward_hook = None


def run_backward(roots, root_grads, retain_graph=False, create_graph=False, inputs=None,
                 stop_at_inputs=False):
    """Propagate `root_grads` from `roots` back through the graph.

    inputs=None: accumulate into `.grad` of leaves (and of tensors that called
    `retain_grad()`), as `Tensor.backward` does.
    inputs=[...]: return the gradient of each input instead (None where the input
    does not influence the roots) and touch no `.grad`, as `minigen.grad` does.
    """
    needed = None if inputs is None else functions_needed(roots, inputs, stop_at_inputs)
    schedule, pending = Schedule(needed), {}       # pending: id(tensor) -> [tensor, grad]
    delivery = Delivery(inputs, create_graph)
    for root, g in zip(roots, root_grads):
        _send(pending, schedule, root, g, None)
    with set_grad_enabled(create_graph):
        while schedule.heap:
            f = schedule.pop()
            outputs, output_grads = delivery.collect(f, pending)   # f holds outputs weakly:
            if output_grads is None:               # `outputs` keeps them alive for backward
                continue
            for x, gx in zip(f.inputs, call_backward(f, output_grads)):
                if gx is not None and x.requires_grad:
                    _send(pending, schedule, x, gx, f)
            if not retain_graph:
                f.release()
        for tensor, g in pending.values():         # leaves (and tensors outside `needed`)
            delivery.finish(tensor, g)
    return delivery.results()


WALK_HELPERS = ("_send", "Schedule.push", "Delivery.collect", "Delivery.finish",
                "call_backward", "functions_needed", "graph_nodes")


# ------------------------------------------------------------- the walk's helpers
class Schedule:
    """The visiting order: Functions by decreasing generation, ties in the order they
    were first scheduled, each once. `allowed` (ids of Functions, or None for all)
    limits the walk to part of the graph (see `functions_needed`)."""

    def __init__(self, allowed=None):
        self.heap, self.queued, self.allowed = [], set(), allowed

    def push(self, f):
        key = id(f)
        if f is None or key in self.queued or (self.allowed is not None and key not in self.allowed):
            return
        self.queued.add(key)
        heapq.heappush(self.heap, (-f.generation, len(self.queued), f))

    def pop(self):
        """The next Function; GraphFreedError when an earlier walk has freed it."""
        f = heapq.heappop(self.heap)[2]
        if f.inputs is None:
            raise GraphFreedError(
                f"backward through {type(f).__name__} a second time: its graph was freed "
                "after the first backward. Pass retain_graph=True to the first call "
                "if you need to go back through the same graph twice.")
        return f


def _send(pending, schedule, tensor, g, f):
    """Add `g` (from f's backward) to the gradient waiting for `tensor`; schedule the
    tensor's creator, which runs once every gradient of its outputs has arrived."""
    if g._data.shape != tensor._data.shape:
        raise RuntimeError(
            f"{type(f).__name__}.backward returned a gradient of shape {g.shape} "
            f"for an input of shape {tensor.shape} (a bug in that op)")
    key = id(tensor)
    entry = pending.get(key)
    if entry is None:
        pending[key] = [tensor, g]
        schedule.push(tensor.creator)
    else:
        entry[1] = entry[1] + g


def call_backward(f, output_grads):
    """f's backward rule, after checking that the inputs it reads are unchanged since
    the forward; always a sequence, one gradient (or None) per input."""
    if f.reads_inputs and (f._input_sums is not None or f._stamp != versions.clock):
        check_unchanged(f, f.inputs, f._stamp, f._input_sums)      # f.check_saved_inputs()
    input_grads = f.backward(*output_grads)
    if not isinstance(input_grads, (tuple, list)):
        input_grads = (input_grads,)
    if _backward_hook is not None:          # anomaly mode (minigen.inspection) checks them
        _backward_hook(f, input_grads)
    return input_grads


class Delivery:
    """Where complete gradients go: through the tensor's hooks, then into `.grad` of
    leaves and `retain_grad()` tensors (Tensor.backward), or into the results (mg.grad)."""

    def __init__(self, inputs, create_graph):
        self.inputs, self.create_graph = inputs, create_graph
        self.wanted = None if inputs is None else {id(t) for t in inputs}
        self.found = {}

    def collect(self, f, pending):
        """f's outputs, and their complete gradients (after their hooks), zeros for an
        output that received none; None when none did (then f has nothing to do)."""
        outputs, grads, received = [], [], 0
        for ref in f.outputs:
            y = ref()
            entry = pending.pop(id(y), None)
            if entry is not None:
                received += 1
                entry = entry[1]
                if y._hooks or y._retains_grad or self.wanted is not None:   # else: no-op
                    entry = self.finish(y, entry)
            outputs.append(y)
            grads.append(entry)
        if received == 0:
            return outputs, None
        if received < len(grads):
            grads = [g if g is not None else f.zeros(*meta) for g, meta in zip(grads, f.output_meta)]
        return outputs, grads

    def finish(self, tensor, g):
        """All of `tensor`'s gradient has arrived: its hooks, then where it goes."""
        for hook in tensor._hooks:
            replaced = hook(g)
            if replaced is not None:
                g = replaced
        if self.wanted is not None:
            if id(tensor) in self.wanted:
                self.found[id(tensor)] = g
        elif tensor.creator is None or tensor._retains_grad:
            stored = g if self.create_graph else g.detach()
            tensor.grad = stored if tensor.grad is None else tensor.grad + stored
        return g

    def results(self):
        """mg.grad's answer: one gradient (or None) per input; None for Tensor.backward."""
        if self.inputs is None:
            return None
        return [self.found.get(id(t)) for t in self.inputs]


def graph_nodes(roots, stop=None):
    """Every Function reachable from the `roots` tensors (each once, in no set order);
    `stop`: ids of tensors not to look above. GraphFreedError if one was freed."""
    reachable, stack = {}, [r.creator for r in roots if r.creator is not None]
    while stack:
        f = stack.pop()
        if id(f) in reachable:
            continue
        if f.inputs is None:
            raise GraphFreedError(
                f"grad through {type(f).__name__} a second time: its graph was freed by an "
                "earlier backward or grad call; pass retain_graph=True to that call.")
        reachable[id(f)] = f
        for x in f.inputs:
            if x.creator is not None and (stop is None or id(x) not in stop):
                stack.append(x.creator)
    return list(reachable.values())


def functions_needed(roots, targets, stop_at_targets=False):
    """Ids of the Functions on some path from a root down to one of the target tensors.

    Used by `grad(outputs, inputs)` so that only the part of the graph that leads to
    the requested inputs is differentiated (a gradient penalty asks for d/dx only).
    stop_at_targets: do not look above the targets (for a local formula built on them).
    """
    target_ids = {id(t) for t in targets}
    needed = set()
    for f in sorted(graph_nodes(roots, target_ids if stop_at_targets else None),
                    key=lambda f: f.generation):
        for x in f.inputs:
            if id(x) in target_ids or (x.creator is not None and id(x.creator) in needed):
                needed.add(id(f))
                break
    return needed


_functions_needed = functions_needed       # its old name


def root_gradient(output, g, caller):
    """The gradient that starts a backward walk at `output`: `g` as a Tensor of the
    output's dtype, or 1 when the output has a single element and no `g` is given."""
    if g is None:
        if output.data.size != 1:
            raise RuntimeError(
                f"{caller}: an output of shape {output.shape} needs a gradient of the same "
                "shape (d loss / d output); only one-element outputs get the implicit gradient 1")
        xp = backend.get_array_module(output.data)
        return Tensor(xp.ones_like(output.data))
    argument = "grad" if caller == "backward" else "grad_outputs"
    dtype = getattr(g, "dtype", None)
    if dtype is not None and dtype != output.dtype and (isinstance(g, Tensor) or dtype.kind == "f"):
        # a float64 gradient for a float32 output would make every .grad float64
        raise TypeError(
            f"{caller}: the `{argument}` argument is {dtype}, the output it is the gradient "
            f"of is {output.dtype}; dtypes never widen silently: pass "
            f"{argument}.astype({output.dtype.name!r}) (or compute the output in {dtype})")
    if isinstance(g, Tensor):
        if g.device != output.device:
            raise RuntimeError(f"{caller}: the `{argument}` argument lives on {g.device}, the "
                               f"output on {output.device}; move it with .to({output.device!r})")
    else:
        g = Tensor(backend.as_array(g, dtype=output.dtype, like=output.data))
    if g.shape != output.shape:
        raise ValueError(f"{caller}: the `{argument}` argument has shape {g.shape}, the output "
                         f"it is the gradient of has shape {output.shape}; they must be equal")
    return g


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False):
    """Gradients of `outputs` with respect to `inputs`, returned (not stored in .grad).

    Like `torch.autograd.grad`. With `create_graph=True` the returned gradients are
    themselves differentiable (gradient penalties, Hessian-vector products).
    """
    single_input = isinstance(inputs, Tensor)
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if single_input else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    root_grads = [root_gradient(out, g, "grad") for out, g in zip(outputs, grad_outputs)]
    for i, x in enumerate(inputs):
        if not x.requires_grad:
            raise RuntimeError(f"grad: input {i} (shape {x.shape}) does not require grad")
    if retain_graph is None:
        retain_graph = create_graph
    result = run_backward(outputs, root_grads, retain_graph=retain_graph,
                          create_graph=create_graph, inputs=inputs)
    for i, g in enumerate(result):
        if g is None and not allow_unused:
            raise RuntimeError(
                f"grad: input {i} (shape {inputs[i].shape}) was not used to compute the "
                "outputs; pass allow_unused=True to get None for it")
    return result


def differentiate_formula(formula, inputs, grad_outputs):
    """Vector-Jacobian product of a formula written in engine ops, inside a backward.

    Some Functions (batch norm's backward) are fastest as one kernel, while their own
    derivative is easiest to state as "differentiate the first-derivative formula".
    `formula(*inputs)` rebuilds that formula from engine ops on the node's inputs; this
    returns d<formula(inputs), grad_outputs>/d inputs (None for inputs that need no
    gradient), recorded as a graph exactly when the surrounding walk records one.
    """
    create_graph = is_grad_enabled()
    targets = [x for x in inputs if x.requires_grad]
    with set_grad_enabled(True):
        outputs = formula(*inputs)
    pairs = [(y, g) for y, g in zip(outputs, grad_outputs) if y.requires_grad]
    grads = run_backward([y for y, _ in pairs], [g for _, g in pairs], retain_graph=True,
                         create_graph=create_graph, inputs=targets, stop_at_inputs=True)
    by_id = {id(x): g for x, g in zip(targets, grads)}
    return tuple(by_id.get(id(x)) for x in inputs)
