"""Generative classifiers on Fashion-MNIST, and why they cope with missing pixels (L6.1).

    python demos/classic_classifiers.py [--out out/classic/classifiers] [--seed 0]

Fits Bernoulli and Gaussian Naive Bayes, Gaussian discriminant analysis with a shared
covariance (LDA) and with one per class (QDA), and -- the discriminative rival -- a
logistic regression trained with the minigen engine. Prints their test accuracies.

Then hides a growing random fraction of the pixels of the test images. A generative
classifier computes p(y | observed pixels) exactly by marginalising the hidden ones
(Naive Bayes drops their factors, a Gaussian keeps the observed block of its covariance);
logistic regression has no model of the pixels and must impute them (here with the
training mean of each pixel). "LDA, imputed" feeds LDA the same imputed images, to show
that the gain comes from marginalising, not from the model. Writes:

  samples.png          class-conditional samples x ~ p(x | y) of each generative model
  missing_pixels.png   accuracy against the fraction of missing pixels
  masked_examples.png  what the classifiers see at each missing fraction
"""
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from classic_common import (FASHION_MNIST_CLASSES, load_fashion, parser, plt,  # noqa: E402
                            positive_int_arg, report, save_figure, show_grid, with_hidden)

from minigen.models.classic import (BernoulliNB, GaussianDiscriminantAnalysis,  # noqa: E402
                                    GaussianNB, LogisticRegression)

FRACTIONS = (0.0, 0.25, 0.5, 0.75, 0.9, 0.95)


def fit_models(X, y, seed, epochs):
    models = {
        "Bernoulli NB": BernoulliNB(alpha=1.0, binarize=0.5),
        "Gaussian NB": GaussianNB(var_smoothing=0.01),
        "LDA (shared cov.)": GaussianDiscriminantAnalysis("shared", shrinkage=0.1),
        "QDA (per-class cov.)": GaussianDiscriminantAnalysis("per_class", shrinkage=0.05),
        "logistic regression": LogisticRegression(lr=0.01, n_epochs=epochs, batch_size=128,
                                                  weight_decay=1e-4, random_state=seed),
    }
    for name, model in models.items():
        t0 = time.time()
        model.fit(X, y)
        print(f"  fitted {name:<22} in {time.time() - t0:5.1f}s")
    return models


def sample_figure(models, seed, out):
    gen = [(n, m) for n, m in models.items() if n != "logistic regression"]
    fig, axes = plt.subplots(1, len(gen), figsize=(2.4 * len(gen), 5.0))
    for ax, (name, model) in zip(axes, gen):
        rows = []
        for c in range(10):                               # 4 samples of every class, one class per row
            S, _ = model.sample(4, y=c, random_state=seed + c)
            rows.append(S)
        imgs = np.clip(np.concatenate(rows), 0, 1).reshape(-1, 28, 28)
        show_grid(ax, imgs, nrow=4, title=name)
    fig.suptitle("class-conditional samples x ~ p(x | y), one class per row (" +
                 ", ".join(FASHION_MNIST_CLASSES[:5]) + ", ...)", fontsize=9)
    return save_figure(fig, os.path.join(out, "samples.png"))


def missing_pixel_curves(models, X_test, y_test, seed, out):
    rng = np.random.default_rng(seed)
    u = rng.random(X_test.shape)                          # one uniform per pixel: nested masks
    lda = models["LDA (shared cov.)"]
    logreg = models["logistic regression"]
    curves = {"Bernoulli NB": [], "Gaussian NB": [], "LDA (shared cov.)": [],
              "LDA, imputed": [], "logistic regression": []}
    print(f"\naccuracy with a fraction of the pixels missing ({len(X_test)} test images):")
    print(f"{'missing':>8} " + " ".join(f"{k:>20}" for k in curves))
    for frac in FRACTIONS:
        observed = u >= frac
        t0 = time.time()
        for name in ("Bernoulli NB", "Gaussian NB", "LDA (shared cov.)"):
            curves[name].append(models[name].accuracy(X_test, y_test, mask=observed))
        imputed = logreg.impute_missing(X_test, observed)   # the training mean in every hole
        curves["LDA, imputed"].append(lda.accuracy(imputed, y_test))
        curves["logistic regression"].append(logreg.accuracy(X_test, y_test, mask=observed))
        print(f"{frac:8.2f} " + " ".join(f"{v[-1]:20.3f}" for v in curves.values())
              + f"   ({time.time() - t0:.1f}s)")

    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    styles = {"LDA, imputed": "--", "logistic regression": "-"}
    for name, acc in curves.items():
        marker = "s" if name == "logistic regression" else "o"
        ax.plot(FRACTIONS, acc, styles.get(name, "-"), marker=marker, label=name)
    ax.axhline(0.1, c="gray", ls=":", lw=1)
    ax.text(0.0, 0.12, "chance", color="gray")
    ax.set(xlabel="fraction of pixels missing", ylabel="test accuracy", ylim=(0, 1),
           title="generative (marginalise) vs discriminative (impute)")
    ax.legend(fontsize=8)
    path = save_figure(fig, os.path.join(out, "missing_pixels.png"))

    fig, axes = plt.subplots(len(FRACTIONS), 1, figsize=(7, 1.05 * len(FRACTIONS) + 0.5))
    for ax, frac in zip(axes, FRACTIONS):
        show_grid(ax, with_hidden(X_test[:10].reshape(-1, 28, 28), (u[:10] >= frac).reshape(-1, 28, 28)),
                  nrow=10, title=f"{int(100 * frac)}% missing (red)")
    fig.tight_layout()
    return [path, save_figure(fig, os.path.join(out, "masked_examples.png"))], curves


def build_parser():
    p = parser(__doc__.splitlines()[0], out="out/classic/classifiers")
    p.add_argument("--n-train", type=positive_int_arg, default=10000)
    p.add_argument("--n-test", type=positive_int_arg, default=2000, help="test images for the accuracies")
    p.add_argument("--n-masked", type=positive_int_arg, default=500,
                   help="test images for the missing-pixel curves (the Gaussian marginal needs one "
                        "Cholesky factor per image and missing pattern)")
    p.add_argument("--epochs", type=positive_int_arg, default=10, help="logistic regression epochs")
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    t0 = time.time()
    X, y, X_test, y_test = load_fashion(args.n_train, args.n_test, seed=args.seed)
    models = fit_models(X, y, args.seed, args.epochs)
    print("\ntest accuracy, complete images:")
    accuracies = {}
    for name, model in models.items():
        accuracies[name] = model.accuracy(X_test, y_test)
        print(f"  {name:<22} {accuracies[name]:.3f}")
    paths = [sample_figure(models, args.seed, args.out)]
    more, curves = missing_pixel_curves(models, X_test[:args.n_masked], y_test[:args.n_masked],
                                        args.seed, args.out)
    paths += more
    print(f"done in {time.time() - t0:.1f}s")
    results = {"accuracy": accuracies, "missing": curves, "settings": vars(args)}
    report(args.out, results, paths)
    return {**results, "paths": paths}


if __name__ == "__main__":
    main()
