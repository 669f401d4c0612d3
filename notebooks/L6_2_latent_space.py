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
# # L6.2 — Introduction to latent space
#
# A **latent space** is a lower-dimensional representation that keeps the essential
# structure of high-dimensional data: a 784-pixel image becomes a handful of numbers
# that capture its "core concepts".
#
# This notebook follows the lecture:
#
# 1. pre-deep-learning latent models — PCA and eigen-images, Factor Analysis, Latent
#    Dirichlet Allocation (topics), matrix factorisation;
# 2. discovery and inference: data → encoder → latent $z$ (an autoencoder), and why a
#    random $z$ decodes to garbage;
# 3. sampling from noise: $z \sim \mathcal N(0, I)$ → decoder → new data (a VAE), whose
#    prior fills the holes;
# 4. the gradients: a gradient check of both losses, the graph of one step, and the
#    gradient flow of the two models side by side.
#
# `MINIGEN_TINY=1` runs it in seconds; the default sizes take a few minutes on 2 cores.

# %%
import os

import numpy as np
from IPython.display import Image, display
from scipy.stats import norm

import minigen as mg
from minigen import inspection, viz
from minigen.config import is_tiny, size
from minigen.data import FASHION_MNIST_CLASSES
from minigen.models.classic import (PCA, FactorAnalysis, LatentDirichletAllocation, LatentFactorModel,
                                    SVDImputer, align_loadings, make_bars_corpus, make_low_rank_ratings,
                                    match_topics, split_documents, unigram_perplexity)
from minigen.models.vae import VAE, Autoencoder, evaluating, fit, load_fashion_mnist, prepare_test

# minigen.viz selects the file-only Agg backend; in a notebook we want pictures inline
# %matplotlib inline
plt = viz.plt

OUT = os.path.join("out", "L6_2")   # pictures, beside the notebook (git ignores out/)
os.makedirs(OUT, exist_ok=True)
SEED = 0
mg.manual_seed(SEED)
rng = np.random.default_rng(SEED)
print("tiny run" if is_tiny() else "default run", "- pictures also saved under", OUT)

data = load_fashion_mnist(verbose=False)
n_train, n_test = size(3000, tiny=300), size(1000, tiny=200)
x_train, y_train = data.x_train[:n_train], data.y_train[:n_train]
x_test, y_test = data.x_test[:n_test], data.y_test[:n_test]
print(data.source, x_train.shape, x_test.shape)

# %% [markdown]
# ## 1. Latent models before deep learning
#
# ### 1.1 Principal Component Analysis — orthogonal axes of largest variance
# The latent space is the subspace spanned by the first $k$ principal components; a code
# is $z = V_k (x - \bar x)$ and its reconstruction $\hat x = \bar x + V_k^\top z$. The axes
# are images themselves — the "eigen-images" (eigenfaces, for faces).

# %%
pca = PCA(n_components=size(200, tiny=50)).fit(x_train)
cumulative = np.cumsum(pca.explained_variance_ratio_)
for share in (0.5, 0.8, 0.9):
    if cumulative[-1] >= share:
        print(f"{int(np.searchsorted(cumulative, share)) + 1:4d} components keep {share:.0%} of the pixel variance")

fig, axes = plt.subplots(1, 2, figsize=(11, 3.2), gridspec_kw={"width_ratios": [1.6, 1]})
eigen = pca.components_[:16].reshape(-1, 28, 28)
top = np.abs(eigen).max()
axes[0].imshow(viz.make_grid(eigen, nrow=8, value_range=(-top, top), pad_value=0.5).squeeze(-1),
               cmap="RdBu_r")                      # 0.5 = zero: white separators
axes[0].set_title("the first 16 eigen-images (principal axes)")
axes[0].axis("off")
axes[1].plot(np.arange(1, len(cumulative) + 1), cumulative)
axes[1].set(xlabel="components k", ylabel="variance kept", title="explained variance")
fig.tight_layout()

# %%
ks = [k for k in (2, 10, 50, 200) if k <= pca.n_components_]
rows = [x_test[:10]] + [pca.reconstruct(x_test[:10], k) for k in ks]
fig, axes = plt.subplots(len(rows), 1, figsize=(7, 1.1 * len(rows)))
for ax, title, imgs in zip(axes, ["test images"] + [f"k = {k}" for k in ks], rows):
    ax.imshow(viz.make_grid(np.clip(imgs, 0, 1).reshape(-1, 28, 28), nrow=10).squeeze(-1), cmap="gray")
    ax.set_title(title, fontsize=9)
    ax.axis("off")
