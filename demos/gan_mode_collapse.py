"""Mode collapse, measured: losses x discriminator options x toys over seeds, one table.

    python demos/gan_mode_collapse.py                    # 4 losses x 2 toys x 5 seeds (issue 12)
    python demos/gan_mode_collapse.py --losses nonsaturating \\
        --minibatch none disc stddev pack2 pack4         # the remedies of part 2 (issue 13)
    python demos/gan_mode_collapse.py --seeds 2 --steps 500 --jobs 2

Each cell trains demos/gan_toy.py (numbers only, its per-loss defaults, the D option of
``--minibatch``; ``--extra`` passes more of its flags) and reads its results.json:
modes covered, high-quality fraction and reverse KL with the PacGAN protocol (2,500
samples; high quality within 3 std of the nearest mode; a mode is covered by >= 20
high-quality samples).  Written: table.md (mean +- std over seeds, and how many seeds
covered every mode), samples.png (the first seed of every cell) and results.json with
every run.
"""
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, HERE)

import gan_toy                                                            # noqa: E402
from minigen import viz                                                   # noqa: E402
from minigen.data import toy_2d                                           # noqa: E402
from minigen.models.gan import LOSSES                                     # noqa: E402
from minigen.models.gan.minibatch import MINIBATCH_OPTIONS                # noqa: E402
from minigen.train import demo_parser, positive_int_arg, write_results    # noqa: E402

TOYS = ("8gaussians", "25gaussians")


def build_parser():
    p = demo_parser(__doc__.splitlines()[0], out="out/gan_mode_collapse")   # --seed: the first seed
    p.add_argument("--seeds", type=positive_int_arg, default=5)
    p.add_argument("--steps", type=positive_int_arg, default=2000, help="generator updates per run")
    p.add_argument("--losses", nargs="+", choices=LOSSES, default=list(LOSSES))
    p.add_argument("--minibatch", nargs="+", choices=MINIBATCH_OPTIONS, default=["none"],
                   help="discriminator options (gan_toy.py --minibatch)")
    p.add_argument("--data", nargs="+", choices=TOYS, default=list(TOYS))
    p.add_argument("--jobs", type=positive_int_arg, default=1, help="runs in parallel (processes)")
    p.add_argument("--extra", default="", help="more gan_toy.py flags, e.g. '--hidden 64'")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--table-from", metavar="RESULTS_JSON",
                   help="only rebuild table.md from the runs of an earlier results.json")
    return p


def run_dir(out, data, loss, option, seed):
    return os.path.join(out, f"{data}_{loss}_{option}_seed{seed}")


def kl_text(kl):
    """mean +- std of the finite reverse KLs; runs without any high-quality sample (KL = inf)
    are counted apart."""
    finite = kl[np.isfinite(kl)]
    text = f"{finite.mean():.3f} ± {finite.std():.3f}" if len(finite) else "–"
    if len(finite) < len(kl):
        text += f" ({len(kl) - len(finite)} × inf)"
    return text


def cells_of(runs):
    """The (data, loss, option) cells of the runs, in the order they first appear."""
    return list(dict.fromkeys((r["data"], r["loss"], r.get("option", "none")) for r in runs))


def make_table(runs):
    """(summary dicts, markdown table) of the runs, one row per (toy, loss, D option)."""
    lines = ["| toy | loss | D option | modes covered | high quality | reverse KL | seeds with all modes |",
             "|---|---|---|---|---|---|---|"]
    summary = []
    for data, loss, option in cells_of(runs):
        cell = [r for r in runs if (r["data"], r["loss"], r.get("option", "none")) == (data, loss, option)]
        m = np.array([r["modes_covered"] for r in cell], float)
        hq = np.array([r["high_quality"] for r in cell]) * 100
        kl = np.array([r["reverse_kl"] for r in cell])
        k = cell[0]["num_modes"]
        full = int((m == k).sum())
        finite = kl[np.isfinite(kl)]
        summary.append({"data": data, "loss": loss, "option": option, "modes_mean": m.mean(),
                        "modes_std": m.std(), "modes_best": m.max(), "hq_mean": hq.mean(),
                        "hq_std": hq.std(), "kl_mean_finite": finite.mean() if len(finite) else None,
                        "kl_runs_infinite": int((~np.isfinite(kl)).sum()),
                        "seeds_all_modes": full, "seeds": len(cell)})
        lines.append(f"| {data} | {loss} | {option} | {m.mean():.1f} ± {m.std():.1f} / {k} | "
                     f"{hq.mean():.1f} ± {hq.std():.1f} % | {kl_text(kl)} | {full}/{len(cell)} |")
    return summary, "\n".join(lines)


