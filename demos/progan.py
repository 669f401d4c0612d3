"""Progressive growing of GANs on Fashion-MNIST: 7x7 -> 14x14 -> 28x28, each new block faded in.

    python demos/progan.py                        # embedded subset, a few minutes on 2 cores
    python demos/progan.py --stable-steps 2000 --fade-steps 2000 --full

What it does (lecture L6.4, Karras et al. 2018; see minigen/models/gan/progan.py):
1. trains G and D at 7x7, then grows both to 14x14 and 28x28; while a new block fades
   in, alpha rises from 0 to 1 (G: upsample + blend, D: downsample + blend; the real
   images are blended the same way);
2. equalized learning rate, pixel norm, minibatch stddev, WGAN-GP + drift penalty;
3. draws one figure with sample grids at each resolution and during each fade
   (the same z throughout), and measures the Frechet distance of each phase's samples
   (shown at 28x28 by nearest upsampling) against real test images pooled to the same
   resolution and upsampled the same way.
"""
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import minigen as mg                                                    # noqa: E402
from minigen import viz                                                 # noqa: E402
from minigen.data import DataLoader, FashionMNIST                       # noqa: E402
from minigen.data.transforms import to_symmetric                        # noqa: E402
from minigen.models.gan.progan import (GrowthSchedule, ProDiscriminator, ProGANTrainer,  # noqa: E402
                                       ProGenerator, real_at)
from minigen.train import (Loop, demo_parser, non_negative_int_arg, positive_float_arg,  # noqa: E402
                           positive_int_arg, write_results)

TINY = bool(os.environ.get("MINIGEN_TINY"))


def build_parser():
    # the growth schedule sets the length, so no --steps / --epochs
    p = demo_parser(__doc__.splitlines()[0], out="out/progan")
    p.add_argument("--batch-size", type=positive_int_arg, default=16)
    p.add_argument("--lr", type=positive_float_arg, default=1e-3, help="Adam's learning rate")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.npz")
    p.add_argument("--checkpoint-every", type=non_negative_int_arg, default=1000, metavar="N")
    p.add_argument("--full", action="store_true", help="the full Fashion-MNIST files")
    p.add_argument("--stable-steps", type=positive_int_arg, default=3 if TINY else 200,
                   help="steps at each resolution once faded in")
    p.add_argument("--fade-steps", type=positive_int_arg, default=3 if TINY else 200,
                   help="steps of each fade-in (alpha 0 -> 1)")
    p.add_argument("--latent-dim", type=positive_int_arg, default=64)
    p.add_argument("--channels", type=positive_int_arg, nargs=3,
                   default=(8, 4, 4) if TINY else (32, 16, 8),
                   metavar=("C7", "C14", "C28"), help="feature maps at 7x7, 14x14, 28x28")
    p.add_argument("--n-samples", type=positive_int_arg, default=40 if TINY else 1000,
                   may_change_on_resume=True,
                   help="generated images per phase for the Frechet distance")
    p.add_argument("--snapshots", type=positive_int_arg, default=3, may_change_on_resume=True,
                   help="sample grids shown per phase")
    return p


