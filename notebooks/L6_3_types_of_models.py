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
# # L6.3 — Types of generative models
#
# | family | what it learns | $p(x)$ | examples |
# |---|---|---|---|
# | explicit, **tractable** density | a function $p_\theta(x)$ that can be computed exactly | exact | autoregressive (MADE, PixelCNN), normalizing flows (RealNVP) |
# | explicit, **approximate** density | $p_\theta(x)$ is intractable; optimise a bound | bounded | VAE (ELBO, IWAE), diffusion / score-based models |
# | **implicit** density | a sampler, never $p(x)$ itself | none | GANs (DCGAN, StyleGAN) |
#
# This notebook walks the three branches with minigen. Families that are not in the
# library yet say so in one line; the notebook grows as they land.
#
# `MINIGEN_TINY=1` runs it in seconds; the default sizes take a few minutes on 2 cores.

# %%
import os

import numpy as np
from IPython.display import Image, display

import minigen as mg
from minigen import inspect, viz
from minigen.config import is_tiny, size
from minigen.models.vae import VAE, LinearGaussianVAE, fit, load_fashion_mnist, prepare_test

# minigen.viz selects the file-only Agg backend; in a notebook we want pictures inline
# %matplotlib inline
plt = viz.plt

OUT = os.path.join("out", "L6_3")   # pictures, beside the notebook (git ignores out/)
os.makedirs(OUT, exist_ok=True)
SEED = 0
mg.manual_seed(SEED)
rng = np.random.default_rng(SEED)
print("tiny run" if is_tiny() else "default run", "- pictures also saved under", OUT)

data = load_fashion_mnist(verbose=False)
n_train, n_test = size(3000, tiny=300), size(1000, tiny=100)
x_train = data.x_train[:n_train]
xb_test = prepare_test(data.x_test[:n_test], "bernoulli")      # binarised once, seed 0
table = {}                                                       # the cross-family table, filled below

# %% [markdown]
# ## 1. Explicit, tractable density
#
# Autoregressive models write $p(x) = \prod_i p(x_i \mid x_{<i})$ and generate pixel by
# pixel; normalizing flows push a simple density through an invertible map and count
# the change of volume, $\log p(x) = \log p(z) + \log\lvert\det \partial z / \partial x\rvert$.
# Both give exact log-likelihoods that sum to one over all images.
#
# *Not on main yet: MADE, PixelCNN and RealNVP (`minigen.models.autoregressive`,
# `minigen.models.flows`) are being built; this section fills in when they land.*

# %% [markdown]
# ## 2. Explicit, approximate density
#
# ### 2.1 The VAE and its bound
# $\log p(x) \ge \mathrm{ELBO}(x) = \mathbb E_{q(z\mid x)}[\log p(x \mid z)] - \mathrm{KL}(q(z \mid x)\,\|\,p(z))$.
# The importance-weighted bound tightens it with $K$ samples,
# $\mathcal L_K = \log \frac1K \sum_k p(x, z_k)/q(z_k \mid x)$, $\mathcal L_1 = $ ELBO,
# $\mathcal L_K \uparrow \log p(x)$ as $K$ grows. We train one VAE on the ELBO and one on
# $\mathcal L_5$ (IWAE) and recording the gradient flow of both.

# %%
epochs = size(30, tiny=2)
hidden, latent = size(400, tiny=64), size(20, tiny=8)
vaes, flows = {}, {}
for name, objective, k in (("VAE (ELBO)", "elbo", 1), ("IWAE (k=5)", "iwae", 5)):
    mg.manual_seed(SEED)
    model = VAE.mlp(latent_dim=latent, hidden=hidden)
    flows[name] = inspect.grad_flow(model)
    fit(model, x_train, epochs=epochs, objective=objective, k=k, out=os.path.join(OUT, objective),
        progress=False)
    flows[name].remove()
    vaes[name] = model

ks = size((1, 10, 100, 1000), tiny=(1, 10))
print(f"{'':>11} {'test ELBO':>10} " + " ".join(f"{'L_' + str(k):>9}" for k in ks) + "   (nats/image)")
for name, model in vaes.items():
    mg.manual_seed(SEED)
    elbo = model.evaluate_elbo(xb_test)["elbo"].mean()
    bounds = [model.log_likelihood(xb_test, k=k).mean() for k in ks]
    print(f"{name:>11} {elbo:10.1f} " + " ".join(f"{b:9.1f}" for b in bounds))
    table[name] = {"ELBO": elbo, f"IS estimate of log p(x), K={ks[-1]}": bounds[-1]}

# %% [markdown]
# The IWAE-trained model has the *worse* one-sample ELBO but the *better* likelihood:
# the bound it trains on is a different objective (Burda et al. 2016).
#
# ### 2.2 Checking the estimate against the truth
# For a linear-Gaussian VAE (probabilistic PCA as a VAE) $\log p(x)$ is known in closed
# form. With a deliberately imperfect encoder the ELBO sits well below it, and $\mathcal L_K$
# closes the gap as $K$ grows — the same code that estimated the image likelihoods above.