fig.tight_layout()
for k in ks:
    err = np.mean((pca.reconstruct(x_test, k) - x_test) ** 2)
    print(f"k = {k:3d}: test mean squared error per pixel {err:.4f}")

# %% [markdown]
# PCA is also a (probabilistic) generative model: probabilistic PCA,
# $x = \bar x + W z + \sigma\varepsilon$, has a likelihood we can evaluate on held-out data.

# %%
for k in ks:
    print(f"k = {k:3d}: PPCA held-out log-likelihood {pca.truncate(k).score(x_test):9.1f} nats/image")

# %% [markdown]
# ### 1.2 Factor Analysis — observed data = loadings × hidden factors + noise
# $x = \mu + W z + \varepsilon$ with $z \sim \mathcal N(0, I_k)$ and a *diagonal* noise
# $\Psi$ (one variance per feature — the difference from PPCA's $\sigma^2 I$). We draw
# data from known loadings (3 factors behind 9 "test scores"), fit by EM, and compare
# (loadings are identifiable only up to a rotation, so we rotate them to the truth).

# %%
W_true = np.zeros((9, 3))
W_true[0:3, 0], W_true[3:6, 1], W_true[6:9, 2] = 0.9, 0.8, 0.7      # each factor drives 3 tests
W_true[4, 0] = W_true[8, 1] = 0.3
psi_true = np.linspace(0.1, 0.5, 9)


def factor_data(n, rng):
    return rng.standard_normal((n, 3)) @ W_true.T + rng.standard_normal((n, 9)) * np.sqrt(psi_true)


X_fa, X_fa_test = factor_data(size(2000, tiny=300), rng), factor_data(1000, rng)
fa = FactorAnalysis(3, tol=1e-8, random_state=SEED).fit(X_fa)
W_fit = align_loadings(fa.components_.T, W_true)
print(f"EM: {fa.n_iter_} iterations; max |W error| {np.abs(W_fit - W_true).max():.3f}, "
      f"max |psi error| {np.abs(fa.noise_variance_ - psi_true).max():.3f}")
