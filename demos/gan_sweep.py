"""How sensitive is a GAN to its hyperparameters?  A sweep on the 25-Gaussian grid.

    python demos/gan_sweep.py                              # WGAN-GP, 2 x 3 x 2 cells (28 min on a loaded 2-core VM)
    python demos/gan_sweep.py --loss nonsaturating --n-critic 1 2
    python demos/gan_sweep.py --lr 1e-4 3e-4 1e-3 --beta1 0 0.5 0.9 --n-critic 1 5 --steps 2000

The lecture's "very sensitive to the choice of hyperparameters" as a picture: every
combination of learning rate x Adam's beta1 x n_critic trains demos/gan_toy.py (numbers
only) and the heat maps show the modes covered and the high-quality fraction (PacGAN
protocol), one panel per n_critic.  Written: sweep.png and results.json.
"""
import itertools
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, HERE)

import gan_toy                                                            # noqa: E402
from minigen import viz                                                   # noqa: E402
from minigen.train import (demo_parser, non_negative_float_arg, positive_float_arg,  # noqa: E402
                           positive_int_arg, write_results)


def build_parser():
    p = demo_parser(__doc__.splitlines()[0], out="out/gan_sweep")
    p.add_argument("--loss", default="wgan-gp",
                   choices=("minimax", "nonsaturating", "wgan-gp"), help="(Adam-trained losses)")
    p.add_argument("--data", default="25gaussians", choices=("8gaussians", "25gaussians"))
    p.add_argument("--lr", type=positive_float_arg, nargs="+", default=[1e-4, 1e-3])
    p.add_argument("--beta1", type=non_negative_float_arg, nargs="+", default=[0.0, 0.5, 0.9])
    p.add_argument("--n-critic", type=positive_int_arg, nargs="+", default=[1, 5])
    p.add_argument("--beta2", type=non_negative_float_arg, default=0.9)
    p.add_argument("--steps", type=positive_int_arg, default=500)
    p.add_argument("--hidden", type=positive_int_arg, default=128)
    p.add_argument("--jobs", type=positive_int_arg, default=1, help="runs in parallel (processes)")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    started = time.time()
    cells = list(itertools.product(args.n_critic, args.lr, args.beta1))
    argvs = [["--loss", args.loss, "--data", args.data, "--lr", str(lr),
              "--betas", str(beta1), str(args.beta2), "--n-critic", str(n_critic),
              "--steps", str(args.steps), "--hidden", str(args.hidden),
              "--seed", str(args.seed), "--device", args.device,
              "--out", os.path.join(args.out, f"lr{lr:g}_b{beta1:g}_nc{n_critic}")]
             for n_critic, lr, beta1 in cells]
    print(f"{len(argvs)} runs of {args.loss} on {args.data}, {args.steps} steps each")
    results = gan_toy.run_many(argvs, jobs=args.jobs)
    runs = [{"lr": lr, "beta1": beta1, "n_critic": n_critic,
             **{k: r[k] for k in ("modes_covered", "num_modes", "high_quality", "reverse_kl",
                                  "train_seconds")}}
            for (n_critic, lr, beta1), r in zip(cells, results)]
    for r in runs:
        print(f"  lr {r['lr']:g}, beta1 {r['beta1']:g}, n_critic {r['n_critic']}: modes "
              f"{r['modes_covered']}/{r['num_modes']}, high quality {100 * r['high_quality']:.1f}%")
    paths = {"sweep": draw(runs, args)}
    write_results(args.out, {"settings": vars(args), "runs": runs}, paths, started=started)
    return runs


def draw(runs, args):
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(2, len(args.n_critic), figsize=(3.6 * len(args.n_critic) + 1, 6.4),
                             squeeze=False)
    k = runs[0]["num_modes"]
    for col, nc in enumerate(args.n_critic):
        for row, (key, scale, label) in enumerate((("modes_covered", 1, f"modes covered (of {k})"),
                                                   ("high_quality", 100, "high quality %"))):
            grid = np.array([[next(r[key] for r in runs if r["lr"] == lr and r["beta1"] == b1
                                   and r["n_critic"] == nc) * scale for b1 in args.beta1]
                             for lr in args.lr])
            ax = axes[row, col]
            im = ax.imshow(grid, cmap="viridis", vmin=0, vmax=k if row == 0 else 100, aspect="auto")
            for i in range(len(args.lr)):
                for j in range(len(args.beta1)):
                    ax.text(j, i, f"{grid[i, j]:.0f}", ha="center", va="center",
                            color="white" if grid[i, j] < 0.6 * (k if row == 0 else 100) else "black")
            ax.set_xticks(range(len(args.beta1)), [f"{b:g}" for b in args.beta1])
            ax.set_yticks(range(len(args.lr)), [f"{lr:g}" for lr in args.lr])
            ax.set_xlabel("Adam beta1")
            ax.set_ylabel("learning rate")
            ax.set_title(f"n_critic {nc}: {label}", fontsize=9)
            fig.colorbar(im, ax=ax, fraction=0.046)
    fig.suptitle(f"{args.loss} on {args.data}, {args.steps} steps, seed {args.seed}", fontsize=10)
    fig.tight_layout()
    return viz.save_figure(fig, os.path.join(args.out, "sweep.png"))


if __name__ == "__main__":
    main()
