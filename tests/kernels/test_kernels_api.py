"""The public API: where ``kernels`` comes from, argument checks, dispatch."""

import ctypes.util
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import kernels
from kernels import reference

REPO = pathlib.Path(__file__).resolve().parents[2]


def test_kernels_package_is_this_repository():
    """`kernels` is also an unrelated PyPI package: make sure we import ours."""
    assert pathlib.Path(kernels.__file__).resolve().is_relative_to(REPO / "kernels")


def test_public_api():
    for name in ("conv2d_forward", "conv2d_grad_input", "conv2d_grad_weight",
                 "batchnorm_forward_train", "batchnorm_forward_eval", "batchnorm_backward"):
        assert callable(getattr(kernels, name)), name
        assert name in kernels.__all__


@pytest.mark.parametrize("preset, expected", [(None, "passive"), ("active", "active")])
def test_omp_wait_policy_is_set_on_import(preset, expected):
    """Importing kernels sets OMP_WAIT_POLICY=passive (the Numba spin trap), unless the
    user chose a policy. Checked in a fresh process, before numba is imported."""
    env = dict(os.environ)
    env.pop("OMP_WAIT_POLICY", None)
    if preset:
        env["OMP_WAIT_POLICY"] = preset
    code = ("import os, sys, kernels\n"
            "assert 'numba' not in sys.modules  # numba loads lazily, after the setting\n"
            "print(os.environ['OMP_WAIT_POLICY'])\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == expected


@pytest.mark.parametrize("openmp_first, preset, expect_workqueue", [
    (False, None, False),        # nothing loaded OpenMP: numba's default, policy passive
    (True, None, True),          # another library loaded it first: workqueue
    (True, "omp", False),        # the user's choice wins
])
def test_threading_layer_sleeps_between_kernels(openmp_first, preset, expect_workqueue):
    """When an OpenMP runtime was loaded before ``import kernels`` (as PyTorch does),
    OMP_WAIT_POLICY comes too late, so the kernels use Numba's workqueue layer."""
    gomp = ctypes.util.find_library("gomp")
    if openmp_first and gomp is None:
        pytest.skip("no libgomp on this system to load first")
    env = dict(os.environ)
    for k in ("NUMBA_THREADING_LAYER", "MINIGEN_KERNELS", "OMP_WAIT_POLICY"):
        env.pop(k, None)
    env["NUMBA_NUM_THREADS"] = "2"           # small calls run serially: force the parallel twin
    if preset:
        env["NUMBA_THREADING_LAYER"] = preset
    code = ((f"import ctypes; ctypes.CDLL({gomp!r}, mode=ctypes.RTLD_GLOBAL)\n" if openmp_first else "")
            + "import numpy as np, numba, kernels, kernels.cpu\n"
            "kernels.cpu.PARALLEL_MIN_WORK = 0\n"
            "kernels.batchnorm_forward_train(np.ones((2, 3, 4), np.float32), None, None)\n"
            "print(numba.threading_layer())\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert (out.stdout.strip() == "workqueue") == expect_workqueue, out.stdout


# ---------------------------------------------------------------- argument checking

@pytest.mark.parametrize("call, match", [
    (lambda: kernels.conv2d_forward(np.zeros((1, 4, 5, 5)), np.zeros((2, 3, 3, 3)), 1, 0, 1, 1),
     r"conv2d_forward: weight shape \(2, 3, 3, 3\) expects 3 input channels with groups=1, "
     r"but the input shape \(1, 4, 5, 5\) has 4"),
    (lambda: kernels.conv2d_forward(np.zeros((1, 4, 5, 5)), np.zeros((3, 2, 3, 3)), 1, 0, 1, 2),
     r"output channels \(3\) must both be divisible by groups \(2\)"),
    (lambda: kernels.conv2d_forward(np.zeros((1, 4, 5)), np.zeros((3, 4, 3, 3)), 1, 0, 1, 1),
     r"conv2d_forward: input must be 4-D"),
    (lambda: kernels.conv2d_forward(np.zeros((1, 4, 2, 2)), np.zeros((3, 4, 3, 3)), 1, 0, 1, 1),
     r"too small for kernel \(3, 3\)"),
    (lambda: kernels.conv2d_forward(np.zeros((1, 4, 5, 5)), np.zeros((3, 4, 3, 3)), 0, 0, 1, 1),
     r"stride >= 1"),
    (lambda: kernels.conv2d_grad_input(np.zeros((1, 3, 4, 4)), np.zeros((3, 4, 3, 3)),
                                       (1, 4, 5, 5), 1, 0, 1, 1),
     r"conv2d_grad_input: grad_output has shape \(1, 3, 4, 4\).*\(1, 3, 3, 3\)"),
    (lambda: kernels.conv2d_grad_weight(np.zeros((1, 4, 5, 5)), np.zeros((1, 3, 3, 3)),
                                        (3, 2, 3, 3), 1, 0, 1, 1),
     r"conv2d_grad_weight: weight shape \(3, 2, 3, 3\) expects 2 input channels"),
    (lambda: kernels.batchnorm_forward_train(np.zeros((4, 3)), np.ones(4), np.zeros(3)),
     r"batchnorm_forward_train: gamma must have shape \(3,\) for input shape \(4, 3\)"),
    (lambda: kernels.batchnorm_forward_train(np.zeros(4), None, None),
     r"batchnorm_forward_train: input must be \(N, C\)"),
    (lambda: kernels.batchnorm_backward(np.zeros((4, 2)), np.zeros((4, 3)), None,
                                        np.zeros(3), np.ones(3)),
     r"batchnorm_backward: grad_output shape \(4, 2\) differs from input shape \(4, 3\)"),
])
@pytest.mark.parametrize("mode", ["reference", "auto"])
def test_argument_errors_name_the_op_and_shapes(monkeypatch, call, match, mode):
    monkeypatch.setenv("MINIGEN_KERNELS", mode)
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("mode", ["reference", "auto"])
def test_integer_arrays_are_rejected(monkeypatch, mode):
    monkeypatch.setenv("MINIGEN_KERNELS", mode)
    with pytest.raises(TypeError, match="conv2d_forward: expected float32 or float64"):
        kernels.conv2d_forward(np.zeros((1, 1, 3, 3), int), np.zeros((1, 1, 2, 2), int))


# ------------------------------------------------------------------------- dispatch

def test_dispatch_numpy_goes_to_cpu_kernels(monkeypatch):
    monkeypatch.delenv("MINIGEN_KERNELS", raising=False)
    from kernels import cpu
    assert kernels.backend_for(np.zeros(3)) is cpu


def test_dispatch_reference_forced_by_env(monkeypatch):
    monkeypatch.setenv("MINIGEN_KERNELS", "reference")
    assert kernels.backend_for(np.zeros(3)) is reference


def test_dispatch_rejects_unknown_mode(monkeypatch):
    monkeypatch.setenv("MINIGEN_KERNELS", "fastest")
    with pytest.raises(ValueError, match="MINIGEN_KERNELS='fastest'"):
        kernels.conv2d_forward(np.zeros((1, 1, 3, 3)), np.zeros((1, 1, 2, 2)))


def test_reference_mode_calls_reference(monkeypatch):
    monkeypatch.setenv("MINIGEN_KERNELS", "reference")
    seen = []
    real = reference.conv2d_forward
    monkeypatch.setattr(reference, "conv2d_forward",
                        lambda *a: seen.append(1) or real(*a))
    kernels.conv2d_forward(np.zeros((1, 1, 3, 3)), np.zeros((1, 1, 2, 2)), 1, 0, 1, 1)
    assert seen == [1]


def test_without_numba_the_reference_is_used_with_one_warning():
    """In a fresh process where `import numba` fails."""
    code = (
        "import sys, warnings\n"
        "sys.modules['numba'] = None\n"           # makes `import numba` raise ImportError
        "import numpy as np, kernels\n"
        "with warnings.catch_warnings(record=True) as rec:\n"
        "    warnings.simplefilter('always')\n"
        "    for _ in range(3):\n"
        "        y = kernels.conv2d_forward(np.ones((1, 1, 3, 3)), np.ones((1, 1, 2, 2)))\n"
        "        kernels.batchnorm_forward_train(np.ones((2, 3)), None, None)\n"
        "assert kernels.backend_for(y) is kernels.reference\n"
        "msgs = [str(r.message) for r in rec]\n"
        "assert len(msgs) == 1 and 'reference' in msgs[0], msgs\n"
        "assert (y == 4).all()\n"
        "print('ok')\n")
    env = dict(os.environ)
    env.pop("MINIGEN_KERNELS", None)
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "ok" in out.stdout, out.stderr
