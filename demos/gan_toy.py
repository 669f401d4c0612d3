"""GANs on 2-D toys: watch the game, the discriminator's field and mode collapse.

    python demos/gan_toy.py                                   # WGAN-GP on the 25-Gaussian grid
    python demos/gan_toy.py --data 8gaussians --loss minimax  # the saturating original
    python demos/gan_toy.py --loss nonsaturating --steps 5000 --seed 3

What it does (lecture L6.4):
1. trains an MLP generator G (z ~ N(0, I)) against an MLP discriminator / critic D on
   fresh samples of the toy (``--data``, from ``minigen.data.toy_2d``) with the chosen
   objective (``--loss``), n_critic D updates per G update (minigen.models.gan.GANTrainer);
2. draws G's samples over training as a strip of scatter plots and a GIF;
3. draws D over the plane -- its value (D(x) = sigmoid(logit), or the critic's score) and
   the force on a generated point, -grad_x L_G(D(x)), as arrows: where G is pushed;
4. writes samples.npy (10,000 x 2 float32 of the final G, EMA weights if --ema) and
   results.json: modes covered, high-quality fraction and reverse KL (PacGAN protocol:
   the first 2,500 samples, a sample is high quality within 3 sigma of its nearest mode,
   a mode is covered by >= 20 high-quality samples).

Each loss starts from the settings that work best for it on these toys (the defaults
of --lr, --betas, --n-critic, --gp-weight and --clip when not given):

    minimax        Adam 1e-3, betas (0.5, 0.999), n_critic 1
    nonsaturating  Adam 1e-3, betas (0.5, 0.999), n_critic 1
    wgan           RMSprop 5e-4, n_critic 5, weight clipping 0.01 (the paper's 5e-5 is
                   for images and barely moves G in a few thousand toy steps)
    wgan-gp        Adam 1e-3, betas (0.5, 0.9), n_critic 5, lambda 0.1 (lambda and betas of
                   the toy code of Gulrajani et al.; 1e-3 instead of its 1e-4: on the ring,
                   1,000 steps of seeds 0, 1, 2 cover 7, 8, 7 of the 8 modes, against 5/8
                   at 1e-4)

(minigen.models.gan.toy_run.TOY_DEFAULTS; the training loop is toy_run.train_toy.)
A seeded run is bit for bit the same only at a fixed thread count: set
OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 NUMBA_NUM_THREADS=1 to compare runs.
"""
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import minigen as mg                                                    # noqa: E402
from minigen import viz                                                 # noqa: E402
from minigen.data import TOY_2D_NAMES                                   # noqa: E402
from minigen.models.gan import G_LOSSES, LOSSES, loss_settings          # noqa: E402
from minigen.models.gan.minibatch import MINIBATCH_OPTIONS              # noqa: E402
from minigen.models.gan.toy_run import PROTOCOL, TOY_DEFAULTS, train_toy  # noqa: E402
from minigen.train import (arg_parser, non_negative_float_arg, non_negative_int_arg,  # noqa: E402
                           positive_float_arg, positive_int_arg, write_results)

N_SAMPLES = 10_000


def build_parser():
    p = arg_parser(__doc__.splitlines()[0], steps=2000, batch_size=256, lr=None, out="out/gan_toy",
                   checkpoint_every=1000)
    p.add_argument("--data", choices=TOY_2D_NAMES, default="25gaussians")
    p.add_argument("--loss", choices=LOSSES, default="wgan-gp",
                   help="; ".join(f"{k}: " + ", ".join(f"{a} {b}" for a, b in v.items())
                                  for k, v in TOY_DEFAULTS.items()))
    p.add_argument("--betas", type=non_negative_float_arg, nargs=2, default=None, help="Adam's (beta1, beta2)")
    p.add_argument("--n-critic", type=positive_int_arg, default=None, help="D updates per G update")
    p.add_argument("--gp-weight", type=non_negative_float_arg, default=None, help="lambda of WGAN-GP")
    p.add_argument("--r1", type=non_negative_float_arg, default=0.0, help="gamma of the R1 penalty (0: off)")
    p.add_argument("--clip", type=positive_float_arg, default=None, help="WGAN weight clipping bound")
    p.add_argument("--latent-dim", type=positive_int_arg, default=2)
    p.add_argument("--hidden", type=positive_int_arg, default=128)
    p.add_argument("--depth", type=positive_int_arg, default=3, help="hidden layers of G and of D")
    p.add_argument("--minibatch", choices=MINIBATCH_OPTIONS, default="none",
                   help="what D sees of the batch: minibatch discrimination (disc), minibatch "
                        "stddev, PacGAN packing of 2 or 4 samples (minigen.models.gan.minibatch)")
    p.add_argument("--pack-after", type=non_negative_int_arg, default=0,
                   help="with pack2/pack4: D's hidden layers applied to each sample before "
                        "packing (0: PacGAN's packing of the inputs)")
    p.add_argument("--ema", type=non_negative_float_arg, default=0.0, help="EMA decay of G's weights (0: off)")
    p.add_argument("--frames", type=positive_int_arg, may_change_on_resume=True, default=16, help="snapshots of G over training (GIF)")
    p.add_argument("--no-plots", action="store_true", may_change_on_resume=True, help="numbers only (sweeps)")
    return p


