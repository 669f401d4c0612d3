"""Latent Dirichlet Allocation: documents as mixtures of topics (L6.2).

The generative story (Blei, Ng & Jordan, 2003), for ``K`` topics over a vocabulary of ``V`` words:

* each topic ``k`` is a distribution over words, ``beta_k ~ Dirichlet(eta)``;
* each document ``d`` draws its topic proportions ``theta_d ~ Dirichlet(alpha)``;
* each word of the document first picks a topic ``z ~ Categorical(theta_d)`` and then the
  word ``w ~ Categorical(beta_z)``.

So ``p(w | d) = sum_k theta_dk beta_kw``: the latent space is the simplex of topic mixtures.

The exact posterior over ``(theta, z, beta)`` is intractable. We fit it by **mean-field
variational Bayes** (variational EM): approximate it by independent factors
``q(theta_d) = Dir(gamma_d)``, ``q(z_dn) = Cat(phi_dn)``, ``q(beta_k) = Dir(lambda_k)`` and
alternate closed-form coordinate updates (``psi`` is the digamma function, and
``E[log theta_dk] = psi(gamma_dk) - psi(sum_k gamma_dk)``, likewise for ``beta``):

E-step, per document, iterate to convergence::

    phi_dwk  proportional to  exp(E[log theta_dk] + E[log beta_kw])
    gamma_dk = alpha + sum_w n_dw phi_dwk

M-step, over the corpus::

    lambda_kw = eta + sum_d n_dw phi_dwk

Since all words of the same type in a document share ``phi``, we work with the count
matrix ``n_dw`` (documents x vocabulary) and never store ``phi``: every update above is a
product of small dense matrices (following Hoffman, Blei & Bach's implementation).

Each EM sweep increases the evidence lower bound (ELBO)
``log p(w) >= E_q[log p(w, theta, z, beta)] - E_q[log q]``, which is what ``score`` reports.
"""

from __future__ import annotations

import numpy as np
from scipy.special import digamma, gammaln, logsumexp

from ._base import BaseEstimator, check_array, check_n_features, check_random_state


def _dirichlet_expectation(alpha: np.ndarray) -> np.ndarray:
    """``E[log x]`` for ``x ~ Dirichlet(alpha)`` (row-wise): ``psi(alpha) - psi(sum alpha)``."""
    return digamma(alpha) - digamma(alpha.sum(axis=-1, keepdims=True))


