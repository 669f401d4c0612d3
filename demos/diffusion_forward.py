"""The forward process of diffusion, seen: ᾱ_t and SNR of the schedules, q(x_t | x_0) over t.

    python demos/diffusion_forward.py                 # seconds: nothing is trained
    python demos/diffusion_forward.py --data 25gaussians --T 1000

Draws (lecture L6.3, "systematically add noise to data"):
1. ᾱ_t and log SNR(t) = log(ᾱ_t / (1 − ᾱ_t)) for the linear and the cosine schedule;
2. samples of q(x_t | x_0) = N(√ᾱ_t x_0, (1 − ᾱ_t) I) for a 2-D toy at several t (both schedules);
3. one Fashion-MNIST image noised the same way (x in [-1, 1], shown back in [0, 1]).
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from minigen import viz                                                     # noqa: E402
from minigen.data.toy2d import TOY_2D_NAMES, toy_2d                         # noqa: E402
from minigen.models.diffusion import SCHEDULES, make_schedule               # noqa: E402
from minigen.models.vae import load_fashion_mnist                           # noqa: E402
from minigen.train import demo_parser, positive_int_arg                     # noqa: E402


def build_parser():
    p = demo_parser(__doc__.splitlines()[0], out="out/diffusion_forward")
    p.add_argument("--data", choices=TOY_2D_NAMES, default="8gaussians")
    p.add_argument("--T", type=positive_int_arg, default=1000)
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="(nothing runs on it)")
    return p


def main(argv=None):
    import matplotlib.pyplot as plt
    args = build_parser().parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    schedules = {name: make_schedule(name, args.T) for name in SCHEDULES}
    rng = np.random.default_rng(args.seed)
    paths, numbers = {}, {}

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.5))
    for name, s in schedules.items():
        a1.plot(s.alpha_bars, label=name)
        a2.plot(np.log(s.snr()), label=name)
        numbers[name] = {"alpha_bar_T/2": float(s.alpha_bars[args.T // 2]),
                         "alpha_bar_T": float(s.alpha_bars[-1]), "log_snr_0": float(np.log(s.snr()[0])),
                         "log_snr_T": float(np.log(s.snr()[-1]))}
    a1.set_title("ᾱ_t (signal kept)"), a2.set_title("log SNR(t) = log ᾱ_t / (1 − ᾱ_t)")
    for ax in (a1, a2):
        ax.set_xlabel("t"), ax.legend()
    paths["schedules"] = viz.save_figure(fig, os.path.join(args.out, "schedules.png"))

    toy = toy_2d(args.data)
    x0 = toy.sample(2000, seed=args.seed)
    times = [0, args.T // 20, args.T // 10, args.T // 4, args.T // 2, args.T - 1]
    fig, axes = plt.subplots(len(schedules), len(times), figsize=(2.4 * len(times), 2.6 * len(schedules)))
    for row, (name, s) in enumerate(schedules.items()):
        for ax, t in zip(axes[row], times):
            xt = s.q_sample(x0, np.full(len(x0), t), rng.standard_normal(x0.shape))
            ax.scatter(xt[:, 0], xt[:, 1], s=1, alpha=0.4)
            lim = max(3.0, float(np.abs(x0).max()) * 1.2)
            ax.set_xlim(-lim, lim), ax.set_ylim(-lim, lim), ax.set_aspect("equal")
            ax.set_xticks([]), ax.set_yticks([])
            ax.set_title(f"{name}, t = {t}\nᾱ_t = {s.alpha_bars[t]:.3f}", fontsize=8)
    fig.suptitle(f"q(x_t | x_0) = N(√ᾱ_t x_0, (1 − ᾱ_t) I) for {args.data}")
    paths["toy"] = viz.save_figure(fig, os.path.join(args.out, "forward_toy.png"))

    image = load_fashion_mnist(verbose=False).x_test[0].reshape(28, 28) * 2 - 1
    noise = rng.standard_normal((1, 28, 28))
    strips = []
    for name, s in schedules.items():
        row = [s.q_sample(image[None], np.array([t]), noise)[0] for t in times]
        strips.append(np.clip((np.stack(row) + 1) / 2, 0, 1))
    paths["image"] = viz.interpolation_strip(np.stack(strips), os.path.join(args.out, "forward_image.png"),
                                             value_range=(0, 1), row_labels=list(schedules),
                                             title="x_t for t = " + ", ".join(map(str, times)))
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump({"settings": vars(args), "schedules": numbers}, f, indent=1, default=str)
    for name, v in numbers.items():
        print(f"{name:7s} ᾱ at T/2 {v['alpha_bar_T/2']:.4f}, ᾱ_T {v['alpha_bar_T']:.2e}, "
              f"log SNR {v['log_snr_0']:.2f} -> {v['log_snr_T']:.2f}")
    print("\npictures:")
    for name, p in paths.items():
        print(f"  {name:10s} {p}")
    return numbers


if __name__ == "__main__":
    main()
