"""Matrix factorisation: truncated SVD (Eckart-Young) and the engine-trained latent-factor model."""
import numpy as np
import pytest

from minigen.models.classic import (LatentFactorModel, NotFittedError, SVDImputer,
                                    make_low_rank_ratings)

NOISE = 0.5


@pytest.fixture(scope="module")
def ratings():
    return make_low_rank_ratings(n_rows=300, n_cols=200, rank=5, noise=NOISE, density=0.3,
                                 random_state=0)


def test_generator_splits_observed_entries(ratings):
    R_train, R_test, clean = ratings
    train, test = ~np.isnan(R_train), ~np.isnan(R_test)
    assert not (train & test).any()
    assert 0.2 < (train | test).mean() < 0.4
    assert 0.15 < test.sum() / (train | test).sum() < 0.25
    resid = (R_train - clean)[train]
    assert resid.std() == pytest.approx(NOISE, rel=0.05)


def test_svd_of_a_complete_matrix_is_the_eckart_young_truncation():
    rng = np.random.default_rng(0)
    R = rng.normal(size=(30, 20))
    model = SVDImputer(rank=4).fit(R)
    m = R.mean(0)
    U, S, Vt = np.linalg.svd(R - m, full_matrices=False)
    np.testing.assert_allclose(model.complete(), m + (U[:, :4] * S[:4]) @ Vt[:4], atol=1e-10)
    np.testing.assert_allclose(model.singular_values_, S[:4])
    rows, cols = np.array([0, 5, 29]), np.array([3, 3, 19])
    np.testing.assert_allclose(model.predict(rows, cols), model.complete()[rows, cols])


def test_svd_imputation_and_iterating_it(ratings):
    R_train, R_test, clean = ratings
    one_pass = SVDImputer(rank=5).fit(R_train)
    iterated = SVDImputer(rank=5, n_iter=30).fit(R_train)
    # the mean-filled holes pull every prediction towards the mean; refilling removes that bias
    assert iterated.rmse(R_test) < one_pass.rmse(R_test) - 0.2
    assert iterated.rmse(R_test) < 1.2 * NOISE


def test_latent_factor_model_reaches_the_noise_level(ratings):
    """Held-out RMSE close to the noise std (the best any predictor can do) and far below the mean's."""
    R_train, R_test, _ = ratings
    model = LatentFactorModel(rank=5, reg=0.01, lr=0.01, n_epochs=15, batch_size=256,
                              random_state=0).fit(R_train, R_val=R_test)
    mean_rmse = np.sqrt(np.nanmean((R_test - np.nanmean(R_train)) ** 2))
    test_rmse = model.rmse(R_test)
    assert test_rmse < 1.2 * NOISE
    assert test_rmse < 0.6 * mean_rmse
    assert model.history_[-1]["val_rmse"] == pytest.approx(test_rmse)
    assert model.history_[-1]["train_rmse"] < model.history_[0]["train_rmse"]
    np.testing.assert_allclose(model.predict([0, 1], [2, 3]), model.complete()[[0, 1], [2, 3]])


def test_latent_factor_model_with_plain_sgd(ratings):
    R_train, R_test, _ = ratings
    model = LatentFactorModel(rank=5, reg=0.01, optimizer="sgd", lr=3.0, n_epochs=15,
                              random_state=0).fit(R_train)
    assert model.rmse(R_test) < 1.25 * NOISE


def test_loss_gradient_is_checked_numerically():
    """The model's loss, as an engine graph, has the gradient finite differences say (float64)."""
    import minigen as mg
    from minigen.gradcheck import gradcheck
    rng = np.random.default_rng(0)
    model = LatentFactorModel(rank=2, reg=0.3)
    i, j = np.array([0, 2, 2, 1]), np.array([1, 0, 1, 1])   # repeated rows: gradients must add up
    r = mg.tensor(rng.normal(size=4))
    mu = mg.tensor(np.array([0.5]))
    params = [mg.tensor(rng.normal(size=s), requires_grad=True) for s in [(3,), (2,), (3, 2), (2, 2)]]
    gradcheck(lambda b, c, U, V: model._loss(mu, b, c, U, V, i, j, r), params)


def test_errors(ratings):
    R_train = ratings[0]
    with pytest.raises(NotFittedError):
        SVDImputer().complete()
    with pytest.raises(NotFittedError):
        LatentFactorModel().rmse(R_train)
    with pytest.raises(ValueError, match="no observed"):
        SVDImputer().fit(np.full((4, 4), np.nan))
    with pytest.raises(ValueError, match="rank"):
        SVDImputer(rank=500).fit(R_train)
    with pytest.raises(ValueError, match="optimizer"):
        LatentFactorModel(optimizer="lbfgs")
    model = SVDImputer(rank=3).fit(R_train)
    with pytest.raises(ValueError, match="shape"):
        model.rmse(R_train[:10])
    with pytest.raises(ValueError, match="out of range"):
        model.predict([0], [10_000])
    with pytest.raises(ValueError, match="infinite"):
        SVDImputer().fit(np.where(np.isnan(R_train), np.inf, R_train))
