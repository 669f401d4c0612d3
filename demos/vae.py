"""A variational autoencoder on Fashion-MNIST: train it, measure it, look at it.

    python demos/vae.py                       # embedded subset, MLP 784-400-20, a few minutes
    python demos/vae.py --full --epochs 10    # the full 60,000 images (installed files)
    python demos/vae.py --objective iwae --k 5       # train the IWAE bound instead
    python demos/vae.py --arch conv --likelihood gaussian --beta 4 ...

What it does (lectures L6.1-L6.3):
1. trains q(z|x) and p(x|z) by maximising the ELBO (or the IWAE bound) on dynamically
   binarised images: every step draws z = mu + exp(logvar/2) * eps and calls backward();
2. reports on the test set, in nats per image:
       ELBO = -(reconstruction + KL)     (one sample, analytic KL)
       log p(x) ~= logsumexp_k log w_k - log k   (importance sampling, --eval-k samples)
3. draws pictures: prior samples, reconstructions, interpolations between test images,
   a traversal of the most used latent dimensions, training curves;
4. computes the Frechet distance / KID of samples when the metrics feature classifier
   is available.
"""
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import minigen as mg                                                    # noqa: E402
import minigen.functional as F                                          # noqa: E402
from minigen import viz                                                 # noqa: E402
from minigen.metrics import dequantized_nll, bits_per_dim               # noqa: E402
from minigen.models.vae import (VAE, evaluating, load_fashion_mnist, prepare_test,   # noqa: E402
                                sample_metrics)
from minigen.train import Loop, arg_parser, non_negative_float_arg, positive_int_arg, write_results  # noqa: E402
from minigen.models.vae.training import make_loader                     # noqa: E402


def build_parser():
    p = arg_parser(__doc__.splitlines()[0], epochs=30, batch_size=128, lr=1e-3, out="out/vae")
    p.add_argument("--full", action="store_true",
                   help="use the full Fashion-MNIST files instead of the embedded subset")
    p.add_argument("--arch", choices=("mlp", "conv"), default="mlp")
    p.add_argument("--likelihood", choices=("bernoulli", "gaussian"), default="bernoulli")
    p.add_argument("--latent-dim", type=positive_int_arg, default=20)
    p.add_argument("--hidden", type=positive_int_arg, default=400, help="MLP hidden units")
    p.add_argument("--objective", choices=("elbo", "iwae"), default="elbo")
    p.add_argument("--k", type=positive_int_arg, default=1,
                   help="importance samples of the IWAE objective")
    p.add_argument("--beta", type=non_negative_float_arg, default=1.0, help="KL weight (beta-VAE)")
    p.add_argument("--eval-k", type=positive_int_arg, default=1000,
                   help="samples of the log p(x) estimate", may_change_on_resume=True)
    p.add_argument("--eval-n", type=positive_int_arg, default=None,
                   help="test images for the log p(x) estimate (default: all)",
                   may_change_on_resume=True)
    p.add_argument("--n-samples", type=positive_int_arg, default=None,
                   help="generated images for FD/KID (default: as many as test images)",
                   may_change_on_resume=True)
    p.add_argument("--trace", action="store_true",
                   help="print the graph of one ELBO (reparameterisation included) with the "
                        "gradient flowing through every node, and draw it (elbo_graph.dot/.png)")
    return p


def as_images(x):
    """(N, 784) or (N, 1, 28, 28) arrays / Tensors -> (N, 28, 28) NumPy for the pictures."""
    x = viz.to_numpy(x)
    return x.reshape(len(x), 28, 28)


