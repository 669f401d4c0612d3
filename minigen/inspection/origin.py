"""Where was each node made? Recording the user's line when a node is created.

The engine normally records nothing about where a node of the graph came from: that
would cost a walk over the Python call stack for every operation. Inside

    with minigen.inspection.record():
        loss = model(x) ...

(and inside `detect_anomaly()`, which turns recording on) every new node gets an
`origin` with:

    origin.line          'train.py:42': the innermost line of code outside minigen
    origin.stack         a few of the user's frames, innermost first (for error messages)
    origin.backward_of   when the node was built by a backward walk (create_graph=True):
                         a summary (name, output shapes, line) of the node whose backward
                         rule made it; None otherwise

`trace`, `to_dot` and anomaly mode read it back with `origin_of(node)`.

How it hooks in: `Function.__call__` calls `minigen.function._anomaly_hook(node,
outputs)` for every recorded node when that hook is set; `record()` sets it to
`_on_node` while at least one `record()` block is open, and puts back None after.
"""
import contextlib
import linecache
import os
import sys

from minigen import autograd
from minigen import function as _function

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))   # .../minigen
_RUN_BACKWARD = autograd.run_backward.__code__
_MAX_FRAMES = 6            # user frames kept per node: enough to see who called whom

_depth = 0                 # how many record() blocks are open (they nest)
_node_checks = []          # extra callbacks(node, outputs): anomaly mode's NaN check
_is_user_cache = {}        # code filename -> bool (abspath is slow; filenames repeat)


class NodeSummary:
    """Name, output shapes and line of a node, kept by the nodes its backward built.

    A summary and not the node itself: the node may be long gone (nothing needs a
    forward node once its backward has run) while the gradient graph is still drawn.
    """

    __slots__ = ("name", "output_shapes", "line")

    def __init__(self, node):
        origin = origin_of(node)
        self.name = node.name
        self.output_shapes = [shape for shape, _ in node.output_meta]
        self.line = origin.line if origin is not None else None


def summary_of(node):
    """The one NodeSummary of `node` (shared by all the nodes its backward builds)."""
    summary = node.__dict__.get("_summary")
    if summary is None:
        summary = node._summary = NodeSummary(node)
    return summary


class Origin:
    """Where one node was made (see the module docstring)."""

    __slots__ = ("stack", "backward_of")

    def __init__(self, stack, backward_of=None):
        self.stack = stack                     # [(filename, lineno, function name), ...]
        self.backward_of = backward_of         # a NodeSummary, or None

    @property
    def line(self):
        """'file:line' of the innermost user frame ('<unknown>' if there was none)."""
        if not self.stack:
            return "<unknown>"
        filename, lineno, _ = self.stack[0]
        return f"{filename}:{lineno}"

    @property
    def short_line(self):
        """Like `line` but with the file's base name only (for tables and drawings)."""
        if not self.stack:
            return "?"
        filename, lineno, _ = self.stack[0]
        return f"{os.path.basename(filename)}:{lineno}"

    def format_stack(self, limit=4, indent="    "):
        """The user frames as text, innermost first, each with its source line."""
        lines = []
        for filename, lineno, name in self.stack[:limit]:
            source = linecache.getline(filename, lineno).strip()
            lines.append(f'{indent}File "{filename}", line {lineno}, in {name}')
            if source:
                lines.append(f"{indent}    {source}")
        return "\n".join(lines)

    def __repr__(self):
        return f"<Origin {self.line}>"


def origin_of(node):
    """The Origin of a node (a Function), or None when it was made outside record()."""
    return getattr(node, "origin", None)


def _is_user_file(filename):
    """True for code outside the minigen package (the user's scripts, tests, notebooks)."""
    known = _is_user_cache.get(filename)
    if known is None:
        path = os.path.abspath(filename)
        known = not path.startswith(_PACKAGE_DIR + os.sep)
        _is_user_cache[filename] = known
    return known


def _walk_stack(frame):
    """The user frames above `frame`, and the node whose backward is running (if any).

    A backward walk is `run_backward`'s loop calling `f.backward(...)`; any node made
    while that frame is on the stack was built by that backward rule, and the loop's
    local variable `f` is the node being differentiated.
    """
    stack, backward_of = [], None
    while frame is not None:
        code = frame.f_code
        if code is _RUN_BACKWARD:
            if backward_of is None:                     # the innermost walk wins
                node = frame.f_locals.get("f")
                backward_of = summary_of(node) if node is not None else None
        elif len(stack) < _MAX_FRAMES and _is_user_file(code.co_filename):
            stack.append((code.co_filename, frame.f_lineno, code.co_name))
        frame = frame.f_back
    return stack, backward_of


def _on_node(node, outputs):
    """The hook Function.__call__ calls for every recorded node while recording."""
    stack, backward_of = _walk_stack(sys._getframe(1))
    node.origin = Origin(stack, backward_of)
    for check in _node_checks:
        check(node, outputs)


def _start():
    global _depth
    _depth += 1
    _function._anomaly_hook = _on_node


def _stop():
    global _depth
    _depth -= 1
    if _depth == 0:
        _function._anomaly_hook = None


@contextlib.contextmanager
def record():
    """`with record():` remembers, for every node made inside, the user line that made it.

    Costs a walk over the call stack per operation (a few microseconds), so it is off
    unless asked for. Blocks nest; recording stops when the outermost one closes.
    """
    _start()
    try:
        yield
    finally:
        _stop()


def is_recording():
    return _depth > 0
