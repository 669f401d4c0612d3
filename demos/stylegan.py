"""StyleGAN ideas on Fashion-MNIST at 28x28: mapping network, constant input, AdaIN, noise,
style mixing, the truncation trick, and how disentangled w is compared with z.

    python demos/stylegan.py                       # embedded subset, a few minutes on 2 cores
    python demos/stylegan.py --steps 5000 --full

What it does (lecture L6.4, Karras et al. 2019; see minigen/models/gan/style.py):
1. trains the style-based generator (4-layer mapping network at a 100x lower learning
   rate, learned 7x7 constant, 6 AdaIN layers with noise, mixing regularisation) against
   ProGAN's discriminator with the non-saturating loss and R1 (part 1's GANTrainer);
2. style mixing figure: row i takes its coarse styles (layers < --crossover) from source
   A_i, column j its fine styles from source B_j;
3. truncation: a figure over psi in {0, .25, .5, .75, 1} (same z per row) and a table of
   FD / precision / recall against psi (the quality-diversity trade-off);
4. disentanglement: a linear probe (multinomial logistic regression) predicts the class
   that the metrics classifier gives each generated image, from z and from w = f(z);
   held-out accuracy in each space (a more linear W gives a higher accuracy).
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import minigen as mg                                                    # noqa: E402
from minigen import viz                                                 # noqa: E402
from minigen.data import DataLoader, FashionMNIST                       # noqa: E402
from minigen.data.transforms import to_symmetric                        # noqa: E402
from minigen.models.gan import GANTrainer                               # noqa: E402
from minigen.models.gan.progan import ProDiscriminator                  # noqa: E402
from minigen.models.gan.style import StyleGenerator                     # noqa: E402
from minigen.train import (Loop, arg_parser, non_negative_float_arg,   # noqa: E402
                           positive_int_arg, write_results)

TINY = bool(os.environ.get("MINIGEN_TINY"))
PSIS = (0.0, 0.25, 0.5, 0.75, 1.0)


def probability_arg(text):
    """``type=`` for a probability in [0, 1]."""
    value = non_negative_float_arg(text)
    if value > 1:
        raise argparse.ArgumentTypeError(f"value must be in [0, 1], got {text}")
    return value


def build_parser():
    p = arg_parser(__doc__.splitlines()[0], steps=4 if TINY else 600, batch_size=16, lr=1e-3,
                   out="out/stylegan")
    p.add_argument("--full", action="store_true", help="the full Fashion-MNIST files")
    p.add_argument("--latent-dim", type=positive_int_arg, default=32, help="size of z and of w")
    p.add_argument("--mapping-layers", type=positive_int_arg, default=4)
    p.add_argument("--channels", type=positive_int_arg, nargs=3,
                   default=(8, 4, 4) if TINY else (32, 16, 8), metavar=("C7", "C14", "C28"))
    p.add_argument("--r1", type=non_negative_float_arg, default=1.0,
                   help="gamma of the R1 penalty")
    p.add_argument("--mixing-prob", type=probability_arg, default=0.9,
                   help="mixing regularisation: probability that a batch mixes two latents")
    p.add_argument("--crossover", type=positive_int_arg, default=2, may_change_on_resume=True,
                   help="style layers (of 6) taken from the coarse source in the mixing figure")
    p.add_argument("--n-samples", type=positive_int_arg, default=24 if TINY else 1000,
                   may_change_on_resume=True, help="samples per psi for FD / precision / recall")
    p.add_argument("--n-probe", type=positive_int_arg, default=60 if TINY else 3000,
                   may_change_on_resume=True,
                   help="generated images for the z-vs-w linear probe")
    return p


def to_unit(x):
    """G's output (N, 1, 28, 28) around [-1, 1] -> [0, 1], clipped."""
    return np.clip((np.asarray(x, dtype=np.float32) + 1) / 2, 0, 1)


