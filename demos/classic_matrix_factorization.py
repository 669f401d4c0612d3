"""Matrix factorisation of a ratings matrix with missing entries (L6.2).

    python demos/classic_matrix_factorization.py [--out out/classic/matrix_factorization] [--seed 0]

A synthetic 300 users x 200 items matrix of rank 5 plus Gaussian noise (std 0.5, the best
RMSE any predictor can reach on new entries); 30% of the entries are known, a fifth of
those held out. Compared on the held-out entries:

  baselines           the global mean, the item means
  SVD, mean-imputed   fill the holes with item means, keep the rank-k truncated SVD
  SVD, iterated       refill the holes with the reconstruction and repeat ("hard impute")
  latent factors      mu + b_i + c_j + u_i . v_j fitted to the observed entries only by the
                      minigen engine (loss.backward(), Adam or plain SGD, L2 penalty)

Prints the RMSEs, writes:

  rmse_curves.png   held-out RMSE per epoch (Adam, SGD) against the baselines and the noise level
  rank.png          held-out RMSE against the rank k
  matrices.png      a corner of the true matrix, what was observed, and the completions
"""
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from classic_common import (non_negative_float_arg, parser, plt, positive_int_arg,  # noqa: E402
                            positive_int_list_arg, report, save_figure)

from minigen.models.classic import LatentFactorModel, SVDImputer, make_low_rank_ratings  # noqa: E402


def rmse(pred, R):
    """RMSE of a full predicted matrix on the observed (non-NaN) entries of R."""
    seen = ~np.isnan(R)
    return float(np.sqrt(np.mean((pred[seen] - R[seen]) ** 2)))


