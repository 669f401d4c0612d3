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
from minigen import inspection, viz
from minigen.config import is_tiny, size
from minigen.data import DataLoader, TwoMoons, binarize_dynamic, eight_gaussians
from minigen.models.autoregressive import MADE, PixelCNN, receptive_field
from minigen.models.diffusion import (GaussianMixture, NoiseSchedule, ToyEpsNet, ddim_sample, ddpm_loss,
                                      ddpm_sample)
from minigen.models.flows import realnvp_2d
from minigen.models.gan import GANTrainer, ToyDiscriminator, ToyGenerator
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

# %% [markdown]
# ### 1.1 An autoregressive model: MADE
# One MLP whose weights are masked so that the logit of pixel $d$ sees only the pixels
# before $d$: a single forward pass gives all 784 conditionals, and
# $\log p(x) = \sum_d \log p(x_d \mid x_{<d})$ exactly. Trained on dynamically binarised
# images with Adam, the loss being the exact negative log-likelihood.

# %%

mg.manual_seed(SEED)
made = MADE(784, hidden=(size(500, tiny=32),))
made_flow = inspection.grad_flow(made)
opt = mg.optim.Adam(made.parameters(), lr=1e-3)
loader = DataLoader(x_train, 128, seed=SEED, transform=binarize_dynamic)
for epoch in range(size(20, tiny=1)):
    for xb in loader:
        loss = made.loss(xb)
        opt.zero_grad(); loss.backward(); opt.step()
made_flow.remove()
table["MADE"] = {"exact log p(x)": -made.evaluate_nll(xb_test)}
print(f"MADE: exact test log-likelihood {table['MADE']['exact log p(x)']:.1f} nats/image")

# %% [markdown]
# **It sums to one.** Over all $2^{10} = 1024$ images of a 10-pixel MADE, $\sum_x p(x) = 1$
# to rounding error — exact, no estimate.

# %%
mg.manual_seed(SEED)
small = MADE(10, hidden=(16,)).double()
states = ((np.arange(1024)[:, None] >> np.arange(10)) & 1).astype(np.float64)   # every image
with mg.no_grad():
    total = np.exp(small.log_prob(states).numpy()).sum()
print(f"sum over all 1024 states of p(x) = {total:.12f}")

# %% [markdown]
# **Generated pixel by pixel, and completed exactly.** Sampling runs the network once per
# pixel in raster order; given the top half of an image, the bottom half is drawn from the
# exact conditional $p(x_{\text{bottom}} \mid x_{\text{top}})$.

# %%
mg.manual_seed(SEED)
made_samples = made.sample(size(16, tiny=4))
observed = np.zeros((8, 784), dtype=bool)
observed[:, :392] = True                                   # the top 14 rows
completed, _ = made.complete(xb_test[:8], observed)
fig, axes = plt.subplots(1, 2, figsize=(12, 2.6))
axes[0].imshow(viz.make_grid(made_samples.reshape(-1, 28, 28), nrow=8).squeeze(-1), cmap="gray")
axes[0].set_title("MADE samples, pixel by pixel")
axes[1].imshow(viz.make_grid(np.concatenate([xb_test[:8], completed.reshape(8, -1)]).reshape(-1, 28, 28),
                             nrow=8).squeeze(-1), cmap="gray")
axes[1].set_title("test images (top row) and bottom halves drawn given the top")
for ax in axes:
    ax.axis("off")
fig.tight_layout()

# %% [markdown]
# **PixelCNN** gets the same ordering from *masked convolutions*. Which input pixels can a
# logit see? The gradient answers: $\sum |\partial\, \mathrm{logit}(r, c) / \partial x|$ over
# random inputs is non-zero exactly on the pixels above and to the left (its receptive
# field), computed by the engine's autodiff on an untrained PixelCNN.

# %%
mg.manual_seed(SEED)
pixelcnn = PixelCNN(image_size=12, channels=8, num_blocks=2, kernel_size=5)
field = receptive_field(pixelcnn, row=6, col=6)
fig, ax = plt.subplots(figsize=(3.2, 3.2))
ax.imshow(field > 0, cmap="Blues")
ax.plot(6, 6, "r*")
ax.set_title("inputs that logit (6, 6) depends on")
ax.axis("off");

# %% [markdown]
# ### 1.2 A normalizing flow: RealNVP
# A Gaussian pushed through invertible affine couplings;
# $\log p(x) = \log \mathcal N(f(x); 0, I) + \log\lvert\det J_f(x)\rvert$. Trained on the
# two-moons toy; the density on a grid integrates to one.

