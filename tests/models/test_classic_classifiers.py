"""Generative classifiers (and the discriminative rival) against closed forms and brute force."""
import itertools

import numpy as np
import pytest
from scipy import stats
from scipy.special import logsumexp

from minigen.models.classic import (BernoulliNB, GaussianDiscriminantAnalysis, GaussianNB,
                                    LogisticRegression, NotFittedError)


def gaussian_blobs(n=300, d=5, seed=0):
    """Three classes with different means and correlated features."""
    rng = np.random.default_rng(seed)
    means = rng.normal(0, 2, size=(3, d))
    A = rng.normal(size=(d, d)) / np.sqrt(d)
    y = rng.integers(0, 3, n)
    X = means[y] + rng.normal(size=(n, d)) @ A + 0.3 * rng.normal(size=(n, d))
    return X, y


def binary_data(n=400, d=6, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    p = np.where(y[:, None] == 1, np.linspace(0.2, 0.8, d), np.linspace(0.7, 0.3, d))
    return (rng.random((n, d)) < p).astype(float), y


def random_mask(shape, frac, seed=1):
    return np.random.default_rng(seed).random(shape) >= frac


# ------------------------------------------------------------------ Bernoulli NB
def test_bernoulli_nb_parameters_are_smoothed_counts():
    X, y = binary_data()
    m = BernoulliNB(alpha=1.0, binarize=None).fit(X, y)
    for c in (0, 1):
        Xc = X[y == c]
        np.testing.assert_allclose(m.feature_prob_[c], (Xc.sum(0) + 1) / (len(Xc) + 2))
    np.testing.assert_allclose(np.exp(m.class_log_prior_), np.bincount(y) / len(y))


def test_bernoulli_nb_likelihood_is_the_product_of_bernoullis():
    X, y = binary_data()
    m = BernoulliNB(binarize=None).fit(X, y)
    theta = m.feature_prob_
    expected = np.array([[np.sum(stats.bernoulli.logpmf(x, theta[c])) for c in (0, 1)] for x in X[:20]])
    np.testing.assert_allclose(m.joint_log_likelihood(X[:20]), expected + m.class_log_prior_)


def test_bernoulli_nb_missing_features_are_summed_out_by_enumeration():
    """p(x_o | c) = sum over every completion x_m of p(x_o, x_m | c)."""
    X, y = binary_data(d=5)
    m = BernoulliNB(binarize=None).fit(X, y)
    mask = random_mask(X[:10].shape, 0.4)
    jll = m.joint_log_likelihood(X[:10], mask=mask)
    for i in range(10):
        missing = np.flatnonzero(~mask[i])
        for c in (0, 1):
            total = []
            for completion in itertools.product([0.0, 1.0], repeat=len(missing)):
                x = X[i].copy()
                x[missing] = completion
                total.append(np.sum(stats.bernoulli.logpmf(x, m.feature_prob_[c])))
            assert jll[i, c] == pytest.approx(logsumexp(total) + m.class_log_prior_[c])


def test_bernoulli_nb_matches_sklearn():
    sk = pytest.importorskip("sklearn.naive_bayes")
    X, y = binary_data()
    ours = BernoulliNB(alpha=0.7, binarize=0.5).fit(X, y)
    theirs = sk.BernoulliNB(alpha=0.7, binarize=0.5).fit(X, y)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), rtol=1e-10)


# ------------------------------------------------------------------ Gaussian NB
def test_gaussian_nb_likelihood_is_a_product_of_normals():
    X, y = gaussian_blobs()
    m = GaussianNB(var_smoothing=1e-3).fit(X, y)
    for c in range(3):
        assert m.var_[c] == pytest.approx(X[y == c].var(0) + 1e-3 * X.var(0).max())
    expected = np.stack([stats.norm(m.theta_[c], np.sqrt(m.var_[c])).logpdf(X).sum(1) for c in range(3)], 1)
    np.testing.assert_allclose(m.joint_log_likelihood(X), expected + m.class_log_prior_)


