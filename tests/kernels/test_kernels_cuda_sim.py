"""Runs tests/cuda_sim in a fresh process with the Numba CUDA simulator switched on.

NUMBA_ENABLE_CUDASIM must be set before numba is first imported, and this process has
already imported numba for the CPU kernels, so the simulator tests need their own.
"""

import os
import pathlib
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]


@pytest.mark.skipif(os.environ.get("NUMBA_ENABLE_CUDASIM") == "1",
                    reason="this process already runs with the simulator: tests/cuda_sim "
                           "is collected directly")
def test_cuda_kernels_in_simulator_subprocess():
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
    env.pop("MINIGEN_KERNELS", None)
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/cuda_sim", "-q", "-p", "no:cacheprovider",
         "-o", "addopts="],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    report = out.stdout[-4000:] + out.stderr[-2000:]
    assert out.returncode == 0, report
    assert " passed" in out.stdout and "skipped" not in out.stdout.splitlines()[-1], report
