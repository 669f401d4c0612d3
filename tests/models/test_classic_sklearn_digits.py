"""scikit-learn's conventions, checked on its own 8x8 digits: the first 1,400 images to fit,
the remaining 397 to score.  With the defaults (which are scikit-learn's where the meaning
is the same) the classic models compute scikit-learn's numbers.

The digits have pixels that never change in the first 1,400 images (the corners); those
are what made the defaults matter: GaussianNB's ``var_smoothing`` (1e-2 here before, 1e-9
there) decided 11 % of the predictions, and FactorAnalysis's noise floor (1e-6 here before,
1e-12 there) moved the score by 6.9 nats for each constant pixel.
"""
import numpy as np
import pytest

from minigen.models.classic import (FactorAnalysis, GaussianNB, LatentDirichletAllocation,
                                    PCA)

sklearn = pytest.importorskip("sklearn")
from sklearn import decomposition, naive_bayes  # noqa: E402
from sklearn.datasets import load_digits       # noqa: E402  (shipped with scikit-learn)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    X = X.astype(np.float64)
    return X[:1400], y[:1400], X[1400:], y[1400:]


def test_the_split_has_constant_pixels(digits):
    X, _, _, _ = digits
    assert (X.var(axis=0) == 0).sum() == 3                    # what the defaults decide on


def test_gaussian_nb_predicts_as_scikit_learn(digits):
    X, y, Xt, yt = digits
    ours, theirs = GaussianNB().fit(X, y), naive_bayes.GaussianNB().fit(X, y)
    agreement = np.mean(ours.predict(Xt) == theirs.predict(Xt))
    assert agreement >= 0.99
    assert ours.epsilon_ == pytest.approx(theirs.epsilon_, rel=1e-12)
    np.testing.assert_allclose(ours.var_, theirs.var_, rtol=1e-9)
    np.testing.assert_allclose(ours.predict_proba(Xt), theirs.predict_proba(Xt), atol=1e-6)


def test_factor_analysis_score_as_scikit_learn(digits):
    X, _, Xt, _ = digits
    ours = FactorAnalysis(n_components=10).fit(X)
    theirs = decomposition.FactorAnalysis(n_components=10).fit(X)
    assert abs(ours.score(Xt) - theirs.score(Xt)) < 0.1       # nats per image
    assert abs(ours.score(X) - theirs.score(X)) < 0.1
    constant = X.var(axis=0) == 0
    np.testing.assert_array_equal(ours.noise_variance_[constant], 1e-12)
    np.testing.assert_allclose(ours.noise_variance_[constant], theirs.noise_variance_[constant])


def test_factor_analysis_default_components_are_all_features():
    X = np.random.default_rng(0).standard_normal((50, 4))
    assert FactorAnalysis().fit(X).components_.shape == \
        decomposition.FactorAnalysis().fit(X).components_.shape == (4, 4)


@pytest.mark.parametrize("k", [10, 30])
def test_pca_as_scikit_learn(digits, k):
    X, _, Xt, _ = digits
    ours, theirs = PCA(n_components=k).fit(X), decomposition.PCA(n_components=k).fit(X)
    assert ours.score(Xt) == pytest.approx(theirs.score(Xt), abs=1e-6)
    np.testing.assert_allclose(ours.explained_variance_, theirs.explained_variance_, rtol=1e-8)
    np.testing.assert_allclose(np.abs(ours.transform(Xt)), np.abs(theirs.transform(Xt)), atol=1e-6)


@pytest.mark.slow
def test_lda_topics_and_perplexity_as_scikit_learn():
    """Not the digits (scikit-learn's LDA takes minutes on them here): the bars corpus.
    Both are batch variational Bayes with the same priors (1/K); they find the same
    ten bars and the same held-out perplexity within a few per cent."""
    from scipy.optimize import linear_sum_assignment
    from minigen.models.classic import make_bars_corpus
    X, bars, _ = make_bars_corpus(200, 100, random_state=0)
    X_test, _, _ = make_bars_corpus(100, 100, random_state=1)
    ours = LatentDirichletAllocation(n_topics=10, n_init=2, random_state=0).fit(X)
    theirs = decomposition.LatentDirichletAllocation(n_components=10, learning_method="batch",
                                                     max_iter=40, random_state=0).fit(X)
    for topics in (ours.topic_word_, theirs.components_ / theirs.components_.sum(1, keepdims=True)):
        cost = np.abs(topics[:, None] - bars[None]).sum(-1)
        rows, cols = linear_sum_assignment(cost)
        assert cost[rows, cols].max() < 0.35                  # every bar found
    assert ours.perplexity(X_test) == pytest.approx(theirs.perplexity(X_test), rel=0.08)
    # score: here the mean ELBO per document, there the total bound of the corpus
    assert ours.score(X_test) == pytest.approx(theirs.score(X_test) / len(X_test), rel=0.03)


if __name__ == "__main__":      # print the README's numbers: python tests/models/test_classic_sklearn_digits.py
    X, y = load_digits(return_X_y=True)
    X, y, Xt = X[:1400].astype(float), y[:1400], X[1400:].astype(float)
    for smoothing in (1e-9, 1e-2):
        agree = np.mean(GaussianNB(smoothing).fit(X, y).predict(Xt)
                        == naive_bayes.GaussianNB().fit(X, y).predict(Xt))
        print(f"GaussianNB(var_smoothing={smoothing:g}) agrees with scikit-learn on {agree:.1%}")
    print(f"FactorAnalysis(n_components=10).score = "
          f"{FactorAnalysis(n_components=10).fit(X).score(Xt):.3f}")
    print(f"scikit-learn FactorAnalysis(n_components=10).score = "
          f"{decomposition.FactorAnalysis(n_components=10).fit(X).score(Xt):.3f}")
    for k in (10, 30):
        print(f"PCA({k}).score = {PCA(k).fit(X).score(Xt):.3f}, scikit-learn "
              f"{decomposition.PCA(k).fit(X).score(Xt):.3f}")
