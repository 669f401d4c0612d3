"""The GAN objectives: formulas against plain NumPy, stability, and gradchecks (float64,
first and second order) -- the penalties' double backward through MLP and conv critics."""
import numpy as np
import pytest

import minigen as mg
import minigen.nn as nn
from minigen.models.gan import losses as L


def t(a, grad=False):
    return mg.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def log_sigmoid(x):
    return -np.logaddexp(0, -x)


def test_losses_equal_their_formulas():
    rng = np.random.default_rng(0)
    lr, lf = rng.normal(size=(7, 1)), rng.normal(size=(5, 1))
    D = lambda l: 1 / (1 + np.exp(-l))
    assert L.d_loss(t(lr), t(lf)).item() == pytest.approx(
        -(np.log(D(lr)).mean() + np.log(1 - D(lf)).mean()))
    assert L.g_loss_minimax(t(lf)).item() == pytest.approx(np.log(1 - D(lf)).mean())
    assert L.g_loss_nonsaturating(t(lf)).item() == pytest.approx(-np.log(D(lf)).mean())
    assert L.wgan_critic_loss(t(lr), t(lf)).item() == pytest.approx(lf.mean() - lr.mean())
    assert L.wgan_g_loss(t(lf)).item() == pytest.approx(-lf.mean())


def test_losses_are_finite_for_huge_logits():
    big = t([[1e4], [-1e4]], grad=True)
    for loss in (L.d_loss(big, big), L.g_loss_minimax(big), L.g_loss_nonsaturating(big)):
        big.grad = None
        loss.backward()
        assert np.isfinite(loss.item()) and np.all(np.isfinite(big.grad.numpy()))
    # -log D = softplus(-l): for l = -1e4, exactly 1e4 / 2 averaged with ~0
    assert L.g_loss_nonsaturating(big).item() == pytest.approx(5e3)
    assert log_sigmoid(np.array(-1e4)) == pytest.approx(-1e4)


def test_generator_gradients_saturate_or_not():
    """d/dl of the minimax loss is -D(G(z)) -> 0 as D rejects the fakes (l -> -inf);
    the non-saturating loss's is D - 1 -> -1."""
    l = t([[-8.0]], grad=True)
    L.g_loss_minimax(l).backward()
    assert abs(l.grad.item()) == pytest.approx(1 / (1 + np.exp(8.0)))
    l.grad = None
    L.g_loss_nonsaturating(l).backward()
    assert l.grad.item() == pytest.approx(1 / (1 + np.exp(8.0)) - 1)


@pytest.mark.parametrize("name", ["d_loss", "g_loss_minimax", "g_loss_nonsaturating",
                                  "wgan_critic_loss", "wgan_g_loss"])
def test_logit_losses_gradcheck(name):
    rng = np.random.default_rng(1)
    fn = getattr(L, name)
    n_in = 2 if name in ("d_loss", "wgan_critic_loss") else 1
    inputs = [t(rng.normal(size=(4, 1)) * 2, grad=True) for _ in range(n_in)]
    mg.gradcheck(fn, inputs)
    if name not in ("wgan_critic_loss", "wgan_g_loss"):   # linear: no second derivative to see
        mg.gradgradcheck(fn, inputs)


def mlp_critic():
    mg.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 5), nn.Tanh(), nn.Linear(5, 1)).double()


def conv_critic(layer_norm=True):
    """conv -> LeakyReLU (-> layer norm) -> conv: the WGAN-GP critic's building blocks."""
    mg.manual_seed(0)
    layers = [nn.Conv2d(1, 2, 3, stride=2, padding=1), nn.LeakyReLU(0.2)]
    if layer_norm:
        layers.append(nn.LayerNorm((2, 3, 3)))
    layers += [nn.Conv2d(2, 1, 3), nn.Flatten()]
    return nn.Sequential(*layers).double()


def as_function_of_weights(kind, D, real, fake, alpha):
    """penalty(real, fake, *weights) with D's parameters replaced by the given tensors."""
    names = [n for n, _ in D.named_parameters()]

    def fn(real, fake, *weights):
        saved = {n: p for n, p in D.named_parameters()}
        for n, w in zip(names, weights):
            module, attr = D, n.split(".")
            for part in attr[:-1]:
                module = getattr(module, part)
            module._parameters[attr[-1]] = w
        try:
            if kind == "gp":
                return L.gradient_penalty(D, real, fake, weight=10.0, alpha=alpha)
            return L.r1_penalty(D, real, weight=10.0)
        finally:
            for n in names:
                module, attr = D, n.split(".")
                for part in attr[:-1]:
                    module = getattr(module, part)
                module._parameters[attr[-1]] = saved[n]
    weights = [t(p.data.copy(), grad=True) for _, p in D.named_parameters()]
    return fn, [real, fake] + weights


@pytest.mark.parametrize("kind", ["gp", "r1"])
@pytest.mark.parametrize("critic", ["mlp", "conv_layernorm", "conv"])
def test_penalties_double_backward_gradcheck(kind, critic):
    """The penalty is a function of D's gradient; its gradient (w.r.t. D's weights and the
    samples) is a second derivative of D, checked against finite differences of the
    penalty itself.  gradgradcheck goes one order further."""
    rng = np.random.default_rng(2)
    if critic == "mlp":
        D, shape = mlp_critic(), (3, 2)
    else:
        D, shape = conv_critic(layer_norm=critic == "conv_layernorm"), (2, 1, 5, 5)
    real, fake = t(rng.normal(size=shape), grad=True), t(rng.normal(size=shape), grad=True)
    alpha = t(rng.uniform(size=shape[0]))
    fn, inputs = as_function_of_weights(kind, D, real, fake, alpha)
    if kind == "r1":
        inputs[1].requires_grad = False           # R1 looks at real data only
    mg.gradcheck(fn, inputs, atol=1e-5, rtol=1e-3)
    if critic != "conv_layernorm":                # third derivatives: keep the case small
        mg.gradgradcheck(fn, inputs, atol=1e-4, rtol=1e-3)


def test_gradient_penalty_of_a_linear_critic():
    """f(x) = w.x has gradient w everywhere: penalty = lambda (|w| - 1)^2 exactly."""
    lin = nn.Linear(3, 1).double()
    lin.weight.data = np.array([[3.0, 0.0, 4.0]])
    x = t(np.random.default_rng(0).normal(size=(6, 3)))
    assert L.gradient_penalty(lin, x, x * 2, weight=10.0).item() == pytest.approx(10 * (5 - 1) ** 2)
    assert L.r1_penalty(lin, x, weight=10.0).item() == pytest.approx(0.5 * 10 * 25)


def test_gradient_penalty_rejects_mismatched_samples():
    lin = nn.Linear(2, 1).double()
    with pytest.raises(ValueError, match="differ in shape"):
        L.gradient_penalty(lin, t(np.zeros((4, 2))), t(np.zeros((3, 2))))
