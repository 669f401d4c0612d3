"""minigen.models.vae.evaluation: the importance-sampled log p(x) is the IWAE bound of the
same samples, whatever the chunking; the codes and reconstructions have one definition
for the VAE and the autoencoder."""
import math

import numpy as np
import pytest
from scipy.special import logsumexp

import minigen as mg
from minigen.models.vae import VAE, Autoencoder, evaluating
from minigen.models.vae import evaluation


def binary(rng, n):
    return (rng.random((n, 784)) < 0.3).astype(np.float32)


def test_log_likelihood_is_the_iwae_bound_of_the_same_samples():
    rng = np.random.default_rng(0)
    mg.manual_seed(0)
    model = VAE.mlp(latent_dim=3, hidden=8)
    x = binary(rng, 6)
    mg.manual_seed(1)
    estimate = evaluation.log_likelihood(model, x, k=5, batch_size=len(x), chunk_rows=10**6)
    mg.manual_seed(1)
    with evaluating(model):
        log_w = model.log_weights(x, 5).numpy().astype(np.float64)        # (5, 6)
    np.testing.assert_allclose(estimate, logsumexp(log_w, axis=0) - math.log(5), rtol=1e-12)
    assert estimate.dtype == np.float64 and estimate.shape == (6,)


def test_chunks_of_samples_give_the_unchunked_estimate():
    rng = np.random.default_rng(1)
    mg.manual_seed(0)
    model = VAE.mlp(latent_dim=3, hidden=8)
    x = binary(rng, 4)
    mg.manual_seed(2)
    whole = model.log_likelihood(x, k=9, batch_size=4, chunk_rows=10**6)
    mg.manual_seed(2)
    chunked = model.log_likelihood(x, k=9, batch_size=4, chunk_rows=8)   # 2 samples a chunk
    np.testing.assert_allclose(chunked, whole, rtol=1e-6)


def test_method_and_function_are_the_same_evaluation():
    rng = np.random.default_rng(2)
    mg.manual_seed(0)
    model = VAE.mlp(latent_dim=2, hidden=8)
    x = binary(rng, 5)
    mg.manual_seed(3)
    a = model.evaluate_elbo(x, batch_size=2)
    mg.manual_seed(3)
    b = evaluation.evaluate_elbo(model, x, batch_size=2)
    for key in ("reconstruction", "kl", "elbo"):
        np.testing.assert_array_equal(a[key], b[key])


def test_codes_and_reconstructions_of_both_models():
    # (latent_means goes in batches: BLAS may round a batch of 2 differently from one of 5)
    rng = np.random.default_rng(3)
    mg.manual_seed(0)
    vae, ae = VAE.mlp(latent_dim=2, hidden=8), Autoencoder.mlp(latent_dim=2, hidden=8)
    x = binary(rng, 5)
    with evaluating(vae):
        mu, _ = vae.encode(x)
    np.testing.assert_allclose(vae.latent_means(x, batch_size=2), mu.numpy(), rtol=1e-5)
    with evaluating(ae):
        code = ae.encode(x).numpy()
    np.testing.assert_allclose(ae.latent_means(x, batch_size=2), code, rtol=1e-5)
    assert not np.array_equal(vae.reconstruct(x, sample_z=True).numpy(), vae.reconstruct(x).numpy())
    with pytest.raises(ValueError, match="no q\\(z \\| x\\) to sample"):
        ae.reconstruct(x, sample_z=True)
