"""Deprecated: the old name of `minigen.inspection` (it shadowed Python's `inspect`).

`from minigen import inspect`, `import minigen.inspect.trace` and
`from minigen.inspect.origin import origin_of` keep working: this package is the
inspection package under its old name, and its sub-modules are the same modules.
"""
import sys
import warnings

from minigen import inspection as _inspection
from minigen.inspection import *  # noqa: F401,F403
from minigen.inspection import __all__  # noqa: F401
from minigen.inspection import anomaly, check, dot, explain, grad_flow, origin, trace  # noqa: F401

warnings.warn("minigen.inspect is now minigen.inspection (the old name shadowed Python's "
              "inspect module); import minigen.inspection instead", DeprecationWarning, stacklevel=2)

# `import minigen.inspect.trace` finds the very module `minigen.inspection.trace`
for _name in ("anomaly", "check", "dot", "explain", "grad_flow", "origin", "trace"):
    sys.modules[f"{__name__}.{_name}"] = getattr(_inspection, _name)
