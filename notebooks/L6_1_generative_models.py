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
# # L6.1 — Introduction to generative models
#
# A generative model learns the distribution the data came from, so that it can
# **generate** new samples, **explain** the data (latent structure), **fill in** missing
# parts, **flag** samples that do not fit, and **represent** data compactly.
#
# This notebook follows the lecture notes section by section, with minigen's public API:
#
# 1. the explicit joint table of a 2×2 binary image — and why it explodes;
# 2. the five capabilities, shown with one variational autoencoder (VAE);
# 3. generative vs discriminative classifiers when pixels go missing;
# 4. the gradients behind it: a gradient check of the VAE's loss, the graph of one
#    step, and the gradient flow during training.
#
# Set `MINIGEN_TINY=1` before starting Jupyter for a run of a few seconds (the test
# suite does this); the default sizes take a few minutes on 2 CPU cores.

# %%
import os

import numpy as np
from IPython.display import Image, display

import minigen as mg
from minigen import inspection, viz
from minigen.config import is_tiny, size
from minigen.data import FASHION_MNIST_CLASSES
from minigen.metrics import auroc
from minigen.models.classic import (BernoulliNB, BinaryJointTable, GaussianDiscriminantAnalysis,
                                    LogisticRegression, n_parameters)
from minigen.models.classic.joint_table import states_to_index
from minigen.models.vae import VAE, fit, load_fashion_mnist, prepare_test
from minigen.models.vae.inpainting import (InpaintingNet, latent_optimisation, make_mask,
                                           mean_image_fill, missing_mse, pseudo_gibbs,
                                           train_inpainting_net)
from minigen.models.vae.representation import knn_accuracy, linear_probe_accuracy

# minigen.viz selects the file-only Agg backend; in a notebook we want pictures inline
# %matplotlib inline
plt = viz.plt

OUT = os.path.join("out", "L6_1")   # pictures, beside the notebook (git ignores out/)
os.makedirs(OUT, exist_ok=True)
SEED = 0
mg.manual_seed(SEED)
rng = np.random.default_rng(SEED)
print("tiny run" if is_tiny() else "default run", "- pictures also saved under", OUT)

# %% [markdown]
# The data: Fashion-MNIST. The package embeds a class-balanced subset (3,000 training
# and 1,000 test images), so everything here works offline. Images are flat rows of 784
# grey values in [0, 1].

# %%
data = load_fashion_mnist(verbose=False)
n_train, n_test = size(3000, tiny=300), size(1000, tiny=200)
x_train, y_train = data.x_train[:n_train], data.y_train[:n_train]
x_test, y_test = data.x_test[:n_test], data.y_test[:n_test]
print(data.source, x_train.shape, x_test.shape)
plt.figure(figsize=(8, 1.2))
plt.imshow(viz.make_grid(x_train[:16].reshape(-1, 28, 28), nrow=16).squeeze(-1), cmap="gray")
plt.axis("off");

# %% [markdown]
# ## 1. The explicit joint table of a 2×2 binary image
#
# Binarise the images and cut them into 2×2 tiles. Each tile is one of $2^4 = 16$
# states, and the most direct generative model stores one probability per state:
# $p(x) = \theta_{s(x)}$, fitted by counting (with add-one smoothing so unseen states
# keep a little mass). The table *is* the distribution, so sampling, marginals and
# in-painting are all exact.

# %%
def tiles(images, side):
    """All non-overlapping side×side tiles of (N, 28, 28) images, as rows of side² pixels."""
    n, h, w = images.shape
    k = h // side
    t = images[:, :k * side, :k * side].reshape(n, k, side, k, side).transpose(0, 1, 3, 2, 4)
    return t.reshape(-1, side * side).astype(np.float64)


binary_train = (x_train > 0.5).reshape(-1, 28, 28)
binary_test = (x_test > 0.5).reshape(-1, 28, 28)
X2, X2_test = tiles(binary_train, 2), tiles(binary_test, 2)
table = BinaryJointTable((2, 2), alpha=1.0).fit(X2)

p_pixel = table.pixel_marginals()                      # p(x_j = 1), four numbers
independent = np.prod(np.where(table.states == 1, p_pixel, 1 - p_pixel), axis=1)
draw = lambda s: "".join("#" if v else "." for v in s[:2]) + "/" + "".join("#" if v else "." for v in s[2:])
print(f"{len(X2):,} training tiles; '#' = pixel on, rows top/bottom")
print(f"{'state':>6} {'count':>8} {'p(x)':>8} {'indep.':>8}")
for s, state in enumerate(table.states):
    print(f"{draw(state):>6} {int(table.counts_[s]):8d} {table.probs_[s]:8.4f} {independent[s]:8.4f}")
print("the table sums to", table.probs_.sum())

