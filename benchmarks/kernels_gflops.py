"""Throughput of the array-level kernels on the issue's benchmark shapes (float32).

For each conv: forward, grad-input and grad-weight time and GFLOP/s (2*N*O*Ho*Wo*C/G*kh*kw
flops each), next to the time of one BLAS matmul of the same size — the ceiling of the
im2col + BLAS design. For batch norm: training forward and backward times.

Usage:  python benchmarks/kernels_gflops.py [--threads T] [--backend cpu|reference]
(--threads sets both Numba's and OpenBLAS's thread count; best of --reps runs.)
"""

import argparse
import os
import sys
import time


def best_time(f, reps):
    f()
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t)
    return best


CONVS = [  # name, x shape, w shape, stride, padding
    ("conv 1->64 k4s2p1 28x28", (64, 1, 28, 28), (64, 1, 4, 4), 2, 1),
    ("conv 64->128 k4s2p1 14x14", (64, 64, 14, 14), (128, 64, 4, 4), 2, 1),
    ("conv 64->64 k3s1p1 14x14", (64, 64, 14, 14), (64, 64, 3, 3), 1, 1),
    ("convT 128->64 k4s2p1 7x7", (64, 64, 14, 14), (128, 64, 4, 4), 2, 1),   # = conv 64->128 adjoint
    ("convT 64->1 k4s2p1 14x14", (64, 1, 28, 28), (64, 1, 4, 4), 2, 1),      # = conv 1->64 adjoint
]
BNS = [(64, 64, 14, 14), (64, 128, 7, 7), (128, 512)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--backend", choices=["cpu", "reference"], default="cpu")
    args = ap.parse_args()
    if args.threads:
        os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = str(args.threads)
        os.environ["NUMBA_NUM_THREADS"] = str(args.threads)
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import numpy as np
    import kernels
    mod = getattr(kernels, args.backend) if args.backend == "reference" else __import__(
        "kernels.cpu", fromlist=["cpu"])
    import numba
    rng = np.random.default_rng(0)
    print(f"backend={args.backend}, numba threads={numba.get_num_threads()}, float32, "
          f"best of {args.reps}")
    print(f"{'':28}{'forward':>17}{'grad-input':>17}{'grad-weight':>17}{'BLAS matmul':>17}")
    for name, xs, ws, s, p in CONVS:
        x = rng.standard_normal(xs).astype(np.float32)
        w = rng.standard_normal(ws).astype(np.float32)
        y = mod.conv2d_forward(x, w, s, p, 1, 1)
        gy = rng.standard_normal(y.shape).astype(np.float32)
        flops = 2.0 * y.size * np.prod(ws[1:])
        k, m = int(np.prod(ws[1:])), y.size // ws[0]
        a = rng.standard_normal((m, k)).astype(np.float32)
        b = rng.standard_normal((k, ws[0])).astype(np.float32)
        times = [best_time(lambda: mod.conv2d_forward(x, w, s, p, 1, 1), args.reps),
                 best_time(lambda: mod.conv2d_grad_input(gy, w, xs, s, p, 1, 1), args.reps),
                 best_time(lambda: mod.conv2d_grad_weight(x, gy, ws, s, p, 1, 1), args.reps),
                 best_time(lambda: a @ b, args.reps)]
        cells = "".join(f"{t * 1e3:7.2f}ms {flops / t / 1e9:5.0f}GF" for t in times)
        print(f"{name:28}{cells}   fwd+bwd {sum(times[:3]) * 1e3:.1f}ms")
    for shape in BNS:
        x = rng.standard_normal(shape).astype(np.float32)
        g = np.ones(shape[1], np.float32)
        _, mean, invstd = mod.batchnorm_forward_train(x, g, g, 1e-5)
        tf = best_time(lambda: mod.batchnorm_forward_train(x, g, g, 1e-5), args.reps)
        tb = best_time(lambda: mod.batchnorm_backward(x, x, g, mean, invstd), args.reps)
        print(f"batch norm {str(shape):17} forward {tf * 1e3:6.3f}ms  backward {tb * 1e3:6.3f}ms")


if __name__ == "__main__":
    main()
