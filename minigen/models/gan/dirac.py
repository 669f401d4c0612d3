"""The Dirac-GAN (Mescheder, Geiger & Nowozin 2018): the smallest GAN that does not converge.

The data is a single point, x = 0.  The generator is a single point too, G(z) = theta for
every z; the discriminator is linear, logit D_psi(x) = psi x.  The only equilibrium is
theta = psi = 0 (G on the data, D indifferent, D(x) = 1/2 everywhere).

With the losses of ``losses.py`` (D: d_loss, G: the minimax loss) the players' gradients
give the *vector field of simultaneous gradient play*

    v(theta, psi) = (-dL_G/dtheta, -dL_D/dpsi) = ( psi s(psi theta),  -theta s(psi theta) )

(s = sigmoid).  Its Jacobian at the equilibrium is [[0, 1/2], [-1/2, 0]], eigenvalues
+-i/2: purely imaginary, a rotation.  So

* simultaneous gradient descent, (theta, psi) += h v, multiplies the distance to the
  equilibrium by |1 +- i h/2| = sqrt(1 + h^2 / 4) > 1 per step near it: it spirals *out*;
* alternating gradient descent (G, then D with the new theta) keeps circling;
* R1, gamma/2 |dD/dx|^2 = gamma/2 psi^2 at the data, adds -gamma psi to v_psi: the
  Jacobian [[0, 1/2], [-1/2, -gamma]] has eigenvalues (-gamma +- sqrt(gamma^2 - 1)) / 2,
  with negative real parts, and gradient descent converges;
* WGAN-GP's penalty lambda (|psi| - 1)^2 keeps |psi| near 1, so G's gradient never
  vanishes and theta oscillates around 0 (Mescheder et al.'s finding: not convergent).

The field here is computed by the engine's autodiff on the library's own losses (the
penalties by double backward), and compared with the closed form in the tests.
"""
from __future__ import annotations

import numpy as np

import minigen as mg
import minigen.nn as nn

from .losses import d_loss, g_loss_minimax, gradient_penalty, r1_penalty, wgan_critic_loss, wgan_g_loss

__all__ = ["DiracGAN", "closed_form_field", "closed_form_jacobian"]


class _Point(nn.Module):
    """G(z) = theta for every z."""

    def __init__(self, theta):
        super().__init__()
        self.theta = nn.Parameter(np.array([theta], dtype=np.float64))

    def forward(self, n):
        return self.theta.reshape(1, 1) * mg.ones(n, 1, dtype=np.float64)


class _Linear(nn.Module):
    """D(x) = psi x (a logit, or a critic's score)."""

    def __init__(self, psi):
        super().__init__()
        self.psi = nn.Parameter(np.array([psi], dtype=np.float64))

    def forward(self, x):
        return x * self.psi.reshape(1, 1)


class DiracGAN:
    """The game at (theta, psi): ``loss`` "gan" (d_loss / minimax G loss) or "wgan-gp"
    (WGAN losses + gradient penalty ``gp_weight``); ``r1`` adds the R1 penalty."""

    def __init__(self, loss="gan", r1=0.0, gp_weight=1.0):
        if loss not in ("gan", "wgan-gp"):
            raise ValueError(f"DiracGAN: loss must be 'gan' or 'wgan-gp', got {loss!r}")
        self.loss, self.r1, self.gp_weight = loss, float(r1), float(gp_weight)
        self.G, self.D = _Point(0.0), _Linear(0.0)
        self.real = mg.zeros(1, 1, dtype=np.float64)          # the data: x = 0

    def _set(self, theta, psi):
        self.G.theta.data = np.array([theta], dtype=np.float64)
        self.D.psi.data = np.array([psi], dtype=np.float64)

    def losses(self):
        """(L_D, L_G) at the current (theta, psi), as engine graphs."""
        fake = self.G(1)
        real_out, fake_out = self.D(self.real), self.D(fake)
        if self.loss == "gan":
            L_D, L_G = d_loss(real_out, fake_out), g_loss_minimax(fake_out)
        else:
            L_D = wgan_critic_loss(real_out, fake_out) + gradient_penalty(
                self.D, self.real, fake.detach(), weight=self.gp_weight)
            L_G = wgan_g_loss(fake_out)
        if self.r1:
            L_D = L_D + r1_penalty(self.D, self.real, weight=self.r1)
        return L_D, L_G

    def field(self, theta, psi, create_graph=False):
        """v = (-dL_G/dtheta, -dL_D/dpsi) by autodiff (Tensors when create_graph)."""
        self._set(theta, psi)
        L_D, L_G = self.losses()
        (g_theta,) = mg.grad(L_G, self.G.theta, create_graph=create_graph, retain_graph=True)
        (g_psi,) = mg.grad(L_D, self.D.psi, create_graph=create_graph)
        if create_graph:
            return -g_theta, -g_psi
        return np.array([-g_theta.item(), -g_psi.item()])

    def jacobian(self, theta=0.0, psi=0.0):
        """dv/d(theta, psi) by differentiating the autodiff field once more (2x2)."""
        v_theta, v_psi = self.field(theta, psi, create_graph=True)
        rows = []
        for v in (v_theta, v_psi):
            grads = mg.grad(v.sum(), [self.G.theta, self.D.psi], retain_graph=True,
                            allow_unused=True)
            rows.append([0.0 if g is None else g.item() for g in grads])
        return np.array(rows)

    def trajectory(self, theta0, psi0, lr=0.1, steps=300, mode="simultaneous"):
        """Gradient play from (theta0, psi0): ``simultaneous`` moves both players with the
        field at the same point; ``alternating`` moves G first, then D at the new theta.
        Returns the (steps + 1, 2) path."""
        if mode not in ("simultaneous", "alternating"):
            raise ValueError(f"mode must be 'simultaneous' or 'alternating', got {mode!r}")
        path = [(float(theta0), float(psi0))]
        theta, psi = path[0]
        for _ in range(steps):
            v = self.field(theta, psi)
            if mode == "simultaneous":
                theta, psi = theta + lr * v[0], psi + lr * v[1]
            else:
                theta = theta + lr * v[0]
                psi = psi + lr * self.field(theta, psi)[1]
            path.append((theta, psi))
        return np.array(path)


def closed_form_field(theta, psi, r1=0.0):
    """The GAN's field by hand: (psi s(psi theta), -theta s(psi theta) - r1 psi)."""
    s = 1.0 / (1.0 + np.exp(-psi * theta))
    return np.array([psi * s, -theta * s - r1 * psi])


def closed_form_jacobian(r1=0.0):
    """The Jacobian of the GAN's field at the equilibrium (0, 0): [[0, 1/2], [-1/2, -r1]]."""
    return np.array([[0.0, 0.5], [-0.5, -r1]])