# %%
fig, ax = plt.subplots(figsize=(9, 3))
ax.bar(np.arange(16) - 0.2, table.probs_, width=0.4, label="joint table")
ax.bar(np.arange(16) + 0.2, independent, width=0.4, label="independent pixels")
ax.set_xticks(range(16), [draw(s) for s in table.states], rotation=60, fontsize=8)
ax.set(yscale="log", ylabel="p(x)", title="2×2 binary tiles: the full joint table (16 states)")
ax.legend();

# %% [markdown]
# Neighbouring pixels are not independent: all-off and all-on tiles are far more common
# than independent pixels predict. Because the table holds the joint, **in-painting is
# exact**: slice the table at the observed pixels and renormalise,
# $p(x_m \mid x_o) = p(x_m, x_o) / p(x_o)$.

# %%
missing, conditional = table.conditional([1, 1, np.nan, np.nan])     # top row on, bottom unknown
for a in (0, 1):
    for b in (0, 1):
        print(f"bottom row {'#' if a else '.'}{'#' if b else '.'}: p = {conditional[a, b]:.3f}")
print(f"independent pixels would say p(bottom = ##) = {p_pixel[2] * p_pixel[3]:.3f}")
print(f"held-out log-likelihood per tile: table {table.score(X2_test):.3f} nats, "
      f"independent {np.log(independent[states_to_index(X2_test)]).mean():.3f} nats")

# %% [markdown]
# ### Why it explodes
#
# The table has $2^d - 1$ free parameters for $d$ binary pixels: 15 for 2×2, 65,535 for
# 4×4 and $2^{784}-1 \approx 10^{236}$ for a 28×28 image — more than there are atoms in
# the observable universe ($\sim 10^{80}$). Even before memory runs out, the *data* runs
# out: most states of a larger tile never occur in training, so the table can only give
# them the smoothing mass.

# %%
for side in (2, 3, 4, 5, 28):
    d = side * side
    k = n_parameters(d)
    shown = f"{k:,}" if d <= 25 else f"~1e{len(str(k)) - 1}"
    print(f"{side}x{side}: {d:4d} pixels, {shown:>14} free parameters")

fig, ax = plt.subplots(figsize=(6, 3.5))
for side in (2, 3, 4, 5):
    train_states = states_to_index(tiles(binary_train, side))
    test_states = states_to_index(tiles(binary_test, side))
    counts = np.unique(np.geomspace(10, len(train_states), 10).astype(int))
    unseen = [np.mean(~np.isin(test_states, train_states[:n])) for n in counts]
    ax.plot(counts, unseen, "o-", ms=3, label=f"{side}x{side} ({2 ** (side * side):,} states)")
ax.set(xscale="log", xlabel="training tiles", ylabel="held-out tiles never seen in training",
       title="the data a joint table needs")
ax.legend(fontsize=8);

# %% [markdown]
# Modern generative models (VAEs, GANs, diffusion models) never store the table. They
# learn a *function* that approximates the distribution or samples from it. The rest of
# this notebook uses one such model, a VAE, for every capability of the lecture.
#
# ## 2. The five capabilities, with one VAE
#
# A VAE with a 784-400-20 MLP encoder and decoder, trained on dynamically binarised
# images (each batch redraws $b \sim \mathrm{Bernoulli}(x)$). We record the gradient
# flow of its layers while it trains (section 4 shows the plot).

# %%
latent_dim = size(20, tiny=8)
vae = VAE.mlp(latent_dim=latent_dim, hidden=size(400, tiny=64))
flow = inspection.grad_flow(vae)
loop = fit(vae, x_train, epochs=size(30, tiny=2), out=os.path.join(OUT, "vae"),
           progress=False)
flow.remove()
xb_test = prepare_test(x_test, "bernoulli")            # the test images, binarised once (seed 0)
terms = vae.evaluate_elbo(xb_test)
print(f"test ELBO {terms['elbo'].mean():.1f} nats/image = -(reconstruction "
      f"{terms['reconstruction'].mean():.1f} + KL {terms['kl'].mean():.1f})")

# %% [markdown]
# ### 2.1 Data generation — decode noise from the prior
# $z \sim \mathcal N(0, I)$, then the decoder's pixel probabilities $p(x \mid z)$.

# %%
mg.manual_seed(SEED)
samples = vae.generate(64).numpy()
display(Image(viz.image_grid(samples.reshape(-1, 28, 28), os.path.join(OUT, "samples.png"),
                             nrow=16, title="VAE samples: z ~ N(0, I) decoded")))

# %% [markdown]
# ### 2.2 Understanding the data — the latent structure
# The encoder's means $\mu(x)$ of the test images, projected on their first two
# principal components and coloured by class: the model found the classes without labels.