# %%
moons = TwoMoons()
x_moons = moons.sample(size(5000, tiny=500), seed=SEED).astype(np.float32)
mg.manual_seed(SEED)
flow = realnvp_2d(num_couplings=size(8, tiny=2), hidden=size(64, tiny=16))
opt = mg.optim.Adam(flow.parameters(), lr=1e-3)
batches = DataLoader(x_moons, 256, seed=SEED).forever()
for step in range(size(1000, tiny=20)):
    loss = flow.loss(next(batches))
    opt.zero_grad(); loss.backward(); opt.step()
lim, n = 5.0, 300
ticks = np.linspace(-lim, lim, n)
grid = np.stack(np.meshgrid(ticks, ticks), axis=-1).reshape(-1, 2).astype(np.float32)
with mg.no_grad():
    density = np.exp(flow.log_prob(grid).numpy())
print(f"RealNVP on two moons: test NLL {flow.evaluate_nll(moons.sample(2000, seed=SEED + 1).astype(np.float32)):.3f} "
      f"nats/point; the density integrates to {density.sum() * (ticks[1] - ticks[0]) ** 2:.3f} over [-5, 5]^2")
fig, axes = plt.subplots(1, 2, figsize=(9, 4.2))
axes[0].imshow(density.reshape(n, n), origin="lower", extent=[-lim, lim, -lim, lim])
axes[0].set_title("exact density p(x)")
flow_samples = flow.sample(2000)
axes[1].scatter(flow_samples[:, 0], flow_samples[:, 1], s=2)
axes[1].set(title="samples x = f^-1(z)", xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal")
fig.tight_layout()

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
    flows[name] = inspection.grad_flow(model)
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
# **The forward process** adds Gaussian noise step by step,
# $q(x_t \mid x_{t-1}) = \mathcal N(\sqrt{1-\beta_t}\,x_{t-1}, \beta_t I)$, which in closed
# form is $x_t = \sqrt{\bar\alpha_t}\,x_0 + \sqrt{1-\bar\alpha_t}\,\varepsilon$ with
# $\bar\alpha_t = \prod_{s \le t}(1-\beta_s)$: after $T = 1000$ steps nothing of $x_0$ is left.

# %%

schedule = NoiseSchedule.linear(1000)
steps_shown = [0, 100, 250, 500, 999]
x0_img = mg.tensor(data.x_test[:1].reshape(1, -1) * 2 - 1)              # one image in [-1, 1]
ring = eight_gaussians()
x0_toy = mg.tensor(ring.sample(1000, seed=SEED))
fig, axes = plt.subplots(2, len(steps_shown) + 1, figsize=(14, 4.8))
for i, t in enumerate(steps_shown):
    mg.manual_seed(SEED)
    xt_img = schedule.q_sample(x0_img, [t], mg.randn(*x0_img.shape)).numpy()
    xt_toy = schedule.q_sample(x0_toy, np.full(1000, t), mg.randn(*x0_toy.shape)).numpy()
    axes[0, i].imshow(xt_img.reshape(28, 28), cmap="gray", vmin=-1, vmax=1)
    axes[1, i].scatter(xt_toy[:, 0], xt_toy[:, 1], s=1)
    axes[1, i].set(xlim=(-4, 4), ylim=(-4, 4), aspect="equal")
    axes[0, i].set_title(f"t = {t}")
    axes[0, i].axis("off")
cosine = NoiseSchedule.cosine(1000)
for sched in (schedule, cosine):
    axes[0, -1].plot(sched.alpha_bars, label=sched.name)
axes[0, -1].set_title("signal kept: alpha-bar_t")
axes[0, -1].legend(fontsize=7)
axes[1, -1].axis("off")
fig.tight_layout()

# %% [markdown]
# **DDPM** learns the reverse: a network $\varepsilon_\theta(x_t, t)$ trained to predict the
# noise, $L_{\text{simple}} = \mathbb E\,\lVert\varepsilon - \varepsilon_\theta(x_t, t)\rVert^2$
# (a reweighted variational bound), then ancestral sampling from $x_T \sim \mathcal N(0, I)$
# down to $x_0$. **DDIM** uses the same network deterministically in far fewer steps. On
# the 8-Gaussian ring we can also plug in the *exact* noise predictor of the mixture, to
# see what the sampler does with a perfect network.

# %%
# the settings of demos/diffusion_toy.py: Fourier features of x, Adam 2e-3 with a cosine
# learning-rate decay and an exponential moving average of the weights (half its steps)
mg.manual_seed(SEED)
eps_net = ToyEpsNet(dim=2, hidden=size(128, tiny=16), depth=size(3, tiny=1), fourier=4)
train_steps = size(2000, tiny=20)
opt = mg.optim.Adam(eps_net.parameters(), lr=2e-3)
lr_decay = mg.optim.CosineAnnealingLR(opt, T_max=train_steps, eta_min=1e-4)
ema = mg.optim.EMA(eps_net, decay=0.995, warmup=True)
batches = DataLoader(ring.sample(size(100_000, tiny=1000), seed=SEED), 256, seed=SEED).forever()
losses = []
for step in range(train_steps):
    loss = ddpm_loss(eps_net, schedule, next(batches))      # t and eps drawn inside
    opt.zero_grad(); loss.backward(); opt.step(); lr_decay.step(); ema.update()
    losses.append(loss.item())
n_gen = size(2000, tiny=200)
short = schedule if not is_tiny() else NoiseSchedule.linear(20)     # the tiny run: 20 steps
mg.manual_seed(SEED)
with ema.average_parameters():                                    # sample with the EMA weights
    diffusion_samples = {
        "DDPM, trained net (T steps)": ddpm_sample(eps_net, short, (n_gen, 2)).numpy(),
        "DDIM, trained net (50 steps)": ddim_sample(eps_net, short, (n_gen, 2), S=min(50, short.T)).numpy(),
    }
diffusion_samples["DDPM, exact eps of the mixture"] = ddpm_sample(
    GaussianMixture.from_toy(ring).eps_fn(short), short, (n_gen, 2)).numpy()
fig, axes = plt.subplots(1, len(diffusion_samples) + 1, figsize=(15, 3.8))
axes[0].plot(losses)
axes[0].set(yscale="log", xlabel="step", title="L_simple")
for ax, (name, x) in zip(axes[1:], diffusion_samples.items()):
    st = ring.mode_stats(x)
    ax.scatter(x[:, 0], x[:, 1], s=1)
    ax.scatter(ring.modes[:, 0], ring.modes[:, 1], marker="x", c="red")
    ax.set(title=f"{name}\n{st['modes_covered']}/8 modes, {st['high_quality']:.0%} high quality",
           xlim=(-3, 3), ylim=(-3, 3), aspect="equal")
    print(f"{name:>32}: modes {st['modes_covered']}/8, high quality {st['high_quality']:.1%}")
fig.tight_layout()

# %% [markdown]
# ## 3. Implicit density: GANs
# A generator maps noise to samples; a discriminator tells real from fake; neither ever
# writes down $p(x)$ — so a GAN has no likelihood to put in the table below. What can be
# measured is its samples: here a small non-saturating GAN on the 8-Gaussian ring, scored
# by the modes it covers. A run this short often collapses; the L6.4 notebook shows why,
# and what helps.

# %%

ring = eight_gaussians()
mg.manual_seed(SEED)
G, D = ToyGenerator(hidden=size(128, tiny=16)), ToyDiscriminator(hidden=size(128, tiny=16))
gan = GANTrainer(G, D, mg.optim.Adam(G.parameters(), 5e-4, betas=(0.5, 0.999)),
                 mg.optim.Adam(D.parameters(), 5e-4, betas=(0.5, 0.999)), loss="nonsaturating")
batches = DataLoader(ring.sample(size(20000, tiny=1000), seed=SEED), 256, seed=SEED, drop_last=True).forever()
for step in range(size(1500, tiny=10)):
    gan.step(next(batches))
gan_samples = gan.generate(2000)
st = ring.mode_stats(gan_samples)
print(f"GAN samples: {st['modes_covered']}/8 modes covered, {st['high_quality']:.1%} high quality "
      f"(within 3 std of a mode), reverse KL {st['reverse_kl']:.2f}")
fig, ax = plt.subplots(figsize=(4.2, 4.2))
ax.scatter(gan_samples[:, 0], gan_samples[:, 1], s=1)
ax.scatter(ring.modes[:, 0], ring.modes[:, 1], marker="x", c="red")
ax.set(title="samples of G(z): no p(x) anywhere", xlim=(-3, 3), ylim=(-3, 3), aspect="equal");

# %% [markdown]
# ## 4. The families side by side
# What each family measures on the same binarised test images (nats per image; higher
# is better): exact for MADE, a bound and an importance-sampled estimate for the VAEs.
# The GAN has no row — it has no likelihood to report; the diffusion model above was
# trained on a 2-D toy, not on these images.

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
with inspection.record():
    loss = -tiny_vae.iwae_bound(x_small, 4, eps=eps).mean()
graph = inspection.to_dot(loss, os.path.join(OUT, "iwae_graph"), names=tiny_vae, verbose=False)
inspection.trace(loss, names=tiny_vae, backward=True, limit=40);

# %%
if graph.png_path:
    display(Image(graph.png_path))
else:
    print(graph.message)

# %% [markdown]
# ### 5.3 Gradient flow: ELBO against IWAE training, and MADE
# Median gradient norm of each (masked) linear layer over the training runs above.

# %%
display(Image(inspection.compare({**flows, "MADE": made_flow}, os.path.join(OUT, "grad_flow.png"),
                              only=("Linear", "MaskedLinear"), title="gradient norm per linear layer")))
