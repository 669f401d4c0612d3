"""The differentiable operations, grouped by kind (one Function class per op).

    elementwise  arithmetic, exp/log, activations
    reduce       sum, mean, var, max/min, logsumexp, softmax
    matmul       matmul, linear
    shape        reshape, transpose, broadcasting, indexing, concatenate/split, pad
    conv         conv2d, conv_transpose2d (and the grad-weight Function)
    pool         max_pool2d, avg_pool2d, interpolate
    norm         batch_norm, layer_norm, group_norm, instance_norm, dropout
    loss         the loss functions (built from the ops above)
"""
from minigen.ops.shape import (  # noqa: F401
    reshape, transpose, permute, swapaxes, broadcast_to, sum_to, getitem, concatenate, cat,
    stack, split, tensor_split, chunk, pad, flatten, squeeze, unsqueeze, expand, repeat,
    repeat_interleave)
from minigen.ops.elementwise import (  # noqa: F401
    add, sub, mul, div, neg, pow, pow_scalar, exp, log, log1p, sqrt, abs, sin, cos, erf,
    clip, maximum, minimum, where, tanh, sigmoid, relu, leaky_relu, elu, softplus, silu,
    gelu, cast, to_device)
from minigen.ops.reduce import (  # noqa: F401
    sum, mean, var, std, max, min, amax, amin, argmax, argmin, all, any, logsumexp, softmax,
    log_softmax)
from minigen.ops.matmul import matmul, mm, bmm, linear  # noqa: F401
from minigen.ops.conv import conv2d, conv_transpose2d  # noqa: F401,E402
from minigen.ops.pool import max_pool2d, avg_pool2d, interpolate  # noqa: F401,E402
from minigen.ops.norm import batch_norm, layer_norm, group_norm, instance_norm, dropout  # noqa: F401,E402
