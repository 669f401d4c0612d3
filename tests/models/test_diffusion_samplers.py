"""DDPM and DDIM on the engine: the time embedding, the loss's gradients, and the
samplers checked with the *exact* ε* of a Gaussian mixture (no training needed)."""
import numpy as np
import pytest

import minigen as mg
from minigen.models.diffusion import (GaussianMixture, ToyEpsNet, ddim_encode, ddim_sample,
                                      ddim_sigma, ddim_step, ddim_timesteps, ddpm_loss,
                                      ddpm_sample, ddpm_step, make_schedule, timestep_embedding)


def test_time_embedding_is_deterministic_and_distinct():
    t = np.arange(1000)
    a, b = timestep_embedding(t, 64).numpy(), timestep_embedding(t, 64).numpy()
    assert a.dtype == np.float32 and a.shape == (1000, 64)
    np.testing.assert_array_equal(a, b)
    d = np.linalg.norm(a[:, None] - a[None], axis=2)
    assert d[~np.eye(1000, dtype=bool)].min() > 1e-2          # every step its own code
    assert np.linalg.norm(a[1] - a[0]) < np.linalg.norm(a[500] - a[0])   # near steps, near codes
    like = mg.tensor(np.zeros((3, 2)))
    assert timestep_embedding([0, 1, 2], 8, like=like).dtype == np.float64
    with pytest.raises(ValueError, match="even"):
        timestep_embedding(t, 7)


def test_ddpm_loss_gradcheck():
    mg.manual_seed(0)
    net = ToyEpsNet(dim=2, hidden=4, depth=1, time_dim=4).double()
    s = make_schedule("linear", 50)
    rng = np.random.default_rng(0)
    x0 = mg.tensor(rng.standard_normal((3, 2)), requires_grad=True)
    eps = mg.tensor(rng.standard_normal((3, 2)))
    t = np.array([0, 17, 49])
    loss = lambda *_: ddpm_loss(net, s, x0, t=t, eps=eps)
    assert mg.gradcheck(loss, list(net.parameters()) + [x0]).ok
    assert mg.gradgradcheck(loss, [x0] + list(net.parameters())[:2]).ok
    # zero loss exactly when the network predicts the noise
    exact = ddpm_loss(lambda xt, tt: eps, s, x0, t=t, eps=eps)
    assert exact.item() == 0.0


def _fractions(x, mix):
    d = np.linalg.norm(x[:, None] - mix.means[None], axis=2)
    return np.bincount(d.argmin(axis=1), minlength=len(mix.means)) / len(x)


def test_ddpm_with_exact_eps_recovers_the_mode_weights():
    mix = GaussianMixture([[-2.0, 0.0], [2.0, 0.0]], std=0.1, weights=[0.7, 0.3])
    s = make_schedule("linear", 1000)
    mg.manual_seed(1)
    x = ddpm_sample(mix.eps_fn(s), s, (3000, 2)).numpy()
    np.testing.assert_allclose(_fractions(x, mix), [0.7, 0.3], atol=0.03)
    np.testing.assert_allclose(x[x[:, 0] > 0].std(axis=0), [0.1, 0.1], rtol=0.15)


def test_ddim_eta0_is_deterministic_and_inverts():
    mix = GaussianMixture([[-1.0, 0.5], [1.0, -0.5]], std=0.4, weights=[0.5, 0.5])
    s = make_schedule("cosine", 1000)
    eps = mix.eps_fn(s)
    x_T = mg.randn(200, 2)
    a = ddim_sample(eps, s, S=50, x_T=x_T).numpy()
    b = ddim_sample(eps, s, S=50, x_T=x_T).numpy()
    np.testing.assert_array_equal(a, b)
    x0 = mg.tensor(mix.sample(200, np.random.default_rng(0)))
    errors = []
    for S in (20, 100, 500):                                    # first order: error ~ 1/S
        z = ddim_encode(eps, s, x0, S=S)
        back = ddim_sample(eps, s, S=S, x_T=z).numpy()
        errors.append(np.abs(back - x0.numpy()).mean())
    assert errors[0] > errors[1] > errors[2] and errors[2] < 0.005
    assert errors[0] / errors[2] > 10
    z = ddim_encode(eps, s, x0, S=100).numpy()                  # the code is ~ N(0, I)
    assert abs(z.std() - 1) < 0.15 and abs(z.mean()) < 0.15


