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
                   1,000 steps cover 8/8 modes with 30% high quality against 5/8 and 7%)
"""
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import minigen as mg                                                    # noqa: E402
from minigen import viz                                                 # noqa: E402
from minigen.data import TOY_2D_NAMES, DataLoader, toy_2d               # noqa: E402
from minigen.models.gan import (LOSSES, G_LOSSES, GANTrainer, ToyDiscriminator,   # noqa: E402
                                ToyGenerator, checked_resume, loss_settings, make_optimizer)
from minigen.models.gan.minibatch import MINIBATCH_OPTIONS, discriminator_options  # noqa: E402
from minigen.metrics import mode_stats                                  # noqa: E402
from minigen.train import (Loop, arg_parser, non_negative_float_arg, non_negative_int_arg,  # noqa: E402
                           positive_float_arg, positive_int_arg, write_results)

#: the per-loss defaults (see the module docstring)
LOSS_DEFAULTS = {
    "minimax": dict(optimizer="adam", lr=1e-3, betas=(0.5, 0.999), n_critic=1),
    "nonsaturating": dict(optimizer="adam", lr=1e-3, betas=(0.5, 0.999), n_critic=1),
    "wgan": dict(optimizer="rmsprop", lr=5e-4, betas=None, n_critic=5, clip=0.01),
    "wgan-gp": dict(optimizer="adam", lr=1e-3, betas=(0.5, 0.9), n_critic=5, gp_weight=0.1),
}
N_SAMPLES = 10_000
PROTOCOL = {"samples": 2500, "min_count": 20, "n_sigma": 3,
            "what": "PacGAN: first 2,500 samples; high quality = within 3 std of the nearest "
                    "mode; a mode is covered by >= 20 high-quality samples; reverse KL of the "
                    "high-quality samples' mode histogram against uniform"}


def build_parser():
    p = arg_parser(__doc__.splitlines()[0], steps=2000, batch_size=256, lr=None, out="out/gan_toy",
                   checkpoint_every=1000)
    p.add_argument("--data", choices=TOY_2D_NAMES, default="25gaussians")
    p.add_argument("--loss", choices=LOSSES, default="wgan-gp",
                   help="; ".join(f"{k}: " + ", ".join(f"{a} {b}" for a, b in v.items())
                                  for k, v in LOSS_DEFAULTS.items()))
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
    p.add_argument("--ema", type=non_negative_float_arg, default=0.0, help="EMA decay of G's weights (0: off)")
    p.add_argument("--frames", type=positive_int_arg, may_change_on_resume=True, default=16, help="snapshots of G over training (GIF)")
    p.add_argument("--no-plots", action="store_true", may_change_on_resume=True, help="numbers only (sweeps)")
    return p


def toy_loader(dist, batch_size, seed, device):
    """Fresh samples of the toy every batch: the loader's seeded per-batch rng draws them,
    so runs (and resumed runs) see the same data, bit for bit."""
    placeholder = np.zeros((100 * batch_size, 2), dtype=np.float32)   # only its length counts
    return DataLoader(placeholder, batch_size, seed=seed, device=device, drop_last=True,
                      transform=lambda x, rng: dist.sample(len(x), rng=rng))


def make_trainer(args, s, minibatch=None):
    G = ToyGenerator(latent_dim=args.latent_dim, hidden=args.hidden, depth=args.depth)
    options = discriminator_options(args.minibatch) if minibatch is None else {"minibatch": minibatch}
    D = ToyDiscriminator(hidden=args.hidden, depth=args.depth, **options)
    G.to(args.device), D.to(args.device)
    return GANTrainer(G, D, make_optimizer(G.parameters(), s), make_optimizer(D.parameters(), s),
                      loss=args.loss, n_critic=s["n_critic"], gp_weight=s.get("gp_weight", 10.0),
                      r1_weight=args.r1, clip=s.get("clip"), ema_decay=args.ema or None)


def mode_numbers(dist, samples):
    """results.json's mode statistics (PROTOCOL) of the first 2,500 samples."""
    if dist.modes is None:
        return {}
    m = mode_stats(samples[:PROTOCOL["samples"]], dist.modes, dist.std,
                              min_count=PROTOCOL["min_count"], n_sigma=PROTOCOL["n_sigma"])
    return {"modes_covered": m["modes_covered"], "num_modes": m["num_modes"],
            "high_quality": m["high_quality"], "reverse_kl": m["reverse_kl"],
            "counts": m["counts"].tolist()}


def main(argv=None, minibatch=None):
    args = build_parser().parse_args(argv)
    s = loss_settings(LOSS_DEFAULTS[args.loss], args)
    os.makedirs(args.out, exist_ok=True)
    started = time.time()
    dist = toy_2d(args.data)
    lim = 5.0 if args.data == "25gaussians" else 3.0 if args.data == "8gaussians" else 4.5

    mg.manual_seed(args.seed)
    trainer = make_trainer(args, s, minibatch)
    print(f"{args.loss} GAN on {args.data}: {s}, r1 {args.r1}, G/D "
          f"{args.depth}x{args.hidden} ReLU MLPs, z in R^{args.latent_dim}")

    loader = toy_loader(dist, trainer.loader_batch_size(args.batch_size), args.seed, args.device)
    loop = Loop(loader, args, state=trainer.state(), desc=f"{args.loss} {args.data}")
    frame_every = max(1, loop.total_steps // max(1, args.frames))
    snapshots = []                           # (step, 1000 samples), fixed z
    rng_z = np.random.default_rng(12345)     # fixed z for the pictures, apart from mg's RNG
    z_fixed = mg.tensor(rng_z.standard_normal((1000, args.latent_dim)).astype(np.float32),
                        device=args.device)
    for real in checked_resume(loop):
        loop.log(**trainer.step(real))
        if not args.no_plots and (loop.every(frame_every) or loop.step == 1):
            with mg.no_grad(), trainer.averaged():
                snapshots.append((loop.step, trainer.G(z_fixed).numpy()))
    train_seconds = time.time() - started

    samples = trainer.generate(N_SAMPLES, seed=args.seed + 1).astype(np.float32)
    np.save(os.path.join(args.out, "samples.npy"), samples)
    results = {"settings": vars(args), "loss_settings": s, "steps": loop.step,
               "train_seconds": round(train_seconds, 1), "protocol": PROTOCOL,
               **mode_numbers(dist, samples)}
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
