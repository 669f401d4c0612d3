"""DDPM on Fashion-MNIST with a small U-Net: train ε_θ, sample with DDIM, measure.

    python demos/ddpm.py                       # embedded 3,000-image subset
    python demos/ddpm.py --full --epochs 20    # the 60,000 training images (installed files)
    python demos/ddpm.py --channels 32 --attention
    python demos/ddpm.py --resume --ddim-table     # a trained run: FD/KID against DDIM's S and η

What it does (lecture L6.3):
1. scales images to [-1, 1] and trains the U-Net on L_simple = ‖ε − ε_θ(x_t, t)‖² with
   Adam, gradient-norm clipping and an EMA of the weights (used for every sample);
2. after every epoch: a DDIM sample grid (few steps, for speed) and FD / KID /
   precision / recall of EMA samples against test images (minigen.metrics);
3. at the end: the denoising trajectory of a few samples (a strip and a GIF),
   samples.npy (N x 1 x 28 x 28 in [0, 1]), the variational bound L_vlb in nats and
   bits/dim on test images (discretised decoder at t = 1), results.json;
4. with --ddim-table: FD / KID / precision / recall and wall time of --table-samples
   EMA samples for each S in --table-steps and η in --table-etas (the same x_T in every
   cell), and the η = 0 encode/decode error x_0 -> x_T -> x_0 of test images (RMSE per
   pixel in [0, 1]).  ``--resume`` of a finished run only evaluates.
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import minigen as mg                                                        # noqa: E402
from minigen import viz                                                     # noqa: E402
from minigen.models.diffusion import SCHEDULES, ddim_encode, ddim_sample, ddpm_loss, make_schedule  # noqa: E402
from minigen.models.diffusion.likelihood import vlb_bits_per_dim            # noqa: E402
from minigen.models.diffusion.unet import UNet                              # noqa: E402
from minigen.models.vae import load_fashion_mnist, sample_metrics           # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from diffusion_common import adam_setup, parameter_count                    # noqa: E402
from minigen.train import (Loop, arg_parser, non_negative_float_arg, positive_float_arg,  # noqa: E402
                           positive_int_arg, write_results)


def build_parser():
    p = arg_parser(__doc__.splitlines()[0], epochs=3, batch_size=64, lr=1e-3, out="out/ddpm",
                   checkpoint_every=200)
    p.add_argument("--full", action="store_true", help="the full Fashion-MNIST files")
    p.add_argument("--channels", type=positive_int_arg, default=16, help="U-Net base width C (C, 2C, 2C)")
    p.add_argument("--blocks", type=positive_int_arg, default=1, help="residual blocks per level")
    p.add_argument("--attention", action="store_true", help="self-attention at 7x7")
    p.add_argument("--schedule", choices=SCHEDULES, default="cosine")
    p.add_argument("--T", type=positive_int_arg, default=1000)
    p.add_argument("--ema-decay", type=positive_float_arg, default=0.995)
    p.add_argument("--clip", type=positive_float_arg, default=1.0, help="gradient-norm clipping")
    p.add_argument("--sample-steps", type=positive_int_arg, default=10, help="DDIM steps for grids and metrics", may_change_on_resume=True)
    p.add_argument("--n-eval", type=positive_int_arg, default=200, help="samples for FD/KID/precision/recall", may_change_on_resume=True)
    p.add_argument("--n-samples", type=positive_int_arg, default=200, help="images saved in samples.npy", may_change_on_resume=True)
    p.add_argument("--vlb-n", type=positive_int_arg, default=100, help="test images for L_vlb", may_change_on_resume=True)
    p.add_argument("--vlb-steps", type=positive_int_arg, default=100,
                   help="terms of L_vlb evaluated: an unbiased estimate from that many random t "
                        "(T - 1 or more: every term)", may_change_on_resume=True)
    p.add_argument("--clip-x0", action=argparse.BooleanOptionalAction, default=True, may_change_on_resume=True,
                   help="clip each sampling step's x0 estimate to the data range [-1, 1] (Ho et al.'s "
                        "sampler; without it few-step samples from the cosine schedule saturate)")
    p.add_argument("--ddim-table", action="store_true", may_change_on_resume=True,
                   help="sample quality and time against DDIM's S and eta at the end")
    p.add_argument("--table-steps", type=positive_int_arg, nargs="+", default=[10, 20, 50, 100],
                   may_change_on_resume=True, help="S of the DDIM table")
    p.add_argument("--table-etas", type=non_negative_float_arg, nargs="+", default=[0.0, 1.0],
                   may_change_on_resume=True, help="eta of the DDIM table")
    p.add_argument("--table-samples", type=positive_int_arg, default=200, may_change_on_resume=True,
                   help="samples per cell of the DDIM table (FD/KID)")
    p.add_argument("--table-encode", type=positive_int_arg, default=50, may_change_on_resume=True,
                   help="test images encoded and decoded per S of the DDIM table")
    return p


def to_images(x):
    """[-1, 1] model space -> [0, 1] NumPy images."""
    return np.clip((viz.to_numpy(x) + 1) / 2, 0, 1).astype(np.float32)


def generate(model, schedule, n, args, batch=200, trajectory=False, S=None, eta=0.0):
    chunks, path = [], None
    for i in range(0, n, batch):
        out = ddim_sample(model, schedule, (min(batch, n - i), 1, 28, 28), S=S or args.sample_steps,
                          eta=eta, device=args.device, trajectory=trajectory and i == 0,
                          clip_x0=1.0 if args.clip_x0 else None)
        if trajectory and i == 0:
            out, path = out
        chunks.append(to_images(out))
    x = np.concatenate(chunks)
    return (x, path) if trajectory else x


def main(argv=None):
    args = build_parser().parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    started = time.time()
    data = load_fashion_mnist(full=args.full)
    x_train = (data.x_train.reshape(-1, 1, 28, 28) * 2 - 1).astype(np.float32)   # [0,1] -> [-1,1]
    print(f"data: {len(x_train)} training / {len(data.x_test)} test images ({data.source})")
    schedule = make_schedule(args.schedule, args.T)

    mg.manual_seed(args.seed)
    model = UNet(channels=args.channels, blocks=args.blocks, attention=args.attention).to(args.device)
    n_params = parameter_count(model)
    print(f"model: U-Net C={args.channels}, {args.blocks} block(s)/level, attention {args.attention}, "
          f"{n_params:,} parameters; {schedule.name} schedule, T = {schedule.T}")

    loader, opt, steps = adam_setup(model, x_train, args)
    ema = mg.optim.EMA(model, decay=args.ema_decay, warmup=True)
    loop = Loop(loader, args, steps=steps, desc="ddpm", state={"model": model, "optimizer": opt, "ema": ema})
    per_epoch, paths = [], {}
    for x0 in loop:
        loss = ddpm_loss(model, schedule, x0)              # ‖ε − ε_θ(x_t, t)‖²
        opt.zero_grad()
        loss.backward()
        grad_norm = mg.optim.clip_grad_norm_(model.parameters(), args.clip)
        opt.step()
        ema.update()
        loop.log(loss=loss, grad_norm=grad_norm)
        if loop.step % len(loader) == 0 or loop.step == loop.total_steps:   # end of an epoch
            with ema.average_parameters():
                per_epoch.append(evaluate(model, schedule, data, args, loop, paths))
    train_seconds = time.time() - started

    results = {"settings": vars(args), "data": data.source, "steps": loop.step, "parameters": n_params,
               "train_and_eval_seconds": round(train_seconds, 1), "per_epoch": per_epoch}
    with ema.average_parameters():
        t = time.time()
        samples, path = generate(model, schedule, args.n_samples, args, trajectory=True)
        results["sample_seconds"] = round(time.time() - t, 1)
        np.save(os.path.join(args.out, "samples.npy"), samples)
        paths.update(trajectory_pictures(path, args.out))
        paths["samples"] = viz.image_grid(samples[:64, 0], os.path.join(args.out, "samples.png"), nrow=8,
                                          value_range=(0, 1), title=f"DDIM, S = {args.sample_steps} (EMA)")
        t = time.time()
        x_test = data.x_test[:args.vlb_n].reshape(-1, 1, 28, 28)
        vlb = vlb_bits_per_dim(model, schedule, x_test, steps=args.vlb_steps, seed=args.seed)
        results.update({f"vlb_{k}": v for k, v in vlb.items()}, vlb_images=len(x_test),
                       vlb_seconds=round(time.time() - t, 1), vlb_terms=min(args.vlb_steps, schedule.T - 1))
        if args.ddim_table:
            results["ddim_table"] = ddim_table(model, schedule, data, args)
    print(f"\nL_vlb on {len(x_test)} test images: {vlb['nats']:.1f} nats/image = "
          f"{vlb['bits_per_dim']:.3f} bits/dim  (prior {vlb['prior']:.2f}, decoder {vlb['decoder']:.1f} nats)")
    paths["loss"] = viz.curves(loop.log_path, os.path.join(args.out, "loss.png"), keys=["loss"], smooth=20,
                               title="L_simple")
    write_results(args.out, results, paths, started=started,
                  files={"images": "samples.npy"})
    return results


def evaluate(model, schedule, data, args, loop, paths):
    """A DDIM grid and FD / KID / precision / recall of EMA samples after an epoch."""
    epoch = int(np.ceil(loop.epoch))
    training_rng = mg.get_rng_state()                     # sampling must not shift training's noise
    mg.manual_seed(args.seed + 1)                         # the same x_T every epoch
    fake = generate(model, schedule, args.n_eval, args)
    mg.set_rng_state(training_rng)
    paths[f"grid epoch {epoch}"] = viz.image_grid(fake[:64, 0], os.path.join(args.out, f"grid_epoch{epoch}.png"),
                                                  nrow=8, value_range=(0, 1),
                                                  title=f"epoch {epoch}: DDIM S = {args.sample_steps}")
    row = {"epoch": epoch, "step": loop.step}
    quality, why_not = sample_metrics(fake, data.x_test[:max(args.n_eval, 2)], seed=args.seed)
    if quality is None:
        print(f"  FD/KID skipped ({why_not})")
    else:
        row.update(quality)
        print(f"epoch {epoch}: FD {quality['fd']:.2f}, KID {quality['kid']:.4f}, precision "
              f"{quality['precision']:.2f}, recall {quality['recall']:.2f} ({args.n_eval} samples)")
    return row


def ddim_table(model, schedule, data, args):
    """FD / KID / precision / recall and seconds for every (S, η) of --table-steps x
    --table-etas on the same x_T; per S the η = 0 round trip x_0 -> x_T -> x_0 of test images."""
    n, rows = args.table_samples, []
    real = data.x_test[:max(n, 2)]
    x0 = mg.tensor(data.x_test[:args.table_encode].reshape(-1, 1, 28, 28) * 2 - 1, device=args.device)
    print(f"\nDDIM table ({n} samples per cell, EMA weights):")
    for S in args.table_steps:
        if S > schedule.T:
            continue
        for eta in args.table_etas:
            training_rng = mg.get_rng_state()
            mg.manual_seed(args.seed + 2)                    # the same x_T in every cell
            t = time.time()
            fake = generate(model, schedule, n, args, S=S, eta=eta)
            row = {"S": S, "eta": eta, "seconds": round(time.time() - t, 1)}
            mg.set_rng_state(training_rng)
            quality, why_not = sample_metrics(fake, real, seed=args.seed)
            row.update(quality or {"metrics": why_not})
            if eta == 0:                                      # x_0 -> x_T -> x_0 with the eta = 0 map
                x_T = ddim_encode(model, schedule, x0, S=S)
                back = to_images(ddim_sample(model, schedule, S=S, x_T=x_T, eta=0.0))
                row["reconstruction_rmse"] = float(np.sqrt(np.mean((back - to_images(x0)) ** 2)))
            rows.append(row)
            print("  " + ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()))
    return rows


def trajectory_pictures(path, out, k=8):
    """x_T -> x_0 of the first k samples: one row per sample, columns = DDIM steps."""
    frames = [to_images(x[:k]) for _, x in path]
    strip = np.stack([f[:, 0] for f in frames], axis=1)           # (k, steps, 28, 28)
    png = viz.interpolation_strip(strip, os.path.join(out, "trajectory.png"), value_range=(0, 1),
                                  title="denoising: x_T (left) to x_0 (right), DDIM")
    gif = viz.save_gif([viz.make_grid(f[:, 0], nrow=k) for f in frames],
                       os.path.join(out, "trajectory.gif"), duration_ms=250)
    return {"trajectory": png, "trajectory gif": gif}


if __name__ == "__main__":
    main()
