"""In-painting missing pixels three ways (lecture L6.1), against a mean-image baseline.

    python demos/vae_inpainting.py                       # embedded subset, a few minutes
    python demos/vae_inpainting.py --load out/vae        # reuse demos/vae.py's model

The same masked test images (binarised once) go through:

  mean image       every missing pixel = the training mean of that pixel (baseline)
  pseudo-Gibbs     iterative sampling: encode, decode, re-impose the observed pixels, repeat
  Metropolis-Gibbs the same chain with an accept/reject step that makes it exact
  direct net       a network trained on randomly masked images predicts the missing pixels
  latent search    gradient ascent on log p(x_observed | z) + log p(z) over z, then decode

for three masks: the centre 14x14 square, the left half, and a random half of the pixels.
The error is the mean squared error between the predicted pixel probability and the grey
test image, over the missing pixels only (lower is better).
"""
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import minigen as mg                                                    # noqa: E402
from minigen import viz                                                 # noqa: E402
from minigen.models.vae import VAE, fit, load_fashion_mnist, load_model, prepare_test  # noqa: E402
from minigen.models.vae.inpainting import (MASKS, InpaintingNet, latent_optimisation,  # noqa: E402
                                           make_mask, mean_image_fill,
                                           metropolis_within_gibbs, missing_mse, pseudo_gibbs,
                                           train_inpainting_net)
from minigen.train import arg_parser, positive_int_arg  # noqa: E402

METHODS = ("mean image", "pseudo-Gibbs", "Metropolis-Gibbs", "direct net", "latent search")


def build_parser():
    p = arg_parser(__doc__.splitlines()[0], epochs=30, batch_size=128, lr=1e-3,
                   out="out/vae_inpainting")
    p.add_argument("--full", action="store_true", help="full Fashion-MNIST files")
    p.add_argument("--load", metavar="DIR_OR_FILE",
                   help="take the VAE from a checkpoint of demos/vae.py (MLP, latent 20) "
                        "instead of training one", may_change_on_resume=True)
    p.add_argument("--latent-dim", type=positive_int_arg, default=20)
    p.add_argument("--n-test", type=positive_int_arg, default=300,
                   help="masked test images per mask", may_change_on_resume=True)
    p.add_argument("--gibbs-steps", type=positive_int_arg, default=100,
                   help="steps of both Gibbs chains", may_change_on_resume=True)
    p.add_argument("--latent-steps", type=positive_int_arg, default=200,
                   help="Adam steps of latent search", may_change_on_resume=True)
    p.add_argument("--net-steps", type=positive_int_arg, default=1500,
                   help="training steps of the direct net", may_change_on_resume=True)
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    started = time.time()
    data = load_fashion_mnist(full=args.full)
    mean_image = data.x_train.mean(axis=0)

    # -- the VAE (trained here, or loaded) and the direct-prediction network -------------------
    mg.manual_seed(args.seed)
    model = VAE.mlp(latent_dim=args.latent_dim)
    if args.load:
        load_model(model, args.load).to(args.device)
        print(f"VAE loaded from {args.load}")
    else:
        fit(model, data.x_train, args, out=os.path.join(args.out, "vae"), desc="vae")
    mg.manual_seed(args.seed)
    net = InpaintingNet().to(args.device)
    train_inpainting_net(net, data.x_train, steps=args.net_steps, batch_size=args.batch_size,
                         lr=args.lr, seed=args.seed, log_every=max(1, args.net_steps // 3))

    # -- the same test images for every mask and method -------------------------------------
    n = min(args.n_test, len(data.x_test))
    truth = data.x_test[:n]                               # grey values: the target
    x = prepare_test(data.x_test[:n], "bernoulli")        # what the models observe (binary)
    rng = np.random.default_rng(args.seed)
    table, paths, extra = {}, {}, {}
    steps, burn = args.gibbs_steps, args.gibbs_steps // 5
    for kind in MASKS:
        observed = make_mask(kind, n, rng)
        mg.manual_seed(args.seed)
        guesses = {"mean image": mean_image_fill(x, observed, mean_image),
                   "pseudo-Gibbs": pseudo_gibbs(model, x, observed, steps, burn, init=mean_image)}
        guesses["Metropolis-Gibbs"], rate = metropolis_within_gibbs(model, x, observed, steps, burn,
                                                                    init=mean_image)
        guesses["direct net"] = net.predict(x, observed)
        guesses["latent search"], _ = latent_optimisation(model, x, observed,
                                                          steps=args.latent_steps, init=mean_image)
        table[kind] = {m: missing_mse(guesses[m], truth, observed) for m in METHODS}
        extra[kind] = {"acceptance_rate": rate}
        paths[kind] = picture(kind, truth, x, observed, guesses, args.out)

    # -- report --------------------------------------------------------------------------------
    print(f"\nmean squared error on the missing pixels ({n} test images per mask; lower is better)")
    print(f"  {'mask':8s}" + "".join(f"{m:>18s}" for m in METHODS))
    for kind in MASKS:
        best = min(table[kind], key=table[kind].get)
        print(f"  {kind:8s}" + "".join(f"{table[kind][m]:>17.4f}{'*' if m == best else ' '}"
                                        for m in METHODS))
    print("  Metropolis-within-Gibbs acceptance rates: " +
          ", ".join(f"{k} {extra[k]['acceptance_rate']:.0%}" for k in MASKS))
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump({"mse_missing": table, "extra": extra, "n_test": n,
                   "settings": vars(args)}, f, indent=1, default=str)
    print("\npictures:")
    for kind, path in paths.items():
        print(f"  {kind:8s} {path}")
    print(f"done in {time.time() - started:.0f} s")
    return table


def picture(kind, truth, x, observed, guesses, out, count=8):
    """Rows: the grey original, what the models observe (binary; missing pixels shown as
    0.5 grey), then each method with the observed pixels pasted back."""
    shown = np.where(observed[:count], x[:count], 0.5)
    rows = [truth[:count], shown]
    for m in METHODS:                      # observed pixels pasted back: only the fill differs
        rows.append(np.where(observed[:count], x[:count], guesses[m][:count]))
    images = np.concatenate(rows).reshape(-1, 28, 28)
    labels = []
    for name in ["original", "observed"] + list(METHODS):
        labels += [name] + [""] * (count - 1)
    return viz.image_grid(images, os.path.join(out, f"inpainting_{kind}.png"), nrow=count,
                          labels=labels, value_range=(0, 1),
                          title=f"in-painting, mask '{kind}' (missing shown grey in row 2)")


if __name__ == "__main__":
    main()
