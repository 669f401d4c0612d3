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
# path, followed here with `minigen.models.gan`:
#
# 1. the discriminator's objective and the generator's two objectives — and why the
#    minimax one saturates;
# 2. the combined minimax game and its Nash equilibrium; the Dirac-GAN, where plain
#    gradient play circles instead of converging;
# 3. training on 2-D toys: mode collapse, and WGAN-GP's cure, measured;
# 4. DCGAN's rules on images;
# 5. the other fixes the lecture lists: minibatch discrimination, progressive growing,
#    StyleGAN's generator;
# 6. the gradients: a gradient check of the losses (the penalty's double backward
#    included), the graph of one step, the gradient flow of both players.
#
# `MINIGEN_TINY=1` runs it in seconds; the default sizes take a few minutes on 2 cores.

# %%
import os

import numpy as np
from IPython.display import Image, display

import minigen as mg
from minigen import inspection, viz
from minigen.config import is_tiny, size
from minigen.data import DataLoader, eight_gaussians
from minigen.models.gan import (GANTrainer, ToyDiscriminator, ToyGenerator, d_loss, dcgan_discriminator,
                                dcgan_generator, dcgan_init_, g_loss_minimax, g_loss_nonsaturating,
                                gradient_penalty)
from minigen.models.gan.dirac import DiracGAN
from minigen.models.gan.toy_run import train_toy
from minigen.models.gan.progan import GrowthSchedule, real_at
from minigen.models.gan.style import StyleGenerator
from minigen.models.vae import load_fashion_mnist

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
# $\max_D\ \mathbb E_x[\log D(x)] + \mathbb E_z[\log(1 - D(G(z)))]$ — `d_loss` is its
# negative.
#
# **Generator.** The minimax game has $G$ *minimise* the second term,
# $\min_G \mathbb E_z[\log(1 - D(G(z)))]$ (`g_loss_minimax`). Early in training $D$
# rejects the fakes with confidence, $D(G(z)) \approx 0$, where this loss is flat: its
# gradient vanishes. The **non-saturating** objective $\max_G \mathbb E_z[\log D(G(z))]$
# (`g_loss_nonsaturating`) has the same fixed point but a strong gradient exactly there —
# "pushing the discriminator's output on fakes towards 1".
#
# The losses take $D$'s logit $a$ ($D = \sigma(a)$). The gradient each one sends back to
# the logit of a fake, by the engine's autodiff:

# %%
a = mg.tensor(np.linspace(-8, 8, 401), requires_grad=True)        # D's logit on 401 fakes
d_fake = mg.sigmoid(a).numpy()
curves = {}
for name, loss_fn in (("minimax: log(1 - D(G(z)))", g_loss_minimax),
                      ("non-saturating: -log D(G(z))", g_loss_nonsaturating)):
    loss = loss_fn(a) * len(d_fake)                # the losses are batch means: undo the 1/N
    grad_a, = mg.grad(loss, [a])
    curves[name] = grad_a.numpy()

fig, ax = plt.subplots(figsize=(6, 3.6))
for name, g in curves.items():
    ax.semilogy(d_fake, np.abs(g), label=name)
ax.axvspan(0, 0.1, color="red", alpha=0.08)
ax.set(xlabel="D(G(z))", ylabel="|d loss / d logit|", title="the gradient G receives")
ax.legend(fontsize=8)
for p in (1e-3, 1e-2, 0.1, 0.5):
    i = int(np.argmin(np.abs(d_fake - p)))
    print(f"D(G(z)) = {d_fake[i]:.3g}: " + ", ".join(f"{n.split(':')[0]} {abs(g[i]):.2e}" for n, g in curves.items()))

# %% [markdown]
# Where $D$ is confident (the red band), the minimax gradient is $D(G(z))$ itself — it
# vanishes — while the non-saturating one stays near 1.
#
# ## 2. The minimax game and its Nash equilibrium
# $\min_G \max_D V(D, G) = \mathbb E_x[\log D(x)] + \mathbb E_z[\log(1 - D(G(z)))]$. At the
# ideal outcome, a Nash equilibrium, $p_G = p_{\text{data}}$ and $D \equiv \tfrac12$: neither
# player can improve alone. Gradient play need not find it.
#
# **The Dirac-GAN** (Mescheder et al. 2018) is the smallest example: the data is the
# single point $x = 0$, the generator a single point $\theta$, the discriminator linear,
# $D(x) = \sigma(\psi x)$. The only equilibrium is $\theta = \psi = 0$. The players'
# gradients form a vector field (computed by autodiff on the library's losses); its
# Jacobian at the equilibrium has purely imaginary eigenvalues — a rotation — so
# simultaneous gradient steps spiral *out*, alternating ones circle, and the R1 penalty
# on $D$'s gradient at the data makes them converge.