class LatentDirichletAllocation(BaseEstimator):
    """LDA topic model fitted by batch variational EM.

    Parameters
    ----------
    n_topics : number of topics ``K``.
    alpha : symmetric Dirichlet prior on document-topic proportions (default ``1/K``).
    eta : symmetric Dirichlet prior on topic-word distributions (default ``1/K``).
    max_iter : EM sweeps over the corpus.
    tol : stop when the ELBO per word improves by less than this.
    e_step_iter, e_step_tol : inner iterations of the per-document E-step.
    n_init : independent restarts; the run with the highest ELBO is kept (variational EM
        finds local optima, e.g. two bars merged into one topic).
    random_state : seed for the initial ``lambda``.

    Compared with scikit-learn's ``LatentDirichletAllocation(learning_method="batch")``,
    the same batch variational Bayes with the same default priors (``1/K``): ``n_topics``
    is its ``n_components``, ``alpha`` / ``eta`` its ``doc_topic_prior`` /
    ``topic_word_prior``; ``max_iter`` defaults to 200 sweeps with a ``tol`` on the ELBO
    (there: 10 sweeps); and ``score`` is the *mean* ELBO per document, like every model's
    ``score`` here, where scikit-learn's is the corpus total (``perplexity`` means the same).

    Attributes (after ``fit``)
    --------------------------
    components_ : (K, V) variational parameters ``lambda`` of the topics.
    topic_word_ : (K, V) posterior-mean topics ``lambda / sum lambda`` (rows sum to 1).
    elbo_ : list of the corpus ELBO per word after each sweep (best run).
    n_iter_ : sweeps run (best run).
    """

    _fitted_attr = "components_"

    def __init__(self, n_topics: int = 10, alpha: float | None = None, eta: float | None = None,
                 max_iter: int = 200, tol: float = 1e-5, e_step_iter: int = 100,
                 e_step_tol: float = 1e-3, n_init: int = 1, random_state=None):
        if int(n_topics) < 1:
            raise ValueError(f"n_topics must be >= 1, got {n_topics}")
        for name, val in (("alpha", alpha), ("eta", eta)):
            if val is not None and val <= 0:
                raise ValueError(f"{name} must be > 0, got {val}")
        if int(n_init) < 1:
            raise ValueError(f"n_init must be >= 1, got {n_init}")
        self.n_topics = int(n_topics)
        self.alpha = alpha
        self.eta = eta
        self.max_iter = int(max_iter)
        self.tol = tol
        self.e_step_iter = int(e_step_iter)
        self.e_step_tol = e_step_tol
        self.n_init = int(n_init)
        self.random_state = random_state

    # ------------------------------------------------------------------ priors
    @property
    def alpha_(self) -> float:
        return 1.0 / self.n_topics if self.alpha is None else float(self.alpha)

    @property
    def eta_(self) -> float:
        return 1.0 / self.n_topics if self.eta is None else float(self.eta)

    # ------------------------------------------------------------------ input
    def _check_counts(self, X, name="X", fitting=False) -> np.ndarray:
        X = check_array(X, name)
        if (X < 0).any():
            raise ValueError(f"{name} must hold non-negative word counts")
        if not np.allclose(X, np.round(X)):
            raise ValueError(f"{name} must hold integer word counts (documents x vocabulary)")
        if not fitting and hasattr(self, "components_"):    # same vocabulary as in fit
            check_n_features(X, self.components_.shape[1], name)
        return X

    # ------------------------------------------------------------------ variational EM
    def fit(self, X, y=None) -> "LatentDirichletAllocation":
        """Run ``n_init`` variational EM runs and keep the one with the highest ELBO."""
        X = self._check_counts(X, fitting=True)
        if X.sum() == 0:
            raise ValueError("X contains no words")
        rng = check_random_state(self.random_state)
        best = None
        for _ in range(self.n_init):
            lam, elbo = self._fit_once(X, rng)
            if best is None or elbo[-1] > best[1][-1]:
                best = (lam, elbo)
        lam, self.elbo_ = best
        self.components_ = lam
        self.topic_word_ = lam / lam.sum(axis=1, keepdims=True)
        self.n_iter_ = len(self.elbo_)
        return self

    def _fit_once(self, X, rng):
        # Random start on the scale of the data: each topic gets about n_words / K pseudo-counts
        # spread at random over the vocabulary. A start close to uniform (lambda ~ 1 for
        # every word) is swamped by the first M-step and the topics stay near-identical,
        # ending in a blurred local optimum; strong random asymmetry avoids that.
        n_words = X.sum()
        K, V = self.n_topics, X.shape[1]
        lam = rng.gamma(1.0, 1.0, size=(K, V)) * n_words / (K * V)
        elbo = []
        for _ in range(self.max_iter):
            # gamma restarts from its flat initial value in every E-step (no warm start):
            # carrying it over locks documents into the topics of earlier, worse iterations
            gamma, sstats = self._e_step(X, lam)
            lam = self.eta_ + sstats                          # M-step
            elbo.append(self._elbo(X, gamma, lam) / n_words)
            if len(elbo) > 1 and abs(elbo[-1] - elbo[-2]) < self.tol:
                break
        return lam, elbo

    def _e_step(self, X, lam):
        """Update ``gamma`` for every document at once with the topics ``lambda`` fixed.

        ``phi`` is never stored: for word ``w`` of document ``d``,
        ``phi_dwk = exp(Elog theta_dk) exp(Elog beta_kw) / phinorm_dw`` where ``phinorm`` is
        the normaliser, so ``sum_w n_dw phi_dwk = exp(Elog theta_dk) [(n / phinorm) @ exp(Elog beta)^T]_dk``.
        Returns ``gamma`` and the expected topic-word counts ``sum_d n_dw phi_dwk`` (K x V).
        """
        n_docs = X.shape[0]
        exp_Elog_beta = np.exp(_dirichlet_expectation(lam))  # (K, V)
        gamma = np.full((n_docs, self.n_topics), self.alpha_ + X.sum(axis=1, keepdims=True) / self.n_topics)
        for _ in range(self.e_step_iter):
            exp_Elog_theta = np.exp(_dirichlet_expectation(gamma))   # (D, K)
            phinorm = exp_Elog_theta @ exp_Elog_beta + 1e-100         # (D, V)
            new_gamma = self.alpha_ + exp_Elog_theta * ((X / phinorm) @ exp_Elog_beta.T)
            change = np.mean(np.abs(new_gamma - gamma))
            gamma = new_gamma
            if change < self.e_step_tol:
                break
        exp_Elog_theta = np.exp(_dirichlet_expectation(gamma))
        phinorm = exp_Elog_theta @ exp_Elog_beta + 1e-100
        sstats = exp_Elog_beta * (exp_Elog_theta.T @ (X / phinorm))
        return gamma, sstats

    def _doc_bound(self, X, gamma, lam) -> np.ndarray:
        """Per-document part of the ELBO (words and ``theta`` terms), with the optimal ``phi`` plugged in.

        ``sum_w n_dw log sum_k exp(Elog theta_dk + Elog beta_kw)``
        ``+ sum_k (alpha - gamma_dk) Elog theta_dk + log Gamma(gamma_dk) - log Gamma(alpha)``
        ``+ log Gamma(K alpha) - log Gamma(sum_k gamma_dk)``
        """
        a, K = self.alpha_, self.n_topics
        Elog_theta = _dirichlet_expectation(gamma)
        Elog_beta = _dirichlet_expectation(lam)
        # log sum_k exp(...) for every (d, w) pair, then weighted by the counts
        word_term = logsumexp(Elog_theta[:, :, None] + Elog_beta[None, :, :], axis=1)  # (D, V)
        bound = np.sum(X * word_term, axis=1)
        bound += np.sum((a - gamma) * Elog_theta + gammaln(gamma) - gammaln(a), axis=1)
        bound += gammaln(K * a) - gammaln(gamma.sum(axis=1))
        return bound

    def _topic_bound(self, lam) -> float:
        """Global ELBO terms of the topics: ``E[log p(beta) - log q(beta)]``."""
        e, V = self.eta_, lam.shape[1]
        Elog_beta = _dirichlet_expectation(lam)
        return float(np.sum((e - lam) * Elog_beta + gammaln(lam) - gammaln(e))
                     + np.sum(gammaln(V * e) - gammaln(lam.sum(axis=1))))

    def _elbo(self, X, gamma, lam) -> float:
        return float(self._doc_bound(X, gamma, lam).sum() + self._topic_bound(lam))

    # ------------------------------------------------------------------ using the model
    def transform(self, X) -> np.ndarray:
        """Topic proportions of each document: the posterior mean ``gamma / sum gamma``."""
        self._check_fitted()
        X = self._check_counts(X)
        gamma, _ = self._e_step(X, self.components_)
        return gamma / gamma.sum(axis=1, keepdims=True)

    def fit_transform(self, X, y=None) -> np.ndarray:
        return self.fit(X).transform(X)

    def score(self, X, y=None) -> float:
        """Average per-document ELBO of ``X`` with the topics held fixed (nats).

        This is a lower bound on the average log-likelihood per document: the exact
        ``log p(w_d)`` needs an intractable integral over ``theta``.
        """
        self._check_fitted()
        X = self._check_counts(X)
        gamma, _ = self._e_step(X, self.components_)
        return float(np.mean(self._doc_bound(X, gamma, self.components_)))

    def perplexity(self, X) -> float:
        """``exp(-ELBO / number of words)``: an upper bound on the per-word perplexity of ``X``."""
        self._check_fitted()
        X = self._check_counts(X)
        gamma, _ = self._e_step(X, self.components_)
        return float(np.exp(-self._doc_bound(X, gamma, self.components_).sum() / X.sum()))

    def completion_perplexity(self, X_observed, X_heldout) -> float:
        """Document-completion perplexity: infer ``theta`` from part of each document, then
        measure how well ``p(w | d) = sum_k theta_dk beta_kw`` predicts the rest.

        ``exp(- sum_{d,w} m_dw log p(w | d) / sum m_dw)`` with ``m`` the held-out counts. Lower is
        better; a model that ignores the document (the unigram model) gives the baseline.
        """
        theta = self.transform(X_observed)
        X_heldout = self._check_counts(X_heldout, "X_heldout")
        if X_heldout.shape[0] != theta.shape[0]:
            raise ValueError(f"X_observed has {theta.shape[0]} documents but X_heldout has {X_heldout.shape[0]}")
        p_word = theta @ self.topic_word_
        return float(np.exp(-np.sum(X_heldout * np.log(p_word)) / X_heldout.sum()))

    def sample(self, n: int = 1, doc_length: int = 100, random_state=None) -> tuple[np.ndarray, np.ndarray]:
        """Generate ``n`` documents by the generative story; returns ``(counts, theta)``.

        Topics are the posterior means ``topic_word_``; ``theta_d ~ Dir(alpha)``, and the words
        of a document are ``Multinomial(doc_length, theta_d @ topics)``.
        """
        self._check_fitted()
        rng = check_random_state(random_state)
        theta = rng.dirichlet(np.full(self.n_topics, self.alpha_), size=int(n))
        p = theta @ self.topic_word_
        p /= p.sum(axis=1, keepdims=True)
        counts = np.stack([rng.multinomial(int(doc_length), row) for row in p]).astype(np.float64)
        return counts, theta


