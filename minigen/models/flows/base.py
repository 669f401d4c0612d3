"""A normalizing flow: a simple density pushed through invertible maps.

Take z ~ N(0, I) and an invertible, differentiable f with x = f^{-1}(z).  The change of
variables gives the density of x exactly:

    log p(x) = log N(f(x); 0, I) + log |det J_f(x)|,     J_f = d f / d x.

Build f from layers f = f_K o ... o f_1 whose Jacobian determinants are cheap (a
triangular Jacobian: the log-det is a sum of logs of its diagonal); the log-dets add up:

    h_0 = x,  h_k = f_k(h_{k-1}),  z = h_K,   log |det J_f| = sum_k log |det J_{f_k}(h_{k-1})|.

Every layer here is a :class:`Flow`: ``forward(x) -> (z, log_det)`` with one log-det
per example (N,), and ``inverse(z) -> x``.  Training maximises log p(x) (engine ops, one
``backward()``); sampling runs the inverses from z ~ N(0, I).  The tests check, layer by
layer, that inverse(forward(x)) = x and that ``log_det`` equals log |det| of the full
Jacobian computed by the engine's autodiff.
"""
from __future__ import annotations

import abc
import math

import numpy as np

import minigen as mg
import minigen.nn as nn

__all__ = ["Flow", "NormalizingFlow", "per_example_sum", "log_standard_normal"]


def per_example_sum(t):
    """Sum over every axis but the first: (N, ...) -> (N,)."""
    return t.reshape(len(t), -1).sum(axis=1)


def log_standard_normal(z):
    """log N(z; 0, I) per example: -1/2 |z|^2 - D/2 log 2 pi."""
    d = int(np.prod(z.shape[1:]))
    return -0.5 * per_example_sum(z * z) - 0.5 * d * math.log(2 * math.pi)


class Flow(nn.Module, abc.ABC):
    """An invertible layer: ``forward(x) -> (z, log|det dz/dx|)`` (N,), ``inverse(z) -> x``.

    Both are abstract: a layer that forgets one cannot be built (TypeError at construction)."""

    @abc.abstractmethod
    def forward(self, x):
        """(z, log|det dz/dx|) with one log-det per example, shape (N,)."""

    @abc.abstractmethod
    def inverse(self, z):
        """x with forward(x)[0] == z."""


def _constant_log_det(value, n):
    """A log-det that is the same for every example (ActNorm, 1x1 conv): (N,) by broadcasting."""
    return mg.broadcast_to(value.reshape(1), (n,))


class NormalizingFlow(nn.Module):
    """x -> z through ``layers`` (Flows, in order); base density N(0, I).

    event_shape: the shape of one example, (2,) for the toys or (1, 28, 28) for images;
    z_shape: the shape of its z (default the same; (4, 14, 14) after a squeeze).
    """

    def __init__(self, layers, event_shape, z_shape=None):
        super().__init__()
        self.layers = nn.ModuleList(list(layers))
        self.event_shape = tuple(event_shape)
        self.z_shape = tuple(z_shape) if z_shape is not None else self.event_shape

    @property
    def device(self):
        return next(iter(self.parameters())).device

    @property
    def dtype(self):
        return next(iter(self.parameters())).dtype

    def _as_input(self, x):
        if not isinstance(x, mg.Tensor):
            x = mg.tensor(np.asarray(x), dtype=self.dtype, device=self.device)
        if tuple(x.shape[1:]) != self.event_shape:
            raise ValueError(f"this flow models inputs of shape (N, {', '.join(map(str, self.event_shape))}); "
                             f"got {tuple(x.shape)}")
        return x

    def forward(self, x):
        """(z, log|det J|) for data x: z (N, ...) and the summed log-det (N,)."""
        h = self._as_input(x)
        log_det = 0.0
        for layer in self.layers:
            h, ld = layer(h)
            log_det = log_det + ld
        return h, log_det

    def inverse(self, z):
        """x = f^{-1}(z): the layers' inverses in reverse order."""
        h = z if isinstance(z, mg.Tensor) else mg.tensor(np.asarray(z), dtype=self.dtype,
                                                          device=self.device)
        for layer in reversed(self.layers):
            h = layer.inverse(h)
        return h

    def log_prob(self, x):
        """log p(x) per example, in nats: log N(f(x); 0, I) + log |det J_f(x)|."""
        z, log_det = self(x)
        return log_standard_normal(z) + log_det

    def loss(self, x):
        """Mean negative log-likelihood (nats per example), for training."""
        return -self.log_prob(x).mean()

    def evaluate_nll(self, x, batch_size=500):
        """Mean NLL (nats per example) of a NumPy array, without a graph."""
        was_training = self.training
        self.eval()
        try:
            with mg.no_grad():
                total = sum(float(-self.log_prob(x[i:i + batch_size]).sum().item())
                            for i in range(0, len(x), batch_size))
        finally:
            self.train(was_training)
        return total / len(x)

    def sample(self, n, temperature=1.0):
        """n samples x = f^{-1}(z), z ~ N(0, temperature^2 I), as a float32 NumPy array."""
        with mg.no_grad():
            z = mg.randn(n, *self.z_shape, dtype=self.dtype, device=self.device) * temperature
            return self.inverse(z).numpy().astype(np.float32)

    def trajectory(self, x):
        """[x, f_1(x), f_2(f_1(x)), ..., z] as NumPy arrays: data pushed to z, layer by layer."""
        with mg.no_grad():
            h = self._as_input(x)
            steps = [h.numpy()]
            for layer in self.layers:
                h, _ = layer(h)
                steps.append(h.numpy())
        return steps

    def inverse_trajectory(self, z):
        """[z, ..., x]: base samples pushed back to data space, layer by layer."""
        with mg.no_grad():
            h = mg.tensor(np.asarray(z), dtype=self.dtype, device=self.device)
            steps = [h.numpy()]
            for layer in reversed(self.layers):
                h = layer.inverse(h)
                steps.append(h.numpy())
        return steps
