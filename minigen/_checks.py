"""Argument checks shared by the library and the command line (one rule, one message).

Each check returns the value as a plain Python ``int`` and raises ``TypeError`` for a
value of the wrong kind (a string, a float, a bool) and ``ValueError`` for one out of
range, naming the argument.  :mod:`minigen.train` turns the same checks into argparse
types, so ``DataLoader(x, batch_size=0)`` and ``--batch-size 0`` fail the same way.
"""
from __future__ import annotations

import numbers

__all__ = ["integer", "positive_int", "non_negative_int", "seed_value", "MAX_SEED"]

#: seeds are fed to numpy's SeedSequence / PCG64 and to CuPy's XORWOW: keep them in 64 bits
MAX_SEED = 2**64 - 1


def integer(value, name: str) -> int:
    """``value`` as an int; floats (even 8.0), strings and bools are refused."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    return int(value)


def positive_int(value, name: str) -> int:
    """An integer >= 1 (a length: steps, epochs, a batch size, a dimension)."""
    value = integer(value, name)
    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {value}")
    return value


def non_negative_int(value, name: str) -> int:
    """An integer >= 0 (a count where 0 means 'none', e.g. checkpoint every 0 steps: never)."""
    value = integer(value, name)
    if value < 0:
        raise ValueError(f"{name} must be 0 or more, got {value}")
    return value


def seed_value(value, name: str = "seed") -> int:
    """A random seed: an integer in 0 .. 2**64 - 1 (what NumPy's SeedSequence accepts)."""
    value = integer(value, name)
    if not 0 <= value <= MAX_SEED:
        raise ValueError(f"{name} must be between 0 and 2**64 - 1, got {value}")
    return value
