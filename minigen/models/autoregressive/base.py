"""What every autoregressive model of binary data shares: the likelihood, sampling, and
exact conditionals.

An autoregressive model writes the joint as a product of one-dimensional conditionals
in a fixed order o(1), ..., o(D) of the D pixels (the chain rule, no approximation):

    log p(x) = sum_d log p(x_o(d) | x_o(1), ..., x_o(d-1)),
    p(x_o(d) = 1 | x_<d) = sigmoid(l_o(d)(x)),

where the network's logit l_o(d) may depend only on the pixels before o(d) in the order
(masked weights make sure of it).  Each conditional is a Bernoulli, so

    log p(x) = sum_d [x_d l_d - softplus(l_d)] = -sum_d BCE_with_logits(l_d, x_d)

is computed in one forward pass, exactly, in nats -- no bound, no sampling.  A subclass
gives :meth:`logits` (same shape as x) and ``order`` (flat pixel indices); this class
does the rest:

* :meth:`log_prob` (per example, nats), :meth:`loss` (mean NLL, for training);
* :meth:`sample`: pixel by pixel, D forward passes (slow -- the price of exactness);
* :meth:`complete`: sample the missing pixels given observed ones that come *first* in
  the order.  Then p(x_m | x_o) = prod_{d missing} p(x_d | x_<d) is the model's exact
  conditional: nothing is approximated, unlike a VAE's in-painting.
"""
from __future__ import annotations

import abc

import numpy as np

import minigen as mg
import minigen.functional as F
import minigen.nn as nn

__all__ = ["AutoregressiveModel", "check_binary", "bottom_half_missing"]


def check_binary(x, event_shape, model_name):
    """x must be (N, *event_shape) with values in {0, 1}; a clear error otherwise."""
    shape = tuple(x.shape)
    if shape[1:] != tuple(event_shape):
        raise ValueError(f"{model_name} models inputs of shape (N, {', '.join(map(str, event_shape))}); "
                         f"got {shape}")
    data = x.data if isinstance(x, mg.Tensor) else x
    xp = mg.get_array_module(data)
    if not bool(xp.all((data == 0) | (data == 1))):
        raise ValueError(f"{model_name} is a Bernoulli model: pixels must be 0 or 1 (binarise the "
                         f"images first, e.g. minigen.data.binarize_dynamic); got values in "
                         f"[{float(data.min()):g}, {float(data.max()):g}]")


