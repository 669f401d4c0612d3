"""Reverse-mode automatic differentiation: the walk over the graph.

The forward pass leaves a graph behind: every Tensor made by an op remembers its
`creator` Function, and every Function remembers its `inputs`. `backward` walks that
graph from the output back to the leaves:

    1. start with d(out)/d(out) = 1 (or the gradient the caller gives);
    2. visit Functions so that a Function runs only after *all* gradients of its
       outputs have arrived: a Function's `generation` is one more than the largest
       generation among its inputs' creators, so visiting in decreasing generation
       order is a valid reverse topological order. A heap keeps that order, and the
       walk is a loop, never a recursion (a chain of 100,000 ops is fine);
    3. each Function turns output gradients into input gradients (its `backward`);
       gradients of a tensor used twice are summed;
    4. leaves (tensors made by the user with requires_grad=True) receive `.grad`.

Gradients are Tensors computed by engine ops. With `create_graph=True` the walk
records them as a graph of their own, so they can be differentiated again.
"""
import contextlib
import heapq
import itertools
import weakref

import numpy as np

from minigen import backend

# ---------------------------------------------------------------- grad mode switches
_grad_enabled = True


def is_grad_enabled():
    return _grad_enabled


@contextlib.contextmanager
def set_grad_enabled(mode):
    """Turn graph recording on or off inside a `with` block."""
    global _grad_enabled
    previous, _grad_enabled = _grad_enabled, bool(mode)
    try:
        yield
    finally:
        _grad_enabled = previous


def no_grad(function=None):
    """`with mg.no_grad():` runs ops without recording a graph (evaluation, updates).

    Also a decorator, with or without the call: `@mg.no_grad()` or `@mg.no_grad`.
    """
    if callable(function):
        return set_grad_enabled(False)(function)
    return set_grad_enabled(False)


def enable_grad():
    """`with mg.enable_grad():` records a graph even inside `no_grad`."""
    return set_grad_enabled(True)


# ------------------------------------------------- versions: tensors changed after a forward
# A Function that saves a tensor for its backward records the tensor's `_version`;
# backward checks it is unchanged, so a gradient is never computed from values other
# than those of the forward (the classic `loss = D(G(z)); opt_D.step(); loss.backward()`).
#
# As in PyTorch, the count of in-place writes lives with the *storage*: the array that
# owns the memory (the root of `array.base`), so a write through a view (x[0], a
# reshape, `x.detach()`) is seen by every tensor on that memory. Storages start at 0
# and get an entry here at their first write, removed when the array is freed.
# Rebinding `tensor.data = new` (what an optimizer step does) bumps the tensor itself.
class StaleTensorError(RuntimeError):
    """backward needs a tensor as the forward saw it, but it has been changed since."""


class Change:
    """One change of a tensor: what ('fill_', 'SGD.step()', '.data = ...') and where."""

    __slots__ = ("seq", "what", "line")
    _counter = itertools.count(1)

    def __init__(self, what, line):
        self.seq, self.what, self.line = next(Change._counter), what, line

    def __str__(self):
        return f"{self.what} at {self.line}"


_storage_writes = {}     # id(root array) -> [count, last Change, weakref to the root]
_change_context = []     # the Changes of open `changes_described` blocks, innermost last


def storage_root(array):
    """The array that owns `array`'s memory (itself when it is not a view)."""
    while True:
        base = getattr(array, "base", None)
        if base is None or not (hasattr(base, "shape") and hasattr(base, "dtype")):
            return array
        array = base


def storage_version(array):
    """How many in-place writes the memory of `array` has seen (0 if none)."""
    if not _storage_writes:          # no in-place write yet (most programs): no walk
        return 0
    entry = _storage_writes.get(id(storage_root(array)))
    return entry[0] if entry is not None else 0


def versions_of(tensors):
    """[t._version for t in tensors], without the storage lookups while no in-place
    write has happened at all (every Function call records these)."""
    if not _storage_writes:
        return [t._version_offset for t in tensors]
    return [t._version for t in tensors]


def storage_change(array):
    """The last in-place Change of `array`'s memory, or None."""
    entry = _storage_writes.get(id(storage_root(array)))
    return entry[1] if entry is not None else None


def note_change(what):
    """A Change at the user's line (or the one of the enclosing `changes_described` block)."""
    if _change_context:
        return _change_context[-1]
    from minigen.function import user_line
    return Change(what, user_line())


