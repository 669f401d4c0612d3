"""Representation learning (lecture L6.1): are a VAE's latent means good features?

    python demos/vae_representation.py                   # embedded subset, latent 20
    python demos/vae_representation.py --load out/vae    # reuse demos/vae.py's model

The VAE never sees a label.  We compare three unsupervised representations of the same
images, each with the same two probes trained on the training set and scored on the
test set:

    VAE latent means mu(x)            d numbers per image
    autoencoder codes z = enc(x)      d numbers (same MLP, no KL)
    PCA, first d components           d numbers (the linear answer, L6.2)
    raw pixels                        784 numbers

    linear probe:  softmax regression on standardised features (test accuracy)
    k-NN:          majority vote of the 5 nearest training points (test accuracy)
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import minigen as mg                                                    # noqa: E402
from minigen import viz                                                 # noqa: E402
from minigen.models.classic import PCA                                  # noqa: E402
from minigen.models.vae import (VAE, Autoencoder, fit, load_fashion_mnist,  # noqa: E402
                                load_model, prepare_test)
from minigen.models.vae.representation import knn_accuracy, linear_probe_accuracy  # noqa: E402
from minigen.train import arg_parser, positive_int_arg  # noqa: E402


def build_parser():
    p = arg_parser(__doc__.splitlines()[0], epochs=30, batch_size=128, lr=1e-3,
                   out="out/vae_representation")
    p.add_argument("--full", action="store_true", help="full Fashion-MNIST files")
    p.add_argument("--load", metavar="DIR_OR_FILE",
                   help="take the VAE from a demos/vae.py checkpoint (MLP, same --latent-dim)",
                   may_change_on_resume=True)
    p.add_argument("--latent-dim", type=positive_int_arg, default=20)
    p.add_argument("--probe-epochs", type=positive_int_arg, default=20,
                   help="epochs of the linear probe", may_change_on_resume=True)
    p.add_argument("--knn", type=positive_int_arg, default=5,
                   help="neighbours of the k-NN probe", may_change_on_resume=True)
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    started = time.time()
    data = load_fashion_mnist(full=args.full)
    d = args.latent_dim
    # the encoders were trained on binary images; give them the same kind of input
    x_train_b = prepare_test(data.x_train, "bernoulli", seed=1)
    x_test_b = prepare_test(data.x_test, "bernoulli")

    mg.manual_seed(args.seed)
    vae = VAE.mlp(latent_dim=d)
    if args.load:
        load_model(vae, args.load).to(args.device)
        print(f"VAE loaded from {args.load}")
    else:
        fit(vae, data.x_train, args, out=os.path.join(args.out, "vae"), desc="vae")
    mg.manual_seed(args.seed)
    ae = Autoencoder.mlp(latent_dim=d)
    fit(ae, data.x_train, args, out=os.path.join(args.out, "ae"), desc="autoencoder")
    pca = PCA(d).fit(data.x_train)

    features = {
        f"VAE mu(x), d={d}": (vae.latent_means(x_train_b), vae.latent_means(x_test_b)),
        f"autoencoder z, d={d}": (ae.latent_means(x_train_b), ae.latent_means(x_test_b)),
        f"PCA, d={d}": (pca.transform(data.x_train), pca.transform(data.x_test)),
        "raw pixels, d=784": (data.x_train, data.x_test),
    }
    table = {}
    for name, (f_train, f_test) in features.items():
        table[name] = {
            "linear_probe": linear_probe_accuracy(f_train, data.y_train, f_test, data.y_test,
                                                  epochs=args.probe_epochs, seed=args.seed),
            "knn": knn_accuracy(f_train, data.y_train, f_test, data.y_test, k=args.knn)}

    print(f"\ntest accuracy of probes ({len(data.x_train)} training / {len(data.x_test)} test images; "
          f"labels used only by the probes)")
    print(f"  {'representation':24s} {'linear probe':>12s} {f'{args.knn}-NN':>8s}")
    for name, r in table.items():
        print(f"  {name:24s} {r['linear_probe']:12.3f} {r['knn']:8.3f}")
    path = viz.latent_scatter(features[f"VAE mu(x), d={d}"][1], data.y_test,
                              os.path.join(args.out, "latent_means.png"),
                              class_names=[c.split("/")[0] for c in data.classes],
                              title=f"VAE latent means of the test set (first 2 PCs of {d})")
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump({"accuracy": table, "settings": vars(args)}, f, indent=1, default=str)
    print(f"\npictures:\n  latent means   {path}")
    print(f"done in {time.time() - started:.0f} s")
    return table


if __name__ == "__main__":
    main()