def bottom_half_missing(n, side=28):
    """Boolean (n, side*side), True where observed: the top half is seen, the bottom half
    is missing.  In raster order the observed pixels all come first, so an autoregressive
    model's conditional p(bottom | top) is exact."""
    observed = np.zeros((n, side, side), dtype=bool)
    observed[:, :side // 2, :] = True
    return observed.reshape(n, side * side)


class AutoregressiveModel(nn.Module, abc.ABC):
    """Base class; subclasses set ``event_shape`` and ``order`` and define ``logits(x)``
    (abstract: a subclass without it cannot be built)."""

    event_shape: tuple = ()
    order: np.ndarray           # flat pixel indices in the order the model generates them

    @property
    def num_dims(self):
        return int(np.prod(self.event_shape))

    @property
    def device(self):
        return next(iter(self.parameters())).device

    @property
    def dtype(self):
        return next(iter(self.parameters())).dtype

    @abc.abstractmethod
    def logits(self, x):
        """Logits l (same shape as x) with l_d a function of the pixels before d only."""

    def _as_input(self, x):
        if not isinstance(x, mg.Tensor):
            x = mg.tensor(np.asarray(x), dtype=self.dtype, device=self.device)
        check_binary(x, self.event_shape, type(self).__name__)
        return x

    def log_prob(self, x):
        """log p(x) per example (N,), in nats: the exact sum of the D conditionals."""
        x = self._as_input(x)
        per_pixel = -F.binary_cross_entropy_with_logits(self.logits(x), x, reduction="none")
        return per_pixel.reshape(len(x), -1).sum(axis=1)

    def loss(self, x):
        """The training loss: mean negative log-likelihood, nats per example."""
        return -self.log_prob(x).mean()

    def evaluate_nll(self, x, batch_size=500):
        """Mean test NLL (nats per example) of a NumPy array, without a graph."""
        with mg.no_grad():
            total = sum(float(-self.log_prob(x[i:i + batch_size]).sum().item())
                        for i in range(0, len(x), batch_size))
        return total / len(x)

    # -- generation -------------------------------------------------------------------------
    def conditional_logit(self, x, d):
        """The logit of flat pixel d, (N,), for the current x (pixels before d already set).
        One full forward pass here; PixelCNN overrides it to look only at the rows it needs."""
        return self.logits(x).reshape(len(x), -1)[:, d]

    def sample(self, n, frames=0):
        """n samples, shaped (n, *event_shape) float32 NumPy, drawn pixel by pixel.
        With ``frames`` > 0 also returns that many snapshots of the images filling in
        (for a GIF)."""
        x = np.zeros((n, self.num_dims), dtype=np.float32)
        observed = np.zeros_like(x, dtype=bool)
        samples, _, shots = self._fill(x, observed, frames)
        return (samples, shots) if frames else samples

    def complete(self, x, observed, frames=0):
        """Draw the missing pixels of x given the observed ones, exactly from p(x_m | x_o).

        x: (N, *event_shape) binary NumPy; observed: bool, same number of pixels per row,
        True where seen.  The observed pixels of each row must come first in the model's
        order (else the conditional would need a sum over the unseen pixels before them).
        Returns (completed images, probabilities): the second array holds, at each missing
        pixel, p(x_d = 1 | x_<d) of the completion drawn, and the observed value elsewhere;
        averaged over several completions it estimates E[x_m | x_o] with less noise than
        the binary draws (Rao-Blackwellisation).  With ``frames`` > 0 a third item: the
        snapshots of the filling in.
        """
        x = np.asarray(x, dtype=np.float32).reshape(len(x), -1)
        observed = np.asarray(observed, dtype=bool).reshape(len(x), -1)
        check_binary(x.reshape((len(x),) + tuple(self.event_shape)), self.event_shape,
                     type(self).__name__)
        seen_in_order = observed[:, self.order]
        count = seen_in_order.sum(axis=1)
        prefix = np.arange(self.num_dims)[None, :] < count[:, None]
        if not np.array_equal(seen_in_order, prefix):
            raise ValueError("complete(): the observed pixels must come first in the model's "
                             "order (for raster order: whole rows from the top, then a left part "
                             "of the next row); other masks have no exact conditional here")
        completed, probs, shots = self._fill(x, observed, frames)
        return (completed, probs, shots) if frames else (completed, probs)

    def _fill(self, x, observed, frames):
        """Sample, in the model's order, every pixel that is not observed (NumPy in, out)."""
        x = x.copy()
        probs = x.copy()
        n, shape = len(x), (len(x),) + tuple(self.event_shape)
        start = int(observed[:, self.order].sum(axis=1).min()) if n else 0
        todo_positions = list(range(start, self.num_dims))
        snapshot_at = set(np.linspace(0, len(todo_positions) - 1, frames).round().astype(int)) \
            if frames else set()
        shots = []
        was_training = self.training
        self.eval()
        try:
            with mg.no_grad():
                current = mg.tensor(x.reshape(shape), dtype=self.dtype, device=self.device)
                for step, position in enumerate(todo_positions):
                    d = int(self.order[position])
                    todo = ~observed[:, d]
                    if todo.any():
                        p = mg.sigmoid(self.conditional_logit(current, d)).numpy().astype(np.float32)
                        u = mg.rand(n, dtype=np.float32).numpy()
                        draw = (u < p).astype(np.float32)
                        x[todo, d] = draw[todo]
                        probs[todo, d] = p[todo]
                        current = mg.tensor(x.reshape(shape), dtype=self.dtype, device=self.device)
                    if step in snapshot_at:
                        shots.append(x.reshape(shape).copy())
        finally:
            self.train(was_training)
        return x.reshape(shape), probs.reshape(shape), shots