def at_28(x, resolution):
    """(N, 1, r, r) in [-1, 1] -> (N, 28, 28) in [0, 1], nearest upsampling (what a phase shows)."""
    x = np.clip(np.asarray(x, dtype=np.float32), -1, 1)
    if resolution != 28:
        x = x.repeat(28 // resolution, axis=2).repeat(28 // resolution, axis=3)
    return (x.reshape(-1, 28, 28) + 1) / 2


def frechet_at(trainer, real_test, resolution, n):
    """FD of n samples vs the test images at the same resolution (both shown at 28x28);
    None when the metrics' feature classifier is not available."""
    from minigen.metrics import features, frechet_distance
    real_test = real_test[:max(n, 100)]              # all 1,000 test images by default
    with mg.no_grad():
        real = real_at(mg.tensor(real_test), resolution).numpy()
    fake = trainer.generate(n, batch=200)
    try:
        return frechet_distance(features(at_28(real, resolution)), features(at_28(fake, resolution)))
    except FileNotFoundError:
        return None


def main(argv=None):
    args = build_parser().parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    started = time.time()
    source = "files" if args.full else "embedded"
    train, test = FashionMNIST("train", source=source), FashionMNIST("test", source=source)
    x_train = to_symmetric(train.images).reshape(-1, 1, 28, 28)
    x_test = to_symmetric(test.images).reshape(-1, 1, 28, 28)
    print(f"data: {len(x_train)} training / {len(x_test)} test images ({train.source})")

    mg.manual_seed(args.seed)
    G = ProGenerator(args.latent_dim, args.channels).to(args.device)
    D = ProDiscriminator(args.channels).to(args.device)
    adam = lambda m: mg.optim.Adam(m.parameters(), lr=args.lr, betas=(0.0, 0.99), eps=1e-8)
    trainer = ProGANTrainer(G, D, adam(G), adam(D))
    schedule = GrowthSchedule(G.resolutions, args.stable_steps, args.fade_steps)
    print("phases: " + ", ".join(f"{name} ({length} steps)" for name, _, length, _ in schedule.phases))

    loader = DataLoader(x_train, args.batch_size, seed=args.seed, drop_last=True, device=args.device)
    loop = Loop(loader, args, steps=schedule.total_steps, state=trainer.state(),
                         desc="progan")
    z_fixed = mg.randn(16, args.latent_dim, device=args.device)
    snapshot_at = set()
    step0 = 0
    for name, r, length, fading in schedule.phases:
        marks = np.linspace(length / args.snapshots, length, args.snapshots).round().astype(int)
        snapshot_at.update(step0 + int(m) for m in marks)
        step0 += length
    snapshots, phase_fd = [], {}
    for real in loop:
        name, r, alpha = schedule.stage(loop.step)
        trainer.set_stage(r, alpha)
        stats = trainer.step(real_at(real, r, alpha))
        loop.log(resolution=r, alpha=alpha, **stats)
        if loop.step in snapshot_at:
            with mg.no_grad():
                snapshots.append((f"{name}\nstep {loop.step}, alpha {alpha:.2f}",
                                  at_28(G(z_fixed).numpy(), r)))
        next_name = schedule.stage(loop.step + 1)[0]
        if next_name != name or loop.step == schedule.total_steps:
            if not name.startswith("fade"):            # FD at the end of each stable phase
                fd = frechet_at(trainer, x_test, r, args.n_samples)
                phase_fd[name] = fd
                print(f"  {name}: FD {fd:.2f}" if fd is not None else f"  {name}: FD skipped")

    paths = {"phases": phase_figure(snapshots, args.snapshots, os.path.join(args.out, "phases.png"))}
    G.set_stage(28, 1.0)
    samples = at_28(trainer.generate(64 if not TINY else 16), 28)
    paths["samples"] = viz.image_grid(samples, os.path.join(args.out, "samples.png"), nrow=8,
                                      title="ProGAN samples at 28x28", value_range=(0, 1))
    np.save(os.path.join(args.out, "samples.npy"), samples.reshape(-1, 1, 28, 28).astype(np.float32))
    paths["curves"] = viz.curves(loop.log_path, os.path.join(args.out, "curves.png"),
                                 keys=["wasserstein", "gp"], smooth=20, separate=True,
                                 title="critic: Wasserstein estimate and gradient penalty")
    results = {"settings": vars(args), "data": train.source, "steps": loop.step,
               "phases": [p[0] for p in schedule.phases], "fd_per_phase": phase_fd,
               "seconds": round(time.time() - started, 1)}
    write_results(args.out, results, paths)
    return results


def phase_figure(snapshots, per_phase, path):
    """One figure: a row per phase, `per_phase` 4x4 sample grids across it (same z)."""
    import matplotlib.pyplot as plt
    rows = int(np.ceil(len(snapshots) / per_phase))
    fig, axes = plt.subplots(rows, per_phase, figsize=(2.4 * per_phase, 2.7 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for i, (label, images) in enumerate(snapshots):
        ax = axes.flat[i]
        ax.imshow(viz.make_grid(images, nrow=4, value_range=(0, 1)).squeeze(-1), cmap="gray",
                  vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(label, fontsize=8)
    fig.suptitle("progressive growing: samples of the same z through every phase")
    return viz.save_figure(fig, path)


if __name__ == "__main__":
    main()