def generate(G, n, psi=1.0, batch=200):
    """n images in [0, 1] of the (eval-mode) generator with truncation psi."""
    out = []
    with mg.no_grad():
        for i in range(0, n, batch):
            z = mg.randn(min(batch, n - i), G.latent_dim, device=G.constant.device)
            out.append(to_unit(G(z, psi=psi).numpy()))
    return np.concatenate(out)


def truncation_table(G, x_test, n, seed):
    """FD / precision / recall / classes covered of n samples per psi, against the test images."""
    from minigen.metrics import evaluate_images
    rows = {}
    for psi in PSIS:
        mg.manual_seed(seed + 1)                 # the same z for every psi
        fake = generate(G, n, psi)
        m = evaluate_images(fake, real=x_test, value_range=(0, 1),
                            kid_subset_size=max(2, min(1000, n // 2, len(x_test) // 2)))
        rows[psi] = {k: float(m[k]) for k in ("fd", "precision", "recall", "classes_covered")}
        print(f"  psi {psi:4.2f}: FD {rows[psi]['fd']:7.2f}  precision {rows[psi]['precision']:.3f}  "
              f"recall {rows[psi]['recall']:.3f}  classes {rows[psi]['classes_covered']:.0f}/10")
    return rows


def linear_probe(G, n, seed):
    """Held-out accuracy of a linear classifier of the image's (predicted) class from z and from w."""
    from minigen.metrics import predict
    from minigen.models.classic.logistic_regression import LogisticRegression
    mg.manual_seed(seed + 2)
    z = mg.randn(n, G.latent_dim, device=G.constant.device)
    with mg.no_grad():
        w = G.mapping(z)
        images = to_unit(G.synthesis(w).numpy())
    labels = predict(images, value_range=(0, 1))
    split = int(0.7 * n)
    result = {"n": n, "majority_baseline": float(np.bincount(labels[split:]).max() / (n - split))}
    for name, feats in (("z", z.numpy()), ("w", w.numpy())):
        feats = (feats - feats[:split].mean(0)) / (feats[:split].std(0) + 1e-8)   # same footing
        probe = LogisticRegression(lr=0.01, n_epochs=30, random_state=seed)
        probe.fit(feats[:split], labels[:split])
        result[f"accuracy_{name}"] = float(probe.accuracy(feats[split:], labels[split:]))
    return result


def mixing_figure(G, crossover, path, rows=5, cols=6, seed=0):
    """The classic figure: sources A (left column) give layers < crossover, B (top row) the rest."""
    import matplotlib.pyplot as plt
    mg.manual_seed(seed + 3)
    za, zb = mg.randn(rows, G.latent_dim), mg.randn(cols, G.latent_dim)
    noise = G.make_noise(1)
    with mg.no_grad():
        one = lambda z1, z2, k: to_unit(G.mix(z1[None], z2[None], k, noise=noise).numpy())[0, 0]
        a_img = [one(za[i], za[i], G.num_styles) for i in range(rows)]
        b_img = [one(zb[j], zb[j], G.num_styles) for j in range(cols)]
        cells = [[one(za[i], zb[j], crossover) for j in range(cols)] for i in range(rows)]
    fig, axes = plt.subplots(rows + 1, cols + 1, figsize=(1.2 * (cols + 1), 1.2 * (rows + 1)))
    for ax in axes.flat:
        ax.axis("off")
    show = lambda ax, img: ax.imshow(img, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    for j in range(cols):
        show(axes[0, j + 1], b_img[j])
        axes[0, j + 1].set_title(f"B{j}", fontsize=7)
    for i in range(rows):
        show(axes[i + 1, 0], a_img[i])
        axes[i + 1, 0].set_title(f"A{i}", fontsize=7)
        for j in range(cols):
            show(axes[i + 1, j + 1], cells[i][j])
    fig.suptitle(f"style mixing: layers 0-{crossover - 1} (coarse) from A, "
                 f"{crossover}-{G.num_styles - 1} (fine) from B", fontsize=9)
    return viz.save_figure(fig, path)


def truncation_figure(G, path, rows=6, seed=0):
    mg.manual_seed(seed + 4)
    z = mg.randn(rows, G.latent_dim)
    noise = G.make_noise(rows)
    with mg.no_grad():
        w = G.mapping(z)
        images = [to_unit(G.synthesis(G.truncate(w, psi), noise).numpy()) for psi in PSIS]
    grid = np.stack(images, axis=1).reshape(-1, 1, 28, 28)          # row: one z, column: psi
    return viz.image_grid(grid, path, nrow=len(PSIS), value_range=(0, 1),
                          title="truncation w_avg + psi (w - w_avg), psi = " +
                                ", ".join(f"{p:g}" for p in PSIS) + " (left to right)")


def main(argv=None):
    args = build_parser().parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    started = time.time()
    source = "files" if args.full else "embedded"
    train, test = FashionMNIST("train", source=source), FashionMNIST("test", source=source)
    x_train = to_symmetric(train.images).reshape(-1, 1, 28, 28)
    x_test = test.images.astype(np.float32) / 255
    print(f"data: {len(x_train)} training / {len(x_test)} test images ({train.source})")

    mg.manual_seed(args.seed)
    G = StyleGenerator(args.latent_dim, args.latent_dim, args.channels, args.mapping_layers,
                       mixing_prob=args.mixing_prob).to(args.device)
    D = ProDiscriminator(args.channels).to(args.device)
    adam = lambda m: mg.optim.Adam(m.parameters(), lr=args.lr, betas=(0.0, 0.99), eps=1e-8)
    trainer = GANTrainer(G, D, adam(G), adam(D), loss="nonsaturating", r1_weight=args.r1)
    print(f"G: mapping {args.mapping_layers} x {args.latent_dim} (lr x 0.01), constant "
          f"{args.channels[0]}x7x7, {G.num_styles} AdaIN + noise layers; "
          f"{sum(p.numel() for p in G.parameters()):,} parameters; D: ProGAN's at 28x28")
    loader = DataLoader(x_train, args.batch_size, seed=args.seed, drop_last=True, device=args.device)
    loop = Loop(loader, args, state=trainer.state(), desc="stylegan")
    for real in loop:
        loop.log(**trainer.step(real))
    G.eval()
    train_seconds = time.time() - started

    paths = {}
    samples = generate(G, 64)
    np.save(os.path.join(args.out, "samples.npy"), generate(G, args.n_samples).astype(np.float32))
    paths["samples"] = viz.image_grid(samples, os.path.join(args.out, "samples.png"), nrow=8,
                                      value_range=(0, 1), title="StyleGAN samples (psi = 1)")
    paths["mixing"] = mixing_figure(G, args.crossover, os.path.join(args.out, "mixing.png"),
                                    seed=args.seed)
    paths["truncation"] = truncation_figure(G, os.path.join(args.out, "truncation.png"),
                                            seed=args.seed)
    paths["curves"] = viz.curves(loop.log_path, os.path.join(args.out, "curves.png"),
                                 keys=["d_loss", "g_loss", "r1"], smooth=20, separate=True,
                                 title="non-saturating GAN with R1")
    print(f"\ntruncation (n = {args.n_samples} samples per psi vs {len(x_test)} test images):")
    table = truncation_table(G, x_test, args.n_samples, args.seed)
    probe = linear_probe(G, args.n_probe, args.seed)
    print(f"\nlinear probe of the class ({probe['n']} images, 30 % held out): accuracy from z "
          f"{probe['accuracy_z']:.3f}, from w {probe['accuracy_w']:.3f} (majority class "
          f"{probe['majority_baseline']:.3f})")

    results = {"settings": vars(args), "data": train.source, "steps": loop.step,
               "train_seconds": round(train_seconds, 1), "truncation": table,
               "linear_probe": probe, "seconds": round(time.time() - started, 1)}
    write_results(args.out, results, paths)
    return results


if __name__ == "__main__":
    main()