def test_gaussian_nb_with_mask_equals_the_model_on_observed_columns():
    X, y = gaussian_blobs()
    m = GaussianNB().fit(X, y)
    mask = random_mask(X.shape, 0.5)
    jll = m.joint_log_likelihood(np.where(mask, X, np.nan))          # NaN = missing
    np.testing.assert_allclose(jll, m.joint_log_likelihood(X, mask=mask))
    for i in range(15):
        o = mask[i]
        expected = [stats.norm(m.theta_[c, o], np.sqrt(m.var_[c, o])).logpdf(X[i, o]).sum() for c in range(3)]
        np.testing.assert_allclose(jll[i], np.array(expected) + m.class_log_prior_)


def test_gaussian_nb_matches_sklearn():
    sk = pytest.importorskip("sklearn.naive_bayes")
    X, y = gaussian_blobs()
    ours = GaussianNB(var_smoothing=1e-2).fit(X, y)
    theirs = sk.GaussianNB(var_smoothing=1e-2).fit(X, y)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), rtol=1e-8, atol=1e-12)


# ------------------------------------------------------------------ Gaussian DA
@pytest.mark.parametrize("covariance", ["shared", "per_class"])
def test_gda_parameters_and_density(covariance):
    X, y = gaussian_blobs()
    m = GaussianDiscriminantAnalysis(covariance, shrinkage=0.0).fit(X, y)
    for c in range(3):
        np.testing.assert_allclose(m.means_[c], X[y == c].mean(0))
    if covariance == "shared":
        Z = X - m.means_[y]
        np.testing.assert_allclose(m.covariances_[1], Z.T @ Z / len(X))
    else:
        np.testing.assert_allclose(m.covariances_[2], np.cov(X[y == 2].T, bias=True))
    expected = np.stack([stats.multivariate_normal(m.means_[c], m.covariances_[c]).logpdf(X)
                         for c in range(3)], 1)
    np.testing.assert_allclose(m.joint_log_likelihood(X), expected + m.class_log_prior_)


@pytest.mark.parametrize("covariance", ["shared", "per_class"])
def test_gda_marginalises_missing_features(covariance):
    """The marginal of a Gaussian: keep the observed rows/columns of mean and covariance."""
    X, y = gaussian_blobs(d=6)
    m = GaussianDiscriminantAnalysis(covariance, shrinkage=0.05).fit(X, y)
    mask = random_mask(X[:25].shape, 0.5)
    mask[0] = True                     # one complete row, one empty row
    mask[1] = False
    mask[3] = mask[2]                  # two rows sharing a pattern
    jll = m.joint_log_likelihood(X[:25], mask=mask)
    for i in range(25):
        o = np.flatnonzero(mask[i])
        for c in range(3):
            expected = 0.0 if o.size == 0 else stats.multivariate_normal(
                m.means_[c, o], m.covariances_[c][np.ix_(o, o)]).logpdf(X[i, o])
            assert jll[i, c] == pytest.approx(expected + m.class_log_prior_[c])


def test_gda_shrinkage_formula():
    X, y = gaussian_blobs()
    S = GaussianDiscriminantAnalysis("shared", shrinkage=0.0).fit(X, y).covariances_[0]
    Sl = GaussianDiscriminantAnalysis("shared", shrinkage=0.3).fit(X, y).covariances_[0]
    np.testing.assert_allclose(Sl, 0.7 * S + 0.3 * np.trace(S) / len(S) * np.eye(len(S)))


def test_lda_matches_sklearn_posteriors():
    da = pytest.importorskip("sklearn.discriminant_analysis")
    X, y = gaussian_blobs()
    ours = GaussianDiscriminantAnalysis("shared", shrinkage=0.0).fit(X, y)
    theirs = da.LinearDiscriminantAnalysis(solver="lsqr").fit(X, y)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-6)


# ------------------------------------------------------------------ Bayes' rule & sampling
@pytest.mark.parametrize("model", [BernoulliNB(binarize=0.0), GaussianNB(), GaussianDiscriminantAnalysis(),
                                   GaussianDiscriminantAnalysis("per_class")])