def main(argv=None):
    args = build_parser().parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    started = time.time()

    # -- data: grey images in [0, 1]; binarised (Bernoulli) or dequantised (Gaussian) ------
    data = load_fashion_mnist(full=args.full)
    x_test = prepare_test(data.x_test, args.likelihood)          # fixed once, seed 0
    print(f"data: {len(data.x_train)} training / {len(data.x_test)} test images ({data.source})")

    # -- model --------------------------------------------------------------------------------
    mg.manual_seed(args.seed)
    build = VAE.mlp if args.arch == "mlp" else VAE.conv
    extra = {"hidden": args.hidden} if args.arch == "mlp" else {}
    model = build(latent_dim=args.latent_dim, likelihood=args.likelihood, beta=args.beta, **extra)
    model.to(args.device)
    n_params = sum(p.numel() for p in model.parameters())
    what = "ELBO" if args.objective == "elbo" else f"IWAE bound, k={args.k}"
    print(f"model: {args.arch} VAE, latent {args.latent_dim}, {args.likelihood} decoder, "
          f"{n_params:,} parameters; objective {what}" + (f", beta {args.beta}" if args.beta != 1 else ""))

    # -- training: the step in plain sight ---------------------------------------------------
    loader = make_loader(data.x_train, args.batch_size, args.seed, args.likelihood, args.device)
    opt = mg.optim.Adam(model.parameters(), lr=args.lr)
    steps = args.steps if args.steps is not None else args.epochs * len(loader)
    loop = Loop(loader, args, steps=steps, state={"model": model, "optimizer": opt}, desc="vae")
    for x in loop:
        if args.objective == "elbo":
            terms = model.elbo(x)                 # reconstruction + beta * KL, per image
            loss, stats = terms.loss, terms.summary()
        else:
            bound = model.iwae_bound(x, args.k)   # logsumexp_k log w_k - log k, per image
            loss = -bound.mean()
            stats = {"loss": loss, f"iwae{args.k}": -loss.item()}
        opt.zero_grad()
        loss.backward()                           # every gradient from the graph
        opt.step()
        loop.log(**stats)
    train_seconds = time.time() - started

    # -- numbers on the test set -------------------------------------------------------------
    results = {"settings": {k: v for k, v in vars(args).items()}, "data": data.source,
               "train_images": len(data.x_train), "test_images": len(data.x_test),
               "steps": loop.step, "train_seconds": round(train_seconds, 1)}
    elbo = model.evaluate_elbo(x_test)
    results.update(test_elbo=float(elbo["elbo"].mean()),
                   test_reconstruction=float(elbo["reconstruction"].mean()),
                   test_kl=float(elbo["kl"].mean()))
    n_eval = min(args.eval_n or len(x_test), len(x_test))
    t = time.time()
    log_px = model.log_likelihood(x_test[:n_eval], k=args.eval_k)
    results.update(test_is_nll=float(-log_px.mean()), is_k=args.eval_k, is_images=n_eval,
                   is_nll_stderr=float(log_px.std(ddof=1) / np.sqrt(n_eval)) if n_eval > 1 else None,
                   is_seconds=round(time.time() - t, 1))
    mu = model.latent_means(x_test)
    results["active_units"] = int((mu.var(axis=0) > 0.01).sum())   # Burda et al.'s count

    unit = "nats"
    print(f"\ntest set ({len(x_test)} images, {'binarised' if args.likelihood == 'bernoulli' else 'dequantised'} once, seed 0):")
    print(f"  ELBO       {results['test_elbo']:9.2f} {unit} = -(reconstruction "
          f"{results['test_reconstruction']:.2f} + KL {results['test_kl']:.2f})")
    print(f"  log p(x) ~ {-results['test_is_nll']:9.2f} {unit}  (importance sampling, k={args.eval_k}, "
          f"{n_eval} images, +- {results['is_nll_stderr'] or 0:.2f})   NLL = {results['test_is_nll']:.2f}")
    if args.likelihood == "gaussian":       # a density of dequantised pixels -> discrete NLL
        nll_discrete = dequantized_nll(results["test_is_nll"], 784)
        results["test_is_nll_discrete"] = float(nll_discrete)
        results["bits_per_dim"] = bits_per_dim(nll_discrete, 784)
        print(f"  as 8-bit images: NLL {nll_discrete:.1f} nats = {results['bits_per_dim']:.3f} bits/dim")
    print(f"  active latent units (Var_x E[z_j|x] > 0.01): {results['active_units']} of {args.latent_dim}")

    # -- pictures --------------------------------------------------------------------------
    paths = {}
    rows = viz.read_csv_log(loop.log_path)
    curve_key = "elbo" if args.objective == "elbo" else f"iwae{args.k}"
    if curve_key in rows:
        paths["curves"] = viz.curves(loop.log_path, os.path.join(args.out, "curves.png"),
                                     keys=[curve_key] + (["kl"] if "kl" in rows else []),
                                     smooth=20, separate=True, title="training (nats per image)")
    samples = model.generate(64)
    paths["samples"] = viz.image_grid(as_images(samples), os.path.join(args.out, "samples.png"),
                                      nrow=8, title="samples: decode z ~ N(0, I)", value_range=(0, 1))
    originals = x_test[:10]
    recon = model.reconstruct(originals)
    paths["reconstructions"] = viz.image_grid(
        np.concatenate([as_images(data.x_test[:10]), as_images(originals), as_images(recon)]),
        os.path.join(args.out, "reconstructions.png"), nrow=10, value_range=(0, 1),
        title="test images: grey, as the model sees them, reconstructed (mean of p(x | z = mu(x)))")
    paths["interpolation"] = interpolation(model, x_test, data.y_test, args.out)
    paths["traversal"] = traversal(model, x_test, elbo, args.out)

    # -- sample quality (when the metrics' feature classifier is there) ----------------------
    n_samples = args.n_samples or len(x_test)
    fake = np.concatenate([viz.to_numpy(model.generate(min(1000, n_samples - i)))
                           for i in range(0, n_samples, 1000)])
    quality, why_not = sample_metrics(fake, data.x_test, seed=args.seed)
    if quality is None:
        print(f"  FD/KID skipped ({why_not})")
    else:
        results.update(quality)
        print(f"  samples vs test images ({n_samples} each): FD {quality['fd']:.2f}, KID "
              f"{quality['kid']:.4f} +- {quality['kid_std']:.4f}, precision {quality['precision']:.2f}, "
              f"recall {quality['recall']:.2f}, classes covered {quality['classes_covered']}/10")

    if args.trace:
        paths.update(trace_elbo(model, x_test[:4], args.out))

    write_results(args.out, results, paths, started=started)
    return results