def main(argv=None, minibatch=None):
    """Train and draw; ``minibatch`` (a ToyDiscriminator hook) replaces --minibatch."""
    args = build_parser().parse_args(argv)
    s = loss_settings(TOY_DEFAULTS[args.loss], args)
    os.makedirs(args.out, exist_ok=True)
    started = time.time()
    lim = 5.0 if args.data == "25gaussians" else 3.0 if args.data == "8gaussians" else 4.5
    print(f"{args.loss} GAN on {args.data}: {s}, r1 {args.r1}, D option {args.minibatch}, G/D "
          f"{args.depth}x{args.hidden} ReLU MLPs, z in R^{args.latent_dim}")

    snapshots = []                           # (step, 1000 samples), fixed z
    rng_z = np.random.default_rng(12345)     # fixed z for the pictures, apart from mg's RNG
    z_fixed = rng_z.standard_normal((1000, args.latent_dim)).astype(np.float32)
    frame_every = max(1, args.steps // max(1, args.frames))

    def snapshot(trainer, loop):
        if not args.no_plots and (loop.every(frame_every) or loop.step == 1):
            with mg.no_grad(), trainer.averaged():
                snapshots.append((loop.step, trainer.G(mg.tensor(z_fixed, device=args.device)).numpy()))

    run = train_toy(args.data, args.loss, minibatch or args.minibatch, steps=args.steps,
                    batch_size=args.batch_size, hidden=args.hidden, depth=args.depth,
                    latent_dim=args.latent_dim, seed=args.seed, settings=s, r1=args.r1,
                    ema=args.ema, pack_after=args.pack_after, device=args.device,
                    n_samples=N_SAMPLES, args=args, on_step=snapshot)
    trainer, loop, dist, samples = run.trainer, run.loop, run.dist, run.samples
    np.save(os.path.join(args.out, "samples.npy"), samples)
    results = {"settings": vars(args), "loss_settings": s, "steps": loop.step,
               "train_seconds": round(time.time() - started, 1), "protocol": PROTOCOL,
               **run.numbers}
    last = loop.history[-1] if loop.history else {}
    results["last_logged"] = last
    if "modes_covered" in results:
        print(f"modes covered {results['modes_covered']}/{results['num_modes']}, high quality "
              f"{100 * results['high_quality']:.1f}%, reverse KL {results['reverse_kl']:.3f}  "
              f"({PROTOCOL['samples']} samples, >= {PROTOCOL['min_count']} per mode)")

    paths = {}
    if not args.no_plots:
        real = dist.sample(1000, seed=0)
        paths.update(draw_training(snapshots, real, dist, lim, args))
        paths["field"] = draw_field(trainer, real, samples[:1000], dist, lim, args)
        paths["final"] = viz.scatter_2d(samples[:2500], os.path.join(args.out, "samples.png"),
                                        modes=dist.modes, real=real, lim=lim,
                                        title=f"{args.loss}: 2,500 samples after {loop.step} steps")
        keys = [k for k in ("d_loss", "g_loss", "wasserstein", "d_real", "d_fake", "gp")
                if k in last]
        paths["curves"] = viz.curves(loop.log_path, os.path.join(args.out, "curves.png"), keys=keys,
                                     smooth=50, separate=True, title=f"{args.loss} on {args.data}")
    write_results(args.out, results, paths, started=started,
                  files={"samples": "samples.npy"})
    return results


def run_many(argvs, jobs=1):
    """``main`` on each argument list (numbers only: --no-plots, no checkpoints), ``jobs``
    processes at a time; the results in order.  The tables over seeds and the sweep use it."""
    argvs = [list(a) + ["--no-plots", "--checkpoint-every", "0"] for a in argvs]
    if jobs > 1:
        from concurrent.futures import ProcessPoolExecutor
        with ProcessPoolExecutor(jobs) as pool:
            return list(pool.map(_quiet_main, argvs))
    return [_quiet_main(a) for a in argvs]


def _quiet_main(argv):
    os.environ.setdefault("MPLBACKEND", "Agg")
    return main(argv)


def draw_training(snapshots, real, dist, lim, args):
    """A strip of scatter plots (6 moments of training) and a GIF of all snapshots."""
    import matplotlib.pyplot as plt
    if not snapshots:
        return {}
    picks = np.unique(np.linspace(0, len(snapshots) - 1, min(6, len(snapshots))).round().astype(int))
    fig, axes = plt.subplots(1, len(picks), figsize=(2.6 * len(picks), 2.8), squeeze=False)
    for ax, i in zip(axes[0], picks):
        step, pts = snapshots[i]
        ax.scatter(real[:, 0], real[:, 1], s=2, c="silver")
        ax.scatter(pts[:, 0], pts[:, 1], s=1, c="tab:blue")
        ax.set_xlim(-lim, lim), ax.set_ylim(-lim, lim), ax.set_aspect("equal")
        ax.set_xticks([]), ax.set_yticks([])
        ax.set_title(f"step {step}", fontsize=9)
    fig.suptitle(f"{args.loss} GAN on {args.data}: G's samples (blue) over training, data grey",
                 fontsize=10)
    strip = viz.save_figure(fig, os.path.join(args.out, "training_strip.png"))
    frame_dir = os.path.join(args.out, "frames")
    frames = []
    for step, pts in snapshots:
        fig, ax = plt.subplots(figsize=(3.2, 3.2))
        ax.scatter(real[:, 0], real[:, 1], s=2, c="silver")
        ax.scatter(pts[:, 0], pts[:, 1], s=1, c="tab:blue")
        ax.set_xlim(-lim, lim), ax.set_ylim(-lim, lim), ax.set_aspect("equal")
        ax.set_title(f"{args.loss}, step {step}", fontsize=9)
        frames.append(viz.save_figure(fig, os.path.join(frame_dir, f"step_{step:06d}.png"), dpi=60))
    gif = viz.save_gif(frames, os.path.join(args.out, "training.gif"), duration_ms=250)
    return {"strip": strip, "gif": gif}


def discriminator_field(trainer, points):
    """D's value at each point and the force on a generated sample there:
    -grad_x L_G(D(x)), the direction (and size) of G's gradient step for a sample at x.
    A packing D (pack = m) sees each point as m copies of itself."""
    D, loss = trainer.D, trainer.loss
    pack = getattr(D, "pack", 1)
    x = mg.tensor(np.repeat(points, pack, axis=0), device=trainer._device(), requires_grad=True)
    with mg.enable_grad():
        D.eval()
        out = D(x)
        per_point = G_LOSSES[loss](out) * len(points)     # the losses are batch means
        (g,) = mg.grad(per_point, x)
        D.train()
    value = mg.sigmoid(out) if loss in ("minimax", "nonsaturating") else out
    force = -g.numpy().reshape(len(points), pack, 2).sum(axis=1)
    return value.numpy().reshape(-1), force


def draw_field(trainer, real, fake, dist, lim, args, n=60):
    """Heat map of D over the plane with the force field on G's samples as arrows."""
    import matplotlib.pyplot as plt
    ticks = np.linspace(-lim, lim, n, dtype=np.float32)
    xx, yy = np.meshgrid(ticks, ticks)
    grid = np.stack([xx.ravel(), yy.ravel()], axis=1)
    value, _ = discriminator_field(trainer, grid)
    coarse = np.linspace(-lim, lim, 21, dtype=np.float32)
    cx, cy = np.meshgrid(coarse, coarse)
    arrows_at = np.stack([cx.ravel(), cy.ravel()], axis=1)
    _, force = discriminator_field(trainer, arrows_at)
    fig, ax = plt.subplots(figsize=(6.2, 5))
    label = "D(x) = sigmoid(logit)" if args.loss in ("minimax", "nonsaturating") else "critic f(x)"
    im = ax.imshow(value.reshape(n, n), origin="lower", extent=[-lim, lim, -lim, lim],
                   cmap="RdBu_r", alpha=0.9)
    fig.colorbar(im, ax=ax, label=label)
    ax.scatter(real[:, 0], real[:, 1], s=1, c="black", label="data")
    ax.scatter(fake[:, 0], fake[:, 1], s=1, c="gold", label="G's samples")
    ax.quiver(arrows_at[:, 0], arrows_at[:, 1], force[:, 0], force[:, 1], color="white",
              width=0.003)
    ax.set_xlim(-lim, lim), ax.set_ylim(-lim, lim), ax.set_aspect("equal")
    ax.legend(loc="upper left", bbox_to_anchor=(1.25, 1), fontsize=8, markerscale=5)
    ax.set_title(f"{args.loss}: D over the plane; arrows = -grad_x L_G (where G is pushed)",
                 fontsize=9)
    return viz.save_figure(fig, os.path.join(args.out, "field.png"))


if __name__ == "__main__":
    main()
