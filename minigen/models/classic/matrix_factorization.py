"""Matrix factorisation of a ratings matrix with missing entries (L6.2).

A ratings matrix ``R`` (users x items) is mostly empty: each user rated a few items. The
latent-factor idea: every user ``i`` has a short vector of tastes ``u_i`` and every item
``j`` a vector of properties ``v_j`` (both of length ``k``, the *rank*), and a rating is
their agreement::

    R_ij  ~  mu + b_i + c_j + u_i . v_j           (R ~ U V^T plus offsets, a rank-k matrix)

Two ways to fit it, both here:

* :class:`SVDImputer` -- fill the holes with the item (column) means, then keep the best
  rank-``k`` approximation of the filled matrix, given by the truncated SVD (Eckart-Young).
  Quick, but the filled-in means pull every prediction towards the average. With
  ``n_iter > 1`` it repeats: refill the holes with the current reconstruction and take
  the SVD again ("hard impute"), which removes most of that bias.
* :class:`LatentFactorModel` -- fit ``mu, b, c, U, V`` by gradient descent on the squared
  error of the **observed entries only**, with L2 regularisation, using the minigen engine
  (``loss.backward()`` computes every gradient; nothing is hand-derived).

Missing entries are NaN throughout: ``fit(R)`` learns from the non-NaN entries, and
``rmse(R_test)`` evaluates on the non-NaN entries of a test matrix of the same shape.
"""

from __future__ import annotations

import numpy as np

from ._base import BaseEstimator, check_array, check_random_state


def _check_ratings(R, name="R", shape=None) -> tuple[np.ndarray, np.ndarray]:
    """Validate a ratings matrix (NaN = missing); return ``(R, observed mask)``."""
    R = check_array(R, name, allow_nan=True)
    if shape is not None and R.shape != shape:
        raise ValueError(f"{name} has shape {R.shape}, but the model was fitted on shape {shape}")
    observed = ~np.isnan(R)
    if not observed.any():
        raise ValueError(f"{name} has no observed (non-NaN) entries")
    return R, observed


class _MatrixCompletion(BaseEstimator):
    """Shared prediction / evaluation for models that produce a full matrix ``prediction_``."""

    _fitted_attr = "shape_"

    def complete(self) -> np.ndarray:
        """The full predicted matrix (every entry, observed or not)."""
        self._check_fitted()
        return self._full_prediction()

    def predict(self, rows, cols) -> np.ndarray:
        """Predicted ratings for the pairs ``(rows[t], cols[t])``."""
        self._check_fitted()
        rows, cols = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
        if rows.shape != cols.shape:
            raise ValueError(f"rows and cols must have the same shape, got {rows.shape} and {cols.shape}")
        n, m = self.shape_
        if rows.size and (rows.min() < 0 or rows.max() >= n or cols.min() < 0 or cols.max() >= m):
            raise ValueError(f"indices out of range for a {n}x{m} matrix")
        return self._predict_pairs(rows, cols)

    def _predict_pairs(self, rows, cols):
        return self._full_prediction()[rows, cols]

    def rmse(self, R) -> float:
        """Root-mean-square error on the observed (non-NaN) entries of ``R``."""
        self._check_fitted()
        R, observed = _check_ratings(R, "R", self.shape_)
        rows, cols = np.nonzero(observed)
        err = self._predict_pairs(rows, cols) - R[rows, cols]
        return float(np.sqrt(np.mean(err ** 2)))


