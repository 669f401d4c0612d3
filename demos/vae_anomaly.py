"""Anomaly detection with a VAE's likelihood (lecture L6.1): leave one class out.

    python demos/vae_anomaly.py                      # all ten classes, embedded subset
    python demos/vae_anomaly.py --classes 1 5 8      # only these held-out classes

For each held-out class c: train a VAE on the nine other classes, score every test image
by how unlikely the model finds it, and ask how well the score separates class c (the
anomalies) from the nine known classes:

    score 1:  -ELBO(x)                              (one sample, analytic KL)
    score 2:  -log p(x) ~ -(logsumexp_k log w_k - log k)   (importance sampling)
    AUROC  =  P(score(anomaly) > score(normal)):  1 perfect, 0.5 chance, < 0.5 backwards.

A likelihood measures how *easy* an image is to describe, not how *familiar* it is: a
simple held-out class (few bright pixels) can get higher likelihood than the training
classes and an AUROC below 0.5 -- the well-known failure of likelihood-based novelty
detection (Nalisnick et al. 2019), visible here on Fashion-MNIST.
"""
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import minigen as mg                                                    # noqa: E402
from minigen import viz                                                 # noqa: E402
from minigen.metrics import auroc                                       # noqa: E402
from minigen.models.vae import VAE, fit, load_fashion_mnist, prepare_test  # noqa: E402
from minigen.train import arg_parser, positive_int_arg  # noqa: E402


def build_parser():
    p = arg_parser(__doc__.splitlines()[0], epochs=15, batch_size=128, lr=1e-3,
                   out="out/vae_anomaly")
    p.add_argument("--full", action="store_true", help="full Fashion-MNIST files")
    p.add_argument("--classes", type=int, choices=range(10), nargs="+", metavar="CLASS",
                   default=list(range(10)), may_change_on_resume=True,
                   help="held-out classes to run (each trains its own model)")
    p.add_argument("--latent-dim", type=positive_int_arg, default=20)
    p.add_argument("--eval-k", type=positive_int_arg, default=100,
                   help="importance samples of -log p(x)", may_change_on_resume=True)
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    started = time.time()
    data = load_fashion_mnist(full=args.full)
    x_test = prepare_test(data.x_test, "bernoulli")
    table = {}
    for c in args.classes:
        name = data.classes[c]
        mg.manual_seed(args.seed)
        model = VAE.mlp(latent_dim=args.latent_dim)
        fit(model, data.x_train[data.y_train != c], args,
            out=os.path.join(args.out, f"heldout_{c}"), desc=f"without {name}")
        neg_elbo = -model.evaluate_elbo(x_test)["elbo"]
        nll = -model.log_likelihood(x_test, k=args.eval_k)
        anomalous = data.y_test == c
        table[c] = {"class": name,
                    "auroc_neg_elbo": auroc(neg_elbo[~anomalous], neg_elbo[anomalous]),
                    "auroc_is_nll": auroc(nll[~anomalous], nll[anomalous]),
                    "nll_normal": float(nll[~anomalous].mean()),
                    "nll_anomalous": float(nll[anomalous].mean())}
        if c == args.classes[0]:
            hist_path = histogram(nll, anomalous, name, args.out)
        print(f"  held out {name:12s}: AUROC -ELBO {table[c]['auroc_neg_elbo']:.3f}, "
              f"IS-NLL {table[c]['auroc_is_nll']:.3f}")

    print(f"\nAUROC of the held-out class against the nine training classes "
          f"({len(x_test)} test images; IS with k={args.eval_k}):")
    print(f"  {'held-out class':14s} {'-ELBO':>7s} {'IS-NLL':>7s}   {'mean NLL normal':>15s} {'anomalous':>9s}")
    for c, r in table.items():
        print(f"  {r['class']:14s} {r['auroc_neg_elbo']:7.3f} {r['auroc_is_nll']:7.3f}   "
              f"{r['nll_normal']:15.1f} {r['nll_anomalous']:9.1f}")
    means = {k: float(np.mean([r[k] for r in table.values()])) for k in ("auroc_neg_elbo", "auroc_is_nll")}
    print(f"  {'mean':14s} {means['auroc_neg_elbo']:7.3f} {means['auroc_is_nll']:7.3f}")
    bar_path = bars(table, args.out)
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump({"auroc": {str(c): r for c, r in table.items()}, "mean": means,
                   "settings": vars(args)}, f, indent=1, default=str)
    print(f"\npictures:\n  auroc          {bar_path}\n  histogram      {hist_path}")
    print(f"done in {time.time() - started:.0f} s")
    return table


def histogram(nll, anomalous, name, out):
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 3.5))
    bins = np.linspace(np.percentile(nll, 0.5), np.percentile(nll, 99.5), 60)
    ax.hist(nll[~anomalous], bins=bins, alpha=0.6, density=True, label="nine training classes")
    ax.hist(nll[anomalous], bins=bins, alpha=0.6, density=True, label=f"held out: {name}")
    ax.set_xlabel("-log p(x)  [nats]")
    ax.legend()
    ax.set_title("anomaly scores on the test set")
    return viz.save_figure(fig, os.path.join(out, "scores_histogram.png"))


def bars(table, out):
    import matplotlib.pyplot as plt
    names = [r["class"] for r in table.values()]
    fig, ax = plt.subplots(figsize=(max(4, 0.8 * len(names) + 1), 3.5))
    pos = np.arange(len(names))
    ax.bar(pos - 0.2, [r["auroc_neg_elbo"] for r in table.values()], 0.4, label="-ELBO")
    ax.bar(pos + 0.2, [r["auroc_is_nll"] for r in table.values()], 0.4, label="IS-NLL")
    ax.axhline(0.5, color="gray", lw=1, ls="--")
    ax.set_xticks(pos, names, rotation=45, ha="right")
    ax.set_ylim(0, 1)
    ax.set_ylabel("AUROC")
    ax.legend()
    ax.set_title("held-out class vs the rest")
    return viz.save_figure(fig, os.path.join(out, "auroc.png"))


if __name__ == "__main__":
    main()