# %%
steps = size(300, tiny=30)
paths = {
    "simultaneous": DiracGAN().trajectory(1.0, 1.0, lr=0.2, steps=steps),
    "alternating": DiracGAN().trajectory(1.0, 1.0, lr=0.2, steps=steps, mode="alternating"),
    "simultaneous + R1 (gamma = 0.5)": DiracGAN(r1=0.5).trajectory(1.0, 1.0, lr=0.2, steps=steps),
}
for r1 in (0.0, 0.5):
    print(f"R1 gamma = {r1}: Jacobian eigenvalues at the equilibrium "
          f"{np.round(np.linalg.eigvals(DiracGAN(r1=r1).jacobian()), 3)}")
fig, ax = plt.subplots(figsize=(5.5, 5))
grid = np.linspace(-2.5, 2.5, 15)
field = np.array([[DiracGAN().field(t, p) for t in grid] for p in grid])
ax.quiver(grid, grid, field[..., 0], field[..., 1], color="lightgray")
for name, path in paths.items():
    ax.plot(path[:, 0], path[:, 1], lw=1, label=name)
    print(f"{name:>32}: distance to the equilibrium {np.hypot(*path[0]):.2f} -> {np.hypot(*path[-1]):.2f}")
ax.plot(0, 0, "k*", ms=10)
ax.set(xlabel="theta (generator)", ylabel="psi (discriminator)", title="Dirac-GAN: gradient play",
       aspect="equal")
ax.legend(fontsize=7, loc="lower left");

# %% [markdown]
# ## 3. Training on 2-D toys: mode collapse, and WGAN-GP
# MLP players on 8 Gaussians on a ring (`minigen.data`). The non-saturating GAN tends to
# **collapse**: its samples crowd into a small region — a few modes, or none at all — that
# moves around as training goes on.
# **WGAN** replaces the Jensen–Shannon divergence by the Wasserstein distance, estimated by
# a critic with bounded slope; **WGAN-GP** enforces the slope with a gradient penalty —
# a gradient of a gradient, which the engine's double backward computes. `mode_stats`
# counts the modes each covers and the fraction of high-quality samples (within 3σ of a
# mode). The gradient flow of both players is recorded for section 6.

# %%
ring = eight_gaussians()
toy_data = ring.sample(size(20000, tiny=2000), seed=SEED)
settings = {   # steps: WGAN-GP's five critic updates per step make each step ~6x dearer
    "non-saturating": dict(loss="nonsaturating", n_critic=1, betas=(0.5, 0.999), steps=size(1500, tiny=20)),
    "WGAN-GP": dict(loss="wgan-gp", n_critic=5, betas=(0.5, 0.9), steps=size(400, tiny=6)),
}
hidden = size(128, tiny=32)
toy_samples, toy_stats, toy_flows = {}, {}, {}
for name, s in settings.items():
    mg.manual_seed(SEED)
    G, D = ToyGenerator(hidden=hidden), ToyDiscriminator(hidden=hidden)
    trainer = GANTrainer(G, D, mg.optim.Adam(G.parameters(), 5e-4, betas=s["betas"]),
                         mg.optim.Adam(D.parameters(), 5e-4, betas=s["betas"]),
                         loss=s["loss"], n_critic=s["n_critic"], gp_weight=0.1)
    toy_flows[f"{name}: G"], toy_flows[f"{name}: D"] = inspection.grad_flow(G), inspection.grad_flow(D)
    batches = DataLoader(toy_data, trainer.loader_batch_size(256), seed=SEED, drop_last=True).forever()
    for _ in range(s["steps"]):
        trainer.step(next(batches))
    for f in (toy_flows[f"{name}: G"], toy_flows[f"{name}: D"]):
        f.remove()
    toy_samples[name] = trainer.generate(2000)
    toy_stats[name] = ring.mode_stats(toy_samples[name])
    st = toy_stats[name]
    print(f"{name:>15} ({s['steps']} steps): modes covered {st['modes_covered']}/{st['num_modes']}, "
          f"high quality {st['high_quality']:.1%}, reverse KL {st['reverse_kl']:.2f}")

fig, axes = plt.subplots(1, len(toy_samples), figsize=(5 * len(toy_samples), 4.6))
for ax, (name, x) in zip(axes, toy_samples.items()):
    ax.scatter(toy_data[:2000, 0], toy_data[:2000, 1], s=2, c="lightgray")
    ax.scatter(x[:, 0], x[:, 1], s=2, alpha=0.5)
    ax.scatter(ring.modes[:, 0], ring.modes[:, 1], marker="x", c="red")
    ax.set(title=f"{name}: {toy_stats[name]['modes_covered']} of 8 modes", aspect="equal",
           xlim=(-3, 3), ylim=(-3, 3))