# %%
mg.manual_seed(SEED)
linear = LinearGaussianVAE(x_dim=6, latent_dim=2, sigma=0.5).double()
linear.decoder.weight.data = rng.standard_normal((6, 2))         # a non-orthogonal W
linear.decoder.bias.data = rng.standard_normal(6)
linear.set_encoder(mean_shift=0.5, logvar_shift=0.5)              # q(z|x): spoiled on purpose
x_lin = linear.sample_data(size(200, tiny=50), rng)
exact = linear.exact_log_likelihood(x_lin).mean()
ks_lin = [1, 3, 10, 30, 100, 300, 1000]
mg.manual_seed(SEED)
estimates = [linear.log_likelihood(x_lin, k=k).mean() for k in ks_lin]
fig, ax = plt.subplots(figsize=(5.5, 3.4))
ax.semilogx(ks_lin, estimates, "o-", label="importance-sampled L_K")
ax.axhline(exact, c="k", ls="--", label="exact log p(x)")
ax.set(xlabel="K samples", ylabel="mean log-likelihood (nats)", title="L_K approaches log p(x)")
ax.legend()
print(f"exact {exact:.4f}; L_1 (ELBO) {estimates[0]:.4f}; L_1000 {estimates[-1]:.4f}")

# %% [markdown]
# ### 2.3 Samples of the approximate-density family

# %%
mg.manual_seed(SEED)
samples = {name: model.generate(32).numpy().reshape(-1, 28, 28) for name, model in vaes.items()}
fig, axes = plt.subplots(1, 2, figsize=(11, 3))
for ax, (name, imgs) in zip(axes, samples.items()):
    ax.imshow(viz.make_grid(imgs, nrow=8).squeeze(-1), cmap="gray")
    ax.set_title(f"{name}: decoded z ~ N(0, I)")
    ax.axis("off")
fig.tight_layout()

# %% [markdown]
# ### 2.4 Diffusion models
# Add Gaussian noise step by step, $q(x_t \mid x_{t-1}) = \mathcal N(\sqrt{1-\beta_t}\,x_{t-1}, \beta_t I)$,
# and learn to reverse it: DDPM samples by ancestral steps, DDIM deterministically in
# fewer steps; the training loss is a reweighted variational bound.
#
# *Not on main yet: `minigen.models.diffusion` (schedules, forward process, DDPM, DDIM)
# is being built; this section fills in when it lands.*

# %% [markdown]
# ## 3. Implicit density: GANs
# A generator maps noise to samples; a discriminator tells real from fake; neither ever
# writes down $p(x)$ (see the L6.4 notebook for the adversarial game itself).
#
# *Not on main yet: `minigen.models.gan` is being built; this section fills in when it
# lands.*

# %% [markdown]
# ## 4. The families side by side
# What this checkout can measure on the same binarised test images (nats per image;
# higher is better). Families not yet in the library have no row — never a made-up one.

# %%
columns = sorted({c for row in table.values() for c in row})
print(f"{'model':>12} | " + " | ".join(f"{c:>34}" for c in columns))
for name, row in table.items():
    print(f"{name:>12} | " + " | ".join(f"{row[c]:34.1f}" if c in row else f"{'-':>34}" for c in columns))

# %% [markdown]
# ## 5. The gradients
#
# ### 5.1 A gradient check of the IWAE bound
# All $K$ samples' log-weights go through one `logsumexp`; the check covers every
# parameter, in float64 with the noise held fixed.

# %%
check_rng = np.random.default_rng(SEED)
mg.manual_seed(SEED)
tiny_vae = VAE.mlp(latent_dim=2, hidden=6, x_dim=5).double()
x_small = mg.tensor((check_rng.random((3, 5)) > 0.5).astype(np.float64))
eps = mg.tensor(check_rng.standard_normal((4, 3, 2)))             # K=4 samples of 3 images
print(mg.gradcheck(lambda *p: tiny_vae.iwae_bound(x_small, 4, eps=eps).mean(),
                   list(tiny_vae.parameters()), name="IWAE bound L_4"))

# %% [markdown]
# ### 5.2 The graph of one IWAE step

# %%
with inspect.record():
    loss = -tiny_vae.iwae_bound(x_small, 4, eps=eps).mean()
graph = inspect.to_dot(loss, os.path.join(OUT, "iwae_graph"), names=tiny_vae, verbose=False)
inspect.trace(loss, names=tiny_vae, backward=True, limit=40);

# %%
if graph.png_path:
    display(Image(graph.png_path))
else:
    print(graph.message)

# %% [markdown]
# ### 5.3 Gradient flow: ELBO against IWAE training

# %%
display(Image(inspect.compare(flows, os.path.join(OUT, "grad_flow.png"), only="Linear",
                              title="gradient norm per Linear layer")))
