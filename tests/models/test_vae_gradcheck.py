"""Model-level gradient checks: the whole ELBO and the whole IWAE bound of a tiny VAE,
in float64 with the noise held fixed, against finite differences (every parameter).

These are the checks that catch a wrong loss *composition* -- a sign, a missing
exp(logvar / 2), a KL summed over the wrong axis -- which per-op checks cannot see.
"""
import numpy as np
import pytest

import minigen as mg
from minigen.models.vae import VAE, Autoencoder, LinearGaussianVAE


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def tiny(likelihood="bernoulli", beta=1.0):
    mg.manual_seed(0)
    return VAE.mlp(latent_dim=2, hidden=4, x_dim=5, likelihood=likelihood, beta=beta).double()


def check(fn, params):
    report = mg.gradcheck(lambda *_: fn(), params, name=getattr(fn, "__name__", "loss"))
    assert report.ok
    return report


@pytest.mark.parametrize("beta", [1.0, 3.0])
def test_elbo_bernoulli(rng, beta):
    model = tiny(beta=beta)
    x = mg.tensor((rng.random((3, 5)) > 0.5).astype(np.float64))
    eps = mg.tensor(rng.standard_normal((3, 2)))
    check(lambda: model.elbo(x, eps=eps).loss, list(model.parameters()))


def test_elbo_gaussian_learned_sigma(rng):
    model = tiny("gaussian")
    x = mg.tensor(rng.random((3, 5)))
    eps = mg.tensor(rng.standard_normal((3, 2)))
    params = list(model.parameters())
    assert any(p.shape == (5,) and p is model.likelihood.log_sigma for p in params)
    check(lambda: model.elbo(x, eps=eps).loss, params)


def test_iwae_bound(rng):
    model = tiny()
    x = mg.tensor((rng.random((3, 5)) > 0.5).astype(np.float64))
    eps = mg.tensor(rng.standard_normal((4, 3, 2)))
    # all three per-image bounds (a vector output: gradcheck projects on a random direction)
    check(lambda: model.iwae_bound(x, 4, eps=eps), list(model.parameters()))


def test_iwae_bound_gaussian(rng):
    model = tiny("gaussian")
    x = mg.tensor(rng.random((2, 5)))
    eps = mg.tensor(rng.standard_normal((3, 2, 2)))
    check(lambda: model.iwae_bound(x, 3, eps=eps).mean(), list(model.parameters()))


def test_linear_gaussian_elbo_and_bound(rng):
    mg.manual_seed(0)
    model = LinearGaussianVAE(4, 2, 0.7).double()
    x = mg.tensor(rng.standard_normal((3, 4)))
    eps = mg.tensor(rng.standard_normal((3, 2)))
    check(lambda: model.elbo(x, eps=eps).loss, list(model.parameters()))
    eps_k = mg.tensor(rng.standard_normal((5, 3, 2)))
    check(lambda: model.iwae_bound(x, 5, eps=eps_k).sum(), list(model.parameters()))


def test_autoencoder_loss(rng):
    mg.manual_seed(0)
    model = Autoencoder.mlp(latent_dim=2, hidden=4, x_dim=5).double()
    x = mg.tensor((rng.random((3, 5)) > 0.5).astype(np.float64))
    check(lambda: model.loss(x)[0], list(model.parameters()))


def test_conv_vae_elbo(rng):
    """The DCGAN-style conv VAE (batch norm in training mode included).  Finite
    differences cost two forward passes per parameter element, so only the small
    tensors are checked -- the first and last convolutions, every bias and batch-norm
    affine; the large layers still take part in the computation."""
    mg.manual_seed(0)
    model = VAE.conv(latent_dim=2, channels=2).double()
    x = mg.tensor((rng.random((2, 1, 28, 28)) > 0.5).astype(np.float64))
    eps = mg.tensor(rng.standard_normal((2, 2)))
    small = [p for p in model.parameters() if p.numel() <= 40]
    assert len(small) >= 10
    check(lambda: model.elbo(x, eps=eps).loss, small)
