"""MADE: masked autoencoder for distribution estimation (Germain et al. 2015).

An MLP x -> h^1 -> ... -> h^L -> logits whose weights are masked so that logit d sees
only the inputs before d in an order.  Give every unit a *degree*:

    inputs:   m^0(d) = the position of pixel d in the order      (1..D)
    hidden:   m^l(k) ~ U{ min_k' m^{l-1}(k'), ..., D - 1 }        (drawn at random)

and keep a connection only where it cannot carry information from "later" to "earlier":

    hidden layer l:  M^l[k, k'] = 1  if  m^l(k) >= m^{l-1}(k')
    output layer:    M^o[d, k]  = 1  if  m^0(d) >  m^L(k)          (strict: d must not see x_d)

A unit of degree m depends only on inputs of degree <= m, so output d depends only on
the inputs of degree < m^0(d): the autoregressive property, checked in the tests by the
Jacobian d logit_d / d x.  One forward pass gives all D conditionals.

Several masks (``num_masks`` = K): each mask k draws its own hidden degrees (and, with
``order='random'``, its own input order), from a seed, so mask k is the same every time.
Training cycles through them (``next_mask()`` every step): *order-agnostic* (random
orders) or *connectivity-agnostic* (natural order) training, one network shared by K
autoregressive models p_k(x).  At test time the ensemble is the mixture

    p(x) = (1/K) sum_k p_k(x),   log p(x) = logsumexp_k log p_k(x) - log K,

an average of *probabilities*, taken in log space.  Averaging the K logits instead (as
a popular reference implementation does) is not a likelihood at all: with different
orders the averaged logit of pixel d depends on pixels after d, and the result does not
sum to one (a test shows it).
"""
from __future__ import annotations

import math

import numpy as np

import minigen as mg
import minigen.nn as nn

from .base import AutoregressiveModel

__all__ = ["MADE", "made_degrees", "made_masks"]


def made_degrees(num_inputs, hidden, order="natural", seed=0, mask_index=0):
    """The degrees [m^0, m^1, ..., m^L] of one mask (NumPy int arrays), reproducible from
    (seed, mask_index).  order: 'natural' (1..D) or 'random' (a permutation per mask)."""
    if order not in ("natural", "random"):
        raise ValueError(f"order must be 'natural' or 'random', got {order!r}")
    rng = np.random.default_rng([seed, mask_index])
    d = num_inputs
    if order == "natural":
        m0 = np.arange(1, d + 1)
    else:
        m0 = np.empty(d, dtype=np.int64)
        m0[rng.permutation(d)] = np.arange(1, d + 1)
    degrees = [m0]
    for width in hidden:
        low = min(int(degrees[-1].min()), d - 1)
        degrees.append(rng.integers(low, d, size=width))     # U{low, ..., D-1}
    return degrees


def made_masks(degrees):
    """The 0/1 masks (out, in) of every layer from the degrees of :func:`made_degrees`."""
    masks = [(later[:, None] >= earlier[None, :]) for earlier, later in zip(degrees[:-1], degrees[1:])]
    masks.append(degrees[0][:, None] > degrees[-1][None, :])                    # output: strict
    return [m.astype(np.float32) for m in masks]


class MADE(AutoregressiveModel):
    """MADE over D binary inputs with hidden layers ``hidden`` (ReLU) and K masks.

    ``event_shape``: the shape of one example, (D,) by default; (1, 28, 28) also works
    (images are flattened in raster order).
    """

    def __init__(self, num_inputs=784, hidden=(500,), num_masks=1, order="natural", seed=0,
                 event_shape=None):
        super().__init__()
        if num_masks < 1:
            raise ValueError(f"num_masks must be at least 1, got {num_masks}")
        self.event_shape = tuple(event_shape) if event_shape is not None else (int(num_inputs),)
        if self.num_dims != num_inputs:
            raise ValueError(f"event_shape {self.event_shape} does not hold {num_inputs} inputs")
        self.hidden, self.num_masks = tuple(int(h) for h in hidden), int(num_masks)
        self.order_kind, self.seed = order, int(seed)
        widths = (num_inputs,) + self.hidden + (num_inputs,)
        self.layers = nn.ModuleList([nn.MaskedLinear(a, b) for a, b in zip(widths[:-1], widths[1:])])
        # the input degrees of the mask in use: state, so a loaded model knows its order
        self.register_buffer("input_degrees", np.zeros(num_inputs, dtype=np.int64))
        self.mask_index = 0
        self.set_mask(0)

    @property
    def order(self):
        """Flat pixel indices by increasing degree: the order of the mask in use."""
        return np.argsort(self.input_degrees, kind="stable")

    def set_mask(self, k):
        """Use mask k (0 <= k < num_masks) from now on; returns self."""
        if not 0 <= k < self.num_masks:
            raise ValueError(f"mask index {k} outside 0..{self.num_masks - 1}")
        degrees = made_degrees(self.num_dims, self.hidden, self.order_kind, self.seed, k)
        for layer, mask in zip(self.layers, made_masks(degrees)):
            layer.set_mask(mask)
        self.input_degrees = degrees[0]
        self.mask_index = k
        return self

    def next_mask(self):
        """Move to the next mask (cyclically): call once per training step."""
        return self.set_mask((self.mask_index + 1) % self.num_masks)

    def logits(self, x):
        n = len(x)
        h = x.reshape(n, -1)
        for i, layer in enumerate(self.layers):
            h = layer(h)
            if i < len(self.layers) - 1:
                h = mg.relu(h)
        return h.reshape((n,) + self.event_shape)

    def log_prob_ensemble(self, x, masks=None):
        """log (1/K) sum_k p_k(x) per example over the masks ``masks`` (default: all K):
        the log of the mean of the probabilities (logsumexp), never a mean of logits."""
        masks = list(range(self.num_masks)) if masks is None else list(masks)
        current = self.mask_index
        try:
            per_mask = [self.set_mask(k).log_prob(x) for k in masks]
        finally:
            self.set_mask(current)
        return mg.logsumexp(mg.stack(per_mask, axis=0), axis=0) - math.log(len(masks))

    def sample_ensemble(self, n):
        """n samples of the mixture (1/K) sum_k p_k: each image picks its mask k uniformly
        (minigen's RNG), then is drawn pixel by pixel in that mask's order."""
        ks = mg.randint(0, self.num_masks, (n,)).numpy()
        out = np.zeros((n,) + self.event_shape, dtype=np.float32)
        current = self.mask_index
        try:
            for k in np.unique(ks):
                out[ks == k] = self.set_mask(int(k)).sample(int((ks == k).sum()))
        finally:
            self.set_mask(current)
        return out

    def evaluate_nll_ensemble(self, x, masks=None, batch_size=500):
        """Mean test NLL (nats) of the mixture over masks, without a graph."""
        with mg.no_grad():
            total = sum(float(-self.log_prob_ensemble(x[i:i + batch_size], masks).sum().item())
                        for i in range(0, len(x), batch_size))
        return total / len(x)

    def extra_repr(self):
        return (f"D={self.num_dims}, hidden={self.hidden}, num_masks={self.num_masks}, "
                f"order={self.order_kind!r}")
