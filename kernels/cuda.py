"""Numba CUDA kernels (phase 1 placeholder: forwards to the reference, which runs on CuPy)."""
from numba import cuda as _cuda  # noqa: F401

from .reference import (batchnorm_backward, batchnorm_forward_eval,  # noqa: F401
                        batchnorm_forward_train, conv2d_forward, conv2d_grad_input,
                        conv2d_grad_weight)