def test_posteriors_predictions_and_scores_are_consistent(model):
    X, y = gaussian_blobs()
    model.fit(X, y)
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba.sum(1), 1.0)
    np.testing.assert_array_equal(model.predict(X), model.classes_[proba.argmax(1)])
    jll = model.joint_log_likelihood(X)
    assert model.score(X) == pytest.approx(np.mean(logsumexp(jll, axis=1)))
    assert model.score(X, y) == pytest.approx(np.mean(jll[np.arange(len(y)), y]))
    assert model.accuracy(X, y) > 0.8


def test_predict_with_everything_missing_returns_the_prior():
    X, y = gaussian_blobs()
    for model in (GaussianNB(), GaussianDiscriminantAnalysis()):
        model.fit(X, y)
        proba = model.predict_proba(X[:3], mask=np.zeros((3, X.shape[1]), bool))
        np.testing.assert_allclose(proba, np.exp(np.tile(model.class_log_prior_, (3, 1))))


@pytest.mark.parametrize("model", [GaussianNB(), GaussianDiscriminantAnalysis(shrinkage=0.0),
                                   GaussianDiscriminantAnalysis("per_class", shrinkage=0.0)])
def test_class_conditional_samples_have_the_model_moments(model):
    X, y = gaussian_blobs(d=3)
    model.fit(X, y)
    S, labels = model.sample(20000, y=2, random_state=0)
    assert (labels == 2).all()
    mean = model.theta_[2] if isinstance(model, GaussianNB) else model.means_[2]
    np.testing.assert_allclose(S.mean(0), mean, atol=0.05)
    if isinstance(model, GaussianDiscriminantAnalysis):
        np.testing.assert_allclose(np.cov(S.T), model.covariances_[2], atol=0.06)
    _, labels = model.sample(20000, random_state=0)       # labels from the prior
    np.testing.assert_allclose(np.bincount(labels) / 20000, np.exp(model.class_log_prior_), atol=0.015)


def test_bernoulli_samples_are_binary_with_class_frequencies():
    X, y = binary_data()
    m = BernoulliNB(binarize=None).fit(X, y)
    S, _ = m.sample(20000, y=1, random_state=0)
    assert set(np.unique(S)) == {0.0, 1.0}
    np.testing.assert_allclose(S.mean(0), m.feature_prob_[1], atol=0.015)


# ------------------------------------------------------------------ Fashion-MNIST (embedded subset)
@pytest.fixture(scope="module")
def fashion():
    from minigen.data import FashionMNIST, to_unit
    tr = FashionMNIST("train", source="embedded", verbose=False)
    te = FashionMNIST("test", source="embedded", verbose=False)
    X = to_unit(tr.images).reshape(len(tr), -1).astype(np.float64)
    Xt = to_unit(te.images).reshape(len(te), -1).astype(np.float64)
    return X, tr.labels, Xt[:500], te.labels[:500]


def test_fashion_mnist_accuracies(fashion):
    """Stated accuracies on the embedded subset (3000 train / first 500 test images)."""
    X, y, Xt, yt = fashion
    assert BernoulliNB().fit(X, y).accuracy(Xt, yt) >= 0.60
    # images: a pixel constant within a class needs more smoothing than scikit-learn's 1e-9
    assert GaussianNB(var_smoothing=1e-2).fit(X, y).accuracy(Xt, yt) >= 0.60
    assert GaussianDiscriminantAnalysis("shared", 0.1).fit(X, y).accuracy(Xt, yt) >= 0.75


def test_fashion_mnist_naive_bayes_survives_missing_pixels(fashion):
    """Marginalising 75% missing pixels costs Naive Bayes only a few points of accuracy."""
    X, y, Xt, yt = fashion
    mask = random_mask(Xt.shape, 0.75)
    for model in (BernoulliNB(), GaussianNB(var_smoothing=1e-2)):
        model.fit(X, y)
        full, masked = model.accuracy(Xt, yt), model.accuracy(Xt, yt, mask=mask)
        assert masked >= 0.58 and masked >= full - 0.06


