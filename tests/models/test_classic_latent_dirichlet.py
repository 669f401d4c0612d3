"""Latent Dirichlet Allocation: the ten bars, held-out perplexity, and the ELBO as a true bound."""
import numpy as np
import pytest
from scipy import integrate, stats

from minigen.models.classic import (LatentDirichletAllocation, NotFittedError, bars_topics,
                                    make_bars_corpus, match_topics, split_documents,
                                    unigram_perplexity)


@pytest.fixture(scope="module")
def bars():
    X, topics, theta = make_bars_corpus(n_docs=500, doc_length=100, random_state=0)
    X_test, _, _ = make_bars_corpus(n_docs=200, doc_length=100, random_state=1)
    lda = LatentDirichletAllocation(n_topics=10, n_init=3, random_state=0).fit(X)
    return lda, X, X_test, topics


def test_bars_corpus_generator():
    X, topics, theta = make_bars_corpus(n_docs=50, doc_length=40, random_state=0)
    assert X.shape == (50, 25) and topics.shape == (10, 25) and theta.shape == (50, 10)
    np.testing.assert_array_equal(X.sum(1), 40)
    np.testing.assert_allclose(topics.sum(1), 1.0)
    np.testing.assert_allclose(theta.sum(1), 1.0)
    img = bars_topics(5)[2].reshape(5, 5)                       # topic 2: third row
    assert (img[2] > 0).all() and img.sum() == pytest.approx(1.0) and (img[[0, 1, 3, 4]] == 0).all()


def test_recovers_all_ten_bars(bars):
    lda, _, _, topics = bars
    order, dist = match_topics(lda.topic_word_, topics)
    assert len(set(order)) == 10
    assert dist.max() < 0.5, f"L1 distances to the bars: {np.round(dist, 2)}"
    np.testing.assert_allclose(lda.topic_word_.sum(1), 1.0)


def test_heldout_perplexity_beats_the_unigram_baseline(bars):
    lda, X, X_test, _ = bars
    observed, heldout = split_documents(X_test, 0.5, random_state=0)
    baseline = unigram_perplexity(X, heldout)
    assert baseline == pytest.approx(25.0, rel=0.02)         # the bars cover every word equally
    assert lda.completion_perplexity(observed, heldout) < 0.85 * baseline
    assert lda.perplexity(X_test) < 0.9 * unigram_perplexity(X, X_test)


def test_elbo_increases(bars):
    """Coordinate ascent never lowers the ELBO -- exactly so when every E-step converges."""
    assert bars[0].elbo_[-1] > bars[0].elbo_[0] + 0.05
    X, _, _ = make_bars_corpus(n_docs=100, doc_length=50, random_state=3)
    lda = LatentDirichletAllocation(n_topics=10, max_iter=30, tol=0, e_step_tol=1e-10,
                                    e_step_iter=5000, random_state=0).fit(X)
    assert np.all(np.diff(lda.elbo_) > -1e-9)


def test_transform_gives_topic_proportions(bars):
    lda, _, X_test, _ = bars
    theta = lda.transform(X_test[:20])
    assert theta.shape == (20, 10)
    np.testing.assert_allclose(theta.sum(1), 1.0)
    assert lda.score(X_test) == pytest.approx(-np.log(lda.perplexity(X_test)) * X_test.sum() / len(X_test))


def test_document_bound_is_below_the_exact_likelihood():
    """With K = 2 topics, log p(w | beta) = log int Beta(t; a, a) prod_w (t b0w + (1-t) b1w)^n_w dt
    is a 1-D integral; the variational bound must lie below it (and close to it)."""
    beta = np.array([[0.6, 0.3, 0.1], [0.1, 0.2, 0.7]])
    docs = np.array([[3, 1, 0], [0, 2, 4], [2, 2, 2], [5, 0, 1]], dtype=float)
    lda = LatentDirichletAllocation(n_topics=2, alpha=0.8, e_step_tol=1e-10, e_step_iter=2000)
    lda.components_ = beta * 1e9                              # q(beta) ~ a point mass at beta
    lda.topic_word_ = beta
    gamma, _ = lda._e_step(docs, lda.components_)
    bound = lda._doc_bound(docs, gamma, lda.components_)
    for d, n in enumerate(docs):
        def integrand(t):
            return stats.beta(0.8, 0.8).pdf(t) * np.prod((t * beta[0] + (1 - t) * beta[1]) ** n)
        exact = np.log(integrate.quad(integrand, 0, 1, limit=200)[0])
        assert bound[d] <= exact + 1e-6
        assert bound[d] > exact - 0.5


def test_sampled_documents_have_the_requested_length(bars):
    lda = bars[0]
    counts, theta = lda.sample(5, doc_length=30, random_state=0)
    assert counts.shape == (5, 25) and (counts.sum(1) == 30).all()
    np.testing.assert_allclose(theta.sum(1), 1.0)


def test_match_topics_finds_a_permutation():
    true = bars_topics(5)
    perm = np.random.default_rng(0).permutation(10)
    order, dist = match_topics(true[perm], true)
    np.testing.assert_array_equal(perm[order], np.arange(10))
    np.testing.assert_allclose(dist, 0.0)


def test_errors():
    X, _, _ = make_bars_corpus(n_docs=20, doc_length=10, random_state=0)
    with pytest.raises(NotFittedError):
        LatentDirichletAllocation().transform(X)
    with pytest.raises(ValueError, match="non-negative"):
        LatentDirichletAllocation().fit(-X)
    with pytest.raises(ValueError, match="integer"):
        LatentDirichletAllocation().fit(X + 0.5)
    with pytest.raises(ValueError, match="no words"):
        LatentDirichletAllocation().fit(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="alpha"):
        LatentDirichletAllocation(alpha=0)
    lda = LatentDirichletAllocation(n_topics=3, max_iter=3, random_state=0).fit(X)
    with pytest.raises(ValueError, match="features"):
        lda.transform(X[:, :10])
    with pytest.raises(ValueError, match="documents"):
        lda.completion_perplexity(X[:5], X[:6])
