"""DCGAN on Fashion-MNIST (and WGAN / WGAN-GP with the same networks): train, measure, look.

    python demos/dcgan.py                          # embedded 3,000 images, a few minutes
    python demos/dcgan.py --full --epochs 5        # the 60,000 images (installed files)
    python demos/dcgan.py --loss wgan-gp           # critic with layer norm, lambda 10, n_critic 5
    python demos/dcgan.py --loss wgan              # weight clipping 0.01, RMSprop 5e-5, n_critic 5

What it does (lecture L6.4):
1. builds the DCGAN players of minigen.models.gan.dcgan (the lecture's five rules:
   strided convolutions, batch norm, no fully connected hidden layers, ReLU + tanh in G,
   LeakyReLU(0.2) in D), weights from N(0, 0.02);
2. trains them with minigen.models.gan.GANTrainer; per-loss defaults (when --lr, --betas,
   --n-critic are not given):
       nonsaturating / minimax  Adam 2e-4, betas (0.5, 0.999), n_critic 1, D with batch norm
       wgan                     RMSprop 5e-5, clip 0.01, n_critic 5, critic with batch norm
       wgan-gp                  Adam 1e-4, betas (0.5, 0.9), n_critic 5, lambda 10,
                                critic with layer norm (the penalty is per sample)
3. each epoch: a grid of 64 samples (fixed z) and FD / KID / precision / recall / class
   coverage of --n-samples samples against the test images (minigen.metrics), in the
   CSV log and plotted (with the critic's Wasserstein estimate for the WGANs);
4. at the end: a latent interpolation strip, the nearest training images of samples
   (a memorisation check, pixel distance), samples.npy (N, 1, 28, 28) float32 in [0, 1]
   and results.json.
"""
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import minigen as mg                                                    # noqa: E402
from minigen import viz                                                 # noqa: E402
from minigen.data import DataLoader                                     # noqa: E402
from minigen.models.gan import (LOSSES, GANTrainer, checked_resume, dcgan_discriminator,  # noqa: E402
                                dcgan_generator, dcgan_init_, loss_settings, make_optimizer)
from minigen.models.vae import load_fashion_mnist, sample_metrics       # noqa: E402
from minigen.train import (Loop, arg_parser, non_negative_float_arg,  # noqa: E402
                           positive_float_arg, positive_int_arg, write_results)

LOSS_DEFAULTS = {
    "nonsaturating": dict(optimizer="adam", lr=2e-4, betas=(0.5, 0.999), n_critic=1, norm="batch"),
    "minimax": dict(optimizer="adam", lr=2e-4, betas=(0.5, 0.999), n_critic=1, norm="batch"),
    "wgan": dict(optimizer="rmsprop", lr=5e-5, betas=None, n_critic=5, clip=0.01, norm="batch"),
    "wgan-gp": dict(optimizer="adam", lr=1e-4, betas=(0.5, 0.9), n_critic=5, gp_weight=10.0,
                    norm="layer"),
}


def build_parser():
    p = arg_parser(__doc__.splitlines()[0], epochs=60, batch_size=64, lr=None, out="out/dcgan",
                   checkpoint_every=500)
    p.add_argument("--full", action="store_true", help="the full Fashion-MNIST files")
    p.add_argument("--loss", choices=LOSSES, default="nonsaturating")
    p.add_argument("--betas", type=non_negative_float_arg, nargs=2, default=None)
    p.add_argument("--n-critic", type=positive_int_arg, default=None)
    p.add_argument("--gp-weight", type=non_negative_float_arg, default=None)
    p.add_argument("--clip", type=positive_float_arg, default=None)
    p.add_argument("--critic-norm", choices=("batch", "layer", "none"), default=None)
    p.add_argument("--minibatch-stddev", action="store_true",
                   help="D sees the spread of its features over groups of 4 images (ProGAN)")
    p.add_argument("--latent-dim", type=positive_int_arg, default=100)
    p.add_argument("--channels", type=positive_int_arg, default=32, help="c: G and D have c and 2c channels")
    p.add_argument("--ema", type=non_negative_float_arg, default=0.0, help="EMA decay of G's weights (0: off)")
    p.add_argument("--n-samples", type=positive_int_arg, may_change_on_resume=True, default=5000, help="samples for the metrics")
    p.add_argument("--metrics-every", type=positive_int_arg, may_change_on_resume=True, default=1, help="epochs between metrics")
    return p


def settings_of(args):
    """The loss's defaults with the command line's values; the critic's normalisation too."""
    s = loss_settings(LOSS_DEFAULTS[args.loss], args)
    if args.critic_norm is not None:
        s["norm"] = args.critic_norm
    return s


def to_unit(x):
    """G's tanh output in [-1, 1] -> grey values in [0, 1]."""
    return np.clip((np.asarray(x) + 1) / 2, 0, 1).astype(np.float32)


