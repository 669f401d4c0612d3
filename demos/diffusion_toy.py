"""DDPM on a 2-D toy: learn ε_θ(x_t, t), then walk noise back to data.

    python demos/diffusion_toy.py                          # 8 Gaussians on a ring, a few minutes
    python demos/diffusion_toy.py --data 25gaussians --steps 8000
    python demos/diffusion_toy.py --data moons --sampler ddim --sample-steps 50
    python demos/diffusion_toy.py --ddim-table             # DDIM speed-quality table (S x eta)

What it does (lecture L6.3, "systematically add noise to data, then learn to reverse it"):
1. trains the toy ε-network with L_simple = ‖ε − ε_θ(√ᾱ_t x_0 + √(1 − ᾱ_t) ε, t)‖²
   (t ~ U{0..T−1}, ε ~ N(0, I)), Adam + cosine learning rate, an EMA of the weights;
2. samples 10,000 points with the EMA weights, by ancestral DDPM sampling (T steps) or
   DDIM (``--sample-steps`` S, ``--eta``), and saves them as samples.npy;
3. measures them: for the mixtures, the mode statistics of minigen.metrics (modes
   covered, high-quality fraction within 3 std, reverse KL of the mode histogram);
   for every toy, the Fréchet distance of the 2-D points to held-out data;
4. draws the reverse trajectory (a strip and a GIF), the ε field at several t as quiver
   plots (learned next to the exact ε* of the mixture when there is one) and the samples.
"""
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import minigen as mg                                                        # noqa: E402
from minigen import viz                                                     # noqa: E402
from minigen.data.toy2d import TOY_2D_NAMES, toy_2d                         # noqa: E402
from minigen.metrics import frechet_distance                                # noqa: E402
from minigen.models.diffusion import (GaussianMixture, SCHEDULES, SPACINGS, ToyEpsNet,  # noqa: E402
                                      ddim_encode, ddim_sample, ddpm_loss, ddpm_sample, make_schedule)
from minigen.train import (Loop, arg_parser, non_negative_float_arg, non_negative_int_arg,  # noqa: E402
                           positive_float_arg, positive_int_arg, write_results)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from diffusion_common import adam_setup, field_panel, parameter_count, plane_grid, points_gif, points_strip   # noqa: E402

def build_parser():
    p = arg_parser(__doc__.splitlines()[0], steps=4000, batch_size=512, lr=2e-3,
                   out="out/diffusion_toy", checkpoint_every=1000)
    p.add_argument("--data", choices=TOY_2D_NAMES, default="8gaussians")
    p.add_argument("--sampler", choices=("ddpm", "ddim"), default="ddpm", may_change_on_resume=True)
    p.add_argument("--sample-steps", type=positive_int_arg, default=100, help="DDIM steps S (--sampler ddim)", may_change_on_resume=True)
    p.add_argument("--eta", type=non_negative_float_arg, default=0.0, help="DDIM noise: 0 deterministic, 1 ~ DDPM", may_change_on_resume=True)
    p.add_argument("--spacing", choices=SPACINGS, default="uniform", help="DDIM step spacing", may_change_on_resume=True)
    p.add_argument("--schedule", choices=SCHEDULES, default="linear")
    p.add_argument("--T", type=positive_int_arg, default=1000, help="diffusion steps")
    p.add_argument("--hidden", type=positive_int_arg, default=128)
    p.add_argument("--depth", type=positive_int_arg, default=3, help="residual blocks")
    p.add_argument("--fourier", type=non_negative_int_arg, default=4, help="Fourier-feature octaves of the input")
    p.add_argument("--ema-decay", type=positive_float_arg, default=0.995)
    p.add_argument("--n-samples", type=positive_int_arg, default=10_000, may_change_on_resume=True)
    p.add_argument("--train-size", type=positive_int_arg, default=100_000, help="points in the training set")
    p.add_argument("--ddim-table", action="store_true",
                   help="also sample with S in {10,20,50,100,1000} x eta in {0,0.5,1}: quality and time", may_change_on_resume=True)
    p.add_argument("--table-samples", type=positive_int_arg, default=2000, help="points per table cell", may_change_on_resume=True)
    return p