def samples_figure(runs, out, path):
    """One scatter per cell of its first seed's samples, the modes marked."""
    import matplotlib.pyplot as plt
    cells = cells_of(runs)
    toys = list(dict.fromkeys(c[0] for c in cells))
    columns = list(dict.fromkeys(c[1:] for c in cells))
    fig, axes = plt.subplots(len(toys), len(columns), figsize=(2.6 * len(columns), 2.6 * len(toys)),
                             squeeze=False)
    for i, data in enumerate(toys):
        modes, lim = toy_2d(data).modes, 5.0 if data == "25gaussians" else 3.0
        for j, (loss, option) in enumerate(columns):
            ax = axes[i, j]
            first = min((r for r in runs if (r["data"], r["loss"], r.get("option", "none"))
                         == (data, loss, option)), key=lambda r: r["seed"], default=None)
            if first is not None:
                x = np.load(os.path.join(run_dir(out, data, loss, option, first["seed"]), "samples.npy"))
                ax.scatter(x[:2500, 0], x[:2500, 1], s=1, alpha=0.4)
                ax.set_title(f"{loss}, {option}: {first['modes_covered']}/{first['num_modes']}", fontsize=8)
            ax.scatter(modes[:, 0], modes[:, 1], s=12, c="red", marker="x")
            ax.set_xlim(-lim, lim), ax.set_ylim(-lim, lim)
            ax.set_xticks([]), ax.set_yticks([])
    fig.suptitle("G's samples (first seed of each cell), modes as red crosses", fontsize=10)
    return viz.save_figure(fig, path)


def main(argv=None):
    args = build_parser().parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    started = time.time()
    if args.table_from:
        runs = json.load(open(args.table_from))["runs"]
        _, table = make_table(runs)
        print(table)
        with open(os.path.join(args.out, "table.md"), "w") as f:
            f.write(table + "\n")
        return table
    cells = [(data, loss, option, seed) for data in args.data for loss in args.losses
             for option in args.minibatch for seed in range(args.seed, args.seed + args.seeds)]
    argvs = [["--loss", loss, "--data", data, "--minibatch", option, "--seed", str(seed),
              "--steps", str(args.steps), "--device", args.device,
              "--out", run_dir(args.out, data, loss, option, seed), *args.extra.split()]
             for data, loss, option, seed in cells]
    print(f"{len(argvs)} runs of {args.steps} steps, {args.jobs} at a time")
    results = gan_toy.run_many(argvs, jobs=args.jobs)
    runs = [{"loss": loss, "data": data, "option": option, "seed": seed,
             **{k: r[k] for k in ("modes_covered", "num_modes", "high_quality", "reverse_kl",
                                  "train_seconds")}}
            for (data, loss, option, seed), r in zip(cells, results)]

    summary, table = make_table(runs)
    print("\n" + table)
    with open(os.path.join(args.out, "table.md"), "w") as f:
        f.write(table + "\n")
    paths = {"samples": samples_figure(runs, args.out, os.path.join(args.out, "samples.png"))}
    write_results(args.out, {"settings": vars(args), "summary": summary, "runs": runs}, paths,
                  started=started, files={"table": "table.md"})
    return summary


if __name__ == "__main__":
    main()
