"""The explicit joint probability table over a small grid of binary pixels (L6.1).

A grid of ``d`` binary pixels has ``2**d`` possible images ("states"). The most
direct generative model stores one probability per state::

    p(x) = theta[s(x)],        s(x) = the state index of image x,   sum_s theta[s] = 1

Fitting by maximum likelihood is counting; with Laplace (add-alpha) smoothing::

    theta[s] = (count[s] + alpha) / (n + alpha * 2**d)

so that states never seen in training keep a small, non-zero probability.

Everything else is exact because the table *is* the distribution:

* sampling: draw a state index from the categorical ``theta``;
* marginals: sum the table over the pixels you do not care about;
* in-painting: given observed pixels ``o``, the missing pixels ``m`` follow
  ``p(x_m | x_o) = p(x_m, x_o) / sum_{x_m'} p(x_m', x_o)`` -- slice the table at the
  observed values and renormalise.

The catch (the point of the lecture): ``2**d - 1`` free parameters. A 2x2 grid needs
15, a 4x4 grid 65 535, and a 28x28 image ``2**784 - 1`` (about 1e236) -- more than
there are atoms in the universe, and no dataset could ever fill the table.

State indexing: pixel ``j`` (row-major reading order) is bit ``d-1-j`` of the index,
so ``theta.reshape((2,) * d)`` is the same table with one axis per pixel -- axis ``j``
is pixel ``j``. We use that view for marginals and conditionals.
"""

from __future__ import annotations

import numpy as np

from ._base import BaseEstimator, check_array, check_mask, check_random_state

#: the largest number of pixels we agree to tabulate (2**24 doubles = 128 MiB)
MAX_PIXELS = 24


def n_parameters(n_pixels: int) -> int:
    """Free parameters of the full joint table over ``n_pixels`` binary pixels: ``2**d - 1``.

    Returns a Python int, exact even for 784 pixels (a 237-digit number).
    """
    return 2 ** int(n_pixels) - 1


def states_to_index(X: np.ndarray) -> np.ndarray:
    """Map binary rows ``(n, d)`` to their state index ``sum_j x_j * 2**(d-1-j)``."""
    d = X.shape[1]
    weights = 2 ** np.arange(d - 1, -1, -1, dtype=np.int64)   # big-endian: pixel 0 is the top bit
    return X.astype(np.int64) @ weights


def index_to_states(index: np.ndarray, n_pixels: int) -> np.ndarray:
    """Inverse of :func:`states_to_index`: state indices -> binary rows ``(n, d)``."""
    index = np.asarray(index, dtype=np.int64)
    shifts = np.arange(n_pixels - 1, -1, -1, dtype=np.int64)
    return ((index[:, None] >> shifts) & 1).astype(np.float64)


