"""Score matching and (annealed) Langevin dynamics on a mixture with unequal weights.

    python demos/score_langevin.py                     # 0.8 / 0.2 mixture, a few minutes
    python demos/score_langevin.py --data 8gaussians

The lecture-worthy pitfall (Song & Ermon 2019, section 3.2): the score ∇ log p cannot
see the relative weight of two separated modes, so *plain* Langevin dynamics, even with
the exact score, returns each mode in the proportion of its basin of attraction from the
start points.  *Annealed* Langevin starts at a noise level where the perturbed modes
overlap (the weights are felt there) and anneals down: the fractions come out right.

What it does:
1. trains a noise-conditional score network s_θ(x, σ) by denoising score matching over
   L = 10 geometric levels σ: 1 -> 0.01;
2. samples from uniform start points with (a) plain Langevin and the exact clean score,
   (b) annealed Langevin and the exact perturbed scores, (c) annealed Langevin and the
   learned s_θ; measures the fraction of samples in each mode against the truth;
3. draws the score field over the plane, learned next to analytic, at several σ.
"""
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import minigen as mg                                                        # noqa: E402
from minigen import viz                                                     # noqa: E402
from minigen.data.toy2d import toy_2d                                       # noqa: E402
from minigen.models.diffusion import GaussianMixture                        # noqa: E402
from minigen.models.diffusion.score import (NoiseConditionalScoreNet, annealed_langevin,  # noqa: E402
                                            dsm_loss, geometric_sigmas, langevin)
from minigen.train import Loop, arg_parser, positive_float_arg, positive_int_arg, write_results  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from diffusion_common import adam_setup, field_panel, plane_grid, points_panel, points_strip   # noqa: E402

DATA = ("unequal", "8gaussians", "25gaussians")


def build_parser():
    p = arg_parser(__doc__.splitlines()[0], steps=3000, batch_size=512, lr=2e-3,
                   out="out/score_langevin", checkpoint_every=1000)
    p.add_argument("--data", choices=DATA, default="unequal",
                   help="'unequal': 0.8 N((-0.7,-0.7), 0.1²) + 0.2 N((0.7,0.7), 0.1²)")
    p.add_argument("--levels", type=positive_int_arg, default=10, help="L noise levels")
    p.add_argument("--sigma-max", type=positive_float_arg, default=1.0)
    p.add_argument("--sigma-min", type=positive_float_arg, default=0.01)
    p.add_argument("--steps-per-level", type=positive_int_arg, default=100, help="T of annealed Langevin", may_change_on_resume=True)
    p.add_argument("--eps", type=positive_float_arg, default=2e-5, help="annealed Langevin: alpha_i = eps sigma_i² / sigma_L²", may_change_on_resume=True)
    p.add_argument("--plain-step", type=positive_float_arg, default=2e-3, help="plain Langevin step", may_change_on_resume=True)
    p.add_argument("--n-samples", type=positive_int_arg, default=5000, may_change_on_resume=True)
    p.add_argument("--hidden", type=positive_int_arg, default=128)
    return p


def mixture(name):
    if name == "unequal":
        return GaussianMixture([[-0.7, -0.7], [0.7, 0.7]], std=0.1, weights=[0.8, 0.2])
    return GaussianMixture.from_toy(toy_2d(name))


def fractions(x, mix):
    """Fraction of the samples nearest to each mode."""
    d = np.linalg.norm(x[:, None] - mix.means[None], axis=2)
    return np.bincount(d.argmin(axis=1), minlength=len(mix.means)) / len(x)