def build_parser():
    p = parser(__doc__.splitlines()[0], out="out/classic/matrix_factorization")
    p.add_argument("--rank", type=positive_int_arg, default=5,
                   help="rank of the synthetic matrix (and of the models)")
    p.add_argument("--noise", type=non_negative_float_arg, default=0.5,
                   help="noise std of the ratings")
    p.add_argument("--epochs", type=positive_int_arg, default=20,
                   help="epochs of the latent-factor models")
    p.add_argument("--ranks", type=positive_int_list_arg, default="1,2,3,5,8,12,20",
                   help="model ranks compared in rank.png (comma-separated)")
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    t0 = time.time()
    R_train, R_test, clean = make_low_rank_ratings(300, 200, rank=args.rank, noise=args.noise,
                                                   density=0.3, random_state=args.seed)
    n_train, n_test = int((~np.isnan(R_train)).sum()), int((~np.isnan(R_test)).sum())
    known = 100 * (n_train + n_test) / clean.size
    print(f"{clean.shape[0]}x{clean.shape[1]} ratings, rank {args.rank}, noise std {args.noise}: "
          f"{n_train} training and {n_test} held-out entries ({known:.0f}% known)")

    mean = np.nanmean(R_train)
    rated = ~np.isnan(R_train)
    item_sums = np.where(rated, R_train, 0.0).sum(0)
    item_means = np.where(rated.any(0), item_sums / np.maximum(rated.sum(0), 1), mean)
    results = {
        "global mean": rmse(np.full(clean.shape, mean), R_test),
        "item means": rmse(np.tile(item_means, (clean.shape[0], 1)), R_test),
    }
    svd1 = SVDImputer(args.rank).fit(R_train)
    svd30 = SVDImputer(args.rank, n_iter=30).fit(R_train)
    results["SVD, mean-imputed"] = svd1.rmse(R_test)
    results["SVD, iterated x30"] = svd30.rmse(R_test)

    adam = LatentFactorModel(args.rank, reg=0.01, optimizer="adam", lr=0.01, n_epochs=args.epochs,
                             batch_size=256, random_state=args.seed).fit(R_train, R_val=R_test)
    sgd = LatentFactorModel(args.rank, reg=0.01, optimizer="sgd", lr=3.0, n_epochs=args.epochs,
                            batch_size=256, random_state=args.seed).fit(R_train, R_val=R_test)
    results["latent factors, Adam"] = adam.rmse(R_test)
    results["latent factors, SGD"] = sgd.rmse(R_test)
    results["noise level (best possible)"] = args.noise
    results["true matrix (noise-free)"] = rmse(clean, R_test)
    print("\nheld-out RMSE:")
    for name, value in results.items():
        print(f"  {name:<30} {value:.4f}   ({value / args.noise:.2f} x noise)")

    paths = []
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for model, name in ((adam, "latent factors, Adam"), (sgd, "latent factors, SGD")):
        epochs = [h["epoch"] for h in model.history_]
        ax.plot(epochs, [h["val_rmse"] for h in model.history_], "o-", ms=3, label=f"{name} (held-out)")
        ax.plot(epochs, [h["train_rmse"] for h in model.history_], ":", label=f"{name} (train)")
    for name, style in (("item means", "--"), ("SVD, mean-imputed", "-."), ("SVD, iterated x30", "--")):
        ax.axhline(results[name], ls=style, lw=1, c="gray")
        ax.text(args.epochs, results[name], name, fontsize=7, ha="right", va="bottom", color="gray")
    ax.axhline(args.noise, c="k", lw=1)
    ax.text(args.epochs, args.noise, "noise level", fontsize=7, ha="right", va="top")
    ax.set(xlabel="epoch", ylabel="RMSE", title="latent-factor model trained with the engine",
           ylim=(0.3, max(1.2, results["item means"] + 0.05)))
    ax.legend(fontsize=7)
    paths.append(save_figure(fig, os.path.join(args.out, "rmse_curves.png")))

    ranks = args.ranks
    by_rank = {"SVD, mean-imputed": [], "SVD, iterated x30": [], "latent factors, Adam": []}
    print("\nheld-out RMSE against the rank k of the model:")
    for k in ranks:
        by_rank["SVD, mean-imputed"].append(SVDImputer(k).fit(R_train).rmse(R_test))
        by_rank["SVD, iterated x30"].append(SVDImputer(k, n_iter=30).fit(R_train).rmse(R_test))
        by_rank["latent factors, Adam"].append(
            LatentFactorModel(k, reg=0.01, lr=0.01, n_epochs=min(args.epochs, 15), random_state=args.seed)
            .fit(R_train).rmse(R_test))
        print(f"  k = {k:2d}: " + ", ".join(f"{n} {v[-1]:.3f}" for n, v in by_rank.items()))
    fig, ax = plt.subplots(figsize=(6, 3.8))
    for name, values in by_rank.items():
        ax.plot(ranks, values, "o-", label=name)
    ax.axhline(args.noise, c="k", lw=1, label="noise level")
    ax.axvline(args.rank, c="gray", ls=":", label="true rank")
    ax.set(xlabel="rank k", ylabel="held-out RMSE", title="choosing the rank")
    ax.legend(fontsize=8)
    paths.append(save_figure(fig, os.path.join(args.out, "rank.png")))

    corner = (slice(0, 40), slice(0, 40))
    panels = [("true (noise-free)", clean), ("observed for training", R_train),
              ("SVD, mean-imputed", svd1.complete()), ("latent factors, Adam", adam.complete())]
    lo, hi = np.percentile(clean, [1, 99])
    fig, axes = plt.subplots(1, 4, figsize=(13, 3.6))
    fig.suptitle("the first 40 users x 40 items (grey = not observed)", fontsize=10)
    cmap = plt.get_cmap("viridis").with_extremes(bad="lightgray")   # NaN = not observed
    for ax, (title, M) in zip(axes, panels):
        im = ax.imshow(M[corner], cmap=cmap, vmin=lo, vmax=hi, interpolation="nearest")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("item")
    axes[0].set_ylabel("user")
    fig.colorbar(im, ax=axes, shrink=0.8)
    paths.append(save_figure(fig, os.path.join(args.out, "matrices.png")))
    print(f"done in {time.time() - t0:.1f}s")
    results = {"rmse": results, "settings": vars(args)}
    report(args.out, results, paths)
    return {**results, "paths": paths}


if __name__ == "__main__":
    main()
