"""Mode collapse and its remedies, measured: the non-saturating toy GAN with each
discriminator option (none | disc | stddev | pack2 | pack4) on the 25-Gaussian grid and
the 8-Gaussian ring, over several seeds.

    python demos/gan_modes.py                                # the README table (long)
    python demos/gan_modes.py --seeds 1 --steps 500          # a quick look

For every (data, option, seed) it trains ``minigen.models.gan.minibatch.train_toy`` (the
part-1 toy MLPs and GANTrainer, the discriminator built by ``toy_discriminator(option)``)
and scores 2,500 samples with the PacGAN protocol (``minigen.metrics.mode_stats``: a sample
is high quality within 3 std of its nearest mode, a mode is covered by >= 20 of them,
reverse KL of the high-quality histogram against uniform). Writes results.json (every
run), table.md (means +- std over seeds), samples.png (seed 0 of every cell) and
samples.npy (the last run's samples, (2500, 2) float32).
"""
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from minigen import viz                                                 # noqa: E402
from minigen.data import toy_2d                                         # noqa: E402
from minigen.models.gan.minibatch import MINIBATCH_OPTIONS, train_toy   # noqa: E402
from minigen.train import demo_parser, positive_float_arg, positive_int_arg   # noqa: E402

TINY = bool(os.environ.get("MINIGEN_TINY"))


def build_parser():
    p = demo_parser(__doc__.splitlines()[0], out="out/gan_modes")      # --out, --seed (the first)
    p.add_argument("--data", nargs="+", choices=("25gaussians", "8gaussians"),
                   default=["25gaussians", "8gaussians"])
    p.add_argument("--options", nargs="+", choices=MINIBATCH_OPTIONS, default=list(MINIBATCH_OPTIONS))
    p.add_argument("--seeds", type=positive_int_arg, default=1 if TINY else 5,
                   help="seeds per cell: --seed, --seed + 1, ...")
    p.add_argument("--steps", type=positive_int_arg, default=5 if TINY else 1500)
    p.add_argument("--batch-size", type=positive_int_arg, default=16 if TINY else 64)
    p.add_argument("--hidden", type=positive_int_arg, default=16 if TINY else 64)
    p.add_argument("--lr", type=positive_float_arg, default=1e-3)
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    return p


def summarise(runs):
    """mean and std over seeds of each number, per (data, option)."""
    table = {}
    for r in runs:
        table.setdefault((r["data"], r["option"]), []).append(r)
    out = {}
    for key, rs in table.items():
        out[key] = {k: (float(np.mean([r[k] for r in rs])), float(np.std([r[k] for r in rs])))
                    for k in ("modes_covered", "high_quality", "reverse_kl")}
        out[key]["seeds"] = len(rs)
    return out


def markdown(summary, args):
    lines = [f"non-saturating GAN, {args.steps} steps, batch {args.batch_size}, MLPs 3 x {args.hidden}, "
             f"Adam {args.lr:g} (0.5, 0.9); mean +- std over seeds",
             "", "| data | D option | modes covered | high quality (%) | reverse KL |",
             "|---|---|---|---|---|"]
    for (data, option), s in summary.items():
        m, hq, kl = s["modes_covered"], s["high_quality"], s["reverse_kl"]
        k = 25 if data == "25gaussians" else 8
        lines.append(f"| {data} | {option} | {m[0]:.1f} +- {m[1]:.1f} / {k} | "
                     f"{100 * hq[0]:.1f} +- {100 * hq[1]:.1f} | {kl[0]:.3f} +- {kl[1]:.3f} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    args = build_parser().parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    started = time.time()
    runs, pictures = [], {}
    for data in args.data:
        for option in args.options:
            for seed in range(args.seed, args.seed + args.seeds):
                t = time.time()
                stats, samples = train_toy(option, data, steps=args.steps,
                                           batch_size=args.batch_size, hidden=args.hidden,
                                           lr=args.lr, seed=seed, device=args.device)
                run = {"data": data, "option": option, "seed": seed,
                       "seconds": round(time.time() - t, 1), **stats}
                runs.append(run)
                print(f"{data:12s} {option:7s} seed {seed}: {stats['modes_covered']:2d}/"
                      f"{stats['num_modes']} modes, {100 * stats['high_quality']:5.1f} % high quality, "
                      f"reverse KL {stats['reverse_kl']:.3f}  ({run['seconds']:.0f} s)", flush=True)
                if seed == args.seed:
                    pictures[(data, option)] = samples
    summary = summarise(runs)
    text = markdown(summary, args)
    print("\n" + text)
    with open(os.path.join(args.out, "table.md"), "w") as f:
        f.write(text)
    np.save(os.path.join(args.out, "samples.npy"), samples.astype(np.float32))
    paths = {"samples": samples_figure(pictures, args, os.path.join(args.out, "samples.png"))}
    results = {"settings": vars(args), "runs": runs,
               "summary": {f"{d} {o}": s for (d, o), s in summary.items()},
               "seconds": round(time.time() - started, 1)}
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(results, f, indent=1, default=str)
    print("pictures:")
    for name, path in paths.items():
        print(f"  {name:16s} {path}")
    print(f"  {'table':16s} {os.path.join(args.out, 'table.md')}")
    print(f"  {'numbers':16s} {os.path.join(args.out, 'results.json')}")
    print(f"done in {results['seconds']:.0f} s")
    return results


def samples_figure(pictures, args, path):
    """One scatter per (data, option) of the first seed, the modes marked."""
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(len(args.data), len(args.options),
                             figsize=(2.6 * len(args.options), 2.6 * len(args.data)), squeeze=False)
    for i, data in enumerate(args.data):
        modes = toy_2d(data).modes
        lim = 5.0 if data == "25gaussians" else 3.0
        for j, option in enumerate(args.options):
            ax = axes[i, j]
            x = pictures[(data, option)]
            ax.scatter(x[:, 0], x[:, 1], s=1, alpha=0.4)
            ax.scatter(modes[:, 0], modes[:, 1], s=12, c="red", marker="x")
            ax.set_xlim(-lim, lim), ax.set_ylim(-lim, lim)
            ax.set_xticks([]), ax.set_yticks([])
            ax.set_title(f"{data}, {option}", fontsize=8)
    fig.suptitle(f"G's samples after {args.steps} steps (seed {args.seed})")
    return viz.save_figure(fig, path)


if __name__ == "__main__":
    main()
