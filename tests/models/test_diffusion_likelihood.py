"""The variational bound: the decoder normalises, the prior term has its closed form, and an
oracle ε (the true noise) makes every denoising KL vanish."""
import math

import numpy as np
import pytest

import minigen as mg
from minigen.models.diffusion import make_schedule
from minigen.models.diffusion.likelihood import (discretized_gaussian_log_likelihood, prior_kl,
                                                 vlb_bits_per_dim, vlb_terms)


def test_discretized_decoder_sums_to_one_over_the_256_levels():
    levels = mg.tensor(np.linspace(-1, 1, 256))
    for mean, std in ((0.3, 0.01), (-0.99, 0.2), (1.5, 0.5)):
        logp = discretized_gaussian_log_likelihood(levels, mg.tensor(np.full(256, mean)),
                                                   mg.tensor(np.full(256, std)))
        assert np.exp(logp.numpy()).sum() == pytest.approx(1.0, abs=1e-9)


def test_prior_kl_closed_form():
    s = make_schedule("linear", 1000)
    x0 = mg.tensor(np.array([[0.5, -1.0]]))
    a = s.alpha_bars[-1]
    want = sum(0.5 * (a * v ** 2 + (1 - a) - 1 - math.log(1 - a)) for v in (0.5, -1.0))
    assert prior_kl(s, x0).item() == pytest.approx(want, rel=1e-10)


def test_oracle_eps_makes_the_denoising_terms_vanish():
    """ε_θ = the true noise ⇒ μ_θ = μ̃ ⇒ every L_{t−1} = 0 (with σ_t² = β̃_t); then L_0 is the
    mass of N(x_0, β_1) over the right bin."""
    s = make_schedule("linear", 100)
    rng = np.random.default_rng(0)
    x0 = mg.tensor((rng.integers(0, 256, (3, 5)) / 255 * 2 - 1).astype(np.float64))

    def oracle(xt, t):
        a = s.sqrt_alpha_bars[t][:, None]
        return (xt - a * x0.numpy()) / s.sqrt_one_minus_alpha_bars[t][:, None]

    oracle_fn = lambda xt, t: mg.tensor(oracle(xt.numpy(), t))
    prior, denoising, decoder = vlb_terms(oracle_fn, s, x0)
    np.testing.assert_allclose(denoising, 0, atol=1e-6)
    p_bin = math.erf((1 / 255) / (math.sqrt(s.betas[0]) * math.sqrt(2)))
    interior = (np.abs(x0.numpy()) < 1 - 1e-6).sum(axis=1)
    edge = 5 - interior
    np.testing.assert_allclose(decoder, -(interior * math.log(p_bin) + edge * math.log((1 + p_bin) / 2)),
                               rtol=1e-6)
    np.testing.assert_allclose(prior, prior_kl(s, x0).numpy())


def test_subsampled_estimate_is_close_to_the_full_sum():
    s = make_schedule("cosine", 60)
    images = np.random.default_rng(1).integers(0, 256, (4, 6)) / 255
    eps_fn = lambda xt, t: xt * 0.5                         # any fixed, wrong predictor
    full = vlb_bits_per_dim(eps_fn, s, images, seed=0)
    estimates = [vlb_bits_per_dim(eps_fn, s, images, steps=20, seed=k)["denoising"] for k in range(40)]
    stderr = np.std(estimates, ddof=1) / np.sqrt(len(estimates))
    assert abs(np.mean(estimates) - full["denoising"]) < 4 * stderr + 0.05 * full["denoising"]
    assert vlb_bits_per_dim(eps_fn, s, images, steps=59, seed=0) == full     # all terms: the full sum
    assert full["bits_per_dim"] == pytest.approx(full["nats"] / (6 * math.log(2)))
    assert full["nats"] == pytest.approx(full["prior"] + full["denoising"] + full["decoder"])
