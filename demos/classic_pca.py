"""PCA and probabilistic PCA on Fashion-MNIST: eigen-images, reconstructions, likelihood (L6.2).

    python demos/classic_pca.py [--out out/classic/pca] [--seed 0] [--n-train 10000]

Prints the explained variance, the test reconstruction error for growing k, and the
PPCA log-likelihood per image on training and held-out images for growing k: each added
component explains more, the noise variance sigma^2 shrinks, and the train/held-out gap
widens (with 10,000 training images the held-out value still rises up to k = 700; with
a few hundred images it peaks and falls -- try --n-train 500). Writes:

  eigen_images.png     the mean image and the top principal axes ("eigen-clothes")
  variance.png         explained variance ratio and its cumulative sum
  reconstructions.png  test images rebuilt from k = 1 ... 784 components
  ppca_score.png       held-out log-likelihood per image against k
  ppca_samples.png     new images drawn from PPCA, x = mean + W z + noise
  latent_2d.png        the test set in the plane of the first two components
"""
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from classic_common import (FASHION_MNIST_CLASSES, load_fashion, parser, plt,  # noqa: E402
                            positive_int_arg, report, save_figure, show_grid)

from minigen import viz  # noqa: E402
from minigen.models.classic import PCA  # noqa: E402

KS = (1, 2, 5, 10, 20, 50, 100, 200, 784)


def eigen_images(pca, out):
    fig, axes = plt.subplots(2, 8, figsize=(12, 3.4))
    axes = axes.ravel()
    axes[0].imshow(pca.mean_.reshape(28, 28), cmap="gray")
    axes[0].set_title("mean", fontsize=9)
    for i, ax in enumerate(axes[1:]):
        v = pca.components_[i].reshape(28, 28)
        lim = np.abs(v).max()
        ax.imshow(v, cmap="RdBu_r", vmin=-lim, vmax=lim)     # red +, blue -, white 0
        ax.set_title(f"PC {i + 1}: {100 * pca.explained_variance_ratio_[i]:.1f}%", fontsize=8)
    for ax in axes:
        ax.axis("off")
    fig.suptitle("eigen-images: the mean and the principal axes (share of the variance)")
    return save_figure(fig, os.path.join(out, "eigen_images.png"))


def variance_plot(pca, out):
    ratio = pca.explained_variance_ratio_
    cum = np.cumsum(ratio)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    axes[0].semilogy(np.arange(1, len(ratio) + 1), ratio)
    axes[0].set(xlabel="component", ylabel="explained variance ratio", title="eigenvalue spectrum")
    axes[1].plot(np.arange(1, len(cum) + 1), cum)
    for level in (0.8, 0.9, 0.95):
        k = int(np.searchsorted(cum, level) + 1)
        axes[1].axhline(level, ls=":", c="gray")
        axes[1].annotate(f"k = {k}", (k, level), textcoords="offset points", xytext=(5, -12))
    axes[1].set(xscale="log", xlabel="k", ylabel="cumulative ratio", title="variance kept by k components")
    fig.tight_layout()
    return save_figure(fig, os.path.join(out, "variance.png"))


def reconstructions(pca, X_test, out):
    shown = X_test[:10]
    print("\ntest reconstruction error (mean squared error per pixel):")
    rows = []
    ks = [k for k in KS if k <= pca.n_components_]
    for k in ks:
        rec = pca.reconstruct(X_test, k=k)
        print(f"  k = {k:3d}: {np.mean((rec - X_test) ** 2):.5f}")
        rows.append(np.clip(rec[:10], 0, 1))
    fig, axes = plt.subplots(len(ks) + 1, 1, figsize=(7, 1.0 * (len(ks) + 1) + 0.6))
    show_grid(axes[0], shown.reshape(-1, 28, 28), nrow=10, title="test images")
    for ax, k, rec in zip(axes[1:], ks, rows):
        show_grid(ax, rec.reshape(-1, 28, 28), nrow=10, title=f"k = {k}")
    fig.tight_layout()
    return save_figure(fig, os.path.join(out, "reconstructions.png"))


