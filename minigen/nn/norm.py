"""Normalisation layers: BatchNorm1d/2d, LayerNorm, GroupNorm, InstanceNorm2d.

All of them compute  y = (x - mean) / sqrt(var + eps) * weight + bias  and differ
only in *which* values share a mean and variance:

    BatchNorm      per channel, over the batch and the spatial axes
    LayerNorm      per sample, over the last axes (normalized_shape)
    GroupNorm      per sample and group of channels
    InstanceNorm   per sample and channel, over the spatial axes

weight starts at 1 and bias at 0 (as PyTorch), so a fresh layer only normalises.

BatchNorm also keeps running estimates for evaluation, updated in training as

    running_mean <- (1 - momentum) running_mean + momentum * batch_mean
    running_var  <- (1 - momentum) running_var  + momentum * batch_var_unbiased

(momentum=None: a cumulative average over all batches seen so far, 1 / num_batches).
In eval mode (`model.eval()`) it normalises with those running estimates instead of
the batch, so a single example gives the same answer as in a batch.
"""
import numpy as np

from minigen import backend
from minigen import functional as F
from minigen.function import ShapeError
from minigen.nn import init
from minigen.nn._factory import empty_buffer, register_weight_and_bias
from minigen.nn.module import Module


class _BatchNorm(Module):
    _input_dims = ()          # accepted numbers of input dims
    _input_layout = ""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None):
        super().__init__()
        self.num_features, self.eps, self.momentum = int(num_features), float(eps), momentum
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        shape = (self.num_features,) if self.affine else None
        register_weight_and_bias(self, shape, shape, device, dtype)
        if self.track_running_stats:
            self.register_buffer("running_mean", empty_buffer((self.num_features,), 0.0, device, dtype))
            self.register_buffer("running_var", empty_buffer((self.num_features,), 1.0, device, dtype))
            self.register_buffer("num_batches_tracked", empty_buffer((), 0, device, np.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean[...] = 0
            self.running_var[...] = 1
            self.num_batches_tracked[...] = 0

    def reset_parameters(self):
        self.reset_running_stats()
        init.norm_default_(self.weight, self.bias)

    def _check_input(self, x):
        if x.ndim not in self._input_dims:
            raise ShapeError(f"{type(self).__name__} expects {self._input_layout} input, got shape "
                             f"{x.shape}")
        if x.shape[1] != self.num_features:
            raise ShapeError(f"{type(self).__name__}({self.num_features}) got an input with "
                             f"{x.shape[1]} channels (shape {x.shape})")

    def forward(self, x):
        self._check_input(x)
        factor = 0.0 if self.momentum is None else float(self.momentum)
        if self.training and self.track_running_stats:
            self.num_batches_tracked += 1       # in place on the 0-d int64 array
            if self.momentum is None:           # cumulative moving average
                factor = 1.0 / float(backend.to_device(self.num_batches_tracked, "cpu"))
        # Batch statistics in training, and also in eval when there are no running ones.
        use_batch_stats = self.training or self.running_mean is None
        track = not self.training or self.track_running_stats
        return F.batch_norm(x, self.running_mean if track else None,
                            self.running_var if track else None, self.weight, self.bias,
                            training=use_batch_stats, momentum=factor, eps=self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch norm of (N, C) or (N, C, L) input (features in axis 1)."""
    _input_dims = (2, 3)
    _input_layout = "(N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch norm of (N, C, H, W) images, one mean and variance per channel."""
    _input_dims = (4,)
    _input_layout = "(N, C, H, W)"


class LayerNorm(Module):
    """Normalise each sample over its last axes (`normalized_shape`), then scale and shift
    elementwise (weight and bias of shape normalized_shape)."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 device=None, dtype=None):
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(int(s) for s in normalized_shape)
        self.eps, self.elementwise_affine = float(eps), bool(elementwise_affine)
        shape = self.normalized_shape if self.elementwise_affine else None
        register_weight_and_bias(self, shape, shape if bias else None, device, dtype)
        self.reset_parameters()

    def reset_parameters(self):
        init.norm_default_(self.weight, self.bias)

    def forward(self, x):
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class GroupNorm(Module):
    """Normalise each sample over groups of num_channels / num_groups channels (and all
    spatial positions); weight and bias are per channel."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None, dtype=None):
        super().__init__()
        if num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by "
                             f"num_groups ({num_groups})")
        self.num_groups, self.num_channels = int(num_groups), int(num_channels)
        self.eps, self.affine = float(eps), bool(affine)
        shape = (self.num_channels,) if self.affine else None
        register_weight_and_bias(self, shape, shape, device, dtype)
        self.reset_parameters()

    def reset_parameters(self):
        init.norm_default_(self.weight, self.bias)

    def forward(self, x):
        if x.ndim < 2 or x.shape[1] != self.num_channels:
            raise ShapeError(f"GroupNorm({self.num_groups}, {self.num_channels}) got an input of "
                             f"shape {x.shape}")
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"


class InstanceNorm2d(Module):
    """Normalise each image and channel over its H x W positions (style transfer, GANs).

    As in PyTorch, affine=False by default. Running statistics are not supported
    (track_running_stats must stay False): train and eval behave the same.
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False,
                 track_running_stats=False, device=None, dtype=None):
        super().__init__()
        if track_running_stats:
            raise ValueError("InstanceNorm2d: track_running_stats=True is not supported "
                                      "in minigen (instance statistics are always used)")
        self.num_features, self.eps, self.momentum = int(num_features), float(eps), momentum
        self.affine, self.track_running_stats = bool(affine), False
        shape = (self.num_features,) if self.affine else None
        register_weight_and_bias(self, shape, shape, device, dtype)
        self.reset_parameters()

    def reset_parameters(self):
        init.norm_default_(self.weight, self.bias)

    def forward(self, x):
        if x.ndim != 4 or x.shape[1] != self.num_features:
            raise ShapeError(f"InstanceNorm2d({self.num_features}) expects (N, {self.num_features}, "
                             f"H, W) input, got shape {x.shape}")
        return F.instance_norm(x, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.num_features}, eps={self.eps}, affine={self.affine}"