# ====================================================================== data and baselines
def bars_topics(size: int = 5) -> np.ndarray:
    """The ``2 * size`` "bar" topics on a ``size x size`` vocabulary (Griffiths & Steyvers, 2004).

    Word ``r * size + c`` is pixel ``(r, c)``. Topics ``0..size-1`` are the horizontal bars
    (uniform over one row), topics ``size..2 size - 1`` the vertical bars (one column).
    """
    topics = []
    for r in range(size):
        img = np.zeros((size, size)); img[r, :] = 1.0
        topics.append(img.ravel() / size)
    for c in range(size):
        img = np.zeros((size, size)); img[:, c] = 1.0
        topics.append(img.ravel() / size)
    return np.stack(topics)


def make_bars_corpus(n_docs: int = 500, doc_length: int = 100, alpha: float = 0.5, size: int = 5,
                     random_state=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sample a synthetic corpus from LDA with the bar topics.

    Returns ``(X, topics, theta)``: counts ``(n_docs, size**2)``, the true topics
    ``(2 size, size**2)`` and each document's true mixture ``(n_docs, 2 size)``.
    Shown as ``size x size`` images, each document is a superposition of a few bars.
    """
    rng = check_random_state(random_state)
    topics = bars_topics(size)
    theta = rng.dirichlet(np.full(len(topics), alpha), size=int(n_docs))
    p = theta @ topics
    X = np.stack([rng.multinomial(int(doc_length), row / row.sum()) for row in p]).astype(np.float64)
    return X, topics, theta


def split_documents(X, fraction: float = 0.5, random_state=None) -> tuple[np.ndarray, np.ndarray]:
    """Split each document's words at random into an observed and a held-out part.

    Each word token goes to the held-out part with probability ``fraction`` (a binomial
    thinning of the counts), for :meth:`LatentDirichletAllocation.completion_perplexity`.
    """
    rng = check_random_state(random_state)
    X = check_array(X)
    held = rng.binomial(X.astype(np.int64), fraction).astype(np.float64)
    return X - held, held


def unigram_perplexity(X_train, X_test, smoothing: float = 1.0) -> float:
    """Perplexity of the unigram baseline: every word drawn from one corpus-wide distribution.

    ``p(w) = (count_w + smoothing) / (N + V smoothing)`` estimated on ``X_train``;
    returns ``exp(- sum_{d,w} n_dw log p(w) / N_test)``.
    """
    X_train, X_test = check_array(X_train, "X_train"), check_array(X_test, "X_test")
    check_n_features(X_test, X_train.shape[1], "X_test")
    counts = X_train.sum(axis=0) + smoothing
    p = counts / counts.sum()
    return float(np.exp(-np.sum(X_test * np.log(p)) / X_test.sum()))


def match_topics(learned: np.ndarray, true: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pair learned topics with true ones (topics come out in arbitrary order).

    Solves the assignment problem on the L1 distance between distributions (Hungarian
    algorithm). Returns ``(order, distances)``: ``learned[order[i]]`` is matched to
    ``true[i]`` at L1 distance ``distances[i]`` (0 = identical, 2 = disjoint).
    """
    from scipy.optimize import linear_sum_assignment

    learned, true = np.asarray(learned, float), np.asarray(true, float)
    if learned.ndim != 2 or true.ndim != 2 or learned.shape[1] != true.shape[1]:
        raise ValueError(f"topics must be 2-D over the same vocabulary, got {learned.shape} and {true.shape}")
    cost = np.abs(true[:, None, :] - learned[None, :, :]).sum(axis=2)   # (n_true, n_learned)
    rows, cols = linear_sum_assignment(cost)
    # with fewer learned than true topics some true topics stay unmatched: order -1, distance 2
    order = np.full(len(true), -1, dtype=int)
    distances = np.full(len(true), 2.0)
    order[rows] = cols
    distances[rows] = cost[rows, cols]
    return order, distances
