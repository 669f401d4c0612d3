"""The forward process: schedule identities, the closed-form q(x_t | x_0), the posterior."""
import numpy as np
import pytest

import minigen as mg
from minigen.models.diffusion import NoiseSchedule, make_schedule


@pytest.fixture(params=["linear", "cosine"])
def schedule(request):
    return make_schedule(request.param, 1000)


def test_alpha_bar_is_the_product_of_alphas(schedule):
    for t in (0, 1, 10, 500, 999):
        assert schedule.alpha_bars[t] == pytest.approx(np.prod(1 - schedule.betas[:t + 1]), rel=1e-12)
    assert np.all(np.diff(schedule.alpha_bars) < 0)            # noise only ever grows
    assert np.all(np.diff(schedule.snr()) < 0)
    assert schedule.alpha_bars[-1] < 1e-4                      # x_T is (nearly) pure noise


def test_linear_schedule_values():
    s = NoiseSchedule.linear(1000)
    assert s.betas[0] == pytest.approx(1e-4) and s.betas[-1] == pytest.approx(0.02)
    c = NoiseSchedule.cosine(1000)
    assert c.betas.max() <= 0.999
    assert c.alpha_bars[499] > s.alpha_bars[499]               # cosine keeps more signal mid-way


def test_posterior_matches_a_direct_gaussian_computation(schedule):
    """q(x_{t-1}|x_t,x_0) ∝ q(x_t|x_{t-1}) q(x_{t-1}|x_0): multiply the two Gaussians."""
    rng = np.random.default_rng(0)
    x0, xt = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    for t in (1, 7, 300, 999):
        a_prev, beta = schedule.alpha_bars[t - 1], schedule.betas[t]
        precision = 1 / (1 - a_prev) + (1 - beta) / beta        # prior precision + likelihood's
        var = 1 / precision
        mean = var * (np.sqrt(a_prev) * x0 / (1 - a_prev) + np.sqrt(1 - beta) * xt / beta)
        got_mean, got_var = schedule.q_posterior(x0, xt, np.full(4, t))
        np.testing.assert_allclose(got_mean, mean, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(got_var.ravel(), var, rtol=1e-9)
    # at t = 0 the posterior is the point x_0
    mean0, var0 = schedule.q_posterior(x0, xt, np.zeros(4, dtype=int))
    np.testing.assert_allclose(mean0, x0, atol=1e-12)
    assert np.all(var0 == 0)


def test_q_sample_statistics_match_the_closed_form(schedule):
    mg.manual_seed(0)
    n = 200_000
    x0 = mg.tensor(np.full((n, 1), 1.5, dtype=np.float32))
    for t in (0, 250, 999):
        eps = mg.randn(n, 1)
        xt = schedule.q_sample(x0, np.full(n, t), eps)
        assert xt.dtype == np.float32
        a = schedule.alpha_bars[t]
        assert xt.numpy().mean() == pytest.approx(np.sqrt(a) * 1.5, abs=5 * np.sqrt((1 - a) / n) + 1e-6)
        assert xt.numpy().var() == pytest.approx(1 - a, rel=0.02, abs=1e-6)


def test_q_sample_keeps_the_graph():
    s = make_schedule("linear", 10)
    x0 = mg.tensor(np.ones((2, 3)), requires_grad=True)
    s.q_sample(x0, [3, 5], mg.tensor(np.zeros((2, 3)))).sum().backward()
    np.testing.assert_allclose(x0.grad.numpy()[:, 0], np.sqrt(s.alpha_bars[[3, 5]]))


def test_bad_input_errors():
    s = make_schedule("linear", 100)
    x0, eps = np.zeros((2, 2)), np.zeros((2, 2))
    with pytest.raises(ValueError, match=r"\[0, T\)"):
        s.q_sample(x0, [0, 100], eps)
    with pytest.raises(ValueError, match=r"\[0, T\)"):
        s.q_sample(x0, [-1, 3], eps)
    with pytest.raises(TypeError, match="integers"):
        s.q_sample(x0, [0.5, 1.0], eps)
    with pytest.raises(ValueError, match="batch of 2"):
        s.q_sample(x0, [1, 2, 3], eps)
    with pytest.raises(ValueError, match="shape"):
        s.q_sample(x0, [1, 2], np.zeros((2, 3)))
    with pytest.raises(ValueError, match="unknown noise schedule 'quadratic'"):
        make_schedule("quadratic")
    with pytest.raises(ValueError, match="T >= 1"):
        make_schedule("linear", 0)