fig, axes = plt.subplots(1, 3, figsize=(9, 3.2))
for ax, M, title in zip(axes, (W_true, W_fit), ("true loadings W", "EM estimate (rotated)")):
    ax.imshow(M, cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set(title=title, xlabel="factor", ylabel="feature")
axes[2].plot(psi_true, "o", label="true")
axes[2].plot(fa.noise_variance_, "x", label="fitted")
axes[2].set(title="noise variances psi", xlabel="feature")
axes[2].legend()
fig.tight_layout()
for k in (1, 2, 3, 4):
    fa_k = FactorAnalysis(k, tol=1e-7, random_state=SEED).fit(X_fa)
    print(f"k = {k}: held-out log-likelihood FA {fa_k.score(X_fa_test):7.3f}, "
          f"PPCA {PCA(k).fit(X_fa).score(X_fa_test):7.3f}")

# %% [markdown]
# ### 1.3 Latent Dirichlet Allocation — documents as mixtures of topics
# Each document mixes a few topics; each topic is a distribution over words. The latent
# space is the space of topic proportions. The classic test: a 25-word vocabulary drawn
# as a 5×5 image whose ten true topics are "bars" (5 rows, 5 columns); each document is a
# bag of words from a few bars. Variational EM should find the bars from the counts.

# %%
X_docs, true_topics, _ = make_bars_corpus(size(500, tiny=100), 100, random_state=SEED)
X_docs_test, _, _ = make_bars_corpus(200, 100, random_state=SEED + 1)
lda = LatentDirichletAllocation(n_topics=10, n_init=size(3, tiny=1), max_iter=size(200, tiny=20),
                                random_state=SEED).fit(X_docs)
order, distance = match_topics(lda.topic_word_, true_topics)
print(f"bars found (L1 distance < 0.5): {int((distance < 0.5).sum())} of 10")
observed_words, heldout_words = split_documents(X_docs_test, 0.5, random_state=SEED)
print(f"held-out perplexity per word: LDA {lda.completion_perplexity(observed_words, heldout_words):.2f}, "
      f"unigram {unigram_perplexity(X_docs, heldout_words):.2f} (25 = uniform)")

fig, axes = plt.subplots(3, 10, figsize=(11, 3.6))
for i in range(10):
    axes[0, i].imshow(X_docs[i].reshape(5, 5), cmap="gray")
    axes[1, i].imshow(true_topics[i].reshape(5, 5), cmap="gray")
    axes[2, i].imshow(lda.topic_word_[order[i]].reshape(5, 5), cmap="gray")
for ax in axes.flat:
    ax.axis("off")
for r, title in enumerate(("documents (word counts)", "true topics", "LDA's topics (matched)")):
    axes[r, 0].set_title(title, fontsize=9, loc="left")
fig.tight_layout()

# %% [markdown]
# ### 1.4 Matrix factorisation — ratings from latent user and item factors
# A users × items ratings matrix with most entries missing is explained by
# $R \approx U V^\top$: each user and item gets $k$ latent numbers. Two ways: an SVD of
# the mean-imputed matrix (iterated), and a latent-factor model trained with minigen's
# engine on the observed entries only.

# %%
R_train, R_test, R_clean = make_low_rank_ratings(300, 200, rank=5, noise=0.5, density=0.3,
                                                 random_state=SEED)
epochs_mf = size(20, tiny=2)
results = {
    "SVD, mean-imputed": SVDImputer(5).fit(R_train).rmse(R_test),
    "SVD, iterated x30": SVDImputer(5, n_iter=size(30, tiny=3)).fit(R_train).rmse(R_test),
}
factors = LatentFactorModel(5, reg=0.01, lr=0.01, n_epochs=epochs_mf, random_state=SEED)
factors.fit(R_train, R_val=R_test)
results["latent factors (engine, Adam)"] = factors.rmse(R_test)
results["noise level (best possible)"] = 0.5
for name, value in results.items():
    print(f"{name:>30}: held-out RMSE {value:.3f}")
fig, ax = plt.subplots(figsize=(5.5, 3.2))
ax.plot([h["epoch"] for h in factors.history_], [h["train_rmse"] for h in factors.history_], label="train")
ax.plot([h["epoch"] for h in factors.history_], [h["val_rmse"] for h in factors.history_], label="held out")
ax.axhline(0.5, c="gray", ls=":", label="noise level")
ax.set(xlabel="epoch", ylabel="RMSE", title="latent-factor model")
ax.legend();

# %% [markdown]
# ## 2. Discovery and inference: data → encoder → latent $z$
#
# An **autoencoder** learns an encoder $z = \mathrm{enc}(x)$ and a decoder
# $\hat x = \mathrm{dec}(z)$ by reconstruction alone. With a 2-D latent we can look at
# the whole space. Nothing tells the codes where to go, so they spread out in
# whatever shape reconstruction likes — and the space between them is unclaimed.
#
# ## 3. Sampling from noise: $z \sim \mathcal N(0, I)$ → decoder → new data
#
# A **VAE** has the same networks, plus a KL term that pulls every $q(z \mid x)$ towards
# the prior $\mathcal N(0, I)$. Then a random $z$ from the prior is a valid "recipe" for
# an image. We train both with the same architecture, data and seed, and record their
# gradient flow (section 4).

# %%
epochs_2d = size(40, tiny=2)
hidden = size(400, tiny=64)
models, flows, codes = {}, {}, {}
for name, cls in (("autoencoder", Autoencoder), ("VAE", VAE)):
    mg.manual_seed(SEED)
    model = cls.mlp(latent_dim=2, hidden=hidden)
    flows[name] = inspection.grad_flow(model)
    fit(model, x_train, epochs=epochs_2d, out=os.path.join(OUT, name), progress=False)
    flows[name].remove()
    models[name] = model
    codes[name] = (model.latent_means(prepare_test(x_train, "bernoulli")),
                   model.latent_means(prepare_test(x_test, "bernoulli")))

fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
cmap = plt.get_cmap("tab10")
for ax, (name, (_, z_test)) in zip(axes, codes.items()):
    for c in range(10):
        m = y_test == c
        ax.scatter(z_test[m, 0], z_test[m, 1], s=4, color=cmap(c), label=FASHION_MNIST_CLASSES[c])
    ax.set(title=f"{name}: codes of the test images", xlabel="z1", ylabel="z2")
axes[1].legend(fontsize=7, markerscale=3)
fig.tight_layout()

# %% [markdown]
# **The holes, measured.** Draw random points — for the VAE from its prior, for the
# autoencoder uniformly in the box its codes occupy — and count how many land farther
# from every training code than 95% of the test codes do.

# %%
def decode(model, z):
    with evaluating(model):
        return model.likelihood.mean(model.decode(mg.tensor(z.astype(np.float32)))).numpy().reshape(-1, 28, 28)


def nearest(points, reference):
    return np.sqrt(((points[:, None, :] - reference[None, :, :]) ** 2).sum(-1).min(axis=1))


random_z = {}
for name, (z_train, z_test) in codes.items():
    threshold = np.quantile(nearest(z_test, z_train), 0.95)
    lo, hi = z_train.min(axis=0), z_train.max(axis=0)
    z = rng.standard_normal((1000, 2)) if name == "VAE" else lo + (hi - lo) * rng.random((1000, 2))
    random_z[name] = z
    print(f"{name:>11}: code std {np.round(z_train.std(axis=0), 2)}; random points in holes: "
          f"{(nearest(z, z_train) > threshold).mean():.0%}")

fig, axes = plt.subplots(1, 2, figsize=(11, 5.5))
for ax, (name, z) in zip(axes, random_z.items()):
    ax.imshow(viz.make_grid(decode(models[name], z[:64]), nrow=8).squeeze(-1), cmap="gray")
    ax.set_title(f"{name}: decoded random z" + (" ~ N(0, I)" if name == "VAE" else " (box of its codes)"))
    ax.axis("off")
fig.tight_layout()

# %% [markdown]
# The VAE's decoder on a grid of $z$ at the Gaussian quantiles — every point of the
# picture is a likely one under the prior, so the whole grid is made of clothes: the
# learned data manifold.

# %%
g = size(15, tiny=5)
ticks = norm.ppf(np.linspace(0.05, 0.95, g))
grid_z = np.array([[a, b] for b in ticks[::-1] for a in ticks])
display(Image(viz.image_grid(decode(models["VAE"], grid_z), os.path.join(OUT, "manifold_vae.png"),
                             nrow=g, value_range=(0, 1), title="VAE decoder on the N(0, I) quantile grid")))

# %% [markdown]
# ## 4. The gradients
#
# ### 4.1 Gradient checks of both losses
# float64, tiny networks, the VAE's noise held fixed; every parameter against central
# finite differences.

# %%
check_rng = np.random.default_rng(SEED)
x_small = mg.tensor((check_rng.random((3, 5)) > 0.5).astype(np.float64))
eps = mg.tensor(check_rng.standard_normal((3, 2)))
mg.manual_seed(SEED)
tiny_ae = Autoencoder.mlp(latent_dim=2, hidden=6, x_dim=5).double()
tiny_vae = VAE.mlp(latent_dim=2, hidden=6, x_dim=5).double()
print(mg.gradcheck(lambda *p: tiny_ae.reconstruction_loss(x_small).mean(), list(tiny_ae.parameters()),
                   name="autoencoder: -log p(x | dec(enc(x)))"))
print(mg.gradcheck(lambda *p: tiny_vae.elbo(x_small, eps=eps).loss, list(tiny_vae.parameters()),
                   name="VAE: reconstruction + KL"))

# %% [markdown]
# ### 4.2 The graph of one step
# The autoencoder's loss is a straight chain encoder → decoder → likelihood; the VAE's
# adds the reparameterisation branch ($\mu$, $\log\sigma^2$, $\varepsilon$) and the KL
# term. The trace lists the VAE's nodes in backward order with the gradient through
# each; Graphviz draws the graph when `dot` is installed.

# %%
with inspection.record():
    loss = tiny_vae.elbo(x_small, eps=eps).loss
graph = inspection.to_dot(loss, os.path.join(OUT, "vae_graph"), names=tiny_vae, verbose=False)
inspection.trace(loss, names=tiny_vae, backward=True, limit=40);

# %%
if graph.png_path:
    display(Image(graph.png_path))
else:
    print(graph.message)

# %% [markdown]
# ### 4.3 Gradient flow of the two models
# Median gradient norm of every Linear layer while the 2-D models of section 2–3 trained.

# %%
display(Image(inspection.compare(flows, os.path.join(OUT, "grad_flow.png"), only="Linear",
                              title="gradient norm per Linear layer")))
for name, flow in flows.items():
    print(name, "-", "; ".join(flow.warnings()) or "no warnings")
