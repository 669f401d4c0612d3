"""The importance-sampled log-likelihood estimate, checked against a model whose log p(x)
is known in closed form (the linear-Gaussian VAE), and its chunked evaluation."""
import numpy as np
import pytest
from scipy import stats

import minigen as mg
from minigen.models.vae import LinearGaussianVAE


@pytest.fixture
def model_and_data():
    mg.manual_seed(0)
    model = LinearGaussianVAE(x_dim=6, latent_dim=2, sigma=0.5).double()
    rng = np.random.default_rng(0)
    model.decoder.weight.data = rng.standard_normal((6, 2))     # a non-orthogonal W
    model.decoder.bias.data = rng.standard_normal(6)
    x = model.sample_data(40, rng)
    return model, x


def test_exact_log_likelihood_matches_scipy(model_and_data):
    model, x = model_and_data
    mean, cov = model.marginal()
    ref = stats.multivariate_normal(mean, cov).logpdf(x)
    np.testing.assert_allclose(model.exact_log_likelihood(x), ref, rtol=1e-10)


def test_elbo_is_below_log_px_even_with_the_best_diagonal_q(model_and_data):
    model, x = model_and_data
    model.set_encoder()                      # exact posterior mean, diagonal of its covariance
    gap = model.exact_log_likelihood(x) - model.evaluate_elbo(x, samples=200)["elbo"]
    assert gap.mean() > 0.01                 # the true posterior is not diagonal


def test_importance_sampling_converges_to_exact_log_px(model_and_data):
    """A deliberately poor q (shifted mean, inflated variance): the ELBO is far off, the
    estimate with k samples approaches log p(x) as k grows (k = 5000 within 0.03 nats)."""
    model, x = model_and_data
    model.set_encoder(mean_shift=0.3, logvar_shift=0.5)
    exact = model.exact_log_likelihood(x)
    mg.manual_seed(1)
    errors = {k: float(np.abs(model.log_likelihood(x, k=k) - exact).mean()) for k in (1, 10, 100, 5000)}
    assert errors[1] > 1.0
    assert errors[1] > errors[10] > errors[100] > errors[5000]
    assert errors[5000] < 0.03
    # the bias is downward (Jensen): on average the estimate sits below log p(x)
    mg.manual_seed(2)
    assert (model.log_likelihood(x, k=10) - exact).mean() < 0


def test_chunking_changes_memory_not_the_estimate(model_and_data):
    """k = 5000 in chunks of at most `chunk_rows` decoder rows: the same noise stream, so
    the same numbers as one big chunk; and no decoder call ever sees more rows."""
    model, x = model_and_data
    model.set_encoder(mean_shift=0.3)
    rows = []
    handle = model.decoder.register_forward_hook(lambda module, inputs, output: rows.append(len(output)))
    mg.manual_seed(3)
    chunked = model.log_likelihood(x, k=5000, batch_size=20, chunk_rows=3000)
    assert max(rows) <= 3000 and sum(rows) == 5000 * len(x)
    handle.remove()
    mg.manual_seed(3)
    whole = model.log_likelihood(x, k=5000, batch_size=20, chunk_rows=10 ** 6)
    np.testing.assert_allclose(chunked, whole, rtol=1e-10)


def test_k1_estimate_is_an_unbiased_elbo(model_and_data):
    """With k = 1, E[log w] = ELBO (sampled KL vs analytic KL agree in expectation)."""
    model, x = model_and_data
    model.set_encoder(mean_shift=0.2)
    many = np.repeat(x[:5], 4000, axis=0)
    mg.manual_seed(4)
    lw = model.log_likelihood(many, k=1, batch_size=4000).reshape(5, -1).mean(1)
    elbo = model.evaluate_elbo(many, batch_size=4000)["elbo"].reshape(5, -1).mean(1)
    np.testing.assert_allclose(lw, elbo, atol=0.1)
