"""Shared plumbing for the classic estimators: input checks, errors, random state.

Every estimator in :mod:`minigen.models.classic` follows the scikit-learn habits:

* ``fit(X[, y])`` learns the parameters and returns ``self``;
* learned attributes end with an underscore (``mean_``, ``components_``) and exist
  only after ``fit``;
* ``score(X)`` is the **average log-likelihood per sample** (nats), so "higher is
  better" and numbers are comparable across dataset sizes.

The checks here turn the usual deep NumPy broadcast errors into messages that name
the argument and what was wrong with it.
"""

from __future__ import annotations

import inspect

import numpy as np


class NotFittedError(RuntimeError):
    """Raised when a method that needs learned parameters is called before ``fit``."""


def check_random_state(seed) -> np.random.Generator:
    """Return a :class:`numpy.random.Generator` for ``seed``.

    ``None`` gives fresh OS entropy, an int (or SeedSequence) a reproducible stream,
    and an existing Generator is returned unchanged (so callers can share one).
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or isinstance(seed, (int, np.integer, np.random.SeedSequence)):
        return np.random.default_rng(seed)
    raise TypeError(f"random_state must be None, an int or a numpy Generator, got {type(seed).__name__}")


def check_array(X, name: str = "X", *, ndim: int = 2, allow_nan: bool = False,
                dtype=np.float64, min_rows: int = 1) -> np.ndarray:
    """Convert ``X`` to a float array and check its shape and values.

    Parameters
    ----------
    X : array-like
    name : how the argument is called in error messages.
    ndim : required number of dimensions (2 for a data matrix ``(n_samples, n_features)``).
    allow_nan : whether NaN entries are allowed (they mark missing values in the
        methods that can handle them); +-inf is never allowed.
    min_rows : the smallest allowed number of rows.
    """
    if isinstance(X, (str, bytes)) or X is None:
        raise TypeError(f"{name} must be an array of numbers, got {type(X).__name__}")
    arr = np.asarray(X)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name} must hold numbers, got dtype {arr.dtype}")
    arr = arr.astype(dtype, copy=False)
    if arr.ndim != ndim:
        hint = " (use X.reshape(-1, 1) for a single feature or X[None] for a single sample)" if ndim == 2 else ""
        raise ValueError(f"{name} must be {ndim}-D, got shape {arr.shape}{hint}")
    if arr.shape[0] < min_rows:
        raise ValueError(f"{name} needs at least {min_rows} row(s), got shape {arr.shape}")
    if np.issubdtype(arr.dtype, np.floating):
        if np.isinf(arr).any():
            raise ValueError(f"{name} contains infinite values")
        if not allow_nan and np.isnan(arr).any():
            raise ValueError(f"{name} contains NaN; this method does not accept missing values")
    return arr


def check_n_features(X: np.ndarray, expected: int, name: str = "X") -> None:
    """Raise if ``X`` does not have the number of columns seen during ``fit``."""
    if X.shape[1] != expected:
        raise ValueError(f"{name} has {X.shape[1]} features, but the model was fitted with {expected}")


def check_mask(X: np.ndarray, mask, name: str = "X") -> tuple[np.ndarray, np.ndarray]:
    """Return ``(X_filled, observed)`` for methods that accept missing features.

    Missing entries are given either by ``mask`` (a boolean array shaped like ``X``,
    True where the value is **observed**) or, when ``mask`` is None, by NaNs in ``X``.
    ``X_filled`` has the missing entries replaced by 0 so that they can be multiplied
    by the mask without producing NaN (0 * NaN is NaN in IEEE arithmetic).
    """
    if mask is None:
        observed = ~np.isnan(X)
    else:
        observed = np.asarray(mask)
        if observed.dtype != bool:
            raise TypeError(f"mask must be boolean (True = observed), got dtype {observed.dtype}")
        if observed.shape != X.shape:
            raise ValueError(f"mask has shape {observed.shape}, but {name} has shape {X.shape}")
        if np.isnan(X[observed]).any():
            raise ValueError(f"{name} has NaN at positions the mask marks as observed")
    return np.where(observed, X, 0.0), observed


def check_labels(y, n_samples: int) -> np.ndarray:
    """Check a label vector: 1-D, one label per sample, no NaN."""
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D, got shape {y.shape}")
    if y.shape[0] != n_samples:
        raise ValueError(f"X has {n_samples} samples but y has {y.shape[0]} labels")
    if np.issubdtype(y.dtype, np.floating) and np.isnan(y).any():
        raise ValueError("y contains NaN")
    return y


class BaseEstimator:
    """Tiny base class: a readable ``repr`` and a fitted-state check.

    Hyper-parameters are the arguments of ``__init__`` stored under the same names;
    learned parameters end with ``_`` and are set by ``fit``.
    """

    #: the attribute that ``fit`` always sets; its presence means "fitted"
    _fitted_attr: str = ""

    def get_params(self) -> dict:
        """The hyper-parameters, read back from the ``__init__`` signature."""
        sig = inspect.signature(type(self).__init__)
        return {k: getattr(self, k) for k in sig.parameters if k != "self" and hasattr(self, k)}

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"

    def _check_fitted(self) -> None:
        if not hasattr(self, self._fitted_attr):
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet; call fit(...) before using this method")