def test_ddim_eta1_over_all_steps_is_ddpm_with_posterior_variance():
    s = make_schedule("linear", 1000)
    for t in (1, 10, 500, 999):
        assert ddim_sigma(s, t, t - 1, 1.0) ** 2 == pytest.approx(s.posterior_variance[t], rel=1e-10)
    mix = GaussianMixture([[0.0, 1.0], [1.0, 0.0]], std=0.3)
    eps = mix.eps_fn(s)
    rng = np.random.default_rng(0)
    xt = mg.tensor(rng.standard_normal((5, 2)).astype(np.float64))
    z = mg.tensor(rng.standard_normal((5, 2)))
    for t in (1, 300, 999):
        a = ddim_step(eps, s, xt, t, t - 1, eta=1.0, noise=z).numpy()
        b = ddpm_step(eps, s, xt, t, variance="posterior", noise=z).numpy()
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)


def test_ddim_with_exact_eps_hits_the_modes():
    from minigen.data.toy2d import toy_2d
    ring = toy_2d("8gaussians")
    s = make_schedule("linear", 1000)
    mg.manual_seed(0)
    x = ddim_sample(GaussianMixture.from_toy(ring).eps_fn(s), s, (1000, 2), S=100, eta=0.0).numpy()
    stats = ring.mode_stats(x)
    assert stats["modes_covered"] == 8 and stats["high_quality"] > 0.95


def test_ddim_timesteps_and_errors():
    for spacing in ("uniform", "quadratic"):
        for S in (1, 2, 10, 999, 1000):
            tau = ddim_timesteps(1000, S, spacing)
            assert len(tau) == S and tau[-1] == 999 and np.all(np.diff(tau) > 0) and tau.min() >= 0
    q = ddim_timesteps(1000, 10, "quadratic")
    assert np.diff(q)[0] < np.diff(q)[-1]                       # dense near t = 0
    with pytest.raises(ValueError, match="S must lie in"):
        ddim_timesteps(1000, 1001)
    with pytest.raises(ValueError, match="S must lie in"):
        ddim_sample(lambda x, t: x, make_schedule("linear", 10), (2, 2), S=11)
    with pytest.raises(ValueError, match="spacing"):
        ddim_timesteps(1000, 10, "log")
    with pytest.raises(ValueError, match="reverse variance"):
        ddpm_sample(lambda x, t: x, make_schedule("linear", 10), (2, 2), variance="small")


def test_ddim_clip_x0_bounds_the_estimate_and_is_a_no_op_when_wide():
    """A poor ε (zero everywhere) makes x̂_0 = x_t / √ᾱ_t explode at the cosine schedule's
    last steps; clip_x0 = 1 keeps the final x_0 (= x̂_0 of the last step) in [−1, 1], and a
    bound far outside every x̂_0 changes nothing."""
    s = make_schedule("cosine", 50)
    zero_eps = lambda x, t: x * 0.0
    mg.manual_seed(0)
    wild = ddim_sample(zero_eps, s, (64, 2), S=5).numpy()
    mg.manual_seed(0)
    clipped = ddim_sample(zero_eps, s, (64, 2), S=5, clip_x0=1.0).numpy()
    mg.manual_seed(0)
    wide = ddim_sample(zero_eps, s, (64, 2), S=5, clip_x0=1e12).numpy()
    assert np.abs(wild).max() > 10 and np.abs(clipped).max() <= 1.0
    np.testing.assert_allclose(wide, wild, rtol=1e-6)