class changes_described:
    """`with changes_described('SGD.step()'):` reports every change inside as that, at
    the user's line that entered the block (an optimizer step rebinds many parameters;
    the stack is walked once). A class, not a generator, so that the line is the user's."""

    def __init__(self, what):
        self.what = what

    def __enter__(self):
        _change_context.append(note_change(self.what))

    def __exit__(self, *exc):
        _change_context.pop()


def bump_storage(array, change):
    """Count one in-place write into `array`'s memory. False when the array cannot be
    tracked (no weak reference possible); the caller then bumps its tensor instead."""
    root = storage_root(array)
    key = id(root)
    entry = _storage_writes.get(key)
    if entry is None or entry[2]() is not root:
        try:
            ref = weakref.ref(root, lambda _, key=key: _storage_writes.pop(key, None))
        except TypeError:
            return False
        entry = _storage_writes[key] = [0, None, ref]
    entry[0] += 1
    entry[1] = change
    return True


def checksum(array):
    """A fingerprint of `array`'s values that changes with any change of one element:
    small arrays (up to 4 KiB) are copied as bytes; larger ones give the sum, modulo
    2**64, of their bit patterns (two changes could cancel; that is the price of one
    pass). Read as 64-bit words, a (400, 784) float32 weight takes 0.02 ms, under 1 % of
    its (64, 784) @ (784, 400) matmul."""
    if array.nbytes <= 4096 and isinstance(array, np.ndarray):
        return array.tobytes()
    if array.nbytes % 8 == 0 and array.flags.c_contiguous:
        words = array.reshape(-1).view(np.uint64)           # 8 bytes at a time, no casts
    else:
        bits = _UNSIGNED.get(array.dtype.itemsize)
        if bits is None:
            return None
        words = array.view(bits)
    if isinstance(words, np.ndarray):
        return np.add.reduce(words, axis=None, dtype=np.uint64)   # no Python wrappers
    return words.sum(dtype=np.uint64)


_UNSIGNED = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def stale_error(function, tensor, role, saved_version, raw_write=False):
    """The StaleTensorError for `tensor` (`role`: 'input 1', 'output 0') of `function`;
    raw_write: its version is unchanged but its values are not (see `checksum`)."""
    label = f"'{tensor.name}' " if tensor.name else ""
    if tensor.creator is not None:
        kind = f"made by {tensor.creator.name}"
    else:
        kind = "a Parameter" if type(tensor).__name__ == "Parameter" else "a leaf tensor"
    changes = [c for c in (tensor._last_change, storage_change(tensor._data)) if c is not None]
    change = max(changes, key=lambda c: c.seq) if changes else None
    where = f"by {change}" if change is not None else "by a write the engine saw"
    made = ""
    try:
        from minigen.inspect.origin import origin_of
        origin = origin_of(function)
        if origin is not None:
            made = f" (the node made at {origin.line})"
    except ImportError:
        pass
    if raw_write:
        return StaleTensorError(
            f"{function.name}.backward{made} needs its {role}, the tensor {label}of shape "
            f"{tensor.shape} ({kind}), as the forward saw it, but its values were changed "
            "since by a write straight into its array, which the engine cannot see as it "
            "happens (x.data[...] = ..., x.data += ..., np.copyto(x.data, ...), or a write "
            "into the NumPy array the tensor was made from).\n"
            "  The gradient would be computed with the new values. Call backward first, or "
            "change the tensor with x.data = ... or an in-place method (fill_, copy_, add_, "
            "...) under no_grad, which are counted and named in this error.")
    return StaleTensorError(
        f"{function.name}.backward{made} needs its {role}, the tensor {label}of shape "
        f"{tensor.shape} ({kind}), as the forward saw it (version {saved_version}), but it "
        f"was changed since (now version {tensor._version}), last {where}.\n"
        "  The gradient would be computed with the new values. Call backward before changing "
        "the tensor (e.g. before opt.step()), or run the forward again after the change.")


# ------------------------------------------------------------------- the backward walk
class GraphFreedError(RuntimeError):
    pass


# Set by minigen.inspect's anomaly mode: called with (function, input_grads) after each
# backward rule runs. None (the default) costs one comparison per node.
_backward_hook = None


def _accumulate(grads, tensor, g):
    key = id(tensor)
    if key in grads:
        grads[key] = (tensor, grads[key][1] + g)
    else:
        grads[key] = (tensor, g)


