"""Two facts about the Numba CPU kernels, measured in fresh subprocesses.

1. The spin trap. After a parallel Numba kernel on its OpenMP layer, OpenMP's worker
   threads keep spinning on the cores for a while. A NumPy/BLAS call made right then
   competes with them and can run many times slower. ``import kernels`` sets
   OMP_WAIT_POLICY=passive (the workers sleep) -- which works only if no OpenMP runtime
   is loaded yet; when one is (PyTorch imported first), it picks Numba's workqueue
   layer instead. We time a matrix multiply right after a parallel kernel, and before
   any parallel kernel ran ("alone"), for the package's choices and for the traps they
   avoid (the OpenMP layer forced after PyTorch; libgomp's default and "active" policy).

2. Compile cost. Every CPU kernel is ``cache=True``: the first process compiles it and
   writes machine code to the cache; later processes load it. We time the first call of
   each public function in a process with an empty cache (cold) and again (warm).

Usage:  python benchmarks/kernels_threading.py [--reps 30]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SPIN_CHILD = r"""
import json, sys, time
if sys.argv[2] == "torch-first":
    try:
        import torch                       # loads its OpenMP runtime before kernels does
    except ImportError:
        print(json.dumps(None)); sys.exit()
import numpy as np
import kernels, numba
reps = int(sys.argv[1])
rng = np.random.default_rng(0)
x = rng.standard_normal((64, 64, 14, 14)).astype(np.float32)      # a batch-norm-sized tensor
a = rng.standard_normal((256, 512)).astype(np.float32)
b = rng.standard_normal((512, 512)).astype(np.float32)
a @ b
alone, after = [], []
for _ in range(reps):                                               # before any parallel kernel:
    t = time.perf_counter(); a @ b; alone.append(time.perf_counter() - t)   # no OpenMP threads yet
kernels.batchnorm_forward_train(x, None, None)                      # compile / load, start threads
for _ in range(reps):
    kernels.batchnorm_forward_train(x, None, None)                  # parallel Numba kernel ...
    t = time.perf_counter(); a @ b; after.append(time.perf_counter() - t)   # ... then BLAS at once
print(json.dumps(dict(alone=float(np.median(alone)), after=float(np.median(after)),
                      layer=numba.threading_layer(), threads=numba.get_num_threads())))
"""

COMPILE_CHILD = r"""
import json, time
t0 = time.perf_counter()
import numpy as np
import kernels
from kernels import cpu
t_import = time.perf_counter() - t0
rng = np.random.default_rng(0)
x = rng.standard_normal((2, 4, 6, 6)).astype(np.float32)
w = rng.standard_normal((6, 4, 3, 3)).astype(np.float32)
gy = rng.standard_normal((2, 6, 6, 6)).astype(np.float32)
g = np.ones(4, np.float32)
calls = {
    "conv2d_forward": lambda: kernels.conv2d_forward(x, w, 1, 1, 1, 1),
    "conv2d_grad_input": lambda: kernels.conv2d_grad_input(gy, w, x.shape, 1, 1, 1, 1),
    "conv2d_grad_weight": lambda: kernels.conv2d_grad_weight(x, gy, w.shape, 1, 1, 1, 1),
    "batchnorm_forward_train": lambda: kernels.batchnorm_forward_train(x, g, g),
    "batchnorm_forward_eval": lambda: kernels.batchnorm_forward_eval(x, g, g, g, g),
    "batchnorm_backward": lambda: kernels.batchnorm_backward(x, x, g, g, g),
}
out = {"import kernels + numba": t_import}
for name, f in calls.items():
    t = time.perf_counter(); f(); out[name] = time.perf_counter() - t
t = time.perf_counter(); [f() for f in calls.values()]; out["all six, second call"] = time.perf_counter() - t
print(json.dumps(out))
"""


def run_child(code, env_changes, *args):
    env = dict(os.environ)
    env.pop("MINIGEN_KERNELS", None)
    for k, v in env_changes.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    env["PYTHONPATH"] = REPO + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run([sys.executable, "-c", code, *args], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=900)
    if out.returncode:
        raise SystemExit(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=30)
    args = ap.parse_args()

    print("1. BLAS matmul (256x512 @ 512x512, float32): alone (before any parallel kernel) "
          "vs right after a parallel Numba kernel (median of %d)" % args.reps)
    print(f"   {'Numba threading layer, OMP_WAIT_POLICY':<52} {'alone':>9} {'after':>9} {'slowdown':>9}")
    omp = {"NUMBA_THREADING_LAYER": "omp"}
    default = {"NUMBA_THREADING_LAYER": None, "OMP_WAIT_POLICY": None}
    for label, env, order in [
            ("package default (OpenMP layer, passive)", default, "-"),
            ("package default, PyTorch imported first", default, "torch-first"),
            ("omp forced, passive, PyTorch imported first", {**omp, "OMP_WAIT_POLICY": None},
             "torch-first"),
            ("omp, OMP_WAIT_POLICY unset (libgomp default)", {**omp, "OMP_WAIT_POLICY": ""}, "-"),
            ("omp, OMP_WAIT_POLICY=active (spin forever)", {**omp, "OMP_WAIT_POLICY": "active"}, "-"),
            ("workqueue forced", {"NUMBA_THREADING_LAYER": "workqueue"}, "-")]:
        r = run_child(SPIN_CHILD, env, str(args.reps), order)
        if r is None:
            print(f"   {label:<52} (PyTorch not installed: pip install -e \".[bench]\")")
            continue
        print(f"   {label:<52} {r['alone'] * 1e3:7.2f}ms {r['after'] * 1e3:7.2f}ms "
              f"{r['after'] / r['alone']:8.2f}x   [{r['layer']}, {r['threads']} threads]")

    print("\n2. first call of each kernel in a fresh process (cache=True)")
    with tempfile.TemporaryDirectory() as cache:
        env = {"NUMBA_CACHE_DIR": cache}
        cold = run_child(COMPILE_CHILD, env)
        warm = run_child(COMPILE_CHILD, env)
    print(f"   {'':<26} {'cold (compile)':>15} {'warm (cache)':>13}")
    for k in cold:
        print(f"   {k:<26} {cold[k] * 1e3:13.0f}ms {warm[k] * 1e3:11.0f}ms")
    tc = sum(v for k, v in cold.items() if k.startswith(("conv", "batch")))
    tw = sum(v for k, v in warm.items() if k.startswith(("conv", "batch")))
    print(f"   {'six first calls':<26} {tc * 1e3:13.0f}ms {tw * 1e3:11.0f}ms")


if __name__ == "__main__":
    main()