# ====================================================================== SVD with imputation
class SVDImputer(_MatrixCompletion):
    """Truncated SVD of the mean-imputed ratings matrix, optionally iterated.

    Each pass: ``F = R`` on observed entries and the current guess elsewhere (the column
    means at the start); centre by the column means ``m``; take the thin SVD
    ``F - m = U S V^T``; the prediction is ``m + U_k S_k V_k^T``. With ``n_iter > 1`` the
    guess for the missing entries becomes that prediction and the pass repeats.

    Attributes: ``column_means_``, ``user_factors_`` = ``U_k sqrt(S_k)`` ``(n, k)``,
    ``item_factors_`` = ``V_k sqrt(S_k)`` ``(m, k)``, ``singular_values_``, ``shape_``.
    """

    def __init__(self, rank: int = 10, n_iter: int = 1):
        if int(rank) < 1:
            raise ValueError(f"rank must be >= 1, got {rank}")
        if int(n_iter) < 1:
            raise ValueError(f"n_iter must be >= 1, got {n_iter}")
        self.rank = int(rank)
        self.n_iter = int(n_iter)

    def fit(self, R, y=None) -> "SVDImputer":
        R, observed = _check_ratings(R)
        if self.rank > min(R.shape):
            raise ValueError(f"rank={self.rank} exceeds min(R.shape)={min(R.shape)}")
        # column means over observed entries; an empty column falls back to the global mean
        counts = observed.sum(axis=0)
        sums = np.where(observed, R, 0.0).sum(axis=0)
        global_mean = sums.sum() / counts.sum()
        col_means = np.where(counts > 0, sums / np.maximum(counts, 1), global_mean)

        guess = np.broadcast_to(col_means, R.shape)
        for _ in range(self.n_iter):
            filled = np.where(observed, R, guess)
            means = filled.mean(axis=0)
            U, S, Vt = np.linalg.svd(filled - means, full_matrices=False)
            k = self.rank
            guess = means + (U[:, :k] * S[:k]) @ Vt[:k]      # best rank-k fit (Eckart-Young)

        root_s = np.sqrt(S[:k])
        self.column_means_ = means
        self.user_factors_ = U[:, :k] * root_s
        self.item_factors_ = Vt[:k].T * root_s
        self.singular_values_ = S[:k]
        self.shape_ = R.shape
        return self

    def _full_prediction(self):
        return self.column_means_ + self.user_factors_ @ self.item_factors_.T

    def _predict_pairs(self, rows, cols):
        return self.column_means_[cols] + np.sum(self.user_factors_[rows] * self.item_factors_[cols], axis=1)