def ppca_scores(pca, X, X_test, out):
    ks = [k for k in (1, 2, 5, 10, 20, 50, 100, 200, 300, 400, 500, 600, 700) if k < pca.n_components_]
    train, test = [], []
    print("\nprobabilistic PCA, average log-likelihood per image (nats):")
    for k in ks:
        model = pca.truncate(k)                               # PPCA with k components, same SVD
        train.append(model.score(X))
        test.append(model.score(X_test))
        print(f"  k = {k:3d}: train {train[-1]:9.1f}   test {test[-1]:9.1f}   sigma^2 = {model.noise_variance_:.2e}")
    best = ks[int(np.argmax(test))]
    print(f"best held-out k: {best}; train - held-out gap grows from {train[0] - test[0]:.1f} "
          f"(k = {ks[0]}) to {train[-1] - test[-1]:.1f} nats (k = {ks[-1]})")
    fig, ax = plt.subplots(figsize=(6, 3.8))
    ax.plot(ks, train, "o-", label="train")
    ax.plot(ks, test, "o-", label="held-out")
    ax.axvline(best, ls=":", c="gray")
    ax.set(xscale="log", xlabel="k", ylabel="log-likelihood per image (nats)",
           title="PPCA: choosing k by held-out likelihood")
    ax.legend()
    return save_figure(fig, os.path.join(out, "ppca_score.png")), best


def build_parser():
    p = parser(__doc__.splitlines()[0], out="out/classic/pca")
    p.add_argument("--n-train", type=positive_int_arg, default=10000)
    p.add_argument("--n-test", type=positive_int_arg, default=2000)
    p.add_argument("--k-samples", type=positive_int_arg, default=50, help="components of the PPCA model sampled from")
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    t0 = time.time()
    X, y, X_test, y_test = load_fashion(args.n_train, args.n_test, seed=args.seed)

    pca = PCA().fit(X)                                        # all components at once
    cum = np.cumsum(pca.explained_variance_ratio_)
    print("components needed to keep a share of the pixel variance:")
    for level in (0.5, 0.8, 0.9, 0.95, 0.99):
        print(f"  {int(100 * level)}%: k = {int(np.searchsorted(cum, level) + 1)}")

    paths = [eigen_images(pca, args.out), variance_plot(pca, args.out),
             reconstructions(pca, X_test, args.out)]
    path, best = ppca_scores(pca, X, X_test, args.out)
    paths.append(path)

    k = min(args.k_samples, pca.n_components_)
    ppca = pca.truncate(k)
    samples = np.clip(ppca.sample(20, random_state=args.seed), 0, 1)
    # fresh latent draws without the isotropic pixel noise: mean + W z (W = V diag(lambda - s2)^1/2)
    z = np.random.default_rng(args.seed).standard_normal((20, k))
    scale = np.sqrt(ppca.explained_variance_ - ppca.noise_variance_)
    means_only = np.clip(ppca.mean_ + (z * scale) @ ppca.components_, 0, 1)
    fig, axes = plt.subplots(2, 1, figsize=(7, 3.8))
    show_grid(axes[0], samples.reshape(-1, 28, 28), nrow=10,
              title=f"PPCA samples, k = {k}: mean + W z + noise")
    show_grid(axes[1], means_only.reshape(-1, 28, 28), nrow=10,
              title="the same model without the pixel noise: mean + W z (other draws of z)")
    paths.append(save_figure(fig, os.path.join(args.out, "ppca_samples.png")))

    Z = pca.truncate(2).transform(X_test)
    paths.append(viz.latent_scatter(Z, y_test, os.path.join(args.out, "latent_2d.png"),
                                    class_names=FASHION_MNIST_CLASSES,
                                    title="test images in the plane of PC 1 and PC 2"))
    print(f"done in {time.time() - t0:.1f}s")
    results = {"best_k": best, "settings": vars(args)}
    report(args.out, results, paths)
    return {**results, "paths": paths}


if __name__ == "__main__":
    main()
