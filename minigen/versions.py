"""Versions: noticing a tensor changed between its forward and its backward.

Every counted change of a tensor (an optimizer step, `x.data = ...`, an in-place
helper such as `fill_`) ticks one clock, and the tensor (or the memory it lives in)
remembers the tick of its last change. A Function remembers the clock when it is made
(`stamp`); before its backward runs, a tensor it reads whose last change came later is
stale, so a gradient is never computed from values other than those of the forward
(the classic `loss = D(G(z)); opt_D.step(); loss.backward()`). While nothing has
changed since a node was made (nearly always), that is one comparison of two ints.
Writes straight into a leaf's array are not counted: a checksum catches those.
A leaf module of the engine: it imports only `minigen.errors` (and, when it builds an
error message, the inspection tools).
"""
import itertools
import weakref

import numpy as np

from minigen.errors import user_line


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


clock = 0                # how many changes have been counted so far (see tick)

# As in PyTorch, the count of in-place writes lives with the *storage*: the array that
# owns the memory (the root of `array.base`), so a write through a view (x[0], a
# reshape, `x.detach()`) is seen by every tensor on that memory. Storages start at 0
# and get an entry here at their first write, removed when the array is freed.
# Rebinding `tensor.data = new` (what an optimizer step does) bumps the tensor itself.
_storage_writes = {}     # id(root array) -> [count, last Change, weakref to the root, tick]
_change_context = []     # the Changes of open `changes_described` blocks, innermost last


def tick():
    """Count one change; its tick (the clock after it)."""
    global clock
    clock += 1
    return clock


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


def changed_since(tensor, stamp):
    """Whether `tensor` (its binding, or the memory it lives in) changed after the clock
    read `stamp`."""
    if tensor._changed_at > stamp:
        return True
    entry = _storage_writes.get(id(storage_root(tensor._data))) if _storage_writes else None
    return entry is not None and entry[3] > stamp


def leaf_checksums(tensors):
    """A checksum of each leaf among `tensors` (parameters, data, constants; None for the
    others), or None when there is no leaf: for leaves the only way to notice a write
    straight into the array (w.data[0] = 10) between forward and backward."""
    sums = None
    for i, t in enumerate(tensors):
        if t.creator is None:
            if sums is None:
                sums = [None] * len(tensors)
            sums[i] = checksum(t._data)
    return sums


def check_unchanged(function, tensors, stamp, sums):
    """StaleTensorError if one of `function`'s inputs changed since its forward (made at
    clock `stamp`; `sums`: the leaves' checksums then, see leaf_checksums)."""
    if clock != stamp:                           # a counted change since: name the tensor
        for i, x in enumerate(tensors):
            if changed_since(x, stamp):
                raise stale_error(function, x, f"input {i}")
    if sums is not None:                         # a write straight into a leaf's array
        for i, x in enumerate(tensors):
            if sums[i] is not None and bool(checksum(x._data) != sums[i]):
                raise stale_error(function, x, f"input {i}", raw_write=True)


def storage_change(array):
    """The last in-place Change of `array`'s memory, or None."""
    entry = _storage_writes.get(id(storage_root(array)))
    return entry[1] if entry is not None else None


def note_change(what):
    """A Change at the user's line (or the one of the enclosing `changes_described` block)."""
    if _change_context:
        return _change_context[-1]
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
        entry = _storage_writes[key] = [0, None, ref, 0]
    entry[0] += 1
    entry[1] = change
    entry[3] = tick()
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


def stale_error(function, tensor, role, raw_write=False):
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
        from minigen.inspection.origin import origin_of
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
        f"{tensor.shape} ({kind}), as the forward saw it, but it was changed since (now "
        f"version {tensor._version}), last {where}.\n"
        "  The gradient would be computed with the new values. Call backward before changing "
        "the tensor (e.g. before opt.step()), or run the forward again after the change.")
