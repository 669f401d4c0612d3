"""`minigen.inspect` (the old name) still imports, warns, and is the same code."""
import importlib
import sys
import warnings

import pytest


def test_the_old_name_is_a_deprecated_alias_of_minigen_inspection():
    sys.modules.pop("minigen.inspect", None)
    with pytest.warns(DeprecationWarning, match="minigen.inspection"):
        old = importlib.import_module("minigen.inspect")
    import minigen.inspection as new
    assert old.trace is new.trace and old.record is new.record
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from minigen.inspect.origin import origin_of
        import minigen.inspect.dot  # noqa: F401
    assert origin_of is new.origin_of
    assert sys.modules["minigen.inspect.dot"] is importlib.import_module("minigen.inspection.dot")
