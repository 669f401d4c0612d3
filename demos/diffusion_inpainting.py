"""In-painting with a diffusion model (RePaint) on the VAE in-painting demo's masks and images.

    python demos/diffusion_inpainting.py --load out/ddpm      # the U-Net of demos/ddpm.py
    python demos/diffusion_inpainting.py                      # trains a small one first
    python demos/diffusion_inpainting.py --sample-steps 250 --jump-length 10 --resample 10

The same three masks (centre 14x14, left half, a random half of the pixels), drawn with
the same seed in the same order, on the same first 300 test images as
demos/vae_inpainting.py; the same error: the mean squared error against the grey test
image over the missing pixels only.  The diffusion model observes the *grey* known
pixels (it models grey images); the VAE demo's models observe them binarised.

RePaint (Lugmayr et al. 2022): every reverse step the known pixels are replaced by their
forward-noised version; every ``--jump-length`` steps the walk goes back up that many
steps and denoises again (``--resample`` times), to harmonise the seam.  The loop runs
on ``--sample-steps`` S kept steps (S = T is the paper's setting; see the module).
Beside it, on the same images, masks and S: the plain *replacement* method (the known
pixels replaced by their noised version every step, no jumps back: ``resample`` 1),
S network calls per image -- what RePaint's resampling adds is measured against it.
Every step clips its x̂_0 estimate to the image range [−1, 1] (see minigen.models.diffusion.ddim).
"""
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import minigen as mg                                                        # noqa: E402
from minigen import viz                                                     # noqa: E402
from minigen.models.diffusion import (UNet, make_schedule, network_calls,  # noqa: E402
                                      repaint)
from minigen.models.vae import load_fashion_mnist                           # noqa: E402
from minigen.models.vae.inpainting import MASKS, make_mask, mean_image_fill, missing_mse  # noqa: E402
from minigen.train import CHECKPOINT_NAME, arg_parser, positive_int_arg, write_results  # noqa: E402


def build_parser():
    p = arg_parser(__doc__.splitlines()[0], steps=200, batch_size=64, lr=1e-3,
                   out="out/diffusion_inpainting")
    p.add_argument("--full", action="store_true", help="full Fashion-MNIST files")
    p.add_argument("--load", metavar="DIR", help="a demos/ddpm.py output folder (checkpoint.npz, args.json)")
    p.add_argument("--n-test", type=positive_int_arg, default=300, help="masked test images per mask")
    p.add_argument("--sample-steps", type=positive_int_arg, default=50, help="S kept steps of the reverse walk")
    p.add_argument("--jump-length", type=positive_int_arg, default=5)
    p.add_argument("--resample", type=positive_int_arg, default=3)
    p.add_argument("--channels", type=positive_int_arg, default=16, help="U-Net width when training one here")
    p.add_argument("--vae-results", default="out/vae_inpainting/results.json",
                   help="results.json of demos/vae_inpainting.py, to print one table")
    return p


def load_unet(folder, device):
    """The EMA weights of a demos/ddpm.py run, in a U-Net built from its args.json."""
    with open(os.path.join(folder, "args.json")) as f:
        train_args = json.load(f)
    model = UNet(channels=train_args["channels"], blocks=train_args["blocks"],
                 attention=train_args["attention"])
    checkpoint = mg.load(os.path.join(folder, CHECKPOINT_NAME))
    model.load_state_dict(checkpoint["state"]["model"])
    ema = mg.optim.EMA(model)
    ema.load_state_dict(checkpoint["state"]["ema"])
    ema.copy_to()
    schedule = make_schedule(train_args["schedule"], train_args["T"])
    return model.to(device), schedule