fig.tight_layout()

# %% [markdown]
# (The 5×5 grid of 25 Gaussians, `twenty_five_gaussians()`, is the harder test of the
# GAN literature; `demos/gan_toy.py` runs both toys at full length.)
#
# ## 4. DCGAN — the lecture's rules for images
# * strided convolutions instead of pooling layers;
# * batch normalisation (in both networks);
# * no fully connected hidden layers;
# * ReLU in the generator except its output, which is tanh;
# * LeakyReLU(0.2) in the discriminator.
#
# Adam 2e-4 with $\beta = (0.5, 0.999)$ and $\mathcal N(0, 0.02)$ initial weights, as in the
# paper. A short run on the embedded Fashion-MNIST subset (images scaled to [-1, 1]): after
# a few hundred steps the shapes are still rough; `demos/dcgan.py` trains for longer.

# %%
data = load_fashion_mnist(verbose=False)
images = (data.x_train[:size(3000, tiny=256)].reshape(-1, 1, 28, 28) * 2 - 1).astype(np.float32)
mg.manual_seed(SEED)
G = dcgan_init_(dcgan_generator(latent_dim=size(100, tiny=16), channels=size(32, tiny=8)))
D = dcgan_init_(dcgan_discriminator(channels=size(32, tiny=8)))
dcgan = GANTrainer(G, D, mg.optim.Adam(G.parameters(), 2e-4, betas=(0.5, 0.999)),
                   mg.optim.Adam(D.parameters(), 2e-4, betas=(0.5, 0.999)), loss="nonsaturating")
batches = DataLoader(images, 64, seed=SEED, drop_last=True).forever()
log = []
for step in range(size(300, tiny=3)):
    log.append(dcgan.step(next(batches)))
print("last step:", {k: round(v, 3) for k, v in log[-1].items()})
mg.manual_seed(SEED)
fakes = dcgan.generate(64)
fig, axes = plt.subplots(1, 2, figsize=(12, 3.6), gridspec_kw={"width_ratios": [1.4, 1]})
axes[0].imshow(viz.make_grid(fakes, nrow=16, value_range=(-1, 1)).squeeze(-1), cmap="gray")
axes[0].set_title(f"DCGAN samples after {len(log)} steps")
axes[0].axis("off")
for key in ("d_real", "d_fake"):
    axes[1].plot([s[key] for s in log], label=key.replace("_", "(") + ")")
axes[1].axhline(0.5, c="gray", ls=":")
axes[1].set(xlabel="step", ylabel="mean D output", title="D on real and on fake batches")
axes[1].legend()
fig.tight_layout()

# %% [markdown]
# ## 5. The other fixes the lecture lists
#
# ### 5.1 Let the discriminator see the batch
# A discriminator that judges one sample at a time cannot tell a generator that puts
# every sample on one good mode from one that covers them all. **Minibatch
# discrimination** (Salimans et al.), the **minibatch standard deviation** feature
# (ProGAN) and **packing** (PacGAN: $D$ judges 4 samples at once) all show it several
# samples. The same non-saturating toy GAN without any, with minibatch discrimination,
# with the standard-deviation feature and with packing, modes counted as above:

# %%
options = ("none", "disc", "stddev", "pack4")
runs = {opt: train_toy("8gaussians", "nonsaturating", opt, steps=size(600, tiny=5), batch_size=128,
                       hidden=size(128, tiny=16), seed=SEED, n_samples=2500) for opt in options}
fig, axes = plt.subplots(1, len(runs), figsize=(3.6 * len(runs), 3.8))
for ax, (opt, run) in zip(axes, runs.items()):
    st, x = run.numbers, run.samples
    print(f"{opt:>7}: modes covered {st['modes_covered']}/{st['num_modes']}, high quality {st['high_quality']:.1%}")
    ax.scatter(x[:, 0], x[:, 1], s=1)
    ax.scatter(ring.modes[:, 0], ring.modes[:, 1], marker="x", c="red")
    ax.set(title=f"D option '{opt}': {st['modes_covered']}/8 modes", xlim=(-3, 3), ylim=(-3, 3), aspect="equal")
fig.tight_layout()

