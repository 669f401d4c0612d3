"""Shared pytest set-up: GPU tests skip with the reason when no CUDA device answers, and
``demo_helpers`` (run or import a demo) is importable from every test folder."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def pytest_collection_modifyitems(config, items):
    gpu_items = [item for item in items if "gpu" in item.keywords]
    if not gpu_items:
        return
    from minigen.backend import cupy_available, _cupy_error
    if cupy_available():
        return
    reason = ("needs a CUDA GPU: " + (_cupy_error or "cupy imports, but cupy.cuda.is_available() is False")
              if _cupy_error else "needs a CUDA GPU: cupy.cuda.is_available() is False on this machine")
    for item in gpu_items:
        item.add_marker(pytest.mark.skip(reason=reason))
