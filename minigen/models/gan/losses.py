"""The objectives of the adversarial game (lecture L6.4), from the discriminator's *logits*.

D(x) = sigmoid(l(x)) is the discriminator's probability that x is real; every loss below
is written with l = logit, through softplus, which never overflows:

    -log D(x)       = -log sigmoid(l)     = softplus(-l)
    -log(1 - D(x))  = -log sigmoid(-l)    = softplus(l)

=========================  ==================================================  ==========
loss                       formula (mean over the batch)                       who
=========================  ==================================================  ==========
``d_loss``                 -[log D(x) + log(1 - D(G(z)))]                      D
``g_loss_minimax``         log(1 - D(G(z)))        (saturates when D wins)     G
``g_loss_nonsaturating``   -log D(G(z))            (Goodfellow's fix)          G
``wgan_critic_loss``       E f(G(z)) - E f(x)      (f: the critic, no sigmoid) critic
``wgan_g_loss``            -E f(G(z))                                          G
``gradient_penalty``       lambda E (||grad_x^ f(x^)||_2 - 1)^2, x^ on lines   critic
``r1_penalty``             gamma/2 E ||grad_x D(x)||^2 at real x               D
=========================  ==================================================  ==========

The two penalties take the gradient of D with respect to its *input* with
``create_graph=True``; the penalty's own backward therefore differentiates that
gradient again (double backward through every layer of D).
"""
from __future__ import annotations

import minigen as mg
import minigen.functional as F

__all__ = ["d_loss", "g_loss_minimax", "g_loss_nonsaturating", "wgan_critic_loss", "wgan_g_loss",
           "gradient_penalty", "r1_penalty", "input_gradient", "G_LOSSES"]


def d_loss(real_logits, fake_logits):
    """-[log D(x) + log(1 - D(G(z)))] = softplus(-l(x)) + softplus(l(G(z))), batch means.

    The discriminator's binary cross-entropy: real labelled 1, fake labelled 0.  At the
    optimum for a fixed G, D*(x) = p_data / (p_data + p_g) and this loss is
    log 4 - 2 JSD(p_data || p_g).
    """
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def g_loss_minimax(fake_logits):
    """log(1 - D(G(z))) = -softplus(l(G(z))), batch mean: G minimises what D maximises.

    d/dl = -sigmoid(l) = -D(G(z)): when D confidently rejects the fakes (D -> 0) the
    gradient vanishes -- the saturation of the lecture's "vanishing gradients".
    """
    return -F.softplus(fake_logits).mean()


def g_loss_nonsaturating(fake_logits):
    """-log D(G(z)) = softplus(-l(G(z))), batch mean: G maximises log D(G(z)).

    Same fixed point as the minimax loss, but d/dl = sigmoid(l) - 1 = -(1 - D(G(z))):
    strongest exactly when D rejects the fakes.
    """
    return F.softplus(-fake_logits).mean()


def wgan_critic_loss(real_scores, fake_scores):
    """E f(G(z)) - E f(x): the critic maximises E f(x) - E f(G(z)), which for a 1-Lipschitz
    f estimates the Wasserstein-1 distance (Kantorovich-Rubinstein duality).  Its negative,
    ``-wgan_critic_loss``, is the Wasserstein estimate the demos plot."""
    return fake_scores.mean() - real_scores.mean()


def wgan_g_loss(fake_scores):
    """-E f(G(z)): G moves its samples up the critic's slope."""
    return -fake_scores.mean()


def input_gradient(D, x):
    """grad_x sum_i D(x_i), kept differentiable (create_graph=True), flattened to (N, -1).

    Each row is the gradient of D at one sample, since D treats rows independently (for a
    D with batch statistics -- batch norm -- that is only approximately so; the critics
    that use a penalty have no batch norm)."""
    if not x.requires_grad:                  # a leaf of its own, to differentiate against
        x = x.detach().requires_grad_()
    out = D(x)
    (g,) = mg.grad(out.sum(), x, create_graph=True)
    return g.reshape(len(x), -1)


def gradient_penalty(D, real, fake, weight=10.0, alpha=None):
    """WGAN-GP (Gulrajani et al. 2017):  lambda E_x^ (||grad_x^ D(x^)||_2 - 1)^2,
    x^ = alpha x + (1 - alpha) G(z),  alpha ~ U(0, 1) per sample (drawn from minigen's RNG
    unless given, shape (N,)).

    Pass ``fake`` detached (the penalty trains the critic only).  The returned scalar's
    backward differentiates ||grad_x^ D|| with respect to D's weights: a second derivative
    of D.
    """
    if real.shape != fake.shape:
        raise ValueError(f"gradient_penalty: real {real.shape} and fake {fake.shape} samples "
                         f"differ in shape")
    n = len(real)
    if alpha is None:
        alpha = mg.rand(n, dtype=real.dtype, device=real.device)
    alpha = alpha.reshape((n,) + (1,) * (real.ndim - 1))
    x_hat = alpha * real + (1.0 - alpha) * fake
    g = input_gradient(D, x_hat)
    # sqrt(|g|^2 + tiny): the norm's derivative g / |g| stays finite where g = 0
    norm = ((g * g).sum(axis=1) + 1e-12).sqrt()
    return weight * ((norm - 1.0) ** 2).mean()


def r1_penalty(D, real, weight=10.0):
    """R1 (Mescheder et al. 2018):  gamma/2 E_x ||grad_x D(x)||^2 on real data, with D's
    logits.  It pulls the discriminator flat on the data manifold, which makes the game
    locally convergent at its equilibrium (see ``dirac.py``)."""
    g = input_gradient(D, real)
    return 0.5 * weight * (g * g).sum(axis=1).mean()


#: the generator's objective of each loss name (the discriminator side lives in training.py)
G_LOSSES = {
    "minimax": g_loss_minimax,
    "nonsaturating": g_loss_nonsaturating,
    "wgan": wgan_g_loss,
    "wgan-gp": wgan_g_loss,
}
