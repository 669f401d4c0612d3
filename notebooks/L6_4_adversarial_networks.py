# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # L6.4 — Introduction to adversarial networks
#
# Two networks compete: a **generator** $G$ (the artist) turns noise $z$ into samples,
# a **discriminator** $D$ (the art critic) tells real data from $G$'s fakes. The lecture's
# path, followed here:
#
# 1. the discriminator's objective and the generator's two objectives — and why the
#    minimax one saturates;
# 2. the combined minimax game and its Nash equilibrium; the Dirac-GAN, where plain
#    gradient play circles instead of converging;
# 3. training on 2-D toys, and mode collapse measured;
# 4. DCGAN's rules on images;
# 5. the fixes the lecture lists: WGAN / WGAN-GP, minibatch discrimination, progressive
#    growing, StyleGAN's ideas;
# 6. the gradients: a gradient check of the losses, the graph of one step, gradient flow.
#
# Sections whose models are not in the library yet say so in one line.
# `MINIGEN_TINY=1` runs it in seconds.

# %%
import os

import numpy as np

import minigen as mg
import minigen.functional as F
from minigen import viz
from minigen.config import is_tiny
from minigen.data import eight_gaussians, twenty_five_gaussians

# minigen.viz selects the file-only Agg backend; in a notebook we want pictures inline
# %matplotlib inline
plt = viz.plt

OUT = os.path.join("out", "L6_4")   # pictures, beside the notebook (git ignores out/)
os.makedirs(OUT, exist_ok=True)
SEED = 0
mg.manual_seed(SEED)
print("tiny run" if is_tiny() else "default run", "- pictures also saved under", OUT)

# %% [markdown]
# ## 1. The objectives
#
# **Discriminator.** Maximise the log-probability of classifying correctly:
# $\max_D\ \mathbb E_x[\log D(x)] + \mathbb E_z[\log(1 - D(G(z)))]$.
#
# **Generator.** The minimax game has $G$ *minimise* the second term,
# $\min_G \mathbb E_z[\log(1 - D(G(z)))]$. Early in training $D$ rejects the fakes with
# confidence, $D(G(z)) \approx 0$, where this loss is flat: its gradient vanishes. The
# **non-saturating** objective $\max_G \mathbb E_z[\log D(G(z))]$ has the same fixed point
# but a strong gradient exactly there — "pushing the discriminator's output on fakes
# towards 1".
#
# With $D = \sigma(a)$ for the discriminator's logit $a$ on a fake, the two generator
# losses are $\log(1 - \sigma(a)) = -\operatorname{softplus}(a)$ and
# $-\log\sigma(a) = \operatorname{softplus}(-a)$. The engine differentiates both:

# %%
a = mg.tensor(np.linspace(-8, 8, 401), requires_grad=True)        # D's logit on a fake
d_fake = mg.sigmoid(a).numpy()
minimax = -F.softplus(a)                                            # log(1 - D(G(z)))
nonsaturating = F.softplus(-a)                                      # -log D(G(z))
grad_minimax, = mg.grad(minimax.sum(), [a])
grad_nonsat, = mg.grad(nonsaturating.sum(), [a])

fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
axes[0].plot(d_fake, minimax.numpy(), label="minimax: log(1 - D(G(z)))")
axes[0].plot(d_fake, nonsaturating.numpy(), label="non-saturating: -log D(G(z))")
axes[0].set(xlabel="D(G(z))", ylabel="generator loss (minimised)", title="the two generator losses")
axes[1].semilogy(d_fake, np.abs(grad_minimax.numpy()), label="minimax")
axes[1].semilogy(d_fake, np.abs(grad_nonsat.numpy()), label="non-saturating")
axes[1].set(xlabel="D(G(z))", ylabel="|d loss / d logit|", title="the gradient G receives")
for ax in axes:
    ax.axvspan(0, 0.1, color="red", alpha=0.08)
    ax.legend(fontsize=8)
fig.tight_layout()
for p in (1e-3, 1e-2, 0.1, 0.5):
    i = int(np.argmin(np.abs(d_fake - p)))
    print(f"D(G(z)) = {d_fake[i]:.3g}: |grad| minimax {abs(grad_minimax.numpy()[i]):.2e}, "
          f"non-saturating {abs(grad_nonsat.numpy()[i]):.2e}")

# %% [markdown]
# Where $D$ is confident (the red band), the minimax gradient is ~$D(G(z))$ itself —
# it vanishes — while the non-saturating one stays near 1.
#
# ## 2. The minimax game and its Nash equilibrium
# $\min_G \max_D V(D, G) = \mathbb E_x[\log D(x)] + \mathbb E_z[\log(1 - D(G(z)))]$. At the
# ideal outcome, a Nash equilibrium, $p_G = p_{\text{data}}$ and $D \equiv \tfrac12$: neither
# player can improve alone. Gradient play need not find it.
#
# *Not on main yet: the Dirac-GAN and the GAN losses and trainer (`minigen.models.gan`)
# are being built; this section fills in when they land.*

# %% [markdown]
# ## 3. Training on 2-D toys, and mode collapse
# The two standard toys of the GAN literature, from `minigen.data`: 8 Gaussians on a
# ring and a 5×5 grid of 25 Gaussians. A GAN that *collapses* covers only some of the
# modes; `mode_stats` counts them.

# %%
fig, axes = plt.subplots(1, 2, figsize=(9, 4.3))
for ax, toy, name in zip(axes, (eight_gaussians(), twenty_five_gaussians()), ("8 Gaussians", "25 Gaussians")):
    x = toy.sample(2000, seed=SEED)
    ax.scatter(x[:, 0], x[:, 1], s=2, c="gray")
    ax.scatter(toy.modes[:, 0], toy.modes[:, 1], marker="x", c="red")
    ax.set(title=f"{name}: {len(toy.modes)} modes", aspect="equal")
fig.tight_layout()

# %% [markdown]
# *Not on main yet: the toy GAN (`minigen.models.gan`) is being built; its training and
# the mode-collapse table fill in here when it lands.*
#
# ## 4. DCGAN — the lecture's rules for images
# * strided convolutions instead of pooling layers;
# * batch normalisation (in both networks);
# * no fully connected hidden layers;
# * ReLU in the generator except its output, which is tanh;
# * LeakyReLU in the discriminator.
#
# *Not on main yet: DCGAN networks (`minigen.models.gan`) are being built.*
#
# ## 5. Making GANs train
# Training a GAN is hard: mode collapse, non-convergence, vanishing gradients when $D$
# wins too quickly, and sensitivity to hyperparameters. The lecture's remedies:
#
# * **WGAN** replaces the JS divergence by the Wasserstein distance (a critic with
#   bounded slope); **WGAN-GP** enforces the slope with a gradient penalty — a gradient
#   of a gradient, which minigen's double backward computes;
# * **minibatch discrimination**: the discriminator sees statistics of a whole batch, so
#   a collapsed batch gives itself away;
# * **progressive growing** (ProGAN): start at low resolution, fade in new layers;
# * **StyleGAN**: a mapping network $z \to w$ that disentangles the latent space, styles
#   injected by AdaIN into a synthesis network that starts from a learned constant.
#
# *Not on main yet: WGAN / WGAN-GP, minibatch discrimination, ProGAN and StyleGAN
# pieces are being built; these sections fill in when they land.*
#
# ## 6. The gradients
# *Not on main yet: the gradient check of the GAN losses, the graph of one D/G step and
# the gradient flow of both players come with `minigen.models.gan`.*