def main(argv=None):
    args = build_parser().parse_args(argv)
    s = settings_of(args)
    os.makedirs(args.out, exist_ok=True)
    started = time.time()

    data = load_fashion_mnist(full=args.full)
    x_train = (data.x_train.reshape(-1, 1, 28, 28) * 2 - 1).astype(np.float32)   # [-1, 1]
    test_images = data.x_test.reshape(-1, 1, 28, 28)
    print(f"data: {len(x_train)} training / {len(test_images)} test images ({data.source})")

    mg.manual_seed(args.seed)
    G = dcgan_init_(dcgan_generator(args.latent_dim, args.channels)).to(args.device)
    D = dcgan_init_(dcgan_discriminator(args.channels, norm=s["norm"],
                                           minibatch_stddev=args.minibatch_stddev)).to(args.device)
    trainer = GANTrainer(G, D, make_optimizer(G.parameters(), s), make_optimizer(D.parameters(), s),
                         loss=args.loss, n_critic=s["n_critic"], gp_weight=s.get("gp_weight", 10.0),
                         clip=s.get("clip"), ema_decay=args.ema or None)
    count = lambda m: sum(p.numel() for p in m.parameters())
    print(f"{args.loss}: {s}; G {count(G):,} / D {count(D):,} parameters")

    loader = DataLoader(x_train, trainer.loader_batch_size(args.batch_size), seed=args.seed,
                        device=args.device, drop_last=True)
    steps = args.steps if args.steps is not None else args.epochs * len(loader)
    loop = Loop(loader, args, steps=steps, state=trainer.state(), desc=f"dcgan {args.loss}")
    z_grid = mg.tensor(np.random.default_rng(1234).standard_normal((64, args.latent_dim))
                       .astype(np.float32), device=args.device)
    grids, epoch_metrics = [], []
    for real in checked_resume(loop):
        loop.log(**trainer.step(real))
        if loop.step % len(loader) == 0 or loop.step == loop.total_steps:
            epoch = int(np.ceil(loop.step / len(loader)))
            with mg.no_grad(), trainer.averaged():
                grid = to_unit(G(z_grid).numpy())
            grids.append(viz.image_grid(grid, os.path.join(args.out, f"samples_epoch{epoch:03d}.png"),
                                        nrow=8, value_range=(0, 1),
                                        title=f"{args.loss}, epoch {epoch} (step {loop.step})"))
            if epoch % args.metrics_every == 0 or loop.step == loop.total_steps:
                fake = to_unit(trainer.generate(args.n_samples, seed=args.seed + 1))
                quality, why_not = sample_metrics(fake, test_images, seed=args.seed)
                if quality is not None:
                    loop.log(**{k: v for k, v in quality.items()})
                    epoch_metrics.append({"epoch": epoch, "step": loop.step, **quality})
                    print(f"  epoch {epoch}: FD {quality['fd']:.1f}, KID {quality['kid']:.4f}, "
                          f"precision {quality['precision']:.2f}, recall {quality['recall']:.2f}, "
                          f"classes {quality['classes_covered']}/10", flush=True)
                else:
                    print(f"  metrics skipped ({why_not})")
    train_seconds = time.time() - started

    fake = to_unit(trainer.generate(args.n_samples, seed=args.seed + 1))
    np.save(os.path.join(args.out, "samples.npy"), fake)
    results = {"settings": vars(args), "loss_settings": s, "data": data.source,
               "train_images": len(x_train), "steps": loop.step, "epochs": loop.epoch,
               "train_seconds": round(train_seconds, 1), "per_epoch": epoch_metrics}
    if epoch_metrics:
        results.update({k: v for k, v in epoch_metrics[-1].items() if k not in ("epoch", "step")})

    paths = {"samples (last epoch)": grids[-1] if grids else None}
    if grids:
        paths["samples over epochs"] = viz.save_gif(grids, os.path.join(args.out, "samples.gif"),
                                                    duration_ms=400)
    rows = viz.read_csv_log(loop.log_path)
    keys = [k for k in ("d_loss", "g_loss", "wasserstein", "fd", "kid", "precision", "recall")
            if k in rows]
    paths["curves"] = viz.curves(loop.log_path, os.path.join(args.out, "curves.png"), keys=keys,
                                 smooth=20, separate=True,
                                 title=f"{args.loss}: losses, Wasserstein estimate and sample metrics")
    paths["interpolation"] = interpolation(trainer, args)
    paths["nearest"], results["nearest_pixel_distance"] = nearest_neighbours(fake, data.x_train, args)
    write_results(args.out, results, paths, started=started,
                  files={"samples": "samples.npy"})
    print(f"(of which training {train_seconds:.0f} s)")
    return results


def interpolation(trainer, args, pairs=6, steps=10):
    """G along straight lines between random latent codes (z_a -> z_b)."""
    rng = np.random.default_rng(args.seed + 7)
    za, zb = rng.standard_normal((2, pairs, 1, args.latent_dim))
    t = np.linspace(0, 1, steps)[None, :, None]
    z = ((1 - t) * za + t * zb).reshape(pairs * steps, args.latent_dim).astype(np.float32)
    with mg.no_grad(), trainer.averaged():
        x = to_unit(trainer.G(mg.tensor(z, device=args.device)).numpy())
    return viz.interpolation_strip(x.reshape(pairs, steps, 1, 28, 28),
                                   os.path.join(args.out, "interpolation.png"), value_range=(0, 1),
                                   title="G((1 - t) z_a + t z_b), t from 0 to 1")


def nearest_neighbours(fake, x_train, args, n=8, k=5):
    """Each of n samples beside its k nearest training images (pixel L2): copies would be
    at distance ~0.  Returns the picture and the mean nearest distance of 500 samples."""
    train = x_train.reshape(len(x_train), -1).astype(np.float32)
    f = fake[:500].reshape(min(500, len(fake)), -1)
    d2 = (f ** 2).sum(1)[:, None] - 2 * f @ train.T + (train ** 2).sum(1)[None, :]
    d = np.sqrt(np.maximum(d2, 0))
    order = np.argsort(d, axis=1)[:, :k]
    rows = np.concatenate([np.concatenate([f[i:i + 1], train[order[i]]]) for i in range(min(n, len(f)))])
    path = viz.image_grid(rows.reshape(-1, 1, 28, 28), os.path.join(args.out, "nearest.png"),
                          nrow=k + 1, value_range=(0, 1),
                          title="left: a sample; right: its nearest training images (pixels)")
    return path, float(d[np.arange(len(f)), order[:, 0]].mean())


if __name__ == "__main__":
    main()