def main(argv=None):
    args = build_parser().parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    started = time.time()
    mix = mixture(args.data)
    sigmas = geometric_sigmas(args.sigma_max, args.sigma_min, args.levels)
    x_train = mix.sample(100_000, np.random.default_rng(args.seed))
    lim = float(np.abs(mix.means).max() + 4 * mix.std + 0.5)
    print(f"data: {args.data}, weights {np.round(mix.weights, 3).tolist()}; "
          f"σ: {sigmas[0]:.3g} -> {sigmas[-1]:.3g}, L = {len(sigmas)}")

    # -- denoising score matching ----------------------------------------------------------
    mg.manual_seed(args.seed)
    model = NoiseConditionalScoreNet(sigmas, hidden=args.hidden, fourier=4).to(args.device)
    loader, opt, steps = adam_setup(model, x_train, args)
    lr_schedule = mg.optim.CosineAnnealingLR(opt, T_max=steps, eta_min=args.lr * 0.05)
    loop = Loop(loader, args, steps=steps, desc="dsm",
                state={"model": model, "optimizer": opt, "lr_schedule": lr_schedule})
    for x in loop:
        loss = dsm_loss(model, x, sigmas)    # ½ ‖σ s_θ(x + σz, σ) + z‖², a level per example
        opt.zero_grad()
        loss.backward()
        opt.step()
        lr_schedule.step()
        loop.log(loss=loss)

    # -- three samplers from the same uniform start points ---------------------------------
    mg.manual_seed(args.seed + 1)
    start = mg.rand(args.n_samples, 2, device=args.device) * (2 * lim) - lim
    exact_clean = lambda x: mix.score(x, 0.0)
    exact_noisy = lambda x, i: mix.score(x, sigmas[i])
    runs = {}
    t = time.time()
    runs["plain Langevin, exact score"] = langevin(exact_clean, start, args.plain_step,
                                                   args.levels * args.steps_per_level).numpy()
    runs["annealed Langevin, exact scores"] = annealed_langevin(
        exact_noisy, start, sigmas, args.eps, args.steps_per_level).numpy()
    learned, path = annealed_langevin(model, start, sigmas, args.eps, args.steps_per_level,
                                      trajectory=True)
    runs["annealed Langevin, learned s_θ"] = learned.numpy()
    sample_seconds = time.time() - t
    np.save(os.path.join(args.out, "samples.npy"), runs["annealed Langevin, learned s_θ"].astype(np.float32))

    results = {"settings": vars(args), "steps": loop.step, "sigmas": sigmas.tolist(),
               "true_weights": mix.weights.tolist(), "sample_seconds": round(sample_seconds, 1)}
    print(f"\nfraction of samples per mode (truth {np.round(mix.weights, 3).tolist()}):")
    for name, x in runs.items():
        f = fractions(x, mix)
        key = name.split(",")[0].split()[0] + "_" + ("learned" if "learned" in name else "exact")
        results[key] = {"fractions": f.tolist(),
                        "total_variation": float(0.5 * np.abs(f - mix.weights).sum())}
        shown = np.round(f, 3).tolist() if len(f) <= 4 else f"TV {results[key]['total_variation']:.3f}"
        print(f"  {name:34s} {shown}   TV distance {results[key]['total_variation']:.3f}")

    # -- pictures ----------------------------------------------------------------------------
    paths = {"samplers": samplers_figure(runs, mix, lim, args.out),
             "score field": score_fields(model, mix, sigmas, lim, args.out),
             "annealing": annealing_strip(path, sigmas, lim, args.out),
             "loss": viz.curves(loop.log_path, os.path.join(args.out, "loss.png"), keys=["loss"],
                                smooth=50, title="denoising score matching")}
    write_results(args.out, results, paths, started=started, files={"points": "samples.npy"})
    return results


def samplers_figure(runs, mix, lim, out):
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(runs), figsize=(4 * len(runs), 4))
    for ax, (name, x) in zip(axes, runs.items()):
        f = fractions(x, mix)
        label = (" / ".join(f"{v:.2f}" for v in f) if len(f) <= 4
                 else f"TV {0.5 * np.abs(f - mix.weights).sum():.3f}")
        points_panel(ax, x, lim, f"{name}\nfractions {label}", marks=mix.means, n=3000, alpha=0.4)
    fig.suptitle("truth: " + " / ".join(f"{w:.2f}" for w in mix.weights) if len(mix.weights) <= 4
                 else "truth: equal weights")
    return viz.save_figure(fig, os.path.join(out, "samplers.png"))


def score_fields(model, mix, sigmas, lim, out, n=21):
    """s_θ(x, σ) next to the analytic ∇ log p_σ(x) at three noise levels."""
    import matplotlib.pyplot as plt
    grid = plane_grid(lim, n)
    picks = [0, len(sigmas) // 2, len(sigmas) - 1]
    fig, axes = plt.subplots(2, len(picks), figsize=(4 * len(picks), 8))
    device = next(iter(model.parameters())).device
    with mg.no_grad():
        for j, i in enumerate(picks):
            learned = model(mg.tensor(grid, device=device), np.full(len(grid), i)).numpy()
            exact = mix.score(grid.astype(np.float64), sigmas[i])
            for row, (label, s) in enumerate((("learned s_θ", learned), ("analytic ∇ log p_σ", exact))):
                norm = np.linalg.norm(s, axis=1, keepdims=True) + 1e-12
                field_panel(axes[row, j], grid, s / norm ** 0.5, f"{label}, σ = {sigmas[i]:.3g}",
                            marks=mix.means)
    fig.suptitle("score fields (arrow length ∝ √|s|)")
    return viz.save_figure(fig, os.path.join(out, "score_field.png"))


def annealing_strip(path, sigmas, lim, out):
    titles = ["start"] + [f"after σ = {s:.3g}" for s in sigmas[:len(path) - 1]]
    return points_strip(path, titles, lim, "annealed Langevin with the learned score",
                        os.path.join(out, "annealing.png"), alpha=0.4)


if __name__ == "__main__":
    main()