class BinaryJointTable(BaseEstimator):
    """Full joint distribution of a small binary image, stored as a table of ``2**d`` numbers.

    Parameters
    ----------
    shape : (height, width) of the pixel grid, e.g. ``(2, 2)``; an int means ``(1, d)``.
    alpha : Laplace smoothing pseudo-count added to every state (0 gives the raw MLE).

    Attributes (after ``fit``)
    --------------------------
    counts_ : (2**d,) how often each state occurred in the training data.
    probs_ : (2**d,) the fitted table ``theta``; sums to 1.
    n_samples_ : number of training images.

    Data layout: ``X`` is ``(n, height * width)`` in row-major order or ``(n, height, width)``;
    entries must be 0 or 1 (use ``X > 0.5`` to binarise grey images).
    """

    _fitted_attr = "probs_"

    def __init__(self, shape=(2, 2), alpha: float = 1.0):
        if isinstance(shape, (int, np.integer)):
            shape = (1, int(shape))
        shape = tuple(int(s) for s in shape)
        if len(shape) != 2 or min(shape) < 1:
            raise ValueError(f"shape must be (height, width) with positive sizes, got {shape}")
        d = shape[0] * shape[1]
        if d > MAX_PIXELS:
            raise ValueError(
                f"a {shape[0]}x{shape[1]} grid has {d} pixels, i.e. 2**{d} states and "
                f"{n_parameters(d):.3e} free parameters; the explicit table is limited to "
                f"{MAX_PIXELS} pixels (that is exactly the lecture's point: it does not scale)")
        if alpha < 0:
            raise ValueError(f"alpha must be >= 0, got {alpha}")
        self.shape = shape
        self.alpha = alpha

    # ------------------------------------------------------------------ sizes
    @property
    def n_pixels(self) -> int:
        return self.shape[0] * self.shape[1]

    @property
    def n_states(self) -> int:
        return 2 ** self.n_pixels

    @property
    def states(self) -> np.ndarray:
        """All ``2**d`` binary images as rows, in state-index order."""
        return index_to_states(np.arange(self.n_states), self.n_pixels)

    # ------------------------------------------------------------------ input
    def _check_binary(self, X, name="X", allow_nan=False) -> np.ndarray:
        X = np.asarray(X) if not isinstance(X, np.ndarray) else X
        if getattr(X, "ndim", 0) == 3:                      # (n, h, w) images -> (n, d) rows
            if X.shape[1:] != self.shape:
                raise ValueError(f"{name} has images of shape {X.shape[1:]}, expected {self.shape}")
            X = X.reshape(len(X), -1)
        X = check_array(X, name, allow_nan=allow_nan)
        if X.shape[1] != self.n_pixels:
            raise ValueError(f"{name} has {X.shape[1]} pixels per row, expected {self.n_pixels} "
                             f"for a {self.shape[0]}x{self.shape[1]} grid")
        values = X[~np.isnan(X)]
        if not np.isin(values, (0.0, 1.0)).all():
            raise ValueError(f"{name} must be binary (0/1); binarise grey values first, e.g. X > 0.5")
        return X

    # ------------------------------------------------------------------ fitting
    def fit(self, X, y=None) -> "BinaryJointTable":
        """Count the states and smooth: ``theta_s = (count_s + alpha) / (n + alpha * 2**d)``."""
        X = self._check_binary(X)
        counts = np.bincount(states_to_index(X), minlength=self.n_states).astype(np.float64)
        total = counts.sum() + self.alpha * self.n_states
        if total == 0:
            raise ValueError("no data and alpha == 0: the table is undefined")
        self.counts_ = counts
        self.probs_ = (counts + self.alpha) / total
        self.n_samples_ = X.shape[0]
        return self

    # ------------------------------------------------------------------ densities
    def log_prob(self, X) -> np.ndarray:
        """``log p(x)`` of each complete binary image (a table look-up)."""
        self._check_fitted()
        X = self._check_binary(X)
        with np.errstate(divide="ignore"):                  # alpha = 0 allows log(0) = -inf
            return np.log(self.probs_[states_to_index(X)])

    def score(self, X, y=None) -> float:
        """Average log-likelihood per image, in nats."""
        return float(np.mean(self.log_prob(X)))

    def sample(self, n: int = 1, random_state=None) -> np.ndarray:
        """Draw ``n`` images ``(n, d)``: pick state indices from the categorical table."""
        self._check_fitted()
        rng = check_random_state(random_state)
        index = rng.choice(self.n_states, size=int(n), p=self.probs_)
        return index_to_states(index, self.n_pixels)

    # ------------------------------------------------------------------ marginals
    def table(self) -> np.ndarray:
        """The fitted table viewed with one axis per pixel: shape ``(2,) * d``."""
        self._check_fitted()
        return self.probs_.reshape((2,) * self.n_pixels)

    def marginal(self, pixels) -> np.ndarray:
        """Joint distribution of the given pixels, summing out all others.

        ``p(x_A) = sum_{x_B} p(x_A, x_B)``; returns an array of shape ``(2,) * len(pixels)``
        whose axes follow the order of ``pixels``.
        """
        pixels = self._check_pixels(pixels)
        others = tuple(j for j in range(self.n_pixels) if j not in pixels)
        marg = self.table().sum(axis=others)                 # axes left: sorted(pixels)
        order = np.argsort(np.argsort(pixels))               # put them in the caller's order
        return np.transpose(marg, axes=order) if len(pixels) > 1 else marg

    def pixel_marginals(self) -> np.ndarray:
        """``p(x_j = 1)`` for every pixel ``j``: the first moments of the table."""
        self._check_fitted()
        return self.probs_ @ self.states

    def _check_pixels(self, pixels) -> list[int]:
        pixels = [int(p) for p in np.atleast_1d(pixels)]
        if len(set(pixels)) != len(pixels):
            raise ValueError(f"pixels must be distinct, got {pixels}")
        bad = [p for p in pixels if not 0 <= p < self.n_pixels]
        if bad:
            raise ValueError(f"pixel indices {bad} out of range 0..{self.n_pixels - 1}")
        return pixels

    # ------------------------------------------------------------------ in-painting
    def conditional(self, x, mask=None) -> tuple[np.ndarray, np.ndarray]:
        """Exact distribution of the missing pixels of one partial image.

        ``x`` is one image of length ``d`` whose missing pixels are NaN (or given by
        ``mask``, True = observed). Returns ``(missing, table)`` where ``missing`` lists
        the missing pixel indices and ``table`` has shape ``(2,) * len(missing)``::

            p(x_m | x_o) = p(x_m, x_o) / p(x_o)

        i.e. the joint table sliced at the observed values, renormalised.
        """
        self._check_fitted()
        x = np.asarray(x, dtype=np.float64).reshape(1, -1)
        mask = None if mask is None else np.asarray(mask).reshape(1, -1)
        x = self._check_binary(x, "x", allow_nan=True)
        x, observed = check_mask(x, mask, "x")
        x, observed = x[0], observed[0]
        # slice every observed axis at its value; ':' keeps the missing axes
        index = tuple(int(x[j]) if observed[j] else slice(None) for j in range(self.n_pixels))
        joint = self.table()[index]
        evidence = joint.sum()                               # p(x_o)
        if evidence == 0:
            raise ValueError("the observed pixels have probability 0 under the table (alpha = 0?)")
        return np.flatnonzero(~observed), joint / evidence

    def inpaint(self, X, mask=None, method: str = "map", random_state=None) -> np.ndarray:
        """Fill the missing pixels of each row from ``p(x_missing | x_observed)``.

        method : ``"map"`` the most probable completion, ``"sample"`` a random draw,
                 ``"mean"`` the conditional probability ``p(x_j = 1 | x_observed)`` of each
                 missing pixel (a grey value).
        """
        if method not in ("map", "sample", "mean"):
            raise ValueError(f"method must be 'map', 'sample' or 'mean', got {method!r}")
        self._check_fitted()
        rng = check_random_state(random_state)
        X = self._check_binary(X, allow_nan=True)
        _, observed = check_mask(X, mask)
        out = np.where(observed, X, 0.0)
        for i in range(X.shape[0]):
            if observed[i].all():
                continue
            missing, cond = self.conditional(out[i], observed[i])
            flat = cond.ravel()                              # completions in state order
            completions = index_to_states(np.arange(flat.size), len(missing))
            if method == "map":
                out[i, missing] = completions[np.argmax(flat)]
            elif method == "sample":
                out[i, missing] = completions[rng.choice(flat.size, p=flat / flat.sum())]
            else:
                out[i, missing] = flat @ completions
        return out