# %%
codes = vae.latent_means(xb_test)
display(Image(viz.latent_scatter(codes, y_test, os.path.join(OUT, "latent.png"),
                                 class_names=FASHION_MNIST_CLASSES,
                                 title="VAE latent means of the test images")))

# %% [markdown]
# ### 2.3 Missing-data imputation — in-painting by the three routes of the lecture
# The centre 14×14 square of each test image is hidden. The VAE never writes down
# $p(x)$, but it can be used to fill the hole
#
# * **iteratively**: pseudo-Gibbs sampling, alternating $z \sim q(z \mid x)$ and
#   $x_m \sim p(x_m \mid z)$ with the observed pixels held fixed;
# * **directly**: a network trained to predict masked pixels from the rest;
# * **in the latent space**: search $z^* = \arg\max_z \sum_{i\ \mathrm{observed}} \log p(x_i \mid z) + \log p(z)$
#   by gradient ascent and decode it.
#
# The models observe the binarised pixels; each method's guess of $E[x_m \mid x_o]$ is
# scored against the grey test image by the mean squared error on the hidden pixels
# (lower is better). The baseline fills every hole with the mean training image, which
# is also where the iterative methods start.

# %%
n_paint = size(300, tiny=20)
truth, x_seen = x_test[:n_paint], xb_test[:n_paint]
observed = make_mask("centre", n_paint)
mean_image = x_train.mean(axis=0)
mg.manual_seed(SEED)
net = InpaintingNet(hidden=size(512, tiny=64))
train_inpainting_net(net, x_train, steps=size(1000, tiny=20), seed=SEED)
gibbs_steps = size(50, tiny=5)
fills = {
    "mean image": mean_image_fill(x_seen, observed, mean_image),
    "pseudo-Gibbs": pseudo_gibbs(vae, x_seen, observed, steps=gibbs_steps, burn_in=gibbs_steps // 5,
                                 init=mean_image),
    "direct net": net.predict(x_seen, observed),
    "latent search": latent_optimisation(vae, x_seen, observed, steps=size(200, tiny=10),
                                         init=mean_image)[0],
}
for name, fill in fills.items():
    print(f"{name:>14}: MSE on the hidden pixels {missing_mse(fill, truth, observed):.4f}")

# %%
show = 8
hidden = np.where(observed[:show], x_seen[:show], 0.5)              # grey = hidden
rows = [truth[:show], hidden] + [np.where(observed[:show], x_seen[:show], f[:show]) for f in fills.values()]
fig, axes = plt.subplots(len(rows), 1, figsize=(8, 1.3 * len(rows)))
for ax, title, imgs in zip(axes, ["test image", "what the models see"] + list(fills), rows):
    ax.imshow(viz.make_grid(imgs.reshape(-1, 28, 28), nrow=show).squeeze(-1), cmap="gray")
    ax.set_title(title, fontsize=9)
    ax.axis("off")
fig.tight_layout()

# %% [markdown]
# ### 2.4 Anomaly detection — samples the model finds unlikely
# Train a second VAE on all classes but one ("Bag"), then score test images by their
# negative ELBO (an upper bound on $-\log p(x)$). The AUROC says how well that score
# separates the unseen class from the nine known ones (0.5 = chance). Likelihoods are
# not a perfect novelty detector: simple images (few bright pixels) can look *more*
# likely than the training classes.

# %%
held_out = FASHION_MNIST_CLASSES.index("Bag")
mg.manual_seed(SEED)
vae_nine = VAE.mlp(latent_dim=latent_dim, hidden=size(400, tiny=64))
fit(vae_nine, x_train[y_train != held_out], epochs=size(30, tiny=2), out=os.path.join(OUT, "vae_nine"),
    progress=False)
score = -vae_nine.evaluate_elbo(xb_test)["elbo"]           # higher = more anomalous
print(f"AUROC of -ELBO, 'Bag' held out: {auroc(score[y_test != held_out], score[y_test == held_out]):.3f}")
fig, ax = plt.subplots(figsize=(6, 3))
ax.hist(score[y_test != held_out], bins=30, alpha=0.6, density=True, label="nine training classes")
ax.hist(score[y_test == held_out], bins=30, alpha=0.6, density=True, label="held out: Bag")
ax.set(xlabel="-ELBO (nats)", title="anomaly score of the test images")
ax.legend();

# %% [markdown]
# ### 2.5 Representation learning — the latent means as features
# A linear probe and a 5-nearest-neighbour vote on the 20 numbers $\mu(x)$ against the
# same on all 784 raw pixels.

