"""Compile every CUDA kernel to PTX for a real GPU target, without a GPU.

The simulator runs the kernels as Python, so it cannot catch code that the real CUDA
target rejects (unsupported types or calls). NVVM can compile without a device; only
Numba's device-function compile path asks the driver for the current device's compute
capability, so we answer that question here. Exit codes: 0 ok, 1 a kernel failed,
77 nothing to check with (no NVVM / libdevice on this machine, or Numba internals moved).
Run by tests/kernels/test_kernels_cuda_ptx.py in its own process.
"""

import sys
import types as pytypes

CC = (8, 0)


def main():
    try:
        import numba.cuda.dispatcher as disp
        from numba import cuda, types
        from numba.cuda.cudadrv import nvvm
        nvvm.NVVM()                                   # raises if libNVVM is missing
        from numba.cuda.cuda_paths import get_cuda_paths
        if not get_cuda_paths()["libdevice"].info:
            raise RuntimeError("libdevice not found")
        if not hasattr(disp, "get_current_device"):
            raise RuntimeError("numba.cuda.dispatcher.get_current_device moved")
    except Exception as exc:
        print(f"SKIP: cannot compile PTX here: {type(exc).__name__}: {exc}")
        return 77
    disp.get_current_device = lambda: pytypes.SimpleNamespace(compute_capability=CC)

    import kernels.cuda as kc
    failed = 0
    for dt in (types.float32, types.float64):
        a4, a3, a1 = (types.Array(dt, nd, "C") for nd in (4, 3, 1))
        geom = types.UniTuple(types.int64, 9)
        signatures = {
            "_conv_forward": (a4, a4, geom, a1, dt, dt, a4),
            "_conv_grad_input": (a4, a4, geom, dt, a4),
            "_conv_grad_weight": (a4, a4, geom, dt, a4),
            "_bn_train": (a3, a1, a1, types.float64, types.float64, a3, a1, a1),
            "_bn_eval": (a3, a1, a1, a3),
            "_bn_backward": (a3, a3, a1, a1, a1, a3, a1, a1),
        }
        for name, sig in signatures.items():
            try:
                ptx, _ = cuda.compile_ptx(getattr(kc, name).py_func, sig, cc=CC)
            except Exception as exc:
                failed += 1
                print(f"FAIL {name}[{dt}]: {type(exc).__name__}: {str(exc)[:2000]}")
                continue
            code = [ln for ln in ptx.splitlines() if not ln.strip().startswith("//")]
            f64 = sum(ln.count(".f64") for ln in code)
            # float32 convolutions must not fall back to (slow on most GPUs) float64 math
            if dt == types.float32 and name.startswith("_conv") and f64:
                failed += 1
                print(f"FAIL {name}[{dt}]: {f64} float64 instructions in a float32 kernel")
            else:
                print(f"ok   {name}[{dt}]: {len(code)} PTX lines")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