def interpolation(model, x_test, y_test, out, pairs=5, steps=10):
    """Decode the straight line between the latent means of two test images of different classes."""
    rng = np.random.default_rng(0)
    rows = []
    with evaluating(model):
        for _ in range(pairs):
            i, j = rng.choice(len(x_test), 2, replace=False)
            while y_test[i] == y_test[j]:
                j = rng.integers(len(x_test))
            mu, _ = model.encode(x_test[[i, j]])
            a, b = mu.numpy()
            t = np.linspace(0, 1, steps)[:, None]
            z = mg.tensor(((1 - t) * a + t * b).astype(np.float32), device=model.device)
            rows.append(as_images(model.likelihood.mean(model.decode(z))))
    return viz.interpolation_strip(np.stack(rows), os.path.join(out, "interpolation.png"),
                                   value_range=(0, 1),
                                   title="interpolation: decode (1 - t) mu(x_a) + t mu(x_b)")


def traversal(model, x_test, elbo, out, dims=8, steps=9):
    """Change one latent coordinate at a time (from -3 to 3) around the code of a test image;
    the coordinates shown are those with the largest average KL (the ones in use)."""
    with evaluating(model):
        mu, logvar = model.encode(x_test[:2000])
        kl_per_dim = F.kl_normal(mu, logvar, reduction="none").numpy().mean(axis=0)   # (d,)
        order = np.argsort(-kl_per_dim)[:min(dims, model.latent_dim)]
        base = mu.numpy()[0]
        rows = []
        for j in order:
            z = np.repeat(base[None], steps, axis=0)
            z[:, j] = np.linspace(-3, 3, steps)
            zt = mg.tensor(z.astype(np.float32), device=model.device)
            rows.append(as_images(model.likelihood.mean(model.decode(zt))))
    labels = [f"z{j} (KL {kl_per_dim[j]:.1f})" for j in order]
    return viz.interpolation_strip(np.stack(rows), os.path.join(out, "traversal.png"),
                                   value_range=(0, 1), row_labels=labels,
                                   title="traversal: one latent coordinate from -3 to 3")


def trace_elbo(model, x, out):
    """One ELBO of four test images, seen node by node: the Exp and Mul of
    z = mu + exp(0.5 logvar) * eps sit between the encoder's Linear and the decoder's."""
    from minigen import inspection
    with inspection.record():
        loss = model.elbo(x).loss
    graph = inspection.to_dot(loss, os.path.join(out, "elbo_graph"), names=model,
                           title="one ELBO: encoder -> reparameterisation -> decoder, KL")
    print("\nthe graph of one ELBO (4 test images), in the order backward visits it:")
    inspection.trace(loss, names=model, backward=True, limit=None)
    model.zero_grad()
    return {"elbo graph": graph.png_path or graph.dot_path}


if __name__ == "__main__":
    main()