def generate(model, schedule, n, args, sampler=None, S=None, eta=None, trajectory=False, seed=None):
    """n samples with the chosen sampler (seeded, so a fixed seed gives the same points)."""
    if seed is not None:
        mg.manual_seed(seed)
    sampler = sampler or args.sampler
    if sampler == "ddpm":
        every = max(1, schedule.T // 10) if trajectory else 0
        out = ddpm_sample(model, schedule, (n, 2), device=args.device, trajectory_every=every)
    else:
        out = ddim_sample(model, schedule, (n, 2), S=S or args.sample_steps,
                          eta=args.eta if eta is None else eta, spacing=args.spacing,
                          device=args.device, trajectory=trajectory)
    return out


def measure(toy, samples, held_out):
    """Mode statistics (mixtures) and the 2-D Fréchet distance to held-out data."""
    numbers = {"frechet_2d": float(frechet_distance(samples.astype(np.float64), held_out.astype(np.float64)))}
    if toy.modes is not None:
        stats = toy.mode_stats(samples)
        numbers.update(modes_covered=stats["modes_covered"], num_modes=stats["num_modes"],
                       high_quality=stats["high_quality"], reverse_kl=stats["reverse_kl"],
                       mode_counts=stats["counts"].tolist())
    return numbers


def main(argv=None):
    args = build_parser().parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    started = time.time()
    toy = toy_2d(args.data)
    x_train = toy.sample(args.train_size, seed=args.seed)
    held_out = toy.sample(10_000, seed=args.seed + 10_000)
    schedule = make_schedule(args.schedule, args.T)
    print(f"data: {args.data}, {len(x_train)} training points; {schedule.name} schedule, T = {schedule.T}")

    # -- model ---------------------------------------------------------------------------
    mg.manual_seed(args.seed)
    model = ToyEpsNet(hidden=args.hidden, depth=args.depth, fourier=args.fourier).to(args.device)
    n_params = parameter_count(model)
    print(f"model: ε_θ(x, t), residual MLP {args.hidden} x {args.depth} blocks, "
          f"{args.fourier} Fourier octaves, {n_params:,} parameters")

    # -- training: the step in plain sight -----------------------------------------------
    loader, opt, steps = adam_setup(model, x_train, args)
    lr_schedule = mg.optim.CosineAnnealingLR(opt, T_max=steps, eta_min=args.lr * 0.05)
    ema = mg.optim.EMA(model, decay=args.ema_decay, warmup=True)
    loop = Loop(loader, args, steps=steps, desc="ddpm",
                state={"model": model, "optimizer": opt, "lr_schedule": lr_schedule, "ema": ema})
    for x0 in loop:
        loss = ddpm_loss(model, schedule, x0)        # ‖ε − ε_θ(x_t, t)‖², t and ε drawn inside
        opt.zero_grad()
        loss.backward()
        opt.step()
        lr_schedule.step()
        ema.update()
        loop.log(loss=loss)
    train_seconds = time.time() - started

    # -- sampling with the averaged weights ---------------------------------------------------
    results = {"settings": vars(args), "steps": loop.step, "train_seconds": round(train_seconds, 1),
               "parameters": n_params}
    paths = {}
    with ema.average_parameters():
        t = time.time()
        x, path = generate(model, schedule, args.n_samples, args, trajectory=True, seed=args.seed + 1)
        samples = x.numpy().astype(np.float32)
        results["sample_seconds"] = round(time.time() - t, 1)
        results["sampler"] = (f"ddpm, {schedule.T} steps" if args.sampler == "ddpm" else
                              f"ddim, S={args.sample_steps}, eta={args.eta}, {args.spacing}")
        np.save(os.path.join(args.out, "samples.npy"), samples)
        results.update(measure(toy, samples, held_out))
        lim = float(np.abs(held_out).max()) * 1.25
        paths.update(trajectory_pictures(path, toy, lim, args.out))
        paths["eps field"] = eps_fields(model, schedule, toy, lim, args.out)
        if args.ddim_table:
            results["ddim_table"] = ddim_table(model, schedule, toy, held_out, args)
    paths["samples"] = viz.scatter_2d(samples[:5000], os.path.join(args.out, "samples.png"),
                                      modes=toy.modes, real=held_out[:5000], lim=lim,
                                      title=f"{args.data}: {results['sampler']}")
    paths["loss"] = viz.curves(loop.log_path, os.path.join(args.out, "loss.png"), keys=["loss"],
                               smooth=50, title="L_simple")

    report(results, toy)
    write_results(args.out, results, paths, started=started,
                  files={"points": "samples.npy"})
    return results


def report(results, toy):
    print(f"\nsamples ({results['sampler']}, {results['sample_seconds']} s):")
    if toy.modes is not None:
        print(f"  modes covered {results['modes_covered']}/{results['num_modes']}, high quality "
              f"{results['high_quality']:.3f}, reverse KL {results['reverse_kl']:.4f}")
    print(f"  Fréchet distance (2-D points vs held-out data) {results['frechet_2d']:.4f}")


def trajectory_pictures(path, toy, lim, out):
    """The reverse process x_T -> x_0 for 2,000 points: a strip of scatters and a GIF."""
    clouds, titles = [x for _, x in path], [f"t = {t}" for t, _ in path]
    strip = points_strip(clouds, titles, lim, "reverse process: noise x_T (left) to samples x_0 (right)",
                         os.path.join(out, "trajectory.png"))
    gif = points_gif(clouds, titles, lim, os.path.join(out, "trajectory.gif"))
    return {"trajectory": strip, "trajectory gif": gif}


def eps_fields(model, schedule, toy, lim, out, n=21):
    """ε_θ(x, t) over a grid at several t: the arrows point away from the data (−ε ∝ score)."""
    import matplotlib.pyplot as plt
    grid = plane_grid(lim, n)
    times = [t for t in (10, 100, 300, 600) if t < schedule.T] or [0]
    exact = GaussianMixture.from_toy(toy) if toy.modes is not None else None
    rows = 2 if exact is not None else 1
    fig, axes = plt.subplots(rows, len(times), figsize=(3 * len(times), 3 * rows), squeeze=False)
    with mg.no_grad():
        for j, t in enumerate(times):
            steps = np.full(len(grid), t)
            fields = [("learned", model(mg.tensor(grid, device=model_device(model)), steps).numpy())]
            if exact is not None:
                fields.append(("exact", exact.eps(schedule, grid.astype(np.float64), steps)))
            for i, (label, eps) in enumerate(fields):
                field_panel(axes[i, j], grid, -eps, f"{label} −ε, t = {t}", marks=toy.modes)
    fig.suptitle("−ε_θ(x, t) = √(1 − ᾱ_t) ∇ log q_t(x): arrows point towards the data")
    return viz.save_figure(fig, os.path.join(out, "eps_field.png"))


def model_device(model):
    return next(iter(model.parameters())).device


def ddim_table(model, schedule, toy, held_out, args):
    """Sample quality and wall time against S and eta (the shape of DDIM's Table 1),
    on --table-samples points per cell."""
    n = args.table_samples
    print(f"\nDDIM table ({n} samples per cell):")
    rows = []
    for S in (10, 20, 50, 100, 1000):
        if S > schedule.T:
            continue
        for eta in (0.0, 0.5, 1.0):
            mg.manual_seed(args.seed + 2)
            t = time.time()
            x = ddim_sample(model, schedule, (n, 2), S=S, eta=eta, spacing=args.spacing,
                            device=args.device)
            row = {"S": S, "eta": eta, "seconds": round(time.time() - t, 2)}
            row.update({k: v for k, v in measure(toy, x.numpy(), held_out).items() if k != "mode_counts"})
            if eta == 0:                   # encode held-out points x_0 -> x_T and decode back
                x0 = mg.tensor(held_out[:n], device=args.device)
                back = ddim_sample(model, schedule, S=S, x_T=ddim_encode(model, schedule, x0, S=S,
                                                                         spacing=args.spacing),
                                   spacing=args.spacing).numpy()
                row["reconstruction_rmse"] = float(np.sqrt(((back - held_out[:n]) ** 2).sum(1).mean()))
            rows.append(row)
            print("  " + ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}"
                                   for k, v in row.items()))
    mg.manual_seed(args.seed + 2)
    t = time.time()
    x = ddpm_sample(model, schedule, (n, 2), device=args.device)
    row = {"S": schedule.T, "eta": "ddpm", "seconds": round(time.time() - t, 2)}
    row.update({k: v for k, v in measure(toy, x.numpy(), held_out).items() if k != "mode_counts"})
    rows.append(row)
    return rows


if __name__ == "__main__":
    main()
