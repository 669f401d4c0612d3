"""Whether ops record a graph: the switch behind `no_grad`, `enable_grad`, `set_grad_enabled`.

A leaf module (it imports nothing of minigen): `Function.__call__` reads `enabled` on
every op, and the Tensor's in-place helpers ask `is_grad_enabled()`.
"""
import contextlib

enabled = True


def is_grad_enabled():
    return enabled


@contextlib.contextmanager
def set_grad_enabled(mode):
    """Turn graph recording on or off inside a `with` block (or as a decorator)."""
    global enabled
    previous, enabled = enabled, bool(mode)
    try:
        yield
    finally:
        enabled = previous


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