def main(argv=None):
    args = build_parser().parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    started = time.time()
    folder = args.load
    if folder is None:                                   # train a small U-Net with demos/ddpm.py
        folder = os.path.join(args.out, "ddpm")
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import ddpm
        ddpm.main(["--steps", str(args.steps), "--channels", str(args.channels), "--out", folder,
                   "--batch-size", str(args.batch_size), "--lr", str(args.lr), "--seed", str(args.seed),
                   "--device", args.device, "--n-eval", "16", "--n-samples", "16", "--vlb-n", "2",
                   "--vlb-steps", "2"] + (["--full"] if args.full else []))
    model, schedule = load_unet(folder, args.device)
    calls = network_calls(args.sample_steps, args.jump_length, args.resample)
    print(f"U-Net from {folder}; RePaint on S = {args.sample_steps} of T = {schedule.T} steps, jump "
          f"{args.jump_length}, resample {args.resample}: {calls} network calls per image")

    data = load_fashion_mnist(full=args.full)
    n = min(args.n_test, len(data.x_test))
    truth = data.x_test[:n]                               # grey values in [0, 1], flat (n, 784)
    mean_image = data.x_train.mean(axis=0)
    rng = np.random.default_rng(args.seed)                # the VAE demo's masks: same seed, same order
    table, paths = {}, {}
    replacement_calls = network_calls(args.sample_steps, 1, 1)
    for kind in MASKS:
        observed = make_mask(kind, n, rng)
        baseline = mean_image_fill(truth, observed, mean_image)
        table[kind] = {"mean image": missing_mse(baseline, truth, observed)}
        fills = {}
        for method, jump, resample in (("replacement", 1, 1), ("RePaint", args.jump_length, args.resample)):
            filled, exact, seconds = inpaint(model, schedule, truth, observed, args, jump, resample)
            fills[method] = filled
            table[kind].update({method: missing_mse(filled, truth, observed), f"{method} seconds": seconds})
            table[kind]["known_pixels_exact"] = table[kind].get("known_pixels_exact", True) and exact
        paths[kind] = picture(kind, truth, observed, baseline, fills, args.out)

    vae = None
    if args.vae_results and os.path.exists(args.vae_results):
        with open(args.vae_results) as f:
            vae = json.load(f).get("mse_missing")
    print(f"\nmean squared error on the missing pixels ({n} test images per mask; lower is better)")
    methods = ["mean image", "replacement", "RePaint"] + ([m for m in next(iter(vae.values())) if m != "mean image"] if vae else [])
    print(f"  {'mask':8s}" + "".join(f"{m:>18s}" for m in methods))
    for kind in MASKS:
        row = dict(table[kind], **({m: v for m, v in vae[kind].items() if m != "mean image"} if vae else {}))
        print(f"  {kind:8s}" + "".join(f"{row[m]:>18.4f}" for m in methods))
    if vae is None:
        print(f"  (run demos/vae_inpainting.py to add the VAE's methods; looked for {args.vae_results})")
    print(f"  network calls per image: replacement {replacement_calls}, RePaint {calls}")
    results = {"mse_missing": table, "n_test": n, "network_calls_per_image": calls,
               "replacement_network_calls_per_image": replacement_calls,
               "vae_mse_missing": vae, "settings": vars(args), "seconds": round(time.time() - started, 1)}
    write_results(args.out, results, paths)
    return results


def inpaint(model, schedule, truth, observed, args, jump_length, resample):
    """The walk of repaint() on every image, 100 at a time, from the same seed; returns the
    filled images in [0, 1], whether the known pixels came back exactly, and the seconds."""
    mg.manual_seed(args.seed)
    t = time.time()
    filled, exact = [], True
    for i in range(0, len(truth), 100):
        known = observed[i:i + 100].reshape(-1, 1, 28, 28)
        x0 = mg.tensor(truth[i:i + 100].reshape(-1, 1, 28, 28) * 2 - 1, device=args.device)
        out = repaint(model, schedule, x0, known, S=args.sample_steps,
                      jump_length=jump_length, resample=resample, clip_x0=1.0).numpy()
        exact &= bool(np.array_equal(out[known], x0.numpy()[known]))     # in the model's space
        filled.append(np.clip((out + 1) / 2, 0, 1).reshape(len(out), -1))
    # back in [0, 1], (2x - 1 + 1) / 2 may differ from x in the last bit: paste the input
    return np.where(observed, truth, np.concatenate(filled)), exact, round(time.time() - t, 1)


def picture(kind, truth, observed, baseline, fills, out, count=8):
    rows = [truth[:count], np.where(observed[:count], truth[:count], 0.5), baseline[:count]] + \
        [f[:count] for f in fills.values()]
    labels = []
    for name in ("original", "observed", "mean image", *fills):
        labels += [name] + [""] * (count - 1)
    return viz.image_grid(np.concatenate(rows).reshape(-1, 28, 28), os.path.join(out, f"repaint_{kind}.png"),
                          nrow=count, labels=labels, value_range=(0, 1),
                          title=f"in-painting, mask '{kind}' (missing shown grey in row 2)")


if __name__ == "__main__":
    main()
