"""Mode collapse, measured: every loss on both toys over several seeds, one table.

    python demos/gan_mode_collapse.py                     # 4 losses x 2 toys x 5 seeds
    python demos/gan_mode_collapse.py --seeds 2 --steps 500 --jobs 2

Each cell trains demos/gan_toy.py (numbers only, its per-loss defaults) and reads its
results.json: modes covered, high-quality fraction and reverse KL with the PacGAN
protocol (2,500 samples; high quality within 3 std of the nearest mode; a mode is
covered by >= 20 high-quality samples).  Written: table.md (mean +- std over seeds, and
how many seeds covered every mode) and results.json with every run.
"""
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, HERE)

from minigen.train import demo_parser, positive_int_arg                   # noqa: E402

LOSSES = ("minimax", "nonsaturating", "wgan", "wgan-gp")
TOYS = ("8gaussians", "25gaussians")


def build_parser():
    p = demo_parser(__doc__.splitlines()[0], out="out/gan_mode_collapse")   # --seed: the first seed
    p.add_argument("--seeds", type=positive_int_arg, default=5)
    p.add_argument("--steps", type=positive_int_arg, default=2000, help="generator updates per run")
    p.add_argument("--losses", nargs="+", choices=LOSSES, default=list(LOSSES))
    p.add_argument("--data", nargs="+", choices=TOYS, default=list(TOYS))
    p.add_argument("--jobs", type=positive_int_arg, default=1, help="runs in parallel (processes)")
    p.add_argument("--extra", default="", help="more gan_toy.py flags, e.g. '--hidden 64'")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--table-from", metavar="RESULTS_JSON",
                   help="only rebuild table.md from the runs of an earlier results.json")
    return p


def one_run(job):
    """Train one (loss, toy, seed) cell in this process; return its results."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    import gan_toy
    loss, data, seed, steps, out, device, extra = job
    argv = ["--loss", loss, "--data", data, "--seed", str(seed), "--steps", str(steps),
            "--out", out, "--device", device, "--no-plots", "--checkpoint-every", "0", *extra.split()]
    r = gan_toy.main(argv)
    return {"loss": loss, "data": data, "seed": seed, "modes_covered": r["modes_covered"],
            "num_modes": r["num_modes"], "high_quality": r["high_quality"],
            "reverse_kl": r["reverse_kl"], "train_seconds": r["train_seconds"]}


def kl_text(kl):
    """mean +- std of the finite reverse KLs; runs without any high-quality sample (KL = inf)
    are counted apart."""
    finite = kl[np.isfinite(kl)]
    text = f"{finite.mean():.3f} ± {finite.std():.3f}" if len(finite) else "–"
    if len(finite) < len(kl):
        text += f" ({len(kl) - len(finite)} × inf)"
    return text


def make_table(runs, toys, losses):
    """(summary dicts, markdown table) of the runs, one row per (toy, loss)."""
    lines = ["| toy | loss | modes covered | high quality | reverse KL | seeds with all modes |",
             "|---|---|---|---|---|---|"]
    summary = []
    for data in toys:
        for loss in losses:
            cell = [r for r in runs if r["data"] == data and r["loss"] == loss]
            m = np.array([r["modes_covered"] for r in cell], float)
            hq = np.array([r["high_quality"] for r in cell]) * 100
            kl = np.array([r["reverse_kl"] for r in cell])
            k = cell[0]["num_modes"]
            full = int((m == k).sum())
            finite = kl[np.isfinite(kl)]
            summary.append({"data": data, "loss": loss, "modes_mean": m.mean(), "modes_std": m.std(),
                            "hq_mean": hq.mean(), "hq_std": hq.std(),
                            "kl_mean_finite": finite.mean() if len(finite) else None,
                            "kl_runs_infinite": int((~np.isfinite(kl)).sum()),
                            "seeds_all_modes": full, "seeds": len(cell)})
            lines.append(f"| {data} | {loss} | {m.mean():.1f} ± {m.std():.1f} / {k} | "
                         f"{hq.mean():.1f} ± {hq.std():.1f} % | {kl_text(kl)} | {full}/{len(cell)} |")
    return summary, "\n".join(lines)


def main(argv=None):
    args = build_parser().parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    started = time.time()
    if args.table_from:
        runs = json.load(open(args.table_from))["runs"]
        _, table = make_table(runs, [t for t in args.data if any(r["data"] == t for r in runs)],
                              [l for l in args.losses if any(r["loss"] == l for r in runs)])
        print(table)
        with open(os.path.join(args.out, "table.md"), "w") as f:
            f.write(table + "\n")
        return table
    jobs = [(loss, data, seed, args.steps, os.path.join(args.out, f"{data}_{loss}_seed{seed}"),
             args.device, args.extra)
            for data in args.data for loss in args.losses
            for seed in range(args.seed, args.seed + args.seeds)]
    print(f"{len(jobs)} runs of {args.steps} steps, {args.jobs} at a time")
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs) as pool:
            runs = list(pool.map(one_run, jobs))
    else:
        runs = [one_run(job) for job in jobs]

    summary, table = make_table(runs, args.data, args.losses)
    print("\n" + table)
    with open(os.path.join(args.out, "table.md"), "w") as f:
        f.write(table + "\n")
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump({"settings": vars(args), "summary": summary, "runs": runs,
                   "seconds": round(time.time() - started, 1)}, f, indent=1)
    print(f"\nwritten: {os.path.join(args.out, 'table.md')}, {os.path.join(args.out, 'results.json')}"
          f"  ({time.time() - started:.0f} s)")
    return summary


if __name__ == "__main__":
    main()
