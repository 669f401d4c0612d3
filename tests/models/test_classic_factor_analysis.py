"""Factor Analysis: exact likelihood, EM monotonicity, recovery of known loadings."""
import numpy as np
import pytest
from scipy import stats

from minigen.models.classic import PCA, FactorAnalysis, NotFittedError, align_loadings


def synthetic(n=4000, seed=0):
    """8 features, 2 factors, very different noise levels per feature."""
    rng = np.random.default_rng(seed)
    W = np.array([[1.0, 0.9, 0.8, 0.7, 0.0, 0.0, 0.1, 0.0],
                  [0.0, 0.1, 0.0, 0.3, 1.0, 0.8, 0.9, 0.6]]).T          # (d, k)
    psi = np.array([0.1, 0.2, 0.5, 0.05, 0.3, 0.1, 0.8, 0.2])
    mu = np.linspace(-1, 1, 8)
    Z = rng.normal(size=(n, 2))
    X = mu + Z @ W.T + rng.normal(size=(n, 8)) * np.sqrt(psi)
    return X, W, psi, mu


@pytest.fixture(scope="module")
def fitted():
    X, W, psi, mu = synthetic()
    return FactorAnalysis(2, tol=1e-8, random_state=0).fit(X), X, W, psi, mu


def test_score_is_the_exact_gaussian_log_likelihood(fitted):
    fa, X, *_ = fitted
    expected = stats.multivariate_normal(fa.mean_, fa.get_covariance()).logpdf(X[:300])
    np.testing.assert_allclose(fa.score_samples(X[:300]), expected, rtol=1e-10)
    assert fa.score(X[:300]) == pytest.approx(expected.mean())


def test_em_never_decreases_the_log_likelihood(fitted):
    fa, X, *_ = fitted
    ll = np.array(fa.loglike_)
    assert np.all(np.diff(ll) >= -1e-10)
    # the recorded value is the log-likelihood of the training data under the final model
    assert ll[-1] == pytest.approx(fa.score(X), rel=1e-9)


def test_recovers_known_loadings_and_noise(fitted):
    fa, X, W, psi, mu = fitted
    np.testing.assert_allclose(fa.noise_variance_, psi, atol=0.05)
    W_hat = align_loadings(fa.components_.T, W)
    np.testing.assert_allclose(W_hat, W, atol=0.08)
    np.testing.assert_allclose(fa.get_covariance(), W @ W.T + np.diag(psi), atol=0.1)


def test_precision_and_posterior_mean(fitted):
    fa, X, *_ = fitted
    C = fa.get_covariance()
    np.testing.assert_allclose(fa.get_precision(), np.linalg.inv(C), atol=1e-10)
    # E[z | x] from Gaussian conditioning: W^T C^-1 (x - mu)
    W = fa.components_.T
    np.testing.assert_allclose(fa.transform(X[:50]), (X[:50] - fa.mean_) @ np.linalg.solve(C, W), atol=1e-10)


def test_fa_beats_ppca_when_noise_differs_per_feature(fitted):
    fa, X, *_ = fitted
    X_test = synthetic(n=2000, seed=1)[0]
    assert fa.score(X_test) > PCA(2).fit(X).score(X_test) + 0.1


def test_matches_sklearn_likelihood():
    sk = pytest.importorskip("sklearn.decomposition")
    X = synthetic(n=1000, seed=2)[0]
    ours = FactorAnalysis(2, tol=1e-10, random_state=0).fit(X)
    theirs = sk.FactorAnalysis(2, tol=1e-10, max_iter=5000).fit(X)
    assert ours.score(X) == pytest.approx(theirs.score(X), abs=1e-4)
    np.testing.assert_allclose(ours.noise_variance_, theirs.noise_variance_, atol=1e-3)


def test_samples_follow_the_model(fitted):
    fa, *_ = fitted
    S = fa.sample(30000, random_state=0)
    np.testing.assert_allclose(np.cov(S.T), fa.get_covariance(), atol=0.05)


def test_align_loadings_undoes_a_rotation():
    rng = np.random.default_rng(0)
    W = rng.normal(size=(6, 3))
    Q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    np.testing.assert_allclose(align_loadings(W @ Q, W), W, atol=1e-10)
    with pytest.raises(ValueError, match="shapes"):
        align_loadings(W, W[:, :2])


def test_errors():
    X = synthetic(n=100)[0]
    with pytest.raises(NotFittedError):
        FactorAnalysis().score(X)
    with pytest.raises(ValueError, match="n_components"):
        FactorAnalysis(0)
    with pytest.raises(ValueError, match="exceeds"):
        FactorAnalysis(9).fit(X)
    with pytest.raises(ValueError, match="NaN"):
        FactorAnalysis().fit(np.where(X > 1, np.nan, X))
    with pytest.raises(ValueError, match="at least 2"):
        FactorAnalysis().fit(X[:1])
    fa = FactorAnalysis(2, max_iter=5).fit(X)
    with pytest.raises(ValueError, match="features"):
        fa.transform(X[:, :4])
