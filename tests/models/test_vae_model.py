"""VAE building blocks: the reparameterisation, log-densities, likelihoods, ELBO terms,
IWAE bound, shapes and error messages."""
import math

import numpy as np
import pytest
from scipy import stats

import minigen as mg
import minigen.functional as F
from minigen.models.vae import (VAE, Autoencoder, BernoulliLikelihood, GaussianLikelihood,
                                LinearGaussianVAE, log_normal, log_standard_normal,
                                make_likelihood, reparameterize)


def binary(rng, *shape):
    return (rng.random(shape) > 0.5).astype(np.float32)


def test_reparameterize_uses_half_logvar():
    """std = exp(logvar / 2): logvar = log 4 must give samples of standard deviation 2."""
    mg.manual_seed(0)
    mu = mg.zeros(100_000, 1)
    logvar = mg.full((100_000, 1), math.log(4.0))
    z = reparameterize(mu, logvar, mg.randn(100_000, 1))
    assert abs(float(z.numpy().std()) - 2.0) < 0.02


def test_reparameterize_gradient_flows_to_mu_and_logvar():
    mu = mg.tensor([[0.5, -1.0]], dtype=np.float64, requires_grad=True)
    logvar = mg.tensor([[0.2, -0.4]], dtype=np.float64, requires_grad=True)
    eps = mg.tensor([[1.5, -0.3]], dtype=np.float64)
    reparameterize(mu, logvar, eps).sum().backward()
    np.testing.assert_allclose(mu.grad.numpy(), [[1.0, 1.0]])
    # dz/dlogvar = eps * sigma / 2
    np.testing.assert_allclose(logvar.grad.numpy(), eps.numpy() * np.exp(logvar.numpy() / 2) / 2)
    assert eps.grad is None


def test_log_normal_matches_scipy():
    rng = np.random.default_rng(0)
    z, mu, logvar = rng.standard_normal((3, 4, 5))
    ours = log_normal(mg.tensor(z), mg.tensor(mu), mg.tensor(logvar)).numpy()
    ref = stats.norm.logpdf(z, mu, np.exp(logvar / 2)).sum(-1)
    np.testing.assert_allclose(ours, ref, rtol=1e-5)
    np.testing.assert_allclose(log_standard_normal(mg.tensor(z)).numpy(),
                               stats.norm.logpdf(z).sum(-1), rtol=1e-5)


def test_bernoulli_likelihood_sums_over_pixels():
    """One number per image, a SUM over pixels (no hidden 1/784 factor)."""
    rng = np.random.default_rng(1)
    x, logits = binary(rng, 3, 784), rng.standard_normal((3, 784)).astype(np.float32)
    ours = BernoulliLikelihood().log_prob(mg.tensor(x), mg.tensor(logits), 1).numpy()
    p = 1 / (1 + np.exp(-logits.astype(np.float64)))
    ref = (x * np.log(p) + (1 - x) * np.log(1 - p)).sum(-1)
    np.testing.assert_allclose(ours, ref, rtol=1e-5)
    # all-zero logits: exactly 784 log(1/2) per image
    flat = BernoulliLikelihood().log_prob(mg.tensor(x), mg.zeros(3, 784), 1).numpy()
    np.testing.assert_allclose(flat, 784 * math.log(0.5), rtol=1e-6)


def test_gaussian_likelihood_fixed_and_learned_sigma():
    rng = np.random.default_rng(2)
    x, m = rng.random((2, 1, 28, 28)), rng.random((2, 1, 28, 28))
    fixed = GaussianLikelihood((1, 28, 28), sigma=0.3)
    ref = stats.norm.logpdf(x, m, 0.3).reshape(2, -1).sum(-1)
    np.testing.assert_allclose(fixed.log_prob(mg.tensor(x), mg.tensor(m), 3).numpy(), ref, rtol=1e-6)
    learned = GaussianLikelihood((1, 28, 28), init_sigma=0.2).double()
    ref = stats.norm.logpdf(x, m, 0.2).reshape(2, -1).sum(-1)
    np.testing.assert_allclose(learned.log_prob(mg.tensor(x), mg.tensor(m), 3).numpy(), ref, rtol=1e-6)
    assert len(list(learned.parameters())) == 1 and not list(fixed.parameters())


def test_elbo_terms_are_nats_per_image():
    rng = np.random.default_rng(3)
    mg.manual_seed(0)
    model = VAE.mlp(latent_dim=4, hidden=16, beta=1.0)
    x = binary(rng, 5, 784)
    eps = mg.randn(5, 4)
    terms = model.elbo(x, eps=eps)
    mu, logvar = model.encode(x)
    kl_ref = 0.5 * (np.exp(logvar.numpy()) + mu.numpy() ** 2 - 1 - logvar.numpy()).sum(-1)
    np.testing.assert_allclose(terms.kl.numpy(), kl_ref, rtol=1e-5)
    z = reparameterize(mu, logvar, eps)
    bce = F.binary_cross_entropy_with_logits(model.decode(z), mg.tensor(x), reduction="sum").item()
    np.testing.assert_allclose(terms.reconstruction.numpy().sum(), bce, rtol=1e-5)
    np.testing.assert_allclose(terms.loss.item(), (terms.reconstruction.numpy() + kl_ref).mean(), rtol=1e-5)
    s = terms.summary()
    assert s["elbo"] == pytest.approx(-(s["reconstruction"] + s["kl"]))
    assert 400 < s["reconstruction"] < 700            # ~784 log 2 = 543 at initialisation