@pytest.mark.slow
def test_fashion_mnist_generative_beats_imputing_logistic_regression(fashion):
    """The lecture's claim: at 80% missing pixels LDA (marginalising) beats logistic regression (imputing)."""
    X, y, Xt, yt = fashion
    Xt, yt = Xt[:200], yt[:200]
    mask = random_mask(Xt.shape, 0.8)
    lda = GaussianDiscriminantAnalysis("shared", 0.1).fit(X, y)
    lr = LogisticRegression(n_epochs=5, random_state=0).fit(X, y)
    assert lr.accuracy(Xt, yt) >= 0.75
    assert lda.accuracy(Xt, yt, mask=mask) > lr.accuracy(Xt, yt, mask=mask) + 0.2


# ------------------------------------------------------------------ logistic regression (engine)
def test_logistic_regression_learns_and_imputes_means():
    X, y = gaussian_blobs(n=400)
    m = LogisticRegression(lr=0.05, n_epochs=30, batch_size=64, random_state=0).fit(X, y)
    assert m.loss_history_[-1] < m.loss_history_[0]
    assert m.accuracy(X, y) > 0.9
    np.testing.assert_allclose(m.predict_proba(X).sum(1), 1.0)
    mask = random_mask(X.shape, 0.5)
    np.testing.assert_allclose(m.impute_missing(X, mask), np.where(mask, X, X.mean(0)))
    np.testing.assert_allclose(m.decision_function(X, mask), np.where(mask, X, X.mean(0)) @ m.coef_ + m.intercept_)
    assert m.score(X, y) == pytest.approx(np.mean(m.predict_log_proba(X)[np.arange(len(y)), y]))


def test_logistic_regression_matches_the_convex_optimum():
    """Enough Adam steps reach scikit-learn's L-BFGS solution of the same penalised objective."""
    lm = pytest.importorskip("sklearn.linear_model")
    X, y = gaussian_blobs(n=200, d=3)
    wd = 0.1
    ours = LogisticRegression(lr=0.05, n_epochs=300, batch_size=200, weight_decay=wd, random_state=0).fit(X, y)
    # sklearn minimises C * sum CE + |W|^2 / 2  ==  mean CE + |W|^2 / (2 C n)
    theirs = lm.LogisticRegression(C=1.0 / (wd * len(X)), tol=1e-10, max_iter=10000).fit(X, y)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=0.02)


# ------------------------------------------------------------------ errors
def test_errors():
    X, y = gaussian_blobs()
    with pytest.raises(NotFittedError):
        GaussianNB().predict(X)
    with pytest.raises(NotFittedError):
        LogisticRegression().predict(X)
    with pytest.raises(ValueError, match="labels"):
        GaussianNB().fit(X, y[:-1])
    with pytest.raises(ValueError, match="NaN"):
        GaussianNB().fit(np.where(X > 2, np.nan, X), y)
    with pytest.raises(ValueError, match="2 classes"):
        GaussianNB().fit(X, np.zeros(len(X)))
    with pytest.raises(ValueError, match="covariance"):
        GaussianDiscriminantAnalysis("diagonal")
    with pytest.raises(ValueError, match="shrinkage"):
        GaussianDiscriminantAnalysis(shrinkage=2.0)
    m = GaussianNB().fit(X, y)
    with pytest.raises(ValueError, match="features"):
        m.predict(X[:, :3])
    with pytest.raises(ValueError, match="mask has shape"):
        m.predict(X, mask=np.ones((3, 3), bool))
    with pytest.raises(TypeError, match="boolean"):
        m.predict(X, mask=np.ones(X.shape))
    with pytest.raises(ValueError, match="unknown class"):
        m.sample(3, y=7)
    with pytest.raises(ValueError, match="binary"):
        BernoulliNB(binarize=None).fit(X, y)
