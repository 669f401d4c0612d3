"""PCA against an eigendecomposition of the covariance; PPCA against a direct Gaussian density."""
import numpy as np
import pytest
from scipy import stats

from minigen.models.classic import PCA, NotFittedError


@pytest.fixture
def X():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(6, 6)) * np.array([3.0, 2.0, 1.5, 0.5, 0.3, 0.1])[:, None]
    return rng.normal(size=(200, 6)) @ A + np.arange(6)


def test_components_are_the_covariance_eigenvectors(X):
    pca = PCA().fit(X)
    evals, evecs = np.linalg.eigh(np.cov(X.T))
    evals, evecs = evals[::-1], evecs[:, ::-1]
    np.testing.assert_allclose(pca.explained_variance_, evals, rtol=1e-10)
    np.testing.assert_allclose(pca.explained_variance_ratio_, evals / evals.sum(), rtol=1e-10)
    for i in range(6):                                   # eigenvectors are defined up to sign
        assert abs(pca.components_[i] @ evecs[:, i]) == pytest.approx(1.0, abs=1e-9)
    np.testing.assert_allclose(pca.components_ @ pca.components_.T, np.eye(6), atol=1e-12)
    np.testing.assert_allclose(pca.mean_, X.mean(0))


def test_transform_round_trip_and_reconstruction_error(X):
    full = PCA().fit(X)
    np.testing.assert_allclose(full.inverse_transform(full.transform(X)), X, atol=1e-10)
    pca = PCA(n_components=2).fit(X)
    Z = pca.transform(X)
    assert Z.shape == (200, 2)
    np.testing.assert_allclose(Z.var(0, ddof=1), pca.explained_variance_, rtol=1e-10)
    # Eckart-Young: the mean squared error of the rank-k reconstruction is the discarded variance
    err = np.sum((X - pca.inverse_transform(Z)) ** 2) / (len(X) - 1)
    assert err == pytest.approx(full.explained_variance_[2:].sum(), rel=1e-10)
    np.testing.assert_allclose(pca.reconstruct(X), pca.inverse_transform(Z))
    np.testing.assert_allclose(full.reconstruct(X, k=2), pca.reconstruct(X), atol=1e-10)
    np.testing.assert_allclose(full.reconstruct(X, k=0), np.tile(X.mean(0), (200, 1)))


@pytest.mark.parametrize("k", [1, 2, 4])
def test_truncate_equals_a_fresh_fit(X, k):
    small, cut = PCA(k).fit(X), PCA().fit(X).truncate(k)
    for name in ("components_", "explained_variance_", "explained_variance_ratio_", "singular_values_"):
        np.testing.assert_allclose(getattr(cut, name), getattr(small, name), atol=1e-12)
    assert cut.noise_variance_ == pytest.approx(small.noise_variance_)
    assert cut.score(X) == pytest.approx(small.score(X))
    with pytest.raises(ValueError, match="k must"):
        small.truncate(k + 1)


def test_whitening(X):
    pca = PCA(3, whiten=True).fit(X)
    Z = pca.transform(X)
    np.testing.assert_allclose(np.cov(Z.T), np.eye(3), atol=1e-10)
    np.testing.assert_allclose(pca.inverse_transform(Z), PCA(3).fit(X).reconstruct(X), atol=1e-10)


def test_fractional_n_components_picks_the_smallest_k(X):
    ratio = PCA().fit(X).explained_variance_ratio_
    pca = PCA(0.95).fit(X)
    k = pca.n_components_
    assert ratio[:k].sum() >= 0.95 and ratio[:k - 1].sum() < 0.95


@pytest.mark.parametrize("k", [1, 3, 5, 6])
def test_ppca_score_is_the_gaussian_log_likelihood(X, k):
    pca = PCA(k).fit(X)
    C = pca.get_covariance()
    expected = stats.multivariate_normal(pca.mean_, C).logpdf(X)
    np.testing.assert_allclose(pca.score_samples(X), expected, rtol=1e-10)
    assert pca.score(X) == pytest.approx(expected.mean())


def test_ppca_covariance_is_the_ml_solution(X):
    """Eigenvalues of W W^T + s2 I: the top k sample eigenvalues, then s2 = their discarded mean."""
    full = PCA().fit(X)
    pca = PCA(2).fit(X)
    assert pca.noise_variance_ == pytest.approx(full.explained_variance_[2:].mean())
    evals = np.sort(np.linalg.eigvalsh(pca.get_covariance()))[::-1]
    np.testing.assert_allclose(evals[:2], full.explained_variance_[:2], rtol=1e-10)
    np.testing.assert_allclose(evals[2:], pca.noise_variance_, rtol=1e-10)


def test_ppca_score_matches_sklearn(X):
    sk = pytest.importorskip("sklearn.decomposition")
    ours, theirs = PCA(3).fit(X), sk.PCA(3).fit(X)
    assert ours.score(X) == pytest.approx(theirs.score(X), rel=1e-10)
    np.testing.assert_allclose(np.abs(ours.components_), np.abs(theirs.components_), atol=1e-10)


def test_more_samples_than_features_not_needed():
    """n < d: the SVD gives n - 1 non-zero variances; PPCA still has a proper density."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(10, 30))
    pca = PCA(4).fit(X)
    assert pca.noise_variance_ > 0
    np.testing.assert_allclose(pca.score_samples(X),
                               stats.multivariate_normal(pca.mean_, pca.get_covariance()).logpdf(X))


def test_ppca_samples_have_the_model_covariance(X):
    pca = PCA(2).fit(X)
    S = pca.sample(40000, random_state=0)
    np.testing.assert_allclose(S.mean(0), pca.mean_, atol=0.08)
    np.testing.assert_allclose(np.cov(S.T), pca.get_covariance(), atol=0.25)


def test_errors(X):
    with pytest.raises(NotFittedError):
        PCA().transform(X)
    with pytest.raises(ValueError, match="n_components"):
        PCA(0)
    with pytest.raises(ValueError, match="n_components"):
        PCA(1.5)
    with pytest.raises(ValueError, match="exceeds"):
        PCA(7).fit(X)
    with pytest.raises(ValueError, match="NaN"):
        PCA().fit(np.where(X > 5, np.nan, X))
    with pytest.raises(ValueError, match="2-D"):
        PCA().fit(X[0])
    pca = PCA(2).fit(X)
    with pytest.raises(ValueError, match="features"):
        pca.transform(X[:, :3])
    with pytest.raises(ValueError, match="components"):
        pca.inverse_transform(np.zeros((2, 3)))
    with pytest.raises(TypeError):
        PCA().fit("not an array")
    with pytest.raises(ValueError, match="singular"):
        PCA(1).fit(np.tile(X[:, :1], (1, 3)) * [1, 2, 3]).score(X[:, :3])