# %%
codes_train = vae.latent_means(prepare_test(x_train, "bernoulli"))
epochs_probe = size(20, tiny=2)
for name, (a, b) in {"VAE means": (codes_train, codes), "raw pixels": (x_train, x_test)}.items():
    lin = linear_probe_accuracy(a, y_train, b, y_test, epochs=epochs_probe, seed=SEED)
    knn = knn_accuracy(a, y_train, b, y_test, k=5)
    print(f"{name:>11} (d={a.shape[1]:3d}): linear probe {lin:.3f}, 5-NN {knn:.3f}")

# %% [markdown]
# ## 3. Generative vs discriminative classifiers under missing pixels
#
# A **generative** classifier models $p(x \mid y)\,p(y)$ and classifies by Bayes' rule.
# With some pixels missing it can *marginalise* them: Naive Bayes drops their factors, a
# Gaussian keeps the observed block of its covariance. A **discriminative** classifier
# (logistic regression) only models $p(y \mid x)$ and must *impute* the missing pixels
# (here: the training mean of each pixel).

# %%
models = {
    "Bernoulli NB": BernoulliNB(alpha=1.0, binarize=0.5),
    "LDA (Gaussian, shared cov.)": GaussianDiscriminantAnalysis("shared", shrinkage=0.1),
    "logistic regression": LogisticRegression(lr=0.01, n_epochs=size(10, tiny=2), random_state=SEED),
}
for model in models.values():
    model.fit(x_train, y_train)
fractions = size((0.0, 0.25, 0.5, 0.75, 0.9), tiny=(0.0, 0.75))
n_masked = size(300, tiny=30)
u = rng.random(x_test[:n_masked].shape)                  # nested masks: one uniform per pixel
curves = {name: [] for name in models}
for frac in fractions:
    seen = u >= frac
    for name, model in models.items():
        curves[name].append(model.accuracy(x_test[:n_masked], y_test[:n_masked], mask=seen))
    print(f"{int(100 * frac):3d}% missing: " + ", ".join(f"{n} {c[-1]:.3f}" for n, c in curves.items()))

# %%
fig, ax = plt.subplots(figsize=(6, 3.8))
for name, acc in curves.items():
    ax.plot(fractions, acc, "s-" if name == "logistic regression" else "o-", label=name)
ax.axhline(0.1, c="gray", ls=":")
ax.set(xlabel="fraction of pixels missing", ylabel="test accuracy", ylim=(0, 1),
       title="generative (marginalise) vs discriminative (impute)")
ax.legend(fontsize=8);

# %% [markdown]
# The generative classifiers keep their accuracy long after logistic regression falls
# towards chance — the lecture's point that generative classifiers cope with missing
# data, at the price of modelling all of $x$.
#
# ## 4. The gradients behind the VAE
#
# ### 4.1 A gradient check of the whole loss
# The ELBO of a tiny VAE in float64, with its noise $\varepsilon$ held fixed, against
# central finite differences for every parameter. A wrong composition (a sign, a
# missing $\exp(\log\sigma^2/2)$, a KL summed over the wrong axis) fails here even when
# every op is right.

# %%
mg.manual_seed(SEED)
tiny_vae = VAE.mlp(latent_dim=2, hidden=4, x_dim=5).double()
x_small = mg.tensor((rng.random((3, 5)) > 0.5).astype(np.float64))
eps = mg.tensor(rng.standard_normal((3, 2)))
report = mg.gradcheck(lambda *params: tiny_vae.elbo(x_small, eps=eps).loss,
                      list(tiny_vae.parameters()), name="VAE ELBO")
print(report)

# %% [markdown]
# ### 4.2 One training step, node by node
# `inspection.trace` lists the graph of one ELBO in the order backward visits it, with
# the line that made each node and the gradient norm through it; `inspection.to_dot`
# draws it (a PNG when Graphviz's `dot` is installed). Note the reparameterisation
# $z = \mu + \exp(\log\sigma^2 / 2)\,\varepsilon$: ordinary ops, so the gradient reaches
# the encoder.

# %%
with inspection.record():
    loss = tiny_vae.elbo(x_small, eps=eps).loss
graph = inspection.to_dot(loss, os.path.join(OUT, "elbo_graph"), names=tiny_vae, verbose=False)
inspection.trace(loss, names=tiny_vae, backward=True, limit=30);

# %%
if graph.png_path:
    display(Image(graph.png_path))
else:
    print(graph.message)                    # e.g. Graphviz not installed: the DOT file is there

# %% [markdown]
# ### 4.3 Gradient flow during training
# The norm of each layer's gradient at every step of the VAE trained in section 2
# (recorded by `inspection.grad_flow`), and the fraction of dead ReLU units.

# %%
for warning in flow.warnings() or ["no warnings: every layer received gradient"]:
    print("-", warning)
display(Image(flow.plot(os.path.join(OUT, "grad_flow.png"), title="VAE: gradient norm per layer")))
