"""Run-size switches shared by the notebooks and the demos.

One environment variable shrinks every notebook (and any demo that uses it) to a size
that runs end to end in seconds, which is how the test suite executes them::

    MINIGEN_TINY=1 jupyter lab notebooks/      # or: MINIGEN_TINY=1 python demos/...

    from minigen.config import size
    n_train = size(3000, tiny=200)             # 3000 normally, 200 under MINIGEN_TINY=1
    epochs = size(20, tiny=1)

The variable is read at each call (not at import), so a test can set it for a child
process or with ``monkeypatch.setenv`` and the next call sees it.
"""
from __future__ import annotations

import os

TINY_VARIABLE = "MINIGEN_TINY"

# what a user may reasonably type; anything else is a mistake we should name
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def is_tiny() -> bool:
    """True when ``MINIGEN_TINY`` is set to 1/true/yes/on (case-insensitive).

    Unset, empty, 0/false/no/off mean the normal size; any other value raises, so a
    typo such as ``MINIGEN_TINY=ture`` does not silently run the long version.
    """
    value = os.environ.get(TINY_VARIABLE, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{TINY_VARIABLE}={os.environ[TINY_VARIABLE]!r} is not understood; "
                     f"use 1 (tiny run) or 0 (normal run)")


def size(default, tiny):
    """``tiny`` when :func:`is_tiny`, else ``default`` (any values: ints, tuples, strings)."""
    return tiny if is_tiny() else default