def test_beta_weights_the_kl_in_the_loss_only():
    rng = np.random.default_rng(4)
    mg.manual_seed(0)
    model = VAE.mlp(latent_dim=3, hidden=8)
    x, eps = binary(rng, 4, 784), mg.randn(4, 3)
    plain, heavy = model.elbo(x, eps=eps), model.elbo(x, beta=4.0, eps=eps)
    np.testing.assert_allclose(heavy.elbo.numpy(), plain.elbo.numpy())
    expected = (plain.reconstruction.numpy() + 4 * plain.kl.numpy()).mean()
    assert heavy.loss.item() == pytest.approx(expected, rel=1e-5)


def test_iwae_bound_with_one_sample_is_the_log_weight():
    rng = np.random.default_rng(5)
    mg.manual_seed(0)
    model = VAE.mlp(latent_dim=3, hidden=8)
    x = binary(rng, 4, 784)
    eps = mg.randn(1, 4, 3)
    lw = model.log_weights(x, 1, eps=eps)
    np.testing.assert_allclose(model.iwae_bound(x, 1, eps=eps).numpy(), lw.numpy()[0], rtol=1e-6)
    # k copies of the same sample: logsumexp(k copies) - log k = the same number
    same = mg.tensor(np.repeat(eps.numpy(), 6, axis=0))
    np.testing.assert_allclose(model.iwae_bound(x, 6, eps=same).numpy(), lw.numpy()[0], rtol=1e-5)


def test_iwae_bound_grows_with_k_on_average():
    mg.manual_seed(0)
    model = LinearGaussianVAE(6, 2, 0.5).double()
    rng = np.random.default_rng(0)
    model.decoder.weight.data = rng.standard_normal((6, 2))
    x = model.sample_data(200, rng)
    means = [float(model.iwae_bound(x, k).numpy().mean()) for k in (1, 10, 100)]
    assert means[0] < means[1] < means[2] <= float(model.exact_log_likelihood(x).mean()) + 0.05


@pytest.mark.parametrize("arch", ["mlp", "conv"])
def test_shapes(arch):
    rng = np.random.default_rng(6)
    mg.manual_seed(0)
    model = VAE.mlp(latent_dim=3, hidden=8) if arch == "mlp" else VAE.conv(latent_dim=3, channels=4)
    x = binary(rng, 2, 28, 28)                          # any layout with 784 values per image
    mu, logvar = model.encode(x)
    assert mu.shape == logvar.shape == (2, 3)
    assert model.decode(mg.randn(5, 2, 3)).shape == (5, 2) + model.x_shape
    assert model.log_weights(x, 5).shape == (5, 2)
    assert model.iwae_bound(x, 5).shape == (2,)
    assert model.reconstruct(x).shape == (2,) + model.x_shape
    assert model.generate(7).shape == (7,) + model.x_shape
    assert model.log_likelihood(x, k=3).shape == (2,)
    assert model.latent_means(x).shape == (2, 3)
    assert set(model.evaluate_elbo(x)) == {"reconstruction", "kl", "elbo"}
    ae = Autoencoder.mlp(latent_dim=3, hidden=8) if arch == "mlp" else Autoencoder.conv(latent_dim=3, channels=4)
    assert ae.encode(x).shape == (2, 3)
    assert ae.reconstruction_loss(x).shape == (2,)
    assert ae.reconstruct(x).shape == (2,) + ae.x_shape


def test_clear_errors():
    model = VAE.mlp(latent_dim=3, hidden=8)
    with pytest.raises(ValueError, match="784 values"):
        model.elbo(np.zeros((2, 100), dtype=np.float32))
    with pytest.raises(ValueError, match="eps must have shape"):
        model.log_weights(np.zeros((2, 784), dtype=np.float32), 4, eps=mg.randn(3, 2, 3))
    with pytest.raises(ValueError, match="k must be at least 1"):
        model.iwae_bound(np.zeros((2, 784), dtype=np.float32), 0)
    with pytest.raises(ValueError, match="k must be at least 1"):
        model.log_likelihood(np.zeros((2, 784), dtype=np.float32), k=0)
    with pytest.raises(ValueError, match="latent size 3"):
        model.decode(mg.randn(2, 5))
    with pytest.raises(ValueError, match="objective"):
        model.loss(np.zeros((2, 784), dtype=np.float32), objective="gan")
    with pytest.raises(ValueError, match="likelihood"):
        make_likelihood("poisson")


def test_evaluation_restores_training_mode_and_records_no_graph():
    model = VAE.conv(latent_dim=2, channels=4)
    model.train()
    x = np.zeros((2, 784), dtype=np.float32)
    model.log_likelihood(x, k=2)
    assert model.training
    assert model.reconstruct(x).creator is None