# %% [markdown]
# One seed and 600 steps is too little to rank the remedies: on a run this short they need
# not beat the plain discriminator. `demos/gan_mode_collapse.py --losses nonsaturating --minibatch none disc stddev pack2 pack4`
# makes the comparison properly — every option, both toys, several seeds.
#
# ### 5.2 Progressive growing (ProGAN)
# Train at 7×7 first, then fade in 14×14 and 28×28 layers: while $\alpha$ rises from 0 to
# 1 the new layer's output is blended with the upsampled old one — and the real images
# are shown to $D$ blended the same way (`real_at`).

# %%
schedule_g = GrowthSchedule([7, 14, 28], stable_steps=300, fade_steps=300)
stages = [schedule_g.stage(s) for s in range(1, schedule_g.total_steps + 1)]
x_real = mg.tensor((data.x_train[:1].reshape(1, 1, 28, 28) * 2 - 1).astype(np.float32))
shown = [(7, 1.0), (14, 0.0), (14, 0.5), (14, 1.0), (28, 0.5), (28, 1.0)]
fig, axes = plt.subplots(1, len(shown) + 1, figsize=(15, 2.6), gridspec_kw={"width_ratios": [1] * len(shown) + [2.2]})
for ax, (r, alpha) in zip(axes, shown):
    ax.imshow(real_at(x_real, r, alpha).numpy()[0, 0], cmap="gray", vmin=-1, vmax=1)
    ax.set_title(f"{r}x{r}, alpha {alpha}", fontsize=8)
    ax.axis("off")
axes[-1].plot([r + 7 * a if f.startswith("fade") else r for f, r, a in stages])
axes[-1].set(xlabel="step", ylabel="resolution (fading in)", title="growth schedule")
fig.tight_layout()

# %% [markdown]
# ### 5.3 StyleGAN's generator
# $z$ never enters the synthesis network directly: a **mapping network** turns it into
# $w$, and each of the synthesis layers gets its own style from $w$ through **AdaIN**
# (normalise each feature map, then scale and shift it by the style), starting from a
# **learned constant** with per-pixel **noise** added. Mixing two $w$'s across layers
# (style mixing) and pulling $w$ towards its mean (truncation) follow from that design.

# %%
mg.manual_seed(SEED)
style_G = StyleGenerator()
z = mg.randn(4, style_G.latent_dim)
with mg.no_grad():
    w = style_G.mapping(z)
    images = style_G(z).numpy()
print(f"z {tuple(z.shape)} -> w {tuple(w.shape)} -> {style_G.num_styles} styles -> images {images.shape}")
print(f"parameters: mapping network {sum(p.numel() for p in style_G.mapping.parameters()):,}, "
      f"whole generator {sum(p.numel() for p in style_G.parameters()):,}")
print("(demos/stylegan.py trains it; an untrained generator's pictures would say nothing)")

# %% [markdown]
# ## 6. The gradients
#
# ### 6.1 Gradient checks: the losses, and the penalty's double backward
# float64, a tiny toy discriminator, fixed inputs. The WGAN-GP penalty contains
# $\nabla_{\hat x} D(\hat x)$; its gradient with respect to $D$'s weights is a second
# derivative of $D$ — checked here against finite differences like any other loss.

# %%
check_rng = np.random.default_rng(SEED)
mg.manual_seed(SEED)
D64 = ToyDiscriminator(hidden=6, depth=2, activation="leaky_relu").double()
real = mg.tensor(check_rng.standard_normal((4, 2)))
fake = mg.tensor(check_rng.standard_normal((4, 2)))
alpha = mg.tensor(check_rng.random(4))
params = list(D64.parameters())
print(mg.gradcheck(lambda *p: d_loss(D64(real), D64(fake)), params, name="d_loss"))
print(mg.gradcheck(lambda *p: gradient_penalty(D64, real, fake, weight=10.0, alpha=alpha), params,
                   name="WGAN-GP gradient penalty (double backward)"))

# %% [markdown]
# ### 6.2 The graph of one discriminator step with the penalty
# The forward pass of $D$ appears twice — once for the scores, once inside the penalty,
# whose input gradient is itself a graph.

# %%
with inspection.record():
    loss = (D64(fake).mean() - D64(real).mean()) + gradient_penalty(D64, real, fake, weight=10.0,
                                                                     alpha=alpha)
graph = inspection.to_dot(loss, os.path.join(OUT, "wgan_gp_step"), names=D64, verbose=False)
inspection.trace(loss, names=D64, backward=True, limit=25);

# %%
if graph.png_path:
    display(Image(graph.png_path))
else:
    print(graph.message)

# %% [markdown]
# ### 6.3 Gradient flow of both players on the toys

# %%
display(Image(inspection.compare(toy_flows, os.path.join(OUT, "grad_flow.png"), only="Linear",
                              title="gradient norm per Linear layer, toy GANs")))
