"""Latent spaces in two dimensions: an autoencoder's against a VAE's (lecture L6.2).

    python demos/vae_latent2d.py              # embedded subset, about two minutes

Both models have the same MLP (784-400-2 and back) and see the same binarised images;
the only difference is the VAE's KL term, which pulls every q(z|x) towards N(0, I).

* ``latent_ae.png`` / ``latent_vae.png``: the codes of the test images, coloured by class.
  The autoencoder puts its codes wherever reconstruction likes them (any scale, gaps
  between classes); the VAE's fill a round blob around 0.
* ``manifold_vae.png``: the decoder on a 15x15 grid of z at the Gaussian quantiles
  (every z in the plot is a likely one under the prior).
* ``manifold_ae.png``: the autoencoder's decoder on a grid spanning its codes.
* ``random_ae.png`` / ``random_vae.png``: decode random points z.  For the VAE, z ~ N(0, I)
  is a sample of the model; for the autoencoder a random point of the region its codes
  occupy often lands in a hole between them and decodes to something no class owns.
  The printed "off-manifold" fraction counts random points that lie farther from every
  training code than 95% of test codes do: the holes, measured.
"""
import os
import sys

import numpy as np
from scipy.stats import norm

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import minigen as mg                                                    # noqa: E402
from minigen import viz                                                 # noqa: E402
from minigen.models.vae import (VAE, Autoencoder, evaluating, fit,      # noqa: E402
                                load_fashion_mnist, prepare_test, sample_metrics)
from minigen.train import arg_parser, positive_int_arg, write_results  # noqa: E402


def build_parser():
    p = arg_parser(__doc__.splitlines()[0], epochs=40, batch_size=128, lr=1e-3,
                   out="out/vae_latent2d")
    p.add_argument("--full", action="store_true", help="full Fashion-MNIST files")
    p.add_argument("--grid", type=positive_int_arg, default=15,
                   help="manifold grid size", may_change_on_resume=True)
    p.add_argument("--n-samples", type=positive_int_arg, default=1000,
                   help="random decodes for the FD/KID of each model", may_change_on_resume=True)
    return p


def nearest_distance(points, codes, batch=2000):
    """Distance from each point to its nearest code (2-D, so a brute-force search is fine)."""
    out = []
    for i in range(0, len(points), batch):
        d2 = ((points[i:i + batch, None, :] - codes[None, :, :]) ** 2).sum(-1)
        out.append(np.sqrt(d2.min(axis=1)))
    return np.concatenate(out)


def decode_points(model, z):
    with evaluating(model):
        zt = mg.tensor(np.asarray(z, dtype=np.float32), device=model.device)
        return viz.to_numpy(model.likelihood.mean(model.decode(zt))).reshape(len(z), 28, 28)


def main(argv=None):
    args = build_parser().parse_args(argv)
    data = load_fashion_mnist(full=args.full)
    x_test = prepare_test(data.x_test, "bernoulli")
    names = [c.split("/")[0] for c in data.classes]
    results, paths = {}, {}

    models = {}
    for kind, cls in (("ae", Autoencoder), ("vae", VAE)):
        mg.manual_seed(args.seed)
        model = cls.mlp(latent_dim=2)
        fit(model, data.x_train, args, out=os.path.join(args.out, kind), desc=kind)
        models[kind] = model
        codes_train = model.latent_means(prepare_test(data.x_train, "bernoulli"))
        codes_test = model.latent_means(x_test)
        paths[f"latent_{kind}"] = viz.latent_scatter(
            codes_test, data.y_test, os.path.join(args.out, f"latent_{kind}.png"), class_names=names,
            title=f"{'autoencoder' if kind == 'ae' else 'VAE'}: test codes {'z' if kind == 'ae' else 'mu(x)'}")

        # "holes": how far do random points fall from the codes of real images?
        rng = np.random.default_rng(args.seed)
        typical = nearest_distance(codes_test, codes_train)
        threshold = np.quantile(typical, 0.95)
        lo, hi = codes_train.min(axis=0), codes_train.max(axis=0)
        n_random = max(2000, args.n_samples)
        random_z = {"N(0, I)": rng.standard_normal((n_random, 2)),
                    "uniform box": lo + (hi - lo) * rng.random((n_random, 2))}
        spread = codes_train.std(axis=0)
        results[kind] = {"code_mean": [round(float(v), 2) for v in codes_train.mean(axis=0)],
                         "code_std": [round(float(v), 2) for v in spread]}
        for name, z in random_z.items():
            off = float((nearest_distance(z, codes_train) > threshold).mean())
            results[kind][f"off_manifold {name}"] = off

        # pictures of the decoder
        g = args.grid
        if kind == "vae":           # Gaussian quantiles: equal prior mass between grid points
            ticks = norm.ppf(np.linspace(0.05, 0.95, g))
            ticks_y = ticks
        else:                       # the box the autoencoder's codes occupy
            ticks, ticks_y = np.linspace(lo[0], hi[0], g), np.linspace(lo[1], hi[1], g)
        zz = np.array([[a, b] for b in ticks_y[::-1] for a in ticks])
        paths[f"manifold_{kind}"] = viz.image_grid(
            decode_points(model, zz), os.path.join(args.out, f"manifold_{kind}.png"), nrow=g,
            value_range=(0, 1), title=(f"VAE decoder on the N(0,I) quantile grid" if kind == "vae"
                                       else "autoencoder decoder on a grid over its codes' box"))
        shown = random_z["N(0, I)"] if kind == "vae" else random_z["uniform box"]
        images = decode_points(model, shown[:64])
        paths[f"random_{kind}"] = viz.image_grid(
            images, os.path.join(args.out, f"random_{kind}.png"), nrow=8, value_range=(0, 1),
            title=("VAE: decode z ~ N(0, I)" if kind == "vae"
                   else "autoencoder: decode random points of its code box"))
        many = decode_points(model, shown[:args.n_samples])
        quality, why_not = sample_metrics(many, data.x_test, seed=args.seed)
        if quality is not None:
            results[kind]["fd_random_decodes"] = quality["fd"]
            results[kind]["kid_random_decodes"] = quality["kid"]

    print("\ncodes of the training images (mean, std per axis) and random points in holes:")
    for kind, r in results.items():
        label = "autoencoder" if kind == "ae" else "VAE"
        line = (f"  {label:12s} mean {r['code_mean']}, std {r['code_std']}; off-manifold: "
                f"N(0,I) {r['off_manifold N(0, I)']:.0%}, uniform box {r['off_manifold uniform box']:.0%}")
        if "fd_random_decodes" in r:
            line += f"; FD of {args.n_samples} random decodes {r['fd_random_decodes']:.1f}"
        print(line)
    if "fd_random_decodes" not in results["vae"]:
        print("  (FD/KID of the random decodes skipped: the metrics feature classifier is not available)")
    write_results(args.out, {**results, "settings": vars(args)}, paths)
    return results


if __name__ == "__main__":
    main()
