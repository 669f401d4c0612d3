"""Numba CPU kernels (phase 1 placeholder: forwards to the reference)."""
import numba  # noqa: F401  (the dispatcher treats ImportError here as "Numba missing")

from .reference import (batchnorm_backward, batchnorm_forward_eval,  # noqa: F401
                        batchnorm_forward_train, conv2d_forward, conv2d_grad_input,
                        conv2d_grad_weight)