# ====================================================================== latent factors, by gradients
class LatentFactorModel(_MatrixCompletion):
    """``R_ij ~ mu + b_i + c_j + u_i . v_j`` trained with the minigen engine on observed entries.

    The loss on a mini-batch ``B`` of observed entries is::

        L = 1/|B| sum_{(i,j) in B} [ (mu + b_i + c_j + u_i . v_j - R_ij)^2 + reg (|u_i|^2 + |v_j|^2) ]

    The regulariser keeps rarely observed users/items near 0 instead of fitting their few
    ratings exactly. The gradients come from ``loss.backward()``: gathering ``U[rows]`` is an
    indexing op whose backward scatters (adds) the gradient into the rows that were used.

    Parameters
    ----------
    rank : latent dimension ``k``.
    reg : L2 strength on the factors.
    optimizer : ``"adam"`` or ``"sgd"``.
    lr : learning rate.
    n_epochs : passes over the observed entries.
    batch_size : entries per gradient step.
    init_scale : standard deviation of the initial factors.
    random_state : seed for initialisation and shuffling.

    Attributes: ``global_mean_``, ``user_bias_``, ``item_bias_``, ``user_factors_`` ``(n, k)``,
    ``item_factors_`` ``(m, k)``, ``history_`` (dicts with ``epoch``, ``train_rmse`` and, if
    ``R_val`` was given to ``fit``, ``val_rmse``), ``shape_``.
    """

    def __init__(self, rank: int = 10, reg: float = 0.05, optimizer: str = "adam", lr: float = 0.01,
                 n_epochs: int = 50, batch_size: int = 256, init_scale: float = 0.1, random_state=None):
        if int(rank) < 1:
            raise ValueError(f"rank must be >= 1, got {rank}")
        if optimizer not in ("adam", "sgd"):
            raise ValueError(f"optimizer must be 'adam' or 'sgd', got {optimizer!r}")
        if reg < 0 or lr <= 0:
            raise ValueError(f"need reg >= 0 and lr > 0, got reg={reg}, lr={lr}")
        self.rank = int(rank)
        self.reg = reg
        self.optimizer = optimizer
        self.lr = lr
        self.n_epochs = int(n_epochs)
        self.batch_size = int(batch_size)
        self.init_scale = init_scale
        self.random_state = random_state

    def fit(self, R, y=None, R_val=None, verbose: bool = False) -> "LatentFactorModel":
        """Mini-batch gradient descent on the observed entries of ``R``.

        ``R_val`` (same shape, NaN = not in the validation set) is only evaluated, after
        every epoch, into ``history_``.
        """
        import minigen as mg                                  # the engine: imported when needed
        import minigen.nn as nn
        import minigen.optim as optim

        R, observed = _check_ratings(R)
        rng = check_random_state(self.random_state)
        n, m = R.shape
        rows, cols = np.nonzero(observed)
        targets = R[rows, cols]
        self.shape_ = R.shape

        # mu is the mean observed rating, a constant (not learned): its gradient would be
        # ~|B| times larger than any row's, too different a scale for one SGD step size.
        # Biases start at 0 and factors small and random (all-zero factors would have zero
        # gradient: u_i . v_j is stationary at U = V = 0).
        mu = mg.tensor(np.array([targets.mean()]))
        b = nn.Parameter(np.zeros(n))
        c = nn.Parameter(np.zeros(m))
        U = nn.Parameter(self.init_scale * rng.standard_normal((n, self.rank)))
        V = nn.Parameter(self.init_scale * rng.standard_normal((m, self.rank)))
        params = [b, c, U, V]
        opt = (optim.Adam(params, lr=self.lr) if self.optimizer == "adam"
               else optim.SGD(params, lr=self.lr))

        self.history_ = []
        for epoch in range(self.n_epochs):
            order = rng.permutation(len(targets))
            for start in range(0, len(order), self.batch_size):
                batch = order[start:start + self.batch_size]
                i, j = rows[batch], cols[batch]
                loss = self._loss(mu, b, c, U, V, i, j, mg.tensor(targets[batch]))
                opt.zero_grad()
                loss.backward()
                opt.step()
            self._store(mu, params)
            record = {"epoch": epoch + 1, "train_rmse": self.rmse(R)}
            if R_val is not None:
                record["val_rmse"] = self.rmse(R_val)
            self.history_.append(record)
            if verbose:
                print(", ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in record.items()))
        return self

    def _loss(self, mu, b, c, U, V, i, j, r):
        """Mean over the batch of squared error plus ``reg (|u_i|^2 + |v_j|^2)`` -- an engine graph."""
        Ui, Vj = U[i], V[j]                                   # gather: backward scatters into rows i, j
        pred = mu + b[i] + c[j] + (Ui * Vj).sum(axis=1)
        sq_err = (pred - r) ** 2
        penalty = (Ui * Ui).sum(axis=1) + (Vj * Vj).sum(axis=1)
        return (sq_err + self.reg * penalty).mean()

    def _store(self, mu, params):
        """Copy the current parameter values out of the engine as plain NumPy arrays."""
        mu, b, c, U, V = (np.array(_to_numpy(p.data), dtype=np.float64) for p in [mu, *params])
        self.global_mean_ = float(mu[0])
        self.user_bias_, self.item_bias_ = b, c
        self.user_factors_, self.item_factors_ = U, V

    def _full_prediction(self):
        return (self.global_mean_ + self.user_bias_[:, None] + self.item_bias_[None, :]
                + self.user_factors_ @ self.item_factors_.T)

    def _predict_pairs(self, rows, cols):
        return (self.global_mean_ + self.user_bias_[rows] + self.item_bias_[cols]
                + np.sum(self.user_factors_[rows] * self.item_factors_[cols], axis=1))


def _to_numpy(a):
    """A parameter's array as NumPy (CuPy arrays are copied to the host)."""
    return a.get() if hasattr(a, "get") else a


# ====================================================================== synthetic data
def make_low_rank_ratings(n_rows: int = 300, n_cols: int = 200, rank: int = 5, noise: float = 0.5,
                          density: float = 0.3, test_fraction: float = 0.2, mean: float = 3.0,
                          random_state=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A synthetic ratings matrix: ``mean + U V^T + noise`` with most entries hidden.

    ``U`` ``(n_rows, rank)`` and ``V`` ``(n_cols, rank)`` have i.i.d. ``N(0, 1/sqrt(rank))``
    entries, so ``U V^T`` has unit variance per entry; ``noise`` is the standard deviation of
    the Gaussian noise -- the best achievable RMSE on held-out entries. A fraction
    ``density`` of the entries is observed; of those, ``test_fraction`` go to the test set.

    Returns ``(R_train, R_test, R_clean)``: train and test matrices with NaN where hidden,
    and the noise-free matrix ``mean + U V^T``.
    """
    rng = check_random_state(random_state)
    if not 0 < density <= 1 or not 0 <= test_fraction < 1:
        raise ValueError("need 0 < density <= 1 and 0 <= test_fraction < 1")
    scale = rank ** -0.25                                     # each factor entry: variance 1/sqrt(rank)
    U = scale * rng.standard_normal((n_rows, rank))
    V = scale * rng.standard_normal((n_cols, rank))
    clean = mean + U @ V.T
    noisy = clean + noise * rng.standard_normal(clean.shape)
    seen = rng.random(clean.shape) < density
    test = seen & (rng.random(clean.shape) < test_fraction)
    train = seen & ~test
    return np.where(train, noisy, np.nan), np.where(test, noisy, np.nan), clean