def _functions_needed(roots, targets, stop_at_targets=False):
    """The Functions on some path from a root down to one of the target tensors.

    Used by `grad(outputs, inputs)` so that only the part of the graph that leads to
    the requested inputs is differentiated (a gradient penalty asks for d/dx only).
    stop_at_targets: do not look above the targets (for a local formula built on them).
    """
    target_ids = {id(t) for t in targets}
    reachable, stack = {}, [r.creator for r in roots if r.creator is not None]
    while stack:
        f = stack.pop()
        if id(f) in reachable:
            continue
        reachable[id(f)] = f
        if f.inputs is None:
            raise GraphFreedError(
                f"grad through {type(f).__name__} a second time: its graph was freed by an "
                "earlier backward or grad call; pass retain_graph=True to that call.")
        for x in f.inputs:
            if stop_at_targets and id(x) in target_ids:
                continue
            if x.creator is not None and id(x.creator) not in reachable:
                stack.append(x.creator)
    needed = set()
    for f in sorted(reachable.values(), key=lambda f: f.generation):
        for x in f.inputs or ():
            if id(x) in target_ids or (x.creator is not None and id(x.creator) in needed):
                needed.add(id(f))
                break
    return needed


def run_backward(roots, root_grads, retain_graph=False, create_graph=False, inputs=None,
                 stop_at_inputs=False):
    """Propagate `root_grads` from `roots` back through the graph.

    inputs=None: accumulate into `.grad` of leaves (and of tensors that called
    `retain_grad()`), as `Tensor.backward` does.
    inputs=[...]: return the gradient of each input instead (None where the input
    does not influence the roots) and touch no `.grad`, as `minigen.grad` does.
    """
    grads = {}          # id(tensor) -> (tensor, gradient so far)
    results = {}        # id(input) -> gradient, when `inputs` is given
    wanted = {id(t) for t in inputs} if inputs is not None else None
    needed = _functions_needed(roots, inputs, stop_at_inputs) if inputs is not None else None

    heap, queued, counter = [], set(), 0

    def schedule(f):
        nonlocal counter
        if f is not None and id(f) not in queued and (needed is None or id(f) in needed):
            queued.add(id(f))
            counter += 1
            heapq.heappush(heap, (-f.generation, counter, f))

    def finish(tensor, g):
        """All of `tensor`'s gradient has arrived: hooks, retain_grad, results."""
        for hook in tensor._hooks:
            replaced = hook(g)
            if replaced is not None:
                g = replaced
        if wanted is not None:
            if id(tensor) in wanted:
                results[id(tensor)] = g
        elif tensor.creator is None or tensor._retains_grad:
            stored = g if create_graph else g.detach()
            tensor.grad = stored if tensor.grad is None else tensor.grad + stored
        return g

    for root, g in zip(roots, root_grads):
        _accumulate(grads, root, g)
        schedule(root.creator)

    with set_grad_enabled(create_graph):
        while heap:
            f = heapq.heappop(heap)[2]
            if f.inputs is None:
                raise GraphFreedError(
                    f"backward through {type(f).__name__} a second time: its graph was freed "
                    "after the first backward. Pass retain_graph=True to the first call "
                    "if you need to go back through the same graph twice.")
            output_grads = []
            for ref, (shape, dtype) in zip(f.outputs, f.output_meta):
                out = ref()
                entry = grads.pop(id(out), None) if out is not None else None
                g = finish(out, entry[1]) if entry is not None else None
                output_grads.append(g)
            if all(g is None for g in output_grads):
                continue
            output_grads = [g if g is not None else f.zeros(shape, dtype)
                            for g, (shape, dtype) in zip(output_grads, f.output_meta)]
            f.check_saved_inputs()
            input_grads = f.backward(*output_grads)
            if not isinstance(input_grads, (tuple, list)):
                input_grads = (input_grads,)
            if _backward_hook is not None:      # anomaly mode (minigen.inspect) checks them
                _backward_hook(f, input_grads)
            for x, gx in zip(f.inputs, input_grads):
                if gx is None or not x.requires_grad:
                    continue
                if gx.shape != x.shape:
                    raise RuntimeError(
                        f"{type(f).__name__}.backward returned a gradient of shape {gx.shape} "
                        f"for an input of shape {x.shape} (a bug in that op)")
                _accumulate(grads, x, gx)
                schedule(x.creator)
            if not retain_graph:
                f.release()
        # What is left in `grads` are leaves (or tensors outside the needed subgraph).
        for tensor, g in grads.values():
            if tensor.creator is None or wanted is not None:
                finish(tensor, g)

    if inputs is not None:
        return [results.get(id(t)) for t in inputs]
    return None


def root_gradient(output, g, caller):
    """The gradient that starts a backward walk at `output`: `g` as a Tensor of the
    output's dtype, or 1 when the output has a single element and no `g` is given."""
    from minigen.tensor import Tensor
    if g is None:
        if output.numel() != 1:
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
    from minigen.tensor import Tensor

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
