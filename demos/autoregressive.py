"""Autoregressive models on binarised Fashion-MNIST: exact likelihoods, pixel-by-pixel samples, exact in-painting.

    python demos/autoregressive.py --model made                  # MADE 784-500-784, one mask
    python demos/autoregressive.py --model made --num-masks 8 --order random   # order-agnostic
    python demos/autoregressive.py --model fvsbn                 # one logistic regression per pixel
    python demos/autoregressive.py --model pixelcnn              # masked convolutions (slowest)
    python demos/autoregressive.py --model pixelcnn --gated      # vertical/horizontal stacks

What it does (lecture L6.3, tractable densities):
1. trains the model by maximum likelihood on dynamically binarised training images
   (the same binarisation as demos/vae.py); the loss is the exact NLL, nats per image;
2. reports the exact test NLL on the test images binarised once with seed 0 (the same
   images and numbers as the VAE's IS-NLL rows); for MADE with several masks also the
   ensemble log (1/K) sum_k p_k(x);
3. samples pixel by pixel (timed: seconds per image) and writes a GIF of the filling in;
4. in-paints the bottom half of the first test images of demos/vae_inpainting.py given the
   top half -- an *exact* conditional, since the top half comes first in raster order --
   and reports the MSE on the missing pixels against the mean-image fill;
5. (PixelCNN) draws the receptive field of one pixel from the engine's gradients.
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import minigen as mg                                                    # noqa: E402
from minigen import viz                                                 # noqa: E402
from minigen.models.autoregressive import (FVSBN, MADE, GatedPixelCNN, PixelCNN,  # noqa: E402
                                           bottom_half_missing, receptive_field)
from minigen.models.vae import load_fashion_mnist, make_loader, prepare_test   # noqa: E402
from minigen.models.vae.inpainting import mean_image_fill, missing_mse  # noqa: E402
from minigen.train import Loop, arg_parser, non_negative_int_arg, positive_int_arg, write_results  # noqa: E402

MODELS = ("fvsbn", "made", "pixelcnn")
# default length and batch per model: a few minutes each on 2 cores
DEFAULTS = {"fvsbn": dict(epochs=20, batch_size=128, lr=1e-3),
            "made": dict(epochs=30, batch_size=128, lr=1e-3),
            "pixelcnn": dict(steps=300, batch_size=32, lr=1e-3)}


def build_parser(model="made"):
    p = arg_parser(__doc__.splitlines()[0], out=f"out/autoregressive_{model}", **DEFAULTS[model])
    p.add_argument("--model", choices=MODELS, default="made")
    p.add_argument("--full", action="store_true", help="full Fashion-MNIST files")
    p.add_argument("--hidden", type=positive_int_arg, nargs="+", default=[500], help="MADE hidden widths")
    p.add_argument("--num-masks", type=positive_int_arg, default=1, help="MADE: masks for (order-)agnostic training")
    p.add_argument("--order", choices=("natural", "random"), default="natural", help="MADE input order")
    p.add_argument("--channels", type=positive_int_arg, default=32, help="PixelCNN feature channels")
    p.add_argument("--blocks", type=positive_int_arg, default=4, help="PixelCNN residual blocks (gated: layers)")
    p.add_argument("--gated", action="store_true",
                   help="PixelCNN: the gated version (vertical + horizontal stacks, no blind spot)")
    p.add_argument("--n-samples", type=positive_int_arg, default=None,
                   help="images sampled (default 64; 16 for PixelCNN)")
    p.add_argument("--n-inpaint", type=positive_int_arg, default=None,
                   help="test images in-painted (default 300; 100 for PixelCNN)")
    p.add_argument("--completions", type=positive_int_arg, default=2,
                   help="completions drawn per in-painted image (their probabilities are averaged)")
    p.add_argument("--eval-n", type=positive_int_arg, default=None, help="test images for the NLL (default all)")
    p.add_argument("--vae-baseline", type=non_negative_int_arg, default=0, metavar="EPOCHS",
                   help="also train demos/vae.py's default VAE for EPOCHS epochs (30 there) and "
                        "in-paint the same bottom halves with its pseudo-Gibbs, Metropolis-within-Gibbs "
                        "and latent-search methods (0: skip)")
    return p


def parse(argv):
    first = argparse.ArgumentParser(add_help=False)
    first.add_argument("--model", choices=MODELS, default="made")
    known, _ = first.parse_known_args(argv)
    return build_parser(known.model).parse_args(argv)


def make_model(args):
    if args.model == "fvsbn":
        return FVSBN((1, 28, 28))
    if args.model == "made":
        return MADE(784, hidden=tuple(args.hidden), num_masks=args.num_masks, order=args.order,
                    seed=args.seed, event_shape=(1, 28, 28))
    if args.gated:
        return GatedPixelCNN(28, channels=args.channels, num_layers=args.blocks)
    return PixelCNN(28, channels=args.channels, num_blocks=args.blocks)


def main(argv=None):
    args = parse(argv)
    os.makedirs(args.out, exist_ok=True)
    started = time.time()
    data = load_fashion_mnist(full=args.full)
    images = lambda flat: flat.reshape(-1, 1, 28, 28)                  # noqa: E731
    x_test = images(prepare_test(data.x_test, "bernoulli"))            # binarised once, seed 0
    print(f"data: {len(data.x_train)} training / {len(data.x_test)} test images ({data.source})")

    mg.manual_seed(args.seed)
    model = make_model(args).to(args.device)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"model: {model.__class__.__name__} {model.extra_repr() + ' ' if args.model == 'made' else ''}"
          f"({n_params:,} parameters)")

    # -- training: the exact NLL, one backward ------------------------------------------------
    loader = make_loader(data.x_train, args.batch_size, args.seed, "bernoulli", args.device)
    opt = mg.optim.Adam(model.parameters(), lr=args.lr)
    steps = args.steps if args.steps is not None else args.epochs * len(loader)
    loop = Loop(loader, args, steps=steps, state={"model": model, "optimizer": opt}, desc=args.model)
    for x in loop:
        loss = model.loss(x.reshape(len(x), 1, 28, 28))          # -mean log p(x), nats per image
        opt.zero_grad()
        loss.backward()
        opt.step()
        loop.log(nll=loss)
        if args.model == "made" and model.num_masks > 1:
            model.next_mask()                                    # order-agnostic training
    train_seconds = time.time() - started

    # -- exact test NLL --------------------------------------------------------------------------
    n_eval = min(args.eval_n or len(x_test), len(x_test))
    results = {"settings": vars(args), "data": data.source, "model": args.model,
               "parameters": int(n_params), "steps": loop.step,
               "train_seconds": round(train_seconds, 1), "test_images": n_eval}
    model.eval()
    if args.model == "made":
        model.set_mask(0)
    results["test_nll"] = model.evaluate_nll(x_test[:n_eval])
    print(f"\ntest NLL (exact, {n_eval} images binarised once, seed 0): {results['test_nll']:.2f} nats"
          + (" (mask 0)" if args.model == "made" else ""))
    if args.model == "made" and model.num_masks > 1:
        singles = [model.set_mask(k).evaluate_nll(x_test[:n_eval]) for k in range(model.num_masks)]
        model.set_mask(0)
        results["test_nll_per_mask"] = singles
        results["test_nll_ensemble"] = model.evaluate_nll_ensemble(x_test[:n_eval])
        print(f"  single masks: mean {np.mean(singles):.2f} (from {min(singles):.2f} to {max(singles):.2f}); "
              f"ensemble of {model.num_masks}, log mean_k p_k(x): {results['test_nll_ensemble']:.2f} nats")

    # -- pixel-by-pixel sampling (timed) ---------------------------------------------------------
    paths = {}
    n_samples = args.n_samples or (16 if args.model == "pixelcnn" else 64)
    mg.manual_seed(args.seed)
    t = time.time()
    samples, frames = model.sample(n_samples, frames=30)
    results["sampling_seconds_per_image"] = (time.time() - t) / n_samples
    results["sampling_batch"] = n_samples
    print(f"sampling: {n_samples} images pixel by pixel (784 network passes) in {time.time() - t:.1f} s, "
          f"{results['sampling_seconds_per_image'] * 1e3:.0f} ms per image")
    np.save(os.path.join(args.out, "samples.npy"), samples.astype(np.float32))
    nrow = int(np.ceil(np.sqrt(n_samples)))
    paths["samples"] = viz.image_grid(samples[:, 0], os.path.join(args.out, "samples.png"), nrow=nrow,
                                      value_range=(0, 1), title=f"{args.model}: samples, pixel by pixel")
    paths["sampling gif"] = viz.save_gif([viz.make_grid(f[:, 0], nrow=nrow) for f in frames],
                                         os.path.join(args.out, "sampling.gif"), duration_ms=120)

    # -- exact in-painting of the bottom half --------------------------------------------------
    if args.model == "made" and args.order == "random":
        print("in-painting skipped: the exact conditional p(bottom | top) needs the top half first "
              "in the order (use --order natural)")
    else:
        results.update(inpaint(model, data, args, paths))

    if args.model == "pixelcnn":
        paths["receptive field"] = receptive_field_picture(model, args.out)

    write_results(args.out, results, paths, started=started,
                  files={"samples array": "samples.npy"})
    return results


def inpaint(model, data, args, paths):
    """Bottom half given the top half, on the first test images of demos/vae_inpainting.py
    (binarised once with seed 0); MSE against the grey images on the missing pixels."""
    n = min(args.n_inpaint or (100 if args.model == "pixelcnn" else 300), len(data.x_test))
    truth = data.x_test[:n]
    x = prepare_test(data.x_test[:n], "bernoulli")
    observed = bottom_half_missing(n)
    mg.manual_seed(args.seed)
    t = time.time()
    draws, probs = [], []
    for _ in range(args.completions):
        completed, p = model.complete(x.reshape(n, 1, 28, 28), observed)
        draws.append(completed.reshape(n, -1))
        probs.append(p.reshape(n, -1))
    mean = np.mean(probs, axis=0)                      # estimate of E[x_m | x_o]
    seconds = time.time() - t
    mean_image = data.x_train.mean(axis=0)
    table = {"autoregressive": missing_mse(mean, truth, observed),
             "autoregressive, one binary draw": missing_mse(draws[0], truth, observed),
             "mean image": missing_mse(mean_image_fill(x, observed, mean_image), truth, observed)}
    print(f"in-painting the bottom half given the top ({n} test images, {args.completions} exact "
          f"completions each, {seconds:.0f} s): MSE on the missing pixels "
          f"{table['autoregressive']:.4f} (mean of p(x_d | x_<d) over completions), "
          f"{table['autoregressive, one binary draw']:.4f} (one binary draw); mean image {table['mean image']:.4f}")
    if args.vae_baseline:
        table.update(vae_inpainting(data, x, truth, observed, mean_image, args))
    count = min(8, n)
    rows = [truth[:count], np.where(observed[:count], x[:count], 0.5)] + \
        [d[:count] for d in draws[:2]] + [np.where(observed[:count], x[:count], mean[:count])]
    names = ["original", "observed (top)"] + [f"completion {i + 1}" for i in range(min(2, len(draws)))] + \
        ["mean of p"]
    labels = []
    for name in names:
        labels += [name] + [""] * (count - 1)
    paths["inpainting"] = viz.image_grid(np.concatenate(rows).reshape(-1, 28, 28),
                                         os.path.join(args.out, "inpainting_bottom.png"), nrow=count,
                                         labels=labels, value_range=(0, 1),
                                         title=f"{args.model}: exact p(bottom half | top half)")
    return {"inpainting_mse_bottom": table, "inpainting_images": n,
            "inpainting_completions": args.completions, "inpainting_seconds": round(seconds, 1)}


def vae_inpainting(data, x, truth, observed, mean_image, args):
    """The VAE routes of demos/vae_inpainting.py (its default VAE and settings) on the same
    bottom halves: approximate conditionals, for comparison with the exact one."""
    from minigen.models.vae import VAE, fit
    from minigen.models.vae.inpainting import (latent_optimisation, metropolis_within_gibbs,
                                               pseudo_gibbs)
    mg.manual_seed(args.seed)
    vae = VAE.mlp(latent_dim=20).to(args.device)
    fit(vae, data.x_train, None, out=os.path.join(args.out, "vae"), epochs=args.vae_baseline,
        progress=False, desc="vae")
    mg.manual_seed(args.seed)
    gibbs = pseudo_gibbs(vae, x, observed, 100, 20, init=mean_image)
    mwg, _ = metropolis_within_gibbs(vae, x, observed, 100, 20, init=mean_image)
    latent, _ = latent_optimisation(vae, x, observed, steps=200, init=mean_image)
    table = {f"VAE {name}": missing_mse(guess, truth, observed)
             for name, guess in (("pseudo-Gibbs", gibbs), ("Metropolis-Gibbs", mwg),
                                 ("latent search", latent))}
    print("  VAE on the same bottom halves: " + ", ".join(f"{k[4:]} {v:.4f}" for k, v in table.items()))
    return table


def receptive_field_picture(model, out, row=14, col=14):
    """|d logit(row, col) / d x| of the trained PixelCNN, next to the pixels that come before
    (row, col) in raster order: the gap between the two is the blind spot."""
    import matplotlib.pyplot as plt
    field = receptive_field(model, row, col, n=8)
    before = (np.arange(784) < row * 28 + col).reshape(28, 28)
    fig, axes = plt.subplots(1, 2, figsize=(8, 4))
    axes[0].imshow(np.log10(field + 1e-12), cmap="viridis", vmin=np.log10(field.max()) - 6)
    axes[0].set_title(f"log10 |d logit({row},{col}) / d x|")
    shown = np.where(field > 0, 2, np.where(before, 1, 0))
    axes[1].imshow(shown, cmap="viridis", vmin=0, vmax=2)
    axes[1].set_title("seen (yellow) / before but unseen (blind spot, teal)")
    for ax in axes:
        ax.plot(col, row, "rx")
        ax.set_xticks([])
        ax.set_yticks([])
    return viz.save_figure(fig, os.path.join(out, "receptive_field.png"))


if __name__ == "__main__":
    main()
